// Launching executor tasks on mesos-devcluster: fetch, environment, status
// relay with acknowledgements, kills, executor failures.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <csignal>

namespace etcdmesos::devcluster::testing {
namespace {

using io::http::verb;
namespace json = boost::json;

// A dev cluster, an artifact server with the test executor, and a subscribed
// scheduler holding its first offer.
struct Launch {
  explicit Launch(ClusterOptions options)
      : cluster(options),
        artifacts(loop, {{"/devcluster-test-executor", test_executor_binary()}}),
        scheduler(loop, cluster.master()) {
    if (scheduler.subscribe(framework_info()) != 200) {
      throw std::runtime_error("subscribe failed\n" + cluster.logs());
    }
    auto event = scheduler.wait_for_type("OFFERS");
    if (!event || std::get<mesos::EventOffers>(*event).offers.empty()) {
      throw std::runtime_error("no offer\n" + cluster.logs());
    }
    offer = std::get<mesos::EventOffers>(*event).offers.front();
  }
  std::string executor_url() const { return artifacts.url("/devcluster-test-executor"); }
  mesos::TaskInfo task(const std::string& id, std::string data = "") const {
    return executor_task(offer, id, "exec-" + id, executor_url(), 0.5, 64, std::move(data));
  }
  // Launches and returns the TASK_RUNNING update (acknowledged when asked).
  std::optional<mesos::TaskStatus> launch(const mesos::TaskInfo& t, bool ack = true) {
    if (scheduler.call(accept_call(offer, {t})).result_int() != 202) {
      return std::nullopt;
    }
    auto running = scheduler.wait_for_update(t.task_id, std::nullopt, 60s);
    if (running && ack && running->uuid) {
      scheduler.acknowledge(*running);
    }
    return running;
  }
  json::array control_agents() {
    return get_json(loop, cluster.master(), "/control/agents").as_array();
  }
  int executor_pid(const std::string& executor_id) {
    for (const auto& agent : control_agents()) {
      for (const auto& e : agent.at("executors").as_array()) {
        if (e.at("executor_id").as_string() == executor_id) {
          return static_cast<int>(e.at("pid").to_number<int64_t>());
        }
      }
    }
    return 0;
  }

  Loop loop;
  DevCluster cluster;
  ArtifactServer artifacts;
  Scheduler scheduler;
  mesos::Offer offer;
};

bool process_gone(int pid) {
  return pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH;
}

TEST(DevclusterLaunch, TaskRunsIsKilledAndStateShowsIt) {
  Launch t(options(31, 1));
  auto task = t.task("t1");
  task.labels = {{"cluster", "c1"}};
  task.discovery = mesos::DiscoveryInfo{};
  task.discovery->name = "etcd-t1";
  task.discovery->ports = {{31001, "client", "tcp"}};
  task.resources.push_back(mesos::ranges_resource("ports", {{31001, 31002}}));
  auto running = t.launch(task);
  ASSERT_TRUE(running) << t.cluster.logs();
  EXPECT_EQ(running->state, mesos::TaskState::kRunning) << running->message.value_or("");
  EXPECT_EQ(running->source, "SOURCE_EXECUTOR");
  ASSERT_TRUE(running->uuid);
  EXPECT_EQ(running->uuid->size(), 16u);
  EXPECT_EQ(running->agent_id, t.offer.agent_id);
  EXPECT_EQ(running->executor_id, "exec-t1");
  EXPECT_EQ(running->container_ip, t.cluster.agent_ip(0));

  // The sandbox and the environment a Mesos agent gives.
  auto agents = t.control_agents();
  const auto& executor = agents[0].at("executors").as_array().at(0);
  std::filesystem::path sandbox(std::string(executor.at("sandbox").as_string()));
  EXPECT_EQ(sandbox.parent_path().filename(), "runs");
  EXPECT_TRUE(std::filesystem::is_symlink(sandbox.parent_path() / "latest"));
  EXPECT_EQ(std::filesystem::status(sandbox / "devcluster-test-executor").permissions() &
                std::filesystem::perms::owner_exec,
            std::filesystem::perms::owner_exec);
  std::string env = read_text(sandbox / "env.txt");
  const std::string endpoint =
      t.cluster.agent_ip(0) + ":" + std::to_string(agents[0].at("port").to_number<int>());
  for (const std::string& line :
       {"MESOS_FRAMEWORK_ID=" + t.scheduler.framework_id(),
        std::string("MESOS_EXECUTOR_ID=exec-t1"), "MESOS_DIRECTORY=" + sandbox.string(),
        "MESOS_SANDBOX=" + sandbox.string(), "MESOS_AGENT_ENDPOINT=" + endpoint,
        "MESOS_SLAVE_ID=" + t.offer.agent_id, "MESOS_SLAVE_PID=slave(1)@" + endpoint,
        std::string("MESOS_CHECKPOINT=1"), std::string("MESOS_HTTP_COMMAND_EXECUTOR=0"),
        std::string("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD=5secs"),
        std::string("MESOS_RECOVERY_TIMEOUT=15mins"),
        std::string("MESOS_SUBSCRIPTION_BACKOFF_MAX=2secs"), std::string("LIBPROCESS_PORT=0"),
        "LIBPROCESS_IP=" + t.cluster.agent_ip(0),
        std::string("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
        std::string("TEST_VARIABLE=from-command")}) {
    EXPECT_NE(env.find(line + "\n"), std::string::npos) << line << "\n" << env;
  }
  EXPECT_EQ(env.find("HOME="), std::string::npos) << "executors do not inherit the agent's env";

  // /state shows the task as Mesos does.
  auto state = get_json(t.loop, t.cluster.master(), "/state").as_object();
  const auto& tasks = state.at("frameworks").as_array()[0].at("tasks").as_array();
  ASSERT_EQ(tasks.size(), 1u);
  const auto& shown = tasks[0].as_object();
  EXPECT_EQ(shown.at("id").as_string(), "t1");
  EXPECT_EQ(shown.at("state").as_string(), "TASK_RUNNING");
  EXPECT_EQ(shown.at("executor_id").as_string(), "exec-t1");
  EXPECT_EQ(shown.at("slave_id").as_string(), t.offer.agent_id);
  EXPECT_EQ(shown.at("resources").at("ports").as_string(), "[31001-31002]");
  EXPECT_EQ(shown.at("labels").as_array()[0].at("value").as_string(), "c1");
  EXPECT_EQ(shown.at("discovery").at("name").as_string(), "etcd-t1");
  EXPECT_EQ(shown.at("statuses").as_array()[0].at("state").as_string(), "TASK_RUNNING");

  // The leftover is offered again (after the default 5 s filter) with the
  // running executor listed.
  auto next = t.scheduler.wait_for_type("OFFERS", 60s);
  ASSERT_TRUE(next) << t.cluster.logs();
  ASSERT_EQ(std::get<mesos::EventOffers>(*next).offers.size(), 1u);
  EXPECT_EQ(std::get<mesos::EventOffers>(*next).offers[0].executor_ids,
            std::vector<std::string>{"exec-t1"});
  for (const auto& r : std::get<mesos::EventOffers>(*next).offers[0].resources) {
    if (r.name == "cpus") {
      EXPECT_DOUBLE_EQ(r.scalar, 4 - 0.5 - 0.1);
    }
    if (r.name == "ports") {
      EXPECT_EQ(r.ranges, (std::vector<mesos::Range>{{31000, 31000}, {31003, 31999}}));
    }
  }

  mesos::Call kill = call_of(mesos::CallKill{"t1", t.offer.agent_id, std::nullopt});
  EXPECT_EQ(t.scheduler.call(kill).result_int(), 202);
  auto killed = t.scheduler.wait_for_update("t1", mesos::TaskState::kKilled);
  ASSERT_TRUE(killed) << t.cluster.logs();
  EXPECT_EQ(t.scheduler.acknowledge(*killed).result_int(), 202);

  // Finished and acknowledged: reconciliation no longer knows it.
  mesos::Call reconcile = call_of(mesos::CallReconcile{{{"t1", t.offer.agent_id}}});
  bool forgotten = etcdmesos::testing::wait_until(
      [&] {
        t.scheduler.call(reconcile);
        auto answer = t.scheduler.wait_for_update("t1", std::nullopt, 2s);
        return answer && answer->state == mesos::TaskState::kLost &&
               answer->reason == "REASON_RECONCILIATION";
      },
      10s);
  EXPECT_TRUE(forgotten);
  auto after = get_json(t.loop, t.cluster.master(), "/state").as_object();
  const auto& framework = after.at("frameworks").as_array()[0];
  EXPECT_TRUE(framework.at("tasks").as_array().empty());
  EXPECT_EQ(framework.at("completed_tasks").as_array().size(), 1u);
}

TEST(DevclusterLaunch, UpdatesAreHeldUntilAcknowledgedAndResent) {
  Launch t(options(32, 1, {"--status-update-retry-interval", "1"}));
  auto running = t.launch(t.task("t1", "finish"), /*ack=*/false);
  ASSERT_TRUE(running) << t.cluster.logs();
  ASSERT_EQ(running->state, mesos::TaskState::kRunning);

  // Not acknowledged: the same update comes again, FINISHED is held back.
  auto resent = t.scheduler.wait_for(
      [](const mesos::Event& e) { return mesos::type_name(e) == "UPDATE"; }, 5s);
  ASSERT_TRUE(resent);
  EXPECT_EQ(std::get<mesos::EventUpdate>(*resent).status.uuid, running->uuid);
  EXPECT_EQ(std::get<mesos::EventUpdate>(*resent).status.state, mesos::TaskState::kRunning);

  // Reconciliation reports the state that was sent, not the held one.
  mesos::Call reconcile = call_of(mesos::CallReconcile{{{"t1", std::nullopt}}});
  t.scheduler.call(reconcile);
  auto answer = t.scheduler.wait_for(
      [](const mesos::Event& e) {
        return mesos::type_name(e) == "UPDATE" && !std::get<mesos::EventUpdate>(e).status.uuid;
      },
      5s);
  ASSERT_TRUE(answer);
  EXPECT_EQ(std::get<mesos::EventUpdate>(*answer).status.state, mesos::TaskState::kRunning);

  EXPECT_EQ(t.scheduler.acknowledge(*running).result_int(), 202);
  auto finished = t.scheduler.wait_for_update("t1", mesos::TaskState::kFinished, 5s);
  ASSERT_TRUE(finished);
  EXPECT_EQ(finished->source, "SOURCE_EXECUTOR");
  EXPECT_EQ(t.scheduler.acknowledge(*finished).result_int(), 202);
  EXPECT_EQ(t.scheduler.acknowledge(*finished).result_int(), 202);  // repeated ACK: still 202
}

TEST(DevclusterLaunch, InvalidOffersAndOversizedTasks) {
  Launch t(options(33, 1));
  mesos::Offer stale = t.offer;
  stale.id = "no-such-offer";
  EXPECT_EQ(t.scheduler.call(accept_call(stale, {t.task("t-stale")})).result_int(), 202);
  auto lost = t.scheduler.wait_for_update("t-stale");
  ASSERT_TRUE(lost);
  EXPECT_EQ(lost->state, mesos::TaskState::kLost);
  EXPECT_EQ(lost->reason, "REASON_INVALID_OFFERS");
  EXPECT_EQ(lost->message,
            "Task launched with invalid offers: Offer no-such-offer is no longer valid");
  EXPECT_FALSE(lost->uuid);

  auto big = executor_task(t.offer, "t-big", "exec-big", t.executor_url(), 64, 64);
  EXPECT_EQ(t.scheduler.call(accept_call(t.offer, {big})).result_int(), 202);
  auto error = t.scheduler.wait_for_update("t-big");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->state, mesos::TaskState::kError);
  EXPECT_EQ(error->source, "SOURCE_MASTER");

  // The offer was used by that ACCEPT: using it again is invalid.
  EXPECT_EQ(t.scheduler.call(accept_call(t.offer, {t.task("t-again")})).result_int(), 202);
  EXPECT_EQ(t.scheduler.wait_for_update("t-again")->reason, "REASON_INVALID_OFFERS");
}

TEST(DevclusterLaunch, ExecutorExitFailsItsTasks) {
  Launch t(options(34, 1));
  auto running = t.launch(t.task("t1", "exit:3"));
  ASSERT_TRUE(running) << t.cluster.logs();
  // FAILURE and the task's update are not ordered (reference §7).
  std::optional<mesos::TaskStatus> failed;
  std::optional<mesos::EventFailure> failure;
  while (!failed || !failure) {
    auto event = t.scheduler.wait_for(
        [](const mesos::Event& e) {
          return mesos::type_name(e) == "UPDATE" || mesos::type_name(e) == "FAILURE";
        },
        60s);
    ASSERT_TRUE(event) << t.cluster.logs();
    if (mesos::type_name(*event) == "FAILURE") {
      failure = std::get<mesos::EventFailure>(*event);
    } else if (std::get<mesos::EventUpdate>(*event).status.state != mesos::TaskState::kRunning) {
      failed = std::get<mesos::EventUpdate>(*event).status;
    }
  }
  EXPECT_EQ(failed->state, mesos::TaskState::kFailed);
  EXPECT_EQ(failed->reason, "REASON_EXECUTOR_TERMINATED");
  EXPECT_EQ(failed->source, "SOURCE_AGENT");
  EXPECT_TRUE(failed->uuid);
  EXPECT_EQ(failure->executor_id, "exec-t1");
  EXPECT_EQ(failure->agent_id, t.offer.agent_id);
  EXPECT_EQ(failure->status, 3 << 8);  // raw waitpid status
}

TEST(DevclusterLaunch, FetchFailureFailsTheTask) {
  Launch t(options(35, 1));
  auto task = executor_task(t.offer, "t1", "exec-t1", t.artifacts.url("/missing"));
  EXPECT_EQ(t.scheduler.call(accept_call(t.offer, {task})).result_int(), 202);
  auto failed = t.scheduler.wait_for_update("t1", std::nullopt, 60s);
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->state, mesos::TaskState::kFailed);
  EXPECT_NE(failed->message.value_or("").find("Failed to fetch"), std::string::npos)
      << failed->message.value_or("");
}

TEST(DevclusterLaunch, ExecFailureFailsTheTask) {
  Launch t(options(43, 1));
  auto task = t.task("t1");
  task.executor->command->value = "./no-such-program";
  EXPECT_EQ(t.scheduler.call(accept_call(t.offer, {task})).result_int(), 202);
  auto failed = t.scheduler.wait_for_update("t1", std::nullopt, 60s);
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->state, mesos::TaskState::kFailed);
  EXPECT_EQ(failed->reason, "REASON_CONTAINER_LAUNCH_FAILED");
  EXPECT_NE(failed->message.value_or("").find("Failed to launch the executor"), std::string::npos)
      << failed->message.value_or("");
  auto failure = t.scheduler.wait_for_type("FAILURE");
  ASSERT_TRUE(failure);
  EXPECT_EQ(std::get<mesos::EventFailure>(*failure).status, -1);
}

TEST(DevclusterLaunch, ExecutorThatNeverSubscribesIsKilled) {
  Launch t(options(36, 1, {"--executor-registration-timeout", "1"}));
  auto task = t.task("t1");
  task.executor->command->environment.push_back({"TEST_EXECUTOR_MODE", "no-subscribe"});
  EXPECT_EQ(t.scheduler.call(accept_call(t.offer, {task})).result_int(), 202);
  auto failed = t.scheduler.wait_for_update("t1", std::nullopt, 60s);
  ASSERT_TRUE(failed) << t.cluster.logs();
  EXPECT_EQ(failed->state, mesos::TaskState::kFailed);
  EXPECT_EQ(failed->reason, "REASON_EXECUTOR_REGISTRATION_TIMEOUT");
}

TEST(DevclusterLaunch, MessagesReachTheExecutorAndComeBack) {
  Launch t(options(37, 1));
  ASSERT_TRUE(t.launch(t.task("t1"))) << t.cluster.logs();
  mesos::Call message = call_of(mesos::CallMessage{t.offer.agent_id, "exec-t1", "ping"});
  EXPECT_EQ(t.scheduler.call(message).result_int(), 202);
  auto echo = t.scheduler.wait_for_type("MESSAGE");
  ASSERT_TRUE(echo);
  EXPECT_EQ(std::get<mesos::EventMessage>(*echo).data, "echo:ping");
  EXPECT_EQ(std::get<mesos::EventMessage>(*echo).executor_id, "exec-t1");
  EXPECT_EQ(std::get<mesos::EventMessage>(*echo).agent_id, t.offer.agent_id);
}

TEST(DevclusterLaunch, ShutdownCallStopsTheExecutor) {
  Launch t(options(38, 1));
  ASSERT_TRUE(t.launch(t.task("t1"))) << t.cluster.logs();
  mesos::Call shutdown = call_of(mesos::CallShutdown{"exec-t1", t.offer.agent_id});
  EXPECT_EQ(t.scheduler.call(shutdown).result_int(), 202);
  auto killed = t.scheduler.wait_for_update("t1", mesos::TaskState::kKilled);
  ASSERT_TRUE(killed);
  EXPECT_EQ(killed->source, "SOURCE_EXECUTOR");
  auto failure = t.scheduler.wait_for_type("FAILURE");
  ASSERT_TRUE(failure);
  EXPECT_EQ(std::get<mesos::EventFailure>(*failure).executor_id, "exec-t1");
  EXPECT_EQ(std::get<mesos::EventFailure>(*failure).status, 0);
}

TEST(DevclusterLaunch, ShutdownGracePeriodEndsAStubbornExecutor) {
  Launch t(options(39, 1, {"--executor-shutdown-grace-period", "0.5"}));
  auto task = t.task("t1");
  task.executor->command->environment.push_back({"TEST_EXECUTOR_MODE", "ignore-shutdown"});
  ASSERT_TRUE(t.launch(task)) << t.cluster.logs();
  int pid = t.executor_pid("exec-t1");
  ASSERT_GT(pid, 0);
  mesos::Call shutdown = call_of(mesos::CallShutdown{"exec-t1", t.offer.agent_id});
  EXPECT_EQ(t.scheduler.call(shutdown).result_int(), 202);
  auto killed = t.scheduler.wait_for_update("t1", mesos::TaskState::kKilled, 10s);
  ASSERT_TRUE(killed) << t.cluster.logs();
  EXPECT_EQ(killed->source, "SOURCE_AGENT");
  EXPECT_EQ(killed->reason, "REASON_EXECUTOR_TERMINATED");
  auto failure = t.scheduler.wait_for_type("FAILURE");
  ASSERT_TRUE(failure);
  EXPECT_EQ(std::get<mesos::EventFailure>(*failure).status, SIGKILL);
  EXPECT_TRUE(etcdmesos::testing::wait_until([&] { return process_gone(pid); }, 5s));
}

TEST(DevclusterLaunch, TeardownShutsExecutorsDown) {
  Launch t(options(40, 1));
  ASSERT_TRUE(t.launch(t.task("t1"))) << t.cluster.logs();
  int pid = t.executor_pid("exec-t1");
  ASSERT_GT(pid, 0);
  EXPECT_EQ(t.scheduler.call(call_of(mesos::CallTeardown{})).result_int(), 202);
  EXPECT_TRUE(t.scheduler.wait_ended());
  EXPECT_TRUE(etcdmesos::testing::wait_until([&] { return process_gone(pid); }, 10s));
}

TEST(DevclusterLaunch, SecondTaskJoinsTheRunningExecutor) {
  Launch t(options(42, 1));
  ASSERT_TRUE(t.launch(t.task("t1"))) << t.cluster.logs();
  int pid = t.executor_pid("exec-t1");
  auto offer = t.scheduler.wait_for_type("OFFERS", 60s);
  ASSERT_TRUE(offer) << t.cluster.logs();
  t.offer = std::get<mesos::EventOffers>(*offer).offers.at(0);

  // Same executor id with a different ExecutorInfo: refused.
  auto different = executor_task(t.offer, "t-bad", "exec-t1", t.executor_url());
  different.executor->resources = {mesos::scalar_resource("cpus", 0.2)};
  // Same ExecutorInfo: the task goes to the running executor, whose
  // resources are not charged again.
  auto second = executor_task(t.offer, "t2", "exec-t1", t.executor_url());
  EXPECT_EQ(t.scheduler.call(accept_call(t.offer, {different, second})).result_int(), 202);
  auto refused = t.scheduler.wait_for_update("t-bad");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->state, mesos::TaskState::kError);
  EXPECT_NE(refused->message.value_or("").find("not compatible"), std::string::npos);
  auto running = t.scheduler.wait_for_update("t2", mesos::TaskState::kRunning);
  ASSERT_TRUE(running) << t.cluster.logs();
  EXPECT_EQ(t.executor_pid("exec-t1"), pid);

  auto state = get_json(t.loop, t.cluster.master(), "/state");
  const auto& framework = state.at("frameworks").as_array()[0];
  EXPECT_EQ(framework.at("tasks").as_array().size(), 2u);
  EXPECT_EQ(framework.at("executors").as_array().size(), 1u);
  EXPECT_DOUBLE_EQ(framework.at("used_resources").at("cpus").to_number<double>(), 0.5 + 0.5 + 0.1);
}

TEST(DevclusterLaunch, ShellCommandsRunThroughTheShell) {
  Launch t(options(41, 1));
  auto task = t.task("t1");
  task.executor->command->shell = true;
  task.executor->command->arguments.clear();
  task.executor->command->value = "exec ./devcluster-test-executor";
  auto running = t.launch(task);
  ASSERT_TRUE(running) << t.cluster.logs();
  EXPECT_EQ(running->state, mesos::TaskState::kRunning);
}

}  // namespace
}  // namespace etcdmesos::devcluster::testing
