// Client of one etcd 3.4 member's grpc-gateway JSON API (POST /v3/...),
// over io/http.hpp, with codec/etcd.hpp for the bodies.
//
// Every call is one HTTP exchange on a new connection bounded by the
// client's timeout: an etcd member that is not ready accepts TCP and never
// answers (reference etcd §3), and a write without quorum takes ~7 s to fail.
// Errors are values: a non-200 answer gives Error{code = HTTP status,
// message = etcd's message}; a connection failure or timeout gives code 0.
//
// The client is a small value (executor, endpoint, timeout); calls copy what
// they need, so it need not outlive them. Runs on the executor's io_context.
#pragma once

#include "codec/etcd.hpp"
#include "common/error.hpp"
#include "io/http.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace etcdmesos::io {

// "http://host:port" or "https://host:port" (a client URL as etcd
// advertises it; a trailing '/' is allowed; the host may be a bracketed IPv6
// literal) -> host and port. An https URL needs `tls` (the CA and, for
// members with --client-cert-auth, a client certificate), and the endpoint
// carries it; an http URL gives an endpoint without TLS, whatever `tls` is.
// Error for another scheme, https without `tls`, a path, query or fragment,
// user info, or no port in 1-65535.
Result<Endpoint> endpoint_from_url(std::string_view url, std::shared_ptr<TlsClient> tls = nullptr);

class EtcdClient {
 public:
  static constexpr std::chrono::milliseconds kDefaultTimeout{5000};

  EtcdClient(boost::asio::any_io_executor ex, Endpoint member,
             std::chrono::milliseconds timeout = kDefaultTimeout);

  const Endpoint& endpoint() const { return member_; }
  std::chrono::milliseconds timeout() const { return timeout_; }

  // /v3/cluster/member/list (served locally; works without quorum).
  boost::asio::awaitable<Result<std::vector<etcd::EtcdMemberInfo>>> member_list() const;
  // /v3/cluster/member/add; the new member (its ID is chosen by etcd).
  boost::asio::awaitable<Result<etcd::EtcdMemberInfo>> member_add(
      std::vector<std::string> peer_urls, bool is_learner = false) const;
  // /v3/cluster/member/remove. A member that etcd does not know (404
  // "member not found") counts as removed: removing is then already done.
  boost::asio::awaitable<Result<void>> member_remove(uint64_t id) const;
  // /v3/maintenance/status (adds no raft entry, unlike GET /health).
  boost::asio::awaitable<Result<etcd::EtcdStatus>> status() const;
  // The alarms raised in the cluster (none: empty).
  boost::asio::awaitable<Result<std::vector<etcd::EtcdAlarm>>> alarms() const;
  // Deactivates `alarm` ("NOSPACE") on the member with `member_id`.
  boost::asio::awaitable<Result<void>> disarm(uint64_t member_id, std::string alarm) const;
  // Compacts the history below `revision` (physically: waits for the backend).
  // A revision compacted already is success: the history below it is gone.
  boost::asio::awaitable<Result<void>> compact(uint64_t revision) const;
  // Defragments this member's backend (it answers nobody meanwhile).
  boost::asio::awaitable<Result<void>> defragment() const;
  // /v3/kv/put of raw key and value bytes.
  boost::asio::awaitable<Result<etcd::EtcdResponseHeader>> put(std::string key,
                                                               std::string value) const;
  // /v3/kv/range of one key (linearizable); nullopt when absent.
  boost::asio::awaitable<Result<std::optional<std::string>>> get(std::string key) const;

  // One POST to `target` with a JSON body; the 200 answer's body, or an
  // Error as described above.
  boost::asio::awaitable<Result<std::string>> post(std::string target, std::string body) const;

 private:
  boost::asio::any_io_executor ex_;
  Endpoint member_;
  std::chrono::milliseconds timeout_;
};

}  // namespace etcdmesos::io
