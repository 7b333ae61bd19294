// ZooKeeper access through libzookeeper-mt (ZooKeeper's own C client).
//
// Threading: the C client calls back on its own threads; every callback only
// posts onto the io_context of the executor given, tagged with the session
// generation it belongs to, so results of an older session are dropped.
// Operations are awaitables that complete on that io_context.
// Errors: a failed operation is an Error whose `code` is the ZooKeeper error
// (ZNONODE, ZNODEEXISTS, ZCONNECTIONLOSS, ...); nothing is thrown.
#pragma once

#include "common/error.hpp"
#include "common/time_source.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace etcdmesos::io {

// zk://h1:p1,h2:p2/path -> servers "h1:p1,h2:p2" and path "/path".
struct ZkUrl {
  std::string servers;
  std::string path;
};
// Error for a missing scheme, no servers, a bad port, or (when
// require_non_root) a path that is empty or "/".
Result<ZkUrl> parse_zk_url(std::string_view url, bool require_non_root);

enum class ZkSessionState { kConnecting, kConnected, kExpired, kClosed };
const char* to_string(ZkSessionState state);

// Who the client is to ZooKeeper, and who may touch the nodes it creates.
struct ZkAccess {
  // "user:password" for ZooKeeper's digest scheme, added to every session;
  // empty: no identity, and created nodes are open to anyone (world:anyone
  // with every permission), as ZooKeeper's clients make them by default.
  std::string digest;
  // With a digest, created nodes give every permission to that identity
  // only, and reading to anyone when this is true (to nobody else if false).
  bool world_readable = true;
};

class ZkClient {
 public:
  // Connects to `servers` ("h1:p1,h2:p2") in the background; a new session is
  // started by itself after expiry (the generation then increases).
  // Operation timeouts, reconnect delays and connection waits run on `time`
  // (which must outlive the client); so do those of the components built
  // on it (MasterDetector, LeaderElection), which take it from time().
  ZkClient(boost::asio::any_io_executor ex, std::string servers,
           std::chrono::milliseconds session_timeout, ZkAccess access = {},
           TimeSource& time = real_time());
  // Closes the session (ephemeral nodes go away at once). While connected it
  // first waits, blocking, up to 1 s for requests already sent to be answered.
  ~ZkClient();
  ZkClient(const ZkClient&) = delete;
  ZkClient& operator=(const ZkClient&) = delete;

  // Called on the io_context at every session state change. Each callback
  // given is kept (several components may share one client); none is called
  // from the destructor.
  void on_session_state(std::function<void(ZkSessionState)> callback);
  // Upper bound for every operation (default: the session timeout, at least
  // 2 s). An operation that the C client has not answered by then completes
  // with ZOPERATIONTIMEOUT; its late result is dropped.
  void set_operation_timeout(std::chrono::milliseconds timeout);
  ZkSessionState state() const;
  uint64_t generation() const;  // increases with every new session
  TimeSource& time() const;
  // Completes once connected or when `timeout` passes (false).
  boost::asio::awaitable<bool> wait_connected(std::chrono::milliseconds timeout);

  // Creates `path` with `data`; returns the created path (with the sequence
  // suffix for sequential nodes).
  boost::asio::awaitable<Result<std::string>> create(std::string path, std::string data,
                                                     bool ephemeral, bool sequential);
  // Creates every missing ancestor of `path` and `path` itself (persistent,
  // empty). Existing nodes are fine.
  boost::asio::awaitable<Result<void>> ensure_path(std::string path);
  // nullopt when the node does not exist.
  boost::asio::awaitable<Result<std::optional<std::string>>> get(std::string path);
  // Creates or overwrites a persistent node.
  boost::asio::awaitable<Result<void>> put(std::string path, std::string data);
  // Absent is fine.
  boost::asio::awaitable<Result<void>> remove(std::string path);
  // Children names (not full paths). With `on_change`, a one-shot watch is
  // set; it is invoked on the io_context when the children change or the
  // session ends (expiry; not when the client itself is destroyed).
  boost::asio::awaitable<Result<std::vector<std::string>>> children(
      std::string path, std::function<void()> on_change = {});

  // Test hook: makes the server expire the current session (by opening a
  // second handle on the same session id and closing it) and completes once
  // this client has seen EXPIRED and started its next session (it may still
  // be connecting). False when that did not happen.
  boost::asio::awaitable<bool> expire_session_ForTest();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace etcdmesos::io
