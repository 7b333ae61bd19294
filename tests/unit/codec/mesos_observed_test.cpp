// Decoding the exact bytes a real Mesos 1.12.0 sent (reference §19). The
// reference elides a few repeated parts with "…"; they are filled in here
// with the shapes it names ("as in the ZK node", "cpus 2.0, mem 2048.0,
// disk 1024.0 alike").
#include "codec/mesos.hpp"

#include <gtest/gtest.h>

#include <string>

namespace etcdmesos::mesos {
namespace {

constexpr const char* kMasterId = "726721b8-6553-4280-b7cb-030ab89405ac";

std::string with_ids(std::string text) {
  const std::string token = "$M";
  for (auto pos = text.find(token); pos != std::string::npos; pos = text.find(token, pos)) {
    text.replace(pos, token.size(), kMasterId);
  }
  return text;
}

const std::string kZkNode = with_ids(
    R"js({"address":{"hostname":"127.0.0.1","ip":"127.0.0.1","port":15050},"capabilities":[{"type":"AGENT_UPDATE"},{"type":"AGENT_DRAINING"},{"type":"QUOTA_V2"}],"hostname":"127.0.0.1","id":"$M","ip":16777343,"pid":"master@127.0.0.1:15050","port":15050,"version":"1.12.0"})js");

void expect_observed_master(const MasterInfo& info) {
  EXPECT_EQ(info.id, kMasterId);
  EXPECT_EQ(info.ip, 16777343u);
  EXPECT_EQ(info.port, 15050u);
  EXPECT_EQ(info.pid, "master@127.0.0.1:15050");
  EXPECT_EQ(info.hostname, "127.0.0.1");
  EXPECT_EQ(info.version, "1.12.0");
  ASSERT_TRUE(info.address.has_value());
  EXPECT_EQ(info.address->hostname, "127.0.0.1");
  EXPECT_EQ(info.address->ip, "127.0.0.1");
  EXPECT_EQ(info.address->port, 15050u);
  EXPECT_EQ(info.capabilities,
            (std::vector<std::string>{"AGENT_UPDATE", "AGENT_DRAINING", "QUOTA_V2"}));
}

TEST(MesosObserved, ZooKeeperMasterInfoNode) {
  EXPECT_EQ(kZkNode.size(), 297u);  // as stated in the reference
  auto info = decode_master_info(kZkNode);
  ASSERT_TRUE(info) << info.error().message;
  expect_observed_master(*info);
}

TEST(MesosObserved, Subscribed) {
  const std::string bytes = with_ids(
      R"js({"type":"SUBSCRIBED","subscribed":{"framework_id":{"value":"$M-0000"},"heartbeat_interval_seconds":15.0,"master_info":{"id":"$M","ip":16777343,"port":15050,"pid":"master@127.0.0.1:15050","hostname":"127.0.0.1","version":"1.12.0","address":{"hostname":"127.0.0.1","ip":"127.0.0.1","port":15050},"capabilities":[{"type":"AGENT_UPDATE"},{"type":"AGENT_DRAINING"},{"type":"QUOTA_V2"}]}}})js");
  EXPECT_EQ(bytes.size(), 451u);  // the RecordIO length the master sent
  auto event = decode_event(bytes);
  ASSERT_TRUE(event) << event.error().message;
  EXPECT_EQ(type_name(*event), "SUBSCRIBED");
  ASSERT_TRUE(std::holds_alternative<EventSubscribed>(*event));
  const auto& subscribed = std::get<EventSubscribed>(*event);
  EXPECT_EQ(subscribed.framework_id, std::string(kMasterId) + "-0000");
  EXPECT_EQ(subscribed.heartbeat_interval_seconds, 15.0);
  ASSERT_TRUE(subscribed.master_info.has_value());
  expect_observed_master(*subscribed.master_info);
}

TEST(MesosObserved, Heartbeat) {
  auto event = decode_event(R"js({"type":"HEARTBEAT"})js");
  ASSERT_TRUE(event) << event.error().message;
  EXPECT_EQ(type_name(*event), "HEARTBEAT");
  EXPECT_EQ(*event, Event{EventHeartbeat{}});
}

TEST(MesosObserved, Offers) {
  const std::string bytes = with_ids(
      R"js({"type":"OFFERS","offers":{"offers":[{"id":{"value":"$M-O0"},"framework_id":{"value":"$M-0000"},"agent_id":{"value":"$M-S0"},"hostname":"127.0.0.1","url":{"scheme":"http","address":{"hostname":"127.0.0.1","ip":"127.0.0.1","port":15051},"path":"/slave(1)"},"resources":[{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31000,"end":31100}]},"role":"*","allocation_info":{"role":"etcd"}},{"name":"cpus","type":"SCALAR","scalar":{"value":2.0},"role":"*","allocation_info":{"role":"etcd"}},{"name":"mem","type":"SCALAR","scalar":{"value":2048.0},"role":"*","allocation_info":{"role":"etcd"}},{"name":"disk","type":"SCALAR","scalar":{"value":1024.0},"role":"*","allocation_info":{"role":"etcd"}}],"allocation_info":{"role":"etcd"}}]}})js");
  auto event = decode_event(bytes);
  ASSERT_TRUE(event) << event.error().message;
  ASSERT_EQ(std::get<EventOffers>(*event).offers.size(), 1u);
  const Offer& offer = std::get<EventOffers>(*event).offers[0];
  const std::string m = kMasterId;
  EXPECT_EQ(offer.id, m + "-O0");
  EXPECT_EQ(offer.framework_id, m + "-0000");
  EXPECT_EQ(offer.agent_id, m + "-S0");
  EXPECT_EQ(offer.hostname, "127.0.0.1");
  ASSERT_TRUE(offer.url_address.has_value());
  EXPECT_EQ(offer.url_address->ip, "127.0.0.1");
  EXPECT_EQ(offer.url_address->port, 15051u);
  EXPECT_EQ(offer.allocation_role, "etcd");
  EXPECT_TRUE(offer.executor_ids.empty());
  ASSERT_EQ(offer.resources.size(), 4u);
  const Resource& ports = offer.resources[0];
  EXPECT_EQ(ports.name, "ports");
  EXPECT_EQ(ports.type, Resource::Type::kRanges);
  EXPECT_EQ(ports.ranges, (std::vector<Range>{{31000, 31100}}));
  EXPECT_EQ(ports.role, "*");
  EXPECT_EQ(ports.allocation_role, "etcd");
  EXPECT_FALSE(ports.reserved);
  EXPECT_EQ(offer.resources[1].name, "cpus");
  EXPECT_EQ(offer.resources[1].scalar, 2.0);
  EXPECT_EQ(offer.resources[2].scalar, 2048.0);
  EXPECT_EQ(offer.resources[3].scalar, 1024.0);
}

TEST(MesosObserved, ReferenceOfferWithReservationAndExecutors) {
  // Reference §9, shape of an offer with a dynamically reserved disk.
  const std::string offer_json =
      R"js({"id":{"value":"5f1e-O42"},"framework_id":{"value":"c0ffee-0001"},
 "agent_id":{"value":"a9e1-S3"},"hostname":"agent3.example",
 "url":{"scheme":"http","address":{"hostname":"agent3.example","ip":"10.0.0.23","port":5051},"path":"/slave(1)"},
 "allocation_info":{"role":"etcd"},
 "resources":[
  {"name":"cpus","type":"SCALAR","scalar":{"value":4.0},"role":"*","allocation_info":{"role":"etcd"}},
  {"name":"disk","type":"SCALAR","scalar":{"value":2048.0},"role":"etcd",
   "reservation":{"principal":"etcd-fw"},"allocation_info":{"role":"etcd"},
   "disk":{"persistence":{"id":"etcd-m1-data","principal":"etcd-fw"},"volume":{"container_path":"data","mode":"RW"}}},
  {"name":"gpus","type":"SCALAR","scalar":{"value":1},"reservations":[{"type":"DYNAMIC","role":"etcd"}]},
  {"name":"zones","type":"SET","set":{"item":["a","b"]},"reservations":[]}],
 "attributes":[{"name":"rack","type":"TEXT","text":{"value":"r1"}}],
 "executor_ids":[{"value":"etcd-exec-m1"}]})js";
  auto event = decode_event(R"js({"type":"OFFERS","offers":{"offers":[)js" + offer_json + "]}}");
  ASSERT_TRUE(event) << event.error().message;
  ASSERT_EQ(std::get<EventOffers>(*event).offers.size(), 1u);
  const Offer& offer = std::get<EventOffers>(*event).offers[0];
  EXPECT_EQ(offer.executor_ids, std::vector<std::string>{"etcd-exec-m1"});
  EXPECT_EQ(offer.url_address->hostname, "agent3.example");
  ASSERT_EQ(offer.resources.size(), 4u);
  EXPECT_FALSE(offer.resources[0].reserved);
  EXPECT_TRUE(offer.resources[1].reserved);
  EXPECT_EQ(offer.resources[1].role, "etcd");
  EXPECT_TRUE(offer.resources[2].reserved);
  EXPECT_FALSE(offer.resources[2].role.has_value());
  EXPECT_EQ(offer.resources[3].type, Resource::Type::kSet);
  EXPECT_EQ(offer.resources[3].set, (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(offer.resources[3].reserved);
}

TEST(MesosObserved, ExecutorTaskRunningUpdate) {
  const std::string bytes = with_ids(
      R"js({"type":"UPDATE","update":{"status":{"task_id":{"value":"etcd-m1-001"},"state":"TASK_RUNNING","message":"executor says running","source":"SOURCE_EXECUTOR","data":"eyJoZWxsbyI6IndvcmxkIn0=","agent_id":{"value":"$M-S0"},"executor_id":{"value":"etcd-exec-m1"},"timestamp":1795535503.7908602,"uuid":"0ljf5cp8T+qrf5+EWPGvgg==","healthy":true,"labels":{"labels":[{"key":"k1","value":"v1"}]},"container_status":{"container_id":{"value":"25847662-0000"},"network_infos":[{"ip_addresses":[{"protocol":"IPv4","ip_address":"127.0.0.1"}]}],"executor_pid":5249}}}})js");
  auto event = decode_event(bytes);
  ASSERT_TRUE(event) << event.error().message;
  ASSERT_TRUE(std::holds_alternative<EventUpdate>(*event));
  const TaskStatus& status = std::get<EventUpdate>(*event).status;
  EXPECT_EQ(status.task_id, "etcd-m1-001");
  EXPECT_EQ(status.state, TaskState::kRunning);
  EXPECT_EQ(status.message, "executor says running");
  EXPECT_EQ(status.source, "SOURCE_EXECUTOR");
  EXPECT_EQ(status.data, R"js({"hello":"world"})js");
  EXPECT_EQ(status.agent_id, std::string(kMasterId) + "-S0");
  EXPECT_EQ(status.executor_id, "etcd-exec-m1");
  EXPECT_EQ(status.timestamp, 1795535503.7908602);
  ASSERT_TRUE(status.uuid.has_value());
  EXPECT_EQ(status.uuid->size(), 16u);
  EXPECT_EQ(base64_encode(*status.uuid), "0ljf5cp8T+qrf5+EWPGvgg==");
  EXPECT_EQ(status.healthy, true);
  EXPECT_EQ(status.labels, (std::vector<Label>{{"k1", "v1"}}));
  EXPECT_EQ(status.container_ip, "127.0.0.1");
  EXPECT_FALSE(status.reason.has_value());
}

TEST(MesosObserved, TaskLostOnAgentRemoval) {
  const std::string bytes = with_ids(
      R"js({"type":"UPDATE","update":{"status":{"task_id":{"value":"etcd-m1-002"},"state":"TASK_LOST","message":"health check timed out","source":"SOURCE_MASTER","reason":"REASON_AGENT_REMOVED","agent_id":{"value":"$M-S0"},"executor_id":{"value":"etcd-exec-m1"},"timestamp":1795535661.5870998,"unreachable_time":{"nanoseconds":1795535661575854080}}}})js");
  auto event = decode_event(bytes);
  ASSERT_TRUE(event) << event.error().message;
  const TaskStatus& status = std::get<EventUpdate>(*event).status;
  EXPECT_EQ(status.state, TaskState::kLost);
  EXPECT_TRUE(is_terminal(status.state));
  EXPECT_EQ(status.source, "SOURCE_MASTER");
  EXPECT_EQ(status.reason, "REASON_AGENT_REMOVED");
  EXPECT_FALSE(status.uuid.has_value());  // master-generated: never acknowledged
  EXPECT_FALSE(status.container_ip.has_value());
}

TEST(MesosObserved, AgentFailure) {
  auto event =
      decode_event(with_ids(R"js({"type":"FAILURE","failure":{"agent_id":{"value":"$M-S0"}}})js"));
  ASSERT_TRUE(event) << event.error().message;
  ASSERT_TRUE(std::holds_alternative<EventFailure>(*event));
  EXPECT_EQ(std::get<EventFailure>(*event).agent_id, std::string(kMasterId) + "-S0");
  EXPECT_FALSE(std::get<EventFailure>(*event).executor_id.has_value());
  EXPECT_FALSE(std::get<EventFailure>(*event).status.has_value());
}

TEST(MesosObserved, ExecutorFailureWithStatus) {
  auto event = decode_event(
      R"js({"type":"FAILURE","failure":{"agent_id":{"value":"S0"},"executor_id":{"value":"e1"},"status":0}})js");
  ASSERT_TRUE(event) << event.error().message;
  EXPECT_EQ(std::get<EventFailure>(*event).executor_id, "e1");
  EXPECT_EQ(std::get<EventFailure>(*event).status, 0);
}

TEST(MesosObserved, ErrorEvent) {
  const std::string bytes =
      R"js({"type":"ERROR","error":{"message":"Framework has been removed"}})js";
  EXPECT_EQ(bytes.size(), 65u);
  auto event = decode_event(bytes);
  ASSERT_TRUE(event) << event.error().message;
  EXPECT_EQ(type_name(*event), "ERROR");
  EXPECT_EQ(std::get<EventError>(*event).message, "Framework has been removed");
}

TEST(MesosObserved, ReferenceSubscribeCall) {
  // Reference §5, first SUBSCRIBE of a new framework.
  auto call = decode_call(R"js({"type":"SUBSCRIBE",
 "subscribe":{"framework_info":{"user":"etcd","name":"etcd-framework",
   "roles":["etcd"],"capabilities":[{"type":"MULTI_ROLE"}],
   "failover_timeout":604800.0,"checkpoint":true,"principal":"etcd-fw",
   "hostname":"sched-1.example","webui_url":"http://sched-1.example:8080/"},
   "suppressed_roles":[]}})js");
  ASSERT_TRUE(call) << call.error().message;
  EXPECT_EQ(type_name(*call), "SUBSCRIBE");
  EXPECT_FALSE(call->framework_id.has_value());
  const FrameworkInfo& info = std::get<CallSubscribe>(call->payload).framework_info;
  EXPECT_EQ(info.user, "etcd");
  EXPECT_EQ(info.name, "etcd-framework");
  EXPECT_EQ(info.roles, std::vector<std::string>{"etcd"});
  EXPECT_EQ(info.capabilities, std::vector<std::string>{"MULTI_ROLE"});
  EXPECT_EQ(info.failover_timeout, 604800.0);
  EXPECT_TRUE(info.checkpoint);
  EXPECT_EQ(info.principal, "etcd-fw");
  EXPECT_EQ(info.webui_url, "http://sched-1.example:8080/");
  EXPECT_FALSE(info.id.has_value());
}

TEST(MesosObserved, ReferenceTaskInfo) {
  // Reference §10.
  auto task = decode_task_info(
      R"js({"name":"etcd-m1","task_id":{"value":"etcd-m1-3f2a"},"agent_id":{"value":"a9e1-S3"},
 "resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1.0}},
              {"name":"mem","type":"SCALAR","scalar":{"value":1024.0}},
              {"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31001,"end":31002}]}}],
 "executor":{"executor_id":{"value":"etcd-exec-m1"},"type":"CUSTOM",
   "command":{"value":"./etcd-executor","shell":false,"arguments":["./etcd-executor","--flag"],
     "uris":[{"value":"http://repo.example/etcd-executor","executable":true,"extract":false,"cache":true},
             {"value":"http://repo.example/etcd.tgz","extract":true}],
     "environment":{"variables":[{"name":"ETCD_FW_ROLE","value":"member"}]},
     "user":"etcd"},
   "resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1}},
                {"name":"mem","type":"SCALAR","scalar":{"value":64.0}}],
   "shutdown_grace_period":{"nanoseconds":10000000000}},
 "data":"eyJtZW1iZXIiOiJtMSJ9",
 "labels":{"labels":[{"key":"cluster","value":"c1"}]},
 "discovery":{"visibility":"FRAMEWORK","name":"etcd-m1",
   "ports":{"ports":[{"number":31001,"name":"client","protocol":"tcp"},
                     {"number":31002,"name":"peer","protocol":"tcp"}]}},
 "kill_policy":{"grace_period":{"nanoseconds":5000000000}}})js");
  ASSERT_TRUE(task) << task.error().message;
  EXPECT_EQ(task->name, "etcd-m1");
  EXPECT_EQ(task->task_id, "etcd-m1-3f2a");
  EXPECT_EQ(task->agent_id, "a9e1-S3");
  ASSERT_EQ(task->resources.size(), 3u);
  EXPECT_EQ(task->resources[2].ranges, (std::vector<Range>{{31001, 31002}}));
  const ExecutorInfo& executor = task->executor.value();
  EXPECT_EQ(executor.executor_id, "etcd-exec-m1");
  EXPECT_EQ(executor.type, "CUSTOM");
  EXPECT_EQ(executor.shutdown_grace_period_ns, 10000000000);
  const CommandInfo& command = executor.command.value();
  EXPECT_FALSE(command.shell);
  EXPECT_EQ(command.arguments, (std::vector<std::string>{"./etcd-executor", "--flag"}));
  ASSERT_EQ(command.uris.size(), 2u);
  EXPECT_TRUE(command.uris[0].executable);
  EXPECT_FALSE(command.uris[0].extract);
  EXPECT_TRUE(command.uris[0].cache);
  EXPECT_FALSE(command.uris[1].executable);
  EXPECT_TRUE(command.uris[1].extract);
  EXPECT_EQ(command.environment, (std::vector<EnvironmentVariable>{{"ETCD_FW_ROLE", "member"}}));
  EXPECT_EQ(command.user, "etcd");
  EXPECT_EQ(executor.resources[0].scalar, 0.1);
  EXPECT_EQ(task->data, R"js({"member":"m1"})js");
  EXPECT_EQ(task->labels, (std::vector<Label>{{"cluster", "c1"}}));
  const DiscoveryInfo& discovery = task->discovery.value();
  EXPECT_EQ(discovery.visibility, "FRAMEWORK");
  ASSERT_EQ(discovery.ports.size(), 2u);
  EXPECT_EQ(discovery.ports[1].number, 31002u);
  EXPECT_EQ(discovery.ports[1].name, "peer");
  EXPECT_EQ(task->kill_grace_period_ns, 5000000000);
  EXPECT_FALSE(task->command.has_value());
}

TEST(MesosObserved, ReferenceExecutorUpdateCall) {
  // Reference §15.
  auto call = decode_executor_call(
      R"js({"type":"UPDATE","executor_id":{"value":"etcd-exec-m1"},"framework_id":{"value":"c0ffee-0001"},
 "update":{"status":{"task_id":{"value":"etcd-m1-3f2a"},"state":"TASK_RUNNING",
   "source":"SOURCE_EXECUTOR","executor_id":{"value":"etcd-exec-m1"},
   "uuid":"bx6cni1LTBqaQ35bDY8qEQ==","timestamp":1732456789.1}}})js");
  ASSERT_TRUE(call) << call.error().message;
  EXPECT_EQ(call->executor_id, "etcd-exec-m1");
  EXPECT_EQ(call->framework_id, "c0ffee-0001");
  const auto& status = std::get<ExecutorCallUpdate>(call->payload).status;
  EXPECT_EQ(status.uuid->size(), 16u);
  EXPECT_EQ(status.timestamp, 1732456789.1);
}

TEST(MesosObserved, ExecutorSubscribedEvent) {
  // Shape per reference §15 (agent_info has hostname, not host).
  auto event = decode_executor_event(R"js({"type":"SUBSCRIBED","subscribed":{
 "executor_info":{"executor_id":{"value":"etcd-exec-m1"},"framework_id":{"value":"F1"},
   "command":{"value":"./etcd-executor","shell":false},"type":"CUSTOM"},
 "framework_info":{"user":"etcd","name":"etcd-framework","id":{"value":"F1"},
   "failover_timeout":604800.0,"checkpoint":true,"roles":["etcd"]},
 "agent_info":{"hostname":"127.0.0.1","port":15051,"id":{"value":"S0"},
   "resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":2.0}}],
   "attributes":[]},
 "container_id":{"value":"25847662-abcd"}}})js");
  ASSERT_TRUE(event) << event.error().message;
  const auto& subscribed = std::get<ExecutorEventSubscribed>(*event);
  EXPECT_EQ(subscribed.executor_info.executor_id, "etcd-exec-m1");
  EXPECT_EQ(subscribed.executor_info.framework_id, "F1");
  EXPECT_EQ(subscribed.framework_info.id, "F1");
  EXPECT_EQ(subscribed.agent_info.hostname, "127.0.0.1");
  EXPECT_EQ(subscribed.agent_info.port, 15051u);
  EXPECT_EQ(subscribed.agent_info.id, "S0");
  EXPECT_EQ(subscribed.agent_info.resources.size(), 1u);
  EXPECT_EQ(subscribed.container_id, "25847662-abcd");
}

TEST(MesosObserved, UnknownEventTypeKeepsOnlyType) {
  auto event = decode_event(
      R"js({"type":"INVERSE_OFFERS","inverse_offers":{"inverse_offers":[{"id":{"value":"x"}}]}})js");
  ASSERT_TRUE(event) << event.error().message;
  EXPECT_EQ(*event, Event{EventOther{"INVERSE_OFFERS"}});
}

TEST(MesosObserved, NumericStringsAndMissingPaddingAccepted) {
  auto event = decode_event(
      R"js({"type":"UPDATE","update":{"status":{"task_id":{"value":"t"},"state":"TASK_RUNNING","timestamp":"12.5","uuid":"0ljf5cp8T+qrf5+EWPGvgg","unknown_key":{"a":[1,2]}}}})js");
  ASSERT_TRUE(event) << event.error().message;
  EXPECT_EQ(std::get<EventUpdate>(*event).status.timestamp, 12.5);
  EXPECT_EQ(std::get<EventUpdate>(*event).status.uuid->size(), 16u);
  auto offer = decode_event(
      R"js({"type":"OFFERS","offers":{"offers":[{"id":{"value":"o"},"framework_id":{"value":"f"},"agent_id":{"value":"a"},"hostname":"h","resources":[{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":"31000","end":"31005"}]}}]}]}})js");
  ASSERT_TRUE(offer) << offer.error().message;
  EXPECT_EQ(std::get<EventOffers>(*offer).offers[0].resources[0].ranges,
            (std::vector<Range>{{31000, 31005}}));
}

}  // namespace
}  // namespace etcdmesos::mesos
