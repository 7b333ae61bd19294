// Plain structs for the Mesos v1 HTTP API messages this project uses, and
// their JSON encoding (see shared/reference/mesos-v1-http-api.md).
//
// Both directions exist for every message, because the local dev cluster
// speaks the master/agent side of the same protocol.
//
// JSON rules followed (reference §1): proto field names; IDs wrapped as
// {"value": "..."}; enums as name strings; bytes as standard base64 (decoded
// into std::string here, so `data` and `uuid` hold raw bytes); unknown keys
// ignored; integers accepted as numbers or numeric strings. A required field
// that is missing, or a value of the wrong JSON type, is a decode error, never
// a crash. Decoders accept at most kMaxMessageBytes of input.
#pragma once

#include "common/error.hpp"
#include "common/task_state.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace etcdmesos::mesos {

inline constexpr std::size_t kMaxMessageBytes = 16 * 1024 * 1024;

struct Range {
  uint64_t begin = 0;
  uint64_t end = 0;  // inclusive
  bool operator==(const Range&) const = default;
};

// A resource as Mesos sends it. Only SCALAR and RANGES are interpreted;
// anything else is kept by type name so that it can be ignored.
struct Resource {
  enum class Type { kScalar, kRanges, kSet, kOther };
  std::string name;
  Type type = Type::kScalar;
  double scalar = 0;
  std::vector<Range> ranges;
  std::vector<std::string> set;
  std::optional<std::string> role;             // deprecated "role" ("*" = unreserved)
  std::optional<std::string> allocation_role;  // allocation_info.role
  bool reserved = false;  // has "reservation" or a non-empty "reservations" (not re-encoded)
  bool operator==(const Resource&) const = default;
};

Resource scalar_resource(std::string name, double value);
Resource ranges_resource(std::string name, std::vector<Range> ranges);

struct Label {
  std::string key;
  std::string value;
  bool operator==(const Label&) const = default;
};

struct EnvironmentVariable {
  std::string name;
  std::string value;
  bool operator==(const EnvironmentVariable&) const = default;
};

struct Uri {
  std::string value;
  bool executable = false;
  bool extract = true;
  bool cache = false;
  std::optional<std::string> output_file;
  bool operator==(const Uri&) const = default;
};

struct CommandInfo {
  std::optional<std::string> value;
  bool shell = true;
  std::vector<std::string> arguments;  // full argv (incl. argv[0]) when shell is false
  std::vector<Uri> uris;
  std::vector<EnvironmentVariable> environment;  // environment.variables
  std::optional<std::string> user;
  bool operator==(const CommandInfo&) const = default;
};

struct ExecutorInfo {
  std::string executor_id;
  std::optional<std::string> framework_id;
  std::optional<std::string> type;  // "CUSTOM" / "DEFAULT"
  std::optional<std::string> name;
  std::optional<CommandInfo> command;
  std::vector<Resource> resources;
  std::optional<int64_t> shutdown_grace_period_ns;
  bool operator==(const ExecutorInfo&) const = default;
};

struct DiscoveryPort {
  uint32_t number = 0;
  std::optional<std::string> name;
  std::optional<std::string> protocol;
  bool operator==(const DiscoveryPort&) const = default;
};

struct DiscoveryInfo {
  std::string visibility = "FRAMEWORK";  // FRAMEWORK | CLUSTER | EXTERNAL
  std::optional<std::string> name;
  std::optional<std::string> environment;
  std::optional<std::string> location;
  std::optional<std::string> version;
  std::vector<DiscoveryPort> ports;
  std::vector<Label> labels;
  bool operator==(const DiscoveryInfo&) const = default;
};

struct TaskInfo {
  std::string name;
  std::string task_id;
  std::string agent_id;
  std::vector<Resource> resources;
  std::optional<ExecutorInfo> executor;
  std::optional<CommandInfo> command;
  std::optional<std::string> data;  // raw bytes (base64 on the wire)
  std::vector<Label> labels;
  std::optional<DiscoveryInfo> discovery;
  std::optional<int64_t> kill_grace_period_ns;  // kill_policy.grace_period.nanoseconds
  bool operator==(const TaskInfo&) const = default;
};

// The states and their names are shared with the core (common/task_state.hpp).
using etcdmesos::task_state_from_string;
using etcdmesos::TaskState;
using etcdmesos::to_string;
// Terminal in Mesos' sense; TASK_LOST counts as terminal although a task can
// come back from it when its agent re-registers (reference §11).
bool is_terminal(TaskState state);

struct TaskStatus {
  std::string task_id;
  TaskState state = TaskState::kStaging;
  std::optional<std::string> message;
  std::optional<std::string> source;  // SOURCE_MASTER | SOURCE_AGENT | SOURCE_EXECUTOR
  std::optional<std::string> reason;  // REASON_*, opaque
  std::optional<std::string> data;    // raw bytes
  std::optional<std::string> agent_id;
  std::optional<std::string> executor_id;
  std::optional<double> timestamp;
  std::optional<std::string> uuid;  // raw 16 bytes; absent for master-generated updates
  std::optional<bool> healthy;
  std::vector<Label> labels;
  std::optional<std::string> container_ip;  // container_status.network_infos[0].ip_addresses[0]
  bool operator==(const TaskStatus&) const = default;
};

struct Address {
  std::optional<std::string> hostname;
  std::optional<std::string> ip;
  uint32_t port = 0;
  bool operator==(const Address&) const = default;
};

struct MasterInfo {
  std::string id;
  uint32_t ip = 0;  // deprecated s_addr form (reference §16); prefer address
  uint32_t port = 5050;
  std::optional<std::string> pid;
  std::optional<std::string> hostname;
  std::optional<std::string> version;
  std::optional<Address> address;
  std::vector<std::string> capabilities;  // [{"type": X}]
  bool operator==(const MasterInfo&) const = default;
};

struct FrameworkInfo {
  std::string user;
  std::string name;
  std::optional<std::string> id;
  double failover_timeout = 0;
  bool checkpoint = false;
  std::vector<std::string> roles;
  std::optional<std::string> hostname;
  std::optional<std::string> principal;
  std::optional<std::string> webui_url;
  std::vector<std::string> capabilities;  // [{"type": "MULTI_ROLE"}, ...]
  std::vector<Label> labels;
  bool operator==(const FrameworkInfo&) const = default;
};

struct AgentInfo {
  std::string id;
  std::string hostname;
  uint32_t port = 5051;
  std::vector<Resource> resources;
  bool operator==(const AgentInfo&) const = default;
};

struct Offer {
  std::string id;
  std::string framework_id;
  std::string agent_id;
  std::string hostname;
  std::optional<Address> url_address;  // url.address
  std::vector<Resource> resources;
  std::vector<std::string> executor_ids;
  std::optional<std::string> allocation_role;
  bool operator==(const Offer&) const = default;
};

// ---------------------------------------------------------------- scheduler

struct Filters {
  std::optional<double> refuse_seconds;
  bool operator==(const Filters&) const = default;
};

struct Operation {
  std::string type = "LAUNCH";  // only LAUNCH is interpreted
  std::vector<TaskInfo> launch_tasks;
  bool operator==(const Operation&) const = default;
};

struct CallSubscribe {
  FrameworkInfo framework_info;
  std::vector<std::string> suppressed_roles;
  bool operator==(const CallSubscribe&) const = default;
};
struct CallAccept {
  std::vector<std::string> offer_ids;
  std::vector<Operation> operations;
  std::optional<Filters> filters;
  bool operator==(const CallAccept&) const = default;
};
struct CallDecline {
  std::vector<std::string> offer_ids;
  std::optional<Filters> filters;
  bool operator==(const CallDecline&) const = default;
};
struct CallKill {
  std::string task_id;
  std::optional<std::string> agent_id;
  std::optional<int64_t> grace_period_ns;
  bool operator==(const CallKill&) const = default;
};
struct ReconcileTask {
  std::string task_id;
  std::optional<std::string> agent_id;
  bool operator==(const ReconcileTask&) const = default;
};
struct CallReconcile {
  std::vector<ReconcileTask> tasks;  // empty = implicit reconciliation
  bool operator==(const CallReconcile&) const = default;
};
struct CallAcknowledge {
  std::string agent_id;
  std::string task_id;
  std::string uuid;  // raw bytes, exactly as received in the status
  bool operator==(const CallAcknowledge&) const = default;
};
struct CallMessage {
  std::string agent_id;
  std::string executor_id;
  std::string data;  // raw bytes
  bool operator==(const CallMessage&) const = default;
};
struct CallShutdown {
  std::string executor_id;
  std::string agent_id;
  bool operator==(const CallShutdown&) const = default;
};

struct CallTeardown {
  bool operator==(const CallTeardown&) const = default;
};
struct CallRevive {
  std::vector<std::string> roles;  // empty: every role
  bool operator==(const CallRevive&) const = default;
};
struct CallSuppress {
  std::vector<std::string> roles;  // empty: every role
  bool operator==(const CallSuppress&) const = default;
};

// What a scheduler Call asks for: the alternative is the call's type, so a
// call always carries the payload its type needs (decode_call rejects one
// without it, as Mesos does with a 400).
using CallPayload =
    std::variant<CallSubscribe, CallTeardown, CallAccept, CallDecline, CallRevive, CallSuppress,
                 CallKill, CallShutdown, CallAcknowledge, CallReconcile, CallMessage>;

struct Call {
  std::optional<std::string> framework_id;  // absent only in a first SUBSCRIBE
  CallPayload payload;
  bool operator==(const Call&) const = default;
};
// "SUBSCRIBE", "ACCEPT", ...: the wire name of the call's type.
std::string_view type_name(const Call& call);

struct EventSubscribed {
  std::string framework_id;
  double heartbeat_interval_seconds = 15;
  std::optional<MasterInfo> master_info;
  bool operator==(const EventSubscribed&) const = default;
};
struct EventOffers {
  std::vector<Offer> offers;
  bool operator==(const EventOffers&) const = default;
};
struct EventRescind {
  std::string offer_id;
  bool operator==(const EventRescind&) const = default;
};
struct EventUpdate {
  TaskStatus status;
  bool operator==(const EventUpdate&) const = default;
};
struct EventMessage {
  std::string agent_id;
  std::string executor_id;
  std::string data;  // raw bytes
  bool operator==(const EventMessage&) const = default;
};
struct EventFailure {
  std::optional<std::string> agent_id;
  std::optional<std::string> executor_id;
  std::optional<int32_t> status;
  bool operator==(const EventFailure&) const = default;
};
struct EventError {
  std::string message;
  bool operator==(const EventError&) const = default;
};
struct EventHeartbeat {
  bool operator==(const EventHeartbeat&) const = default;
};
// A type this project does not use (INVERSE_OFFERS, UPDATE_OPERATION_STATUS,
// ...): only its name is kept.
struct EventOther {
  std::string type;
  bool operator==(const EventOther&) const = default;
};

// A scheduler Event: the alternative is its type, with the payload that type
// requires (an OFFERS event without its offers does not decode).
using Event = std::variant<EventSubscribed, EventOffers, EventRescind, EventUpdate, EventMessage,
                           EventFailure, EventError, EventHeartbeat, EventOther>;
std::string_view type_name(const Event& event);

std::string encode(const Call& call);
Result<Call> decode_call(std::string_view json);
std::string encode(const Event& event);
Result<Event> decode_event(std::string_view json);

// ----------------------------------------------------------------- executor

struct ExecutorCallSubscribe {
  std::vector<TaskInfo> unacknowledged_tasks;
  std::vector<TaskStatus> unacknowledged_updates;  // each wrapped as {"status": ...}
  bool operator==(const ExecutorCallSubscribe&) const = default;
};

struct ExecutorCallUpdate {
  TaskStatus status;  // update.status; its uuid is required
  bool operator==(const ExecutorCallUpdate&) const = default;
};
struct ExecutorCallMessage {
  std::string data;  // message.data, raw bytes
  bool operator==(const ExecutorCallMessage&) const = default;
};
struct ExecutorCallHeartbeat {
  bool operator==(const ExecutorCallHeartbeat&) const = default;
};
using ExecutorCallPayload = std::variant<ExecutorCallSubscribe, ExecutorCallUpdate,
                                         ExecutorCallMessage, ExecutorCallHeartbeat>;

// An executor Call: the payload's alternative is its type.
struct ExecutorCall {
  std::string executor_id;
  std::string framework_id;
  ExecutorCallPayload payload;
  bool operator==(const ExecutorCall&) const = default;
};
std::string_view type_name(const ExecutorCall& call);

struct ExecutorEventSubscribed {
  ExecutorInfo executor_info;
  FrameworkInfo framework_info;
  AgentInfo agent_info;
  std::optional<std::string> container_id;  // container_id.value
  bool operator==(const ExecutorEventSubscribed&) const = default;
};
struct ExecutorEventKill {
  std::string task_id;
  std::optional<int64_t> grace_period_ns;  // kill_policy.grace_period.nanoseconds
  bool operator==(const ExecutorEventKill&) const = default;
};
struct ExecutorEventAcknowledged {
  std::string task_id;
  std::string uuid;  // raw bytes
  bool operator==(const ExecutorEventAcknowledged&) const = default;
};

struct ExecutorEventLaunch {
  TaskInfo task;  // launch.task
  bool operator==(const ExecutorEventLaunch&) const = default;
};
struct ExecutorEventMessage {
  std::string data;  // message.data, raw bytes
  bool operator==(const ExecutorEventMessage&) const = default;
};
struct ExecutorEventShutdown {
  bool operator==(const ExecutorEventShutdown&) const = default;
};
struct ExecutorEventError {
  std::string message;
  bool operator==(const ExecutorEventError&) const = default;
};
struct ExecutorEventHeartbeat {
  bool operator==(const ExecutorEventHeartbeat&) const = default;
};
// A type this project does not use (LAUNCH_GROUP, ...): only its name.
struct ExecutorEventOther {
  std::string type;
  bool operator==(const ExecutorEventOther&) const = default;
};

// An executor Event: the alternative is its type, with the payload it needs.
using ExecutorEvent =
    std::variant<ExecutorEventSubscribed, ExecutorEventLaunch, ExecutorEventKill,
                 ExecutorEventAcknowledged, ExecutorEventMessage, ExecutorEventShutdown,
                 ExecutorEventError, ExecutorEventHeartbeat, ExecutorEventOther>;
std::string_view type_name(const ExecutorEvent& event);

std::string encode(const ExecutorCall& call);
Result<ExecutorCall> decode_executor_call(std::string_view json);
std::string encode(const ExecutorEvent& event);
Result<ExecutorEvent> decode_executor_event(std::string_view json);

// ZooKeeper master registration (`json.info_*` node data, reference §16).
std::string encode(const MasterInfo& info);
Result<MasterInfo> decode_master_info(std::string_view json);

// TaskInfo alone (used in executor SUBSCRIBE replays and tests).
std::string encode(const TaskInfo& task);
Result<TaskInfo> decode_task_info(std::string_view json);

// Standard base64 with padding; decode accepts missing padding, rejects
// characters outside the alphabet.
std::string base64_encode(std::string_view raw);
Result<std::string> base64_decode(std::string_view text);

}  // namespace etcdmesos::mesos
