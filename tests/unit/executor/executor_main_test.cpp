// The etcd-mesos-executor program itself: flag spellings, start-up errors,
// and the wiring (one member run end to end against a fake agent, stopped by
// SIGTERM as an agent's shutdown would).
#include "codec/task_data.hpp"
#include "fake_agent.hpp"
#include "support/etcd_server.hpp"
#include "support/processes.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <csignal>

namespace etcdmesos::executor {
namespace {

using etcdmesos::testing::ChildProcess;
using etcdmesos::testing::FakeAgent;
using etcdmesos::testing::run_until;
using etcdmesos::testing::TempDir;
using mesos::TaskState;
using namespace std::chrono_literals;

const std::string kBinary = std::string(ETCDMESOS_BIN_DIR) + "/etcd-mesos-executor";

struct Run {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs the program without a Mesos environment.
Run run(std::vector<std::string> args) {
  TempDir logs("executor-main");
  args.insert(args.begin(), kBinary);
  ChildProcess child(
      args, logs.path(),
      {{"MESOS_AGENT_ENDPOINT", ""}, {"MESOS_FRAMEWORK_ID", ""}, {"MESOS_EXECUTOR_ID", ""}});
  auto status = child.wait(10s);
  Run r;
  if (status && WIFEXITED(*status)) {
    r.exit_code = WEXITSTATUS(*status);
  }
  r.out = child.stdout_text();
  r.err = child.stderr_text();
  return r;
}

TEST(ExecutorMain, HelpListsTheFlags) {
  auto r = run({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--etcd-bin"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--log-level"), std::string::npos) << r.out;
}

TEST(ExecutorMain, AcceptsBothFlagSpellingsThenNeedsTheAgentEnvironment) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"-etcd-bin=./etcd"},
                                             {"--etcd-bin", "./etcd"},
                                             {"--etcd-bin=./etcd", "-log-level=debug"}}) {
    auto r = run(args);
    EXPECT_EQ(r.exit_code, 2) << args[0];
    EXPECT_NE(r.err.find("MESOS_AGENT_ENDPOINT is not set"), std::string::npos) << r.err;
  }
}

TEST(ExecutorMain, RejectsUnknownFlagsAndLevels) {
  auto unknown = run({"-no-such-flag=1"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("--help"), std::string::npos) << unknown.err;
  auto level = run({"--log-level=loud"});
  EXPECT_EQ(level.exit_code, 2);
  EXPECT_NE(level.err.find("loud"), std::string::npos) << level.err;
}

TEST(ExecutorMain, RunsAMemberAndStopsOnSigterm) {
  boost::asio::io_context ioc;
  FakeAgent agent(ioc);
  TempDir sandbox("executor-main-sandbox");
  ChildProcess child({kBinary, "-etcd-bin=/usr/bin/etcd"}, sandbox.path() / "logs",
                     {{"MESOS_AGENT_ENDPOINT", agent.at.to_string()},
                      {"MESOS_FRAMEWORK_ID", FakeAgent::kFrameworkId},
                      {"MESOS_EXECUTOR_ID", FakeAgent::kExecutorId},
                      {"MESOS_CHECKPOINT", "0"},
                      {"MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", "5secs"},
                      {"MESOS_SANDBOX", sandbox.path().string()},
                      {"ETCD_NAME", "inherited"}});
  ASSERT_TRUE(run_until(ioc, [&] { return !agent.subscriptions.empty(); })) << child.stderr_text();

  MemberTaskData data;
  data.name = "m0";
  data.host = "127.0.0.1";
  data.client_port = etcdmesos::testing::free_port();
  data.peer_port = etcdmesos::testing::free_port();
  data.initial_cluster = "m0=http://127.0.0.1:" + std::to_string(data.peer_port);
  data.cluster_state = "new";
  data.cluster_token = "executor-main-" + std::to_string(::getpid());
  mesos::ExecutorEventLaunch launch;
  launch.task.name = "etcd-m0";
  launch.task.task_id = "etcd-m0-1";
  launch.task.agent_id = FakeAgent::kAgentId;
  launch.task.data = encode(data);
  agent.send(launch);
  ASSERT_TRUE(run_until(
      ioc, [&] { return agent.has_state(TaskState::kRunning) || !child.running(); }, 30s))
      << child.stderr_text();
  ASSERT_TRUE(agent.has_state(TaskState::kRunning)) << child.stderr_text();
  EXPECT_TRUE(std::filesystem::exists(sandbox.path() / "etcd.stderr"));

  ::kill(child.pid(), SIGTERM);
  ASSERT_TRUE(run_until(
      ioc, [&] { return !child.running(); }, 10s));
  EXPECT_TRUE(agent.has_state(TaskState::kKilled)) << child.stderr_text();
  auto status = child.wait(0ms);
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << child.stderr_text();
  // etcd went with it.
  auto answer =
      etcdmesos::testing::http_post(data.client_port, "/v3/maintenance/status", "{}", 500ms);
  EXPECT_FALSE(answer && answer->status == 200);
}

}  // namespace
}  // namespace etcdmesos::executor
