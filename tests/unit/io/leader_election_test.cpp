// LeaderElection against a real ZooKeeper 3.8 server: one leader among
// several candidates, successors watching only their predecessor, takeover
// when the leader goes or loses its session.
#include "io/leader_election.hpp"

#include "io_test_util.hpp"
#include "support/tcp_relay.hpp"
#include "support/zookeeper_server.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace etcdmesos::io {
namespace {

using etcdmesos::testing::run_coro;
using etcdmesos::testing::run_until;
using etcdmesos::testing::TcpRelay;
using etcdmesos::testing::ZooKeeperServer;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr milliseconds kSessionTimeout{2000};

TEST(ElectionNodeSequenceTest, ParsesOnlyMemberNodes) {
  EXPECT_EQ(election_node_sequence("member_0000000007"), 7u);
  EXPECT_EQ(election_node_sequence("member_0"), 0u);
  EXPECT_FALSE(election_node_sequence("member_"));
  EXPECT_FALSE(election_node_sequence("member_12x"));
  EXPECT_FALSE(election_node_sequence("json.info_0000000001"));
  EXPECT_FALSE(election_node_sequence("lock"));
}

// One scheduler's view: its own session and its election.
struct Candidate {
  std::string info;
  std::unique_ptr<ZkClient> zk;
  std::unique_ptr<LeaderElection> election;
  int elected = 0;
  int deposed = 0;
  std::function<void()> on_elected_hook;

  bool leading() const { return election && election->leading(); }
};

class LeaderElectionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new ZooKeeperServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  std::string dir() const {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    return std::string("/election-") + info->name() + "/etcd/leader";
  }

  // Connects, joins, and waits until the candidate has its node, so that
  // candidates line up in the order they were added.
  Candidate& add(const std::string& info, const std::string& connect_string, milliseconds session,
                 milliseconds grace = milliseconds(0)) {
    auto& c = *candidates_.emplace_back(std::make_unique<Candidate>());
    c.info = info;
    c.zk = std::make_unique<ZkClient>(ioc_.get_executor(), connect_string, session);
    EXPECT_TRUE(run_coro(ioc_, c.zk->wait_connected(seconds(10)), seconds(15)));
    LeaderElection::Callbacks callbacks;
    callbacks.on_elected = [&c] {
      ++c.elected;
      if (c.on_elected_hook) {
        c.on_elected_hook();
      }
    };
    callbacks.on_deposed = [&c] { ++c.deposed; };
    LeaderElection::Options options;
    options.retry_interval = milliseconds(200);
    options.recheck_interval = milliseconds(500);
    options.disconnect_grace = grace;
    c.election = std::make_unique<LeaderElection>(ioc_.get_executor(), *c.zk, dir(), info,
                                                  std::move(callbacks), options);
    c.election->start();
    EXPECT_TRUE(run_until(ioc_, [&] { return !c.election->node().empty(); }));
    return c;
  }
  Candidate& add(const std::string& info, ZooKeeperServer& server, milliseconds session,
                 milliseconds grace = milliseconds(0)) {
    return add(info, server.connect_string(), session, grace);
  }
  Candidate& add(const std::string& info) { return add(info, *server_, kSessionTimeout); }

  // The process exits: its election withdraws, its session closes.
  static void exit(Candidate& c) {
    c.election.reset();
    c.zk.reset();
  }

  // `c` is a candidate again with a node other than `old_node`, and knows
  // `leader` as the leader.
  static bool rejoined_under(const Candidate& c, const std::string& old_node,
                             const Candidate& leader) {
    return !c.election->node().empty() && c.election->node() != old_node &&
           c.election->leader_info() == leader.info;
  }

  int leaders() const {
    return static_cast<int>(std::count_if(candidates_.begin(), candidates_.end(),
                                          [](const auto& c) { return c->leading(); }));
  }

  static ZooKeeperServer* server_;
  boost::asio::io_context ioc_;
  std::vector<std::unique_ptr<Candidate>> candidates_;
};

ZooKeeperServer* LeaderElectionTest::server_ = nullptr;

TEST_F(LeaderElectionTest, ExactlyOneOfThreeLeadsAndEachWatchesOnlyItsPredecessor) {
  auto& a = add("10.0.0.1:23400");
  auto& b = add("10.0.0.2:23400");
  auto& c = add("10.0.0.3:23400");
  ASSERT_TRUE(run_until(ioc_, [&] {
    return a.leading() && b.election->watched_node_ForTest() == a.election->node() &&
           c.election->watched_node_ForTest() == b.election->node() &&
           c.election->leader_info() == a.info;
  }));
  EXPECT_EQ(leaders(), 1);
  EXPECT_EQ(a.elected, 1);
  EXPECT_EQ(b.elected + c.elected, 0);
  EXPECT_EQ(a.election->watched_node_ForTest(), a.election->node());
  EXPECT_EQ(a.election->leader_info(), a.info);
  EXPECT_EQ(b.election->leader_info(), a.info);
  // Node names are member_<sequence>, carrying the candidate's address.
  EXPECT_TRUE(election_node_sequence(a.election->node().substr(dir().size() + 1)));
  auto data = run_coro(ioc_, c.zk->get(b.election->node()));
  ASSERT_TRUE(data && *data);
  EXPECT_EQ(**data, b.info);
  auto fresh = run_coro(ioc_, c.election->read_leader_info());
  ASSERT_TRUE(fresh);
  EXPECT_EQ(*fresh, std::optional<std::string>(a.info));
}

TEST_F(LeaderElectionTest, WhenTheLeaderExitsOnlyItsSuccessorTakesOverQuickly) {
  auto& a = add("h:1");
  auto& b = add("h:2");
  auto& c = add("h:3");
  ASSERT_TRUE(run_until(ioc_, [&] { return a.leading(); }));
  const std::string c_watches = b.election->node();
  ASSERT_TRUE(run_until(ioc_, [&] { return c.election->watched_node_ForTest() == c_watches; }));

  auto start = Clock::now();
  exit(a);
  ASSERT_TRUE(run_until(
      ioc_, [&] { return b.leading(); }, kSessionTimeout + seconds(3)));
  EXPECT_LT(Clock::now() - start, kSessionTimeout + seconds(1));
  EXPECT_EQ(b.elected, 1);
  EXPECT_EQ(c.elected, 0);
  EXPECT_EQ(leaders(), 1);
  // c was not woken: it still watches b, and learns the new leader on its
  // next re-read.
  EXPECT_EQ(c.election->watched_node_ForTest(), c_watches);
  EXPECT_TRUE(run_until(ioc_, [&] { return c.election->leader_info() == b.info; }));
}

TEST_F(LeaderElectionTest, AStandbyLeavingRewiresTheWatchWithoutAnElection) {
  auto& a = add("h:1");
  auto& b = add("h:2");
  auto& c = add("h:3");
  ASSERT_TRUE(run_until(ioc_, [&] { return a.leading(); }));
  exit(b);
  ASSERT_TRUE(
      run_until(ioc_, [&] { return c.election->watched_node_ForTest() == a.election->node(); }));
  EXPECT_TRUE(a.leading());
  EXPECT_EQ(a.elected, 1);
  EXPECT_EQ(a.deposed, 0);
  EXPECT_EQ(c.elected, 0);
}

// A real expiry: the leader's host loses ZooKeeper for longer than the
// session timeout while a standby still reaches it. The leader sees its
// connection go at once and steps down; the server expires the session only
// after the timeout, so the standby is elected strictly after the old leader
// stopped leading: never two leaders, whatever the timing.
TEST_F(LeaderElectionTest, AnIsolatedLeaderStepsDownBeforeAStandbyTakesOver) {
  TcpRelay relay(server_->port());
  auto& a = add("h:1", relay.connect_string(), kSessionTimeout);
  auto& b = add("h:2");
  ASSERT_TRUE(run_until(ioc_, [&] { return a.leading() && !b.leading(); }));
  bool a_leading_when_b_elected = true;
  b.on_elected_hook = [&] { a_leading_when_b_elected = a.leading(); };
  const std::string old_node = a.election->node();

  relay.cut();
  auto start = Clock::now();
  ASSERT_TRUE(run_until(
      ioc_, [&] { return !a.leading(); }, seconds(5)));
  EXPECT_LT(Clock::now() - start, kSessionTimeout);
  EXPECT_EQ(a.deposed, 1);
  ASSERT_TRUE(run_until(
      ioc_, [&] { return b.leading(); }, kSessionTimeout + seconds(5)));
  EXPECT_FALSE(a_leading_when_b_elected);
  EXPECT_GE(Clock::now() - start, kSessionTimeout / 2);  // the server waited for the timeout

  // Back on the network, the old leader learns its session expired and joins
  // again with a new session and node, as a standby.
  relay.heal();
  ASSERT_TRUE(run_until(
      ioc_, [&] { return rejoined_under(a, old_node, b); }, seconds(15)));
  EXPECT_FALSE(a.leading());
  EXPECT_EQ(a.elected, 1);
  EXPECT_EQ(b.deposed, 0);
  EXPECT_EQ(leaders(), 1);
}

// The expiry told to a leader that holds a connection (the test hook ends the
// session through a twin client). The server may end the session while `a`
// has just taken the connection back from the twin; `a` then hears of it only
// on its next ping, so the standby can be elected a moment before `a` steps
// down. That overlap is ZooKeeper's, and a real expiry does not produce it
// (it follows a disconnection, see the test above); this test checks that
// the expiry deposes at once and the standby takes over.
TEST_F(LeaderElectionTest, AnExpiredLeaderIsDeposedAtOnceAndAStandbyTakesOver) {
  auto& a = add("h:1");
  auto& b = add("h:2");
  ASSERT_TRUE(run_until(ioc_, [&] { return a.leading() && !b.leading(); }));
  const std::string old_node = a.election->node();

  // The test hook may need several attempts (each up to a few seconds on a
  // loaded machine) before the server expires the session, so the takeover is
  // timed from the expiry, which the hook returns only after `a` saw it.
  ASSERT_TRUE(run_coro(ioc_, a.zk->expire_session_ForTest(), seconds(60)));
  auto start = Clock::now();
  // Told at once. The test hook makes the session bounce between a twin and
  // this client before it expires, so `a` may have been deposed and elected
  // again in between; every election was followed by a deposition.
  EXPECT_FALSE(a.leading());
  EXPECT_GE(a.deposed, 1);
  EXPECT_EQ(a.deposed, a.elected);
  const int a_elected = a.elected;
  ASSERT_TRUE(run_until(
      ioc_, [&] { return b.leading(); }, kSessionTimeout + seconds(3)));
  EXPECT_LT(Clock::now() - start, kSessionTimeout + seconds(3));
  // The old leader joins again with a new session and node, as a standby.
  ASSERT_TRUE(run_until(
      ioc_, [&] { return rejoined_under(a, old_node, b); }, seconds(10)));
  EXPECT_FALSE(a.leading());
  EXPECT_EQ(a.elected, a_elected);
  EXPECT_EQ(b.deposed, 0);
  EXPECT_EQ(a.election->watched_node_ForTest(), b.election->node());
}

TEST_F(LeaderElectionTest, ALeaderWhoseNodeIsDeletedStepsDownAndJoinsAgain) {
  auto& a = add("h:1");
  auto& b = add("h:2");
  ASSERT_TRUE(run_until(ioc_, [&] { return a.leading(); }));
  const std::string old_node = a.election->node();
  ASSERT_TRUE(run_coro(ioc_, b.zk->remove(old_node)));  // an operator's mistake
  ASSERT_TRUE(run_until(ioc_, [&] {
    return b.leading() && !a.leading() && a.election->node() != old_node &&
           !a.election->node().empty();
  }));
  EXPECT_EQ(a.deposed, 1);
  EXPECT_EQ(leaders(), 1);
}

TEST_F(LeaderElectionTest, StopWithdrawsAtOnceAndCallsNothing) {
  auto& a = add("h:1");
  auto& b = add("h:2");
  ASSERT_TRUE(run_until(ioc_, [&] { return a.leading(); }));
  const std::string node = a.election->node();
  a.election->stop();
  a.election->stop();  // idempotent
  EXPECT_FALSE(a.leading());
  EXPECT_EQ(a.deposed, 0);
  ASSERT_TRUE(run_until(ioc_, [&] { return b.leading(); }));
  auto gone = run_coro(ioc_, b.zk->get(node));
  ASSERT_TRUE(gone);
  EXPECT_FALSE(*gone);
  EXPECT_EQ(a.elected, 1);
}

TEST_F(LeaderElectionTest, NoCandidateMeansNoLeaderInfo) {
  auto zk =
      std::make_unique<ZkClient>(ioc_.get_executor(), server_->connect_string(), kSessionTimeout);
  ASSERT_TRUE(run_coro(ioc_, zk->wait_connected(seconds(10)), seconds(15)));
  LeaderElection reader(ioc_.get_executor(), *zk, dir(), "h:9", {});
  EXPECT_FALSE(reader.leader_info());
  auto fresh = run_coro(ioc_, reader.read_leader_info());
  ASSERT_TRUE(fresh) << fresh.error().message;
  EXPECT_FALSE(*fresh);
}

// A server of its own: this test stops it.
TEST_F(LeaderElectionTest, LosingTheConnectionDeposesAtOnceAndTheSameNodeLeadsAgain) {
  ZooKeeperServer server;
  auto& a = add("h:1", server, seconds(10));  // the session outlives the outage
  ASSERT_TRUE(run_until(ioc_, [&] { return a.leading(); }));
  const std::string node = a.election->node();

  server.kill(SIGKILL);
  auto start = Clock::now();
  ASSERT_TRUE(run_until(
      ioc_, [&] { return !a.leading(); }, seconds(5)));
  EXPECT_LT(Clock::now() - start, seconds(2));
  EXPECT_EQ(a.deposed, 1);
  EXPECT_FALSE(a.election->leader_info());

  server.restart();
  ASSERT_TRUE(run_until(
      ioc_, [&] { return a.leading(); }, seconds(20)));
  EXPECT_EQ(a.elected, 2);
  EXPECT_EQ(a.election->node(), node);  // same session, same node
}

TEST_F(LeaderElectionTest, ALeaderKeepsLeadingThroughABlipShorterThanTheGrace) {
  ZooKeeperServer server;
  // A wide grace: a restart of ZooKeeper on a loaded machine takes seconds.
  auto& a = add("h:1", server, seconds(40), seconds(15));
  ASSERT_TRUE(run_until(ioc_, [&] { return a.leading(); }));

  server.kill(SIGKILL);
  ASSERT_TRUE(run_until(
      ioc_, [&] { return a.zk->state() != ZkSessionState::kConnected; }, seconds(5)));
  EXPECT_TRUE(a.leading());
  EXPECT_EQ(a.election->leader_info(), a.info);
  server.restart();
  ASSERT_TRUE(run_coro(ioc_, a.zk->wait_connected(seconds(20)), seconds(25)));
  // Still the same leadership: never deposed, never elected again.
  EXPECT_TRUE(a.leading());
  EXPECT_EQ(a.deposed, 0);
  EXPECT_EQ(a.elected, 1);
}

TEST_F(LeaderElectionTest, ALeaderDisconnectedLongerThanTheGraceIsDeposed) {
  ZooKeeperServer server;
  auto& a = add("h:1", server, seconds(20), milliseconds(1000));
  ASSERT_TRUE(run_until(ioc_, [&] { return a.leading(); }));

  server.kill(SIGKILL);
  ASSERT_TRUE(run_until(
      ioc_, [&] { return a.zk->state() != ZkSessionState::kConnected; }, seconds(5)));
  auto noticed = Clock::now();
  ASSERT_TRUE(run_until(
      ioc_, [&] { return !a.leading(); }, seconds(5)));
  auto took = Clock::now() - noticed;
  EXPECT_GE(took, milliseconds(900));
  EXPECT_LT(took, milliseconds(2500));
  EXPECT_EQ(a.deposed, 1);

  server.restart();
  ASSERT_TRUE(run_until(
      ioc_, [&] { return a.leading(); }, seconds(20)));
  EXPECT_EQ(a.elected, 2);
}

}  // namespace
}  // namespace etcdmesos::io
