// What the scheduler keeps in ZooKeeper (-zk-framework-persist): its
// framework ID and which member task runs on which agent, so that a restarted
// or standby scheduler can re-subscribe as the same framework and reconcile.
//
// Layout under zk://h1:p1,h2:p2/<chroot>, one subtree per framework name:
//   <chroot>/<framework-name>/framework_id      FrameworkIdRecord (JSON)
//   <chroot>/<framework-name>/settings          SettingsRecord (JSON), once an
//                                               operator resized the cluster
//   <chroot>/<framework-name>/tasks/<task_id>   TaskRecord (JSON), one per task
//   <chroot>/<framework-name>/leader/member_<n> election nodes (leader_election.hpp)
// Records are described in codec/persisted_state.hpp.
//
// Ordering: every operation goes through one FIFO queue and runs only after
// the previous one finished, so operations land in the order they were
// issued. Each write also carries a sequence number above every one this
// store loaded or wrote. A write that finds its node holding a record with an
// equal or higher number (another scheduler, which loaded what this one
// wrote, has written it since) is refused with ZBADVERSION instead of
// overwriting it. The check reads before it writes, so it is not atomic; it
// guards against a deposed leader's late writes, and close() on deposition is
// the first guard. Nothing is retried inside: the caller
// decides what to write again.
//
// Failure: while the ZooKeeper session is not connected every operation fails
// at once with code ZCONNECTIONLOSS ("cannot persist"); an operation in flight
// when ZooKeeper goes away fails within the client's operation timeout. When
// ZooKeeper returns, the next operations work again; nothing needs resetting.
// Garbage found in ZooKeeper is reported by load() and never fatal.
//
// Threading: everything runs on the io_context of the executor given; every
// callback is called there, never from inside the call that queued it.
// Lifetime: `zk` must outlive the store. Destroying the store drops queued
// operations without calling their callbacks; close() fails them instead.
#pragma once

#include "codec/persisted_state.hpp"
#include "common/error.hpp"
#include "io/zk.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace etcdmesos::io {

// The nodes of one framework under the persistence path.
struct FrameworkPaths {
  std::string base;          // <chroot>/<framework-name>
  std::string framework_id;  // <base>/framework_id
  std::string settings;      // <base>/settings
  std::string tasks;         // <base>/tasks
  std::string leader;        // <base>/leader
};
FrameworkPaths framework_paths(const std::string& chroot, const std::string& framework_name);

struct PersistLocation {
  std::string servers;  // "h1:p1,h2:p2", for ZkClient
  FrameworkPaths paths;
};
// Parses the -zk-framework-persist URL. Error for a malformed URL, the root
// path (the framework's state needs a subtree of its own) and a framework
// name that cannot be a node name.
Result<PersistLocation> persist_location(std::string_view url, std::string_view framework_name);

// A node whose data did not parse (or did not match its name).
struct BadRecord {
  std::string path;
  std::string reason;
};

struct PersistedState {
  std::optional<persisted::FrameworkIdRecord> framework_id;
  std::optional<persisted::SettingsRecord> settings;
  std::vector<persisted::TaskRecord> tasks;  // by task id
  std::vector<BadRecord> bad;
};

class FrameworkStore {
 public:
  using Done = std::function<void(Result<void>)>;
  using Loaded = std::function<void(Result<PersistedState>)>;

  struct Limits {
    std::size_t max_queued = 256;  // operations waiting; more are refused at once
    std::size_t max_tasks = 1024;  // task records load() reads; the rest are reported bad
  };

  FrameworkStore(boost::asio::any_io_executor ex, ZkClient& zk, FrameworkPaths paths,
                 Limits limits);
  FrameworkStore(boost::asio::any_io_executor ex, ZkClient& zk, FrameworkPaths paths);
  ~FrameworkStore();
  FrameworkStore(const FrameworkStore&) = delete;
  FrameworkStore& operator=(const FrameworkStore&) = delete;

  // Reads everything persisted. Must succeed once before any write: it also
  // sets where the write sequence continues. A missing subtree is an empty
  // state, not an error.
  void load(Loaded done);
  // Writes the framework ID (once the master assigned it, before any launch).
  void set_framework_id(std::string framework_id, Done done);
  // Writes the operator's settings (the cluster size of POST /cluster-size).
  void set_cluster_size(uint64_t cluster_size, Done done);
  // Writes one task's record; its `sequence` is assigned here. Error at once
  // for a task id that cannot be a node name.
  void put_task(persisted::TaskRecord record, Done done);
  // Removes one task's record; an absent one is fine.
  void remove_task(std::string task_id, Done done);
  // Deletes the framework ID and every task record (Mesos removed the
  // framework: its ID must not be used again). Election nodes and the
  // operator's settings stay.
  void clear(Done done);
  // Fails every queued operation and refuses new ones (the scheduler lost
  // its leadership: nothing it still wanted to write may land). The
  // operation in flight, if any, completes with its own result.
  void close();

  bool loaded() const;
  std::size_t queued() const;  // waiting, not counting the one in flight
  const FrameworkPaths& paths() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace etcdmesos::io
