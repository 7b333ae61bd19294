// What only a real Apache Mesos can show (issue 10): an agent restarted on its
// work directory recovers its executors, and a restarted master is followed
// through ZooKeeper. Skipped unless ETCDMESOS_MESOS=real (tests/support/
// stack.hpp); ctest runs them as integration-real.RealMesosOnly.* when a real
// Mesos is available.
#include "support/member_checks.hpp"
#include "support/stack.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <memory>
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

// A healthy three-member cluster on a real Mesos, and what it was.
class RealMesosOnly : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!StackOptions::use_real_mesos()) {
      GTEST_SKIP() << "needs a real Mesos (ETCDMESOS_MESOS=real)";
    }
    stack_ = std::make_unique<LocalStack>();
    ASSERT_TRUE(wait_until([&] { return stack_->healthy_with(3); }, kBringUp)) << stack_->logs();
    before_ = stack_->members();
    launched_ = stat(*stack_, "launched_servers");
  }

  std::unique_ptr<LocalStack> stack_;
  boost::json::array before_;
  int64_t launched_ = 0;
};

TEST_F(RealMesosOnly, AnAgentRestartedOnItsWorkDirectoryKeepsItsMember) {
  const int agent = agent_of(*stack_, before_[0], 3);
  ASSERT_GE(agent, 0);
  const auto etcd_before = etcd_pid(str(before_[0], "client_url"));
  ASSERT_TRUE(etcd_before);

  // The agent process dies and comes back on the same work directory: it
  // recovers the executor (the framework checkpoints), which reconnects; the
  // member is adopted, not replaced, and its etcd never stopped.
  stack_->real_mesos()->restart_agent(agent);
  ASSERT_TRUE(wait_until([&] { return stack_->real_mesos()->active_agents() == 3; }, 60s))
      << stack_->logs();
  expect_nothing_replaced(*stack_, before_, launched_, 10s);
  EXPECT_EQ(etcd_pid(str(before_[0], "client_url")), etcd_before);
}

TEST_F(RealMesosOnly, AMasterRestartIsFollowedThroughZooKeeper) {
  // SIGKILL and restart: the new master has an empty in-memory registry, the
  // agents re-register with it, and the scheduler subscribes again through
  // ZooKeeper as the same framework (a 307 to itself before the election is
  // retried promptly); reconciliation finds every member running.
  stack_->real_mesos()->restart_master();
  ASSERT_TRUE(wait_until([&] { return stack_->real_mesos()->active_agents() == 3; }, 60s))
      << stack_->logs();
  ASSERT_TRUE(wait_until([&] { return stack_->real_mesos()->active_frameworks() == 1; }, 60s))
      << stack_->logs();
  expect_nothing_replaced(*stack_, before_, launched_, 10s);
}

}  // namespace
}  // namespace etcdmesos::testing
