// Requests to and answers from the etcd 3.4 grpc-gateway JSON API
// (see shared/reference/etcd-3.4-http-api.md §4-§7). Pure: no I/O.
//
// Wire rules followed: 64-bit integers arrive as decimal strings (JSON
// numbers are accepted too; hex is rejected); zero values are omitted by the
// server, so a missing field is 0 / false / empty; `bytes` (keys, values) are
// standard base64 and hold raw bytes here. Malformed input, wrong JSON types
// and bodies above kMaxResponseBytes are Errors, never exceptions.
#pragma once

#include "common/error.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace etcdmesos::etcd {

inline constexpr std::size_t kMaxResponseBytes = 16 * 1024 * 1024;

// One member of /v3/cluster/member/list or .../add. A member that was added
// but has not started yet has no name and no client URLs.
struct EtcdMemberInfo {
  uint64_t id = 0;
  std::string name;
  std::vector<std::string> peer_urls;
  std::vector<std::string> client_urls;
  bool is_learner = false;
  bool operator==(const EtcdMemberInfo&) const = default;
};

// "members" of a list, add, remove, update or promote answer.
Result<std::vector<EtcdMemberInfo>> decode_member_list(std::string_view json);
// "member" of a /v3/cluster/member/add answer (the new member).
Result<EtcdMemberInfo> decode_member_add(std::string_view json);

// /v3/maintenance/status. member_id and cluster_id come from the header;
// leader is 0 when the member knows no leader (then `errors` says why).
struct EtcdStatus {
  uint64_t member_id = 0;
  uint64_t cluster_id = 0;
  uint64_t revision = 0;  // the store's current revision (from the header)
  uint64_t leader = 0;
  uint64_t raft_index = 0;
  uint64_t raft_term = 0;
  uint64_t raft_applied_index = 0;
  uint64_t db_size = 0;
  std::string version;
  std::vector<std::string> errors;
  bool is_learner = false;
  bool operator==(const EtcdStatus&) const = default;
};
Result<EtcdStatus> decode_status(std::string_view json);

// The "header" of every answer (cluster answers lack `revision`: 0 here).
struct EtcdResponseHeader {
  uint64_t cluster_id = 0;
  uint64_t member_id = 0;
  uint64_t revision = 0;
  uint64_t raft_term = 0;
  bool operator==(const EtcdResponseHeader&) const = default;
};
// /v3/kv/put answer.
Result<EtcdResponseHeader> decode_put(std::string_view json);

struct EtcdKeyValue {
  std::string key;    // raw bytes
  std::string value;  // raw bytes
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;
  bool operator==(const EtcdKeyValue&) const = default;
};

// /v3/kv/range answer; a missing key gives no kvs and count 0.
struct EtcdRangeResult {
  EtcdResponseHeader header;
  std::vector<EtcdKeyValue> kvs;
  int64_t count = 0;
  bool more = false;
  bool operator==(const EtcdRangeResult&) const = default;
};
Result<EtcdRangeResult> decode_range(std::string_view json);

// /v3/maintenance/alarm answers: the alarms raised (none: `{}`), each on a
// member. `alarm` is etcd's name ("NOSPACE", "CORRUPT").
struct EtcdAlarm {
  uint64_t member_id = 0;
  std::string alarm;
  bool operator==(const EtcdAlarm&) const = default;
};
Result<std::vector<EtcdAlarm>> decode_alarms(std::string_view json);

// An error body: {"error": msg, "message": msg, "code": gRPC code}.
// `message` falls back to "error" when only that is present; a body with
// neither is not an etcd error and decodes to an Error.
struct EtcdError {
  int code = 0;
  std::string message;
  bool operator==(const EtcdError&) const = default;
};
Result<EtcdError> decode_error(std::string_view json);

// Request bodies. Keys and values are raw bytes (base64-encoded here);
// member IDs are written as decimal strings.
std::string encode_put(std::string_view key, std::string_view value);
// An empty range_end asks for the single key.
std::string encode_range(std::string_view key, std::string_view range_end = "");
std::string encode_member_add(const std::vector<std::string>& peer_urls, bool is_learner);
std::string encode_member_remove(uint64_t id);
std::string encode_member_promote(uint64_t id);
// {"action":"GET"}; {"action":"DEACTIVATE","memberID":..,"alarm":..}.
std::string encode_alarm_list();
std::string encode_alarm_disarm(uint64_t member_id, std::string_view alarm);
// Compacts the history below `revision` and waits until the backend did.
std::string encode_compaction(uint64_t revision);

// range_end that selects every key starting with `prefix`: the prefix with
// its last byte below 0xff incremented and what follows dropped; "\0" (all
// keys from `prefix` on) when no such byte exists.
std::string prefix_range_end(std::string_view prefix);

}  // namespace etcdmesos::etcd
