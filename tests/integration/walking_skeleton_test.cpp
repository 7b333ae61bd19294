// End to end: real ZooKeeper, the dev cluster, the scheduler, the executor and
// real etcd. The scheduler must bring up a healthy 3-member cluster that
// serves reads and writes, and the master must show three running tasks.
#include "codec/mesos.hpp"
#include "support/stack.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <sys/wait.h>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

namespace etcdmesos::testing {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

std::pair<std::string, uint16_t> host_port(const std::string& url) {
  auto rest = url.substr(url.find("//") + 2);
  auto colon = rest.rfind(':');
  return {rest.substr(0, colon), static_cast<uint16_t>(std::stoi(rest.substr(colon + 1)))};
}

std::optional<HttpResult> etcd_post(const std::string& client_url, const std::string& target,
                                    const std::string& body) {
  auto [host, port] = host_port(client_url);
  return http_call("POST", host, port, target, body, 5s);
}

bool all_running(const json::array& members, std::size_t size) {
  if (members.size() != size)
    return false;
  for (const auto& m : members) {
    if (m.at("state").as_string() != "TASK_RUNNING")
      return false;
  }
  return true;
}

TEST(WalkingSkeleton, BringsUpAHealthyThreeMemberClusterThatServesReadsAndWrites) {
  LocalStack stack;

  bool healthy = wait_until(
      [&] {
        auto stats = stack.admin("/stats");
        return all_running(stack.members(), 3) && stats &&
               json::parse(stats->body).at("healthy").as_int64() == 1;
      },
      90s);
  ASSERT_TRUE(healthy) << stack.logs();
  auto members = stack.members();

  // Each member on its own agent, and etcdctl finds every one healthy.
  std::set<std::string> hosts;
  std::vector<std::string> urls;
  for (const auto& m : members) {
    hosts.insert(std::string(m.at("host").as_string()));
    urls.push_back(std::string(m.at("client_url").as_string()));
  }
  EXPECT_EQ(hosts.size(), 3u);
  for (const auto& url : urls) {
    ChildProcess etcdctl(
        {"/usr/bin/etcdctl", "--endpoints=" + url, "--dial-timeout=3s", "endpoint", "health"},
        stack.work_dir() / ("etcdctl-" + std::to_string(urls.size())));
    auto status = etcdctl.wait(20s);
    ASSERT_TRUE(status.has_value());
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
        << url << ": " << etcdctl.stdout_text() << etcdctl.stderr_text();
  }

  // etcd's own membership has exactly the three members.
  auto list = etcd_post(urls[0], "/v3/cluster/member/list", "{}");
  ASSERT_TRUE(list && list->status == 200);
  EXPECT_EQ(json::parse(list->body).at("members").as_array().size(), 3u);

  // A write through one member is readable through another.
  auto put = etcd_post(urls[0], "/v3/kv/put", R"({"key":"Zm9v","value":"YmFy"})");
  ASSERT_TRUE(put && put->status == 200) << (put ? put->body : "no answer");
  auto get = etcd_post(urls[2], "/v3/kv/range", R"({"key":"Zm9v"})");
  ASSERT_TRUE(get && get->status == 200);
  auto kvs = json::parse(get->body).at("kvs").as_array();
  ASSERT_EQ(kvs.size(), 1u);
  EXPECT_EQ(kvs[0].at("value").as_string(), "YmFy");

  // The master's /state shows our framework with three running tasks.
  auto state = stack.master("GET", "/state");
  ASSERT_TRUE(state && state->status == 200);
  auto frameworks = json::parse(state->body).at("frameworks").as_array();
  ASSERT_EQ(frameworks.size(), 1u);
  std::size_t running = 0;
  for (const auto& task : frameworks[0].at("tasks").as_array()) {
    running += task.at("state").as_string() == "TASK_RUNNING" ? 1 : 0;
  }
  EXPECT_EQ(running, 3u);

  // /healthz agrees with /stats.
  auto healthz = stack.admin("/healthz");
  ASSERT_TRUE(healthz);
  EXPECT_EQ(healthz->status, 200u);

  // The executor PIDs the dev cluster shows are the executors themselves:
  // the launch command execs the executor, so no shell stands in between
  // and a kill by that PID reaches the executor.
  if (!stack.real_mesos()) {
    auto agents = stack.master("GET", "/control/agents");
    ASSERT_TRUE(agents && agents->status == 200);
    std::size_t executors = 0;
    const auto parsed = json::parse(agents->body);
    for (const auto& agent : parsed.as_array()) {
      for (const auto& executor : agent.at("executors").as_array()) {
        const auto pid = executor.at("pid").to_number<int64_t>();
        std::ifstream cmdline("/proc/" + std::to_string(pid) + "/cmdline");
        std::string argv0;
        std::getline(cmdline, argv0, '\0');
        EXPECT_TRUE(argv0.ends_with("etcd-mesos-executor")) << pid << ": " << argv0;
        ++executors;
      }
    }
    EXPECT_EQ(executors, 3u);
  }
}

// Static bootstrap (issue 12): with no cluster yet, the three members are
// launched at once with one initial cluster naming all three (state new),
// and etcd forms the cluster without a single `member add`. On the dev
// cluster, and on a real Mesos with ETCDMESOS_MESOS=real.
TEST(WalkingSkeleton, ThreeMembersStartAtOnceWithOneInitialCluster) {
  LocalStack stack;
  ASSERT_TRUE(wait_until([&] { return stack.healthy_with(3); }, 90s)) << stack.logs();

  // The scheduler's effects: three launches into one new cluster.
  const std::string log = stack.scheduler_log();
  std::vector<std::string> launches;
  for (std::size_t at = log.find("effect: launch "); at != std::string::npos;
       at = log.find("effect: launch ", at + 1)) {
    launches.push_back(log.substr(at, log.find('\n', at) - at));
  }
  ASSERT_EQ(launches.size(), 3u) << log;
  std::set<std::string> initial_clusters;
  for (const auto& line : launches) {
    EXPECT_NE(line.find(" state=new "), std::string::npos) << line;
    const auto at = line.find("initial_cluster=");
    ASSERT_NE(at, std::string::npos) << line;
    initial_clusters.insert(line.substr(at));
  }
  ASSERT_EQ(initial_clusters.size(), 1u) << log;
  for (const char* name : {"etcd-1=", "etcd-2=", "etcd-3="}) {
    EXPECT_NE(initial_clusters.begin()->find(name), std::string::npos) << *initial_clusters.begin();
  }
  EXPECT_EQ(log.find("effect: add etcd member"), std::string::npos) << log;
  EXPECT_NE(log.find("members at once (static bootstrap)"), std::string::npos) << log;

  // etcd lists exactly the three, none added later, and the counters agree.
  auto members = stack.members();
  ASSERT_EQ(members.size(), 3u);
  auto list = etcd_post(std::string(members[0].at("client_url").as_string()),
                        "/v3/cluster/member/list", "{}");
  ASSERT_TRUE(list && list->status == 200);
  std::set<std::string> listed;
  const auto parsed = json::parse(list->body);
  for (const auto& m : parsed.at("members").as_array()) {
    listed.insert(std::string(m.at("name").as_string()));
  }
  EXPECT_EQ(listed, (std::set<std::string>{"etcd-1", "etcd-2", "etcd-3"}));
  auto stats = stack.stats();
  EXPECT_EQ(stats.at("launched_servers").as_int64(), 3);
  EXPECT_EQ(stats.at("failed_servers").as_int64(), 0);
}

// The command lines of the etcd processes under `dir` (their data
// directories are in sandboxes there), read from /proc.
std::vector<std::vector<std::string>> etcd_command_lines(const std::filesystem::path& dir) {
  std::vector<std::vector<std::string>> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const auto name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    std::vector<std::string> args;
    for (std::string arg; std::getline(in, arg, '\0');) {
      args.push_back(arg);
    }
    const bool ours = std::any_of(args.begin(), args.end(), [&](const std::string& a) {
      return a.starts_with("--data-dir=" + dir.string());
    });
    if (ours && !args.empty() && args[0].ends_with("etcd")) {
      found.push_back(args);
    }
  }
  return found;
}

// Issue 13: members compact their history and have a backend quota, so a
// member cannot fill its sandbox: past the quota etcd refuses writes and
// raises its NOSPACE alarm, and the scheduler recovers the space (compact,
// defragment each member, disarm) with no data lost.
TEST(WalkingSkeleton, AFullBackendIsRefusedThenRecoveredByTheScheduler) {
  StackOptions options;
  options.scheduler_args = {"-etcd-quota-backend-bytes=1048576",
                            "-etcd-auto-compaction-mode=revision",
                            "-etcd-auto-compaction-retention=100000"};
  LocalStack stack(options);
  ASSERT_TRUE(wait_until([&] { return stack.healthy_with(3); }, 90s)) << stack.logs();

  const auto lines = etcd_command_lines(stack.work_dir());
  ASSERT_EQ(lines.size(), 3u);
  for (const auto& args : lines) {
    for (const char* flag : {"--quota-backend-bytes=1048576", "--auto-compaction-mode=revision",
                             "--auto-compaction-retention=100000"}) {
      EXPECT_NE(std::find(args.begin(), args.end(), flag), args.end()) << flag;
    }
  }

  // One key overwritten with 100 KB values: its history fills the 1 MiB
  // backend (the auto-compaction keeps 100,000 revisions, so it does not
  // help), and etcd refuses the write that would exceed it.
  const std::string url(stack.members()[0].at("client_url").as_string());
  const std::string key = mesos::base64_encode("big");
  auto put_value = [&](int i) {
    const std::string value =
        mesos::base64_encode(std::to_string(i) + std::string(100 * 1024, 'v'));
    return etcd_post(url, "/v3/kv/put", R"({"key":")" + key + R"(","value":")" + value + "\"}");
  };
  int last_written = -1;
  std::optional<HttpResult> refused;
  for (int i = 0; i < 40 && !refused; ++i) {
    auto put = put_value(i);
    ASSERT_TRUE(put.has_value());
    if (put->status == 200) {
      last_written = i;
    } else {
      refused = put;
    }
  }
  ASSERT_TRUE(refused) << "4 MB written into a 1 MiB quota";
  EXPECT_NE(refused->body.find("database space exceeded"), std::string::npos) << refused->body;
  ASSERT_GE(last_written, 0);

  // The scheduler compacts, defragments and disarms: writes are accepted
  // again and the cluster is healthy.
  ASSERT_TRUE(wait_until(
      [&] {
        auto put = put_value(1000);
        return put && put->status == 200;
      },
      60s))
      << stack.scheduler_log();
  ASSERT_TRUE(wait_until([&] { return stack.healthy_with(3); }, 30s)) << stack.scheduler_log();
  auto alarms = etcd_post(url, "/v3/maintenance/alarm", R"({"action":"GET"})");
  ASSERT_TRUE(alarms && alarms->status == 200);
  EXPECT_EQ(alarms->body.find("NOSPACE"), std::string::npos) << alarms->body;
  // The value is large (etcd answers it chunked): read it with etcdctl.
  ChildProcess etcdctl({"/usr/bin/etcdctl", "--endpoints=" + url, "--dial-timeout=3s", "get", "big",
                        "--print-value-only"},
                       stack.work_dir() / "etcdctl-get");
  auto status = etcdctl.wait(20s);
  ASSERT_TRUE(status.has_value());
  ASSERT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << etcdctl.stderr_text();
  EXPECT_TRUE(etcdctl.stdout_text().starts_with("1000v")) << "the last write is there";

  const std::string log = stack.scheduler_log();
  for (const char* step : {"compact the history", "defragment etcd-1", "defragment etcd-2",
                           "defragment etcd-3", "disarm NOSPACE"}) {
    EXPECT_NE(log.find(step), std::string::npos) << step;
  }
}

}  // namespace
}  // namespace etcdmesos::testing
