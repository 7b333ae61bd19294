// Records kept in ZooKeeper: round trips, and garbage that must be an Error
// naming the problem, never an exception.
#include "codec/persisted_state.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <string>

namespace etcdmesos::persisted {
namespace {

TaskRecord sample_task() {
  TaskRecord t;
  t.task_id = "etcd-3-0a1b2c3d";
  t.agent_id = "a9e1-S3";
  t.name = "etcd-3";
  t.host = "10.0.0.5";
  t.peer_port = 31002;
  t.client_port = 31001;
  t.etcd_id = 0xfedcba9876543210ULL;  // above 2^53: must survive as a string
  t.sequence = 42;
  return t;
}

// The sample task with `key` replaced by the JSON `raw_value`, or removed when
// raw_value is empty.
std::string task_with(const std::string& key, const std::string& raw_value) {
  auto v = boost::json::parse(encode(sample_task())).as_object();
  if (raw_value.empty()) {
    v.erase(key);
  } else {
    v[key] = boost::json::parse(raw_value);
  }
  return boost::json::serialize(v);
}

TEST(PersistedState, TaskRecordRoundTrip) {
  auto decoded = decode_task_record(encode(sample_task()));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(*decoded, sample_task());

  TaskRecord no_id = sample_task();
  no_id.etcd_id.reset();
  no_id.sequence = 0;
  decoded = decode_task_record(encode(no_id));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(*decoded, no_id);
}

TEST(PersistedState, FrameworkIdRecordRoundTrip) {
  FrameworkIdRecord record{"5f1c-0000-0001", 7};
  auto decoded = decode_framework_id_record(encode(record));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(*decoded, record);
}

TEST(PersistedState, SettingsRecordRoundTripAndOnlyOddSizesUpToNine) {
  SettingsRecord record{5, 9};
  auto decoded = decode_settings_record(encode(record));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(*decoded, record);
  for (const char* bad :
       {R"({"format":1,"cluster_size":4,"sequence":1})",
        R"({"format":1,"cluster_size":0,"sequence":1})",
        R"({"format":1,"cluster_size":11,"sequence":1})",
        R"({"format":1,"cluster_size":-3,"sequence":1})", R"({"format":1,"sequence":1})",
        R"({"format":2,"cluster_size":3,"sequence":1})",
        R"({"format":1,"cluster_size":"x","sequence":1})", "3", ""}) {
    auto r = decode_settings_record(bad);
    EXPECT_FALSE(r) << bad;
  }
  auto even = decode_settings_record(R"({"format":1,"cluster_size":4,"sequence":1})");
  ASSERT_FALSE(even);
  EXPECT_NE(even.error().message.find("cluster_size"), std::string::npos) << even.error().message;
}

TEST(PersistedState, WritesFormatAndEtcdIdAsDecimalString) {
  const auto v = boost::json::parse(encode(sample_task()));
  EXPECT_EQ(v.at("format"), 1);
  EXPECT_EQ(v.at("etcd_id"), "18364758544493064720");
  EXPECT_EQ(v.at("sequence"), 42);
  TaskRecord no_id = sample_task();
  no_id.etcd_id.reset();
  EXPECT_FALSE(boost::json::parse(encode(no_id)).as_object().contains("etcd_id"));
}

// A record written before the launch says so; one of a running member (and
// every record of earlier versions) has no "launching" key.
TEST(PersistedState, LaunchingIsWrittenOnlyWhenTrueAndReadBack) {
  TaskRecord launching = sample_task();
  launching.launching = true;
  EXPECT_EQ(boost::json::parse(encode(launching)).at("launching"), true);
  auto decoded = decode_task_record(encode(launching));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(*decoded, launching);

  EXPECT_FALSE(boost::json::parse(encode(sample_task())).as_object().contains("launching"));
  decoded = decode_task_record(task_with("launching", ""));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_FALSE(decoded->launching);
  EXPECT_FALSE(decode_task_record(task_with("launching", R"("yes")")));
}

// A launch into an existing cluster says so (issue 9: it may hold the data
// before it runs); absent (earlier versions, bootstraps) reads as false.
TEST(PersistedState, JoinsIsWrittenOnlyWhenTrueAndReadBack) {
  TaskRecord joins = sample_task();
  joins.launching = true;
  joins.joins = true;
  EXPECT_EQ(boost::json::parse(encode(joins)).at("joins"), true);
  auto decoded = decode_task_record(encode(joins));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(*decoded, joins);
  EXPECT_FALSE(boost::json::parse(encode(sample_task())).as_object().contains("joins"));
  decoded = decode_task_record(task_with("joins", ""));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_FALSE(decoded->joins);
  EXPECT_FALSE(decode_task_record(task_with("joins", R"("yes")")));
}

TEST(PersistedState, IgnoresUnknownKeysAndAcceptsNumbersAsStrings) {
  auto decoded = decode_task_record(task_with("added_later", R"({"x":[1]})"));
  ASSERT_TRUE(decoded) << decoded.error().message;
  decoded = decode_task_record(task_with("peer_port", R"("31002")"));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->peer_port, 31002u);
  decoded = decode_task_record(task_with("etcd_id", "12"));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->etcd_id, 12u);
}

TEST(PersistedState, RejectsAnotherFormat) {
  auto decoded = decode_task_record(task_with("format", "2"));
  ASSERT_FALSE(decoded);
  EXPECT_NE(decoded.error().message.find("format 2 is not supported"), std::string::npos)
      << decoded.error().message;
  EXPECT_FALSE(decode_task_record(task_with("format", "")));
  EXPECT_FALSE(decode_framework_id_record(R"({"framework_id":"f","sequence":1})"));
}

TEST(PersistedState, EveryBadFieldIsNamedInTheError) {
  struct Case {
    const char* key;
    const char* raw;  // "" = missing
  };
  for (Case c : {Case{"task_id", ""}, Case{"task_id", R"("")"}, Case{"task_id", R"("a/b")"},
                 Case{"task_id", R"("..")"}, Case{"task_id", R"("a b")"}, Case{"task_id", "7"},
                 Case{"agent_id", ""}, Case{"agent_id", R"("")"}, Case{"name", R"("bad name")"},
                 Case{"name", ""}, Case{"host", R"("")"}, Case{"peer_port", "0"},
                 Case{"client_port", "65536"}, Case{"client_port", R"("x")"}, Case{"etcd_id", "-1"},
                 Case{"etcd_id", R"("0x10")"}, Case{"sequence", ""}, Case{"sequence", "1.5"}}) {
    auto decoded = decode_task_record(task_with(c.key, c.raw));
    ASSERT_FALSE(decoded) << c.key << "=" << c.raw;
    EXPECT_NE(decoded.error().message.find(c.key), std::string::npos)
        << c.key << ": " << decoded.error().message;
    EXPECT_NE(decoded.error().message.find("task record"), std::string::npos);
  }
}

TEST(PersistedState, GarbageIsAnErrorNotACrash) {
  const std::string big(kMaxRecordBytes + 1, ' ');
  for (std::string garbage :
       {std::string(), std::string("not json"), std::string("[1,2]"), std::string("null"),
        std::string("{\"format\":1"), std::string("\0\xff\xfe", 3),
        std::string("5f1c-0000-0001"),  // a bare framework id, as other tools store it
        big}) {
    auto task = decode_task_record(garbage);
    EXPECT_FALSE(task);
    if (!task) {
      EXPECT_FALSE(task.error().message.empty());
    }
    auto framework = decode_framework_id_record(garbage);
    EXPECT_FALSE(framework);
  }
}

TEST(PersistedState, EveryTruncationOfAGoodRecordFailsCleanly) {
  const std::string good = encode(sample_task());
  for (std::size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(decode_task_record(good.substr(0, n))) << n;
  }
}

TEST(PersistedState, NodeNames) {
  EXPECT_TRUE(valid_node_name("etcd-3-0a1b2c3d"));
  EXPECT_TRUE(valid_node_name("A.b_c:9"));
  EXPECT_TRUE(valid_node_name(std::string(255, 'x')));
  for (std::string bad :
       {std::string(), std::string("."), std::string(".."), std::string("a/b"), std::string("a b"),
        std::string("tab\t"), std::string("\x7f"), std::string("caf\xc3\xa9"),
        std::string("a\0b", 3), std::string(256, 'x')}) {
    EXPECT_FALSE(valid_node_name(bad)) << bad;
  }
}

}  // namespace
}  // namespace etcdmesos::persisted
