// The health check against real etcd clusters: healthy, quorum lost, and a
// frozen member (accepts TCP, never answers).
#include "scheduler/etcd_health.hpp"

#include "../io/io_test_util.hpp"
#include "io/etcd_client.hpp"
#include "support/etcd_server.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace etcdmesos::scheduler {
namespace {

using etcdmesos::io::endpoint_from_url;
using etcdmesos::io::EtcdClient;
using etcdmesos::testing::EtcdCluster;
using etcdmesos::testing::EtcdStatus;
using etcdmesos::testing::run_coro;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::vector<core::Member> members_of(EtcdCluster& cluster) {
  std::vector<core::Member> members;
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    core::Member m;
    m.name = cluster.name(i);
    m.host = "127.0.0.1";
    m.client_port = cluster.client_port(i);
    m.peer_port = cluster.peer_port(i);
    m.state = core::TaskState::kRunning;
    members.push_back(m);
  }
  return members;
}

HealthCheckOptions quick() {
  HealthCheckOptions options;
  options.status_timeout = milliseconds(1000);
  options.probe_timeout = seconds(3);
  options.member_list_timeout = milliseconds(1000);
  return options;
}

// One check as the scheduler makes it: the observations, judged by the core.
boost::asio::awaitable<core::HealthResult> check_health(boost::asio::any_io_executor ex,
                                                        std::vector<core::Member> members,
                                                        HealthCheckOptions options) {
  co_return core::judge_health(co_await observe_health(ex, std::move(members), options));
}

// Index of a member that is not the leader.
std::size_t a_follower(EtcdCluster& cluster) {
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    auto s = cluster.status(i);
    if (s && s->leader != 0 && s->leader != s->member_id) {
      return i;
    }
  }
  ADD_FAILURE() << "no follower found";
  return 0;
}

TEST(EtcdHealthTest, HealthyThreeMemberCluster) {
  EtcdCluster cluster(3);
  boost::asio::io_context ioc;
  auto result =
      run_coro(ioc, check_health(ioc.get_executor(), members_of(cluster), quick()), seconds(20));
  EXPECT_TRUE(result.healthy) << result.reason;
  ASSERT_EQ(result.members.size(), 3u);
  std::size_t leaders = 0;
  for (const auto& m : result.members) {
    EXPECT_TRUE(m.reachable) << m.name << ": " << m.error;
    EXPECT_NE(m.leader, 0u);
    // What the web page shows: a real backend's size, and one leader.
    EXPECT_GT(m.db_size_bytes, 0u) << m.name;
    EXPECT_NE(m.member_id, 0u) << m.name;
    leaders += m.member_id == m.leader ? 1 : 0;
  }
  EXPECT_EQ(leaders, 1u);
  EXPECT_EQ(result.membership.size(), 3u);

  // The probe went to the documented key.
  EtcdClient client(ioc.get_executor(), *endpoint_from_url(cluster.client_url(0)));
  auto probe = run_coro(ioc, client.get(std::string(kHealthProbeKey)));
  ASSERT_TRUE(probe) << probe.error().message;
  EXPECT_TRUE(*probe);
}

TEST(EtcdHealthTest, IdleSingleMemberIsHealthyThanksToTheProbe) {
  EtcdCluster cluster(1);
  boost::asio::io_context ioc;
  for (int round = 0; round < 2; ++round) {  // and again: no hidden one-off progress
    auto obs = run_coro(ioc, observe_health(ioc.get_executor(), members_of(cluster), quick()),
                        seconds(20));
    EXPECT_TRUE(obs.probe_ok) << obs.probe_error;
    ASSERT_EQ(obs.members.size(), 1u);
    EXPECT_GT(obs.members[0].after.raft_index, obs.members[0].before.raft_index);
    auto result = core::judge_health(obs);
    EXPECT_TRUE(result.healthy) << result.reason;
  }
}

TEST(EtcdHealthTest, TwoOfThreeKilledIsUnhealthy) {
  EtcdCluster cluster(3);
  cluster.kill(1, SIGKILL);
  cluster.kill(2, SIGKILL);
  boost::asio::io_context ioc;
  auto result =
      run_coro(ioc, check_health(ioc.get_executor(), members_of(cluster), quick()), seconds(30));
  EXPECT_FALSE(result.healthy);
  EXPECT_TRUE(result.reason.rfind("no quorum", 0) == 0 || result.reason.rfind("no leader", 0) == 0)
      << result.reason;
  ASSERT_EQ(result.members.size(), 3u);
  EXPECT_TRUE(result.members[0].reachable);
  EXPECT_FALSE(result.members[1].reachable);
  EXPECT_FALSE(result.members[2].reachable);
}

TEST(EtcdHealthTest, FrozenFollowerLeavesAHealthyMajority) {
  EtcdCluster cluster(3);
  std::size_t frozen = a_follower(cluster);
  cluster.kill(frozen, SIGSTOP);
  boost::asio::io_context ioc;
  auto start = std::chrono::steady_clock::now();
  auto result =
      run_coro(ioc, check_health(ioc.get_executor(), members_of(cluster), quick()), seconds(20));
  auto took = std::chrono::steady_clock::now() - start;
  cluster.kill(frozen, SIGCONT);
  EXPECT_TRUE(result.healthy) << result.reason;
  ASSERT_EQ(result.members.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(result.members[i].reachable, i != frozen) << result.members[i].name;
  }
  EXPECT_FALSE(result.members[frozen].error.empty());
  // Status reads run in parallel: two rounds of one timeout, not one per member.
  EXPECT_LT(took, seconds(5));
}

// The member list comes from the member the probe goes through first (a
// leader if one answers), not from the first in the scheduler's list: here
// that one is left from a cluster that lost its majority, and a serving
// member of another cluster must give the list (simulator, persist seed
// 3623710: the stale list hid the serving cluster's membership for good).
TEST(EtcdHealthTest, TheMemberListComesFromAMemberThatNamesALeader) {
  EtcdCluster lost(3);
  lost.kill(1, SIGKILL);
  lost.kill(2, SIGKILL);
  // Until its election timeout the survivor may still name the old leader.
  const auto until = std::chrono::steady_clock::now() + seconds(15);
  while (std::chrono::steady_clock::now() < until) {
    auto s = lost.status(0);
    if (s && s->leader == 0) {
      break;
    }
    std::this_thread::sleep_for(milliseconds(200));
  }
  ASSERT_EQ(lost.status(0).value_or(EtcdStatus{}).leader, 0u);
  EtcdCluster serving(1);
  auto members = members_of(lost);
  members.resize(1);
  auto other = members_of(serving);
  other[0].name = "serving-" + other[0].name;
  members.push_back(other[0]);
  boost::asio::io_context ioc;
  auto obs = run_coro(ioc, observe_health(ioc.get_executor(), members, quick()), seconds(30));
  ASSERT_EQ(obs.membership.size(), 1u);
  ASSERT_EQ(obs.membership[0].peer_urls.size(), 1u);
  EXPECT_EQ(obs.membership[0].peer_urls[0], serving.peer_url(0));
}

TEST(EtcdHealthTest, MemberWithoutAddressIsUnreachable) {
  EtcdCluster cluster(1);
  auto members = members_of(cluster);
  core::Member unplaced;
  unplaced.name = "not-yet-placed";
  members.push_back(unplaced);
  boost::asio::io_context ioc;
  auto result = run_coro(ioc, check_health(ioc.get_executor(), members, quick()), seconds(20));
  ASSERT_EQ(result.members.size(), 2u);
  EXPECT_FALSE(result.members[1].reachable);
  EXPECT_EQ(result.members[1].error, "no client address known");
  // One of two known members is no majority.
  EXPECT_FALSE(result.healthy);
  EXPECT_EQ(result.reason, "no quorum: 1 of 2 members reachable");
}

}  // namespace
}  // namespace etcdmesos::scheduler
