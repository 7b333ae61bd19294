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

Call make_call(CallPayload payload) {
  return Call{"F-0001", std::move(payload)};
}

TEST(MesosRoundTrip, SubscribeCall) {
  Call call = make_call(CallSubscribe{sample_framework(), {"other"}});
  expect_call_round_trip(call);
  call.framework_id.reset();
  std::get<CallSubscribe>(call.payload).framework_info.id.reset();
  expect_call_round_trip(call);
}

TEST(MesosRoundTrip, AcceptCallWithLaunch) {
  TaskInfo command_task = sample_task();
  command_task.executor.reset();
  command_task.command = sample_command();
  Operation launch{"LAUNCH", {sample_task(), command_task}};
  Operation reserve{"RESERVE", {}};
  Call call = make_call(CallAccept{{"O1", "O2"}, {launch, reserve}, Filters{2.5}});
  expect_call_round_trip(call);
  auto& accept = std::get<CallAccept>(call.payload);
  accept.filters = Filters{};
  expect_call_round_trip(call);
  accept.filters.reset();
  expect_call_round_trip(call);
}

TEST(MesosRoundTrip, AcceptEncodesReferenceShape) {
  Call call = make_call(CallAccept{{"O1"}, {Operation{"LAUNCH", {sample_task()}}}, Filters{5}});
  const json::value v = parsed(encode(call));
  EXPECT_EQ(v.at("type"), "ACCEPT");
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
  expect_call_round_trip(make_call(CallDecline{{"O1"}, Filters{3600}}));
}

TEST(MesosRoundTrip, KillCall) {
  expect_call_round_trip(make_call(CallKill{"t1", "S1", 3'000'000'000}));
  expect_call_round_trip(make_call(CallKill{"t1", std::nullopt, std::nullopt}));
}

TEST(MesosRoundTrip, ShutdownCall) {
  expect_call_round_trip(make_call(CallShutdown{"e1", "S1"}));
}

TEST(MesosRoundTrip, ReconcileCalls) {
  expect_call_round_trip(make_call(CallReconcile{{{"t1", "S1"}, {"t2", std::nullopt}}}));
  Call call = make_call(CallReconcile{});
  expect_call_round_trip(call);
  // Implicit reconciliation must still carry the (empty) payload.
  const json::value v = parsed(encode(call));
  ASSERT_TRUE(v.at("reconcile").is_object());
  EXPECT_TRUE(v.at("reconcile").get_object().empty());
}

TEST(MesosRoundTrip, AcknowledgeCall) {
  Call call = make_call(CallAcknowledge{"S1", "t1", kUuid});
  expect_call_round_trip(call);
  EXPECT_EQ(parsed(encode(call)).at("acknowledge").at("uuid"), "bx6cni1LTBqaQ35bDY8qEQ==");
}

TEST(MesosRoundTrip, MessageCall) {
  expect_call_round_trip(make_call(CallMessage{"S1", "e1", std::string("\0\x01payload", 9)}));
}

TEST(MesosRoundTrip, ReviveSuppressTeardown) {
  Call revive = make_call(CallRevive{});
  expect_call_round_trip(revive);
  EXPECT_FALSE(parsed(encode(revive)).as_object().contains("revive"));
  revive.payload = CallRevive{{"etcd"}};
  expect_call_round_trip(revive);
  Call suppress = make_call(CallSuppress{{"etcd", "other"}});
  expect_call_round_trip(suppress);
  EXPECT_EQ(parsed(encode(suppress)).at("suppress").at("roles").at(1), "other");
  expect_call_round_trip(make_call(CallSuppress{}));
  expect_call_round_trip(make_call(CallTeardown{}));
  EXPECT_EQ(encode(make_call(CallTeardown{})),
            R"({"type":"TEARDOWN","framework_id":{"value":"F-0001"}})");
}

TEST(MesosCallType, NamesFollowThePayload) {
  EXPECT_EQ(type_name(make_call(CallSubscribe{})), "SUBSCRIBE");
  EXPECT_EQ(type_name(make_call(CallTeardown{})), "TEARDOWN");
  EXPECT_EQ(type_name(make_call(CallAccept{})), "ACCEPT");
  EXPECT_EQ(type_name(make_call(CallDecline{})), "DECLINE");
  EXPECT_EQ(type_name(make_call(CallRevive{})), "REVIVE");
  EXPECT_EQ(type_name(make_call(CallSuppress{})), "SUPPRESS");
  EXPECT_EQ(type_name(make_call(CallKill{})), "KILL");
  EXPECT_EQ(type_name(make_call(CallShutdown{})), "SHUTDOWN");
  EXPECT_EQ(type_name(make_call(CallAcknowledge{})), "ACKNOWLEDGE");
  EXPECT_EQ(type_name(make_call(CallReconcile{})), "RECONCILE");
  EXPECT_EQ(type_name(make_call(CallMessage{})), "MESSAGE");
}

// --------------------------------------------------------------- events

void expect_event_round_trip(const Event& event) {
  const std::string text = encode(event);
  auto decoded = decode_event(text);
  ASSERT_TRUE(decoded) << decoded.error().message << "\n" << text;
  EXPECT_EQ(*decoded, event) << text;
}

TEST(MesosRoundTrip, SubscribedEventLooksLikeTheMaster) {
  EventSubscribed subscribed{"F-0001", 15, sample_master()};
  expect_event_round_trip(subscribed);
  const json::value v = parsed(encode(Event{subscribed}));
  EXPECT_EQ(v.at("type"), "SUBSCRIBED");
  EXPECT_EQ(v.at("subscribed").at("framework_id").at("value"), "F-0001");
  EXPECT_EQ(v.at("subscribed").at("heartbeat_interval_seconds").to_number<double>(), 15.0);
  EXPECT_EQ(v.at("subscribed").at("master_info").at("address").at("port"), 15050);
  EXPECT_EQ(v.at("subscribed").at("master_info").at("capabilities").at(0).at("type"),
            "AGENT_UPDATE");
  subscribed.heartbeat_interval_seconds = 0.25;
  subscribed.master_info.reset();
  expect_event_round_trip(subscribed);
}

TEST(MesosRoundTrip, OffersEvent) {
  Offer offer = sample_offer();
  EventOffers event{{offer, offer}};
  event.offers[1].url_address.reset();
  event.offers[1].executor_ids.clear();
  event.offers[1].allocation_role.reset();
  expect_event_round_trip(event);
  const json::value v = parsed(encode(Event{event}));
  const json::value& first = v.at("offers").at("offers").at(0);
  EXPECT_EQ(first.at("url").at("address").at("ip"), "10.0.0.23");
  EXPECT_EQ(first.at("allocation_info").at("role"), "etcd");
  EXPECT_EQ(first.at("executor_ids").at(0).at("value"), "etcd-exec-m1");
  expect_event_round_trip(EventOffers{});  // empty list
}

TEST(MesosRoundTrip, ReservedFlagIsNotReEncoded) {
  Offer offer = sample_offer();
  offer.resources[0].reserved = true;
  auto decoded = decode_event(encode(Event{EventOffers{{offer}}}));
  ASSERT_TRUE(decoded) << decoded.error().message;
  const auto& offers = std::get<EventOffers>(*decoded).offers;
  EXPECT_FALSE(offers[0].resources[0].reserved);
  EXPECT_EQ(offers[0].resources[0], reserved_free(offer.resources[0]));
}

TEST(MesosRoundTrip, UpdateEventShape) {
  EventUpdate event{sample_status()};
  expect_event_round_trip(event);
  const json::value v = parsed(encode(Event{event}));
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
    expect_event_round_trip(EventUpdate{minimal});
  }
}

TEST(MesosRoundTrip, OtherEvents) {
  expect_event_round_trip(EventRescind{"O1"});
  expect_event_round_trip(EventMessage{"S1", "e1", "raw\n"});
  expect_event_round_trip(EventFailure{"S1", "e1", 256});
  expect_event_round_trip(EventFailure{"S1", std::nullopt, std::nullopt});
  expect_event_round_trip(EventHeartbeat{});
  EXPECT_EQ(encode(Event{EventHeartbeat{}}), R"({"type":"HEARTBEAT"})");
  // A type this project does not use keeps its name and nothing else.
  auto inverse = decode_event(R"({"type":"INVERSE_OFFERS","inverse_offers":{"x":1}})");
  ASSERT_TRUE(inverse) << inverse.error().message;
  EXPECT_EQ(*inverse, Event{EventOther{"INVERSE_OFFERS"}});
  EXPECT_EQ(type_name(*inverse), "INVERSE_OFFERS");
}

TEST(MesosRoundTrip, ErrorEventShape) {
  Event event = EventError{"Framework has been removed"};
  expect_event_round_trip(event);
  EXPECT_EQ(encode(event), R"({"type":"ERROR","error":{"message":"Framework has been removed"}})");
}

TEST(MesosRoundTrip, DoublesSurviveExactly) {
  TaskStatus status = sample_status();
  for (double t : {0.0, 0.1, 1795535503.7908602, 1e-9, 123456789012345678.0, -2.5}) {
    status.timestamp = t;
    expect_event_round_trip(EventUpdate{status});
  }
}

TEST(MesosEncode, IntegralDoublesAreWrittenAsIntegers) {
  Event event = EventSubscribed{"F", 15, std::nullopt};
  EXPECT_NE(encode(event).find(R"("heartbeat_interval_seconds":15)"), std::string::npos);
}

}  // namespace
}  // namespace etcdmesos::mesos
