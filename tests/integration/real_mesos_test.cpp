// What only a real Apache Mesos can show (issue 10): an agent restarted on its
// work directory recovers its executors, and a restarted master is followed
// through ZooKeeper. Skipped unless ETCDMESOS_MESOS=real (tests/support/
// stack.hpp); ctest runs them as integration-real.RealMesos.* when a real
// Mesos is available.
#include "support/member_checks.hpp"
#include "support/stack.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <thread>

namespace etcdmesos::testing {
namespace {

using namespace std::chrono_literals;

constexpr auto kBringUp = 90s;

// Index of the agent whose address is the member's host.
int agent_of(LocalStack& stack, const boost::json::value& member, int agents) {
  for (int i = 0; i < agents; ++i) {
    if (stack.real_mesos()->agent_ip(i) == str(member, "host")) {
      return i;
    }
  }
  return -1;
}

// Frameworks the master lists as active (-1 when it does not answer).
int active_frameworks(LocalStack& stack) {
  auto state = stack.master("GET", "/master/state");
  if (!state || state->status != 200) {
    return -1;
  }
  boost::system::error_code ec;
  auto parsed = boost::json::parse(state->body, ec);
  const auto* list =
      !ec && parsed.is_object() ? parsed.as_object().if_contains("frameworks") : nullptr;
  if (list == nullptr || !list->is_array()) {
    return -1;
  }
  int active = 0;
  for (const auto& f : list->as_array()) {
    const auto* flag = f.is_object() ? f.as_object().if_contains("active") : nullptr;
    active += (flag != nullptr && flag->is_bool() && flag->as_bool()) ? 1 : 0;
  }
  return active;
}

// For `how_long`: the same members, nothing launched, healthy at the end.
void expect_nothing_replaced(LocalStack& stack, const boost::json::array& before, int64_t launched,
                             std::chrono::seconds how_long) {
  const auto until = std::chrono::steady_clock::now() + how_long;
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_EQ(stat(stack, "launched_servers"), launched) << stack.logs();
    std::this_thread::sleep_for(250ms);
  }
  ASSERT_TRUE(wait_until([&] { return stack.healthy_with(3); }, 30s)) << stack.logs();
  EXPECT_EQ(names_of(stack.members()), names_of(before));
}

TEST(RealMesos, AnAgentRestartedOnItsWorkDirectoryKeepsItsMember) {
  if (!StackOptions::use_real_mesos()) {
    GTEST_SKIP() << "needs a real Mesos (ETCDMESOS_MESOS=real)";
  }
  LocalStack stack;
  ASSERT_TRUE(wait_until([&] { return stack.healthy_with(3); }, kBringUp)) << stack.logs();
  const auto before = stack.members();
  const auto launched = stat(stack, "launched_servers");
  const int agent = agent_of(stack, before[0], 3);
  ASSERT_GE(agent, 0);
  const auto etcd_before = etcd_pid(str(before[0], "client_url"));
  ASSERT_TRUE(etcd_before);

  // The agent process dies and comes back on the same work directory: it
  // recovers the executor (the framework checkpoints), which reconnects; the
  // member is adopted, not replaced, and its etcd never stopped.
  stack.real_mesos()->restart_agent(agent);
  ASSERT_TRUE(wait_until([&] { return stack.real_mesos()->active_agents() == 3; }, 60s))
      << stack.logs();
  expect_nothing_replaced(stack, before, launched, 10s);
  EXPECT_EQ(etcd_pid(str(before[0], "client_url")), etcd_before);
}

TEST(RealMesos, AMasterRestartIsFollowedThroughZooKeeper) {
  if (!StackOptions::use_real_mesos()) {
    GTEST_SKIP() << "needs a real Mesos (ETCDMESOS_MESOS=real)";
  }
  LocalStack stack;
  ASSERT_TRUE(wait_until([&] { return stack.healthy_with(3); }, kBringUp)) << stack.logs();
  const auto before = stack.members();
  const auto launched = stat(stack, "launched_servers");

  // SIGKILL and restart: the new master has an empty in-memory registry, the
  // agents re-register with it, and the scheduler subscribes again through
  // ZooKeeper as the same framework (a 307 to itself before the election is
  // retried promptly); reconciliation finds every member running.
  stack.real_mesos()->restart_master();
  ASSERT_TRUE(wait_until([&] { return stack.real_mesos()->active_agents() == 3; }, 60s))
      << stack.logs();
  ASSERT_TRUE(wait_until([&] { return active_frameworks(stack) == 1; }, 60s)) << stack.logs();
  expect_nothing_replaced(stack, before, launched, 10s);
}

}  // namespace
}  // namespace etcdmesos::testing
