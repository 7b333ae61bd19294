// End to end: real ZooKeeper, the dev cluster, the scheduler, the executor and
// real etcd. The scheduler must bring up a healthy 3-member cluster that
// serves reads and writes, and the master must show three running tasks.
#include "support/stack.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <sys/wait.h>
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

}  // namespace
}  // namespace etcdmesos::testing
