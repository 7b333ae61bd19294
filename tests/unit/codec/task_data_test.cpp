#include "codec/task_data.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace etcdmesos {
namespace {

MemberTaskData sample() {
  return MemberTaskData{"etcd-m1",
                        "10.0.0.5",
                        31002,
                        31001,
                        "etcd-m1=http://10.0.0.5:31002,etcd-m2=http://10.0.0.6:31002",
                        "new",
                        "c1-7f3a"};
}

TEST(TaskData, RoundTrip) {
  const MemberTaskData data = sample();
  auto decoded = decode_member_task_data(encode(data));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(*decoded, data);
  MemberTaskData existing = data;
  existing.cluster_state = "existing";
  existing.name = "A.b_c-9";
  existing.peer_port = 1;
  existing.client_port = 65535;
  decoded = decode_member_task_data(encode(existing));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(*decoded, existing);
}

TEST(TaskData, EncodesFieldNamesOfTheStruct) {
  const auto v = boost::json::parse(encode(sample()));
  EXPECT_EQ(v.at("name"), "etcd-m1");
  EXPECT_EQ(v.at("host"), "10.0.0.5");
  EXPECT_EQ(v.at("peer_port"), 31002);
  EXPECT_EQ(v.at("client_port"), 31001);
  EXPECT_EQ(v.at("cluster_state"), "new");
  EXPECT_EQ(v.at("cluster_token"), "c1-7f3a");
  EXPECT_TRUE(v.at("initial_cluster").is_string());
}

TEST(TaskData, AcceptsPortsAsStringsAndIgnoresUnknownKeys) {
  auto decoded = decode_member_task_data(
      R"({"name":"m1","host":"h","peer_port":"2380","client_port":2379,"initial_cluster":"m1=http://h:2380","cluster_state":"new","cluster_token":"t","extra":[1]})");
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->peer_port, 2380u);
}

std::string with(const std::string& key, const std::string& raw_value) {
  auto v = boost::json::parse(encode(sample())).as_object();
  if (raw_value.empty()) {
    v.erase(key);
  } else {
    v[key] = boost::json::parse(raw_value);
  }
  return boost::json::serialize(v);
}

TEST(TaskData, Rejects) {
  const std::pair<std::string, std::string> bad[] = {
      {"name", ""},
      {"name", R"("")"},
      {"name", R"("etcd m1")"},
      {"name", R"("etcd/m1")"},
      {"name", R"("m\u00e9")"},
      {"name", '"' + std::string(65, 'a') + '"'},
      {"name", "7"},
      {"host", ""},
      {"host", R"("")"},
      {"peer_port", ""},
      {"peer_port", "0"},
      {"peer_port", "65536"},
      {"peer_port", "-1"},
      {"peer_port", "2380.5"},
      {"peer_port", R"("0x950")"},
      {"client_port", ""},
      {"client_port", "99999999999999999999999"},
      {"initial_cluster", ""},
      {"initial_cluster", "[]"},
      {"cluster_state", ""},
      {"cluster_state", R"("old")"},
      {"cluster_token", ""},
      {"cluster_token", "true"},
  };
  for (const auto& [key, value] : bad) {
    const std::string json = with(key, value);
    EXPECT_FALSE(decode_member_task_data(json)) << json;
  }
  EXPECT_TRUE(decode_member_task_data(with("name", '"' + std::string(64, 'a') + '"')));
}

// Issue 13: the compaction and quota settings travel with the task; a task
// of an older scheduler has none and still decodes.
TEST(TaskData, CompactionAndQuotaRoundTripAndAreOptional) {
  MemberTaskData data = sample();
  data.auto_compaction_mode = "periodic";
  data.auto_compaction_retention = "1h30m";
  data.quota_backend_bytes = 268435456;
  auto decoded = decode_member_task_data(encode(data));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(*decoded, data);
  const auto v = boost::json::parse(encode(data));
  EXPECT_EQ(v.at("auto_compaction_mode"), "periodic");
  EXPECT_EQ(v.at("quota_backend_bytes"), 268435456);

  const auto plain = boost::json::parse(encode(sample())).as_object();
  EXPECT_FALSE(plain.contains("auto_compaction_mode"));
  EXPECT_FALSE(plain.contains("quota_backend_bytes"));
  decoded = decode_member_task_data(encode(sample()));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->quota_backend_bytes, 0u);
  EXPECT_TRUE(decoded->auto_compaction_mode.empty());
}

// Issue 13: "tls" says the member serves TLS; absent (older schedulers)
// means plain.
TEST(TaskData, TlsRoundTripsAndIsOffWhenAbsent) {
  MemberTaskData data = sample();
  data.tls = true;
  auto decoded = decode_member_task_data(encode(data));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_TRUE(decoded->tls);
  EXPECT_EQ(boost::json::parse(encode(data)).at("tls"), true);
  EXPECT_FALSE(boost::json::parse(encode(sample())).as_object().contains("tls"));
  decoded = decode_member_task_data(encode(sample()));
  ASSERT_TRUE(decoded);
  EXPECT_FALSE(decoded->tls);
  auto text = boost::json::parse(encode(sample())).as_object();
  text["tls"] = "yes";
  EXPECT_FALSE(decode_member_task_data(boost::json::serialize(text)));
}

TEST(TaskData, CompactionSettingsEtcdWouldRefuseAreRejected) {
  for (const auto& [mode, retention] :
       std::vector<std::pair<std::string, std::string>>{{"periodic", "1"},
                                                        {"periodic", "72"},
                                                        {"periodic", "30m"},
                                                        {"periodic", "1h30m"},
                                                        {"periodic", "500ms"},
                                                        {"revision", "1000"},
                                                        {"revision", "1"},
                                                        {"periodic", "0h5m"}}) {
    EXPECT_FALSE(compaction_setting_error(mode, retention)) << mode << " " << retention;
  }
  for (const auto& [mode, retention] :
       std::vector<std::pair<std::string, std::string>>{{"periodic", ""},
                                                        {"periodic", "0"},
                                                        {"periodic", "h"},
                                                        {"periodic", "1d"},
                                                        {"periodic", "-1h"},
                                                        {"periodic", "1h "},
                                                        {"periodic", "0m"},
                                                        {"revision", "0"},
                                                        {"revision", "1h"},
                                                        {"revision", ""},
                                                        {"revision", "-5"},
                                                        {"hourly", "1"},
                                                        {"", "1"},
                                                        {"Periodic", "1"}}) {
    EXPECT_TRUE(compaction_setting_error(mode, retention)) << mode << " " << retention;
  }
  EXPECT_FALSE(decode_member_task_data(with("auto_compaction_mode", R"("daily")")))
      << "an unknown mode";
  MemberTaskData quota = sample();
  quota.quota_backend_bytes = kMaxQuotaBackendBytes + 1;
  EXPECT_FALSE(decode_member_task_data(encode(quota)));
  EXPECT_FALSE(decode_member_task_data(with("quota_backend_bytes", "-1")));
  EXPECT_FALSE(decode_member_task_data(with("quota_backend_bytes", R"("lots")")));
}

TEST(TaskData, RejectsBrokenJson) {
  for (const std::string bad :
       {"", "{", "[]", "null", "\"x\"", R"({"name":"m1")", "{}x", "{\"name\":\"\xff\"}"}) {
    EXPECT_FALSE(decode_member_task_data(bad)) << bad;
  }
  EXPECT_FALSE(decode_member_task_data(std::string(70 * 1024, ' ') + encode(sample())));
}

TEST(TaskData, RestoreFileRoundTripsAndMustBeAPlainFileName) {
  MemberTaskData data = sample();
  data.restore_file = "etcd-restore.snapshot";
  auto decoded = decode_member_task_data(encode(data));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->restore_file, "etcd-restore.snapshot");
  EXPECT_FALSE(boost::json::parse(encode(sample())).as_object().contains("restore_file"));
  for (const char* bad : {"../etc/passwd", "/abs", "a b", "..", "x/y"}) {
    auto text = boost::json::parse(encode(sample())).as_object();
    text["restore_file"] = bad;
    auto refused = decode_member_task_data(boost::json::serialize(text));
    ASSERT_FALSE(refused) << bad;
    EXPECT_NE(refused.error().message.find("restore_file"), std::string::npos);
  }
}

}  // namespace
}  // namespace etcdmesos
