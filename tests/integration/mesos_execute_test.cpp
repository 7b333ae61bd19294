// deploy/mesos-execute.sh on a real Apache Mesos (issue 15 item 4): the
// scheduler runs as a Mesos task that Mesos' own mesos-execute launches, from
// the package made of this build tree (fetched by the agent from a file://
// URI and unpacked in the sandbox), listens on the agent host's address, and
// brings up a healthy 3-member cluster on the same agents. Runs only on the
// real Mesos (integration-real.MesosExecuteRecipe.*): mesos-execute speaks
// the Mesos protobuf API, which the dev cluster does not.
#include "support/processes.hpp"
#include "support/real_mesos.hpp"
#include "support/stack.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <sys/wait.h>
#include <array>
#include <cstdio>
#include <memory>

namespace etcdmesos::testing {
namespace {

using namespace std::chrono_literals;

// The first address of this host, as the recipe's task finds it.
std::string host_address() {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen("hostname -I", "r"), pclose);
  std::array<char, 256> buffer{};
  std::string out;
  while (pipe && fgets(buffer.data(), static_cast<int>(buffer.size()), pipe.get()) != nullptr) {
    out += buffer.data();
  }
  return out.substr(0, out.find_first_of(" \n"));
}

TEST(MesosExecuteRecipe, RunsTheSchedulerAsATaskThatBringsUpAHealthyCluster) {
  if (!StackOptions::use_real_mesos()) {
    GTEST_SKIP() << "needs a real Mesos (ETCDMESOS_MESOS=real)";
  }
  const auto home = mesos_home();
  ASSERT_TRUE(home);
  const auto address = host_address();
  if (address.empty()) {
    GTEST_SKIP() << "this host has no address but loopback ones (hostname -I), which the "
                    "recipe's scheduler listens on";
  }

  StackOptions options;
  options.start_scheduler = false;
  LocalStack stack(options);
  const auto work = stack.work_dir() / "recipe";
  std::filesystem::create_directories(work / "package");

  const std::string source = ETCDMESOS_SOURCE_DIR;
  const std::string tree = std::filesystem::path(ETCDMESOS_BIN_DIR).parent_path().string();
  ChildProcess package(
      {source + "/scripts/package", "--from", tree, "--out", (work / "package").string()},
      work / "package");
  // Stripping and packaging the instrumented programs took more than 180 s
  // once under a loaded CI (the quick start test packages at the same time).
  auto packaged = package.wait(420s);
  ASSERT_TRUE(packaged && WIFEXITED(*packaged) && WEXITSTATUS(*packaged) == 0)
      << package.stderr_text();
  auto deb = package.stdout_text();
  deb = deb.substr(0, deb.find('\n'));
  ASSERT_TRUE(std::filesystem::exists(deb)) << deb;

  // Agent 0 offers ports 31000-31099 (support/real_mesos.hpp).
  const uint16_t admin_port = 31090;
  ChildProcess recipe({"/bin/bash", source + "/deploy/mesos-execute.sh"}, work,
                      {{"MESOS_MASTER", stack.zookeeper().url("/mesos")},
                       {"ZK", stack.zookeeper().connect_string()},
                       {"ADMIN_SECRET", "s3cret"},
                       {"INSTANCE", "a"},
                       {"ADMIN_PORT", std::to_string(admin_port)},
                       {"ARTIFACT_PORT", std::to_string(admin_port + 1)},
                       {"DEB_URIS", "file://" + deb},
                       {"MESOS_EXECUTE", (*home / "bin" / "mesos-execute").string()}});

  std::string members;
  const bool healthy = wait_until(
      [&] {
        if (!recipe.running()) {
          return true;  // mesos-execute gave up: nothing will come
        }
        auto healthz = http_call("GET", address, admin_port, "/healthz", "", 2s);
        if (!healthz || healthz->status != 200) {
          return false;
        }
        auto listed = http_call("GET", address, admin_port, "/members", "", 2s);
        members = listed ? listed->body : "";
        return true;
      },
      240s);
  ASSERT_TRUE(healthy && recipe.running()) << "mesos-execute:\n"
                                           << recipe.stdout_text() << recipe.stderr_text() << "\n"
                                           << stack.logs();
  boost::json::error_code ec;
  auto parsed = boost::json::parse(members, ec);
  ASSERT_FALSE(ec) << members;
  EXPECT_EQ(parsed.as_array().size(), 3u) << members;
  recipe.stop(10s);
}

}  // namespace
}  // namespace etcdmesos::testing
