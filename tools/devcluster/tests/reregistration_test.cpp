// After a master failover the agents re-register with the new leader one by
// one, after a backoff (?reregister=S, else random 0-1 s). Until then the
// leader does not know an agent, as a real master with
// --registry=in_memory: reconciliation of its tasks answers TASK_UNKNOWN
// (TASK_LOST without PARTITION_AWARE), it offers nothing, and an agent that
// is down when its time comes registers when it starts again. The window
// in which those answers once destroyed a serving etcd cluster on real
// Mesos.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <csignal>

namespace etcdmesos::devcluster::testing {
namespace {

using io::http::verb;
namespace json = boost::json;

std::string master_id(Loop& loop, const DevCluster& cluster) {
  return std::string(get_json(loop, cluster.master(), "/state").at("id").as_string());
}

std::size_t agents_in_state(Loop& loop, const DevCluster& cluster) {
  return get_json(loop, cluster.master(), "/state").at("slaves").as_array().size();
}

// Fails the (only) master over with `query` ("?reregister=4") and waits
// until it leads again; returns the new master's id.
std::string fail_over(Loop& loop, const DevCluster& cluster, const std::string& query) {
  auto answer =
      http(loop, cluster.master(), verb::post, "/control/masters/failover" + query, "", "");
  if (answer.result_int() != 200) {
    throw std::runtime_error("failover: " + std::to_string(answer.result_int()) + " " +
                             answer.body());
  }
  const std::string previous(json::parse(answer.body()).at("previous_id").as_string());
  if (!wait_for_leader(loop, cluster.master()) || master_id(loop, cluster) == previous) {
    throw std::runtime_error("no new leader after the failover:\n" + cluster.logs());
  }
  return master_id(loop, cluster);
}

std::string reregistered(const std::string& agent_id, const std::string& master) {
  return "agent '" + agent_id + "' re-registers with master '" + master + "'";
}

// `first` and `then` are both in the dev cluster's log, `first` earlier.
void logged_in_order(const std::string& logs, const std::string& first, const std::string& then) {
  const auto first_at = logs.find(first);
  const auto then_at = logs.find(then);
  ASSERT_NE(first_at, std::string::npos) << first << "\n" << logs;
  ASSERT_NE(then_at, std::string::npos) << then << "\n" << logs;
  EXPECT_LT(first_at, then_at) << logs;
}

mesos::TaskStatus reconcile(Scheduler& scheduler, const std::string& task_id,
                            const std::string& agent_id) {
  mesos::Call call = call_of(mesos::CallReconcile{});
  std::get<mesos::CallReconcile>(call.payload).tasks.push_back({task_id, agent_id});
  EXPECT_EQ(scheduler.call(call).result_int(), 202);
  auto answer = scheduler.wait_for_update(task_id, std::nullopt, 10s);
  if (!answer) {
    throw std::runtime_error("no reconciliation answer for " + task_id);
  }
  return *answer;
}

// The first OFFERS event of `scheduler`, with its one offer.
mesos::Offer first_offer(Scheduler& scheduler, const DevCluster& cluster) {
  auto event = scheduler.wait_for_type("OFFERS");
  if (!event) {
    throw std::runtime_error("no offer:\n" + cluster.logs());
  }
  return std::get<mesos::EventOffers>(*event).offers.at(0);
}

// A dev cluster with one agent running task "t1" of a framework, its
// TASK_RUNNING acknowledged; then a failover with ?reregister=4 and the
// framework re-subscribed to the new leader, which does not know the agent
// yet.
struct TaskAcrossFailover {
  TaskAcrossFailover(int subnet, bool partition_aware)
      : cluster(options(subnet, 1)),
        artifacts(loop, {{"/devcluster-test-executor", test_executor_binary()}}),
        info(framework_info()),
        before(loop, cluster.master()),
        after(loop, cluster.master()) {
    if (partition_aware) {
      info.capabilities.push_back("PARTITION_AWARE");
    }
    if (before.subscribe(info) != 200) {
      throw std::runtime_error("SUBSCRIBE failed:\n" + cluster.logs());
    }
    const mesos::Offer offer = first_offer(before, cluster);
    agent = offer.agent_id;
    before.call(accept_call(offer, {executor_task(offer, "t1", "exec-t1",
                                                  artifacts.url("/devcluster-test-executor"))}));
    auto running = before.wait_for_update("t1", mesos::TaskState::kRunning, 60s);
    if (!running || before.acknowledge(*running).result_int() != 202) {
      throw std::runtime_error("t1 does not run:\n" + cluster.logs());
    }
    executor_pid = static_cast<int>(get_json(loop, cluster.master(), "/control/agents")
                                        .at(0)
                                        .at("executors")
                                        .at(0)
                                        .at("pid")
                                        .to_number<int64_t>());
    leader = fail_over(loop, cluster, "?reregister=4");
    if (!before.wait_ended(10s)) {
      throw std::runtime_error("the old leader's stream did not end");
    }
  }

  void resubscribe() {
    info.id = before.framework_id();
    if (after.subscribe(info) != 200) {
      throw std::runtime_error("re-SUBSCRIBE failed:\n" + cluster.logs());
    }
  }

  Loop loop;
  DevCluster cluster;
  ArtifactServer artifacts;
  mesos::FrameworkInfo info;
  Scheduler before;  // subscribed to the first leader
  Scheduler after;   // re-subscribed to the new one
  std::string agent;
  int executor_pid = 0;
  std::string leader;  // the new leader's id
};

// The explicit reconciliation answers `unknown`, implicit reconciliation
// leaves the task out; after the agent re-registered the task is
// TASK_RUNNING.
void reconcile_across_failover(int subnet, bool partition_aware, mesos::TaskState unknown) {
  TaskAcrossFailover f(subnet, partition_aware);
  EXPECT_EQ(agents_in_state(f.loop, f.cluster), 0u) << f.cluster.logs();
  f.resubscribe();

  auto answer = reconcile(f.after, "t1", f.agent);
  EXPECT_EQ(answer.state, unknown);
  EXPECT_EQ(answer.reason, "REASON_RECONCILIATION");
  EXPECT_EQ(answer.message, "Reconciliation: Task is unknown");
  EXPECT_EQ(answer.source, "SOURCE_MASTER");
  // Implicit reconciliation knows no task; the answer for a task of no
  // agent, asked afterwards on the same stream, comes after its answers.
  EXPECT_EQ(f.after.call(call_of(mesos::CallReconcile{})).result_int(), 202);
  reconcile(f.after, "never-launched", f.agent);
  EXPECT_FALSE(f.after.wait_for_update("t1", std::nullopt, 0ms));
  EXPECT_EQ(agents_in_state(f.loop, f.cluster), 0u);
  EXPECT_EQ(f.cluster.logs().find(reregistered(f.agent, f.leader)), std::string::npos)
      << "the agent re-registered before the checks (a slow machine?):\n"
      << f.cluster.logs();

  ASSERT_TRUE(f.cluster.wait_for_log(reregistered(f.agent, f.leader))) << f.cluster.logs();
  EXPECT_EQ(agents_in_state(f.loop, f.cluster), 1u);
  answer = reconcile(f.after, "t1", f.agent);
  EXPECT_EQ(answer.state, mesos::TaskState::kRunning);
  EXPECT_EQ(answer.reason, "REASON_RECONCILIATION");
  EXPECT_EQ(answer.message, "Reconciliation: Latest task state");
}

TEST(DevclusterReregistration, PartitionAwareReconciliationGetsTaskUnknownBeforeTheAgentReturns) {
  reconcile_across_failover(80, true, mesos::TaskState::kUnknown);
}

TEST(DevclusterReregistration, OtherFrameworksGetTaskLostBeforeTheAgentReturns) {
  reconcile_across_failover(81, false, mesos::TaskState::kLost);
}

TEST(DevclusterReregistration, UpdatesWaitForTheAgentsReregistration) {
  TaskAcrossFailover f(86, true);
  f.resubscribe();
  // The executor dies while the new leader does not know its agent: the
  // agent keeps TASK_FAILED and sends it once it has re-registered.
  ::kill(f.executor_pid, SIGKILL);
  ASSERT_TRUE(f.cluster.wait_for_log("agent '" + f.agent +
                                     "' is not registered with a leading master: it keeps "
                                     "TASK_FAILED of task 't1'"))
      << f.cluster.logs();
  auto failed = f.after.wait_for_update("t1", mesos::TaskState::kFailed);
  ASSERT_TRUE(failed) << f.cluster.logs();
  EXPECT_EQ(failed->reason, "REASON_EXECUTOR_TERMINATED");
  EXPECT_TRUE(failed->uuid);
  EXPECT_EQ(f.after.acknowledge(*failed).result_int(), 202);
  logged_in_order(f.cluster.logs(), reregistered(f.agent, f.leader),
                  "update TASK_FAILED for task 't1'");
}

TEST(DevclusterReregistration, NoOffersFromAnAgentBeforeItReregistered) {
  Loop loop;
  DevCluster cluster(options(82, 1));
  const std::string agent = [&] {
    Scheduler first(loop, cluster.master());
    EXPECT_EQ(first.subscribe(framework_info()), 200u);
    return first_offer(first, cluster).agent_id;
  }();
  const std::string leader = fail_over(loop, cluster, "?reregister=2");
  Scheduler scheduler(loop, cluster.master());
  ASSERT_EQ(scheduler.subscribe(framework_info()), 200u) << cluster.logs();
  EXPECT_EQ(agents_in_state(loop, cluster), 0u);

  const mesos::Offer offer = first_offer(scheduler, cluster);
  EXPECT_EQ(offer.agent_id, agent);
  EXPECT_EQ(offer.id.rfind(leader + "-O", 0), 0u) << offer.id;
  // Every offer is logged (debug): none of the new leader's before the
  // agent re-registered.
  logged_in_order(cluster.logs(), reregistered(agent, leader), "offer '" + leader + "-O");
}

TEST(DevclusterReregistration, AnAgentDownWhenItsTimeComesRegistersWhenItStarts) {
  Loop loop;
  DevCluster cluster(options(83, 2));
  auto agents = get_json(loop, cluster.master(), "/control/agents").as_array();
  ASSERT_EQ(agents.size(), 2u);
  const std::string up(agents[0].at("id").as_string());
  const std::string down(agents[1].at("id").as_string());
  ASSERT_EQ(http(loop, cluster.master(), verb::post, "/control/agents/" + down + "/stop", "", "")
                .result_int(),
            200);

  // The default backoff: each agent within 0-1 s.
  const std::string leader = fail_over(loop, cluster, "");
  ASSERT_TRUE(cluster.wait_for_log(reregistered(up, leader))) << cluster.logs();
  ASSERT_TRUE(cluster.wait_for_log("agent '" + down + "': re-registration with master '" + leader +
                                   "' came due but the agent is down"))
      << cluster.logs();
  auto slaves = get_json(loop, cluster.master(), "/state").at("slaves").as_array();
  ASSERT_EQ(slaves.size(), 1u);
  EXPECT_EQ(slaves[0].at("id").as_string(), up);

  ASSERT_EQ(http(loop, cluster.master(), verb::post, "/control/agents/" + down + "/start", "", "")
                .result_int(),
            200);
  EXPECT_TRUE(cluster.wait_for_log(reregistered(down, leader))) << cluster.logs();
  EXPECT_EQ(agents_in_state(loop, cluster), 2u);
}

TEST(DevclusterReregistration, AnotherFailoverCancelsPendingReregistrations) {
  Loop loop;
  DevCluster cluster(options(84, 1));
  const std::string agent(
      get_json(loop, cluster.master(), "/control/agents").as_array().at(0).at("id").as_string());
  const std::string abandoned = fail_over(loop, cluster, "?reregister=2");
  // The second failover comes before the first one's re-registration is
  // due: had that one not been cancelled, the agent would register with
  // the newest leader within 2 s from now instead of after 4 s.
  const auto second_failover = std::chrono::steady_clock::now();
  const std::string leader = fail_over(loop, cluster, "?reregister=4");
  ASSERT_TRUE(cluster.wait_for_log(reregistered(agent, leader))) << cluster.logs();
  EXPECT_GE(std::chrono::steady_clock::now() - second_failover, 4s) << cluster.logs();
  EXPECT_EQ(agents_in_state(loop, cluster), 1u);
  EXPECT_EQ(cluster.logs().find(reregistered(agent, abandoned)), std::string::npos)
      << cluster.logs();
  EXPECT_NE(cluster.logs().find("1 pending agent re-registration(s) cancelled"), std::string::npos)
      << cluster.logs();
}

TEST(DevclusterReregistration, BadReregisterValuesAreRefused) {
  Loop loop;
  DevCluster cluster(options(85, 0));
  const std::string leader = master_id(loop, cluster);
  for (const std::string value : {"-1", "x", "", "3601", "nan", "1s", "inf"}) {
    auto answer = http(loop, cluster.master(), verb::post,
                       "/control/masters/failover?reregister=" + value, "", "");
    EXPECT_EQ(answer.result_int(), 400) << value;
    EXPECT_EQ(answer.body(), "reregister must be a number of seconds from 0 to 3600") << value;
  }
  EXPECT_EQ(master_id(loop, cluster), leader);  // nothing failed over
  auto answer = http(loop, cluster.master(), verb::post,
                     "/control/masters/failover?gap=0&reregister=2.5", "", "");
  ASSERT_EQ(answer.result_int(), 200) << answer.body();
  EXPECT_EQ(json::parse(answer.body()).at("reregister_seconds").as_double(), 2.5);
}

}  // namespace
}  // namespace etcdmesos::devcluster::testing
