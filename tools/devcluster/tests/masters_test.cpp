// Several masters contending through ZooKeeper: one leads, the others
// redirect; failover of the leader with agents re-registering and updates
// kept while no master leads; a master whose ZooKeeper session expires exits.
#include "harness.hpp"

#include "io/zk.hpp"
#include "support/zookeeper_server.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <sys/wait.h>
#include <csignal>
#include <sstream>

namespace etcdmesos::devcluster::testing {
namespace {

using io::http::verb;
namespace asio = boost::asio;
namespace json = boost::json;

bool process_gone(int pid) {
  return pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH;
}

// Every master's endpoint from <endpoint-file>.all, one per line.
std::vector<io::Endpoint> all_masters(const DevCluster& cluster) {
  std::istringstream lines(read_text(cluster.dir() / "endpoint.all"));
  std::vector<io::Endpoint> out;
  std::string line;
  while (std::getline(lines, line)) {
    if (auto parsed = io::parse_endpoint(line)) {
      out.push_back(*parsed);
    }
  }
  return out;
}

std::string endpoint_file(const DevCluster& cluster) {
  return read_text(cluster.dir() / "endpoint");
}

io::Endpoint other_master(const DevCluster& cluster, const io::Endpoint& than) {
  for (const auto& endpoint : all_masters(cluster)) {
    if (endpoint.port != than.port) {
      return endpoint;
    }
  }
  throw std::runtime_error("no other master");
}

// The master nodes in ZooKeeper, sorted by name, with their data.
std::vector<std::pair<std::string, std::string>> master_nodes(Loop& loop,
                                                              const std::string& servers) {
  auto read =
      [](asio::any_io_executor e,
         std::string s) -> asio::awaitable<std::vector<std::pair<std::string, std::string>>> {
    io::ZkClient zk(e, s, 10s);
    std::vector<std::pair<std::string, std::string>> out;
    if (!co_await zk.wait_connected(10s)) {
      co_return out;
    }
    auto children = co_await zk.children("/mesos");
    if (!children) {
      co_return out;
    }
    std::sort(children->begin(), children->end());
    for (const auto& name : *children) {
      auto data = co_await zk.get("/mesos/" + name);
      out.emplace_back(name, data && *data ? **data : "");
    }
    co_return out;
  };
  return loop.run(read(loop.executor(), servers));
}

uint16_t node_port(const std::string& data) {
  auto info = mesos::decode_master_info(data);
  return info && info->address ? static_cast<uint16_t>(info->address->port) : 0;
}

std::string location(const io::Response& res) {
  auto it = res.find(io::http::field::location);
  return it == res.end() ? "" : std::string(it->value());
}

TEST(DevclusterMasters, OnlyOneLeadsAndTheOtherRedirects) {
  etcdmesos::testing::ZooKeeperServer zookeeper;
  Loop loop;
  DevCluster cluster(options(70, 1, {"--zk", zookeeper.url("/mesos"), "--masters", "2"}));
  auto masters = all_masters(cluster);
  ASSERT_EQ(masters.size(), 2u) << cluster.logs();
  const io::Endpoint leader = cluster.master();
  const io::Endpoint standby = other_master(cluster, leader);
  EXPECT_EQ(masters[0].port, leader.port);  // the first to register leads

  auto nodes = master_nodes(loop, zookeeper.connect_string());
  ASSERT_EQ(nodes.size(), 2u) << cluster.logs();
  EXPECT_EQ(node_port(nodes[0].second), leader.port);
  EXPECT_EQ(node_port(nodes[1].second), standby.port);

  // The standby redirects the scheduler API before any other check, always
  // to the /master/... path (reference §3).
  for (auto method : {verb::post, verb::get}) {
    auto res = http(loop, standby, method, "/api/v1/scheduler", "{}");
    EXPECT_EQ(res.result_int(), 307);
    EXPECT_EQ(location(res), "//" + leader.to_string() + "/master/api/v1/scheduler");
  }
  auto state = http(loop, standby, verb::get, "/state?jsonp=x", "", "");
  EXPECT_EQ(state.result_int(), 307);
  EXPECT_EQ(location(state), "//" + leader.to_string() + "/master/state?jsonp=x");
  for (const auto& at : {standby, leader}) {
    auto redirect = http(loop, at, verb::get, "/redirect", "", "");
    EXPECT_EQ(redirect.result_int(), 307);
    EXPECT_EQ(location(redirect), "//" + leader.to_string());
    EXPECT_EQ(http(loop, at, verb::get, "/health", "", "").result_int(), 200);
  }

  // Only the leader serves schedulers.
  Scheduler scheduler(loop, leader);
  ASSERT_EQ(scheduler.subscribe(framework_info()), 200u);
  auto subscribed_state = get_json(loop, leader, "/state");
  EXPECT_EQ(subscribed_state.at("frameworks").as_array().size(), 1u);

  auto list = get_json(loop, standby, "/control/masters").as_array();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_TRUE(list[0].at("leading").as_bool());
  EXPECT_FALSE(list[1].at("leading").as_bool());
  EXPECT_EQ(list[0].at("zk_node").as_string(), nodes[0].first);
}

TEST(DevclusterMasters, FailoverKeepsTasksAndDeliversUpdatesKeptWithoutLeader) {
  etcdmesos::testing::ZooKeeperServer zookeeper;
  Loop loop;
  DevCluster cluster(options(
      71, 2,
      {"--zk", zookeeper.url("/mesos"), "--masters", "2", "--status-update-retry-interval", "1"}));
  ArtifactServer artifacts(loop, {{"/devcluster-test-executor", test_executor_binary()}});
  const io::Endpoint old_leader = cluster.master();
  const io::Endpoint standby = other_master(cluster, old_leader);

  Scheduler scheduler(loop, old_leader);
  ASSERT_EQ(scheduler.subscribe(framework_info()), 200u) << cluster.logs();
  const std::string id = scheduler.framework_id();
  auto first_subscribed = scheduler.wait_for_type("SUBSCRIBED");
  ASSERT_TRUE(first_subscribed);
  const std::string old_master_id =
      std::get<mesos::EventSubscribed>(*first_subscribed).master_info->id;
  std::map<std::string, mesos::Offer> offers;
  while (offers.size() < 2) {
    auto event = scheduler.wait_for_type("OFFERS");
    ASSERT_TRUE(event) << cluster.logs();
    for (const auto& offer : std::get<mesos::EventOffers>(*event).offers) {
      offers[offer.agent_id] = offer;
    }
  }
  const std::string agent_a = offers.begin()->first;
  const std::string agent_b = offers.rbegin()->first;
  const std::string url = artifacts.url("/devcluster-test-executor");
  scheduler.call(
      accept_call(offers.at(agent_a), {executor_task(offers.at(agent_a), "t1", "exec-t1", url)}));
  scheduler.call(
      accept_call(offers.at(agent_b), {executor_task(offers.at(agent_b), "t2", "exec-t2", url)}));
  for (const auto* task : {"t1", "t2"}) {
    auto running = scheduler.wait_for_update(task, mesos::TaskState::kRunning, 60s);
    ASSERT_TRUE(running) << cluster.logs();
    EXPECT_EQ(scheduler.acknowledge(*running).result_int(), 202);
  }
  std::map<std::string, int> pids;
  auto agents = get_json(loop, old_leader, "/control/agents");
  for (const auto& agent : agents.as_array()) {
    for (const auto& e : agent.at("executors").as_array()) {
      pids[std::string(e.at("executor_id").as_string())] =
          static_cast<int>(e.at("pid").to_number<int64_t>());
    }
  }
  ASSERT_EQ(pids.size(), 2u);

  // Fail over, asked on the standby's port, with 4 s without a leader.
  auto failover = http(loop, standby, verb::post, "/control/masters/failover?gap=4", "", "");
  ASSERT_EQ(failover.result_int(), 200) << failover.body();
  EXPECT_TRUE(scheduler.wait_ended(10s)) << cluster.logs();
  for (const auto& at : {standby, old_leader}) {
    auto res = http(loop, at, verb::post, "/api/v1/scheduler", "{}");
    EXPECT_EQ(res.result_int(), 503);
    EXPECT_EQ(res.body(), "No leader elected");
  }
  // The executor of t2 dies while no master leads: its agent keeps the
  // TASK_FAILED update.
  ::kill(pids.at("exec-t2"), SIGKILL);
  ASSERT_TRUE(etcdmesos::testing::wait_until([&] { return process_gone(pids.at("exec-t2")); }, 3s));
  EXPECT_EQ(endpoint_file(cluster), old_leader.to_string());

  // The standby leads, in ZooKeeper and in the endpoint file; the old
  // leader queued up again behind it as a new master.
  ASSERT_TRUE(etcdmesos::testing::wait_until(
      [&] { return endpoint_file(cluster) == standby.to_string(); }, 20s))
      << cluster.logs();
  auto nodes = master_nodes(loop, zookeeper.connect_string());
  ASSERT_EQ(nodes.size(), 2u);
  EXPECT_EQ(node_port(nodes[0].second), standby.port);
  EXPECT_EQ(node_port(nodes[1].second), old_leader.port);
  EXPECT_NE(nodes[1].first, "json.info_0000000000");
  auto redirect = http(loop, old_leader, verb::post, "/api/v1/scheduler", "{}");
  EXPECT_EQ(redirect.result_int(), 307);
  EXPECT_EQ(location(redirect), "//" + standby.to_string() + "/master/api/v1/scheduler");

  // Before the framework comes back the new leader knows its tasks from the
  // agents' re-registration (each after its random backoff).
  ASSERT_TRUE(wait_for_agents(loop, standby, 2)) << cluster.logs();
  auto state = get_json(loop, standby, "/state");
  ASSERT_EQ(state.at("frameworks").as_array().size(), 1u) << state;
  const auto& recovered = state.at("frameworks").as_array()[0];
  EXPECT_EQ(recovered.at("id").as_string(), id);
  EXPECT_FALSE(recovered.at("connected").as_bool());
  bool t1_running = false;
  for (const auto& task : recovered.at("tasks").as_array()) {
    t1_running |=
        task.at("id").as_string() == "t1" && task.at("state").as_string() == "TASK_RUNNING";
  }
  EXPECT_TRUE(t1_running) << state;

  Scheduler again(loop, standby);
  auto info = framework_info();
  info.id = id;
  ASSERT_EQ(again.subscribe(info), 200u);
  EXPECT_EQ(again.framework_id(), id);
  auto subscribed = again.wait_for_type("SUBSCRIBED");
  ASSERT_TRUE(subscribed);
  EXPECT_NE(std::get<mesos::EventSubscribed>(*subscribed).master_info->id, old_master_id);
  EXPECT_EQ(std::get<mesos::EventSubscribed>(*subscribed).master_info->port, standby.port);

  // The update produced while no master led arrives now.
  auto failed = again.wait_for_update("t2", mesos::TaskState::kFailed, 20s);
  ASSERT_TRUE(failed) << cluster.logs();
  EXPECT_EQ(failed->reason, "REASON_EXECUTOR_TERMINATED");
  EXPECT_TRUE(failed->uuid);
  EXPECT_EQ(again.acknowledge(*failed).result_int(), 202);

  // No task lost: t1 still runs and the new leader answers for it.
  mesos::Call reconcile = call_of(mesos::CallReconcile{});
  std::get<mesos::CallReconcile>(reconcile.payload).tasks.push_back({"t1", agent_a});
  EXPECT_EQ(again.call(reconcile).result_int(), 202);
  auto answer = again.wait_for_update("t1");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->state, mesos::TaskState::kRunning);
  EXPECT_EQ(answer->reason, "REASON_RECONCILIATION");
  EXPECT_FALSE(process_gone(pids.at("exec-t1")));
}

TEST(DevclusterMasters, FrameworkThatDoesNotComeBackIsRemovedByTheNewLeader) {
  etcdmesos::testing::ZooKeeperServer zookeeper;
  Loop loop;
  DevCluster cluster(options(72, 1, {"--zk", zookeeper.url("/mesos"), "--masters", "2"}));
  ArtifactServer artifacts(loop, {{"/devcluster-test-executor", test_executor_binary()}});
  const io::Endpoint old_leader = cluster.master();
  const io::Endpoint standby = other_master(cluster, old_leader);
  Scheduler scheduler(loop, old_leader);
  auto info = framework_info();
  info.failover_timeout = 3;
  ASSERT_EQ(scheduler.subscribe(info), 200u);
  auto offers = scheduler.wait_for_type("OFFERS");
  ASSERT_TRUE(offers);
  const auto& offer = std::get<mesos::EventOffers>(*offers).offers.at(0);
  scheduler.call(accept_call(
      offer, {executor_task(offer, "t1", "exec-t1", artifacts.url("/devcluster-test-executor"))}));
  ASSERT_TRUE(scheduler.wait_for_update("t1", mesos::TaskState::kRunning, 60s)) << cluster.logs();
  int pid = 0;
  auto agents = get_json(loop, old_leader, "/control/agents");
  for (const auto& agent : agents.as_array()) {
    for (const auto& e : agent.at("executors").as_array()) {
      pid = static_cast<int>(e.at("pid").to_number<int64_t>());
    }
  }
  ASSERT_GT(pid, 0);

  auto failed_over_at = std::chrono::steady_clock::now();
  ASSERT_EQ(http(loop, old_leader, verb::post, "/control/masters/failover", "", "").result_int(),
            200);
  ASSERT_TRUE(etcdmesos::testing::wait_until(
      [&] { return endpoint_file(cluster) == standby.to_string(); }, 20s));
  // The failover timeout runs from the agent's re-registration with the new
  // leader (up to 1 s after the leader change): the executor is shut down
  // 3-4 s later, not before.
  ASSERT_TRUE(etcdmesos::testing::wait_until([&] { return process_gone(pid); }, 30s))
      << cluster.logs();
  EXPECT_GE(std::chrono::steady_clock::now() - failed_over_at, 2500ms);
  auto state = get_json(loop, standby, "/state");
  EXPECT_TRUE(state.at("frameworks").as_array().empty()) << state;
  ASSERT_EQ(state.at("completed_frameworks").as_array().size(), 1u) << state;

  Scheduler again(loop, standby);
  info.id = scheduler.framework_id();
  ASSERT_EQ(again.subscribe(info), 200u);
  auto error = again.next(10s);
  ASSERT_TRUE(error);
  EXPECT_EQ(mesos::type_name(*error), "ERROR");
  EXPECT_EQ(std::get<mesos::EventError>(*error).message, "Framework has been removed");
  EXPECT_TRUE(again.wait_ended(10s));
}

TEST(DevclusterMasters, ExpiredZooKeeperSessionEndsTheProcess) {
  etcdmesos::testing::ZooKeeperServer zookeeper;
  Loop loop;
  DevCluster cluster(options(
      73, 0, {"--zk", zookeeper.url("/mesos"), "--masters", "2", "--zk-session-timeout", "2"}));
  ASSERT_EQ(master_nodes(loop, zookeeper.connect_string()).size(), 2u);
  // Frozen longer than the session timeout: ZooKeeper expires the session,
  // and the process learns it when it runs again.
  cluster.process().kill(SIGSTOP);
  std::this_thread::sleep_for(5s);
  cluster.process().kill(SIGCONT);
  auto status = cluster.process().wait(20s);
  ASSERT_TRUE(status) << cluster.logs();
  ASSERT_TRUE(WIFEXITED(*status)) << cluster.logs();
  EXPECT_NE(WEXITSTATUS(*status), 0);
  EXPECT_NE(cluster.logs().find("ZooKeeper session expired"), std::string::npos) << cluster.logs();
  EXPECT_TRUE(master_nodes(loop, zookeeper.connect_string()).empty());
}

TEST(DevclusterMasters, ZooKeeperBlipWithinTheSessionIsSurvived) {
  etcdmesos::testing::ZooKeeperServer zookeeper;
  Loop loop;
  DevCluster cluster(options(
      74, 0, {"--zk", zookeeper.url("/mesos"), "--masters", "2", "--zk-session-timeout", "20"}));
  auto before = master_nodes(loop, zookeeper.connect_string());
  ASSERT_EQ(before.size(), 2u);
  zookeeper.restart();
  // Reconnected within the session: the same nodes, the same leader.
  ASSERT_TRUE(etcdmesos::testing::wait_until(
      [&] { return master_nodes(loop, zookeeper.connect_string()) == before; }, 15s));
  std::this_thread::sleep_for(1s);
  EXPECT_TRUE(cluster.process().running()) << cluster.logs();
  auto redirect =
      http(loop, other_master(cluster, cluster.master()), verb::get, "/redirect", "", "");
  EXPECT_EQ(location(redirect), "//" + cluster.master().to_string());
}

TEST(DevclusterMasters, SeveralMastersNeedZooKeeper) {
  etcdmesos::testing::TempDir dir("devcluster-test");
  etcdmesos::testing::ChildProcess process(
      {DEVCLUSTER_BINARY, "--masters", "2", "--port", "0", "--agents", "0"}, dir.path() / "log");
  auto status = process.wait(10s);
  ASSERT_TRUE(status);
  ASSERT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 2);
  EXPECT_NE(process.stderr_text().find("--masters > 1 requires --zk"), std::string::npos)
      << process.stderr_text();
}

TEST(DevclusterMasters, SingleMasterFailoverComesBackWithANewId) {
  Loop loop;
  DevCluster cluster(options(75, 0));
  const std::string before =
      std::string(get_json(loop, cluster.master(), "/state").at("id").as_string());
  Scheduler scheduler(loop, cluster.master());
  ASSERT_EQ(scheduler.subscribe(framework_info()), 200u);
  auto answer = http(loop, cluster.master(), verb::post, "/control/masters/failover?gap=1", "", "");
  ASSERT_EQ(answer.result_int(), 200) << answer.body();
  EXPECT_EQ(json::parse(answer.body()).at("previous_id").as_string(), before);
  EXPECT_TRUE(scheduler.wait_ended(10s));
  EXPECT_EQ(http(loop, cluster.master(), verb::get, "/redirect", "", "").result_int(), 503);
  EXPECT_EQ(
      http(loop, cluster.master(), verb::post, "/control/masters/failover", "", "").result_int(),
      409);
  ASSERT_TRUE(wait_for_leader(loop, cluster.master(), 10s));
  auto state = get_json(loop, cluster.master(), "/state");
  EXPECT_NE(state.at("id").as_string(), before);
  EXPECT_TRUE(state.at("frameworks").as_array().empty());
  EXPECT_EQ(http(loop, cluster.master(), verb::get, "/control/masters/failover?gap=x", "", "")
                .result_int(),
            405);
  EXPECT_EQ(http(loop, cluster.master(), verb::post, "/control/masters/failover?gap=-1", "", "")
                .result_int(),
            400);
}

}  // namespace
}  // namespace etcdmesos::devcluster::testing
