// --version of every program (issue 15 item 6): the project version of the
// top CMakeLists.txt and the git commit of the checkout the binaries were
// built from; the scheduler's first log line and GET /health name them too.
#include "common/version.hpp"
#include "scheduler/admin_json.hpp"
#include "scheduler/options.hpp"
#include "support/processes.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <sys/wait.h>
#include <array>
#include <cstdio>
#include <filesystem>
#include <memory>

namespace etcdmesos::scheduler {
namespace {

using etcdmesos::testing::ChildProcess;
using etcdmesos::testing::TempDir;
using namespace std::chrono_literals;

struct Run {
  int exit_code = -1;
  std::string out;
  std::string err;
};

Run run(const std::string& program, std::vector<std::string> args) {
  TempDir logs("version-test");
  args.insert(args.begin(), std::string(ETCDMESOS_BIN_DIR) + "/" + program);
  ChildProcess child(args, logs.path());
  auto status = child.wait(20s);
  Run r;
  if (status && WIFEXITED(*status)) {
    r.exit_code = WEXITSTATUS(*status);
  }
  r.out = child.stdout_text();
  r.err = child.stderr_text();
  return r;
}

// What git says HEAD is, abbreviated as the build abbreviates it; nullopt
// outside a checkout or without git.
std::optional<std::string> checkout_commit() {
  const std::string source = ETCDMESOS_SOURCE_DIR;
  if (!std::filesystem::exists(source + "/.git")) {
    return std::nullopt;
  }
  const std::string command =
      "git -c safe.directory='*' -C '" + source + "' rev-parse --short=7 HEAD 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) {
    return std::nullopt;
  }
  std::array<char, 128> buffer{};
  std::string out;
  while (fgets(buffer.data(), static_cast<int>(buffer.size()), pipe.get()) != nullptr) {
    out += buffer.data();
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) {
    out.pop_back();
  }
  if (out.empty()) {
    return std::nullopt;
  }
  return out;
}

TEST(Version, IsTheProjectVersionOfCMakeAndTheCommitOfTheCheckout) {
  EXPECT_EQ(project_version(), ETCDMESOS_EXPECTED_VERSION);
  if (auto commit = checkout_commit()) {
    EXPECT_EQ(git_commit(), *commit)
        << "this test binary was built at another commit than the checkout's: build again";
  } else {
    EXPECT_EQ(git_commit(), "unknown");
  }
  EXPECT_EQ(version_line("etcd-mesos-scheduler"), "etcd-mesos-scheduler " +
                                                      std::string(ETCDMESOS_EXPECTED_VERSION) +
                                                      " (git " + std::string(git_commit()) + ")");
}

TEST(Version, EveryProgramPrintsItAndExitsZero) {
  for (const std::string program :
       {"etcd-mesos-scheduler", "etcd-mesos-executor", "etcd-mesos-proxy", "mesos-devcluster"}) {
    for (const std::string flag : {"--version", "-version"}) {
      auto r = run(program, {flag});
      EXPECT_EQ(r.exit_code, 0) << program << " " << flag << ": " << r.err;
      EXPECT_EQ(r.out, version_line(program) + "\n") << program << " " << flag;
    }
  }
}

TEST(Version, TheHelpOfEveryProgramListsTheFlag) {
  for (const std::string program :
       {"etcd-mesos-scheduler", "etcd-mesos-executor", "etcd-mesos-proxy", "mesos-devcluster"}) {
    auto r = run(program, {"--help"});
    EXPECT_EQ(r.exit_code, 0) << program;
    EXPECT_NE(r.out.find("--version"), std::string::npos) << program << ": " << r.out;
  }
}

TEST(Version, IsNotTakenWhereAnotherFlagIsBad) {
  // --version skips validation, not parsing: an unknown flag is still an error.
  auto r = run("etcd-mesos-scheduler", {"--version", "--no-such-flag"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("no-such-flag"), std::string::npos) << r.err;
}

TEST(Version, SkipsTheValidationOfTheOtherFlags) {
  std::vector<const char*> args{"etcd-mesos-scheduler", "--cluster-size=0", "--version"};
  auto o = parse_options(static_cast<int>(args.size()), args.data());
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_TRUE(o->show_version);
}

TEST(Version, IsTheSchedulersFirstLogLine) {
  // A scheduler that cannot start (no etcd to serve) still logs its version
  // first, then why it stops.
  auto r = run("etcd-mesos-scheduler",
               {"--etcd-bin=/nonexistent/etcd", "--admin-port=0", "--log-level=info"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const auto first_line = r.err.substr(0, r.err.find('\n'));
  EXPECT_NE(first_line.find(version_line("etcd-mesos-scheduler") + " starting"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("/nonexistent/etcd"), std::string::npos) << r.err;
}

TEST(Version, HealthNamesTheSchedulersVersionAndCommit) {
  AdminSnapshot snapshot;
  snapshot.version = "0.1.0";
  snapshot.git_commit = "12d0196";
  for (bool checked : {false, true}) {
    if (checked) {
      snapshot.health = core::HealthResult{};
    }
    const auto doc = boost::json::parse(health_json(snapshot)).as_object();
    const auto& sched = doc.at("scheduler").as_object();
    EXPECT_EQ(sched.at("version").as_string(), "0.1.0");
    EXPECT_EQ(sched.at("git_commit").as_string(), "12d0196");
    EXPECT_TRUE(sched.contains("plan")) << "existing fields stay";
  }
}

}  // namespace
}  // namespace etcdmesos::scheduler
