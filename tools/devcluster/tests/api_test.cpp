// The scheduler API of mesos-devcluster: status codes, subscription,
// heartbeats, offers, filters, failover, teardown and reconciliation, checked
// against the behaviour of Mesos 1.12 recorded in the reference sheet.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace etcdmesos::devcluster::testing {
namespace {

using io::http::status;
using io::http::verb;
namespace json = boost::json;

const std::string kApi = "/api/v1/scheduler";

unsigned post_status(Loop& loop, const DevCluster& cluster, const std::string& body,
                     const std::string& content_type = "application/json",
                     const std::vector<Header>& headers = {}) {
  return http(loop, cluster.master(), verb::post, kApi, body, content_type, headers).result_int();
}

std::vector<mesos::Offer> wait_offers(Scheduler& scheduler,
                                      std::chrono::milliseconds timeout = 10s) {
  auto event = scheduler.wait_for_type("OFFERS", timeout);
  return event ? std::get<mesos::EventOffers>(*event).offers : std::vector<mesos::Offer>{};
}

TEST(DevclusterApi, StatusCodesFollowMesos) {
  Loop loop;
  DevCluster cluster(options(11, 1));
  const auto& master = cluster.master();

  auto get = http(loop, master, verb::get, kApi, "", "");
  EXPECT_EQ(get.result_int(), 405);
  EXPECT_EQ(get[io::http::field::allow], "POST");

  auto no_type = http(loop, master, verb::post, kApi, "{}", "");
  EXPECT_EQ(no_type.result_int(), 400);
  EXPECT_EQ(no_type.body(), "Expecting 'Content-Type' to be present");
  EXPECT_EQ(post_status(loop, cluster, "{}", "application/json; charset=utf-8"), 415);
  EXPECT_EQ(post_status(loop, cluster, "{}", "Application/JSON"), 415);
  EXPECT_EQ(post_status(loop, cluster, "{not json"), 400);
  auto missing_type = http(loop, master, verb::post, kApi, "{}");
  EXPECT_EQ(missing_type.result_int(), 400);
  EXPECT_EQ(missing_type.body(),
            "Failed to validate scheduler::Call: Expecting 'type' to be present");
  EXPECT_EQ(post_status(loop, cluster, R"({"type":"NO_SUCH_CALL"})"), 400);

  mesos::Call subscribe_call = call_of(mesos::CallSubscribe{framework_info(), {}});
  std::string subscribe = mesos::encode(subscribe_call);
  EXPECT_EQ(
      post_status(loop, cluster, subscribe, "application/json", {{"Accept", "application/xml"}}),
      406);
  auto with_stream = http(loop, master, verb::post, kApi, subscribe, "application/json",
                          {{"Mesos-Stream-Id", "x"}});
  EXPECT_EQ(with_stream.result_int(), 400);
  EXPECT_EQ(with_stream.body(), "Subscribe calls should not include the 'Mesos-Stream-Id' header");
  auto differing = framework_info();
  differing.id = "a";
  mesos::Call differs{"b", mesos::CallSubscribe{differing, {}}};
  EXPECT_EQ(post_status(loop, cluster, mesos::encode(differs)), 400);

  auto no_framework = http(loop, master, verb::post, kApi, R"({"type":"REVIVE"})");
  EXPECT_EQ(no_framework.result_int(), 400);
  EXPECT_EQ(no_framework.body(),
            "Failed to validate scheduler::Call: Expecting 'framework_id' to be present");
  auto unknown =
      http(loop, master, verb::post, kApi, R"({"type":"REVIVE","framework_id":{"value":"nope"}})");
  EXPECT_EQ(unknown.result_int(), 400);
  EXPECT_EQ(unknown.body(), "Framework cannot be found");

  Scheduler scheduler(loop, master);
  ASSERT_EQ(scheduler.subscribe(framework_info()), 200u) << cluster.logs();
  const std::string id = scheduler.framework_id();
  const std::string revive =
      R"({"type":"REVIVE","framework_id":{"value":")" + id + R"("},"revive":{}})";
  auto no_stream = http(loop, master, verb::post, kApi, revive);
  EXPECT_EQ(no_stream.result_int(), 400);
  EXPECT_EQ(no_stream.body(),
            "All non-subscribe calls should include the 'Mesos-Stream-Id' header");
  EXPECT_EQ(post_status(loop, cluster, revive, "application/json", {{"Mesos-Stream-Id", "bad"}}),
            400);
  EXPECT_EQ(post_status(loop, cluster, revive, "application/json",
                        {{"Mesos-Stream-Id", scheduler.stream_id()}}),
            202);
  // REVIVE without its optional payload is fine too.
  EXPECT_EQ(scheduler.call(call_of(mesos::CallRevive{})).result_int(), 202);

  // A real master aborts on UNKNOWN; this one answers and stays up.
  auto unknown_type = http(loop, master, verb::post, kApi,
                           R"({"type":"UNKNOWN","framework_id":{"value":")" + id + R"("}})",
                           "application/json", {{"Mesos-Stream-Id", scheduler.stream_id()}});
  EXPECT_EQ(unknown_type.result_int(), 400);
  EXPECT_EQ(http(loop, master, verb::get, "/health", "", "").result_int(), 200);

  mesos::CallAcknowledge ack{"agent", "task", "not-16-bytes"};
  EXPECT_EQ(scheduler.call(call_of(ack)).result_int(), 400);
  ack.uuid = std::string(16, '\x01');  // version nibble 0: not a UUID
  EXPECT_EQ(scheduler.call(call_of(ack)).result_int(), 400);
  ack.uuid = std::string("\x12\x34\x56\x78\x12\x34\x41\x11\x81\x11\x11\x11\x11\x11\x11\x11", 16);
  EXPECT_EQ(scheduler.call(call_of(ack)).result_int(), 202);

  // A typed Call cannot lack its payload: the JSON is written by hand.
  auto missing_payload = http(loop, master, verb::post, kApi,
                              R"({"type":"ACCEPT","framework_id":{"value":")" + id + R"("}})",
                              "application/json", {{"Mesos-Stream-Id", scheduler.stream_id()}});
  EXPECT_EQ(missing_payload.result_int(), 400);
  EXPECT_EQ(missing_payload.body(),
            "Failed to validate scheduler::Call: Expecting 'accept' to be present");

  // Once the subscription connection is gone, calls get 403.
  scheduler.disconnect();
  bool forbidden = etcdmesos::testing::wait_until(
      [&] {
        return post_status(loop, cluster, revive, "application/json",
                           {{"Mesos-Stream-Id", scheduler.stream_id()}}) == 403;
      },
      10s);
  EXPECT_TRUE(forbidden) << cluster.logs();
}

TEST(DevclusterApi, SubscribeGetsHeartbeatsAndOneOfferPerAgent) {
  Loop loop;
  DevCluster cluster(options(12, 2, {}, 0.3));
  Scheduler scheduler(loop, cluster.master());
  ASSERT_EQ(scheduler.subscribe(framework_info()), 200u);
  EXPECT_FALSE(scheduler.stream_id().empty());

  auto subscribed = scheduler.next();
  ASSERT_TRUE(subscribed);
  ASSERT_EQ(mesos::type_name(*subscribed), "SUBSCRIBED");
  const auto& sub = std::get<mesos::EventSubscribed>(*subscribed);
  const auto& info = *sub.master_info;
  EXPECT_EQ(sub.framework_id, info.id + "-0000");
  EXPECT_DOUBLE_EQ(sub.heartbeat_interval_seconds, 0.3);
  EXPECT_EQ(info.port, cluster.master().port);
  EXPECT_EQ(info.ip, 16777343u);  // 127.0.0.1 as s_addr
  EXPECT_EQ(info.pid, "master@127.0.0.1:" + std::to_string(cluster.master().port));
  EXPECT_EQ(info.version, "1.12.0");
  EXPECT_EQ(mesos::type_name(*scheduler.next()), "HEARTBEAT");

  std::map<std::string, mesos::Offer> by_agent;
  while (by_agent.size() < 2) {
    auto offers = wait_offers(scheduler);
    ASSERT_FALSE(offers.empty()) << cluster.logs();
    for (const auto& offer : offers) {
      EXPECT_FALSE(by_agent.contains(offer.agent_id)) << "two offers for one agent";
      by_agent[offer.agent_id] = offer;
    }
  }
  for (int i = 0; i < 2; ++i) {
    const auto& offer = by_agent.at(info.id + "-S" + std::to_string(i));
    EXPECT_EQ(offer.framework_id, scheduler.framework_id());
    EXPECT_EQ(offer.hostname, cluster.agent_ip(i));
    ASSERT_TRUE(offer.url_address);
    EXPECT_EQ(offer.url_address->ip, cluster.agent_ip(i));
    EXPECT_EQ(offer.allocation_role, "etcd");
    std::map<std::string, mesos::Resource> resources;
    for (const auto& r : offer.resources) {
      resources[r.name] = r;
      EXPECT_EQ(r.role, "*");
      EXPECT_EQ(r.allocation_role, "etcd");
    }
    EXPECT_DOUBLE_EQ(resources.at("cpus").scalar, 4);
    EXPECT_DOUBLE_EQ(resources.at("mem").scalar, 4096);
    EXPECT_DOUBLE_EQ(resources.at("disk").scalar, 10240);
    EXPECT_EQ(resources.at("ports").ranges, (std::vector<mesos::Range>{{31000, 31999}}));
  }
  // Heartbeats keep coming at the interval.
  scheduler.drain();
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(scheduler.wait_for_type("HEARTBEAT", 2s));
  EXPECT_TRUE(scheduler.wait_for_type("HEARTBEAT", 2s));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 250ms);
}

TEST(DevclusterApi, WithoutMultiRoleOffersHaveNoAllocationInfo) {
  Loop loop;
  DevCluster cluster(options(13, 1));
  Scheduler scheduler(loop, cluster.master());
  auto info = framework_info();
  info.roles.clear();
  info.capabilities.clear();
  ASSERT_EQ(scheduler.subscribe(info), 200u);
  auto offers = wait_offers(scheduler);
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_FALSE(offers[0].allocation_role);
  for (const auto& r : offers[0].resources) {
    EXPECT_FALSE(r.allocation_role);
  }
}

TEST(DevclusterApi, SecondSubscriptionFailsOverTheFirst) {
  Loop loop;
  DevCluster cluster(options(14, 1));
  Scheduler first(loop, cluster.master());
  ASSERT_EQ(first.subscribe(framework_info()), 200u);
  ASSERT_FALSE(wait_offers(first).empty());

  auto info = framework_info();
  info.id = first.framework_id();
  Scheduler second(loop, cluster.master());
  ASSERT_EQ(second.subscribe(info), 200u);
  EXPECT_NE(second.stream_id(), first.stream_id());
  EXPECT_EQ(second.framework_id(), first.framework_id());

  auto error = first.wait_for_type("ERROR");
  ASSERT_TRUE(error);
  EXPECT_EQ(std::get<mesos::EventError>(*error).message, "Framework failed over");
  EXPECT_TRUE(first.wait_ended());
  // The old offer is gone; the new subscription gets the agent offered.
  EXPECT_FALSE(wait_offers(second).empty());
  EXPECT_EQ(first.call(call_of(mesos::CallRevive{})).result_int(), 400);  // old stream id
}

TEST(DevclusterApi, SubscribeWithUnknownIdIsAccepted) {
  Loop loop;
  DevCluster cluster(options(15, 1));
  Scheduler scheduler(loop, cluster.master());
  auto info = framework_info();
  info.id = "made-up-id-0001";
  ASSERT_EQ(scheduler.subscribe(info), 200u);
  EXPECT_EQ(scheduler.framework_id(), "made-up-id-0001");
}

TEST(DevclusterApi, DeclineFilterExpiresAndReviveClearsIt) {
  Loop loop;
  DevCluster cluster(options(16, 1, {"--allocation-interval", "0.2"}));
  Scheduler scheduler(loop, cluster.master());
  ASSERT_EQ(scheduler.subscribe(framework_info()), 200u);
  auto offers = wait_offers(scheduler);
  ASSERT_EQ(offers.size(), 1u);

  mesos::Call decline = call_of(mesos::CallDecline{{offers[0].id}, mesos::Filters{1.5}});
  EXPECT_EQ(scheduler.call(decline).result_int(), 202);
  auto start = std::chrono::steady_clock::now();
  auto again = wait_offers(scheduler, 10s);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 1400ms);
  EXPECT_NE(again[0].id, offers[0].id);

  decline.payload = mesos::CallDecline{{again[0].id}, mesos::Filters{3600}};
  EXPECT_EQ(scheduler.call(decline).result_int(), 202);
  EXPECT_FALSE(scheduler.wait_for_type("OFFERS", 1500ms));
  EXPECT_EQ(scheduler.call(call_of(mesos::CallRevive{})).result_int(), 202);
  EXPECT_EQ(wait_offers(scheduler, 5s).size(), 1u);
}

TEST(DevclusterApi, SuppressStopsOffersUntilRevive) {
  Loop loop;
  DevCluster cluster(options(17, 1, {"--allocation-interval", "0.2"}));
  Scheduler scheduler(loop, cluster.master());
  ASSERT_EQ(scheduler.subscribe(framework_info()), 200u);
  auto offers = wait_offers(scheduler);
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(scheduler.call(call_of(mesos::CallSuppress{})).result_int(), 202);
  mesos::Call decline = call_of(mesos::CallDecline{{offers[0].id}, mesos::Filters{0}});
  EXPECT_EQ(scheduler.call(decline).result_int(), 202);
  EXPECT_FALSE(scheduler.wait_for_type("OFFERS", 1500ms));
  EXPECT_EQ(scheduler.call(call_of(mesos::CallRevive{})).result_int(), 202);
  EXPECT_EQ(wait_offers(scheduler, 5s).size(), 1u);
}

TEST(DevclusterApi, TeardownEndsTheStreamAndRemovesTheFramework) {
  Loop loop;
  DevCluster cluster(options(18, 1));
  Scheduler scheduler(loop, cluster.master());
  ASSERT_EQ(scheduler.subscribe(framework_info()), 200u);
  const std::string id = scheduler.framework_id();
  EXPECT_EQ(scheduler.call(call_of(mesos::CallTeardown{})).result_int(), 202);
  // The stream ends with the zero chunk and without an ERROR event.
  EXPECT_FALSE(scheduler.wait_for_type("ERROR", 2s));
  EXPECT_TRUE(scheduler.wait_ended());

  auto state = get_json(loop, cluster.master(), "/state").as_object();
  EXPECT_TRUE(state.at("frameworks").as_array().empty());
  ASSERT_EQ(state.at("completed_frameworks").as_array().size(), 1u);
  EXPECT_EQ(state.at("completed_frameworks").as_array()[0].at("id").as_string(), id);

  Scheduler again(loop, cluster.master());
  auto info = framework_info();
  info.id = id;
  ASSERT_EQ(again.subscribe(info), 200u);
  auto error = again.next();
  ASSERT_TRUE(error);
  EXPECT_EQ(mesos::type_name(*error), "ERROR");
  EXPECT_EQ(std::get<mesos::EventError>(*error).message, "Framework has been removed");
  EXPECT_TRUE(again.wait_ended());
}

TEST(DevclusterApi, ReconciliationOfUnknownTasks) {
  Loop loop;
  DevCluster cluster(options(19, 1));
  Scheduler scheduler(loop, cluster.master());
  ASSERT_EQ(scheduler.subscribe(framework_info()), 200u);
  auto offers = wait_offers(scheduler);
  ASSERT_EQ(offers.size(), 1u);
  const std::string agent = offers[0].agent_id;

  mesos::Call implicit = call_of(mesos::CallReconcile{});
  EXPECT_EQ(scheduler.call(implicit).result_int(), 202);
  EXPECT_FALSE(scheduler.wait_for_type("UPDATE", 1s));  // no tasks: no answers

  mesos::Call explicit_call =
      call_of(mesos::CallReconcile{{{"t-unknown", std::nullopt}, {"t-agent", agent}}});
  EXPECT_EQ(scheduler.call(explicit_call).result_int(), 202);
  auto unknown = scheduler.wait_for_update("t-unknown");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->state, mesos::TaskState::kLost);
  EXPECT_EQ(unknown->reason, "REASON_RECONCILIATION");
  EXPECT_EQ(unknown->source, "SOURCE_MASTER");
  EXPECT_EQ(unknown->message, "Reconciliation: Task is unknown");
  EXPECT_FALSE(unknown->uuid);
  auto on_agent = scheduler.wait_for_update("t-agent");
  ASSERT_TRUE(on_agent);
  EXPECT_EQ(on_agent->state, mesos::TaskState::kLost);
  EXPECT_EQ(on_agent->message, "Reconciliation: Task is unknown to the agent");
  EXPECT_EQ(on_agent->agent_id, agent);

  // A partition-aware framework gets the precise states.
  Scheduler aware(loop, cluster.master());
  auto info = framework_info("aware");
  info.capabilities.push_back("PARTITION_AWARE");
  ASSERT_EQ(aware.subscribe(info), 200u);
  EXPECT_EQ(aware.call(explicit_call).result_int(), 202);
  EXPECT_EQ(aware.wait_for_update("t-unknown")->state, mesos::TaskState::kUnknown);
  EXPECT_EQ(aware.wait_for_update("t-agent")->state, mesos::TaskState::kGone);

  // KILL of an unknown task is answered like reconciliation.
  mesos::Call kill = call_of(mesos::CallKill{"t-never", agent, std::nullopt});
  EXPECT_EQ(scheduler.call(kill).result_int(), 202);
  auto killed = scheduler.wait_for_update("t-never");
  ASSERT_TRUE(killed);
  EXPECT_EQ(killed->state, mesos::TaskState::kLost);
  EXPECT_EQ(killed->reason, "REASON_RECONCILIATION");
}

TEST(DevclusterApi, StateHealthAndRedirect) {
  Loop loop;
  DevCluster cluster(options(20, 2));
  Scheduler scheduler(loop, cluster.master());
  ASSERT_EQ(scheduler.subscribe(framework_info()), 200u);
  ASSERT_FALSE(wait_offers(scheduler).empty());

  auto state = get_json(loop, cluster.master(), "/master/state").as_object();
  const std::string master_id(state.at("id").as_string());
  EXPECT_EQ(state.at("pid").as_string(), "master@" + cluster.master().to_string());
  EXPECT_EQ(state.at("leader_info").at("id").as_string(), master_id);
  EXPECT_EQ(state.at("leader_info").at("port").to_number<int>(), cluster.master().port);
  const auto& slaves = state.at("slaves").as_array();
  ASSERT_EQ(slaves.size(), 2u);
  EXPECT_EQ(slaves[0].at("id").as_string(), master_id + "-S0");
  EXPECT_EQ(slaves[0].at("hostname").as_string(), cluster.agent_ip(0));
  EXPECT_TRUE(slaves[0].at("active").as_bool());
  EXPECT_EQ(slaves[0].at("resources").at("cpus").to_number<double>(), 4.0);
  EXPECT_EQ(slaves[0].at("resources").at("ports").as_string(), "[31000-31999]");
  std::string pid(slaves[1].at("pid").as_string());
  EXPECT_EQ(pid.substr(0, pid.find(':')), "slave(1)@" + cluster.agent_ip(1));
  const auto& frameworks = state.at("frameworks").as_array();
  ASSERT_EQ(frameworks.size(), 1u);
  EXPECT_EQ(frameworks[0].at("id").as_string(), scheduler.framework_id());
  EXPECT_TRUE(frameworks[0].at("active").as_bool());
  EXPECT_EQ(frameworks[0].at("roles").as_array().size(), 1u);
  EXPECT_TRUE(state.at("completed_frameworks").as_array().empty());

  EXPECT_EQ(http(loop, cluster.master(), verb::get, "/state.json", "", "").result_int(), 404);
  EXPECT_EQ(http(loop, cluster.master(), verb::get, "/health", "", "").result_int(), 200);
  auto redirect = http(loop, cluster.master(), verb::get, "/redirect", "", "");
  EXPECT_EQ(redirect.result_int(), 307);
  EXPECT_EQ(redirect[io::http::field::location], "//" + cluster.master().to_string());
}

}  // namespace
}  // namespace etcdmesos::devcluster::testing
