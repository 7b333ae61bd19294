#include "codec/etcd.hpp"

#include "codec/json_read.hpp"
#include "codec/mesos.hpp"

#include <utility>

namespace etcdmesos::etcd {

namespace {

using codec::JsonReader;
using codec::json::array;
using codec::json::object;
using codec::json::value;

// Zero values are omitted by the gateway, so every field reads as optional.
uint64_t u64(JsonReader& r, const object& o, std::string_view key) {
  return codec::opt_uint64(r, o, key).value_or(0);
}

int64_t i64(JsonReader& r, const object& o, std::string_view key) {
  return codec::opt_int64(r, o, key).value_or(0);
}

template <class T, class Read>
Result<T> decode_top(std::string_view text, std::string_view what, Read read) {
  auto parsed = codec::parse_object(text, kMaxResponseBytes, what);
  if (!parsed) {
    return parsed.error();
  }
  JsonReader r{std::string(what)};
  T out = read(r, *parsed);
  if (!r.ok()) {
    return r.error();
  }
  return out;
}

EtcdResponseHeader read_header(JsonReader& r, const object& o) {
  EtcdResponseHeader header;
  const object* h = codec::opt_object(r, o, "header");
  if (h == nullptr) {
    return header;
  }
  auto scope = r.enter("header");
  header.cluster_id = u64(r, *h, "cluster_id");
  header.member_id = u64(r, *h, "member_id");
  header.revision = u64(r, *h, "revision");
  header.raft_term = u64(r, *h, "raft_term");
  return header;
}

EtcdMemberInfo read_member(JsonReader& r, const object& o) {
  EtcdMemberInfo member;
  member.id = u64(r, o, "ID");
  member.name = codec::opt_string(r, o, "name").value_or("");
  member.peer_urls = codec::string_array(r, o, "peerURLs");
  member.client_urls = codec::string_array(r, o, "clientURLs");
  member.is_learner = codec::opt_bool(r, o, "isLearner").value_or(false);
  return member;
}

std::vector<EtcdMemberInfo> read_members(JsonReader& r, const object& o) {
  read_header(r, o);  // type-checked, not used
  return codec::read_array<EtcdMemberInfo>(
      r, o, "members", [&r](const value& v) { return read_member(r, codec::as_object(r, v)); });
}

EtcdAlarm read_alarm(JsonReader& r, const object& o) {
  EtcdAlarm alarm;
  alarm.member_id = u64(r, o, "memberID");
  alarm.alarm = codec::opt_string(r, o, "alarm").value_or("NONE");
  return alarm;
}

std::vector<EtcdAlarm> read_alarms(JsonReader& r, const object& o) {
  read_header(r, o);  // type-checked, not used
  return codec::read_array<EtcdAlarm>(
      r, o, "alarms", [&r](const value& v) { return read_alarm(r, codec::as_object(r, v)); });
}

EtcdMemberInfo read_member_add(JsonReader& r, const object& o) {
  read_members(r, o);
  const object& member = codec::req_object(r, o, "member");
  auto scope = r.enter("member");
  return read_member(r, member);
}

EtcdStatus read_status(JsonReader& r, const object& o) {
  const EtcdResponseHeader header = read_header(r, o);
  EtcdStatus status;
  status.member_id = header.member_id;
  status.cluster_id = header.cluster_id;
  status.revision = header.revision;
  status.leader = u64(r, o, "leader");
  status.raft_index = u64(r, o, "raftIndex");
  status.raft_term = u64(r, o, "raftTerm");
  status.raft_applied_index = u64(r, o, "raftAppliedIndex");
  status.db_size = u64(r, o, "dbSize");
  status.version = codec::opt_string(r, o, "version").value_or("");
  status.errors = codec::string_array(r, o, "errors");
  status.is_learner = codec::opt_bool(r, o, "isLearner").value_or(false);
  return status;
}

EtcdKeyValue read_key_value(JsonReader& r, const object& o) {
  EtcdKeyValue kv;
  kv.key = codec::opt_bytes(r, o, "key").value_or("");
  kv.value = codec::opt_bytes(r, o, "value").value_or("");
  kv.create_revision = i64(r, o, "create_revision");
  kv.mod_revision = i64(r, o, "mod_revision");
  kv.version = i64(r, o, "version");
  kv.lease = i64(r, o, "lease");
  return kv;
}

EtcdRangeResult read_range(JsonReader& r, const object& o) {
  EtcdRangeResult range;
  range.header = read_header(r, o);
  range.kvs = codec::read_array<EtcdKeyValue>(
      r, o, "kvs", [&r](const value& v) { return read_key_value(r, codec::as_object(r, v)); });
  range.count = i64(r, o, "count");
  range.more = codec::opt_bool(r, o, "more").value_or(false);
  return range;
}

EtcdError read_error(JsonReader& r, const object& o) {
  EtcdError error;
  const auto code = codec::opt_int32(r, o, "code");
  error.code = code.value_or(0);
  auto message = codec::opt_string(r, o, "message");
  auto text = codec::opt_string(r, o, "error");
  if (!message && !text && r.ok()) {
    r.fail("", "neither \"message\" nor \"error\" present");
  }
  error.message = message.value_or(text.value_or(""));
  return error;
}

std::string decimal(uint64_t id) {
  return std::to_string(id);
}

}  // namespace

Result<std::vector<EtcdMemberInfo>> decode_member_list(std::string_view json) {
  return decode_top<std::vector<EtcdMemberInfo>>(json, "etcd member list", read_members);
}

Result<EtcdMemberInfo> decode_member_add(std::string_view json) {
  return decode_top<EtcdMemberInfo>(json, "etcd member add", read_member_add);
}

Result<std::vector<EtcdAlarm>> decode_alarms(std::string_view json) {
  return decode_top<std::vector<EtcdAlarm>>(json, "etcd alarms", read_alarms);
}

Result<EtcdStatus> decode_status(std::string_view json) {
  return decode_top<EtcdStatus>(json, "etcd status", read_status);
}

Result<EtcdResponseHeader> decode_put(std::string_view json) {
  return decode_top<EtcdResponseHeader>(json, "etcd put", read_header);
}

Result<EtcdRangeResult> decode_range(std::string_view json) {
  return decode_top<EtcdRangeResult>(json, "etcd range", read_range);
}

Result<EtcdError> decode_error(std::string_view json) {
  return decode_top<EtcdError>(json, "etcd error", read_error);
}

std::string encode_put(std::string_view key, std::string_view value) {
  return codec::serialize(
      object{{"key", mesos::base64_encode(key)}, {"value", mesos::base64_encode(value)}});
}

std::string encode_range(std::string_view key, std::string_view range_end) {
  object o{{"key", mesos::base64_encode(key)}};
  if (!range_end.empty()) {
    o["range_end"] = mesos::base64_encode(range_end);
  }
  return codec::serialize(o);
}

std::string encode_member_add(const std::vector<std::string>& peer_urls, bool is_learner) {
  object o{{"peerURLs", array(peer_urls.begin(), peer_urls.end())}};
  if (is_learner) {
    o["isLearner"] = true;
  }
  return codec::serialize(o);
}

std::string encode_alarm_list() {
  return codec::serialize(object{{"action", "GET"}});
}

std::string encode_alarm_disarm(uint64_t member_id, std::string_view alarm) {
  return codec::serialize(
      object{{"action", "DEACTIVATE"}, {"memberID", decimal(member_id)}, {"alarm", alarm}});
}

std::string encode_compaction(uint64_t revision) {
  return codec::serialize(object{{"revision", decimal(revision)}, {"physical", true}});
}

std::string encode_member_remove(uint64_t id) {
  return codec::serialize(object{{"ID", decimal(id)}});
}

std::string encode_member_promote(uint64_t id) {
  return codec::serialize(object{{"ID", decimal(id)}});
}

std::string prefix_range_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last < 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

}  // namespace etcdmesos::etcd
