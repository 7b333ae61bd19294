#include "codec/persisted_state.hpp"

#include "codec/json_read.hpp"

namespace etcdmesos::persisted {

namespace {

using codec::json::object;

constexpr std::size_t kMaxNodeName = 255;
constexpr std::size_t kMaxMemberName = 64;
constexpr std::size_t kMaxField = 1024;

bool valid_member_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxMemberName) {
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

std::string quoted(std::string_view text) {
  return "'" + std::string(text.substr(0, 64)) + (text.size() > 64 ? "...'" : "'");
}

// The first check of every record: which format wrote it.
void read_format(codec::JsonReader& r, const object& o) {
  const uint64_t format = codec::req_uint64(r, o, "format");
  if (r.ok() && format != kFormat) {
    r.fail("format", "format " + std::to_string(format) +
                         " is not supported (this scheduler reads " + std::to_string(kFormat) +
                         ")");
  }
}

std::string read_text(codec::JsonReader& r, const object& o, std::string_view key) {
  std::string value = codec::req_string(r, o, key);
  if (r.ok() && (value.empty() || value.size() > kMaxField)) {
    r.fail(key, value.empty() ? "empty" : "longer than " + std::to_string(kMaxField) + " bytes");
  }
  return value;
}

uint32_t read_port(codec::JsonReader& r, const object& o, std::string_view key) {
  const uint32_t port = codec::req_uint32(r, o, key);
  if (r.ok() && (port < 1 || port > 65535)) {
    r.fail(key, "port " + std::to_string(port) + " outside 1..65535");
  }
  return port;
}

TaskRecord read_task(codec::JsonReader& r, const object& o) {
  TaskRecord record;
  read_format(r, o);
  record.task_id = read_text(r, o, "task_id");
  if (r.ok() && !valid_node_name(record.task_id)) {
    r.fail("task_id", quoted(record.task_id) + " cannot be a ZooKeeper node name");
  }
  record.agent_id = read_text(r, o, "agent_id");
  record.name = codec::req_string(r, o, "name");
  if (r.ok() && !valid_member_name(record.name)) {
    r.fail("name", quoted(record.name) + " is not [A-Za-z0-9._-]{1,64}");
  }
  record.host = read_text(r, o, "host");
  record.peer_port = read_port(r, o, "peer_port");
  record.client_port = read_port(r, o, "client_port");
  record.etcd_id = codec::opt_uint64(r, o, "etcd_id");
  record.launching = codec::opt_bool(r, o, "launching").value_or(false);
  record.joins = codec::opt_bool(r, o, "joins").value_or(false);
  record.sequence = codec::req_uint64(r, o, "sequence");
  return record;
}

template <class T, class Read>
Result<T> decode(std::string_view data, std::string_view what, Read read) {
  auto parsed = codec::parse_object(data, kMaxRecordBytes, what);
  if (!parsed) {
    return parsed.error();
  }
  codec::JsonReader r{std::string(what)};
  T record = read(r, *parsed);
  if (!r.ok()) {
    return r.error();
  }
  return record;
}

}  // namespace

bool valid_node_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNodeName || name == "." || name == "..") {
    return false;
  }
  for (char c : name) {
    // ZooKeeper refuses control characters; non-ASCII is refused here too so
    // that names survive every tool an operator might read them with.
    if (c < 0x21 || c > 0x7e || c == '/') {
      return false;
    }
  }
  return true;
}

std::string encode(const FrameworkIdRecord& record) {
  return codec::serialize(object{
      {"format", kFormat}, {"framework_id", record.framework_id}, {"sequence", record.sequence}});
}

std::string encode(const SettingsRecord& record) {
  return codec::serialize(object{
      {"format", kFormat}, {"cluster_size", record.cluster_size}, {"sequence", record.sequence}});
}

std::string encode(const TaskRecord& record) {
  object o{{"format", kFormat},
           {"task_id", record.task_id},
           {"agent_id", record.agent_id},
           {"name", record.name},
           {"host", record.host},
           {"peer_port", record.peer_port},
           {"client_port", record.client_port},
           {"sequence", record.sequence}};
  if (record.launching) {
    o["launching"] = true;  // absent otherwise: records of running members stay as they were
  }
  if (record.joins) {
    o["joins"] = true;
  }
  if (record.etcd_id) {
    // A string: etcd ids use all 64 bits, beyond what a JSON double holds.
    o["etcd_id"] = std::to_string(*record.etcd_id);
  }
  return codec::serialize(o);
}

Result<FrameworkIdRecord> decode_framework_id_record(std::string_view data) {
  return decode<FrameworkIdRecord>(data, "framework id record",
                                   [](codec::JsonReader& r, const object& o) {
                                     FrameworkIdRecord record;
                                     read_format(r, o);
                                     record.framework_id = read_text(r, o, "framework_id");
                                     record.sequence = codec::req_uint64(r, o, "sequence");
                                     return record;
                                   });
}

Result<TaskRecord> decode_task_record(std::string_view data) {
  return decode<TaskRecord>(data, "task record", read_task);
}

Result<SettingsRecord> decode_settings_record(std::string_view data) {
  return decode<SettingsRecord>(data, "settings record", [](codec::JsonReader& r, const object& o) {
    SettingsRecord record;
    read_format(r, o);
    record.cluster_size = codec::req_uint64(r, o, "cluster_size");
    if (r.ok() &&
        (record.cluster_size < 1 || record.cluster_size > 9 || record.cluster_size % 2 == 0)) {
      r.fail("cluster_size", "must be 1, 3, 5, 7 or 9, not " + std::to_string(record.cluster_size));
    }
    record.sequence = codec::req_uint64(r, o, "sequence");
    return record;
  });
}

}  // namespace etcdmesos::persisted
