// The records the scheduler keeps in ZooKeeper (see io/framework_store.hpp for
// where they live): the framework ID, the operator's settings, and one record
// per member task, written
// before the task is launched and again once it reached TASK_RUNNING, so that
// a restarted or standby scheduler knows every task that may run.
//
// Format: a JSON object with "format": 1. Unknown keys are ignored (a newer
// scheduler may add some); a missing or different format is an error, as is
// any missing or malformed field. Decoding never throws: data found in
// ZooKeeper is peer data, and garbage there is an Error value naming the field.
#pragma once

#include "common/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace etcdmesos::persisted {

inline constexpr uint64_t kFormat = 1;
// Records are a few hundred bytes; a node much larger than this is not ours.
inline constexpr std::size_t kMaxRecordBytes = 64 * 1024;

// Every write carries a sequence number that increases with every write of a
// scheduler and across schedulers (a new leader continues above the highest
// one it loaded), so that an older write is recognised and never wins.
struct FrameworkIdRecord {
  std::string framework_id;
  uint64_t sequence = 0;
  bool operator==(const FrameworkIdRecord&) const = default;
};

struct TaskRecord {
  std::string task_id;   // Mesos task id; also the record's node name
  std::string agent_id;  // where it runs
  std::string name;      // etcd member name ("etcd-3")
  std::string host;      // address etcd binds and advertises
  uint32_t peer_port = 0;
  uint32_t client_port = 0;
  std::optional<uint64_t> etcd_id;  // etcd member id once known
  // Written before the launch, not yet seen TASK_RUNNING ("launching": true;
  // absent means running, as in records of earlier versions).
  bool launching = false;
  // Launched into an existing cluster ("joins": true; absent means it
  // bootstrapped a new one, or the record is of an earlier version): a
  // holder of the cluster's data even before it runs.
  bool joins = false;
  uint64_t sequence = 0;  // assigned by the store when written
  bool operator==(const TaskRecord&) const = default;
};

// Settings an operator changed at run time, which a restarted or standby
// scheduler must keep: the cluster size of the last POST /cluster-size
// (1..9, odd; it wins over the -cluster-size flag).
struct SettingsRecord {
  uint64_t cluster_size = 0;
  uint64_t sequence = 0;
  bool operator==(const SettingsRecord&) const = default;
};

std::string encode(const FrameworkIdRecord& record);
std::string encode(const SettingsRecord& record);
std::string encode(const TaskRecord& record);
Result<FrameworkIdRecord> decode_framework_id_record(std::string_view data);
Result<TaskRecord> decode_task_record(std::string_view data);
// Also an error for a cluster size that is not 1, 3, 5, 7 or 9.
Result<SettingsRecord> decode_settings_record(std::string_view data);

// Whether `name` can be used as one ZooKeeper node name: 1..255 printable
// ASCII characters other than '/', and neither "." nor "..". Task ids and
// framework names must pass, since they become node names.
bool valid_node_name(std::string_view name);

}  // namespace etcdmesos::persisted
