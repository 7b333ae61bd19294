// Host loss through the control endpoints, the dev cluster's own exit, the
// executor API's answers, and the ZooKeeper registration.
#include "harness.hpp"

#include "io/zk.hpp"
#include "support/zookeeper_server.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <sys/wait.h>
#include <csignal>

namespace etcdmesos::devcluster::testing {
namespace {

using io::http::verb;
namespace asio = boost::asio;
namespace json = boost::json;

bool process_gone(int pid) {
  return pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH;
}

// A scheduler with one running task of the test executor on agent 0.
struct Running {
  explicit Running(ClusterOptions options, mesos::FrameworkInfo info = framework_info())
      : cluster(options),
        artifacts(loop, {{"/devcluster-test-executor", test_executor_binary()}}),
        scheduler(loop, cluster.master()) {
    if (scheduler.subscribe(info) != 200) {
      throw std::runtime_error("subscribe failed\n" + cluster.logs());
    }
    while (offers.size() < static_cast<std::size_t>(options.agents)) {
      auto event = scheduler.wait_for_type("OFFERS");
      if (!event) {
        throw std::runtime_error("no offers\n" + cluster.logs());
      }
      for (const auto& offer : std::get<mesos::EventOffers>(*event).offers) {
        offers[offer.agent_id] = offer;
      }
    }
    agent0 = offers.begin()->first;
    auto task = executor_task(offers.at(agent0), "t1", "exec-t1",
                              artifacts.url("/devcluster-test-executor"));
    scheduler.call(accept_call(offers.at(agent0), {task}));
    auto running = scheduler.wait_for_update("t1", mesos::TaskState::kRunning, 60s);
    if (!running) {
      throw std::runtime_error("task did not run\n" + cluster.logs());
    }
    scheduler.acknowledge(*running);
    auto agents = get_json(loop, cluster.master(), "/control/agents");
    for (const auto& agent : agents.as_array()) {
      for (const auto& e : agent.at("executors").as_array()) {
        executor_pid = static_cast<int>(e.at("pid").to_number<int64_t>());
      }
    }
  }

  Loop loop;
  DevCluster cluster;
  ArtifactServer artifacts;
  Scheduler scheduler;
  std::map<std::string, mesos::Offer> offers;
  std::string agent0;
  int executor_pid = 0;
};

TEST(DevclusterControl, StoppedAgentLosesItsTasksAndComesBack) {
  Running r(options(51, 2, {"--agent-removal-delay", "1"}));
  ASSERT_GT(r.executor_pid, 0);
  // Give back the other agent's offer so that it stays outstanding.
  std::string agent1;
  for (const auto& [id, offer] : r.offers) {
    if (id != r.agent0) {
      agent1 = id;
    }
  }
  EXPECT_EQ(http(r.loop, r.cluster.master(), verb::post, "/control/agents/nope/stop", "", "")
                .result_int(),
            404);

  r.scheduler.drain();  // offers made before the stop are not wanted below
  auto stopped =
      http(r.loop, r.cluster.master(), verb::post, "/control/agents/" + r.agent0 + "/stop", "", "");
  ASSERT_EQ(stopped.result_int(), 200);
  EXPECT_FALSE(json::parse(stopped.body()).at("running").as_bool());
  EXPECT_TRUE(etcdmesos::testing::wait_until([&] { return process_gone(r.executor_pid); }, 5s));

  auto start = std::chrono::steady_clock::now();
  auto lost = r.scheduler.wait_for_update("t1", std::nullopt, 10s);
  ASSERT_TRUE(lost) << r.cluster.logs();
  EXPECT_GE(std::chrono::steady_clock::now() - start, 800ms);
  EXPECT_EQ(lost->state, mesos::TaskState::kLost);
  EXPECT_EQ(lost->reason, "REASON_AGENT_REMOVED");
  EXPECT_EQ(lost->source, "SOURCE_MASTER");
  EXPECT_FALSE(lost->uuid);
  EXPECT_EQ(lost->agent_id, r.agent0);
  auto failure = r.scheduler.wait_for_type("FAILURE");
  ASSERT_TRUE(failure);
  EXPECT_EQ(std::get<mesos::EventFailure>(*failure).agent_id, r.agent0);
  EXPECT_FALSE(std::get<mesos::EventFailure>(*failure).executor_id);

  auto state = get_json(r.loop, r.cluster.master(), "/state").as_object();
  EXPECT_EQ(state.at("slaves").as_array().size(), 1u);
  EXPECT_EQ(state.at("unreachable_slaves").to_number<double>(), 1.0);

  auto started = http(r.loop, r.cluster.master(), verb::post,
                      "/control/agents/" + r.agent0 + "/start", "", "");
  ASSERT_EQ(started.result_int(), 200);
  EXPECT_TRUE(json::parse(started.body()).at("running").as_bool());
  auto back = r.scheduler.wait_for_update("t1", std::nullopt, 10s);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->state, mesos::TaskState::kFailed);
  EXPECT_EQ(back->reason, "REASON_AGENT_REREGISTERED");
  auto offer = r.scheduler.wait_for(
      [&](const mesos::Event& e) {
        return mesos::type_name(e) == "OFFERS" && !std::get<mesos::EventOffers>(e).offers.empty() &&
               std::get<mesos::EventOffers>(e).offers[0].agent_id == r.agent0;
      },
      15s);
  ASSERT_TRUE(offer) << r.cluster.logs();
  for (const auto& res : std::get<mesos::EventOffers>(*offer).offers[0].resources) {
    if (res.name == "cpus") {
      EXPECT_DOUBLE_EQ(res.scalar, 4);  // full resources again
    }
  }
}

bool framework_active(Loop& loop, const DevCluster& cluster) {
  auto state = get_json(loop, cluster.master(), "/state");
  const auto& frameworks = state.at("frameworks").as_array();
  return !frameworks.empty() && frameworks[0].at("active").as_bool();
}

TEST(DevclusterControl, ResubscribedSchedulerFindsItsTasks) {
  Running r(options(57, 1));
  const std::string id = r.scheduler.framework_id();
  r.scheduler.disconnect();
  // The master notices at its next heartbeat write.
  ASSERT_TRUE(
      etcdmesos::testing::wait_until([&] { return !framework_active(r.loop, r.cluster); }, 10s));
  Scheduler again(r.loop, r.cluster.master());
  auto info = framework_info();
  info.id = id;
  ASSERT_EQ(again.subscribe(info), 200u);
  EXPECT_EQ(again.framework_id(), id);
  EXPECT_TRUE(framework_active(r.loop, r.cluster));

  mesos::Call reconcile = call_of(mesos::CallReconcile{});
  EXPECT_EQ(again.call(reconcile).result_int(), 202);
  auto answer = again.wait_for_update("t1");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->state, mesos::TaskState::kRunning);
  EXPECT_EQ(answer->reason, "REASON_RECONCILIATION");
  EXPECT_EQ(answer->message, "Reconciliation: Latest task state");
  EXPECT_EQ(answer->agent_id, r.agent0);
  EXPECT_FALSE(answer->uuid);
  EXPECT_FALSE(process_gone(r.executor_pid));
}

TEST(DevclusterControl, FailoverTimeoutRemovesTheFramework) {
  auto info = framework_info();
  info.failover_timeout = 1;
  Running r(options(58, 1), info);
  const std::string id = r.scheduler.framework_id();
  r.scheduler.disconnect();
  EXPECT_TRUE(etcdmesos::testing::wait_until([&] { return process_gone(r.executor_pid); }, 60s))
      << r.cluster.logs();
  auto state = get_json(r.loop, r.cluster.master(), "/state");
  EXPECT_TRUE(state.at("frameworks").as_array().empty());
  ASSERT_EQ(state.at("completed_frameworks").as_array().size(), 1u);
  EXPECT_EQ(state.at("completed_frameworks").as_array()[0].at("id").as_string(), id);

  // Coming back too late: 200, then ERROR and the end of the stream (reference §13.3).
  Scheduler late(r.loop, r.cluster.master());
  info.id = id;
  ASSERT_EQ(late.subscribe(info), 200u);
  auto error = late.next(10s);
  ASSERT_TRUE(error);
  EXPECT_EQ(mesos::type_name(*error), "ERROR");
  EXPECT_EQ(std::get<mesos::EventError>(*error).message, "Framework has been removed");
  EXPECT_TRUE(late.wait_ended(10s));
  EXPECT_TRUE(late.framework_id().empty());
}

TEST(DevclusterControl, StoppingAnAgentRescindsItsOffer) {
  Loop loop;
  DevCluster cluster(options(52, 1));
  Scheduler scheduler(loop, cluster.master());
  ASSERT_EQ(scheduler.subscribe(framework_info()), 200u);
  auto offers = scheduler.wait_for_type("OFFERS");
  ASSERT_TRUE(offers);
  const auto& offer = std::get<mesos::EventOffers>(*offers).offers.at(0);
  ASSERT_EQ(http(loop, cluster.master(), verb::post, "/control/agents/" + offer.agent_id + "/stop",
                 "", "")
                .result_int(),
            200);
  auto rescind = scheduler.wait_for_type("RESCIND");
  ASSERT_TRUE(rescind);
  EXPECT_EQ(std::get<mesos::EventRescind>(*rescind).offer_id, offer.id);
  auto agents = get_json(loop, cluster.master(), "/control/agents").as_array();
  EXPECT_FALSE(agents.at(0).at("running").as_bool());
  // The agent's HTTP server is gone with its host.
  auto ex = loop.executor();
  io::Endpoint agent{offer.url_address->ip.value(), static_cast<uint16_t>(offer.url_address->port)};
  auto refused =
      loop.run(io::http_request(ex, agent, io::make_request(verb::get, "/health", agent), 2s));
  EXPECT_FALSE(refused);
}

TEST(DevclusterControl, SigtermKillsEveryExecutorAndExitsZero) {
  Running r(options(53, 1));
  ASSERT_GT(r.executor_pid, 0);
  r.cluster.process().kill(SIGTERM);
  auto status = r.cluster.process().wait(10s);
  ASSERT_TRUE(status) << r.cluster.logs();
  EXPECT_TRUE(WIFEXITED(*status)) << r.cluster.logs();
  EXPECT_EQ(WEXITSTATUS(*status), 0) << r.cluster.logs();
  EXPECT_TRUE(etcdmesos::testing::wait_until([&] { return process_gone(r.executor_pid); }, 5s));
}

TEST(DevclusterControl, ExecutorApiAnswersLikeAnAgent) {
  Running r(options(54, 1));
  auto agents = get_json(r.loop, r.cluster.master(), "/control/agents").as_array();
  io::Endpoint agent{std::string(agents[0].at("ip").as_string()),
                     static_cast<uint16_t>(agents[0].at("port").to_number<int>())};
  const std::string api = "/api/v1/executor";
  const std::string framework = r.scheduler.framework_id();
  auto post = [&](const std::string& body, const std::string& type = "application/json") {
    return http(r.loop, agent, verb::post, api, body, type);
  };
  EXPECT_EQ(http(r.loop, agent, verb::get, api, "", "").result_int(), 405);
  EXPECT_EQ(post("{}", "").result_int(), 400);
  EXPECT_EQ(post("{}", "text/plain").result_int(), 415);
  EXPECT_EQ(post("{oops").result_int(), 400);
  EXPECT_EQ(post(R"({"type":"HEARTBEAT","executor_id":{"value":"x"},"framework_id":{"value":"y"}})")
                .result_int(),
            202);
  auto no_subscribe =
      post(R"({"type":"SUBSCRIBE","executor_id":{"value":"exec-t1"},"framework_id":{"value":")" +
           framework + R"("}})");
  EXPECT_EQ(no_subscribe.result_int(), 400);
  auto unknown_framework = post(
      R"({"type":"SUBSCRIBE","executor_id":{"value":"x"},"framework_id":{"value":"y"},"subscribe":{}})");
  EXPECT_EQ(unknown_framework.result_int(), 400);
  EXPECT_EQ(unknown_framework.body(), "Framework cannot be found");
  auto unknown_executor =
      post(R"({"type":"SUBSCRIBE","executor_id":{"value":"x"},"framework_id":{"value":")" +
           framework + R"("},"subscribe":{}})");
  EXPECT_EQ(unknown_executor.result_int(), 400);
  EXPECT_EQ(unknown_executor.body(), "Executor cannot be found");

  auto update = [&](const std::string& status_fields) {
    return post(R"({"type":"UPDATE","executor_id":{"value":"exec-t1"},"framework_id":{"value":")" +
                framework + R"("},"update":{"status":{"task_id":{"value":"t1"},)" + status_fields +
                "}}}");
  };
  const std::string uuid = R"("uuid":"bx6cni1LTBqaQ35bDY8qEQ==")";
  EXPECT_EQ(update(R"("state":"TASK_RUNNING","source":"SOURCE_EXECUTOR")").result_int(), 400);
  EXPECT_EQ(
      update(R"("state":"TASK_RUNNING","source":"SOURCE_EXECUTOR","uuid":"YWJj")").result_int(),
      400);
  EXPECT_EQ(update(R"("state":"TASK_RUNNING","source":"SOURCE_AGENT",)" + uuid).result_int(), 400);
  EXPECT_EQ(update(R"("state":"TASK_STAGING","source":"SOURCE_EXECUTOR",)" + uuid).result_int(),
            400);
  EXPECT_EQ(update(R"("state":"TASK_RUNNING","source":"SOURCE_EXECUTOR",)" + uuid).result_int(),
            202);
  // The valid UPDATE went to the scheduler like any other.
  auto relayed = r.scheduler.wait_for_update("t1");
  ASSERT_TRUE(relayed);
  EXPECT_EQ(relayed->uuid->size(), 16u);
}

TEST(DevclusterControl, UnsubscribedExecutorIsForbidden) {
  Loop loop;
  DevCluster cluster(options(55, 1));
  ArtifactServer artifacts(loop, {{"/devcluster-test-executor", test_executor_binary()}});
  Scheduler scheduler(loop, cluster.master());
  ASSERT_EQ(scheduler.subscribe(framework_info()), 200u);
  auto offers = scheduler.wait_for_type("OFFERS");
  ASSERT_TRUE(offers);
  auto task = executor_task(std::get<mesos::EventOffers>(*offers).offers[0], "t1", "exec-t1",
                            artifacts.url("/devcluster-test-executor"));
  task.executor->command->environment.push_back({"TEST_EXECUTOR_MODE", "no-subscribe"});
  scheduler.call(accept_call(std::get<mesos::EventOffers>(*offers).offers[0], {task}));
  io::Endpoint agent{
      std::get<mesos::EventOffers>(*offers).offers[0].url_address->ip.value(),
      static_cast<uint16_t>(std::get<mesos::EventOffers>(*offers).offers[0].url_address->port)};
  const std::string body =
      R"({"type":"MESSAGE","executor_id":{"value":"exec-t1"},"framework_id":{"value":")" +
      scheduler.framework_id() + R"("},"message":{"data":"aGk="}})";
  bool forbidden = etcdmesos::testing::wait_until(
      [&] {
        auto res = http(loop, agent, verb::post, "/api/v1/executor", body);
        return res.result_int() == 403 && res.body() == "Executor is not subscribed";
      },
      10s);
  EXPECT_TRUE(forbidden) << cluster.logs();
}

TEST(DevclusterControl, RegistersInZooKeeperLikeAMaster) {
  etcdmesos::testing::ZooKeeperServer zookeeper;
  Loop loop;
  DevCluster cluster(options(56, 1, {"--zk", zookeeper.url("/mesos")}));
  auto ex = loop.executor();
  auto read =
      [](asio::any_io_executor e,
         std::string servers) -> asio::awaitable<std::pair<std::vector<std::string>, std::string>> {
    io::ZkClient zk(e, servers, 10s);
    std::pair<std::vector<std::string>, std::string> out;
    if (!co_await zk.wait_connected(10s)) {
      co_return out;
    }
    auto children = co_await zk.children("/mesos");
    if (children && !children->empty()) {
      out.first = *children;
      auto data = co_await zk.get("/mesos/" + children->front());
      if (data && *data) {
        out.second = **data;
      }
    }
    co_return out;
  };
  auto [children, data] = loop.run(read(ex, zookeeper.connect_string()));
  ASSERT_EQ(children.size(), 1u) << cluster.logs();
  EXPECT_EQ(children[0], "json.info_0000000000");
  // Keys in alphabetical order, as a real master writes them (reference §19).
  EXPECT_EQ(data.rfind(R"({"address":{"hostname":"127.0.0.1","ip":"127.0.0.1","port":)", 0), 0u)
      << data;
  EXPECT_NE(data.find(R"("capabilities":[{"type":"AGENT_UPDATE"},{"type":"AGENT_DRAINING"},)"
                      R"({"type":"QUOTA_V2"}],"hostname":"127.0.0.1","id":")"),
            std::string::npos)
      << data;
  auto info = mesos::decode_master_info(data);
  ASSERT_TRUE(info) << data;
  EXPECT_EQ(info->address->ip, "127.0.0.1");
  EXPECT_EQ(info->address->port, cluster.master().port);
  EXPECT_EQ(info->port, cluster.master().port);
  EXPECT_EQ(info->ip, 16777343u);
  EXPECT_EQ(info->pid, "master@" + cluster.master().to_string());
  EXPECT_EQ(info->version, "1.12.0");
  EXPECT_EQ(get_json(loop, cluster.master(), "/state").at("id").as_string(), info->id);

  // Leaving closes the session: the node goes at once.
  cluster.process().kill(SIGTERM);
  ASSERT_TRUE(cluster.process().wait(10s));
  auto [after, ignored] = loop.run(read(ex, zookeeper.connect_string()));
  EXPECT_TRUE(after.empty());
}

}  // namespace
}  // namespace etcdmesos::devcluster::testing
