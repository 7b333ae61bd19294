#include "proxy/membership_source.hpp"

#include <boost/url/parse.hpp>

namespace etcdmesos::proxy {

namespace asio = boost::asio;
namespace http = io::http;

namespace {

constexpr const char* kStatePath = "/master/state";

std::string body_excerpt(const std::string& body) {
  constexpr std::size_t kMax = 200;
  return body.size() <= kMax ? body : body.substr(0, kMax) + "...";
}

}  // namespace

Result<io::Endpoint> endpoint_from_location(std::string_view location) {
  auto ref = boost::urls::parse_uri_reference(location);
  if (!ref || !ref->has_authority() || (ref->has_scheme() && ref->scheme() != "http")) {
    return make_error("Location '" + std::string(location) + "' is not //host:port/...");
  }
  return io::parse_endpoint(ref->encoded_authority());
}

MasterStateSource::MasterStateSource(asio::any_io_executor ex, io::MasterDetector& detector,
                                     std::string master_spec, FrameworkSelector selector,
                                     std::chrono::milliseconds timeout)
    : ex_(std::move(ex)),
      detector_(detector),
      master_spec_(std::move(master_spec)),
      selector_(std::move(selector)),
      timeout_(timeout) {}

std::string MasterStateSource::describe() const {
  return "the Mesos master (" + master_spec_ + ")";
}

asio::awaitable<Result<std::string>> MasterStateSource::get_state(io::Endpoint master) {
  // A master that is not the leader answers 307 with the leader in Location
  // (reference mesos §18); follow one redirect, no more.
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto req = io::make_request(http::verb::get, kStatePath, master);
    req.set(http::field::accept, "application/json");
    auto res = co_await io::http_request(ex_, master, std::move(req), timeout_, kMaxStateBytes);
    if (!res) {
      co_return make_error("GET " + std::string(kStatePath) + " from master " + master.to_string() +
                           ": " + res.error().message);
    }
    const unsigned status = res->result_int();
    if (status == 200) {
      co_return Result<std::string>{boost::system::in_place_value, std::move(res->body())};
    }
    if (status == 307 && attempt == 0) {
      auto leader = endpoint_from_location(std::string((*res)[http::field::location]));
      if (!leader) {
        co_return make_error("master " + master.to_string() + " redirected to an unusable " +
                             leader.error().message);
      }
      master = *leader;
      continue;
    }
    co_return make_error("master " + master.to_string() + " answered GET " + kStatePath + " with " +
                             std::to_string(status) + ": " + body_excerpt(res->body()),
                         static_cast<int>(status));
  }
  co_return make_error("master redirected more than once");
}

asio::awaitable<Result<Discovery>> MasterStateSource::fetch() {
  auto leader = co_await detector_.current_leader(timeout_);
  if (!leader) {
    co_return make_error("no leading Mesos master is known at " + master_spec_ +
                         " (is a master running and registered there?)");
  }
  auto body = co_await get_state(*leader);
  if (!body) {
    co_return body.error();
  }
  co_return members_from_master_state(*body, selector_);
}

Result<std::unique_ptr<SchedulerMembersSource>> SchedulerMembersSource::from_url(
    asio::any_io_executor ex, std::string_view url, std::chrono::milliseconds timeout) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || parsed->scheme() != "http" || parsed->host().empty()) {
    return make_error("-members-url '" + std::string(url) + "' is not http://host:port/path");
  }
  auto port = parsed->has_port() ? parse_port(parsed->port()) : std::optional<uint16_t>(80);
  if (!port) {
    return make_error("-members-url '" + std::string(url) + "' has no valid port");
  }
  io::Endpoint endpoint{std::string(parsed->host()), *port};
  std::string target(parsed->encoded_target());
  if (target.empty()) {
    target = "/members";
  }
  return std::unique_ptr<SchedulerMembersSource>(new SchedulerMembersSource(
      std::move(ex), std::string(url), std::move(endpoint), std::move(target), timeout));
}

SchedulerMembersSource::SchedulerMembersSource(asio::any_io_executor ex, std::string url,
                                               io::Endpoint endpoint, std::string target,
                                               std::chrono::milliseconds timeout)
    : ex_(std::move(ex)),
      url_(std::move(url)),
      endpoint_(std::move(endpoint)),
      target_(std::move(target)),
      timeout_(timeout) {}

std::string SchedulerMembersSource::describe() const {
  return "the scheduler (" + url_ + ")";
}

asio::awaitable<Result<Discovery>> SchedulerMembersSource::fetch() {
  auto req = io::make_request(http::verb::get, target_, endpoint_);
  auto res = co_await io::http_request(ex_, endpoint_, std::move(req), timeout_, kMaxMembersBytes);
  if (!res) {
    co_return make_error("GET " + url_ + ": " + res.error().message);
  }
  if (res->result_int() != 200) {
    co_return make_error("GET " + url_ + " answered " + std::to_string(res->result_int()) + ": " +
                             body_excerpt(res->body()),
                         static_cast<int>(res->result_int()));
  }
  co_return members_from_scheduler(res->body());
}

}  // namespace etcdmesos::proxy
