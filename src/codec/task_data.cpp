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

bool all_digits(std::string_view text) {
  return !text.empty() && text.size() <= 18 &&
         text.find_first_not_of("0123456789") == std::string_view::npos;
}

// Go's time.ParseDuration subset etcd documents: [digits unit]+ with units
// h, m, s, ms.
bool valid_duration(std::string_view text) {
  if (text.empty() || text.size() > 32) {
    return false;
  }
  bool nonzero = false;
  while (!text.empty()) {
    const auto digits = text.find_first_not_of("0123456789");
    if (digits == 0 || digits == std::string_view::npos) {
      return false;  // a unit without a number, or a number without a unit
    }
    nonzero = nonzero || text.substr(0, digits).find_first_not_of('0') != std::string_view::npos;
    text.remove_prefix(digits);
    if (text.starts_with("ms")) {
      text.remove_prefix(2);
    } else if (text.starts_with("h") || text.starts_with("m") || text.starts_with("s")) {
      text.remove_prefix(1);
    } else {
      return false;
    }
  }
  return nonzero;
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
  data.auto_compaction_mode = codec::opt_string(r, o, "auto_compaction_mode").value_or("");
  data.auto_compaction_retention =
      codec::opt_string(r, o, "auto_compaction_retention").value_or("");
  if (r.ok() && (!data.auto_compaction_mode.empty() || !data.auto_compaction_retention.empty())) {
    if (auto why =
            compaction_setting_error(data.auto_compaction_mode, data.auto_compaction_retention)) {
      r.fail("auto_compaction_mode", *why);
    }
  }
  data.quota_backend_bytes = codec::opt_uint64(r, o, "quota_backend_bytes").value_or(0);
  if (r.ok() && data.quota_backend_bytes > kMaxQuotaBackendBytes) {
    r.fail("quota_backend_bytes", "above " + std::to_string(kMaxQuotaBackendBytes));
  }
  data.tls = codec::opt_bool(r, o, "tls").value_or(false);
  data.restore_file = codec::opt_string(r, o, "restore_file").value_or("");
  if (r.ok() && !data.restore_file.empty() &&
      (!valid_name(data.restore_file) || data.restore_file == "." || data.restore_file == "..")) {
    r.fail("restore_file", "'" + data.restore_file.substr(0, kMaxNameLength) +
                               "' is not a file name [A-Za-z0-9._-]{1,64}");
  }
  return data;
}

}  // namespace

std::optional<std::string> compaction_setting_error(std::string_view mode,
                                                    std::string_view retention) {
  if (mode == "periodic") {
    if (all_digits(retention) ? retention.find_first_not_of('0') == std::string_view::npos
                              : !valid_duration(retention)) {
      return "a periodic retention is whole hours or a duration such as 30m or 1h30m, not '" +
             std::string(retention.substr(0, 32)) + "'";
    }
    return std::nullopt;
  }
  if (mode == "revision") {
    if (!all_digits(retention) || retention.find_first_not_of('0') == std::string_view::npos) {
      return "a revision retention is a number of revisions above 0, not '" +
             std::string(retention.substr(0, 32)) + "'";
    }
    return std::nullopt;
  }
  return "the auto-compaction mode is periodic or revision, not '" +
         std::string(mode.substr(0, 32)) + "'";
}

std::string encode(const MemberTaskData& data) {
  object o{{"name", data.name},
           {"host", data.host},
           {"peer_port", data.peer_port},
           {"client_port", data.client_port},
           {"initial_cluster", data.initial_cluster},
           {"cluster_state", data.cluster_state},
           {"cluster_token", data.cluster_token}};
  if (!data.auto_compaction_mode.empty()) {
    o["auto_compaction_mode"] = data.auto_compaction_mode;
    o["auto_compaction_retention"] = data.auto_compaction_retention;
  }
  if (data.quota_backend_bytes > 0) {
    o["quota_backend_bytes"] = data.quota_backend_bytes;
  }
  if (data.tls) {
    o["tls"] = true;
  }
  if (!data.restore_file.empty()) {
    o["restore_file"] = data.restore_file;
  }
  return codec::serialize(o);
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
