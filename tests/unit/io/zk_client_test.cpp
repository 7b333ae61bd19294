// ZkClient against a real ZooKeeper 3.8 server, and parse_zk_url.
#include "io/zk.hpp"

#include "io_test_util.hpp"
#include "support/zookeeper_server.hpp"

#include <zookeeper/zookeeper.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <gtest/gtest.h>

#include <algorithm>

namespace etcdmesos::io {
namespace {

using etcdmesos::testing::run_coro;
using etcdmesos::testing::run_until;
using etcdmesos::testing::ZooKeeperServer;
using std::chrono::milliseconds;
using std::chrono::seconds;

// ------------------------------------------------------------ parse_zk_url

TEST(ParseZkUrlTest, SplitsServersAndPath) {
  auto url = parse_zk_url("zk://h1:2181,10.0.0.2:2182/mesos", true);
  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(url->servers, "h1:2181,10.0.0.2:2182");
  EXPECT_EQ(url->path, "/mesos");
}

TEST(ParseZkUrlTest, TakesBracketedIpv6AndTheWholePortRange) {
  auto url = parse_zk_url("zk://[::1]:2181,h:65535,10.0.0.1:1/mesos", true);
  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(url->servers, "[::1]:2181,h:65535,10.0.0.1:1");
  EXPECT_EQ(url->path, "/mesos");
}

TEST(ParseZkUrlTest, NormalisesTrailingSlashAndNestedPath) {
  auto url = parse_zk_url("zk://h:1/a/b/", true);
  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(url->path, "/a/b");
}

TEST(ParseZkUrlTest, RootPathIsAllowedOnlyWhenAskedFor) {
  auto root = parse_zk_url("zk://h:2181/", false);
  ASSERT_TRUE(root);
  EXPECT_EQ(root->path, "/");
  auto none = parse_zk_url("zk://h:2181", false);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->path, "/");
  EXPECT_FALSE(parse_zk_url("zk://h:2181/", true));
  EXPECT_FALSE(parse_zk_url("zk://h:2181", true));
}

TEST(ParseZkUrlTest, RejectsMalformedUrls) {
  for (const char* bad : {"",
                          "h:2181/mesos",
                          "http://h:2181/mesos",
                          "zk://",
                          "zk:///mesos",
                          "zk://h/mesos",
                          "zk://h:/mesos",
                          "zk://h:0/mesos",
                          "zk://h:65536/mesos",
                          "zk://h:21x1/mesos",
                          "zk://:2181/mesos",
                          "zk://h:1,/mesos",
                          "zk://h:1,,h2:2/mesos",
                          "zk://u:p@h:1/mesos",
                          "zk://h:1//mesos",
                          "zk://h:1/a//b",
                          "zk://h:1/a/../b",
                          "zk://[::1]/mesos",
                          "zk://[::1]:99999/mesos",
                          "zk://h:2181,:2182/mesos",
                          "zk://h:2181,h2/mesos",
                          "zk://h:-1/mesos",
                          "zk://h:1:2/mesos"}) {
    auto url = parse_zk_url(bad, true);
    EXPECT_FALSE(url) << "accepted: '" << bad << "'";
    if (!url) {
      EXPECT_FALSE(url.error().message.empty());
    }
  }
}

// ------------------------------------------------------------ client

class ZkClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new ZooKeeperServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  std::unique_ptr<ZkClient> connect(milliseconds session_timeout = seconds(4),
                                    ZkAccess access = {}) {
    auto client = std::make_unique<ZkClient>(ioc_.get_executor(), server_->connect_string(),
                                             session_timeout, std::move(access));
    EXPECT_TRUE(run_coro(ioc_, client->wait_connected(seconds(10)), seconds(15)));
    return client;
  }

  // A path no other test uses.
  std::string base() const {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    return std::string("/") + info->name();
  }

  static ZooKeeperServer* server_;
  boost::asio::io_context ioc_;
};

ZooKeeperServer* ZkClientTest::server_ = nullptr;

TEST_F(ZkClientTest, CreateGetPutRemove) {
  auto zk = connect();
  EXPECT_EQ(zk->state(), ZkSessionState::kConnected);
  EXPECT_EQ(zk->generation(), 1u);
  std::string path = base();

  auto created = run_coro(ioc_, zk->create(path, "v1", false, false));
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(*created, path);

  auto got = run_coro(ioc_, zk->get(path));
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, std::optional<std::string>("v1"));

  ASSERT_TRUE(run_coro(ioc_, zk->put(path, std::string("a\0b", 3))));
  got = run_coro(ioc_, zk->get(path));
  ASSERT_TRUE(got && *got);
  EXPECT_EQ(**got, std::string("a\0b", 3));

  ASSERT_TRUE(run_coro(ioc_, zk->put(path + "/fresh", "new")));  // put creates
  got = run_coro(ioc_, zk->get(path + "/fresh"));
  ASSERT_TRUE(got && *got);
  EXPECT_EQ(**got, "new");

  ASSERT_TRUE(run_coro(ioc_, zk->remove(path + "/fresh")));
  ASSERT_TRUE(run_coro(ioc_, zk->remove(path + "/fresh")));  // absent is fine
  got = run_coro(ioc_, zk->get(path + "/fresh"));
  ASSERT_TRUE(got);
  EXPECT_FALSE(*got);
}

TEST_F(ZkClientTest, EmptyDataReadsAsEmptyString) {
  auto zk = connect();
  ASSERT_TRUE(run_coro(ioc_, zk->create(base(), "", false, false)));
  auto got = run_coro(ioc_, zk->get(base()));
  ASSERT_TRUE(got && *got);
  EXPECT_EQ(**got, "");
}

TEST_F(ZkClientTest, ChildrenAreNamesNotPaths) {
  auto zk = connect();
  std::string path = base();
  ASSERT_TRUE(run_coro(ioc_, zk->ensure_path(path)));
  ASSERT_TRUE(run_coro(ioc_, zk->create(path + "/b", "", false, false)));
  ASSERT_TRUE(run_coro(ioc_, zk->create(path + "/a", "", false, false)));
  auto kids = run_coro(ioc_, zk->children(path));
  ASSERT_TRUE(kids) << kids.error().message;
  std::sort(kids->begin(), kids->end());
  EXPECT_EQ(*kids, (std::vector<std::string>{"a", "b"}));
}

TEST_F(ZkClientTest, EnsurePathCreatesAncestorsAndIsIdempotent) {
  auto zk = connect();
  std::string path = base() + "/x/y/z";
  ASSERT_TRUE(run_coro(ioc_, zk->ensure_path(path)));
  ASSERT_TRUE(run_coro(ioc_, zk->ensure_path(path)));
  auto got = run_coro(ioc_, zk->get(base() + "/x/y"));
  ASSERT_TRUE(got);
  EXPECT_TRUE(*got);
  got = run_coro(ioc_, zk->get(path));
  ASSERT_TRUE(got);
  EXPECT_TRUE(*got);
}

TEST_F(ZkClientTest, ErrorsCarryTheZooKeeperCode) {
  auto zk = connect();
  std::string path = base();
  auto orphan = run_coro(ioc_, zk->create(path + "/missing/child", "", false, false));
  ASSERT_FALSE(orphan);
  EXPECT_EQ(orphan.error().code, ZNONODE);
  EXPECT_NE(orphan.error().message.find(path + "/missing/child"), std::string::npos);

  auto kids = run_coro(ioc_, zk->children(path + "/missing"));
  ASSERT_FALSE(kids);
  EXPECT_EQ(kids.error().code, ZNONODE);

  ASSERT_TRUE(run_coro(ioc_, zk->create(path, "", false, false)));
  auto twice = run_coro(ioc_, zk->create(path, "", false, false));
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, ZNODEEXISTS);

  ASSERT_TRUE(run_coro(ioc_, zk->create(path + "/c", "", false, false)));
  auto not_empty = run_coro(ioc_, zk->remove(path));
  ASSERT_FALSE(not_empty);
  EXPECT_EQ(not_empty.error().code, ZNOTEMPTY);

  auto bad = run_coro(ioc_, zk->get("relative"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ZBADARGUMENTS);
}

TEST_F(ZkClientTest, EphemeralSequentialNodesVanishWithTheSession) {
  auto owner = connect();
  auto observer = connect();
  std::string path = base();
  ASSERT_TRUE(run_coro(ioc_, owner->ensure_path(path)));
  auto first = run_coro(ioc_, owner->create(path + "/json.info_", "a", true, true));
  auto second = run_coro(ioc_, owner->create(path + "/json.info_", "b", true, true));
  ASSERT_TRUE(first && second);
  // ZooKeeper appends a 10-digit counter.
  EXPECT_EQ(*first, path + "/json.info_0000000000");
  EXPECT_EQ(*second, path + "/json.info_0000000001");

  owner.reset();  // closing the session removes its ephemeral nodes at once
  auto kids = run_coro(ioc_, observer->children(path));
  ASSERT_TRUE(kids);
  EXPECT_TRUE(kids->empty());
}

TEST_F(ZkClientTest, ChildWatchFiresOnceOnChange) {
  auto watcher = connect();
  auto writer = connect();
  std::string path = base();
  ASSERT_TRUE(run_coro(ioc_, watcher->ensure_path(path)));
  int fired = 0;
  auto kids = run_coro(ioc_, watcher->children(path, [&] { ++fired; }));
  ASSERT_TRUE(kids);
  EXPECT_TRUE(kids->empty());
  EXPECT_EQ(fired, 0);

  ASSERT_TRUE(run_coro(ioc_, writer->create(path + "/n", "", true, false)));
  EXPECT_TRUE(run_until(
      ioc_, [&] { return fired == 1; }, seconds(10)));
  // One-shot: a second change without a new watch is not reported.
  ASSERT_TRUE(run_coro(ioc_, writer->remove(path + "/n")));
  auto after = run_coro(ioc_, watcher->children(path));  // round trip: the event came first
  ASSERT_TRUE(after);
  EXPECT_EQ(fired, 1);
}

TEST_F(ZkClientTest, SessionStateCallbacksRunOnTheLoop) {
  std::vector<ZkSessionState> seen;
  ZkClient zk(ioc_.get_executor(), server_->connect_string(), seconds(4));
  zk.on_session_state([&](ZkSessionState s) { seen.push_back(s); });
  ASSERT_TRUE(run_coro(ioc_, zk.wait_connected(seconds(10)), seconds(15)));
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back(), ZkSessionState::kConnected);
}

TEST_F(ZkClientTest, ExpiredSessionStartsANewGeneration) {
  auto zk = connect(seconds(2));
  auto observer = connect();
  std::string path = base();
  ASSERT_TRUE(run_coro(ioc_, zk->ensure_path(path)));
  ASSERT_TRUE(run_coro(ioc_, zk->create(path + "/eph", "", true, false)));
  bool watch_fired = false;
  ASSERT_TRUE(run_coro(ioc_, zk->children(path + "/eph", [&] { watch_fired = true; })));
  std::vector<ZkSessionState> seen;
  zk->on_session_state([&](ZkSessionState s) { seen.push_back(s); });

  ASSERT_TRUE(run_coro(ioc_, zk->expire_session_ForTest()));
  ASSERT_TRUE(run_until(
      ioc_, [&] { return zk->generation() == 2 && zk->state() == ZkSessionState::kConnected; },
      seconds(15)));
  EXPECT_NE(std::find(seen.begin(), seen.end(), ZkSessionState::kExpired), seen.end());
  EXPECT_TRUE(watch_fired);  // a watch is told that its session ended
  auto gone = run_coro(ioc_, observer->get(path + "/eph"));
  ASSERT_TRUE(gone);
  EXPECT_FALSE(*gone);
  // The new session works.
  EXPECT_TRUE(run_coro(ioc_, zk->create(path + "/eph", "", true, false)));
}

TEST_F(ZkClientTest, DestroyedClientCompletesPendingWatchersSilently) {
  auto zk = connect();
  std::string path = base();
  ASSERT_TRUE(run_coro(ioc_, zk->ensure_path(path)));
  bool fired = false;
  ASSERT_TRUE(run_coro(ioc_, zk->children(path, [&] { fired = true; })));
  zk.reset();
  auto writer = connect();
  ASSERT_TRUE(run_coro(ioc_, writer->create(path + "/n", "", false, false)));
  auto kids = run_coro(ioc_, writer->children(path));  // let any stray event arrive
  ASSERT_TRUE(kids);
  EXPECT_FALSE(fired);
}

// A client destroyed right after sending requests waits (briefly) for their
// answers: the node is gone afterwards, and under LeakSanitizer nothing of
// the C client leaks. Before, zookeeper_close could run with the delete in
// flight and the C client's I/O thread read the watch event the delete
// caused after its completion thread had finished; that event was never
// freed (seen once in a few CI runs of a scheduler exiting).
TEST_F(ZkClientTest, ADestroyedClientLetsItsRequestsInFlightFinish) {
  const std::string path = base();
  {
    auto setup = connect();
    ASSERT_TRUE(run_coro(ioc_, setup->ensure_path(path)));
  }
  for (int round = 0; round < 40; ++round) {
    auto zk = connect();
    const std::string node = path + "/n" + std::to_string(round);
    ASSERT_TRUE(run_coro(ioc_, zk->create(node, "", false, false)));
    // The watch the delete fires, as a leader watches its own node.
    ASSERT_TRUE(run_coro(ioc_, zk->children(node, [] {})));
    boost::asio::co_spawn(ioc_, zk->remove(node), boost::asio::detached);
    ioc_.restart();
    ioc_.poll();  // the delete is sent; its answer is not awaited
    // The leak needed the answer to arrive while the close ran: sweep the
    // gap between sending and closing over a round trip on loopback.
    std::this_thread::sleep_for(std::chrono::microseconds(25 * round));
    zk.reset();
  }
  auto reader = connect();
  auto left = run_coro(ioc_, reader->children(path));
  ASSERT_TRUE(left) << left.error().message;
  EXPECT_EQ(*left, std::vector<std::string>{});
}

// With a digest identity, what the client creates only that identity may
// change (a standby scheduler uses the same one); reading follows the flag.
TEST_F(ZkClientTest, NodesOfADigestIdentityAreChangedOnlyByIt) {
  const std::string path = base();
  auto owner = connect(seconds(4), ZkAccess{"etcd-mesos:s3cret", true});
  ASSERT_TRUE(run_coro(ioc_, owner->ensure_path(path + "/a/b")));
  ASSERT_TRUE(run_coro(ioc_, owner->put(path + "/a/b", "v1")));

  auto stranger = connect();
  auto read = run_coro(ioc_, stranger->get(path + "/a/b"));
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(*read, std::optional<std::string>("v1"));
  for (auto result : {run_coro(ioc_, stranger->put(path + "/a/b", "evil")),
                      run_coro(ioc_, stranger->remove(path + "/a/b")),
                      run_coro(ioc_, stranger->put(path + "/a/new", "x")),
                      run_coro(ioc_, stranger->put(path + "/a/b/c", "x"))}) {
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, ZNOAUTH) << result.error().message;
  }
  auto wrong = connect(seconds(4), ZkAccess{"etcd-mesos:guess", true});
  auto guessed = run_coro(ioc_, wrong->put(path + "/a/b", "evil"));
  ASSERT_FALSE(guessed);
  EXPECT_EQ(guessed.error().code, ZNOAUTH);

  auto standby = connect(seconds(4), ZkAccess{"etcd-mesos:s3cret", true});
  ASSERT_TRUE(run_coro(ioc_, standby->put(path + "/a/b", "v2")));
  ASSERT_TRUE(run_coro(ioc_, standby->create(path + "/a/b/eph", "", true, false)));

  // Private: nobody else reads either.
  auto secretive = connect(seconds(4), ZkAccess{"etcd-mesos:s3cret", false});
  ASSERT_TRUE(run_coro(ioc_, secretive->put(path + "/private", "p")));
  auto hidden = run_coro(ioc_, stranger->get(path + "/private"));
  ASSERT_FALSE(hidden);
  EXPECT_EQ(hidden.error().code, ZNOAUTH);
  EXPECT_TRUE(run_coro(ioc_, standby->get(path + "/private")));
}

// A new session (after expiry) authenticates again.
TEST_F(ZkClientTest, TheIdentityIsAddedToEveryNewSession) {
  const std::string path = base();
  auto owner = connect(seconds(4), ZkAccess{"etcd-mesos:s3cret", true});
  ASSERT_TRUE(run_coro(ioc_, owner->put(path, "v1")));
  ASSERT_TRUE(run_coro(ioc_, owner->expire_session_ForTest(), seconds(20)));
  ASSERT_TRUE(run_coro(ioc_, owner->wait_connected(seconds(10))));
  EXPECT_GE(owner->generation(), 2u);
  ASSERT_TRUE(run_coro(ioc_, owner->put(path, "v2")));
}

// A server of its own: these tests stop it.
TEST(ZkClientOutageTest, ServerDownFailsOperationsAndRestartReconnects) {
  ZooKeeperServer server;
  boost::asio::io_context ioc;
  ZkClient zk(ioc.get_executor(), server.connect_string(), seconds(10));
  zk.set_operation_timeout(seconds(3));
  ASSERT_TRUE(run_coro(ioc, zk.wait_connected(seconds(10)), seconds(15)));
  ASSERT_TRUE(run_coro(ioc, zk.create("/outage", "x", false, false)));

  server.kill(SIGKILL);
  ASSERT_TRUE(run_until(
      ioc, [&] { return zk.state() != ZkSessionState::kConnected; }, seconds(15)));
  EXPECT_EQ(zk.state(), ZkSessionState::kConnecting);
  // Every operation completes (with an error), none hangs.
  auto got = run_coro(ioc, zk.get("/outage"), seconds(10));
  ASSERT_FALSE(got);
  EXPECT_TRUE(got.error().code == ZCONNECTIONLOSS || got.error().code == ZOPERATIONTIMEOUT)
      << got.error().message;
  auto made = run_coro(ioc, zk.create("/outage2", "", false, false), seconds(10));
  EXPECT_FALSE(made);
  EXPECT_FALSE(run_coro(ioc, zk.wait_connected(milliseconds(200)), seconds(5)));

  server.restart();
  ASSERT_TRUE(run_coro(ioc, zk.wait_connected(seconds(20)), seconds(25)));
  EXPECT_EQ(zk.generation(), 1u);  // the session survived the short outage
  got = run_coro(ioc, zk.get("/outage"));
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got, std::optional<std::string>("x"));
}

TEST(ZkClientOutageTest, FrozenServerTimesOperationsOut) {
  ZooKeeperServer server;
  boost::asio::io_context ioc;
  ZkClient zk(ioc.get_executor(), server.connect_string(), seconds(10));
  zk.set_operation_timeout(milliseconds(500));
  ASSERT_TRUE(run_coro(ioc, zk.wait_connected(seconds(10)), seconds(15)));
  server.kill(SIGSTOP);
  auto got = run_coro(ioc, zk.get("/"), seconds(10));
  server.kill(SIGCONT);
  ASSERT_FALSE(got);
  EXPECT_TRUE(got.error().code == ZOPERATIONTIMEOUT || got.error().code == ZCONNECTIONLOSS)
      << got.error().message;
}

TEST(ZkClientOutageTest, NoServerNeverConnectsButAnswers) {
  boost::asio::io_context ioc;
  uint16_t port = etcdmesos::testing::free_port();
  ZkClient zk(ioc.get_executor(), "127.0.0.1:" + std::to_string(port), seconds(2));
  zk.set_operation_timeout(seconds(1));
  EXPECT_FALSE(run_coro(ioc, zk.wait_connected(milliseconds(500)), seconds(5)));
  auto got = run_coro(ioc, zk.get("/x"), seconds(5));
  EXPECT_FALSE(got);
}

}  // namespace
}  // namespace etcdmesos::io
