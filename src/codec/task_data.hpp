// TaskInfo.data of a member task: what the executor needs to start etcd.
// JSON object; written by the scheduler, read by the executor. Decoding
// rejects missing fields, ports outside 1..65535, names that are not
// [A-Za-z0-9._-]{1,64} and compaction or quota settings etcd would refuse.
// The compaction and quota fields are optional (absent in tasks launched by
// an older scheduler: etcd's defaults then apply).
#pragma once

#include "common/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace etcdmesos {

struct MemberTaskData {
  std::string name;  // etcd --name
  std::string host;  // address to bind and advertise (the agent's)
  uint32_t peer_port = 0;
  uint32_t client_port = 0;
  std::string initial_cluster;  // --initial-cluster
  std::string cluster_state;    // "new" | "existing"
  std::string cluster_token;    // --initial-cluster-token
  // --auto-compaction-mode ("periodic" | "revision") and
  // --auto-compaction-retention; both empty: no auto-compaction flags.
  std::string auto_compaction_mode{};
  std::string auto_compaction_retention{};
  // --quota-backend-bytes; 0: etcd's default (2 GiB).
  uint64_t quota_backend_bytes = 0;
  // Serve clients and peers over TLS, with a certificate the executor asks
  // the scheduler for (codec/tls_message.hpp); absent: false.
  bool tls = false;
  // Restore (issue 14): the name of the snapshot file the agent fetched into
  // the sandbox (CommandInfo.URI.output_file), restored into the data
  // directory before etcd's first start; empty (absent): no restore. A plain
  // file name, [A-Za-z0-9._-]{1,64}.
  std::string restore_file{};
  bool operator==(const MemberTaskData&) const = default;
};

// The largest backend quota etcd 3.4 recommends (it warns above it).
inline constexpr uint64_t kMaxQuotaBackendBytes = 8ull * 1024 * 1024 * 1024;

// Why etcd would refuse this auto-compaction setting, or nothing: the mode is
// "periodic" (retention: whole hours, or a duration such as "30m", "1h30m")
// or "revision" (retention: a number of revisions above 0).
std::optional<std::string> compaction_setting_error(std::string_view mode,
                                                    std::string_view retention);

std::string encode(const MemberTaskData& data);
Result<MemberTaskData> decode_member_task_data(std::string_view json);

}  // namespace etcdmesos
