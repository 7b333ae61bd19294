// etcd 3.4 gateway JSON, using the bodies the real server returned
// (reference etcd-3.4-http-api.md §4-§7).
#include "codec/etcd.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <string>

namespace etcdmesos::etcd {
namespace {

namespace json = boost::json;

const std::string kHeader =
    R"("header":{"cluster_id":"13729396903389203537","member_id":"3938572493145597046","revision":"1","raft_term":"2"})";
const std::string kClusterHeader =
    R"("header":{"cluster_id":"13729396903389203537","member_id":"3938572493145597046","raft_term":"2"})";

TEST(EtcdStatus, ObservedHealthyMember) {
  auto status = decode_status(
      R"({"header":{"cluster_id":"13729396903389203537","member_id":"3938572493145597046","revision":"1","raft_term":"2"},
 "version":"3.4.23","dbSize":"20480","leader":"3938572493145597046","raftIndex":"15",
 "raftTerm":"2","raftAppliedIndex":"15","dbSizeInUse":"16384"})");
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ(status->cluster_id, 13729396903389203537ull);
  EXPECT_EQ(status->member_id, 3938572493145597046ull);
  EXPECT_EQ(status->leader, 3938572493145597046ull);
  EXPECT_EQ(status->raft_index, 15u);
  EXPECT_EQ(status->raft_term, 2u);
  EXPECT_EQ(status->raft_applied_index, 15u);
  EXPECT_EQ(status->db_size, 20480u);
  EXPECT_EQ(status->version, "3.4.23");
  EXPECT_TRUE(status->errors.empty());
  EXPECT_FALSE(status->is_learner);
}

TEST(EtcdStatus, NoLeaderAndLearner) {
  // Quorum lost: `leader` omitted, `errors` set (reference §7, §12).
  auto status = decode_status(
      "{" + kHeader +
      R"(,"version":"3.4.23","dbSize":"20480","raftIndex":"15","raftTerm":"3","raftAppliedIndex":"15","errors":["etcdserver: no leader"],"isLearner":true})");
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ(status->leader, 0u);
  EXPECT_EQ(status->errors, std::vector<std::string>{"etcdserver: no leader"});
  EXPECT_TRUE(status->is_learner);
}

TEST(EtcdStatus, MissingFieldsAreZeroAndNumbersAccepted) {
  auto status = decode_status("{}");
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ(*status, EtcdStatus{});
  status = decode_status(R"({"leader":18446744073709551615,"raftIndex":7})");
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ(status->leader, 18446744073709551615ull);
  EXPECT_EQ(status->raft_index, 7u);
}

// Observed on etcd 3.4.23 with a 1 MiB quota (issue 13).
TEST(EtcdAlarms, ObservedNoSpaceAndNone) {
  auto raised =
      decode_alarms(R"({"alarms":[{"memberID":"11046527456118344142","alarm":"NOSPACE"}]})");
  ASSERT_TRUE(raised) << raised.error().message;
  EXPECT_EQ(*raised, (std::vector<EtcdAlarm>{{11046527456118344142ull, "NOSPACE"}}));
  auto none = decode_alarms("{}");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  auto with_header = decode_alarms(
      R"({"header":{"cluster_id":"1","member_id":"2","raft_term":"3"},"alarms":[{"memberID":"2"}]})");
  ASSERT_TRUE(with_header) << with_header.error().message;
  EXPECT_EQ(with_header->at(0).alarm, "NONE") << "etcd leaves out the zero value";
  EXPECT_FALSE(decode_alarms(R"({"alarms":{}})"));
  EXPECT_FALSE(decode_alarms(R"({"alarms":[{"memberID":"x"}]})"));
  EXPECT_FALSE(decode_alarms("[]"));
  // The status of a member with an alarm carries the store's revision.
  auto status = decode_status(
      R"({"header":{"cluster_id":"1","member_id":"2","revision":"13","raft_term":"2"},"leader":"2","errors":["memberID:2 alarm:NOSPACE "]})");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->revision, 13u);
}

TEST(EtcdAlarms, RequestBodies) {
  EXPECT_EQ(json::parse(encode_alarm_list()), json::parse(R"({"action":"GET"})"));
  EXPECT_EQ(json::parse(encode_alarm_disarm(42, "NOSPACE")),
            json::parse(R"({"action":"DEACTIVATE","memberID":"42","alarm":"NOSPACE"})"));
  EXPECT_EQ(json::parse(encode_compaction(13)),
            json::parse(R"({"revision":"13","physical":true})"));
}

TEST(EtcdMembers, ObservedList) {
  auto members = decode_member_list(
      "{" + kClusterHeader +
      R"(,"members":[{"ID":"3938572493145597046","name":"m1","peerURLs":["http://127.0.0.1:23793"],"clientURLs":["http://127.0.0.1:23792"]},
 {"ID":"15379952193270806941","peerURLs":["http://127.0.0.1:23799"],"isLearner":true}]})");
  ASSERT_TRUE(members) << members.error().message;
  ASSERT_EQ(members->size(), 2u);
  const EtcdMemberInfo& m1 = (*members)[0];
  EXPECT_EQ(m1.id, 3938572493145597046ull);
  EXPECT_EQ(m1.name, "m1");
  EXPECT_EQ(m1.peer_urls, std::vector<std::string>{"http://127.0.0.1:23793"});
  EXPECT_EQ(m1.client_urls, std::vector<std::string>{"http://127.0.0.1:23792"});
  EXPECT_FALSE(m1.is_learner);
  // Added but not started: no name, no client URLs; an ID above 2^63.
  const EtcdMemberInfo& unstarted = (*members)[1];
  EXPECT_EQ(unstarted.id, 15379952193270806941ull);
  EXPECT_TRUE(unstarted.name.empty());
  EXPECT_TRUE(unstarted.client_urls.empty());
  EXPECT_TRUE(unstarted.is_learner);
}

TEST(EtcdMembers, EmptyAndNumericIds) {
  auto members = decode_member_list("{" + kClusterHeader + "}");
  ASSERT_TRUE(members) << members.error().message;
  EXPECT_TRUE(members->empty());
  // etcdctl -w json and the peer /members print IDs as JSON numbers.
  members = decode_member_list(R"({"members":[{"ID":1806082655942060636,"name":"s1"}]})");
  ASSERT_TRUE(members) << members.error().message;
  EXPECT_EQ((*members)[0].id, 1806082655942060636ull);
}

TEST(EtcdMembers, ObservedAdd) {
  auto member = decode_member_add(
      "{" + kClusterHeader +
      R"(,"member":{"ID":"15379952193270806941","peerURLs":["http://127.0.0.1:23799"],"isLearner":true},"members":[{"ID":"3938572493145597046","name":"m1","peerURLs":["http://127.0.0.1:23793"],"clientURLs":["http://127.0.0.1:23792"]},{"ID":"15379952193270806941","peerURLs":["http://127.0.0.1:23799"],"isLearner":true}]})");
  ASSERT_TRUE(member) << member.error().message;
  EXPECT_EQ(member->id, 15379952193270806941ull);
  EXPECT_EQ(member->peer_urls, std::vector<std::string>{"http://127.0.0.1:23799"});
  EXPECT_TRUE(member->is_learner);
  EXPECT_TRUE(member->name.empty());
}

TEST(EtcdMembers, AddWithoutMemberIsAnError) {
  EXPECT_FALSE(decode_member_add("{" + kClusterHeader + R"(,"members":[]})"));
}

TEST(EtcdKv, PutHeader) {
  auto header = decode_put("{" + kHeader + "}");
  ASSERT_TRUE(header) << header.error().message;
  EXPECT_EQ(*header, (EtcdResponseHeader{13729396903389203537ull, 3938572493145597046ull, 1, 2}));
  header = decode_put(
      R"({"header":{"cluster_id":"1","member_id":"2","revision":"10","raft_term":"3"},"prev_kv":{"key":"Zm9v","value":"YmFy"}})");
  ASSERT_TRUE(header) << header.error().message;
  EXPECT_EQ(header->revision, 10u);
}

TEST(EtcdKv, RangeWithValues) {
  auto range = decode_range(
      "{" + kHeader +
      R"(,"kvs":[{"key":"YS8x","create_revision":"2","mod_revision":"3","version":"2","value":"djE=","lease":"4242"},{"key":"YS8y","create_revision":"4","mod_revision":"4","version":"1"}],"more":true,"count":"3"})");
  ASSERT_TRUE(range) << range.error().message;
  EXPECT_EQ(range->header.revision, 1u);
  ASSERT_EQ(range->kvs.size(), 2u);
  EXPECT_EQ(range->kvs[0], (EtcdKeyValue{"a/1", "v1", 2, 3, 2, 4242}));
  EXPECT_EQ(range->kvs[1], (EtcdKeyValue{"a/2", "", 4, 4, 1, 0}));  // empty value omitted
  EXPECT_TRUE(range->more);
  EXPECT_EQ(range->count, 3);
}

TEST(EtcdKv, RangeOfMissingKey) {
  auto range = decode_range("{" + kHeader + "}");
  ASSERT_TRUE(range) << range.error().message;
  EXPECT_TRUE(range->kvs.empty());
  EXPECT_EQ(range->count, 0);
  EXPECT_FALSE(range->more);
}

TEST(EtcdErrors, ObservedBodies) {
  auto error = decode_error(
      R"({"error":"etcdserver: member not found","message":"etcdserver: member not found","code":5})");
  ASSERT_TRUE(error) << error.error().message;
  EXPECT_EQ(*error, (EtcdError{5, "etcdserver: member not found"}));
  error = decode_error(
      R"({"error":"etcdserver: unhealthy cluster","message":"etcdserver: unhealthy cluster","code":14})");
  ASSERT_TRUE(error) << error.error().message;
  EXPECT_EQ(error->code, 14);
  error = decode_error(R"({"error":"context deadline exceeded","code":2})");
  ASSERT_TRUE(error) << error.error().message;
  EXPECT_EQ(*error, (EtcdError{2, "context deadline exceeded"}));
}

TEST(EtcdErrors, BodyWithoutMessageIsNotAnEtcdError) {
  EXPECT_FALSE(decode_error(R"({"code":5})"));
  EXPECT_FALSE(decode_error(R"({"health":"false"})"));
  EXPECT_FALSE(decode_error(R"({"message":"x","code":"five"})"));
  EXPECT_FALSE(decode_error(R"({"message":5})"));
}

TEST(EtcdEncode, Put) {
  const auto v = json::parse(encode_put("foo", "bar"));
  EXPECT_EQ(v, json::parse(R"({"key":"Zm9v","value":"YmFy"})"));
  const auto binary = json::parse(encode_put(std::string("\0\xff", 2), ""));
  EXPECT_EQ(binary.at("key"), "AP8=");
  EXPECT_EQ(binary.at("value"), "");
}

TEST(EtcdEncode, Range) {
  EXPECT_EQ(json::parse(encode_range("a/", "a0")),
            json::parse(R"({"key":"YS8=","range_end":"YTA="})"));
  EXPECT_EQ(json::parse(encode_range("foo")), json::parse(R"({"key":"Zm9v"})"));
  EXPECT_EQ(json::parse(encode_range(std::string(1, '\0'), std::string(1, '\0'))),
            json::parse(R"({"key":"AA==","range_end":"AA=="})"));
}

TEST(EtcdEncode, Members) {
  EXPECT_EQ(json::parse(encode_member_add({"http://127.0.0.1:23799"}, true)),
            json::parse(R"({"peerURLs":["http://127.0.0.1:23799"],"isLearner":true})"));
  EXPECT_EQ(json::parse(encode_member_add({"http://a:1", "http://b:2"}, false)),
            json::parse(R"({"peerURLs":["http://a:1","http://b:2"]})"));
  EXPECT_EQ(json::parse(encode_member_remove(6852193555910097910ull)),
            json::parse(R"({"ID":"6852193555910097910"})"));
  EXPECT_EQ(json::parse(encode_member_promote(18446744073709551615ull)),
            json::parse(R"({"ID":"18446744073709551615"})"));
}

TEST(EtcdEncode, PrefixRangeEnd) {
  EXPECT_EQ(prefix_range_end("a/"), "a0");
  EXPECT_EQ(prefix_range_end("ab"), "ac");
  EXPECT_EQ(prefix_range_end(std::string("a\xff", 2)), "b");
  EXPECT_EQ(prefix_range_end(std::string("\xff\xff", 2)), std::string(1, '\0'));
  EXPECT_EQ(prefix_range_end(""), std::string(1, '\0'));
}

// ------------------------------------------------------------ malformed

struct Case {
  const char* name;
  std::string json;
};

const Case kBroken[] = {
    {"Empty", ""},
    {"Truncated", R"({"header":{"cluster_id":"1")"},
    {"TrailingGarbage", "{}}"},
    {"Array", "[]"},
    {"String", R"("members")"},
    {"Number", "5"},
    {"Null", "null"},
    {"HtmlErrorPage", "<html>404 page not found</html>"},
    {"PlainText", "404 page not found\n"},
    {"HeaderNotObject", R"({"header":"x","message":"m"})"},
    {"HeaderHexRevision", R"({"header":{"revision":"0x10"},"message":"m"})"},
    {"HeaderHexId", R"({"header":{"member_id":"36a89ed0a8116476"},"message":"m"})"},
    {"HeaderNegative", R"({"header":{"raft_term":"-1"},"message":"m"})"},
    {"HeaderHuge", R"({"header":{"cluster_id":"18446744073709551616"},"message":"m"})"},
    {"HeaderHugeNumber", R"({"header":{"cluster_id":18446744073709551616},"message":"m"})"},
    {"HeaderFraction", R"({"header":{"revision":1.5},"message":"m"})"},
    {"HeaderBool", R"({"header":{"revision":true},"message":"m"})"},
    {"HeaderEmptyString", R"({"header":{"revision":""},"message":"m"})"},
    {"HeaderSpaces", R"({"header":{"revision":" 1"},"message":"m"})"},
};

class EtcdBroken : public testing::TestWithParam<Case> {};

TEST_P(EtcdBroken, EveryDecoderFails) {
  const std::string& body = GetParam().json;
  EXPECT_FALSE(decode_member_list(body));
  EXPECT_FALSE(decode_member_add(body));
  EXPECT_FALSE(decode_status(body));
  EXPECT_FALSE(decode_put(body));
  EXPECT_FALSE(decode_range(body));
  if (std::string_view(GetParam().name).starts_with("Header")) {
    return;  // decode_error does not look at headers
  }
  EXPECT_FALSE(decode_error(body));
}

INSTANTIATE_TEST_SUITE_P(All, EtcdBroken, testing::ValuesIn(kBroken),
                         [](const testing::TestParamInfo<Case>& param_info) {
                           return std::string(param_info.param.name);
                         });

TEST(EtcdMalformed, Members) {
  for (const char* body : {
           R"({"members":{}})",
           R"({"members":[5]})",
           R"({"members":[{"ID":"abc"}]})",
           R"({"members":[{"ID":"-5"}]})",
           R"({"members":[{"ID":"99999999999999999999"}]})",
           R"({"members":[{"ID":"1","peerURLs":"http://a:1"}]})",
           R"({"members":[{"ID":"1","clientURLs":[1]}]})",
           R"({"members":[{"ID":"1","name":["m1"]}]})",
           R"({"members":[{"ID":"1","isLearner":"true"}]})",
       }) {
    EXPECT_FALSE(decode_member_list(body)) << body;
    EXPECT_FALSE(decode_member_add(std::string(body).insert(1, R"("member":{},)"))) << body;
  }
  EXPECT_FALSE(decode_member_add(R"({"member":[]})"));
  EXPECT_FALSE(decode_member_add(R"({"member":{"ID":"x"}})"));
}

TEST(EtcdMalformed, Status) {
  for (const char* body : {
           R"({"leader":"ff"})",
           R"({"raftIndex":-1})",
           R"({"raftTerm":"1e3"})",
           R"({"dbSize":{}})",
           R"({"version":3.4})",
           R"({"errors":"etcdserver: no leader"})",
           R"({"errors":[null]})",
           R"({"isLearner":1})",
       }) {
    EXPECT_FALSE(decode_status(body)) << body;
  }
}

TEST(EtcdMalformed, Range) {
  for (const char* body : {
           R"({"kvs":{}})",
           R"({"kvs":["YQ=="]})",
           R"({"kvs":[{"key":"!!!"}]})",
           R"({"kvs":[{"key":"YQ==","value":"a"}]})",
           R"({"kvs":[{"key":"YQ==","value":5}]})",
           R"({"kvs":[{"key":"YQ==","version":"x"}]})",
           R"({"kvs":[{"key":"YQ==","mod_revision":"9223372036854775808"}]})",
           R"({"count":"three"})",
           R"({"more":"true"})",
       }) {
    EXPECT_FALSE(decode_range(body)) << body;
  }
}

TEST(EtcdMalformed, OversizedBody) {
  std::string big = R"({"members":[],"pad":")" + std::string(kMaxResponseBytes, 'x') + "\"}";
  auto members = decode_member_list(big);
  ASSERT_FALSE(members);
  EXPECT_NE(members.error().message.find("limit"), std::string::npos);
}

}  // namespace
}  // namespace etcdmesos::etcd
