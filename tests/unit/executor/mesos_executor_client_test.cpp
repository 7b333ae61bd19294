// MesosExecutorClient against a fake agent: subscription, UPDATE fields,
// the acknowledgement ledger, replay on re-subscribe, and the reconnect rules
// with and without checkpointing (reference mesos §15).
#include "io/mesos_executor_client.hpp"

#include "fake_agent.hpp"
#include "support/processes.hpp"

#include <gtest/gtest.h>

namespace etcdmesos::io {
namespace {

namespace asio = boost::asio;
using etcdmesos::testing::FakeAgent;
using etcdmesos::testing::run_until;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::map<std::string, std::string> environment_for(const Endpoint& agent, bool checkpoint) {
  std::map<std::string, std::string> env = {
      {"MESOS_AGENT_ENDPOINT", agent.to_string()},
      {"MESOS_FRAMEWORK_ID", FakeAgent::kFrameworkId},
      {"MESOS_EXECUTOR_ID", FakeAgent::kExecutorId},
      {"MESOS_CHECKPOINT", checkpoint ? "1" : "0"},
  };
  if (checkpoint) {
    env["MESOS_RECOVERY_TIMEOUT"] = "2secs";
    env["MESOS_SUBSCRIPTION_BACKOFF_MAX"] = "100ms";
  }
  return env;
}

mesos::TaskInfo task(const std::string& id) {
  mesos::TaskInfo t;
  t.name = "etcd-m0";
  t.task_id = id;
  t.agent_id = FakeAgent::kAgentId;
  t.data = "{}";
  return t;
}

mesos::ExecutorEvent launch_event(const mesos::TaskInfo& t) {
  return mesos::ExecutorEventLaunch{t};
}

mesos::TaskStatus status(const std::string& task_id, mesos::TaskState state) {
  mesos::TaskStatus s;
  s.task_id = task_id;
  s.state = state;
  s.message = "test";
  return s;
}

class MesosExecutorClientTest : public ::testing::Test {
 protected:
  MesosExecutorClientTest() : agent_(ioc_) {}

  MesosExecutorClient& start(bool checkpoint, std::optional<Endpoint> at = std::nullopt) {
    MesosExecutorClient::Config config;
    config.settings =
        executor_settings_from(environment_for(at.value_or(agent_.at), checkpoint)).value();
    config.backoff_initial = 20ms;
    config.request_timeout = 2s;
    config.registration_timeout = registration_timeout_;
    config.random = &random_;
    config.time = time_;
    client_ = std::make_unique<MesosExecutorClient>(ioc_.get_executor(), config);
    MesosExecutorCallbacks cb;
    cb.on_subscribed = [this](const mesos::ExecutorEventSubscribed&) { ++subscribed_; };
    cb.on_launch = [this](const mesos::TaskInfo& t) { launched_.push_back(t); };
    cb.on_kill = [this](const mesos::ExecutorEventKill& k) { killed_.push_back(k.task_id); };
    cb.on_acknowledged = [this](const std::string&, const std::string& uuid) {
      acked_.push_back(uuid);
    };
    cb.on_shutdown = [this] { ++shutdowns_; };
    cb.on_gone = [this](const std::string& reason) {
      gone_ = reason;
      gone_at_ = Clock::now();
    };
    client_->start(cb);
    return *client_;
  }

  bool wait_for(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 5s) {
    return run_until(ioc_, condition, timeout);
  }

  asio::io_context ioc_;
  FakeAgent agent_;
  SeededRandom random_{11};
  FakeTimeSource fake_;
  TimeSource* time_ = &real_time();  // fake_ for the tests that move time themselves
  std::unique_ptr<MesosExecutorClient> client_;
  std::chrono::milliseconds registration_timeout_ = 5s;
  int subscribed_ = 0;
  int shutdowns_ = 0;
  std::vector<mesos::TaskInfo> launched_;
  std::vector<std::string> killed_;
  std::vector<std::string> acked_;
  std::optional<std::string> gone_;
  Clock::time_point gone_at_;
};

TEST_F(MesosExecutorClientTest, SubscribesAndDeliversEvents) {
  auto& client = start(false);
  ASSERT_TRUE(wait_for([&] { return subscribed_ == 1; }));
  EXPECT_EQ(client.state(), MesosExecutorClient::State::kSubscribed);
  const auto& sub = agent_.subscriptions.at(0)->call;
  EXPECT_EQ(mesos::type_name(sub), "SUBSCRIBE");
  ASSERT_TRUE(std::holds_alternative<mesos::ExecutorCallSubscribe>(sub.payload));
  EXPECT_TRUE(std::get<mesos::ExecutorCallSubscribe>(sub.payload).unacknowledged_updates.empty());

  agent_.send(launch_event(task("t1")));
  agent_.send(mesos::ExecutorEventKill{"t1", 3'000'000'000});
  agent_.send(mesos::ExecutorEventShutdown{});
  ASSERT_TRUE(wait_for([&] { return shutdowns_ == 1; }));
  ASSERT_EQ(launched_.size(), 1u);
  EXPECT_EQ(launched_[0].task_id, "t1");
  EXPECT_EQ(killed_, std::vector<std::string>{"t1"});
  EXPECT_EQ(client.unacknowledged_tasks(), 1u);
}

TEST_F(MesosExecutorClientTest, UpdateCarriesSourceExecutorIdTimestampAndUuid) {
  auto& client = start(false);
  ASSERT_TRUE(wait_for([&] { return subscribed_ == 1; }));
  agent_.send(launch_event(task("t1")));
  ASSERT_TRUE(wait_for([&] { return launched_.size() == 1; }));

  auto uuid = client.send_update(status("t1", mesos::TaskState::kRunning)).value();
  ASSERT_TRUE(wait_for([&] { return acked_.size() == 1; }));
  EXPECT_TRUE(agent_.rejected.empty()) << agent_.rejected.front();
  ASSERT_EQ(agent_.updates.size(), 1u);
  const auto& sent = agent_.updates[0];
  EXPECT_EQ(sent.task_id, "t1");
  EXPECT_EQ(sent.state, mesos::TaskState::kRunning);
  EXPECT_EQ(sent.source, "SOURCE_EXECUTOR");
  EXPECT_EQ(sent.executor_id, FakeAgent::kExecutorId);
  // The injected clock's wall time (the real one here), in seconds.
  EXPECT_NEAR(sent.timestamp.value_or(0), real_time().epoch_seconds(), 60);
  EXPECT_EQ(sent.uuid, uuid);
  EXPECT_EQ(acked_[0], uuid);
  EXPECT_EQ(client.unacknowledged_updates(), 0u);
  EXPECT_EQ(client.unacknowledged_tasks(), 0u);
}

TEST_F(MesosExecutorClientTest, UpdatesArriveInOrder) {
  auto& client = start(false);
  ASSERT_TRUE(wait_for([&] { return subscribed_ == 1; }));
  client.send_update(status("t1", mesos::TaskState::kStarting)).value();
  client.send_update(status("t1", mesos::TaskState::kRunning)).value();
  client.send_update(status("t1", mesos::TaskState::kKilled)).value();
  ASSERT_TRUE(wait_for([&] { return acked_.size() == 3; }));
  EXPECT_EQ(agent_.states(),
            (std::vector<std::string>{"TASK_STARTING", "TASK_RUNNING", "TASK_KILLED"}));
}

TEST_F(MesosExecutorClientTest, ResubscribesWithUnacknowledgedUpdatesAndTasks) {
  agent_.auto_acknowledge = false;
  auto& client = start(true);
  ASSERT_TRUE(wait_for([&] { return subscribed_ == 1; }));
  agent_.send(launch_event(task("t1")));
  ASSERT_TRUE(wait_for([&] { return launched_.size() == 1; }));
  const auto starting = client.send_update(status("t1", mesos::TaskState::kStarting)).value();
  const auto running = client.send_update(status("t1", mesos::TaskState::kRunning)).value();
  ASSERT_TRUE(wait_for([&] { return agent_.updates.size() == 2; }));

  agent_.drop();
  ASSERT_TRUE(wait_for([&] { return subscribed_ == 2; }));
  ASSERT_EQ(agent_.subscriptions.size(), 2u);
  const auto& replay =
      std::get<mesos::ExecutorCallSubscribe>(agent_.subscriptions[1]->call.payload);
  ASSERT_EQ(replay.unacknowledged_updates.size(), 2u);
  EXPECT_EQ(replay.unacknowledged_updates[0].uuid, starting);
  EXPECT_EQ(replay.unacknowledged_updates[1].uuid, running);
  EXPECT_EQ(replay.unacknowledged_updates[1].state, mesos::TaskState::kRunning);
  ASSERT_EQ(replay.unacknowledged_tasks.size(), 1u);
  EXPECT_EQ(replay.unacknowledged_tasks[0].task_id, "t1");
  EXPECT_EQ(agent_.updates.size(), 2u) << "replayed updates must not be POSTed again";

  // Acknowledging one update keeps the other, and the task is acknowledged.
  agent_.acknowledge(agent_.updates[0]);
  ASSERT_TRUE(wait_for([&] { return acked_.size() == 1; }));
  EXPECT_EQ(client.unacknowledged_updates(), 1u);
  EXPECT_EQ(client.unacknowledged_tasks(), 0u);
  agent_.drop();
  ASSERT_TRUE(wait_for([&] { return subscribed_ == 3; }));
  const auto& second =
      std::get<mesos::ExecutorCallSubscribe>(agent_.subscriptions[2]->call.payload);
  ASSERT_EQ(second.unacknowledged_updates.size(), 1u);
  EXPECT_EQ(second.unacknowledged_updates[0].uuid, running);
  EXPECT_TRUE(second.unacknowledged_tasks.empty());
  EXPECT_FALSE(gone_);
}

TEST_F(MesosExecutorClientTest, WithoutCheckpointALostConnectionEndsTheClient) {
  auto& client = start(false);
  ASSERT_TRUE(wait_for([&] { return subscribed_ == 1; }));
  agent_.drop();
  ASSERT_TRUE(wait_for([&] { return gone_.has_value(); }));
  EXPECT_NE(gone_->find("checkpoint"), std::string::npos) << *gone_;
  EXPECT_EQ(client.state(), MesosExecutorClient::State::kGone);
  // No second SUBSCRIBE follows.
  wait_for([] { return false; }, 300ms);
  EXPECT_EQ(agent_.subscriptions.size(), 1u);
}

TEST_F(MesosExecutorClientTest, MalformedStreamDropsTheConnectionAndResubscribes) {
  start(true);
  ASSERT_TRUE(wait_for([&] { return subscribed_ == 1; }));
  agent_.send_raw("12\n{\"type\":]]]]]]");  // a complete record that is not JSON
  ASSERT_TRUE(wait_for([&] { return subscribed_ == 2; }));
  agent_.send_raw("x\n");  // a broken length
  ASSERT_TRUE(wait_for([&] { return subscribed_ == 3; }));
  EXPECT_FALSE(gone_);
}

TEST_F(MesosExecutorClientTest, WithCheckpointGivesUpAfterTheRecoveryTimeout) {
  start(true);
  ASSERT_TRUE(wait_for([&] { return subscribed_ == 1; }));
  const auto lost = Clock::now();
  agent_.stop();  // the agent is gone: stream cut, connections refused
  ASSERT_TRUE(wait_for([&] { return gone_.has_value(); }, 10s));
  const auto waited = gone_at_ - lost;
  EXPECT_GE(waited, 2s) << "recovery timeout is 2secs";
  EXPECT_LT(waited, 4s);
  EXPECT_NE(gone_->find("recovery"), std::string::npos) << *gone_;
}

TEST_F(MesosExecutorClientTest, GivesUpWhenItCannotSubscribeInTime) {
  registration_timeout_ = 500ms;
  const Endpoint nobody{"127.0.0.1", etcdmesos::testing::free_port()};
  const auto began = Clock::now();
  start(true, nobody);
  ASSERT_TRUE(wait_for([&] { return gone_.has_value(); }, 5s));
  EXPECT_GE(gone_at_ - began, 500ms);
  EXPECT_NE(gone_->find("could not subscribe"), std::string::npos) << *gone_;
}

// Issue 11: the recovery window and the re-subscribe backoff run on the
// injected clock. With a fake one, no amount of real time ends the window;
// moving the clock past the 2 s recovery timeout does.
TEST_F(MesosExecutorClientTest, UnderAFakeClockTheRecoveryWindowIsMeasuredOnIt) {
  time_ = &fake_;
  start(true);
  ASSERT_TRUE(wait_for([&] { return subscribed_ == 1; }));
  agent_.stop();
  // Waiting on its backoff: one timer on the fake clock.
  auto waiting = [&] { return gone_.has_value() || fake_.pending_timers() > 0; };
  ASSERT_TRUE(wait_for(waiting));
  run_until(
      ioc_, [] { return false; }, 500ms);
  EXPECT_FALSE(gone_) << "gave up although the fake clock did not move";

  const auto lost = fake_.now();
  for (int step = 0; step < 100 && !gone_; ++step) {
    fake_.advance(100ms);
    ASSERT_TRUE(wait_for(waiting));
  }
  ASSERT_TRUE(gone_);
  EXPECT_NE(gone_->find("recovery"), std::string::npos) << *gone_;
  const auto waited = fake_.now() - lost;
  EXPECT_GE(waited, 2s);
  EXPECT_LE(waited, 2s + 200ms) << "the backoff is at most 100 ms, the steps 100 ms";
}

TEST_F(MesosExecutorClientTest, NothingAfterStop) {
  auto& client = start(true);
  ASSERT_TRUE(wait_for([&] { return subscribed_ == 1; }));
  client.stop();
  agent_.send(launch_event(task("t1")));
  wait_for([] { return false; }, 300ms);
  EXPECT_TRUE(launched_.empty());
  EXPECT_EQ(agent_.subscriptions.size(), 1u);
  EXPECT_FALSE(gone_);
}

}  // namespace
}  // namespace etcdmesos::io
