// MasterDetector: fixed mode, and following json.info_ nodes in a real
// ZooKeeper the way Mesos masters write them (reference mesos §16, §19).
#include "io/master_detector.hpp"

#include "codec/mesos.hpp"
#include "io_test_util.hpp"
#include "support/zookeeper_server.hpp"

#include <gtest/gtest.h>

namespace etcdmesos::io {
namespace {

using etcdmesos::testing::run_coro;
using etcdmesos::testing::run_until;
using etcdmesos::testing::ZooKeeperServer;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Exact bytes a Mesos 1.12.0 master wrote (reference mesos §19), with the
// address and port as parameters.
std::string master_json(const std::string& ip, int port) {
  return R"({"address":{"hostname":")" + ip + R"(","ip":")" + ip + R"(","port":)" +
         std::to_string(port) +
         R"(},"capabilities":[{"type":"AGENT_UPDATE"},{"type":"AGENT_DRAINING"},)"
         R"({"type":"QUOTA_V2"}],"hostname":")" +
         ip + R"(","id":"726721b8-6553-4280-b7cb-030ab89405ac","ip":16777343,"pid":"master@)" + ip +
         ":" + std::to_string(port) + R"(","port":)" + std::to_string(port) +
         R"(,"version":"1.12.0"})";
}

std::string endpoint_text(const std::optional<Endpoint>& e) {
  return e ? e->to_string() : "none";
}

// ------------------------------------------------------------ pure helpers

TEST(MasterNodeSequenceTest, AcceptsOnlyJsonInfoWithDigits) {
  EXPECT_EQ(master_node_sequence("json.info_0000000012"), 12u);
  EXPECT_EQ(master_node_sequence("json.info_0000000000"), 0u);
  EXPECT_FALSE(master_node_sequence("log_replicas"));
  EXPECT_FALSE(master_node_sequence("info_0000000001"));  // legacy binary protobuf
  EXPECT_FALSE(master_node_sequence("json.info_"));
  EXPECT_FALSE(master_node_sequence("json.info_12a"));
  EXPECT_FALSE(master_node_sequence("json.info_-1"));
}

TEST(MasterEndpointTest, ExactMesosBytesGiveAddressIpAndPort) {
  auto info = mesos::decode_master_info(master_json("127.0.0.1", 15050));
  ASSERT_TRUE(info) << info.error().message;
  auto e = master_endpoint(*info);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->to_string(), "127.0.0.1:15050");
}

TEST(MasterEndpointTest, FallsBackToHostnameThenLegacyIp) {
  mesos::MasterInfo info;
  info.port = 5050;
  info.hostname = "master-1.example";
  EXPECT_EQ(endpoint_text(master_endpoint(info)), "master-1.example:5050");

  mesos::MasterInfo legacy;
  legacy.port = 5051;
  legacy.ip = 184549386;  // 10.0.0.11 as the master stored it
  EXPECT_EQ(endpoint_text(master_endpoint(legacy)), "10.0.0.11:5051");

  mesos::MasterInfo by_address_name;
  by_address_name.address = mesos::Address{std::string("m2.example"), std::nullopt, 5052};
  EXPECT_EQ(endpoint_text(master_endpoint(by_address_name)), "m2.example:5052");

  mesos::MasterInfo nothing;
  nothing.port = 5050;
  EXPECT_FALSE(master_endpoint(nothing));
}

// ------------------------------------------------------------ fixed mode

TEST(MasterDetectorTest, FixedSpecIsAlwaysTheLeader) {
  boost::asio::io_context ioc;
  auto detector = MasterDetector::from_spec(ioc.get_executor(), "127.0.0.1:5050");
  ASSERT_TRUE(detector) << detector.error().message;
  auto leader = run_coro(ioc, (*detector)->current_leader(milliseconds(0)));
  EXPECT_EQ(endpoint_text(leader), "127.0.0.1:5050");
}

TEST(MasterDetectorTest, MalformedSpecsAreErrors) {
  boost::asio::io_context ioc;
  for (const char* bad : {"", "localhost", "host:notaport", "zk://", "zk://h/mesos"}) {
    EXPECT_FALSE(MasterDetector::from_spec(ioc.get_executor(), bad)) << bad;
  }
}

// ------------------------------------------------------------ ZooKeeper mode

class ZkMasterDetectorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new ZooKeeperServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::string("/") + info->name() + "/mesos";
    masters_ =
        std::make_unique<ZkClient>(ioc_.get_executor(), server_->connect_string(), seconds(10));
    ASSERT_TRUE(run_coro(ioc_, masters_->wait_connected(seconds(10)), seconds(15)));
  }

  // Registers a master as Mesos does: an ephemeral sequential json.info_ node.
  std::string register_master(const std::string& data) {
    auto created = run_coro(ioc_, masters_->create(path_ + "/json.info_", data, true, true));
    EXPECT_TRUE(created) << created.error().message;
    return created ? *created : std::string();
  }

  std::unique_ptr<MasterDetector> detect() {
    auto detector = MasterDetector::from_spec(ioc_.get_executor(), server_->url(path_));
    EXPECT_TRUE(detector) << detector.error().message;
    return detector ? std::move(*detector) : nullptr;
  }

  static ZooKeeperServer* server_;
  boost::asio::io_context ioc_;
  std::string path_;
  std::unique_ptr<ZkClient> masters_;  // the "masters" writing their nodes
};

ZooKeeperServer* ZkMasterDetectorTest::server_ = nullptr;

TEST_F(ZkMasterDetectorTest, LowestSequenceIsTheLeader) {
  ASSERT_TRUE(run_coro(ioc_, masters_->ensure_path(path_)));
  // The replicated log's node shares the counter and must be skipped.
  ASSERT_TRUE(run_coro(ioc_, masters_->create(path_ + "/log_replicas", "", false, false)));
  register_master(master_json("127.0.0.1", 15050));
  register_master(master_json("127.0.0.2", 15050));
  auto detector = detect();
  auto leader = run_coro(ioc_, detector->current_leader(seconds(10)), seconds(15));
  EXPECT_EQ(endpoint_text(leader), "127.0.0.1:15050");
}

TEST_F(ZkMasterDetectorTest, LeaderChangesWhenTheLowestNodeGoes) {
  ASSERT_TRUE(run_coro(ioc_, masters_->ensure_path(path_)));
  std::string first = register_master(master_json("127.0.0.1", 15050));
  register_master(master_json("127.0.0.2", 15051));
  auto detector = detect();
  std::vector<std::string> changes;
  detector->on_leader_change(
      [&](std::optional<Endpoint> e) { changes.push_back(endpoint_text(e)); });
  ASSERT_EQ(endpoint_text(run_coro(ioc_, detector->current_leader(seconds(10)), seconds(15))),
            "127.0.0.1:15050");

  ASSERT_TRUE(run_coro(ioc_, masters_->remove(first)));
  ASSERT_TRUE(run_until(
      ioc_, [&] { return endpoint_text(detector->leader()) == "127.0.0.2:15051"; }, seconds(10)));
  EXPECT_EQ(changes.back(), "127.0.0.2:15051");

  // The old leader's session ends: every node goes, no leader is left.
  masters_.reset();
  ASSERT_TRUE(run_until(
      ioc_, [&] { return !detector->leader(); }, seconds(10)));
  EXPECT_EQ(changes.back(), "none");
}

TEST_F(ZkMasterDetectorTest, GarbageNodesAreIgnored) {
  ASSERT_TRUE(run_coro(ioc_, masters_->ensure_path(path_)));
  register_master("this is not json");
  register_master(R"({"id":"x","port":5050})");  // decodes, names no address
  register_master(master_json("127.0.0.3", 15052));
  ASSERT_TRUE(run_coro(ioc_, masters_->create(path_ + "/info_", "\x08\x01", true, true)));
  auto detector = detect();
  auto leader = run_coro(ioc_, detector->current_leader(seconds(10)), seconds(15));
  EXPECT_EQ(endpoint_text(leader), "127.0.0.3:15052");
}

TEST_F(ZkMasterDetectorTest, NoNodeMeansNoLeaderUntilOneRegisters) {
  auto detector = detect();  // the path does not even exist yet
  auto none = run_coro(ioc_, detector->current_leader(milliseconds(300)), seconds(5));
  EXPECT_FALSE(none);

  ASSERT_TRUE(run_coro(ioc_, masters_->ensure_path(path_)));
  auto still_none = run_coro(ioc_, detector->current_leader(milliseconds(300)), seconds(5));
  EXPECT_FALSE(still_none);

  register_master(master_json("127.0.0.4", 15053));
  auto leader = run_coro(ioc_, detector->current_leader(seconds(10)), seconds(15));
  EXPECT_EQ(endpoint_text(leader), "127.0.0.4:15053");
}

TEST_F(ZkMasterDetectorTest, SharedClientAndNewSessionKeepFollowing) {
  ASSERT_TRUE(run_coro(ioc_, masters_->ensure_path(path_)));
  ZkClient zk(ioc_.get_executor(), server_->connect_string(), seconds(4));
  MasterDetector detector(ioc_.get_executor(), zk, path_, milliseconds(200));
  register_master(master_json("127.0.0.5", 15054));
  ASSERT_EQ(endpoint_text(run_coro(ioc_, detector.current_leader(seconds(10)), seconds(15))),
            "127.0.0.5:15054");

  // After the detector's own session expires it reads the children again
  // and still sees changes.
  ASSERT_TRUE(run_coro(ioc_, zk.expire_session_ForTest()));
  ASSERT_TRUE(run_until(
      ioc_, [&] { return zk.generation() == 2 && zk.state() == ZkSessionState::kConnected; },
      seconds(15)));
  register_master(master_json("127.0.0.6", 15055));
  masters_.reset();  // removes both nodes
  masters_ =
      std::make_unique<ZkClient>(ioc_.get_executor(), server_->connect_string(), seconds(10));
  ASSERT_TRUE(run_coro(ioc_, masters_->wait_connected(seconds(10)), seconds(15)));
  register_master(master_json("127.0.0.7", 15056));
  EXPECT_TRUE(run_until(
      ioc_, [&] { return endpoint_text(detector.leader()) == "127.0.0.7:15056"; }, seconds(10)));
}

}  // namespace
}  // namespace etcdmesos::io
