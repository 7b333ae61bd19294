// FrameworkStore against a real ZooKeeper 3.8 server.
#include "io/framework_store.hpp"

#include "io_test_util.hpp"
#include "support/zookeeper_server.hpp"

#include <zookeeper/zookeeper.h>

#include <gtest/gtest.h>

#include <algorithm>

namespace etcdmesos::io {
namespace {

using etcdmesos::testing::run_coro;
using etcdmesos::testing::run_until;
using etcdmesos::testing::ZooKeeperServer;
using persisted::TaskRecord;
using std::chrono::milliseconds;
using std::chrono::seconds;

TaskRecord task(const std::string& id, const std::string& host = "10.0.0.5") {
  TaskRecord t;
  t.task_id = id;
  t.agent_id = "agent-" + id;
  t.name = "etcd-1";
  t.host = host;
  t.peer_port = 31002;
  t.client_port = 31001;
  return t;
}

// ------------------------------------------------------------ location

TEST(PersistLocationTest, NamesTheNodesOfOneFramework) {
  auto loc = persist_location("zk://h1:2181,h2:2182/etcd-mesos", "etcd-a");
  ASSERT_TRUE(loc) << loc.error().message;
  EXPECT_EQ(loc->servers, "h1:2181,h2:2182");
  EXPECT_EQ(loc->paths.base, "/etcd-mesos/etcd-a");
  EXPECT_EQ(loc->paths.framework_id, "/etcd-mesos/etcd-a/framework_id");
  EXPECT_EQ(loc->paths.tasks, "/etcd-mesos/etcd-a/tasks");
  EXPECT_EQ(loc->paths.leader, "/etcd-mesos/etcd-a/leader");
}

TEST(PersistLocationTest, RootPathMalformedUrlAndBadNameAreClearErrors) {
  for (const char* url : {"zk://h:2181/", "zk://h:2181", "zk://h/x", "h:2181/x", "zk://h:1/a//b"}) {
    auto loc = persist_location(url, "etcd");
    ASSERT_FALSE(loc) << url;
    EXPECT_NE(loc.error().message.find("-zk-framework-persist"), std::string::npos)
        << loc.error().message;
  }
  EXPECT_NE(persist_location("zk://h:2181/", "etcd").error().message.find("path other than /"),
            std::string::npos);
  for (const char* name : {"", "a/b", "..", "with space"}) {
    auto loc = persist_location("zk://h:2181/x", name);
    ASSERT_FALSE(loc) << name;
    EXPECT_NE(loc.error().message.find("-framework-name"), std::string::npos);
  }
}

// ------------------------------------------------------------ store

class FrameworkStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new ZooKeeperServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  std::unique_ptr<ZkClient> connect() {
    auto client =
        std::make_unique<ZkClient>(ioc_.get_executor(), server_->connect_string(), seconds(4));
    EXPECT_TRUE(run_coro(ioc_, client->wait_connected(seconds(10)), seconds(15)));
    return client;
  }

  FrameworkPaths paths() const {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    return framework_paths(std::string("/store-") + info->name(), "etcd");
  }

  Result<void> wait(const std::function<void(FrameworkStore::Done)>& start) {
    std::optional<Result<void>> out;
    start([&](Result<void> r) { out = std::move(r); });
    EXPECT_TRUE(run_until(
        ioc_, [&] { return out.has_value(); }, seconds(15)));
    return out.value_or(make_error("no answer"));
  }

  Result<PersistedState> load(FrameworkStore& store) {
    std::optional<Result<PersistedState>> out;
    store.load([&](Result<PersistedState> r) { out = std::move(r); });
    EXPECT_TRUE(run_until(
        ioc_, [&] { return out.has_value(); }, seconds(15)));
    return out.value_or(make_error("no answer"));
  }

  static ZooKeeperServer* server_;
  boost::asio::io_context ioc_;
};

ZooKeeperServer* FrameworkStoreTest::server_ = nullptr;

TEST_F(FrameworkStoreTest, NothingPersistedLoadsAsEmpty) {
  auto zk = connect();
  FrameworkStore store(ioc_.get_executor(), *zk, paths());
  EXPECT_FALSE(store.loaded());
  auto state = load(store);
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_FALSE(state->framework_id);
  EXPECT_TRUE(state->tasks.empty());
  EXPECT_TRUE(state->bad.empty());
  EXPECT_TRUE(store.loaded());
}

TEST_F(FrameworkStoreTest, RoundTripThroughARestartedScheduler) {
  {
    auto zk = connect();
    FrameworkStore store(ioc_.get_executor(), *zk, paths());
    ASSERT_TRUE(load(store));
    ASSERT_TRUE(wait([&](auto done) { store.set_framework_id("fw-0001", done); }));
    TaskRecord with_id = task("etcd-1-aa");
    with_id.etcd_id = 0x8e9e05c52164694dULL;
    ASSERT_TRUE(wait([&](auto done) { store.put_task(with_id, done); }));
    ASSERT_TRUE(wait([&](auto done) { store.put_task(task("etcd-2-bb"), done); }));
    ASSERT_TRUE(wait([&](auto done) { store.put_task(task("etcd-3-cc"), done); }));
    ASSERT_TRUE(wait([&](auto done) { store.remove_task("etcd-2-bb", done); }));
    ASSERT_TRUE(wait([&](auto done) { store.remove_task("never-written", done); }));
  }
  auto zk = connect();  // a new session, as after a restart
  FrameworkStore store(ioc_.get_executor(), *zk, paths());
  auto state = load(store);
  ASSERT_TRUE(state) << state.error().message;
  ASSERT_TRUE(state->framework_id);
  EXPECT_EQ(state->framework_id->framework_id, "fw-0001");
  EXPECT_TRUE(state->bad.empty());
  ASSERT_EQ(state->tasks.size(), 2u);
  EXPECT_EQ(state->tasks[0].task_id, "etcd-1-aa");
  EXPECT_EQ(state->tasks[0].etcd_id, 0x8e9e05c52164694dULL);
  EXPECT_EQ(state->tasks[0].agent_id, "agent-etcd-1-aa");
  EXPECT_EQ(state->tasks[1].task_id, "etcd-3-cc");
  // Sequences follow the order of the writes.
  EXPECT_LT(state->framework_id->sequence, state->tasks[0].sequence);
  EXPECT_LT(state->tasks[0].sequence, state->tasks[1].sequence);
}

TEST_F(FrameworkStoreTest, TheClusterSizeOutlivesARestartAndAClearAndGarbageIsReported) {
  auto p = paths();
  {
    auto zk = connect();
    FrameworkStore store(ioc_.get_executor(), *zk, p);
    auto state = load(store);
    ASSERT_TRUE(state);
    EXPECT_FALSE(state->settings);
    ASSERT_TRUE(wait([&](auto done) { store.set_cluster_size(5, done); }));
    ASSERT_TRUE(wait([&](auto done) { store.set_cluster_size(1, done); }));
    ASSERT_TRUE(wait([&](auto done) { store.clear(done); }));  // Mesos removed the framework
  }
  auto zk = connect();
  FrameworkStore store(ioc_.get_executor(), *zk, p);
  auto state = load(store);
  ASSERT_TRUE(state) << state.error().message;
  ASSERT_TRUE(state->settings);
  EXPECT_EQ(state->settings->cluster_size, 1u);
  // Written by a later scheduler: sequences continue above the settings'.
  ASSERT_TRUE(wait([&](auto done) { store.set_framework_id("fw-2", done); }));
  state = load(store);
  ASSERT_TRUE(state && state->framework_id && state->settings);
  EXPECT_GT(state->framework_id->sequence, state->settings->sequence);

  ASSERT_TRUE(
      run_coro(ioc_, zk->put(p.settings, R"({"format":1,"cluster_size":4,"sequence":99})")));
  state = load(store);
  ASSERT_TRUE(state);
  EXPECT_FALSE(state->settings);
  ASSERT_EQ(state->bad.size(), 1u);
  EXPECT_EQ(state->bad[0].path, p.settings);
}

TEST_F(FrameworkStoreTest, WritesBeforeALoadAreRefused) {
  auto zk = connect();
  FrameworkStore store(ioc_.get_executor(), *zk, paths());
  auto put = wait([&](auto done) { store.put_task(task("t1"), done); });
  ASSERT_FALSE(put);
  EXPECT_NE(put.error().message.find("load()"), std::string::npos) << put.error().message;
  EXPECT_FALSE(wait([&](auto done) { store.set_framework_id("fw", done); }));
}

TEST_F(FrameworkStoreTest, ConcurrentWritesLandInTheOrderIssued) {
  auto zk = connect();
  FrameworkStore store(ioc_.get_executor(), *zk, paths());
  ASSERT_TRUE(load(store));
  constexpr int kWrites = 30;
  std::vector<int> completed;
  int failures = 0;
  // All issued before any runs: none may overtake another.
  for (int i = 0; i < kWrites; ++i) {
    store.put_task(task("t1", "h" + std::to_string(i)), [&, i](Result<void> r) {
      completed.push_back(i);
      failures += r ? 0 : 1;
    });
  }
  // put, remove, put again of one key, and put then remove of another.
  store.put_task(task("t2", "first"), [](Result<void>) {});
  store.remove_task("t2", [](Result<void>) {});
  store.put_task(task("t2", "second"), [](Result<void>) {});
  store.put_task(task("t3"), [](Result<void>) {});
  bool last_done = false;
  store.remove_task("t3", [&](Result<void> r) { last_done = r.has_value(); });
  EXPECT_GT(store.queued(), 0u);
  ASSERT_TRUE(run_until(
      ioc_, [&] { return last_done; }, seconds(20)));
  EXPECT_EQ(failures, 0);
  ASSERT_EQ(completed.size(), static_cast<std::size_t>(kWrites));
  EXPECT_TRUE(std::is_sorted(completed.begin(), completed.end()));

  auto state = load(store);
  ASSERT_TRUE(state);
  ASSERT_EQ(state->tasks.size(), 2u);
  EXPECT_EQ(state->tasks[0].task_id, "t1");
  EXPECT_EQ(state->tasks[0].host, "h29");
  EXPECT_EQ(state->tasks[1].task_id, "t2");
  EXPECT_EQ(state->tasks[1].host, "second");
  EXPECT_GT(state->tasks[1].sequence, state->tasks[0].sequence);
}

TEST_F(FrameworkStoreTest, AnOlderSchedulersLateWriteNeverWins) {
  auto zk_old = connect();
  auto zk_new = connect();
  FrameworkStore old_leader(ioc_.get_executor(), *zk_old, paths());
  ASSERT_TRUE(load(old_leader));
  ASSERT_TRUE(wait([&](auto done) { old_leader.put_task(task("t1", "old-1"), done); }));
  // The successor loads what the old leader wrote and continues above it.
  FrameworkStore new_leader(ioc_.get_executor(), *zk_new, paths());
  ASSERT_TRUE(load(new_leader));
  ASSERT_TRUE(wait([&](auto done) { new_leader.put_task(task("t1", "new"), done); }));
  ASSERT_TRUE(wait([&](auto done) { new_leader.set_framework_id("fw-new", done); }));

  auto late = wait([&](auto done) { old_leader.put_task(task("t1", "old-2"), done); });
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, ZBADVERSION);
  EXPECT_NE(late.error().message.find("stale write"), std::string::npos) << late.error().message;
  auto late_id = wait([&](auto done) { old_leader.set_framework_id("fw-old", done); });
  ASSERT_FALSE(late_id);
  EXPECT_EQ(late_id.error().code, ZBADVERSION);

  auto state = load(new_leader);
  ASSERT_TRUE(state);
  ASSERT_EQ(state->tasks.size(), 1u);
  EXPECT_EQ(state->tasks[0].host, "new");
  EXPECT_EQ(state->framework_id->framework_id, "fw-new");
}

TEST_F(FrameworkStoreTest, GarbageIsReportedAndNeverFatal) {
  auto zk = connect();
  auto p = paths();
  ASSERT_TRUE(run_coro(ioc_, zk->ensure_path(p.tasks)));
  ASSERT_TRUE(run_coro(ioc_, zk->put(p.framework_id, "5f1c-0000-0001")));  // a bare id
  ASSERT_TRUE(run_coro(ioc_, zk->put(p.tasks + "/junk", std::string("{\"format\":1,\0\xff", 15))));
  ASSERT_TRUE(run_coro(ioc_, zk->put(p.tasks + "/empty", "")));
  TaskRecord misnamed = task("elsewhere");
  ASSERT_TRUE(run_coro(ioc_, zk->put(p.tasks + "/here", persisted::encode(misnamed))));
  ASSERT_TRUE(run_coro(ioc_, zk->put(p.tasks + "/good", persisted::encode(task("good")))));

  FrameworkStore store(ioc_.get_executor(), *zk, p);
  auto state = load(store);
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_FALSE(state->framework_id);
  ASSERT_EQ(state->tasks.size(), 1u);
  EXPECT_EQ(state->tasks[0].task_id, "good");
  ASSERT_EQ(state->bad.size(), 4u);
  std::map<std::string, std::string> bad;
  for (const auto& b : state->bad) {
    bad[b.path] = b.reason;
  }
  EXPECT_NE(bad[p.framework_id].find("framework id record"), std::string::npos)
      << bad[p.framework_id];
  EXPECT_FALSE(bad[p.tasks + "/junk"].empty());
  EXPECT_FALSE(bad[p.tasks + "/empty"].empty());
  EXPECT_NE(bad[p.tasks + "/here"].find("elsewhere"), std::string::npos);

  // Writing replaces garbage with a good record.
  ASSERT_TRUE(wait([&](auto done) { store.set_framework_id("fw-1", done); }));
  ASSERT_TRUE(wait([&](auto done) { store.put_task(task("junk"), done); }));
  state = load(store);
  ASSERT_TRUE(state);
  ASSERT_TRUE(state->framework_id);
  EXPECT_EQ(state->framework_id->framework_id, "fw-1");
  EXPECT_EQ(state->tasks.size(), 2u);
  EXPECT_EQ(state->bad.size(), 2u);
}

TEST_F(FrameworkStoreTest, ClearForgetsEverythingButTheElection) {
  auto zk = connect();
  auto p = paths();
  FrameworkStore store(ioc_.get_executor(), *zk, p);
  ASSERT_TRUE(load(store));
  ASSERT_TRUE(wait([&](auto done) { store.set_framework_id("fw-1", done); }));
  ASSERT_TRUE(wait([&](auto done) { store.put_task(task("t1"), done); }));
  ASSERT_TRUE(wait([&](auto done) { store.put_task(task("t2"), done); }));
  ASSERT_TRUE(run_coro(ioc_, zk->ensure_path(p.leader)));
  auto candidate = run_coro(ioc_, zk->create(p.leader + "/member_", "h:1", true, true));
  ASSERT_TRUE(candidate);

  ASSERT_TRUE(wait([&](auto done) { store.clear(done); }));
  auto state = load(store);
  ASSERT_TRUE(state);
  EXPECT_FALSE(state->framework_id);
  EXPECT_TRUE(state->tasks.empty());
  auto still = run_coro(ioc_, zk->get(*candidate));
  ASSERT_TRUE(still);
  EXPECT_TRUE(*still);
  ASSERT_TRUE(wait([&](auto done) { store.clear(done); }));  // nothing left: fine

  // Writing works again afterwards (the tasks node is created again).
  ASSERT_TRUE(wait([&](auto done) { store.put_task(task("t3"), done); }));
  state = load(store);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->tasks.size(), 1u);
}

TEST_F(FrameworkStoreTest, BadTaskIdsAreRefusedWithoutTouchingZooKeeper) {
  auto zk = connect();
  FrameworkStore store(ioc_.get_executor(), *zk, paths());
  ASSERT_TRUE(load(store));
  for (const char* id : {"", "a/b", "..", "sp ace"}) {
    auto put = wait([&](auto done) { store.put_task(task(id), done); });
    EXPECT_FALSE(put) << id;
    EXPECT_FALSE(wait([&](auto done) { store.remove_task(id, done); })) << id;
  }
  EXPECT_FALSE(wait([&](auto done) { store.set_framework_id("", done); }));
  auto kids = run_coro(ioc_, zk->children(paths().base));
  EXPECT_FALSE(kids);  // nothing was created
}

TEST_F(FrameworkStoreTest, TheQueueIsBounded) {
  auto zk = connect();
  FrameworkStore::Limits limits;
  limits.max_queued = 3;
  FrameworkStore store(ioc_.get_executor(), *zk, paths(), limits);
  ASSERT_TRUE(load(store));
  std::vector<std::optional<Result<void>>> out(5);
  for (int i = 0; i < 5; ++i) {
    store.put_task(task("t" + std::to_string(i)), [&, i](Result<void> r) { out[i] = r; });
  }
  EXPECT_EQ(store.queued(), 3u);
  ASSERT_TRUE(run_until(ioc_, [&] {
    return std::all_of(out.begin(), out.end(), [](const auto& o) { return o.has_value(); });
  }));
  EXPECT_TRUE(*out[0] && *out[1] && *out[2]);
  ASSERT_FALSE(*out[3]);
  EXPECT_NE(out[3]->error().message.find("already queued"), std::string::npos);
  EXPECT_FALSE(*out[4]);
}

TEST_F(FrameworkStoreTest, CloseFailsQueuedOperationsAndRefusesNewOnes) {
  auto zk = connect();
  FrameworkStore store(ioc_.get_executor(), *zk, paths());
  ASSERT_TRUE(load(store));
  std::vector<std::optional<Result<void>>> out(3);
  for (int i = 0; i < 3; ++i) {
    store.put_task(task("t" + std::to_string(i)), [&, i](Result<void> r) { out[i] = r; });
  }
  store.close();  // before any of them ran
  auto after = wait([&](auto done) { store.put_task(task("t9"), done); });
  ASSERT_TRUE(run_until(ioc_, [&] {
    return std::all_of(out.begin(), out.end(), [](const auto& o) { return o.has_value(); });
  }));
  for (const auto& o : out) {
    ASSERT_FALSE(*o);
    EXPECT_NE(o->error().message.find("closed"), std::string::npos);
  }
  EXPECT_FALSE(after);
  FrameworkStore reader(ioc_.get_executor(), *zk, paths());
  auto state = load(reader);
  ASSERT_TRUE(state);
  EXPECT_TRUE(state->tasks.empty());
}

TEST_F(FrameworkStoreTest, ADestroyedStoreCallsNoCallback) {
  auto zk = connect();
  bool called = false;
  {
    FrameworkStore store(ioc_.get_executor(), *zk, paths());
    store.load([&](Result<PersistedState>) { called = true; });
    store.put_task(task("t1"), [&](Result<void>) { called = true; });
    store.put_task(task("bad/id"), [&](Result<void>) { called = true; });
  }
  // Let anything still posted or in flight run out.
  FrameworkStore other(ioc_.get_executor(), *zk, paths());
  ASSERT_TRUE(load(other));
  EXPECT_FALSE(called);
}

// A server of its own: this test stops it.
TEST(FrameworkStoreOutageTest, FailsPromptlyWhileZooKeeperIsDownAndRecoversByItself) {
  ZooKeeperServer server;
  boost::asio::io_context ioc;
  ZkClient zk(ioc.get_executor(), server.connect_string(), seconds(10));
  zk.set_operation_timeout(seconds(1));
  ASSERT_TRUE(run_coro(ioc, zk.wait_connected(seconds(10)), seconds(15)));
  FrameworkStore store(ioc.get_executor(), zk, framework_paths("/outage", "etcd"));
  auto wait = [&](const std::function<void(FrameworkStore::Done)>& start) {
    std::optional<Result<void>> out;
    start([&](Result<void> r) { out = std::move(r); });
    EXPECT_TRUE(run_until(
        ioc, [&] { return out.has_value(); }, seconds(10)));
    return out.value_or(make_error("no answer"));
  };
  std::optional<Result<PersistedState>> loaded;
  store.load([&](Result<PersistedState> r) { loaded = std::move(r); });
  ASSERT_TRUE(run_until(ioc, [&] { return loaded.has_value(); }));
  ASSERT_TRUE(*loaded);
  ASSERT_TRUE(wait([&](auto done) { store.put_task(task("before"), done); }));

  server.kill(SIGKILL);
  // Issued as ZooKeeper goes away: answered within the operation timeout.
  auto racing = wait([&](auto done) { store.put_task(task("racing"), done); });
  ASSERT_TRUE(run_until(
      ioc, [&] { return zk.state() != ZkSessionState::kConnected; }, seconds(10)));
  // Once the client knows, every operation fails at once.
  for (int i = 0; i < 3; ++i) {
    auto start = std::chrono::steady_clock::now();
    auto put = wait([&](auto done) { store.put_task(task("during"), done); });
    auto took = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(put);
    EXPECT_EQ(put.error().code, ZCONNECTIONLOSS);
    EXPECT_NE(put.error().message.find("cannot persist"), std::string::npos);
    EXPECT_LT(took, milliseconds(500));
  }
  EXPECT_FALSE(wait([&](auto done) { store.remove_task("before", done); }));

  server.restart();
  ASSERT_TRUE(run_coro(ioc, zk.wait_connected(seconds(20)), seconds(25)));
  ASSERT_TRUE(wait([&](auto done) { store.put_task(task("after"), done); }));
  loaded.reset();
  store.load([&](Result<PersistedState> r) { loaded = std::move(r); });
  ASSERT_TRUE(run_until(ioc, [&] { return loaded.has_value(); }));
  ASSERT_TRUE(*loaded) << (*loaded).error().message;
  std::vector<std::string> ids;
  for (const auto& t : (*loaded)->tasks) {
    ids.push_back(t.task_id);
  }
  // "racing" may or may not have landed; "during" never did.
  std::erase(ids, "racing");
  EXPECT_EQ(ids, (std::vector<std::string>{"after", "before"}));
  (void)racing;
}

}  // namespace
}  // namespace etcdmesos::io
