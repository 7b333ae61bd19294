// Follows the leading Mesos master.
//
// Two modes:
// - fixed: "host:port"; that endpoint is always the leader;
// - ZooKeeper: "zk://h1:p1,h2:p2/path"; watches the children of `path`. Each
//   master registers an ephemeral sequential child `json.info_<10 digits>`
//   whose data is its MasterInfo as JSON (reference mesos §16); the leader is
//   the child with the lowest sequence number. Names that are not
//   `json.info_<digits>` (`log_replicas`, legacy binary `info_...`) are
//   ignored. A node whose data does not decode is logged and skipped, and the
//   next lowest valid node is used.
//
// The leader's endpoint is address.ip:address.port, else address.hostname,
// else the top-level hostname with `port`, else the deprecated `ip` field.
//
// Threading: everything runs on the io_context of the executor given; leader
// changes are reported there. ZooKeeper errors (connection loss, a missing
// path) are retried every `retry_interval`; while nothing valid is known the
// leader is nullopt.
#pragma once

#include "common/error.hpp"
#include "io/http.hpp"
#include "io/zk.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace etcdmesos::mesos {
struct MasterInfo;
}

namespace etcdmesos::io {

// The endpoint a MasterInfo names, by the rules above; nullopt when it names
// none.
std::optional<Endpoint> master_endpoint(const mesos::MasterInfo& info);

// The sequence number of a `json.info_<digits>` child name, else nullopt.
std::optional<uint64_t> master_node_sequence(std::string_view name);

class MasterDetector {
 public:
  using Listener = std::function<void(std::optional<Endpoint>)>;

  // Fixed leader.
  MasterDetector(boost::asio::any_io_executor ex, Endpoint leader);
  // Follows `path` through `zk`, which must outlive this detector.
  MasterDetector(boost::asio::any_io_executor ex, ZkClient& zk, std::string path,
                 std::chrono::milliseconds retry_interval = std::chrono::seconds(1));
  // "host:port" or "zk://.../path"; in ZooKeeper mode the detector owns its
  // client, whose waits run on `time`. Error for a malformed spec.
  static Result<std::unique_ptr<MasterDetector>> from_spec(
      boost::asio::any_io_executor ex, std::string_view spec,
      std::chrono::milliseconds zk_session_timeout = std::chrono::seconds(10),
      TimeSource& time = real_time());
  ~MasterDetector();
  MasterDetector(const MasterDetector&) = delete;
  MasterDetector& operator=(const MasterDetector&) = delete;

  // The leader known now (no waiting).
  std::optional<Endpoint> leader() const;
  // Waits up to `wait` for a leader to be known; nullopt if none by then.
  boost::asio::awaitable<std::optional<Endpoint>> current_leader(std::chrono::milliseconds wait);
  // Called on the io_context whenever the leader changes (nullopt: none).
  // Each listener given is kept.
  void on_leader_change(Listener listener);

 private:
  struct State;
  std::unique_ptr<ZkClient> owned_zk_;
  std::shared_ptr<State> state_;
};

}  // namespace etcdmesos::io
