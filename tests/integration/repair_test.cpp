// End to end, with real ZooKeeper, the dev cluster, the scheduler, executors
// and etcd: a lost minority is removed from etcd and replaced, a frozen
// member blocks every launch until the cluster is healthy again, no
// acknowledged write is lost on the way, and a total loss locks the
// scheduler until an operator unlocks it.
#include "support/key_writer.hpp"
#include "support/member_checks.hpp"
#include "support/stack.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <csignal>
#include <set>
#include <thread>

namespace etcdmesos::testing {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

// Most failures are seen within seconds; a replacement takes an etcd
// reconfiguration pause (5 s) plus a start.
constexpr auto kBringUp = 90s;
constexpr auto kRepair = 90s;

StackOptions options(int agents, std::vector<std::string> args) {
  StackOptions o;
  o.agents = agents;
  o.scheduler_args = std::move(args);
  return o;
}

TEST(Repair, AKilledMemberIsRemovedFromEtcdAndReplaced) {
  LocalStack stack(options(4, {"-etcd-restart-attempts=0"}));
  ASSERT_TRUE(comes_up(stack, 3, kBringUp));
  const auto before = stack.members();
  const std::string victim = str(before[1], "name");
  ASSERT_TRUE(signal_member(before[1], SIGKILL));

  ASSERT_TRUE(wait_until(
      [&] {
        auto now = stack.members();
        return stat(stack, "failed_servers") == 1 && !names_of(now).contains(victim) &&
               stack.healthy_with(3) && etcd_lists_exactly(now, names_of(now));
      },
      kRepair))
      << stack.logs();
  EXPECT_EQ(stat(stack, "launched_servers"), 4);
  EXPECT_EQ(stat(stack, "running_servers"), 3);
  // The log shows the order: removal from etcd before the replacement's add.
  const auto log = stack.scheduler_log();
  const auto removed = log.find("effect: remove etcd member");
  const auto added = log.find("effect: add etcd member", removed);
  EXPECT_NE(removed, std::string::npos);
  EXPECT_NE(added, std::string::npos);
}

TEST(Repair, ALostAgentsMemberIsReplacedOnTheSpareAgent) {
  LocalStack stack(options(4, {}));
  ASSERT_TRUE(comes_up(stack, 3, kBringUp));
  const auto before = stack.members();
  const std::string lost_agent = str(before[0], "agent_id");
  const std::string lost_name = str(before[0], "name");
  std::set<std::string> used_agents;
  for (const auto& m : before) {
    used_agents.insert(str(m, "agent_id"));
  }
  ASSERT_TRUE(stack.stop_agent(lost_agent));

  ASSERT_TRUE(wait_until(
      [&] {
        auto now = stack.members();
        return !names_of(now).contains(lost_name) && stack.healthy_with(3) &&
               etcd_lists_exactly(now, names_of(now));
      },
      kRepair))
      << stack.logs();
  std::set<std::string> spare;
  for (const auto& m : stack.members()) {
    const auto agent = str(m, "agent_id");
    EXPECT_NE(agent, lost_agent);
    if (!used_agents.contains(agent)) {
      spare.insert(agent);
    }
  }
  EXPECT_EQ(spare.size(), 1u) << "the replacement runs on the agent that had no member";
  EXPECT_GE(stat(stack, "failed_servers"), 1);
}

TEST(Repair, AFrozenMemberBlocksEveryLaunchUntilHealthReturns) {
  LocalStack stack(options(4, {"-etcd-restart-attempts=0", "-reseed-timeout=600"}));
  ASSERT_TRUE(comes_up(stack, 3, kBringUp));
  const auto before = stack.members();
  // One member frozen (its task still RUNNING), another dead: one of three
  // answers, so the cluster is unhealthy and no replacement may start.
  ASSERT_TRUE(signal_member(before[0], SIGSTOP));
  ASSERT_TRUE(signal_member(before[1], SIGKILL));
  ASSERT_TRUE(wait_until(
      [&] {
        auto healthz = stack.admin("/healthz");
        return stat(stack, "failed_servers") == 1 && healthz && healthz->status == 503;
      },
      30s))
      << stack.logs();

  // At least 8 s (several health checks 1 s apart, and offers every 1 s),
  // and until the scheduler has judged the state: the frozen member's task
  // still runs, so it is "partitioned" (issue 9), not a livelock; nothing
  // is removed, launched or reseeded. Never a launch meanwhile.
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() < start + 8s || !stack.partitioned()) {
    ASSERT_LT(std::chrono::steady_clock::now(), start + 60s)
        << "the partitioned state was not judged within 60 s:\n"
        << stack.logs();
    ASSERT_EQ(stat(stack, "cluster_livelocks"), 0) << stack.logs();
    ASSERT_EQ(stat(stack, "launched_servers"), 3) << stack.logs();
    for (const auto& m : stack.members()) {
      ASSERT_EQ(str(m, "state"), "TASK_RUNNING");
    }
    std::this_thread::sleep_for(200ms);
  }

  ASSERT_TRUE(signal_member(before[0], SIGCONT));
  ASSERT_TRUE(wait_until(
      [&] {
        auto now = stack.members();
        return stat(stack, "launched_servers") == 4 && stack.healthy_with(3) &&
               etcd_lists_exactly(now, names_of(now));
      },
      kRepair))
      << stack.logs();
  EXPECT_EQ(stat(stack, "cluster_reseeds"), 0);
}

TEST(Repair, NoAcknowledgedWriteIsLostWhileAMemberIsReplaced) {
  LocalStack stack(options(4, {"-etcd-restart-attempts=0"}));
  ASSERT_TRUE(comes_up(stack, 3, kBringUp));
  const auto before = stack.members();
  KeyWriter writer(stack);
  ASSERT_TRUE(wait_until([&] { return writer.acknowledged().size() >= 20; }, 20s));
  ASSERT_TRUE(signal_member(before[2], SIGKILL));
  ASSERT_TRUE(wait_until(
      [&] {
        return stat(stack, "launched_servers") == 4 && stack.healthy_with(3) &&
               !names_of(stack.members()).contains(str(before[2], "name"));
      },
      kRepair))
      << stack.logs();
  const auto during = writer.acknowledged().size();
  ASSERT_TRUE(wait_until([&] { return writer.acknowledged().size() >= during + 20; }, 20s));
  writer.stop();

  const auto acked = writer.acknowledged();
  const auto url = str(stack.members()[0], "client_url");
  std::size_t missing = 0;
  for (int n : acked) {
    auto get = etcd_post(url, "/v3/kv/range", R"({"key":")" + KeyWriter::key(n) + R"("})");
    ASSERT_TRUE(get && get->status == 200);
    if (json::parse(get->body).as_object().if_contains("kvs") == nullptr) {
      ++missing;
    }
  }
  EXPECT_EQ(missing, 0u) << "of " << acked.size() << " acknowledged writes";
  // The replacement has every key too (it joined with a full copy).
  for (const auto& m : stack.members()) {
    auto count = etcd_post(str(m, "client_url"), "/v3/kv/range",
                           R"({"key":"dQ==","range_end":"dg==","count_only":true})");
    ASSERT_TRUE(count && count->status == 200);
    EXPECT_EQ(std::stoul(str(json::parse(count->body), "count")), acked.size()) << str(m, "name");
  }
}

TEST(Repair, TotalLossLocksTheSchedulerUntilAnOperatorUnlocks) {
  LocalStack stack(options(3, {"-etcd-restart-attempts=0"}));
  ASSERT_TRUE(comes_up(stack, 3, kBringUp));
  for (const auto& m : stack.members()) {
    ASSERT_TRUE(signal_member(m, SIGKILL));
  }
  ASSERT_TRUE(wait_until([&] { return stat(stack, "locked") == 1; }, 30s)) << stack.logs();
  auto healthz = stack.admin("/healthz");
  ASSERT_TRUE(healthz);
  EXPECT_EQ(healthz->status, 503u);
  EXPECT_NE(healthz->body.find("total loss"), std::string::npos) << healthz->body;
  EXPECT_NE(stack.scheduler_log().find("POST /unlock"), std::string::npos);

  // Offers keep coming (every agent is free again); nothing is launched.
  const auto until = std::chrono::steady_clock::now() + 6s;
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_EQ(stat(stack, "launched_servers"), 3);
    ASSERT_TRUE(stack.members().empty());
    std::this_thread::sleep_for(250ms);
  }
  EXPECT_EQ(stat(stack, "cluster_reseeds"), 0);
  EXPECT_TRUE(stack.health().at("scheduler").at("locked").as_bool());

  auto get = stack.admin_call("GET", "/unlock");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 405u);
  auto unlock = stack.admin_call("POST", "/unlock");
  ASSERT_TRUE(unlock);
  EXPECT_EQ(unlock->status, 202u) << unlock->body;
  ASSERT_TRUE(comes_up(stack, 3, kBringUp));
  EXPECT_EQ(stat(stack, "locked"), 0);
  EXPECT_EQ(stat(stack, "launched_servers"), 6);
}

}  // namespace
}  // namespace etcdmesos::testing
