#include "io/etcd_client.hpp"

#include <boost/asio/use_awaitable.hpp>
#include <boost/url/parse.hpp>

namespace etcdmesos::io {

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

// What a call needs, copied so that the client object need not outlive it.
struct Conn {
  asio::any_io_executor ex;
  Endpoint to;
  milliseconds timeout;
};

constexpr std::size_t kMaxErrorText = 200;

std::string where(const Conn& c, const std::string& target) {
  return "etcd " + c.to.to_string() + " " + target;
}

Error error_from_answer(const Conn& c, const std::string& target, const Response& res) {
  unsigned status = res.result_int();
  auto decoded = etcd::decode_error(res.body());
  std::string text = decoded ? decoded->message : res.body().substr(0, kMaxErrorText);
  return make_error(where(c, target) + ": " + std::to_string(status) + " " + text,
                    static_cast<int>(status));
}

asio::awaitable<Result<std::string>> post_to(Conn c, std::string target, std::string body) {
  Request req = make_request(http::verb::post, target, c.to, std::move(body));
  auto res = co_await http_request(c.ex, c.to, std::move(req), c.timeout, etcd::kMaxResponseBytes);
  if (!res) {
    co_return make_error(where(c, target) + ": " + res.error().message);
  }
  if (res->result() != http::status::ok) {
    co_return error_from_answer(c, target, *res);
  }
  co_return Result<std::string>(boost::system::in_place_value, std::move(res->body()));
}

asio::awaitable<Result<std::vector<etcd::EtcdMemberInfo>>> member_list_at(Conn c) {
  auto body = co_await post_to(c, "/v3/cluster/member/list", "{}");
  if (!body) {
    co_return body.error();
  }
  co_return etcd::decode_member_list(*body);
}

asio::awaitable<Result<etcd::EtcdMemberInfo>> member_add_at(Conn c,
                                                            std::vector<std::string> peer_urls,
                                                            bool is_learner) {
  std::string request = etcd::encode_member_add(peer_urls, is_learner);
  auto body = co_await post_to(c, "/v3/cluster/member/add", std::move(request));
  if (!body) {
    co_return body.error();
  }
  co_return etcd::decode_member_add(*body);
}

asio::awaitable<Result<void>> member_remove_at(Conn c, uint64_t id) {
  std::string request = etcd::encode_member_remove(id);
  auto body = co_await post_to(c, "/v3/cluster/member/remove", std::move(request));
  if (!body) {
    // Removing a member that is already gone is done (reference etcd §8).
    if (body.error().code == 404 &&
        body.error().message.find("member not found") != std::string::npos) {
      co_return Result<void>{};
    }
    co_return body.error();
  }
  auto members = etcd::decode_member_list(*body);
  if (!members) {
    co_return members.error();
  }
  co_return Result<void>{};
}

asio::awaitable<Result<std::vector<etcd::EtcdAlarm>>> alarms_at(Conn c) {
  std::string request = etcd::encode_alarm_list();
  auto body = co_await post_to(c, "/v3/maintenance/alarm", std::move(request));
  if (!body) {
    co_return body.error();
  }
  co_return etcd::decode_alarms(*body);
}

asio::awaitable<Result<void>> disarm_at(Conn c, uint64_t member_id, std::string alarm) {
  std::string request = etcd::encode_alarm_disarm(member_id, alarm);
  auto body = co_await post_to(c, "/v3/maintenance/alarm", std::move(request));
  if (!body) {
    co_return body.error();
  }
  auto answer = etcd::decode_alarms(*body);
  if (!answer) {
    co_return answer.error();
  }
  co_return Result<void>{};
}

// A compaction to `revision`. etcd refuses a revision it has compacted
// already (400 "mvcc: required revision has been compacted"); the history up
// to it is gone, which is what was asked, so that is success. A NOSPACE
// recovery meets it whenever a second alarm follows the first recovery:
// writes are refused meanwhile, so the current revision is the one the first
// recovery compacted (seen in CI: every later recovery failed at its first
// step, and the alarm stayed).
asio::awaitable<Result<void>> compact_at(Conn c, std::string request) {
  auto body = co_await post_to(c, "/v3/kv/compaction", std::move(request));
  if (!body &&
      body.error().message.find("required revision has been compacted") == std::string::npos) {
    co_return body.error();
  }
  co_return Result<void>{};
}

// A maintenance request whose answer carries nothing we use.
asio::awaitable<Result<void>> maintain_at(Conn c, std::string target, std::string request) {
  auto body = co_await post_to(c, std::move(target), std::move(request));
  if (!body) {
    co_return body.error();
  }
  co_return Result<void>{};
}

asio::awaitable<Result<etcd::EtcdStatus>> status_at(Conn c) {
  auto body = co_await post_to(c, "/v3/maintenance/status", "{}");
  if (!body) {
    co_return body.error();
  }
  co_return etcd::decode_status(*body);
}

asio::awaitable<Result<etcd::EtcdResponseHeader>> put_at(Conn c, std::string key,
                                                         std::string value) {
  std::string request = etcd::encode_put(key, value);
  auto body = co_await post_to(c, "/v3/kv/put", std::move(request));
  if (!body) {
    co_return body.error();
  }
  co_return etcd::decode_put(*body);
}

asio::awaitable<Result<std::optional<std::string>>> get_at(Conn c, std::string key) {
  std::string request = etcd::encode_range(key);
  auto body = co_await post_to(c, "/v3/kv/range", std::move(request));
  if (!body) {
    co_return body.error();
  }
  auto range = etcd::decode_range(*body);
  if (!range) {
    co_return range.error();
  }
  for (auto& kv : range->kvs) {
    if (kv.key == key) {
      co_return std::optional<std::string>(std::move(kv.value));
    }
  }
  co_return std::optional<std::string>();
}

}  // namespace

Result<Endpoint> endpoint_from_url(std::string_view url, std::shared_ptr<TlsClient> tls) {
  const auto quoted = "etcd URL '" + std::string(url) + "'";
  auto parsed = boost::urls::parse_uri(url);
  const bool https = parsed && parsed->scheme() == "https";
  if (!parsed || !(https || parsed->scheme() == "http") || !parsed->has_authority()) {
    return make_error(quoted + " is not http://host:port or https://host:port");
  }
  // Refused rather than tried in the clear: a member serving https requires
  // client certificates, and would answer plain HTTP with 400 at best.
  if (https && !tls) {
    return make_error(quoted + ": an https URL needs the CA and a client certificate");
  }
  const auto path = parsed->encoded_path();
  if (!(path.empty() || path == "/") || parsed->has_query() || parsed->has_fragment()) {
    return make_error(quoted + " has a path");
  }
  auto endpoint = parse_endpoint(parsed->encoded_authority());
  if (!endpoint) {
    return make_error(quoted + ": " + endpoint.error().message);
  }
  if (endpoint->port == 0) {
    return make_error(quoted + " has port 0");
  }
  if (https) {
    endpoint->tls = std::move(tls);
  }
  return endpoint;
}

EtcdClient::EtcdClient(asio::any_io_executor ex, Endpoint member, milliseconds timeout)
    : ex_(std::move(ex)), member_(std::move(member)), timeout_(timeout) {}

asio::awaitable<Result<std::vector<etcd::EtcdMemberInfo>>> EtcdClient::member_list() const {
  return member_list_at(Conn{ex_, member_, timeout_});
}

asio::awaitable<Result<etcd::EtcdMemberInfo>> EtcdClient::member_add(
    std::vector<std::string> peer_urls, bool is_learner) const {
  return member_add_at(Conn{ex_, member_, timeout_}, std::move(peer_urls), is_learner);
}

asio::awaitable<Result<void>> EtcdClient::member_remove(uint64_t id) const {
  return member_remove_at(Conn{ex_, member_, timeout_}, id);
}

asio::awaitable<Result<etcd::EtcdStatus>> EtcdClient::status() const {
  return status_at(Conn{ex_, member_, timeout_});
}

asio::awaitable<Result<std::vector<etcd::EtcdAlarm>>> EtcdClient::alarms() const {
  return alarms_at(Conn{ex_, member_, timeout_});
}

asio::awaitable<Result<void>> EtcdClient::disarm(uint64_t member_id, std::string alarm) const {
  return disarm_at(Conn{ex_, member_, timeout_}, member_id, std::move(alarm));
}

asio::awaitable<Result<void>> EtcdClient::compact(uint64_t revision) const {
  return compact_at(Conn{ex_, member_, timeout_}, etcd::encode_compaction(revision));
}

asio::awaitable<Result<void>> EtcdClient::defragment() const {
  return maintain_at(Conn{ex_, member_, timeout_}, "/v3/maintenance/defragment", "{}");
}

asio::awaitable<Result<etcd::EtcdResponseHeader>> EtcdClient::put(std::string key,
                                                                  std::string value) const {
  return put_at(Conn{ex_, member_, timeout_}, std::move(key), std::move(value));
}

asio::awaitable<Result<std::optional<std::string>>> EtcdClient::get(std::string key) const {
  return get_at(Conn{ex_, member_, timeout_}, std::move(key));
}

asio::awaitable<Result<std::string>> EtcdClient::post(std::string target, std::string body) const {
  return post_to(Conn{ex_, member_, timeout_}, std::move(target), std::move(body));
}

}  // namespace etcdmesos::io
