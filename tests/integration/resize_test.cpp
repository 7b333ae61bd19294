// Live resize end to end (POST /cluster-size), with real ZooKeeper, etcd, the
// scheduler and the dev cluster or a real Mesos: 3 -> 5 -> 3 while a client
// writes without pause, no write failing and none lost; the size kept in
// ZooKeeper across a scheduler restart; sizes that cannot be kept refused
// with the reason.
#include "support/key_writer.hpp"
#include "support/member_checks.hpp"
#include "support/stack.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <set>
#include <string>

namespace etcdmesos::testing {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

constexpr auto kBringUp = 90s;
// Two members, each an etcd reconfiguration (its 5-second rule) and a start.
constexpr auto kResize = 120s;

std::optional<HttpResult> resize(LocalStack& stack, const std::string& size) {
  return stack.admin_call("POST", "/cluster-size?size=" + size);
}

int64_t health_size(LocalStack& stack) {
  auto health = stack.health();
  const auto* scheduler = health.if_contains("scheduler");
  if (scheduler == nullptr || !scheduler->is_object()) {
    return -1;
  }
  const auto* size = scheduler->as_object().if_contains("cluster_size");
  return size != nullptr && size->is_int64() ? size->as_int64() : -1;
}

TEST(Resize, GrowsToFiveAndShrinksBackToThreeWhileAClientWritesWithoutAFailedOrLostWrite) {
  StackOptions o;
  o.agents = 5;
  LocalStack stack(o);
  ASSERT_TRUE(comes_up(stack, 3, kBringUp));
  KeyWriter writer(stack, 20s);
  ASSERT_TRUE(wait_until([&] { return writer.acknowledged().size() >= 20; }, 20s));

  auto grow = resize(stack, "5");
  ASSERT_TRUE(grow);
  EXPECT_EQ(grow->status, 202u) << grow->body;
  ASSERT_TRUE(comes_up(stack, 5, kResize));
  EXPECT_EQ(health_size(stack), 5);
  const auto five = names_of(stack.members());

  // The leader, as etcd names it now: a shrink never removes it first.
  const auto before_shrink = writer.acknowledged().size();
  auto shrink = resize(stack, "3");
  ASSERT_TRUE(shrink);
  EXPECT_EQ(shrink->status, 202u) << shrink->body;
  ASSERT_TRUE(comes_up(stack, 3, kResize));
  EXPECT_EQ(health_size(stack), 3);
  // Nothing was replaced on the way: the three left are three of the five.
  for (const auto& name : names_of(stack.members())) {
    EXPECT_TRUE(five.contains(name)) << name;
  }
  EXPECT_EQ(stat(stack, "failed_servers"), 0);
  EXPECT_EQ(stat(stack, "launched_servers"), 5);
  // Each removal came before its kill, in the log's order.
  const auto log = stack.scheduler_log();
  const auto removed = log.find("effect: remove etcd member");
  ASSERT_NE(removed, std::string::npos);
  const auto killed = log.find("effect: kill task", removed);
  EXPECT_NE(killed, std::string::npos);

  ASSERT_TRUE(wait_until([&] { return writer.acknowledged().size() >= before_shrink + 40; }, 30s));
  writer.stop();
  EXPECT_TRUE(writer.failed().empty())
      << writer.failed().size() << " writes no member acknowledged within 20 s";
  const auto acked = writer.acknowledged();
  for (const auto& m : stack.members()) {
    EXPECT_EQ(KeyWriter::missing_at(str(m, "client_url"), acked), 0)
        << str(m, "name") << " of " << acked.size() << " acknowledged writes";
  }
}

TEST(Resize, SizesThatCannotBeKeptAreRefusedWithTheReason) {
  LocalStack stack;  // three agents
  ASSERT_TRUE(comes_up(stack, 3, kBringUp));
  for (const char* bad : {"4", "0", "11", "three", ""}) {
    auto r = resize(stack, bad);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400u) << bad << ": " << r->body;
    EXPECT_NE(r->body.find("1, 3, 5, 7 or 9"), std::string::npos) << r->body;
  }
  auto missing = stack.admin_call("POST", "/cluster-size");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 400u);
  auto too_big = resize(stack, "5");
  ASSERT_TRUE(too_big);
  EXPECT_EQ(too_big->status, 409u) << too_big->body;
  EXPECT_NE(too_big->body.find("only 3 agent(s)"), std::string::npos) << too_big->body;
  EXPECT_EQ(health_size(stack), 3);
}

TEST(Resize, ARestartedSchedulerKeepsTheSizeAnOperatorSetInZooKeeper) {
  StackOptions o;
  o.persist_path = "/etcd-mesos-resize";
  LocalStack stack(o);
  ASSERT_TRUE(comes_up(stack, 3, kBringUp));
  auto shrink = resize(stack, "1");
  ASSERT_TRUE(shrink);
  EXPECT_EQ(shrink->status, 202u) << shrink->body;
  ASSERT_TRUE(comes_up(stack, 1, kResize));
  const auto survivor = names_of(stack.members());

  // The flag still says 3: the persisted size wins.
  stack.kill_scheduler();
  stack.start_scheduler();
  ASSERT_TRUE(wait_until([&] { return health_size(stack) == 1; }, 60s)) << stack.logs();
  ASSERT_TRUE(comes_up(stack, 1, kBringUp));
  // The new scheduler's plan, once it judged a fresh check: complete at one
  // (at three it would say "grow from 1 of 3").
  ASSERT_TRUE(wait_until(
      [&] {
        auto health = stack.health();
        const auto* scheduler = health.if_contains("scheduler");
        const auto* plan = scheduler ? scheduler->as_object().if_contains("plan") : nullptr;
        return plan && plan->is_string() &&
               std::string(plan->as_string()).find("complete with 1 of 1") != std::string::npos;
      },
      60s))
      << stack.logs();
  EXPECT_TRUE(stack.healthy_with(1));
  EXPECT_EQ(names_of(stack.members()), survivor);
  EXPECT_NE(stack.scheduler_log().find("keeping the cluster size 1"), std::string::npos);
}

}  // namespace
}  // namespace etcdmesos::testing
