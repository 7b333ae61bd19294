#include "io/process.hpp"

#include "io_test_util.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace etcdmesos::io {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using etcdmesos::testing::run_coro;
using etcdmesos::testing::run_until;
using std::chrono::milliseconds;

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A process that exists and is not a zombie.
bool alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) {
    return false;
  }
  std::string line;
  std::getline(stat, line);
  auto close_paren = line.rfind(')');
  return close_paren != std::string::npos && close_paren + 2 < line.size() &&
         line[close_paren + 2] != 'Z';
}

class ProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("process_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  SpawnOptions shell(std::string script) {
    SpawnOptions options;
    options.argv = {"sh", "-c", std::move(script)};
    options.env = {{"PATH", "/usr/bin:/bin"}};
    options.stdout_path = (dir_ / "out").string();
    options.stderr_path = (dir_ / "err").string();
    return options;
  }
  std::unique_ptr<Process> spawn(const SpawnOptions& options) {
    auto process = Process::spawn(ioc_.get_executor(), options);
    EXPECT_TRUE(process) << process.error().message;
    return std::move(process).value();
  }
  ExitStatus wait(Process& process) { return run_coro(ioc_, process.wait()); }

  asio::io_context ioc_;
  fs::path dir_;
};

TEST_F(ProcessTest, ReportsTheExitCode) {
  auto process = spawn(shell("exit 3"));
  EXPECT_GT(process->pid(), 0);
  auto status = wait(*process);
  EXPECT_FALSE(status.signaled);
  EXPECT_EQ(status.code, 3);
  EXPECT_EQ(status.describe(), "exited with status 3");
  EXPECT_FALSE(process->running());
}

TEST_F(ProcessTest, ReportsTheKillingSignal) {
  auto process = spawn(shell("kill -9 $$"));
  auto status = wait(*process);
  EXPECT_TRUE(status.signaled);
  EXPECT_EQ(status.code, SIGKILL);
  EXPECT_EQ(status.describe(), "killed by signal 9 (Killed)");
}

TEST_F(ProcessTest, ExecFailureIsAnErrorFromSpawn) {
  SpawnOptions options;
  options.argv = {"/x"};
  auto process = Process::spawn(ioc_.get_executor(), options);
  ASSERT_FALSE(process);
  EXPECT_EQ(process.error().message, "cannot execute /x: No such file or directory");

  options.argv = {"no-such-program-anywhere"};
  options.env = {{"PATH", "/usr/bin:/bin"}};
  auto unnamed = Process::spawn(ioc_.get_executor(), options);
  ASSERT_FALSE(unnamed);
  EXPECT_NE(unnamed.error().message.find("not found in PATH"), std::string::npos);

  fs::path not_executable = dir_ / "plain";
  std::ofstream(not_executable) << "#!/bin/sh\n";
  options.argv = {not_executable.string()};
  auto denied = Process::spawn(ioc_.get_executor(), options);
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().message,
            "cannot execute " + not_executable.string() + ": Permission denied");
}

TEST_F(ProcessTest, ChildGetsExactlyTheGivenEnvironment) {
  SpawnOptions options;
  options.argv = {"/usr/bin/env"};
  options.env = {{"FOO", "bar baz"}, {"EMPTY", ""}};
  options.stdout_path = (dir_ / "out").string();
  auto process = spawn(options);
  EXPECT_EQ(wait(*process).code, 0);
  EXPECT_EQ(read_file(dir_ / "out"), "EMPTY=\nFOO=bar baz\n");
}

TEST_F(ProcessTest, ChildRunsInTheGivenDirectory) {
  auto options = shell("pwd");
  options.cwd = dir_.string();
  auto process = spawn(options);
  EXPECT_EQ(wait(*process).code, 0);
  EXPECT_EQ(read_file(dir_ / "out"), fs::canonical(dir_).string() + "\n");

  options.cwd = (dir_ / "missing").string();
  auto failed = Process::spawn(ioc_.get_executor(), options);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message,
            "cannot change directory to " + options.cwd + ": No such file or directory");
}

TEST_F(ProcessTest, OutputIsAppendedToTheFiles) {
  for (int i = 0; i < 2; ++i) {
    auto process = spawn(shell("echo out" + std::to_string(i) + "; echo err >&2"));
    EXPECT_EQ(wait(*process).code, 0);
  }
  EXPECT_EQ(read_file(dir_ / "out"), "out0\nout1\n");
  EXPECT_EQ(read_file(dir_ / "err"), "err\nerr\n");
}

TEST_F(ProcessTest, ChildInheritsOnlyStandardDescriptors) {
  // Asio's sockets are not close-on-exec; a child must not hold them.
  asio::ip::tcp::acceptor listening(ioc_, {asio::ip::make_address("127.0.0.1"), 0});
  SpawnOptions options;
  options.argv = {"/bin/ls", "/proc/self/fd"};
  options.stdout_path = (dir_ / "out").string();
  auto process = spawn(options);
  EXPECT_EQ(wait(*process).code, 0);
  // 3 is the directory ls itself opened to list.
  EXPECT_EQ(read_file(dir_ / "out"), "0\n1\n2\n3\n");
}

TEST_F(ProcessTest, UnwritableOutputPathIsAnError) {
  auto options = shell("true");
  options.stdout_path = (dir_ / "missing" / "out").string();
  auto process = Process::spawn(ioc_.get_executor(), options);
  ASSERT_FALSE(process);
  EXPECT_NE(process.error().message.find("cannot open"), std::string::npos);
}

TEST_F(ProcessTest, WaitForTimesOutWhileRunning) {
  auto process = spawn(shell("exec sleep 30"));
  auto none = run_coro(ioc_, process->wait_for(milliseconds(50)));
  EXPECT_FALSE(none.has_value());
  EXPECT_TRUE(process->running());
  process->signal(SIGTERM);
  auto done = run_coro(ioc_, process->wait_for(milliseconds(5000)));
  ASSERT_TRUE(done.has_value());
  EXPECT_TRUE(done->signaled);
  EXPECT_EQ(done->code, SIGTERM);
}

TEST_F(ProcessTest, TerminateStopsAPoliteProcessWithSigterm) {
  auto process = spawn(shell("exec sleep 30"));
  auto status = run_coro(ioc_, process->terminate(milliseconds(5000)));
  EXPECT_TRUE(status.signaled);
  EXPECT_EQ(status.code, SIGTERM);
}

TEST_F(ProcessTest, TerminateKillsTheGroupWhenSigtermIsIgnored) {
  // The shell ignores SIGTERM, and so does its child (ignored signals are
  // inherited); only SIGKILL to the group ends both.
  auto options = shell("trap '' TERM; sleep 30 & echo $! > child; echo ready; wait; wait");
  options.cwd = dir_.string();
  auto process = spawn(options);
  ASSERT_TRUE(run_until(ioc_, [&] { return read_file(dir_ / "out") == "ready\n"; }));
  pid_t grandchild = std::stoi(read_file(dir_ / "child"));
  ASSERT_TRUE(alive(grandchild));
  const auto started = std::chrono::steady_clock::now();
  auto status = run_coro(ioc_, process->terminate(milliseconds(200)));
  EXPECT_GE(std::chrono::steady_clock::now() - started, milliseconds(200));
  EXPECT_TRUE(status.signaled);
  EXPECT_EQ(status.code, SIGKILL);
  EXPECT_TRUE(run_until(ioc_, [&] { return !alive(grandchild); }));
}

TEST_F(ProcessTest, CurrentEnvironmentHasOurVariables) {
  ::setenv("ETCDMESOS_PROCESS_TEST", "a=b", 1);
  auto env = current_environment();
  EXPECT_EQ(env["ETCDMESOS_PROCESS_TEST"], "a=b");
  ::unsetenv("ETCDMESOS_PROCESS_TEST");
}

// Forks a parent that spawns `sleep 30` and exits at once; returns the pid of
// the sleep.
pid_t orphan_a_child(const fs::path& dir, bool survive_parent) {
  int report[2];
  EXPECT_EQ(::pipe(report), 0);
  pid_t parent = ::fork();
  if (parent == 0) {
    asio::io_context ioc;
    SpawnOptions options;
    options.argv = {"/bin/sleep", "30"};
    options.stdout_path = (dir / "orphan").string();
    options.survive_parent = survive_parent;
    auto child = Process::spawn(ioc.get_executor(), options);
    pid_t pid = child ? (*child)->pid() : -1;
    [[maybe_unused]] auto n = ::write(report[1], &pid, sizeof pid);
    ::_exit(0);
  }
  ::close(report[1]);
  pid_t orphan = -1;
  EXPECT_EQ(::read(report[0], &orphan, sizeof orphan), static_cast<ssize_t>(sizeof orphan));
  ::close(report[0]);
  int ignored = 0;
  ::waitpid(parent, &ignored, 0);
  return orphan;
}

TEST_F(ProcessTest, ChildDiesWithItsParentUnlessAskedToSurvive) {
  pid_t dies = orphan_a_child(dir_, false);
  ASSERT_GT(dies, 0);
  EXPECT_TRUE(run_until(ioc_, [&] { return !alive(dies); }));

  pid_t survives = orphan_a_child(dir_, true);
  ASSERT_GT(survives, 0);
  EXPECT_TRUE(alive(survives));
  ::kill(survives, SIGKILL);
  EXPECT_TRUE(run_until(ioc_, [&] { return !alive(survives); }));
}

}  // namespace
}  // namespace etcdmesos::io
