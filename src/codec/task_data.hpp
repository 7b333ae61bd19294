// TaskInfo.data of a member task: what the executor needs to start etcd.
// JSON object; written by the scheduler, read by the executor. Decoding
// rejects missing fields, ports outside 1..65535 and names that are not
// [A-Za-z0-9._-]{1,64}.
#pragma once

#include "common/error.hpp"

#include <cstdint>
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
  bool operator==(const MemberTaskData&) const = default;
};

std::string encode(const MemberTaskData& data);
Result<MemberTaskData> decode_member_task_data(std::string_view json);

}  // namespace etcdmesos
