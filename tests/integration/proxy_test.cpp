// etcd-mesos-proxy end to end: real ZooKeeper, the dev cluster, the
// scheduler, real etcd members, and the proxy running `etcd gateway`.
// - a running 3-member cluster is served to etcdctl (gRPC) and to the v3
//   JSON API through the proxy, found through the master or the scheduler;
// - after a member's host is lost and the scheduler replaced the member, the
//   same proxy process serves the new membership within 10 s;
// - a proxy started before anything exists (no master, no framework, no
//   member) says so, keeps retrying, and serves once the cluster is up.
#include "support/member_checks.hpp"
#include "support/stack.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <sys/wait.h>
#include <unistd.h>
#include <csignal>
#include <fstream>
#include <set>

namespace etcdmesos::testing {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

std::string host_port_of(const std::string& url) {
  return url.substr(url.find("//") + 2);
}

// etcd-mesos-proxy listening on a free loopback port, with a data directory
// whose endpoints.json shows what the gateway was last pointed at.
class Proxy {
 public:
  Proxy(const std::filesystem::path& dir, std::vector<std::string> source_args)
      : dir_(dir), port_(free_port()) {
    std::vector<std::string> argv{project_binary("etcd-mesos-proxy"),
                                  "-listen-client-urls=http://127.0.0.1:" + std::to_string(port_),
                                  "-poll-interval=1",
                                  "-request-timeout=3",
                                  "-gateway-retry-delay=0.5",
                                  "-data-dir=" + (dir / "data").string(),
                                  "-log-level=debug"};
    argv.insert(argv.end(), source_args.begin(), source_args.end());
    process_ = std::make_unique<ChildProcess>(argv, dir / "log");
  }

  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
  uint16_t port() const { return port_; }
  ChildProcess& process() { return *process_; }
  std::string log() const { return process_->stderr_text() + process_->stdout_text(); }

  // The endpoints in <data-dir>/endpoints.json (empty when none yet).
  std::set<std::string> endpoints() const {
    boost::system::error_code ec;
    auto parsed = json::parse(read_file(dir_ / "data" / "endpoints.json"), ec);
    std::set<std::string> out;
    if (ec || !parsed.is_object() || !parsed.as_object().contains("endpoints")) {
      return out;
    }
    for (const auto& e : parsed.at("endpoints").as_array()) {
      out.insert(std::string(e.as_string()));
    }
    return out;
  }

 private:
  std::filesystem::path dir_;
  uint16_t port_;
  std::unique_ptr<ChildProcess> process_;
};

// A put then a get of `value` through etcdctl, and a JSON range of the same key.
::testing::AssertionResult serves(const std::filesystem::path& dir, Proxy& proxy,
                                  const std::string& value) {
  auto put = etcdctl(dir, proxy.endpoint(), {"put", "proxied", value});
  if (!put.ok) {
    return ::testing::AssertionFailure() << "etcdctl put: " << put.output;
  }
  auto get = etcdctl(dir, proxy.endpoint(), {"get", "proxied"});
  if (!get.ok || get.output.find("proxied\n" + value) == std::string::npos) {
    return ::testing::AssertionFailure() << "etcdctl get: " << get.output;
  }
  // base64("proxied") = cHJveGllZA==
  auto range =
      http_call("POST", "127.0.0.1", proxy.port(), "/v3/kv/range", R"({"key":"cHJveGllZA=="})", 5s);
  if (!range || range->status != 200) {
    return ::testing::AssertionFailure() << "JSON range: " << (range ? range->body : "no answer");
  }
  boost::system::error_code ec;
  auto parsed = json::parse(range->body, ec);
  if (ec || !parsed.is_object() || !parsed.as_object().contains("kvs")) {
    return ::testing::AssertionFailure() << "JSON range body: " << range->body;
  }
  return ::testing::AssertionSuccess();
}

bool healthy_with_running(LocalStack& stack, std::size_t size) {
  auto members = stack.members();
  if (members.size() != size) {
    return false;
  }
  for (const auto& m : members) {
    if (m.at("state").as_string() != "TASK_RUNNING") {
      return false;
    }
  }
  auto stats = stack.admin("/stats");
  if (!stats) {
    return false;
  }
  boost::system::error_code ec;
  auto parsed = json::parse(stats->body, ec);
  return !ec && parsed.is_object() && parsed.as_object().contains("healthy") &&
         parsed.at("healthy").as_int64() == 1;
}

std::set<std::string> client_endpoints(const json::array& members) {
  std::set<std::string> out;
  for (const auto& m : members) {
    out.insert(host_port_of(std::string(m.at("client_url").as_string())));
  }
  return out;
}

// A proxy following `stack` through the master, once it points at exactly
// `members` and has served a put of `value` (`out` stays empty otherwise).
void start_serving_proxy(LocalStack& stack, const json::array& members, const std::string& value,
                         std::unique_ptr<Proxy>& out) {
  auto proxy =
      std::make_unique<Proxy>(stack.work_dir() / "proxy",
                              std::vector<std::string>{"-master=" + stack.zookeeper().url("/mesos"),
                                                       "-framework-name=etcd"});
  ASSERT_TRUE(wait_until([&] { return proxy->endpoints() == client_endpoints(members); }, 20s))
      << proxy->log();
  ASSERT_TRUE(wait_until([&] { return serves(stack.work_dir(), *proxy, value); }, 20s))
      << proxy->log();
  out = std::move(proxy);
}

TEST(Proxy, ServesEtcdctlAndTheJsonApiOfARunningCluster) {
  LocalStack stack;
  ASSERT_TRUE(wait_until([&] { return healthy_with_running(stack, 3); }, 90s)) << stack.logs();
  const auto members = client_endpoints(stack.members());

  // Through the master, found in ZooKeeper.
  Proxy via_master(stack.work_dir() / "proxy-master",
                   {"-master=" + stack.zookeeper().url("/mesos"), "-framework-name=etcd"});
  ASSERT_TRUE(wait_until([&] { return via_master.endpoints() == members; }, 20s))
      << via_master.log();
  ASSERT_TRUE(wait_until([&] { return serves(stack.work_dir(), via_master, "one"); }, 20s))
      << via_master.log();

  // Through the scheduler's /members.
  Proxy via_scheduler(
      stack.work_dir() / "proxy-scheduler",
      {"-members-url=http://127.0.0.1:" + std::to_string(stack.admin_port()) + "/members"});
  ASSERT_TRUE(wait_until([&] { return via_scheduler.endpoints() == members; }, 20s))
      << via_scheduler.log();
  ASSERT_TRUE(wait_until([&] { return serves(stack.work_dir(), via_scheduler, "two"); }, 20s))
      << via_scheduler.log();
  // Both proxies reach the same cluster.
  auto get =
      etcdctl(stack.work_dir(), via_master.endpoint(), {"get", "proxied", "--print-value-only"});
  EXPECT_TRUE(get.ok && get.output.find("two") != std::string::npos) << get.output;
}

TEST(Proxy, FollowsAReplacedMemberWithoutRestarting) {
  StackOptions options;
  options.agents = 4;  // room for a replacement on another agent
  LocalStack stack(options);
  ASSERT_TRUE(wait_until([&] { return healthy_with_running(stack, 3); }, 90s)) << stack.logs();
  const auto before = stack.members();

  std::unique_ptr<Proxy> started;
  start_serving_proxy(stack, before, "before", started);
  ASSERT_TRUE(started);
  Proxy& proxy = *started;
  const pid_t proxy_pid = proxy.process().pid();

  // Lose the host of one member.
  const auto lost = before[0].as_object();
  const std::string lost_endpoint = host_port_of(std::string(lost.at("client_url").as_string()));
  ASSERT_TRUE(stack.stop_agent(std::string(lost.at("agent_id").as_string()))) << stack.logs();

  // The scheduler replaces it.
  std::set<std::string> names_before;
  for (const auto& m : before) {
    names_before.insert(std::string(m.at("name").as_string()));
  }
  auto replaced = [&] {
    if (!healthy_with_running(stack, 3)) {
      return false;
    }
    for (const auto& m : stack.members()) {
      if (!names_before.count(std::string(m.at("name").as_string()))) {
        return true;
      }
    }
    return false;
  };
  ASSERT_TRUE(wait_until(replaced, 120s)) << "the scheduler did not replace the lost member:\n"
                                          << stack.logs();
  const auto healthy_at = Clock::now();
  const auto after = client_endpoints(stack.members());
  ASSERT_FALSE(after.count(lost_endpoint));

  // Within 10 s the proxy points at exactly the new membership and serves.
  ASSERT_TRUE(wait_until([&] { return proxy.endpoints() == after; }, 10s)) << proxy.log();
  ASSERT_TRUE(wait_until([&] { return serves(stack.work_dir(), proxy, "after"); }, 10s))
      << proxy.log();
  EXPECT_LE(Clock::now() - healthy_at, 10s);
  EXPECT_TRUE(proxy.process().running());
  EXPECT_EQ(proxy.process().pid(), proxy_pid);
}

// Two of three members killed: the scheduler reseeds from the survivor and
// grows the cluster back; the same proxy process follows the new cluster and
// serves a key written before the loss.
TEST(Proxy, FollowsTheClusterThroughAReseed) {
  StackOptions options;
  options.agents = 3;
  options.scheduler_args = {"-etcd-restart-attempts=0", "-reseed-timeout=5"};
  LocalStack stack(options);
  ASSERT_TRUE(wait_until([&] { return healthy_with_running(stack, 3); }, 90s)) << stack.logs();
  const auto before = stack.members();

  std::unique_ptr<Proxy> started;
  start_serving_proxy(stack, before, "before-reseed", started);
  ASSERT_TRUE(started);
  Proxy& proxy = *started;
  const pid_t proxy_pid = proxy.process().pid();

  for (int i = 0; i < 2; ++i) {
    auto pid = etcd_pid(std::string(before[i].at("client_url").as_string()));
    ASSERT_TRUE(pid);
    ASSERT_EQ(::kill(*pid, SIGKILL), 0);
  }
  auto reseeded = [&] {
    auto stats = stack.stats();
    return stats.contains("cluster_reseeds") && stats.at("cluster_reseeds").as_int64() == 1 &&
           stats.at("reseeding").as_int64() == 0 && healthy_with_running(stack, 3);
  };
  ASSERT_TRUE(wait_until(reseeded, 150s)) << stack.logs();
  const auto healthy_at = Clock::now();
  // A new cluster: the seed and two new members (their addresses may be the
  // old ones again, on the same agents and ports).
  const auto now_members = stack.members();
  std::set<std::string> old_names;
  for (const auto& m : before) {
    old_names.insert(std::string(m.at("name").as_string()));
  }
  int new_members = 0;
  for (const auto& m : now_members) {
    new_members += old_names.count(std::string(m.at("name").as_string())) ? 0 : 1;
  }
  ASSERT_EQ(new_members, 2) << stack.logs();
  const auto after = client_endpoints(now_members);

  ASSERT_TRUE(wait_until([&] { return proxy.endpoints() == after; }, 10s)) << proxy.log();
  auto get = [&] {
    auto r = etcdctl(stack.work_dir(), proxy.endpoint(), {"get", "proxied", "--print-value-only"});
    return r.ok && r.output.find("before-reseed") != std::string::npos;
  };
  ASSERT_TRUE(wait_until(get, 10s)) << proxy.log();
  EXPECT_LE(Clock::now() - healthy_at, 10s);
  EXPECT_TRUE(serves(stack.work_dir(), proxy, "after-reseed")) << proxy.log();
  EXPECT_EQ(proxy.process().pid(), proxy_pid);
  EXPECT_TRUE(proxy.process().running());
}

// The pieces of a LocalStack started one at a time, so that the proxy can be
// running before any of them exists.
TEST(Proxy, StartedBeforeTheClusterExistsItWaitsAndThenServes) {
  TempDir dir("etcd-mesos-proxy-early");
  ZooKeeperServer zookeeper;
  Proxy proxy(dir.path() / "proxy", {"-master=" + zookeeper.url("/mesos"), "-framework-name=etcd"});

  // No master registered yet.
  ASSERT_TRUE(wait_until(
      [&] { return proxy.log().find("no leading Mesos master") != std::string::npos; }, 20s))
      << proxy.log();

  // A master, but no framework yet, its agents on a leased network.
  const AgentNetworkLease network;
  const std::string& agent_ip = network.first_ip();
  auto endpoint_file = dir.path() / "master.endpoint";
  ChildProcess cluster({project_binary("mesos-devcluster"), "--master-ip", "127.0.0.1", "--port",
                        "0", "--endpoint-file", endpoint_file.string(), "--agents", "3",
                        "--first-agent-ip", agent_ip, "--zk", zookeeper.url("/mesos"), "--work-dir",
                        (dir.path() / "cluster").string(), "--heartbeat-interval", "2"},
                       dir.path() / "cluster-log");
  ASSERT_TRUE(
      wait_until([&] { return proxy.log().find("no framework 'etcd'") != std::string::npos; }, 30s))
      << proxy.log() << cluster.stderr_text();
  EXPECT_TRUE(proxy.process().running());
  EXPECT_TRUE(proxy.endpoints().empty());

  // The scheduler: the cluster comes up and the proxy serves it.
  const uint16_t admin_port = free_port();
  ChildProcess scheduler(
      {project_binary("etcd-mesos-scheduler"), "-master=" + zookeeper.url("/mesos"),
       "-cluster-size=3", "-admin-port=" + std::to_string(admin_port), "-address=127.0.0.1",
       "-executor-bin=" + project_binary("etcd-mesos-executor"), "-health-check-interval=1",
       "-mesos-offer-refuse-seconds=1"},
      dir.path() / "scheduler-log");
  ASSERT_TRUE(wait_until([&] { return proxy.endpoints().size() == 3; }, 90s))
      << proxy.log() << scheduler.stderr_text();
  ASSERT_TRUE(wait_until([&] { return serves(dir.path(), proxy, "late"); }, 30s))
      << proxy.log() << scheduler.stderr_text();
  EXPECT_TRUE(proxy.process().running());
}

}  // namespace
}  // namespace etcdmesos::testing
