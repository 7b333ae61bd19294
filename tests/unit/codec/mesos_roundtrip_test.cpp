// Every message encodes to JSON that decodes back to an equal struct, and the
// encoded shape is the one a real Mesos master/agent/scheduler produces.
#include "codec/mesos.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <string>

namespace etcdmesos::mesos {
namespace {

namespace json = boost::json;

const std::string kUuid("\x6f\x1e\x9c\x9e\x2d\x4b\x4c\x1a\x9a\x43\x7e\x5b\x0d\x8f\x2a\x11", 16);

json::value parsed(const std::string& text) {
  return json::parse(text);
}

Resource reserved_free(Resource resource) {
  resource.reserved = false;  // not re-encoded, by design
  return resource;
}

std::vector<Resource> sample_resources() {
  Resource cpus = scalar_resource("cpus", 0.5);
  cpus.role = "*";
  cpus.allocation_role = "etcd";
  Resource ports = ranges_resource("ports", {{31000, 31005}, {31010, 31010}});
  ports.allocation_role = "etcd";
  Resource zones;
  zones.name = "zones";
  zones.type = Resource::Type::kSet;
  zones.set = {"a", "b"};
  Resource text;
  text.name = "other";
  text.type = Resource::Type::kOther;
  return {cpus, scalar_resource("mem", 1024), ports, zones, text};
}

CommandInfo sample_command() {
  CommandInfo command;
  command.value = "./etcd-mesos-executor";
  command.shell = false;
  command.arguments = {"./etcd-mesos-executor", "--flag"};
  Uri binary{"http://127.0.0.1:8080/etcd-mesos-executor", true, false, true, std::nullopt};
  Uri archive{"http://127.0.0.1:8080/etcd.tgz", false, true, false, "etcd.tgz"};
  command.uris = {binary, archive};
  command.environment = {{"ETCD_FW_ROLE", "member"}, {"EMPTY", ""}};
  command.user = "etcd";
  return command;
}

ExecutorInfo sample_executor() {
  ExecutorInfo executor;
  executor.executor_id = "etcd-exec-m1";
  executor.framework_id = "F-0001";
  executor.type = "CUSTOM";
  executor.name = "etcd executor";
  executor.command = sample_command();
  executor.resources = {scalar_resource("cpus", 0.1), scalar_resource("mem", 64)};
  executor.shutdown_grace_period_ns = 10'000'000'000;
  return executor;
}

TaskInfo sample_task() {
  TaskInfo task;
  task.name = "etcd-m1";
  task.task_id = "etcd-m1-3f2a";
  task.agent_id = "S3";
  task.resources = sample_resources();
  task.executor = sample_executor();
  task.data = std::string("{\"member\":\"m1\"}\0\xff", 17);
  task.labels = {{"cluster", "c1"}, {"empty", ""}};
  DiscoveryInfo discovery;
  discovery.name = "etcd-m1";
  discovery.environment = "prod";
  discovery.location = "r1";
  discovery.version = "3.4";
  discovery.ports = {{31001, "client", "tcp"}, {31002, std::nullopt, std::nullopt}};
  discovery.labels = {{"k", "v"}};
  task.discovery = discovery;
  task.kill_grace_period_ns = 5'000'000'000;
  return task;
}

TaskStatus sample_status() {
  TaskStatus status;
  status.task_id = "etcd-m1-3f2a";
  status.state = TaskState::kRunning;
  status.message = "member started";
  status.source = "SOURCE_EXECUTOR";
  status.reason = "REASON_RECONCILIATION";
  status.data = "{\"id\":\"1806\"}";
  status.agent_id = "S3";
  status.executor_id = "etcd-exec-m1";
  status.timestamp = 1732456789.123;
  status.uuid = kUuid;
  status.healthy = true;
  status.labels = {{"etcd_member_id", "1806082655942060636"}};
  status.container_ip = "10.0.0.23";
  return status;
}

MasterInfo sample_master() {
  MasterInfo info;
  info.id = "726721b8-6553-4280-b7cb-030ab89405ac";
  info.ip = 16777343;
  info.port = 15050;
  info.pid = "master@127.0.0.1:15050";
  info.hostname = "127.0.0.1";
  info.version = "1.12.0";
  info.address = Address{"127.0.0.1", "127.0.0.1", 15050};
  info.capabilities = {"AGENT_UPDATE", "QUOTA_V2"};
  return info;
}

FrameworkInfo sample_framework() {
  FrameworkInfo info;
  info.user = "etcd";
  info.name = "etcd-framework";
  info.id = "F-0001";
  info.failover_timeout = 604800;
  info.checkpoint = true;
  info.roles = {"etcd"};
  info.hostname = "sched-1";
  info.principal = "etcd-fw";
  info.webui_url = "http://sched-1:8080/";
  info.capabilities = {"MULTI_ROLE", "TASK_KILLING_STATE"};
  info.labels = {{"k", "v"}};
  return info;
}

Offer sample_offer() {
  Offer offer;
  offer.id = "O42";
  offer.framework_id = "F-0001";
  offer.agent_id = "S3";
  offer.hostname = "agent3";
  offer.url_address = Address{"agent3", "10.0.0.23", 5051};
  offer.resources = sample_resources();
  offer.executor_ids = {"etcd-exec-m1"};
  offer.allocation_role = "etcd";
  return offer;
}

// ---------------------------------------------------------------- calls

void expect_call_round_trip(const Call& call) {
  const std::string text = encode(call);
  auto decoded = decode_call(text);
  ASSERT_TRUE(decoded) << decoded.error().message << "\n" << text;
  EXPECT_EQ(*decoded, call) << text;
}

Call make_call(std::string type) {
  Call call;
  call.type = std::move(type);
  call.framework_id = "F-0001";
  return call;
}

TEST(MesosRoundTrip, SubscribeCall) {
  Call call = make_call("SUBSCRIBE");
  call.subscribe = CallSubscribe{sample_framework(), {"other"}};
  expect_call_round_trip(call);
  call.framework_id.reset();
  call.subscribe->framework_info.id.reset();
  expect_call_round_trip(call);
}

TEST(MesosRoundTrip, AcceptCallWithLaunch) {
  Call call = make_call("ACCEPT");
  TaskInfo command_task = sample_task();
  command_task.executor.reset();
  command_task.command = sample_command();
  Operation launch{"LAUNCH", {sample_task(), command_task}};
  Operation reserve{"RESERVE", {}};
  call.accept = CallAccept{{"O1", "O2"}, {launch, reserve}, Filters{2.5}};
  expect_call_round_trip(call);
  call.accept->filters = Filters{};
  expect_call_round_trip(call);
  call.accept->filters.reset();
  expect_call_round_trip(call);
}

TEST(MesosRoundTrip, AcceptEncodesReferenceShape) {
  Call call = make_call("ACCEPT");
  call.accept = CallAccept{{"O1"}, {Operation{"LAUNCH", {sample_task()}}}, Filters{5}};
  const json::value v = parsed(encode(call));
  EXPECT_EQ(v.at("framework_id").at("value"), "F-0001");
  EXPECT_EQ(v.at("accept").at("offer_ids").at(0).at("value"), "O1");
  const json::value& task =
      v.at("accept").at("operations").at(0).at("launch").at("task_infos").at(0);
  EXPECT_EQ(task.at("task_id").at("value"), "etcd-m1-3f2a");
  EXPECT_EQ(task.at("kill_policy").at("grace_period").at("nanoseconds"), 5'000'000'000);
  EXPECT_EQ(task.at("executor").at("shutdown_grace_period").at("nanoseconds"), 10'000'000'000);
  EXPECT_EQ(task.at("resources").at(2).at("ranges").at("range").at(0).at("begin"), 31000);
  EXPECT_EQ(task.at("labels").at("labels").at(0).at("key"), "cluster");
  EXPECT_EQ(task.at("discovery").at("ports").at("ports").at(0).at("number"), 31001);
  EXPECT_EQ(task.at("executor").at("command").at("environment").at("variables").at(0).at("name"),
            "ETCD_FW_ROLE");
  EXPECT_EQ(v.at("accept").at("filters").at("refuse_seconds").to_number<double>(), 5.0);
}

TEST(MesosRoundTrip, DeclineCall) {
  Call call = make_call("DECLINE");
  call.decline = CallDecline{{"O1"}, Filters{3600}};
  expect_call_round_trip(call);
}

TEST(MesosRoundTrip, KillCall) {
  Call call = make_call("KILL");
  call.kill = CallKill{"t1", "S1", 3'000'000'000};
  expect_call_round_trip(call);
  call.kill = CallKill{"t1", std::nullopt, std::nullopt};
  expect_call_round_trip(call);
}

TEST(MesosRoundTrip, ShutdownCall) {
  Call call = make_call("SHUTDOWN");
  call.shutdown = CallShutdown{"e1", "S1"};
  expect_call_round_trip(call);
}

TEST(MesosRoundTrip, ReconcileCalls) {
  Call call = make_call("RECONCILE");
  call.reconcile = CallReconcile{{{"t1", "S1"}, {"t2", std::nullopt}}};
  expect_call_round_trip(call);
  call.reconcile = CallReconcile{};
  expect_call_round_trip(call);
  // Implicit reconciliation must still carry the (empty) payload.
  const json::value v = parsed(encode(call));
  ASSERT_TRUE(v.at("reconcile").is_object());
  EXPECT_TRUE(v.at("reconcile").get_object().empty());
}

TEST(MesosRoundTrip, AcknowledgeCall) {
  Call call = make_call("ACKNOWLEDGE");
  call.acknowledge = CallAcknowledge{"S1", "t1", kUuid};
  expect_call_round_trip(call);
  EXPECT_EQ(parsed(encode(call)).at("acknowledge").at("uuid"), "bx6cni1LTBqaQ35bDY8qEQ==");
}

TEST(MesosRoundTrip, MessageCall) {
  Call call = make_call("MESSAGE");
  call.message = CallMessage{"S1", "e1", std::string("\0\x01payload", 9)};
  expect_call_round_trip(call);
}

TEST(MesosRoundTrip, ReviveSuppressTeardown) {
  Call revive = make_call("REVIVE");
  expect_call_round_trip(revive);
  revive.revive_roles = std::vector<std::string>{"etcd"};
  expect_call_round_trip(revive);
  revive.revive_roles = std::vector<std::string>{};
  expect_call_round_trip(revive);
  Call suppress = make_call("SUPPRESS");
  suppress.suppress_roles = std::vector<std::string>{"etcd", "other"};
  expect_call_round_trip(suppress);
  EXPECT_EQ(parsed(encode(suppress)).at("suppress").at("roles").at(1), "other");
  expect_call_round_trip(make_call("TEARDOWN"));
}

// --------------------------------------------------------------- events

void expect_event_round_trip(const Event& event) {
  const std::string text = encode(event);
  auto decoded = decode_event(text);
  ASSERT_TRUE(decoded) << decoded.error().message << "\n" << text;
  EXPECT_EQ(*decoded, event) << text;
}

Event make_event(std::string type) {
  Event event;
  event.type = std::move(type);
  return event;
}

TEST(MesosRoundTrip, SubscribedEventLooksLikeTheMaster) {
  Event event = make_event("SUBSCRIBED");
  event.subscribed = EventSubscribed{"F-0001", 15, sample_master()};
  expect_event_round_trip(event);
  const json::value v = parsed(encode(event));
  EXPECT_EQ(v.at("type"), "SUBSCRIBED");
  EXPECT_EQ(v.at("subscribed").at("framework_id").at("value"), "F-0001");
  EXPECT_EQ(v.at("subscribed").at("heartbeat_interval_seconds").to_number<double>(), 15.0);
  EXPECT_EQ(v.at("subscribed").at("master_info").at("address").at("port"), 15050);
  EXPECT_EQ(v.at("subscribed").at("master_info").at("capabilities").at(0).at("type"),
            "AGENT_UPDATE");
  event.subscribed->heartbeat_interval_seconds = 0.25;
  event.subscribed->master_info.reset();
  expect_event_round_trip(event);
}

TEST(MesosRoundTrip, OffersEvent) {
  Event event = make_event("OFFERS");
  Offer offer = sample_offer();
  event.offers = {offer, offer};
  event.offers[1].url_address.reset();
  event.offers[1].executor_ids.clear();
  event.offers[1].allocation_role.reset();
  expect_event_round_trip(event);
  const json::value v = parsed(encode(event));
  const json::value& first = v.at("offers").at("offers").at(0);
  EXPECT_EQ(first.at("url").at("address").at("ip"), "10.0.0.23");
  EXPECT_EQ(first.at("allocation_info").at("role"), "etcd");
  EXPECT_EQ(first.at("executor_ids").at(0).at("value"), "etcd-exec-m1");
  expect_event_round_trip(make_event("OFFERS"));  // empty list
}

TEST(MesosRoundTrip, ReservedFlagIsNotReEncoded) {
  Event event = make_event("OFFERS");
  Offer offer = sample_offer();
  offer.resources[0].reserved = true;
  event.offers = {offer};
  auto decoded = decode_event(encode(event));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_FALSE(decoded->offers[0].resources[0].reserved);
  EXPECT_EQ(decoded->offers[0].resources[0], reserved_free(offer.resources[0]));
}

TEST(MesosRoundTrip, UpdateEventShape) {
  Event event = make_event("UPDATE");
  event.update = sample_status();
  expect_event_round_trip(event);
  const json::value v = parsed(encode(event));
  const json::value& status = v.at("update").at("status");
  EXPECT_EQ(status.at("state"), "TASK_RUNNING");
  EXPECT_EQ(status.at("uuid"), "bx6cni1LTBqaQ35bDY8qEQ==");
  EXPECT_EQ(status.at("data"), "eyJpZCI6IjE4MDYifQ==");
  EXPECT_EQ(status.at("container_status")
                .at("network_infos")
                .at(0)
                .at("ip_addresses")
                .at(0)
                .at("ip_address"),
            "10.0.0.23");
  // Master-generated updates carry no uuid, and every state survives.
  TaskStatus minimal;
  minimal.task_id = "t";
  for (int s = 0; s <= static_cast<int>(TaskState::kUnknown); ++s) {
    minimal.state = static_cast<TaskState>(s);
    event.update = minimal;
    expect_event_round_trip(event);
  }
}

TEST(MesosRoundTrip, OtherEvents) {
  Event rescind = make_event("RESCIND");
  rescind.rescind_offer_id = "O1";
  expect_event_round_trip(rescind);
  Event message = make_event("MESSAGE");
  message.message = EventMessage{"S1", "e1", "raw\n"};
  expect_event_round_trip(message);
  Event failure = make_event("FAILURE");
  failure.failure = EventFailure{"S1", "e1", 256};
  expect_event_round_trip(failure);
  failure.failure = EventFailure{"S1", std::nullopt, std::nullopt};
  expect_event_round_trip(failure);
  expect_event_round_trip(make_event("HEARTBEAT"));
}

TEST(MesosRoundTrip, ErrorEventShape) {
  Event event = make_event("ERROR");
  event.error_message = "Framework has been removed";
  expect_event_round_trip(event);
  EXPECT_EQ(encode(event), R"({"type":"ERROR","error":{"message":"Framework has been removed"}})");
}

// ------------------------------------------------------------- executor

void expect_executor_call_round_trip(const ExecutorCall& call) {
  const std::string text = encode(call);
  auto decoded = decode_executor_call(text);
  ASSERT_TRUE(decoded) << decoded.error().message << "\n" << text;
  EXPECT_EQ(*decoded, call) << text;
}

ExecutorCall make_executor_call(std::string type) {
  ExecutorCall call;
  call.type = std::move(type);
  call.executor_id = "etcd-exec-m1";
  call.framework_id = "F-0001";
  return call;
}

TEST(MesosRoundTrip, ExecutorCalls) {
  ExecutorCall subscribe = make_executor_call("SUBSCRIBE");
  subscribe.subscribe = ExecutorCallSubscribe{};
  expect_executor_call_round_trip(subscribe);
  EXPECT_TRUE(parsed(encode(subscribe)).at("subscribe").is_object());
  subscribe.subscribe = ExecutorCallSubscribe{{sample_task()}, {sample_status(), sample_status()}};
  expect_executor_call_round_trip(subscribe);
  EXPECT_TRUE(parsed(encode(subscribe))
                  .at("subscribe")
                  .at("unacknowledged_updates")
                  .at(0)
                  .at("status")
                  .is_object());

  ExecutorCall update = make_executor_call("UPDATE");
  update.update = sample_status();
  expect_executor_call_round_trip(update);

  ExecutorCall message = make_executor_call("MESSAGE");
  message.message_data = "hello";
  expect_executor_call_round_trip(message);
  expect_executor_call_round_trip(make_executor_call("HEARTBEAT"));
}

void expect_executor_event_round_trip(const ExecutorEvent& event) {
  const std::string text = encode(event);
  auto decoded = decode_executor_event(text);
  ASSERT_TRUE(decoded) << decoded.error().message << "\n" << text;
  EXPECT_EQ(*decoded, event) << text;
}

ExecutorEvent make_executor_event(std::string type) {
  ExecutorEvent event;
  event.type = std::move(type);
  return event;
}

TEST(MesosRoundTrip, ExecutorSubscribedShape) {
  ExecutorEvent event = make_executor_event("SUBSCRIBED");
  AgentInfo agent{"S0", "127.0.0.1", 15051, {scalar_resource("cpus", 2)}};
  event.subscribed = ExecutorEventSubscribed{sample_executor(), sample_framework(), agent, "c-1"};
  expect_executor_event_round_trip(event);
  const json::value v = parsed(encode(event));
  const json::value& subscribed = v.at("subscribed");
  EXPECT_EQ(subscribed.at("agent_info").at("hostname"), "127.0.0.1");
  EXPECT_EQ(subscribed.at("agent_info").at("port"), 15051);
  EXPECT_EQ(subscribed.at("agent_info").at("id").at("value"), "S0");
  EXPECT_EQ(subscribed.at("container_id").at("value"), "c-1");
  EXPECT_EQ(subscribed.at("framework_info").at("id").at("value"), "F-0001");
  EXPECT_EQ(subscribed.at("executor_info").at("executor_id").at("value"), "etcd-exec-m1");
  event.subscribed->agent_info.id.clear();
  event.subscribed->container_id.reset();
  expect_executor_event_round_trip(event);
}

TEST(MesosRoundTrip, ExecutorEvents) {
  ExecutorEvent launch = make_executor_event("LAUNCH");
  launch.launch = sample_task();
  expect_executor_event_round_trip(launch);
  EXPECT_TRUE(parsed(encode(launch)).at("launch").at("task").is_object());

  ExecutorEvent kill = make_executor_event("KILL");
  kill.kill = ExecutorEventKill{"t1", 2'000'000'000};
  expect_executor_event_round_trip(kill);
  kill.kill = ExecutorEventKill{"t1", std::nullopt};
  expect_executor_event_round_trip(kill);

  ExecutorEvent acknowledged = make_executor_event("ACKNOWLEDGED");
  acknowledged.acknowledged = ExecutorEventAcknowledged{"t1", kUuid};
  expect_executor_event_round_trip(acknowledged);

  ExecutorEvent message = make_executor_event("MESSAGE");
  message.message_data = std::string("\xff\x00", 2);
  expect_executor_event_round_trip(message);

  ExecutorEvent error = make_executor_event("ERROR");
  error.error_message = "boom";
  expect_executor_event_round_trip(error);

  expect_executor_event_round_trip(make_executor_event("SHUTDOWN"));
  expect_executor_event_round_trip(make_executor_event("HEARTBEAT"));
}

// ----------------------------------------------------------- standalone

TEST(MesosRoundTrip, MasterInfo) {
  MasterInfo info = sample_master();
  auto decoded = decode_master_info(encode(info));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(*decoded, info);
  MasterInfo bare;
  bare.id = "m";
  decoded = decode_master_info(encode(bare));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(*decoded, bare);
}

TEST(MesosRoundTrip, TaskInfo) {
  TaskInfo task = sample_task();
  auto decoded = decode_task_info(encode(task));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(*decoded, task);
  TaskInfo bare;
  bare.name = "n";
  bare.task_id = "t";
  bare.agent_id = "a";
  decoded = decode_task_info(encode(bare));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(*decoded, bare);
}

TEST(MesosRoundTrip, DoublesSurviveExactly) {
  Event event = make_event("UPDATE");
  TaskStatus status = sample_status();
  for (double t : {0.0, 0.1, 1795535503.7908602, 1e-9, 123456789012345678.0, -2.5}) {
    status.timestamp = t;
    event.update = status;
    expect_event_round_trip(event);
  }
}

TEST(MesosEncode, IntegralDoublesAreWrittenAsIntegers) {
  Event event = make_event("SUBSCRIBED");
  event.subscribed = EventSubscribed{"F", 15, std::nullopt};
  EXPECT_NE(encode(event).find(R"("heartbeat_interval_seconds":15)"), std::string::npos);
}

}  // namespace
}  // namespace etcdmesos::mesos
