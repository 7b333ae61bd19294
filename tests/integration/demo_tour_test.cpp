// End to end: `scripts/demo --tour` as a user runs it, non-interactively,
// on this build tree's programs (ETCDMESOS_DEMO_BUILD), with ports from the
// OS, an agent network of its own and a temporary work directory. The tour
// kills an etcd, a member's task, an agent, the leading scheduler and a
// majority, and must report each one healed and the key written at its start
// read back, exit 0, and leave no process behind.
#include "support/processes.hpp"
#include "support/stack.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace etcdmesos::testing {
namespace {

using namespace std::chrono_literals;

// `n` different ports from the OS.
std::vector<uint16_t> distinct_ports(std::size_t n) {
  std::set<uint16_t> seen;
  std::vector<uint16_t> out;
  while (out.size() < n) {
    const uint16_t p = free_port();
    if (seen.insert(p).second) {
      out.push_back(p);
    }
  }
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) {
      out.push_back(line);
    }
  }
  return out;
}

TEST(DemoTour, EveryFaultHealsAndTheKeyWrittenFirstReadsBack) {
  if (StackOptions::use_real_mesos()) {
    GTEST_SKIP() << "the tour stops agents through the dev cluster's /control API";
  }
  AgentNetworkLease network;
  TempDir dir("etcd-mesos-demo-tour");
  const auto ports = distinct_ports(4);
  const std::string build_dir = std::filesystem::path(ETCDMESOS_BIN_DIR).parent_path().string();
  const std::map<std::string, std::string> env{
      {"ETCDMESOS_DEMO_BUILD", build_dir},
      {"ETCDMESOS_DEMO_DIR", dir.path().string()},
      {"ETCDMESOS_DEMO_ZK_PORT", std::to_string(ports[0])},
      {"ETCDMESOS_DEMO_MASTER_PORT", std::to_string(ports[1])},
      {"ETCDMESOS_DEMO_ADMIN_PORTS", std::to_string(ports[2]) + "," + std::to_string(ports[3])},
      {"ETCDMESOS_DEMO_AGENT_IP", network.first_ip()},
  };
  const auto started = std::chrono::steady_clock::now();
  ChildProcess demo({"/bin/bash", std::string(ETCDMESOS_SOURCE_DIR) + "/scripts/demo", "--tour"},
                    dir.path() / "demo-output", env);
  const auto status = demo.wait(8min);
  const std::string out = demo.stdout_text() + "\n--- stderr ---\n" + demo.stderr_text();
  ASSERT_TRUE(status) << "the tour did not end within 8 minutes\n" << out;
  const auto took =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started);
  std::cout << "the tour took " << took.count() << " s\n";
  ASSERT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << "status " << *status << "\n"
                                                               << out;

  // Each fault is narrated, then healed, in order.
  const auto lines = lines_of(demo.stdout_text());
  const std::vector<std::string> healed{"after killing the etcd process of",
                                        "after killing the task of", "after stopping the agent of",
                                        "after killing the leading scheduler",
                                        "after killing a majority"};
  std::size_t next = 0;
  for (const auto& line : lines) {
    if (next < healed.size() && line.starts_with("tour: whole again ") &&
        line.find(healed[next]) != std::string::npos) {
      ++next;
    }
  }
  EXPECT_EQ(next, healed.size()) << out;
  ASSERT_GE(lines.size(), 3u) << out;
  // The last lines: the key read back, every fault healed, the stack stopped.
  std::vector<std::string> tail(lines.end() - 3, lines.end());
  EXPECT_TRUE(tail[0].starts_with("tour: demo-key reads back: written-before-the-faults-")) << out;
  EXPECT_EQ(tail[1], "tour: every fault healed: 5 of 5") << out;
  EXPECT_NE(tail[2].find("stopping"), std::string::npos) << out;

  // Torn down by PID: nothing runs from the demo's work directory (etcd names
  // its path; executors run with their sandbox as working directory).
  const std::string work = dir.path().string();
  for (const auto& p : running_processes()) {
    std::error_code ec;
    const auto cwd = std::filesystem::read_symlink("/proc/" + std::to_string(p.pid) + "/cwd", ec);
    EXPECT_TRUE(p.cmdline.find(work) == std::string::npos &&
                (ec || !cwd.string().starts_with(work)))
        << "left running: " << p.pid << " " << p.cmdline;
  }
}

}  // namespace
}  // namespace etcdmesos::testing
