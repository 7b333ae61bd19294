// Fetch once (issue 12): the executor, etcd and etcdctl go through the
// agents' fetcher cache, so a member relaunched on an agent that ran one
// before starts without downloading them again. Counted at the source: the
// scheduler's artifact server (/stats artifact_downloads). Runs on the dev
// cluster and, as integration-real.*, on a real Mesos 1.12.
#include "support/member_checks.hpp"
#include "support/stack.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <csignal>

namespace etcdmesos::testing {
namespace {

using namespace std::chrono_literals;

constexpr auto kBringUp = 90s;
constexpr auto kRepair = 120s;
constexpr int64_t kArtifacts = 3;  // executor, etcd, etcdctl

TEST(FetchOnce, AReplacementOnAnAgentThatRanAMemberDownloadsNothing) {
  // As many agents as members: the replacement can only go where a member ran.
  StackOptions o;
  o.agents = 3;
  o.scheduler_args = {"-etcd-restart-attempts=0"};
  LocalStack stack(o);
  ASSERT_TRUE(wait_until(
      [&] {
        auto members = stack.members();
        return stack.healthy_with(3) && etcd_lists_exactly(members, names_of(members));
      },
      kBringUp))
      << stack.logs();
  // Each agent downloaded each artifact once.
  EXPECT_EQ(stat(stack, "artifact_downloads"), 3 * kArtifacts);
  const auto downloads = stat(stack, "artifact_downloads");

  const auto before = stack.members();
  const std::string victim = str(before[1], "name");
  const std::string victim_agent = str(before[1], "agent_id");
  ASSERT_TRUE(signal_member(before[1], SIGKILL));
  ASSERT_TRUE(wait_until(
      [&] {
        auto now = stack.members();
        return stat(stack, "failed_servers") >= 1 && !names_of(now).contains(victim) &&
               stack.healthy_with(3) && etcd_lists_exactly(now, names_of(now));
      },
      kRepair))
      << stack.logs();

  bool replaced_on_same_agent = false;
  for (const auto& m : stack.members()) {
    replaced_on_same_agent = replaced_on_same_agent || str(m, "agent_id") == victim_agent;
  }
  EXPECT_TRUE(replaced_on_same_agent) << "the only agent without a member is the victim's";
  EXPECT_EQ(stat(stack, "launched_servers"), 4);
  EXPECT_EQ(stat(stack, "artifact_downloads"), downloads)
      << "the replacement's sandbox was filled from the agent's fetcher cache\n"
      << stack.logs();
}

}  // namespace
}  // namespace etcdmesos::testing
