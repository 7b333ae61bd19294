// docs/quickstart.md, run (issue 15 item 5): every fenced block of the page
// is a `sh` block, and every one runs, in order, in one bash against the
// local stack (real ZooKeeper, the dev cluster, real etcd members). The
// scheduler is the one the page installs: the package made from this build
// tree, installed by dpkg into a throwaway root. What stands in for the
// cluster the page is written for:
//   - the first block (the page's example ZK= and IP=) is replaced by the
//     stack's ZooKeeper and 127.0.0.1;
//   - `scripts/package` packages this tree instead of making a release build;
//   - `apt install X.deb` checks that every dependency the package declares
//     is installed on this machine, then installs it with dpkg into the root
//     (no root shell: the maintainer scripts see DPKG_ROOT);
//   - /etc/default/etcd-mesos is the root's; `sudo` runs its command as is;
//   - `systemctl enable --now etcd-mesos-scheduler` does what the installed
//     unit says (EnvironmentFile, then ExecStart with the flags split), in the
//     background; `systemctl disable --now etcd` has nothing to stop here;
//   - the admin port 23400 and the proxy's 2379 become free ports.
// Each replacement must apply, so the page cannot drift away from the test
// unnoticed. The documented outcomes are checked on the output: the version,
// three healthy endpoints, the key written and read back through the proxy.
#include "common/version.hpp"
#include "support/processes.hpp"
#include "support/stack.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <fstream>
#include <regex>
#include <sstream>

namespace etcdmesos::testing {
namespace {

using namespace std::chrono_literals;

struct Block {
  std::string info;  // the fence's info string ("sh")
  std::string text;
};

std::vector<Block> fenced_blocks(const std::string& markdown) {
  std::vector<Block> blocks;
  std::istringstream in(markdown);
  std::string line;
  std::optional<Block> open;
  while (std::getline(in, line)) {
    if (line.rfind("```", 0) == 0) {
      if (open) {
        blocks.push_back(*open);
        open.reset();
      } else {
        open = Block{line.substr(3), ""};
      }
    } else if (open) {
      open->text += line + "\n";
    }
  }
  EXPECT_FALSE(open) << "an unclosed fence in docs/quickstart.md";
  return blocks;
}

// Replaces every `from` in `text`; fails the test when there is none.
std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  std::size_t count = 0;
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
    ++count;
  }
  EXPECT_GT(count, 0u) << "docs/quickstart.md no longer has '" << from
                       << "': update the test's replacements";
  return text;
}

TEST(Quickstart, EveryCommandWorks) {
  StackOptions options;
  options.start_scheduler = false;
  LocalStack stack(options);
  const auto work = stack.work_dir() / "quickstart";
  std::filesystem::create_directories(work);

  const std::string source = ETCDMESOS_SOURCE_DIR;
  const std::string tree = std::filesystem::path(ETCDMESOS_BIN_DIR).parent_path().string();
  const auto blocks = fenced_blocks(read_file(source + "/docs/quickstart.md"));
  ASSERT_GE(blocks.size(), 6u);

  const auto admin_port = std::to_string(free_port());
  const auto proxy_port = std::to_string(free_port());
  // What stands in for sudo, apt and systemctl: quickstart_prelude.sh.
  std::string script =
      "cd '" + work.string() + "'\n. '" + source + "/tests/integration/quickstart_prelude.sh'\n";
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    ASSERT_EQ(blocks[i].info, "sh")
        << "block " << i + 1 << ": every block of the quick start is a command the test runs";
    std::string text = blocks[i].text;
    if (i == 0) {
      ASSERT_NE(text.find("ZK="), std::string::npos) << text;
      ASSERT_NE(text.find("IP="), std::string::npos) << text;
      text = "ZK=" + stack.zookeeper().connect_string() + "\nIP=127.0.0.1\n";
    }
    script += "echo '@@ block " + std::to_string(i + 1) + "'\n" + text + "echo '@@ block " +
              std::to_string(i + 1) + " done'\n";
  }
  script =
      replace_all(script, "\nscripts/package\n",
                  "\n'" + source + "/scripts/package' --from '" + tree + "' --out build/package\n");
  script = replace_all(script, "/etc/default/etcd-mesos", "$root/etc/default/etcd-mesos");
  script = replace_all(script, "127.0.0.1:23400", "127.0.0.1:" + admin_port);
  script = replace_all(script, "-admin-port=23400", "-admin-port=" + admin_port);
  script = replace_all(script, "127.0.0.1:2379", "127.0.0.1:" + proxy_port);
  { std::ofstream(work / "quickstart.sh") << script; }

  ChildProcess run({"/bin/bash", (work / "quickstart.sh").string()}, work, {});
  // Packaging the tree, bring-up and the proxy, each bounded by the page's
  // own timeouts.
  auto status = run.wait(480s);
  if (!status) {
    run.stop();
  }
  const auto out = run.stdout_text();
  const auto err = run.stderr_text();
  const auto context = "stdout:\n" + out + "\nstderr:\n" + err + "\nscheduler:\n" +
                       read_file(work / "scheduler.log") + "\n" + stack.logs();
  ASSERT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << context;
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    EXPECT_NE(out.find("@@ block " + std::to_string(i + 1) + " done"), std::string::npos)
        << context;
  }
  // What the page says each step shows.
  EXPECT_NE(out.find(version_line("etcd-mesos-scheduler")), std::string::npos) << context;
  EXPECT_NE(out.find("\"version\":\"" + std::string(project_version()) + "\""), std::string::npos)
      << context;
  // etcdctl endpoint health: one line per endpoint (on stdout or stderr).
  const auto both = out + err;
  std::size_t healthy = 0;
  for (auto at = both.find("is healthy"); at != std::string::npos;
       at = both.find("is healthy", at + 1)) {
    ++healthy;
  }
  EXPECT_EQ(healthy, 3u) << context;
  EXPECT_NE(out.find("greeting\nhello\n"), std::string::npos) << context;
  const auto first_log_line = read_file(work / "scheduler.log").substr(0, 200);
  EXPECT_NE(first_log_line.find(version_line("etcd-mesos-scheduler") + " starting"),
            std::string::npos)
      << first_log_line;
}

}  // namespace
}  // namespace etcdmesos::testing
