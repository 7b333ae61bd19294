// The test launcher for a real ZooKeeper: starts, serves, stops, restarts on
// the same port with its data.
#include "support/zookeeper_server.hpp"

#include <gtest/gtest.h>

namespace etcdmesos::testing {
namespace {

TEST(ZooKeeperServerTest, ServesOnLoopbackAndStopsByPid) {
  ZooKeeperServer zk;
  EXPECT_TRUE(zk.serving());
  EXPECT_EQ(zk.connect_string(), "127.0.0.1:" + std::to_string(zk.port()));
  EXPECT_EQ(zk.url("/mesos"), "zk://127.0.0.1:" + std::to_string(zk.port()) + "/mesos");
  std::printf("ZooKeeper start-up took %lld ms\n",
              static_cast<long long>(zk.last_start_duration().count()));
  zk.stop();
  EXPECT_FALSE(zk.running());
  EXPECT_FALSE(zk.serving());
}

TEST(ZooKeeperServerTest, RestartsOnTheSamePortAfterKill) {
  ZooKeeperServer zk;
  uint16_t port = zk.port();
  zk.kill(SIGKILL);
  EXPECT_FALSE(zk.running());
  EXPECT_FALSE(zk.serving());
  zk.restart();
  EXPECT_EQ(zk.port(), port);
  EXPECT_TRUE(zk.serving());
}

TEST(ZooKeeperServerTest, FrozenServerDoesNotServe) {
  ZooKeeperServer zk;
  zk.kill(SIGSTOP);
  EXPECT_TRUE(zk.running());
  // kill() returns before every thread of the JVM has stopped; an answer
  // already on its way may still arrive. Once silent, it stays silent.
  EXPECT_TRUE(wait_until([&] { return !zk.serving(std::chrono::milliseconds(300)); },
                         std::chrono::seconds(10)));
  EXPECT_FALSE(zk.serving(std::chrono::milliseconds(300)));
  zk.kill(SIGCONT);
  EXPECT_TRUE(wait_until([&] { return zk.serving(); }, std::chrono::seconds(10)));
}

}  // namespace
}  // namespace etcdmesos::testing
