// The test launcher for a real etcd cluster.
#include "support/etcd_server.hpp"

#include <gtest/gtest.h>

namespace etcdmesos::testing {
namespace {

TEST(EtcdClusterTest, ThreeMembersAgreeOnALeader) {
  EtcdCluster cluster(3);
  ASSERT_EQ(cluster.size(), 3u);
  std::optional<uint64_t> leader;
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    auto status = cluster.status(i);
    ASSERT_TRUE(status) << cluster.log_text(i);
    EXPECT_NE(status->leader, 0u);
    EXPECT_NE(status->member_id, 0u);
    EXPECT_GT(status->raft_index, 0u);
    if (leader) {
      EXPECT_EQ(*leader, status->leader);
    }
    leader = status->leader;
  }
  auto put =
      cluster.post(0, "/v3/kv/put", R"({"key":"YQ==","value":"Yg=="})", std::chrono::seconds(5));
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 200u) << put->body;
}

TEST(EtcdClusterTest, KilledMemberStopsAnsweringAndComesBack) {
  EtcdCluster cluster(3);
  cluster.kill(2, SIGKILL);
  EXPECT_FALSE(cluster.running(2));
  EXPECT_FALSE(cluster.status(2, std::chrono::milliseconds(300)));
  EXPECT_TRUE(cluster.wait_healthy(std::chrono::seconds(10)));
  cluster.restart(2);
  EXPECT_TRUE(cluster.wait_healthy(std::chrono::seconds(20)));
  EXPECT_TRUE(cluster.status(2));
}

TEST(EtcdClusterTest, FrozenMemberAcceptsButNeverAnswers) {
  EtcdCluster cluster(1);
  cluster.kill(0, SIGSTOP);
  EXPECT_TRUE(cluster.running(0));
  // SIGSTOP lands asynchronously: a request already in flight may still be
  // answered, so wait for the member to go silent, then check it stays so.
  EXPECT_TRUE(wait_until([&] { return !cluster.status(0, std::chrono::milliseconds(300)); },
                         std::chrono::seconds(5)));
  EXPECT_FALSE(cluster.status(0, std::chrono::milliseconds(300)));
  cluster.kill(0, SIGCONT);
  EXPECT_TRUE(cluster.wait_healthy(std::chrono::seconds(10)));
}

}  // namespace
}  // namespace etcdmesos::testing
