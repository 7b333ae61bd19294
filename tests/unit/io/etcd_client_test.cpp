// EtcdClient against real etcd 3.4 members.
#include "io/etcd_client.hpp"

#include "io_test_util.hpp"
#include "support/etcd_server.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace etcdmesos::io {
namespace {

using etcdmesos::testing::EtcdCluster;
using etcdmesos::testing::run_coro;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(EndpointFromUrlTest, AcceptsHttpHostPort) {
  auto e = endpoint_from_url("http://127.0.0.1:2379");
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->host, "127.0.0.1");
  EXPECT_EQ(e->port, 2379);
  auto slash = endpoint_from_url("http://etcd-1.example:31001/");
  ASSERT_TRUE(slash);
  EXPECT_EQ(slash->to_string(), "etcd-1.example:31001");
  auto v6 = endpoint_from_url("http://[::1]:2379");
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 2379);
  auto highest = endpoint_from_url("http://h:65535");
  ASSERT_TRUE(highest) << highest.error().message;
  EXPECT_EQ(highest->port, 65535);
}

TEST(EndpointFromUrlTest, RejectsOtherShapes) {
  for (const char* bad : {"", "127.0.0.1:2379", "https://h:2379", "http://h", "http://h:0",
                          "http://h:2379/v3", "http://:2379", "http://h:99999"}) {
    EXPECT_FALSE(endpoint_from_url(bad)) << bad;
  }
  for (const char* bad :
       {"http://h:", "http://h:65536", "http://h:23x9", "http://[::1]", "http://u@h:2379",
        "http://h:2379?x=1", "http://h:2379#top", "http://", "http:h:2379", "http://h:2379//"}) {
    auto e = endpoint_from_url(bad);
    ASSERT_FALSE(e) << bad;
    EXPECT_NE(e.error().message.find(bad), std::string::npos) << e.error().message;
  }
}

class EtcdClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cluster_ = new EtcdCluster(3); }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  EtcdClient client(std::size_t i, milliseconds timeout = seconds(5)) {
    auto e = endpoint_from_url(cluster_->client_url(i));
    EXPECT_TRUE(e);
    return EtcdClient(ioc_.get_executor(), *e, timeout);
  }

  // etcd refuses membership changes with 503 "unhealthy cluster" until every
  // member has been connected for 5 s (reference etcd §8); retry until then.
  Result<etcd::EtcdMemberInfo> add_member(std::string peer_url, bool is_learner) {
    auto deadline = std::chrono::steady_clock::now() + seconds(20);
    while (true) {
      auto added = run_coro(ioc_, client(0).member_add({peer_url}, is_learner));
      if (added || added.error().code != 503 || std::chrono::steady_clock::now() > deadline) {
        return added;
      }
      boost::asio::steady_timer pause(ioc_, milliseconds(200));
      run_coro(ioc_, pause.async_wait(boost::asio::use_awaitable));
    }
  }

  static EtcdCluster* cluster_;
  boost::asio::io_context ioc_;
};

EtcdCluster* EtcdClientTest::cluster_ = nullptr;

TEST_F(EtcdClientTest, StatusNamesTheLeader) {
  auto status = run_coro(ioc_, client(0).status());
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_NE(status->leader, 0u);
  EXPECT_NE(status->member_id, 0u);
  EXPECT_GT(status->raft_index, 0u);
  EXPECT_GT(status->raft_term, 0u);
  EXPECT_EQ(status->version, "3.4.23");
  auto other = run_coro(ioc_, client(1).status());
  ASSERT_TRUE(other);
  EXPECT_EQ(other->leader, status->leader);
  EXPECT_NE(other->member_id, status->member_id);
}

TEST_F(EtcdClientTest, PutThenGetRawBytes) {
  std::string key("k\0ey", 4);
  std::string value("v\xff\0", 3);
  auto put = run_coro(ioc_, client(0).put(key, value));
  ASSERT_TRUE(put) << put.error().message;
  EXPECT_GT(put->revision, 0u);
  auto got = run_coro(ioc_, client(1).get(key));
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got, std::optional<std::string>(value));
  auto missing = run_coro(ioc_, client(2).get("no-such-key"));
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
}

TEST_F(EtcdClientTest, MemberListNamesEveryMember) {
  auto list = run_coro(ioc_, client(2).member_list());
  ASSERT_TRUE(list) << list.error().message;
  ASSERT_EQ(list->size(), 3u);
  std::vector<std::string> names;
  for (const auto& m : *list) {
    names.push_back(m.name);
    EXPECT_NE(m.id, 0u);
    ASSERT_EQ(m.client_urls.size(), 1u);
    ASSERT_EQ(m.peer_urls.size(), 1u);
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"m0", "m1", "m2"}));
}

TEST_F(EtcdClientTest, AddThenRemoveALearnerAndRemoveTwice) {
  // A learner does not count toward quorum, so an unstarted one is harmless.
  uint16_t port = etcdmesos::testing::free_port();
  std::string url = "http://127.0.0.1:" + std::to_string(port);
  auto added = add_member(url, true);
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_NE(added->id, 0u);
  EXPECT_TRUE(added->is_learner);
  EXPECT_EQ(added->peer_urls, std::vector<std::string>{url});

  // Ask the member that served the change: etcd answers a membership change
  // once that member has applied it, while another member may still be a
  // heartbeat behind (the one flaky CI run of this test listed from member 1).
  auto list = run_coro(ioc_, client(0).member_list());
  ASSERT_TRUE(list);
  EXPECT_EQ(list->size(), 4u);

  auto removed = run_coro(ioc_, client(0).member_remove(added->id));
  ASSERT_TRUE(removed) << removed.error().message;
  // Removing it again: etcd answers 404 "member not found"; that is done.
  auto again = run_coro(ioc_, client(0).member_remove(added->id));
  EXPECT_TRUE(again) << again.error().message;
  list = run_coro(ioc_, client(0).member_list());
  ASSERT_TRUE(list);
  EXPECT_EQ(list->size(), 3u);
}

// The maintenance calls of a NOSPACE recovery (issue 13) on a healthy
// cluster: no alarm listed, compaction and defragmentation answered, and
// disarming an alarm nobody raised is no error.
TEST_F(EtcdClientTest, AlarmsCompactionDefragmentAndDisarm) {
  auto alarms = run_coro(ioc_, client(0).alarms());
  ASSERT_TRUE(alarms) << alarms.error().message;
  EXPECT_TRUE(alarms->empty());
  ASSERT_TRUE(run_coro(ioc_, client(0).put("k", "v1")));
  ASSERT_TRUE(run_coro(ioc_, client(0).put("k", "v2")));
  auto status = run_coro(ioc_, client(0).status());
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_GE(status->revision, 3u);
  auto compacted = run_coro(ioc_, client(1).compact(status->revision));
  EXPECT_TRUE(compacted) << compacted.error().message;
  // Compacted already (a second NOSPACE recovery without writes between):
  // the history up to it is gone, as asked.
  auto again = run_coro(ioc_, client(0).compact(status->revision));
  EXPECT_TRUE(again) << again.error().message;
  // A revision that does not exist yet is still an error.
  auto future = run_coro(ioc_, client(0).compact(status->revision + 1000));
  EXPECT_FALSE(future);
  auto defragmented = run_coro(ioc_, client(2).defragment());
  EXPECT_TRUE(defragmented) << defragmented.error().message;
  auto disarmed = run_coro(ioc_, client(0).disarm(status->member_id, "NOSPACE"));
  EXPECT_TRUE(disarmed) << disarmed.error().message;
  auto value = run_coro(ioc_, client(2).get("k"));
  ASSERT_TRUE(value);
  EXPECT_EQ(value->value_or(""), "v2") << "compaction keeps the current value";
}

TEST_F(EtcdClientTest, ErrorsCarryTheHttpStatusAndEtcdMessage) {
  // The peer URL of an existing member: 412 "Peer URLs already exists".
  auto taken = add_member(cluster_->peer_url(1), true);
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code, 412);
  EXPECT_NE(taken.error().message.find("Peer URLs already exists"), std::string::npos)
      << taken.error().message;

  auto bad = run_coro(ioc_, client(0).post("/v3/kv/put", R"({"key":"@@@"})"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, 400);
}

TEST(EtcdClientFailureTest, FrozenMemberTimesOut) {
  EtcdCluster cluster(1);
  boost::asio::io_context ioc;
  EtcdClient client(ioc.get_executor(), *endpoint_from_url(cluster.client_url(0)),
                    milliseconds(300));
  cluster.kill(0, SIGSTOP);
  auto start = std::chrono::steady_clock::now();
  // Without the timeout the call would wait until etcd runs again; the wide
  // bounds leave room for a loaded machine (a frozen member is what matters,
  // not how precisely the 300 ms are kept).
  auto status = run_coro(ioc, client.status(), seconds(30));
  auto took = std::chrono::steady_clock::now() - start;
  cluster.kill(0, SIGCONT);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, 0);
  EXPECT_LT(took, seconds(10));
}

TEST(EtcdClientFailureTest, RefusedConnectionIsAnError) {
  boost::asio::io_context ioc;
  EtcdClient client(ioc.get_executor(), Endpoint{"127.0.0.1", etcdmesos::testing::free_port()},
                    seconds(2));
  auto list = run_coro(ioc, client.member_list(), seconds(5));
  ASSERT_FALSE(list);
  EXPECT_EQ(list.error().code, 0);
  EXPECT_FALSE(list.error().message.empty());
}

}  // namespace
}  // namespace etcdmesos::io
