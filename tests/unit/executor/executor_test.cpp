// The executor, in process, against a fake agent, running the real
// /usr/bin/etcd as a single-member cluster on 127.0.0.1 with free ports.
#include "executor/executor.hpp"
#include "executor/wal_commit.hpp"

#include "codec/reseed.hpp"
#include "codec/task_data.hpp"
#include "fake_agent.hpp"
#include "support/etcd_server.hpp"
#include "support/processes.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>

namespace etcdmesos::executor {
namespace {

namespace asio = boost::asio;
using etcdmesos::testing::FakeAgent;
using etcdmesos::testing::run_until;
using mesos::TaskState;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kEtcdStartTimeout = 30s;

bool process_gone(pid_t pid) {
  return ::kill(pid, 0) == -1 && errno == ESRCH;
}

bool contains(const std::optional<std::string>& text, const std::string& part) {
  return text && text->find(part) != std::string::npos;
}

class ExecutorTest : public ::testing::Test {
 protected:
  ExecutorTest() : agent_(ioc_), sandbox_("executor-test") {}

  ~ExecutorTest() override {
    executor_.reset();  // kills a leftover etcd
    client_.reset();
  }

  void start(bool checkpoint = false) {
    std::map<std::string, std::string> env = {
        {"MESOS_AGENT_ENDPOINT", agent_.at.to_string()},
        {"MESOS_FRAMEWORK_ID", FakeAgent::kFrameworkId},
        {"MESOS_EXECUTOR_ID", FakeAgent::kExecutorId},
        {"MESOS_CHECKPOINT", checkpoint ? "1" : "0"},
        {"MESOS_RECOVERY_TIMEOUT", "20secs"},
        {"MESOS_SUBSCRIPTION_BACKOFF_MAX", "100ms"},
    };
    io::MesosExecutorClient::Config config;
    config.settings = io::executor_settings_from(env).value();
    config.backoff_initial = 20ms;
    config.random = &random_;
    client_ = std::make_unique<io::MesosExecutorClient>(ioc_.get_executor(), config);

    options_.sandbox = sandbox_.path();
    // An inherited ETCD_* variable would make etcd exit: it must be scrubbed.
    options_.environment = {{"PATH", "/usr/bin:/bin"}, {"ETCD_NAME", "inherited"}};
    options_.ready_poll_interval = 100ms;
    options_.shutdown_grace = 4s;
    executor_ = std::make_unique<Executor>(ioc_.get_executor(), options_, *client_,
                                           [this](int code) { exit_code_ = code; });
    executor_->start();
    ASSERT_TRUE(
        wait_for([&] { return client_->state() == io::MesosExecutorClient::State::kSubscribed; }));
  }

  bool wait_for(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 10s) {
    return run_until(ioc_, condition, timeout);
  }

  MemberTaskData member() {
    MemberTaskData d;
    d.name = "m0";
    d.host = "127.0.0.1";
    d.client_port = etcdmesos::testing::free_port();
    do {
      d.peer_port = etcdmesos::testing::free_port();
    } while (d.peer_port == d.client_port);
    d.initial_cluster = "m0=http://127.0.0.1:" + std::to_string(d.peer_port);
    d.cluster_state = "new";
    d.cluster_token = "executor-test-" + std::to_string(::getpid()) + "-" +
                      std::to_string(Clock::now().time_since_epoch().count());
    return d;
  }

  mesos::TaskInfo task(const std::string& id, std::optional<std::string> data) {
    mesos::TaskInfo t;
    t.name = "etcd-m0";
    t.task_id = id;
    t.agent_id = FakeAgent::kAgentId;
    t.data = std::move(data);
    return t;
  }

  void launch(const mesos::TaskInfo& t) { agent_.send(mesos::ExecutorEventLaunch{t}); }

  void send(const mesos::ExecutorEvent& e) { agent_.send(e); }

  void kill(const std::string& task_id) {
    agent_.send(mesos::ExecutorEventKill{task_id, std::nullopt});
  }

  // Launches a member and waits until the executor reports it running.
  MemberTaskData launch_running(const std::string& task_id = "etcd-m0-1") {
    auto data = member();
    launch(task(task_id, encode(data)));
    EXPECT_TRUE(wait_for(
        [&] {
          return agent_.has_state(TaskState::kRunning) || agent_.has_state(TaskState::kFailed);
        },
        kEtcdStartTimeout))
        << "states so far: " << agent_.states().size();
    return data;
  }

  asio::io_context ioc_;
  FakeAgent agent_;
  etcdmesos::testing::TempDir sandbox_;
  ExecutorOptions options_;
  SeededRandom random_{5};
  std::unique_ptr<io::MesosExecutorClient> client_;
  std::unique_ptr<Executor> executor_;
  std::optional<int> exit_code_;
};

TEST_F(ExecutorTest, RunsEtcdAndKillEndsIt) {
  start();
  const auto data = launch_running();
  ASSERT_EQ(agent_.states(), (std::vector<std::string>{"TASK_STARTING", "TASK_RUNNING"}));
  const auto* running = agent_.find(TaskState::kRunning);
  ASSERT_EQ(running->labels.size(), 1u);
  EXPECT_EQ(running->labels[0].key, "etcd_member_id");
  EXPECT_NE(running->labels[0].value, "0");

  // etcd really serves clients, from its data dir in the sandbox.
  auto answer = etcdmesos::testing::http_post(data.client_port, "/v3/maintenance/status", "{}", 5s);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200u);
  EXPECT_TRUE(std::filesystem::exists(sandbox_.path() / "etcd-data" / "member"));
  EXPECT_GT(std::filesystem::file_size(sandbox_.path() / "etcd.stderr"), 0u);
  const pid_t pid = executor_->etcd_pid_ForTest().value();

  kill("etcd-m0-1");
  ASSERT_TRUE(wait_for([&] { return agent_.has_state(TaskState::kKilled); }));
  EXPECT_TRUE(process_gone(pid));
  EXPECT_TRUE(contains(agent_.find(TaskState::kKilled)->message, "etcd stopped"));
  ASSERT_TRUE(wait_for([&] { return exit_code_.has_value(); }));
  EXPECT_EQ(*exit_code_, 0);
  EXPECT_EQ(executor_->phase(), Executor::Phase::kExited);
  EXPECT_EQ(agent_.states(),
            (std::vector<std::string>{"TASK_STARTING", "TASK_RUNNING", "TASK_KILLED"}));
  EXPECT_TRUE(agent_.rejected.empty()) << agent_.rejected.front();
}

TEST_F(ExecutorTest, EtcdKilledBySignalIsTaskFailedWithoutRestarts) {
  options_.etcd_restart_attempts = 0;
  start();
  launch_running();
  ASSERT_TRUE(agent_.has_state(TaskState::kRunning));
  ::kill(executor_->etcd_pid_ForTest().value(), SIGKILL);
  ASSERT_TRUE(wait_for([&] { return agent_.has_state(TaskState::kFailed); }));
  const auto& message = agent_.find(TaskState::kFailed)->message;
  EXPECT_TRUE(contains(message, "signal 9")) << message.value_or("");
  ASSERT_TRUE(wait_for([&] { return exit_code_.has_value(); }));
  EXPECT_EQ(*exit_code_, 0);
}

TEST_F(ExecutorTest, EtcdFailingToStartReportsItsExitAndLastLogLine) {
  start();
  auto data = member();
  data.initial_cluster = "someone-else=http://127.0.0.1:" + std::to_string(data.peer_port);
  launch(task("etcd-m0-1", encode(data)));
  ASSERT_TRUE(wait_for([&] { return agent_.has_state(TaskState::kFailed); }, kEtcdStartTimeout));
  const auto& message = agent_.find(TaskState::kFailed)->message;
  EXPECT_TRUE(contains(message, "exited with status 1")) << message.value_or("");
  EXPECT_TRUE(contains(message, "local name")) << message.value_or("");
  EXPECT_FALSE(agent_.has_state(TaskState::kRunning));
}

// Stand-ins for etcd where the real one cannot be made to behave so.
std::string write_script(const std::filesystem::path& dir, const std::string& name,
                         const std::string& body) {
  const auto path = dir / name;
  std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  return path.string();
}

TEST_F(ExecutorTest, EtcdExitingZeroMeansItWasRemoved) {
  // etcd exits 0 by itself once removed from the cluster (reference etcd §8).
  options_.etcd_bin = write_script(sandbox_.path(), "removed-etcd", "exit 0");
  start();
  launch(task("etcd-m0-1", encode(member())));
  ASSERT_TRUE(wait_for([&] { return agent_.has_state(TaskState::kFailed); }));
  const auto& message = agent_.find(TaskState::kFailed)->message;
  EXPECT_TRUE(contains(message, "status 0")) << message.value_or("");
  EXPECT_TRUE(contains(message, "removed from the cluster")) << message.value_or("");
}

TEST_F(ExecutorTest, KillEscalatesToSigkillAfterTheKillPolicyGrace) {
  // Ignores SIGTERM (saying so in a file, so that the KILL comes after the
  // trap is set) and never answers on the client port.
  options_.etcd_bin = write_script(sandbox_.path(), "stubborn-etcd",
                                   "trap '' TERM\ntouch trapped\nwhile :; do sleep 0.05; done");
  start();
  auto t = task("etcd-m0-1", encode(member()));
  t.kill_grace_period_ns = 300'000'000;
  launch(t);
  ASSERT_TRUE(wait_for([&] { return std::filesystem::exists(sandbox_.path() / "trapped"); }));
  const auto began = Clock::now();
  kill("etcd-m0-1");
  ASSERT_TRUE(wait_for([&] { return agent_.has_state(TaskState::kKilled); }));
  EXPECT_GE(Clock::now() - began, 300ms);
  EXPECT_EQ(agent_.states(), (std::vector<std::string>{"TASK_STARTING", "TASK_KILLED"}));
  EXPECT_TRUE(contains(agent_.find(TaskState::kKilled)->message, "signal 9"));
}

TEST_F(ExecutorTest, DroppedStreamResubscribesWithUnacknowledgedUpdates) {
  agent_.auto_acknowledge = false;
  start(/*checkpoint=*/true);
  const auto data = launch_running();
  ASSERT_EQ(agent_.updates.size(), 2u);

  agent_.drop();
  ASSERT_TRUE(wait_for([&] {
    return agent_.subscriptions.size() == 2 &&
           client_->state() == io::MesosExecutorClient::State::kSubscribed;
  }));
  const auto& replay =
      std::get<mesos::ExecutorCallSubscribe>(agent_.subscriptions[1]->call.payload);
  ASSERT_EQ(replay.unacknowledged_updates.size(), 2u);
  EXPECT_EQ(replay.unacknowledged_updates[0].uuid, agent_.updates[0].uuid);
  EXPECT_EQ(replay.unacknowledged_updates[1].uuid, agent_.updates[1].uuid);
  EXPECT_EQ(replay.unacknowledged_updates[1].state, TaskState::kRunning);
  ASSERT_EQ(replay.unacknowledged_tasks.size(), 1u);
  EXPECT_EQ(replay.unacknowledged_tasks[0].task_id, "etcd-m0-1");

  // The member kept running through the reconnect.
  EXPECT_EQ(executor_->phase(), Executor::Phase::kRunning);
  auto answer = etcdmesos::testing::http_post(data.client_port, "/v3/maintenance/status", "{}", 5s);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200u);

  agent_.acknowledge(agent_.updates[0]);
  agent_.acknowledge(agent_.updates[1]);
  ASSERT_TRUE(wait_for([&] { return client_->unacknowledged_updates() == 0; }));
  kill("etcd-m0-1");
  ASSERT_TRUE(wait_for([&] { return agent_.has_state(TaskState::kKilled); }));
  EXPECT_FALSE(exit_code_) << "must wait for the terminal update's acknowledgement";
  agent_.acknowledge(*agent_.find(TaskState::kKilled));
  ASSERT_TRUE(wait_for([&] { return exit_code_.has_value(); }));
  EXPECT_EQ(*exit_code_, 0);
}

TEST_F(ExecutorTest, BadTaskDataIsTaskFailedAndOneTaskOnly) {
  agent_.auto_acknowledge = false;
  start();
  launch(task("etcd-m0-1", std::string("this is not json")));
  ASSERT_TRUE(wait_for([&] { return agent_.has_state(TaskState::kFailed); }));
  EXPECT_EQ(agent_.states(), std::vector<std::string>{"TASK_FAILED"});
  const auto& message = agent_.updates[0].message;
  EXPECT_TRUE(contains(message, "bad task data")) << message.value_or("");
  EXPECT_FALSE(executor_->etcd_pid_ForTest());

  // A second task is refused: one task per executor.
  launch(task("etcd-m0-2", encode(member())));
  ASSERT_TRUE(wait_for([&] { return agent_.updates.size() == 2; }));
  EXPECT_EQ(agent_.updates[1].task_id, "etcd-m0-2");
  EXPECT_EQ(agent_.updates[1].state, TaskState::kFailed);
  EXPECT_FALSE(executor_->etcd_pid_ForTest());

  agent_.acknowledge(agent_.updates[0]);
  ASSERT_TRUE(wait_for([&] { return exit_code_.has_value(); }));
  EXPECT_EQ(*exit_code_, 0);
}

TEST_F(ExecutorTest, MissingTaskDataIsTaskFailed) {
  start();
  launch(task("etcd-m0-1", std::nullopt));
  ASSERT_TRUE(wait_for([&] { return agent_.has_state(TaskState::kFailed); }));
  EXPECT_TRUE(contains(agent_.updates[0].message, "bad task data"));
  ASSERT_TRUE(wait_for([&] { return exit_code_.has_value(); }));
}

TEST_F(ExecutorTest, MissingEtcdBinaryIsTaskFailed) {
  options_.etcd_bin = (sandbox_.path() / "no-such-etcd").string();
  start();
  launch(task("etcd-m0-1", encode(member())));
  ASSERT_TRUE(wait_for([&] { return agent_.has_state(TaskState::kFailed); }));
  EXPECT_EQ(agent_.states(), (std::vector<std::string>{"TASK_STARTING", "TASK_FAILED"}));
  EXPECT_TRUE(contains(agent_.updates[1].message, "cannot start etcd"))
      << agent_.updates[1].message.value_or("");
}

TEST_F(ExecutorTest, ShutdownKillsEtcdAndExitsWithinTheGracePeriod) {
  start();
  launch_running();
  ASSERT_TRUE(agent_.has_state(TaskState::kRunning));
  const pid_t pid = executor_->etcd_pid_ForTest().value();
  const auto began = Clock::now();
  send(mesos::ExecutorEventShutdown{});
  ASSERT_TRUE(wait_for([&] { return exit_code_.has_value(); }));
  EXPECT_LT(Clock::now() - began, options_.shutdown_grace);
  EXPECT_TRUE(agent_.has_state(TaskState::kKilled));
  EXPECT_TRUE(process_gone(pid));
}

TEST_F(ExecutorTest, LostAgentWithoutCheckpointStopsEtcdAndExitsWithFailure) {
  start(/*checkpoint=*/false);
  launch_running();
  ASSERT_TRUE(agent_.has_state(TaskState::kRunning));
  const pid_t pid = executor_->etcd_pid_ForTest().value();
  agent_.drop();
  ASSERT_TRUE(wait_for([&] { return exit_code_.has_value(); }));
  EXPECT_EQ(*exit_code_, 1);
  EXPECT_TRUE(process_gone(pid));
}

// ------------------------------------------------- restarts in place, reseed

std::string cmdline(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::replace(raw.begin(), raw.end(), '\0', ' ');
  return raw;
}

std::size_t count_state(const FakeAgent& agent, TaskState state) {
  return static_cast<std::size_t>(std::count_if(agent.updates.begin(), agent.updates.end(),
                                                [&](const auto& u) { return u.state == state; }));
}

const mesos::TaskStatus* find_reseed_report(const FakeAgent& agent, const std::string& id) {
  for (const auto& u : agent.updates) {
    for (const auto& label : u.labels) {
      if (label.key == kLabelReseedId && label.value == id) {
        return &u;
      }
    }
  }
  return nullptr;
}

std::string label_of(const mesos::TaskStatus& status, std::string_view key) {
  for (const auto& label : status.labels) {
    if (label.key == key) {
      return label.value;
    }
  }
  return "";
}

bool put_key(uint16_t port) {
  auto put =
      etcdmesos::testing::http_post(port, "/v3/kv/put", R"({"key":"Zm9v","value":"YmFy"})", 5s);
  return put && put->status == 200;
}

bool has_key(uint16_t port) {
  auto get = etcdmesos::testing::http_post(port, "/v3/kv/range", R"({"key":"Zm9v"})", 5s);
  return get && get->status == 200 && get->body.find("YmFy") != std::string::npos;
}

class ExecutorRestartTest : public ExecutorTest {
 protected:
  void SetUp() override {
    options_.restart_backoff_initial = 50ms;
    options_.restart_backoff_max = 100ms;
  }

  void message(const std::string& data) { agent_.send(mesos::ExecutorEventMessage{data}); }

  // Sends a reseed order and waits for the executor's answer to it (null
  // when none came in time).
  const mesos::TaskStatus* order(core::ReseedAction action, uint64_t id,
                                 uint64_t lease_ms = 60000) {
    message(encode_reseed_order({action, id, action == core::ReseedAction::kFence ? lease_ms : 0}));
    const std::string label = std::to_string(id);
    wait_for([&] { return find_reseed_report(agent_, label) != nullptr; }, kEtcdStartTimeout);
    return find_reseed_report(agent_, label);
  }

  // Starts the executor with a running member that holds one key; returns
  // its client port and its etcd's pid.
  std::pair<uint16_t, pid_t> serve_a_key() {
    start();
    const auto data = launch_running();
    const auto port = static_cast<uint16_t>(data.client_port);
    EXPECT_TRUE(put_key(port));
    return {port, executor_->etcd_pid_ForTest().value()};
  }

  // SIGKILLs etcd and waits for the executor's next TASK_RUNNING ("again").
  pid_t crash_and_wait_for_restart() {
    const pid_t before = executor_->etcd_pid_ForTest().value();
    const auto running = count_state(agent_, TaskState::kRunning);
    ::kill(before, SIGKILL);
    EXPECT_TRUE(wait_for([&] { return count_state(agent_, TaskState::kRunning) > running; },
                         kEtcdStartTimeout));
    const pid_t after = executor_->etcd_pid_ForTest().value();
    EXPECT_NE(after, before);
    return after;
  }
};

TEST_F(ExecutorRestartTest, CrashedEtcdIsRestartedOnItsDataDirUntilTheBudgetIsSpent) {
  options_.etcd_restart_attempts = 2;
  start();
  const auto data = launch_running();
  ASSERT_TRUE(put_key(static_cast<uint16_t>(data.client_port)));

  crash_and_wait_for_restart();
  EXPECT_TRUE(has_key(static_cast<uint16_t>(data.client_port)));
  EXPECT_TRUE(contains(agent_.updates.back().message, "again after restart 1"))
      << agent_.updates.back().message.value_or("");
  crash_and_wait_for_restart();
  EXPECT_EQ(executor_->phase(), Executor::Phase::kRunning);

  ::kill(executor_->etcd_pid_ForTest().value(), SIGKILL);
  ASSERT_TRUE(wait_for([&] { return agent_.has_state(TaskState::kFailed); }));
  const auto& message = agent_.find(TaskState::kFailed)->message;
  EXPECT_TRUE(contains(message, "signal 9")) << message.value_or("");
  EXPECT_TRUE(contains(message, "gave up after 2 restart(s)")) << message.value_or("");
  EXPECT_EQ(agent_.states(),
            (std::vector<std::string>{"TASK_STARTING", "TASK_RUNNING", "TASK_RUNNING",
                                      "TASK_RUNNING", "TASK_FAILED"}));
}

TEST_F(ExecutorRestartTest, ARemovedMemberIsNotRestarted) {
  // Stands in for a removal, which one member cannot do to itself: runs the
  // real etcd until told, then logs etcd's removal line and exits 0 as etcd
  // does (reference etcd §8).
  options_.etcd_bin = write_script(
      sandbox_.path(), "removable-etcd",
      "/usr/bin/etcd \"$@\" &\nchild=$!\n"
      "while [ ! -e stop-as-removed ]; do sleep 0.05; done\nkill -9 $child\n"
      "echo '{\"level\":\"warn\",\"msg\":\"server error\",\"error\":\"the member has been "
      "permanently removed from the cluster\"}' >&2\nexit 0");
  options_.etcd_restart_attempts = 3;
  start();
  launch_running();
  ASSERT_TRUE(agent_.has_state(TaskState::kRunning));
  std::ofstream(sandbox_.path() / "stop-as-removed").put('x');
  ASSERT_TRUE(wait_for([&] { return agent_.has_state(TaskState::kFailed); }));
  const auto& message = agent_.find(TaskState::kFailed)->message;
  EXPECT_TRUE(contains(message, "removed from the cluster")) << message.value_or("");
  EXPECT_TRUE(contains(message, "etcd logged so")) << message.value_or("");
  EXPECT_EQ(count_state(agent_, TaskState::kRunning), 1u);
}

TEST_F(ExecutorRestartTest, KillWhileEtcdWaitsToRestartIsTaskKilledAtOnce) {
  options_.etcd_restart_attempts = 1;
  options_.restart_backoff_initial = 20s;
  options_.restart_backoff_max = 20s;
  start();
  launch_running();
  const pid_t pid = executor_->etcd_pid_ForTest().value();
  ::kill(pid, SIGKILL);
  ASSERT_TRUE(wait_for([&] { return process_gone(pid); }));
  const auto began = Clock::now();
  kill("etcd-m0-1");
  ASSERT_TRUE(wait_for([&] { return agent_.has_state(TaskState::kKilled); }));
  EXPECT_LT(Clock::now() - began, 10s);
  EXPECT_FALSE(agent_.has_state(TaskState::kFailed));
}

TEST_F(ExecutorRestartTest, SeedOrderRestartsEtcdOnceWithForceNewClusterKeepingItsData) {
  options_.seed_only_without_leader_ForTest = false;  // a lone etcd leads itself
  options_.etcd_restart_attempts = 1;
  const auto [port, before] = serve_a_key();
  EXPECT_EQ(cmdline(before).find("--force-new-cluster"), std::string::npos);

  ASSERT_NE(order(core::ReseedAction::kSeed, 7), nullptr);
  const auto& report = *find_reseed_report(agent_, "7");
  EXPECT_EQ(report.state, TaskState::kRunning);
  EXPECT_EQ(label_of(report, kLabelReseedAction), "seed");
  EXPECT_EQ(label_of(report, kLabelReseedResult), "ok") << report.message.value_or("");
  EXPECT_EQ(label_of(report, kLabelReseedData), "");
  const pid_t seed = executor_->etcd_pid_ForTest().value();
  EXPECT_NE(seed, before);
  EXPECT_NE(cmdline(seed).find("--force-new-cluster"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(sandbox_.path() / "etcd-data.before-reseed-7" / "member"));
  EXPECT_TRUE(has_key(port));

  // Only that one start uses the flag: a restart goes without it.
  const pid_t restarted = crash_and_wait_for_restart();
  EXPECT_EQ(cmdline(restarted).find("--force-new-cluster"), std::string::npos);
  EXPECT_TRUE(has_key(port));
  EXPECT_FALSE(agent_.has_state(TaskState::kFailed));
}

TEST_F(ExecutorRestartTest, ASeedWhoseCopyDoesNotFitRunsOnAsTheMemberItWas) {
  options_.seed_only_without_leader_ForTest = false;  // a lone etcd leads itself
  options_.etcd_restart_attempts = 1;
  options_.free_space_ForTest = [](const std::filesystem::path&) -> Result<std::uintmax_t> {
    return std::uintmax_t{1024} * 1024;  // less than the margin alone
  };
  const auto [port, before] = serve_a_key();

  ASSERT_NE(order(core::ReseedAction::kSeed, 7), nullptr);
  const auto report = *find_reseed_report(agent_, "7");
  EXPECT_EQ(report.state, TaskState::kRunning);
  EXPECT_EQ(label_of(report, kLabelReseedResult), "failed");
  EXPECT_EQ(label_of(report, kLabelReseedData), "untouched");
  EXPECT_TRUE(contains(report.message, "not enough free space")) << report.message.value_or("");
  EXPECT_TRUE(contains(report.message, "1 MiB available")) << report.message.value_or("");

  // etcd was stopped for the seed and started again as before, on its data.
  ASSERT_TRUE(
      wait_for([&] { return count_state(agent_, TaskState::kRunning) >= 3; }, kEtcdStartTimeout));
  const pid_t after = executor_->etcd_pid_ForTest().value();
  EXPECT_NE(after, before);
  EXPECT_EQ(cmdline(after).find("--force-new-cluster"), std::string::npos);
  EXPECT_TRUE(has_key(port));
  EXPECT_FALSE(std::filesystem::exists(sandbox_.path() / "etcd-data.before-reseed-7"));
  EXPECT_FALSE(std::filesystem::exists(sandbox_.path() / "etcd-data.before-reseed-7.partial"));
  EXPECT_FALSE(agent_.has_state(TaskState::kFailed));
  EXPECT_EQ(executor_->phase(), Executor::Phase::kRunning);
}

TEST_F(ExecutorRestartTest, AnOrderRefusedDuringASeedNeverSaysTheDataIsUntouched) {
  options_.seed_only_without_leader_ForTest = false;  // a lone etcd leads itself
  // The scheduler would keep this member and seed another while this one
  // becomes a one-member cluster.
  options_.etcd_restart_attempts = 1;
  start();
  launch_running();
  message(encode_reseed_order({core::ReseedAction::kSeed, 7}));
  ASSERT_NE(order(core::ReseedAction::kSeed, 8), nullptr);
  const auto refused = *find_reseed_report(agent_, "8");
  EXPECT_EQ(label_of(refused, kLabelReseedResult), "failed");
  EXPECT_EQ(label_of(refused, kLabelReseedData), "") << refused.message.value_or("");
  ASSERT_TRUE(
      wait_for([&] { return find_reseed_report(agent_, "7") != nullptr; }, kEtcdStartTimeout));
  EXPECT_EQ(label_of(*find_reseed_report(agent_, "7"), kLabelReseedResult), "ok");
}

TEST_F(ExecutorRestartTest, ASeedIsRefusedWhileEtcdNamesALeader) {
  // This lone etcd leads: a majority serves, and --force-new-cluster would
  // fork a second cluster beside it (issue 9).
  options_.etcd_restart_attempts = 1;
  start();
  const auto data = launch_running();
  ASSERT_TRUE(put_key(static_cast<uint16_t>(data.client_port)));
  const pid_t before = executor_->etcd_pid_ForTest().value();
  ASSERT_NE(order(core::ReseedAction::kSeed, 7), nullptr);
  const auto report = *find_reseed_report(agent_, "7");
  EXPECT_EQ(label_of(report, kLabelReseedResult), "failed");
  EXPECT_EQ(label_of(report, kLabelReseedData), "untouched");
  EXPECT_TRUE(contains(report.message, "a majority serves again")) << report.message.value_or("");
  EXPECT_EQ(executor_->etcd_pid_ForTest().value(), before);  // never stopped
  EXPECT_FALSE(std::filesystem::exists(sandbox_.path() / "etcd-data.before-reseed-7"));
  EXPECT_EQ(executor_->phase(), Executor::Phase::kRunning);
  // So is a fence: stopping a member of a serving majority only weakens it.
  ASSERT_NE(order(core::ReseedAction::kFence, 8), nullptr);
  const auto fence = *find_reseed_report(agent_, "8");
  EXPECT_EQ(label_of(fence, kLabelReseedResult), "failed");
  EXPECT_EQ(label_of(fence, kLabelReseedData), "untouched");
  EXPECT_TRUE(contains(fence.message, "not fenced")) << fence.message.value_or("");
  EXPECT_EQ(executor_->etcd_pid_ForTest().value(), before);
}

// A fence (issue 9): etcd stops while the task runs on, the answer names
// the commit index of the stopped data (read from its WAL), a renewal
// answers the same, and a seed starts from that stopped data.
TEST_F(ExecutorRestartTest, AFenceStopsEtcdReportsItsCommitIndexAndASeedStartsFromTheStoppedData) {
  options_.seed_only_without_leader_ForTest = false;  // a lone etcd leads itself
  options_.etcd_restart_attempts = 1;
  const auto [port, before] = serve_a_key();

  ASSERT_NE(order(core::ReseedAction::kFence, 3), nullptr);
  const auto fenced = *find_reseed_report(agent_, "3");
  EXPECT_EQ(fenced.state, TaskState::kRunning);
  EXPECT_EQ(label_of(fenced, kLabelReseedAction), "fence");
  EXPECT_EQ(label_of(fenced, kLabelReseedResult), "ok") << fenced.message.value_or("");
  EXPECT_TRUE(contains(fenced.message, "WAL")) << fenced.message.value_or("");
  const auto index = wal_commit_index(sandbox_.path() / "etcd-data");
  ASSERT_TRUE(index) << index.error().message;
  EXPECT_GT(*index, 1u);  // the bootstrap entries and the key
  EXPECT_EQ(label_of(fenced, kLabelRaftIndex), std::to_string(*index));
  EXPECT_TRUE(process_gone(before));
  EXPECT_FALSE(std::filesystem::exists(sandbox_.path() / "etcd-data.before-reseed-3"));

  ASSERT_NE(order(core::ReseedAction::kFence, 4), nullptr);  // renewed
  EXPECT_EQ(label_of(*find_reseed_report(agent_, "4"), kLabelRaftIndex), std::to_string(*index));

  ASSERT_NE(order(core::ReseedAction::kSeed, 5), nullptr);
  const auto seeded = *find_reseed_report(agent_, "5");
  EXPECT_EQ(label_of(seeded, kLabelReseedResult), "ok") << seeded.message.value_or("");
  const pid_t seed = executor_->etcd_pid_ForTest().value();
  EXPECT_NE(cmdline(seed).find("--force-new-cluster"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(sandbox_.path() / "etcd-data.before-reseed-5" / "member"));
  EXPECT_TRUE(has_key(port));
  EXPECT_FALSE(agent_.has_state(TaskState::kFailed));
}

TEST_F(ExecutorRestartTest, WhenTheFenceLeaseEndsEtcdRunsAgainAsTheMemberItWas) {
  options_.seed_only_without_leader_ForTest = false;
  options_.etcd_restart_attempts = 1;
  const auto [port, before] = serve_a_key();
  const auto running = count_state(agent_, TaskState::kRunning);
  ASSERT_NE(order(core::ReseedAction::kFence, 3, 500), nullptr);
  EXPECT_EQ(label_of(*find_reseed_report(agent_, "3"), kLabelReseedResult), "ok");
  // The report, then "serves again" once the lease is over.
  ASSERT_TRUE(wait_for([&] { return count_state(agent_, TaskState::kRunning) >= running + 2; },
                       kEtcdStartTimeout));
  const pid_t after = executor_->etcd_pid_ForTest().value();
  EXPECT_NE(after, before);
  EXPECT_EQ(cmdline(after).find("--force-new-cluster"), std::string::npos);
  EXPECT_TRUE(has_key(port));
  EXPECT_EQ(executor_->phase(), Executor::Phase::kRunning);
}

TEST_F(ExecutorRestartTest, AFenceOrderWithAMomentsLeaseReleasesTheFenceAtOnce) {
  options_.seed_only_without_leader_ForTest = false;
  options_.etcd_restart_attempts = 1;
  const auto [port, before] = serve_a_key();
  const auto running = count_state(agent_, TaskState::kRunning);
  ASSERT_NE(order(core::ReseedAction::kFence, 3), nullptr);  // 60 s
  ASSERT_NE(order(core::ReseedAction::kFence, 4, 1), nullptr);
  // Both answered, then "serves again" long before the first lease's end.
  ASSERT_TRUE(wait_for([&] { return count_state(agent_, TaskState::kRunning) >= running + 3; },
                       kEtcdStartTimeout));
  EXPECT_NE(executor_->etcd_pid_ForTest().value(), before);
  EXPECT_TRUE(has_key(port));
}

TEST_F(ExecutorRestartTest, AKillWhileFencedIsTaskKilledAtOnce) {
  options_.seed_only_without_leader_ForTest = false;
  start();
  launch_running();
  ASSERT_NE(order(core::ReseedAction::kFence, 3), nullptr);
  const auto began = Clock::now();
  kill("etcd-m0-1");
  ASSERT_TRUE(wait_for([&] { return agent_.has_state(TaskState::kKilled); }));
  EXPECT_LT(Clock::now() - began, 10s);
  EXPECT_FALSE(agent_.has_state(TaskState::kFailed));
}

TEST_F(ExecutorRestartTest, AFencedSeedWhoseCopyDoesNotFitStaysFencedWithItsDataUntouched) {
  options_.seed_only_without_leader_ForTest = false;
  options_.free_space_ForTest = [](const std::filesystem::path&) -> Result<std::uintmax_t> {
    return std::uintmax_t{0};
  };
  start();
  launch_running();
  const pid_t before = executor_->etcd_pid_ForTest().value();
  ASSERT_NE(order(core::ReseedAction::kFence, 3), nullptr);
  ASSERT_NE(order(core::ReseedAction::kSeed, 4), nullptr);
  const auto& report = *find_reseed_report(agent_, "4");
  EXPECT_EQ(label_of(report, kLabelReseedResult), "failed");
  EXPECT_EQ(label_of(report, kLabelReseedData), "untouched");
  EXPECT_TRUE(contains(report.message, "not enough free space")) << report.message.value_or("");
  EXPECT_FALSE(std::filesystem::exists(sandbox_.path() / "etcd-data.before-reseed-4"));
  // Still fenced: no etcd started; a renewal still answers.
  EXPECT_TRUE(process_gone(before));
  EXPECT_EQ(executor_->etcd_pid_ForTest().value(), before);
  ASSERT_NE(order(core::ReseedAction::kFence, 5), nullptr);
  EXPECT_EQ(label_of(*find_reseed_report(agent_, "5"), kLabelReseedResult), "ok");
}

TEST_F(ExecutorRestartTest, OrdersBeforeEtcdServesAreRefusedAndOtherMessagesIgnored) {
  options_.etcd_bin = write_script(sandbox_.path(), "silent-etcd", "while :; do sleep 0.05; done");
  start();
  launch(task("etcd-m0-1", encode(member())));
  ASSERT_TRUE(wait_for([&] { return agent_.has_state(TaskState::kStarting); }));
  message("hello, executor");
  ASSERT_NE(order(core::ReseedAction::kSeed, 9), nullptr);
  const auto& report = *find_reseed_report(agent_, "9");
  EXPECT_EQ(report.state, TaskState::kStarting);  // never claims RUNNING early
  EXPECT_EQ(label_of(report, kLabelReseedResult), "failed");
  EXPECT_EQ(label_of(report, kLabelReseedData), "untouched");  // it did nothing
  EXPECT_EQ(agent_.states(), (std::vector<std::string>{"TASK_STARTING", "TASK_STARTING"}));
}

}  // namespace
}  // namespace etcdmesos::executor
