#include "codec/task_data.hpp"

#include "codec/json_read.hpp"

namespace etcdmesos {

namespace {

using codec::json::object;

// Task data is a few hundred bytes; anything much larger is not ours.
constexpr std::size_t kMaxTaskDataBytes = 64 * 1024;
constexpr std::size_t kMaxNameLength = 64;

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) {
    return false;
  }
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

uint32_t read_port(codec::JsonReader& r, const object& o, std::string_view key) {
  const uint32_t port = codec::req_uint32(r, o, key);
  if (r.ok() && (port < 1 || port > 65535)) {
    r.fail(key, "port " + std::to_string(port) + " outside 1..65535");
  }
  return port;
}

MemberTaskData read_member_task_data(codec::JsonReader& r, const object& o) {
  MemberTaskData data;
  data.name = codec::req_string(r, o, "name");
  if (r.ok() && !valid_name(data.name)) {
    r.fail("name", "'" + data.name.substr(0, kMaxNameLength) + "' is not [A-Za-z0-9._-]{1,64}");
  }
  data.host = codec::req_string(r, o, "host");
  if (r.ok() && data.host.empty()) {
    r.fail("host", "empty");
  }
  data.peer_port = read_port(r, o, "peer_port");
  data.client_port = read_port(r, o, "client_port");
  data.initial_cluster = codec::req_string(r, o, "initial_cluster");
  data.cluster_state = codec::req_string(r, o, "cluster_state");
  if (r.ok() && data.cluster_state != "new" && data.cluster_state != "existing") {
    r.fail("cluster_state", "expected \"new\" or \"existing\"");
  }
  data.cluster_token = codec::req_string(r, o, "cluster_token");
  return data;
}

}  // namespace

std::string encode(const MemberTaskData& data) {
  return codec::serialize(object{{"name", data.name},
                                 {"host", data.host},
                                 {"peer_port", data.peer_port},
                                 {"client_port", data.client_port},
                                 {"initial_cluster", data.initial_cluster},
                                 {"cluster_state", data.cluster_state},
                                 {"cluster_token", data.cluster_token}});
}

Result<MemberTaskData> decode_member_task_data(std::string_view json) {
  auto parsed = codec::parse_object(json, kMaxTaskDataBytes, "member task data");
  if (!parsed) {
    return parsed.error();
  }
  codec::JsonReader r("member task data");
  MemberTaskData data = read_member_task_data(r, *parsed);
  if (!r.ok()) {
    return r.error();
  }
  return data;
}

}  // namespace etcdmesos
