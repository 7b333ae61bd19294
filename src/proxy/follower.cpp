#include "proxy/follower.hpp"

#include "common/files.hpp"
#include "common/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <fstream>
#include <sstream>
#include <system_error>

namespace etcdmesos::proxy {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// A lasting problem is repeated at warning level this often.
constexpr auto kRepeatProblemEvery = std::chrono::minutes(1);
// Saved endpoints are a few lines; anything bigger is not ours.
constexpr std::uintmax_t kMaxSavedBytes = 1024 * 1024;

std::shared_ptr<spdlog::logger> log() {
  return logger("proxy");
}

}  // namespace

MembershipFollower::MembershipFollower(asio::any_io_executor ex, FollowerConfig config,
                                       MembershipSource& source, GatewaySupervisor& gateway)
    : ex_(std::move(ex)),
      config_(std::move(config)),
      source_(source),
      gateway_(gateway),
      sleep_(ex_, *config_.time) {}

fs::path MembershipFollower::saved_endpoints_path(const fs::path& data_dir) {
  return data_dir / "endpoints.json";
}

void MembershipFollower::start() {
  load_saved();
  asio::co_spawn(ex_, poll_loop(),
                 log_exceptions(log(), "membership polling", spdlog::level::critical));
}

void MembershipFollower::stop() {
  stopping_ = true;
  sleep_.cancel();
}

asio::awaitable<void> MembershipFollower::poll_loop() {
  log()->info("following the members of framework '{}' through {}, every {} ms",
              config_.framework_name, source_.describe(), config_.poll_interval.count());
  while (!stopping_) {
    auto result = co_await source_.fetch();
    ++polls_;
    if (stopping_) {
      break;
    }
    if (result) {
      apply(*result);
    } else {
      report_problem(result.error().message);
    }
    sleep_.expires_after(config_.poll_interval);
    co_await sleep_.async_wait(kTuple);
  }
}

void MembershipFollower::apply(const Discovery& discovery) {
  for (const auto& why : discovery.skipped) {
    if (skipped_logged_.insert(why).second) {
      log()->warn("leaving out a running task: {}", why);
    }
  }
  EndpointSet found = endpoint_set(discovery.members);
  if (found.empty()) {
    std::string where = discovery.framework_id.empty()
                            ? std::string()
                            : " (framework id " + discovery.framework_id + ")";
    report_problem("framework '" + config_.framework_name + "'" + where +
                   " has no running member yet" +
                   (endpoints_.empty() ? "" : "; the gateway keeps " + join(endpoints_, ", ")));
    return;
  }
  clear_problem();
  auto change = diff(endpoints_, found);
  if (change.empty()) {
    return;
  }
  log()->info("members of '{}' changed ({}): pointing the gateway at {}", config_.framework_name,
              describe(change), join(found, ", "));
  endpoints_ = std::move(found);
  gateway_.set_endpoints(endpoints_);
  save();
}

void MembershipFollower::report_problem(const std::string& message) {
  const auto now = config_.time->now();
  if (message != problem_ || now - problem_logged_at_ >= kRepeatProblemEvery) {
    log()->warn("{}; retrying every {} ms", message, config_.poll_interval.count());
    problem_ = message;
    problem_logged_at_ = now;
  } else {
    log()->debug("{}", message);
  }
}

void MembershipFollower::clear_problem() {
  if (!problem_.empty()) {
    log()->info("running members found through {} (earlier: {})", source_.describe(), problem_);
    problem_.clear();
  }
}

void MembershipFollower::load_saved() {
  if (config_.data_dir.empty()) {
    return;
  }
  const fs::path path = saved_endpoints_path(config_.data_dir);
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) {
    return;  // nothing saved yet
  }
  if (size > kMaxSavedBytes) {
    log()->warn("ignoring {}: {} bytes is not a saved endpoint list", path.string(), size);
    return;
  }
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  auto saved = decode_saved_endpoints(text.str(), config_.framework_name);
  if (!saved) {
    log()->warn("ignoring {}: {}", path.string(), saved.error().message);
    return;
  }
  if (saved->empty()) {
    return;
  }
  log()->info("serving the endpoints saved in {} until the first membership read: {}",
              path.string(), join(*saved, ", "));
  endpoints_ = std::move(*saved);
  gateway_.set_endpoints(endpoints_);
}

void MembershipFollower::save() {
  if (config_.data_dir.empty()) {
    return;
  }
  const fs::path path = saved_endpoints_path(config_.data_dir);
  auto written = write_file_atomically(
      path, encode_saved_endpoints(config_.framework_name, endpoints_) + "\n");
  if (!written) {
    log()->warn("{}; a restarted proxy will wait for the master", written.error().message);
  }
}

}  // namespace etcdmesos::proxy
