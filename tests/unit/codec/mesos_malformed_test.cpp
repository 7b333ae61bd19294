// Bad input to every Mesos decoder is an Error value: never an exception,
// never a crash.
#include "codec/mesos.hpp"

#include <gtest/gtest.h>

#include <string>

namespace etcdmesos::mesos {
namespace {

struct Case {
  const char* name;
  std::string json;
};

std::string name_of(const testing::TestParamInfo<Case>& param_info) {
  return param_info.param.name;
}

// Syntactically broken or non-object inputs, fed to every decoder.
const Case kBroken[] = {
    {"Empty", ""},
    {"Truncated", R"({"type":"HEARTBEAT")"},
    {"TruncatedString", R"({"type":"HEART)"},
    {"TrailingGarbage", R"({"type":"HEARTBEAT"}x)"},
    {"TwoDocuments", R"({"type":"HEARTBEAT"}{})"},
    {"Array", R"([{"type":"HEARTBEAT"}])"},
    {"String", R"("HEARTBEAT")"},
    {"Number", "42"},
    {"Null", "null"},
    {"InvalidUtf8", "{\"type\":\"\xff\xfe\"}"},
    {"DeepNesting", std::string(100, '[') + std::string(100, ']')},
    {"DeepObjects",
     [] {
       std::string s;
       for (int i = 0; i < 100; ++i)
         s += R"({"a":)";
       s += "1";
       s += std::string(100, '}');
       return s;
     }()},
};

class MesosBroken : public testing::TestWithParam<Case> {};

TEST_P(MesosBroken, EveryDecoderFails) {
  const std::string& json = GetParam().json;
  EXPECT_FALSE(decode_call(json));
  EXPECT_FALSE(decode_event(json));
  EXPECT_FALSE(decode_executor_call(json));
  EXPECT_FALSE(decode_executor_event(json));
  EXPECT_FALSE(decode_master_info(json));
  EXPECT_FALSE(decode_task_info(json));
}

INSTANTIATE_TEST_SUITE_P(All, MesosBroken, testing::ValuesIn(kBroken), name_of);

TEST(MesosMalformed, OversizedInputRejectedBeforeParsing) {
  std::string big = R"({"type":"HEARTBEAT","pad":")";
  big += std::string(kMaxMessageBytes, 'x');
  big += "\"}";
  auto event = decode_event(big);
  ASSERT_FALSE(event);
  EXPECT_NE(event.error().message.find("limit"), std::string::npos);
  EXPECT_FALSE(decode_call(big));
  EXPECT_FALSE(decode_executor_event(big));
}

// -------------------------------------------------------- scheduler calls

class MesosBadCall : public testing::TestWithParam<Case> {};

TEST_P(MesosBadCall, Rejected) {
  auto call = decode_call(GetParam().json);
  ASSERT_FALSE(call) << encode(*call);
  EXPECT_FALSE(call.error().message.empty());
}

INSTANTIATE_TEST_SUITE_P(
    All, MesosBadCall,
    testing::Values(
        Case{"MissingType", R"({"framework_id":{"value":"F"}})"},
        Case{"TypeNotString", R"({"type":1})"},
        Case{"UnknownType", R"({"type":"UNKNOWN","framework_id":{"value":"F"}})"},
        Case{"LowercaseType", R"({"type":"teardown"})"},
        Case{"AcceptWithoutPayload", R"({"type":"ACCEPT","framework_id":{"value":"F"}})"},
        Case{"ReconcileWithoutPayload", R"({"type":"RECONCILE","framework_id":{"value":"F"}})"},
        Case{"ReconcileNullPayload", R"({"type":"RECONCILE","reconcile":null})"},
        Case{"SubscribeWithoutPayload", R"({"type":"SUBSCRIBE"})"},
        Case{"DeclineWithoutPayload", R"({"type":"DECLINE"})"},
        Case{"KillWithoutPayload", R"({"type":"KILL"})"},
        Case{"ShutdownWithoutPayload", R"({"type":"SHUTDOWN"})"},
        Case{"AcknowledgeWithoutPayload", R"({"type":"ACKNOWLEDGE"})"},
        Case{"MessageWithoutPayload", R"({"type":"MESSAGE"})"},
        Case{"SubscribeWithoutUser",
             R"({"type":"SUBSCRIBE","subscribe":{"framework_info":{"name":"n"}}})"},
        Case{"SubscribeWithoutFrameworkInfo", R"({"type":"SUBSCRIBE","subscribe":{}})"},
        Case{"FrameworkIdNotObject", R"({"type":"TEARDOWN","framework_id":"F"})"},
        Case{"FrameworkIdWithoutValue", R"({"type":"TEARDOWN","framework_id":{}})"},
        Case{"FrameworkIdValueNumber", R"({"type":"TEARDOWN","framework_id":{"value":7}})"},
        Case{"AcceptPayloadArray", R"({"type":"ACCEPT","accept":[]})"},
        Case{"OfferIdsNotArray", R"({"type":"DECLINE","decline":{"offer_ids":{"value":"O"}}})"},
        Case{"OfferIdElementString", R"({"type":"DECLINE","decline":{"offer_ids":["O"]}})"},
        Case{"RefuseSecondsBool",
             R"({"type":"DECLINE","decline":{"offer_ids":[],"filters":{"refuse_seconds":true}}})"},
        Case{
            "RefuseSecondsText",
            R"({"type":"DECLINE","decline":{"offer_ids":[],"filters":{"refuse_seconds":"soon"}}})"},
        Case{"LaunchWithoutLaunch",
             R"({"type":"ACCEPT","accept":{"offer_ids":[],"operations":[{"type":"LAUNCH"}]}})"},
        Case{"OperationWithoutType",
             R"({"type":"ACCEPT","accept":{"offer_ids":[],"operations":[{}]}})"},
        Case{
            "TaskWithoutTaskId",
            R"({"type":"ACCEPT","accept":{"offer_ids":[],"operations":[{"type":"LAUNCH","launch":{"task_infos":[{"name":"n","agent_id":{"value":"a"}}]}}]}})"},
        Case{
            "ResourceWithoutType",
            R"({"type":"ACCEPT","accept":{"offer_ids":[],"operations":[{"type":"LAUNCH","launch":{"task_infos":[{"name":"n","task_id":{"value":"t"},"agent_id":{"value":"a"},"resources":[{"name":"cpus","scalar":{"value":1}}]}]}}]}})"},
        Case{
            "ScalarWithoutValue",
            R"({"type":"ACCEPT","accept":{"offer_ids":[],"operations":[{"type":"LAUNCH","launch":{"task_infos":[{"name":"n","task_id":{"value":"t"},"agent_id":{"value":"a"},"resources":[{"name":"cpus","type":"SCALAR"}]}]}}]}})"},
        Case{
            "BadTaskDataBase64",
            R"({"type":"ACCEPT","accept":{"offer_ids":[],"operations":[{"type":"LAUNCH","launch":{"task_infos":[{"name":"n","task_id":{"value":"t"},"agent_id":{"value":"a"},"data":"!!!!"}]}}]}})"},
        Case{
            "KillGraceNotInteger",
            R"({"type":"KILL","kill":{"task_id":{"value":"t"},"kill_policy":{"grace_period":{"nanoseconds":1.5}}}})"},
        Case{
            "KillGraceMissingNanos",
            R"({"type":"KILL","kill":{"task_id":{"value":"t"},"kill_policy":{"grace_period":{}}}})"},
        Case{"ReconcileTasksNotArray", R"({"type":"RECONCILE","reconcile":{"tasks":{}}})"},
        Case{"ReconcileTaskWithoutId", R"({"type":"RECONCILE","reconcile":{"tasks":[{}]}})"},
        Case{
            "AcknowledgeUuidText",
            R"({"type":"ACKNOWLEDGE","acknowledge":{"agent_id":{"value":"a"},"task_id":{"value":"t"},"uuid":"NmYxZTljOWUtMmQ0Yi00YzFhLTlhNDMtN2U1YjBkOGYyYTEx"}})"},
        Case{
            "AcknowledgeBadBase64",
            R"({"type":"ACKNOWLEDGE","acknowledge":{"agent_id":{"value":"a"},"task_id":{"value":"t"},"uuid":"bx6cni1L*BqaQ35bDY8qEQ=="}})"},
        Case{
            "AcknowledgeWithoutUuid",
            R"({"type":"ACKNOWLEDGE","acknowledge":{"agent_id":{"value":"a"},"task_id":{"value":"t"}}})"},
        Case{
            "MessageWithoutData",
            R"({"type":"MESSAGE","message":{"agent_id":{"value":"a"},"executor_id":{"value":"e"}}})"},
        Case{"ReviveRolesNotArray", R"({"type":"REVIVE","revive":{"roles":"etcd"}})"},
        Case{"SuppressRoleNumber", R"({"type":"SUPPRESS","suppress":{"roles":[1]}})"},
        Case{
            "FailoverTimeoutObject",
            R"({"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n","failover_timeout":{}}}})"},
        Case{
            "CheckpointString",
            R"({"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n","checkpoint":"true"}}})"}),
    name_of);

TEST(MesosCall, NonSubscribeWithoutFrameworkIdAccepted) {
  // The master itself reports the missing framework_id (reference §3).
  auto call = decode_call(R"({"type":"RECONCILE","reconcile":{}})");
  ASSERT_TRUE(call) << call.error().message;
  EXPECT_FALSE(call->framework_id.has_value());
  ASSERT_TRUE(std::holds_alternative<CallReconcile>(call->payload));
  EXPECT_TRUE(std::get<CallReconcile>(call->payload).tasks.empty());
}

TEST(MesosCall, ErrorNamesTheField) {
  auto call = decode_call(
      R"({"type":"KILL","kill":{"task_id":{"value":"t"},"kill_policy":{"grace_period":{"nanoseconds":"x"}}}})");
  ASSERT_FALSE(call);
  EXPECT_NE(call.error().message.find("kill.kill_policy.grace_period.nanoseconds"),
            std::string::npos)
      << call.error().message;
}

// ------------------------------------------------------ scheduler events

class MesosBadEvent : public testing::TestWithParam<Case> {};

TEST_P(MesosBadEvent, Rejected) {
  auto event = decode_event(GetParam().json);
  ASSERT_FALSE(event) << encode(*event);
  EXPECT_FALSE(event.error().message.empty());
}

INSTANTIATE_TEST_SUITE_P(
    All, MesosBadEvent,
    testing::Values(
        Case{"MissingType", R"({"subscribed":{}})"}, Case{"TypeNull", R"({"type":null})"},
        Case{"SubscribedWithoutPayload", R"({"type":"SUBSCRIBED"})"},
        Case{"SubscribedWithoutFrameworkId", R"({"type":"SUBSCRIBED","subscribed":{}})"},
        Case{
            "HeartbeatIntervalText",
            R"({"type":"SUBSCRIBED","subscribed":{"framework_id":{"value":"F"},"heartbeat_interval_seconds":"fifteen"}})"},
        Case{
            "MasterInfoWithoutIp",
            R"({"type":"SUBSCRIBED","subscribed":{"framework_id":{"value":"F"},"master_info":{"id":"m","port":5050}}})"},
        Case{
            "MasterIpTooLarge",
            R"({"type":"SUBSCRIBED","subscribed":{"framework_id":{"value":"F"},"master_info":{"id":"m","ip":4294967296,"port":5050}}})"},
        Case{"OffersWithoutPayload", R"({"type":"OFFERS"})"},
        Case{"OffersNotArray", R"({"type":"OFFERS","offers":{"offers":{}}})"},
        Case{
            "OfferWithoutHostname",
            R"({"type":"OFFERS","offers":{"offers":[{"id":{"value":"o"},"framework_id":{"value":"f"},"agent_id":{"value":"a"}}]}})"},
        Case{
            "OfferUrlWithoutAddress",
            R"({"type":"OFFERS","offers":{"offers":[{"id":{"value":"o"},"framework_id":{"value":"f"},"agent_id":{"value":"a"},"hostname":"h","url":{"scheme":"http"}}]}})"},
        Case{
            "RangeBeginNegative",
            R"({"type":"OFFERS","offers":{"offers":[{"id":{"value":"o"},"framework_id":{"value":"f"},"agent_id":{"value":"a"},"hostname":"h","resources":[{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":-1,"end":5}]}}]}]}})"},
        Case{
            "RangeEndHuge",
            R"({"type":"OFFERS","offers":{"offers":[{"id":{"value":"o"},"framework_id":{"value":"f"},"agent_id":{"value":"a"},"hostname":"h","resources":[{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":1,"end":184467440737095516160}]}}]}]}})"},
        Case{
            "RangeHexString",
            R"({"type":"OFFERS","offers":{"offers":[{"id":{"value":"o"},"framework_id":{"value":"f"},"agent_id":{"value":"a"},"hostname":"h","resources":[{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":"0x10","end":5}]}}]}]}})"},
        Case{
            "RangesWithoutRanges",
            R"({"type":"OFFERS","offers":{"offers":[{"id":{"value":"o"},"framework_id":{"value":"f"},"agent_id":{"value":"a"},"hostname":"h","resources":[{"name":"ports","type":"RANGES"}]}]}})"},
        Case{"RescindWithoutOfferId", R"({"type":"RESCIND","rescind":{}})"},
        Case{"UpdateWithoutStatus", R"({"type":"UPDATE","update":{}})"},
        Case{
            "UpdateUnknownState",
            R"({"type":"UPDATE","update":{"status":{"task_id":{"value":"t"},"state":"TASK_SLEEPING"}}})"},
        Case{"UpdateWithoutState",
             R"({"type":"UPDATE","update":{"status":{"task_id":{"value":"t"}}}})"},
        Case{
            "UpdateBadUuid",
            R"({"type":"UPDATE","update":{"status":{"task_id":{"value":"t"},"state":"TASK_RUNNING","uuid":"a"}}})"},
        Case{
            "UpdateHealthyString",
            R"({"type":"UPDATE","update":{"status":{"task_id":{"value":"t"},"state":"TASK_RUNNING","healthy":"yes"}}})"},
        Case{
            "UpdateLabelsNotWrapped",
            R"({"type":"UPDATE","update":{"status":{"task_id":{"value":"t"},"state":"TASK_RUNNING","labels":[{"key":"k"}]}}})"},
        Case{
            "UpdateIpNotString",
            R"({"type":"UPDATE","update":{"status":{"task_id":{"value":"t"},"state":"TASK_RUNNING","container_status":{"network_infos":[{"ip_addresses":[{"ip_address":7}]}]}}}})"},
        Case{
            "MessageWithoutData",
            R"({"type":"MESSAGE","message":{"agent_id":{"value":"a"},"executor_id":{"value":"e"}}})"},
        Case{"FailureStatusTooLarge",
             R"({"type":"FAILURE","failure":{"agent_id":{"value":"a"},"status":4294967296}})"},
        Case{"ErrorWithoutMessage", R"({"type":"ERROR","error":{}})"},
        Case{"ErrorTopLevelMessage", R"({"type":"ERROR","message":"doc pitfall"})"}),
    name_of);

// --------------------------------------------------------------- executor

class MesosBadExecutorCall : public testing::TestWithParam<Case> {};

TEST_P(MesosBadExecutorCall, Rejected) {
  auto call = decode_executor_call(GetParam().json);
  ASSERT_FALSE(call) << encode(*call);
}

INSTANTIATE_TEST_SUITE_P(
    All, MesosBadExecutorCall,
    testing::Values(
        Case{"MissingExecutorId", R"({"type":"HEARTBEAT","framework_id":{"value":"F"}})"},
        Case{"MissingFrameworkId", R"({"type":"HEARTBEAT","executor_id":{"value":"e"}})"},
        Case{"UnknownType",
             R"({"type":"LAUNCH","executor_id":{"value":"e"},"framework_id":{"value":"F"}})"},
        Case{"SubscribeWithoutPayload",
             R"({"type":"SUBSCRIBE","executor_id":{"value":"e"},"framework_id":{"value":"F"}})"},
        Case{"UpdateWithoutPayload",
             R"({"type":"UPDATE","executor_id":{"value":"e"},"framework_id":{"value":"F"}})"},
        Case{
            "UpdateWithoutUuid",
            R"({"type":"UPDATE","executor_id":{"value":"e"},"framework_id":{"value":"F"},"update":{"status":{"task_id":{"value":"t"},"state":"TASK_RUNNING"}}})"},
        Case{
            "UpdateUuidOfText",
            R"({"type":"UPDATE","executor_id":{"value":"e"},"framework_id":{"value":"F"},"update":{"status":{"task_id":{"value":"t"},"state":"TASK_RUNNING","uuid":"NmYxZTljOWUtMmQ0Yi00YzFhLTlhNDMtN2U1YjBkOGYyYTEx"}}})"},
        Case{
            "UpdateUuid15Bytes",
            R"({"type":"UPDATE","executor_id":{"value":"e"},"framework_id":{"value":"F"},"update":{"status":{"task_id":{"value":"t"},"state":"TASK_RUNNING","uuid":"bx6cni1LTBqaQ35bDY8q"}}})"},
        Case{
            "UpdateUuidBadBase64",
            R"({"type":"UPDATE","executor_id":{"value":"e"},"framework_id":{"value":"F"},"update":{"status":{"task_id":{"value":"t"},"state":"TASK_RUNNING","uuid":"bx6cni1LTBqaQ35bDY8qE$=="}}})"},
        Case{
            "MessageWithoutData",
            R"({"type":"MESSAGE","executor_id":{"value":"e"},"framework_id":{"value":"F"},"message":{}})"},
        Case{
            "UnackedUpdatesNotWrapped",
            R"({"type":"SUBSCRIBE","executor_id":{"value":"e"},"framework_id":{"value":"F"},"subscribe":{"unacknowledged_updates":[{"task_id":{"value":"t"},"state":"TASK_RUNNING"}]}})"}),
    name_of);

class MesosBadExecutorEvent : public testing::TestWithParam<Case> {};

TEST_P(MesosBadExecutorEvent, Rejected) {
  auto event = decode_executor_event(GetParam().json);
  ASSERT_FALSE(event) << encode(*event);
}

INSTANTIATE_TEST_SUITE_P(
    All, MesosBadExecutorEvent,
    testing::Values(
        Case{"MissingType", R"({})"},
        Case{
            "SubscribedWithoutAgentInfo",
            R"({"type":"SUBSCRIBED","subscribed":{"executor_info":{"executor_id":{"value":"e"}},"framework_info":{"user":"u","name":"n"}}})"},
        Case{
            "AgentInfoWithoutHostname",
            R"({"type":"SUBSCRIBED","subscribed":{"executor_info":{"executor_id":{"value":"e"}},"framework_info":{"user":"u","name":"n"},"agent_info":{"port":5051}}})"},
        Case{
            "AgentPortNegative",
            R"({"type":"SUBSCRIBED","subscribed":{"executor_info":{"executor_id":{"value":"e"}},"framework_info":{"user":"u","name":"n"},"agent_info":{"hostname":"h","port":-1}}})"},
        Case{"LaunchWithoutTask", R"({"type":"LAUNCH","launch":{}})"},
        Case{
            "LaunchTaskWithoutName",
            R"({"type":"LAUNCH","launch":{"task":{"task_id":{"value":"t"},"agent_id":{"value":"a"}}}})"},
        Case{"KillWithoutTaskId", R"({"type":"KILL","kill":{}})"},
        Case{"AcknowledgedWithoutUuid",
             R"({"type":"ACKNOWLEDGED","acknowledged":{"task_id":{"value":"t"}}})"},
        Case{"MessageBadBase64", R"({"type":"MESSAGE","message":{"data":"a"}})"},
        Case{"ErrorMessageNumber", R"({"type":"ERROR","error":{"message":5}})"}),
    name_of);

TEST(MesosMalformed, MasterInfoRequiresIdIpPort) {
  EXPECT_FALSE(decode_master_info(R"({"ip":1,"port":5050})"));
  EXPECT_FALSE(decode_master_info(R"({"id":"m","port":5050})"));
  EXPECT_FALSE(decode_master_info(R"({"id":"m","ip":1})"));
  EXPECT_FALSE(decode_master_info(R"({"id":"m","ip":1,"port":5050,"address":{"ip":"x"}})"));
  EXPECT_TRUE(decode_master_info(R"({"id":"m","ip":"1","port":"5050"})"));
}

TEST(MesosMalformed, TaskInfoRequiresVisibilityInDiscovery) {
  EXPECT_FALSE(decode_task_info(
      R"({"name":"n","task_id":{"value":"t"},"agent_id":{"value":"a"},"discovery":{"name":"x"}})"));
}

}  // namespace
}  // namespace etcdmesos::mesos
