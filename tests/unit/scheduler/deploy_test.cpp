// The scheduler on Mesos itself (issue 15 item 4): deploy/marathon.json and
// deploy/mesos-execute.sh say what docs/deploy.md says they do, and every
// flag they give the scheduler is one it has.
#include "scheduler/options.hpp"
#include "support/processes.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <sys/wait.h>
#include <regex>
#include <set>

namespace etcdmesos::scheduler {
namespace {

namespace json = boost::json;
using etcdmesos::testing::ChildProcess;
using etcdmesos::testing::read_file;
using etcdmesos::testing::TempDir;
using namespace std::chrono_literals;

const std::string kSource = ETCDMESOS_SOURCE_DIR;

// Every "-name=" a command line gives (flags only: "-x=" after a space).
std::set<std::string> flags_in(const std::string& command) {
  std::set<std::string> flags;
  const std::regex flag(R"((^|\s)-([a-z][a-z-]+)=)");
  for (auto it = std::sregex_iterator(command.begin(), command.end(), flag);
       it != std::sregex_iterator(); ++it) {
    flags.insert((*it)[2].str());
  }
  return flags;
}

void expect_scheduler_flags(const std::string& command) {
  const auto flags = flags_in(command);
  for (const std::string needed :
       {"master", "zk-framework-persist", "address", "admin-port", "artifact-port",
        "admin-secret-file", "etcd-bin", "etcdctl-bin", "cluster-size"}) {
    EXPECT_TRUE(flags.count(needed)) << "no -" << needed << "= in " << command;
  }
  const auto help = help_text();
  for (const auto& f : flags) {
    EXPECT_NE(help.find("--" + f + " "), std::string::npos) << "the scheduler has no --" << f;
  }
}

TEST(Deploy, MarathonAppRunsTwoPersistingSchedulersWithAHealthCheckOnHealthz) {
  json::error_code ec;
  const auto parsed = json::parse(read_file(kSource + "/deploy/marathon.json"), ec);
  ASSERT_FALSE(ec) << "deploy/marathon.json: " << ec.message();
  const auto& app = parsed.as_object();
  for (const char* key : {"id", "instances", "cpus", "mem", "cmd", "env", "portDefinitions",
                          "healthChecks", "fetch", "constraints", "upgradeStrategy"}) {
    EXPECT_TRUE(app.contains(key)) << key;
  }
  EXPECT_EQ(app.at("instances").as_int64(), 2) << "a leader and a standby";
  EXPECT_EQ(json::serialize(app.at("constraints")), R"([["hostname","UNIQUE"]])");

  const std::string cmd(app.at("cmd").as_string());
  expect_scheduler_flags(cmd);
  EXPECT_NE(cmd.find(R"(-admin-port="$PORT0")"), std::string::npos) << cmd;
  EXPECT_NE(cmd.find(R"(-artifact-port="$PORT1")"), std::string::npos) << cmd;
  EXPECT_NE(cmd.find(R"(-zk-framework-persist="$ETCD_MESOS_ZK_PERSIST")"), std::string::npos);
  // Every variable the command reads is one the app sets, or Marathon's/Mesos'.
  const auto& env = app.at("env").as_object();
  const std::regex variable(R"(\$\{?([A-Z][A-Z0-9_]*))");
  for (auto it = std::sregex_iterator(cmd.begin(), cmd.end(), variable);
       it != std::sregex_iterator(); ++it) {
    const auto name = (*it)[1].str();
    if (name != "HOST" && name != "PORT0" && name != "PORT1" && name != "MESOS_SANDBOX") {
      EXPECT_TRUE(env.contains(name)) << "cmd reads $" << name << ", which env does not set";
    }
  }
  EXPECT_TRUE(env.contains("ETCD_MESOS_ADMIN_SECRET"));

  const auto& ports = app.at("portDefinitions").as_array();
  ASSERT_EQ(ports.size(), 2u);
  EXPECT_EQ(ports[0].at("name").as_string(), "admin");
  EXPECT_EQ(ports[1].at("name").as_string(), "artifacts");

  const auto& checks = app.at("healthChecks").as_array();
  ASSERT_EQ(checks.size(), 1u);
  const auto& check = checks[0].as_object();
  EXPECT_EQ(check.at("protocol").as_string(), "COMMAND");
  const std::string probe(check.at("command").at("value").as_string());
  EXPECT_NE(probe.find("http://$ip:$PORT0/healthz"), std::string::npos) << probe;
  // The check asks the address the scheduler listens on, found as the
  // command finds it.
  const std::string find_address = cmd.substr(0, cmd.find("umask"));
  const auto ip_at = find_address.find("ip=$(");
  ASSERT_NE(ip_at, std::string::npos) << cmd;
  EXPECT_EQ(probe.rfind(find_address.substr(ip_at), 0), 0u) << probe;
  EXPECT_GT(check.at("maxConsecutiveFailures").as_int64(), 0);

  // The package the app fetches is this version's.
  const auto& fetch = app.at("fetch").as_array();
  ASSERT_EQ(fetch.size(), 3u);
  EXPECT_NE(std::string(fetch[0].at("uri").as_string())
                .find("etcd-mesos_" + std::string(ETCDMESOS_EXPECTED_VERSION) + "_amd64.deb"),
            std::string::npos);
  EXPECT_NE(std::string(fetch[1].at("uri").as_string()).find("etcd-server_"), std::string::npos);
  EXPECT_NE(std::string(fetch[2].at("uri").as_string()).find("etcd-client_"), std::string::npos);
}

struct Run {
  int exit_code = -1;
  std::string out;
  std::string err;
};

Run run_recipe(std::map<std::string, std::string> env) {
  TempDir logs("mesos-execute-recipe");
  ChildProcess child({"/bin/bash", kSource + "/deploy/mesos-execute.sh", "--print"}, logs.path(),
                     std::move(env));
  auto status = child.wait(20s);
  Run r;
  if (status && WIFEXITED(*status)) {
    r.exit_code = WEXITSTATUS(*status);
  }
  r.out = child.stdout_text();
  r.err = child.stderr_text();
  return r;
}

TEST(Deploy, MesosExecuteRecipeMakesATaskWithItsPortsAndTheSchedulersFlags) {
  auto r = run_recipe({{"MESOS_MASTER", "zk://10.0.0.1:2181/mesos"},
                       {"ZK", "10.0.0.1:2181"},
                       {"ADMIN_SECRET", R"(s3"cr\et)"},
                       {"INSTANCE", "b"},
                       {"DEB_URIS", "http://repo/etcd-mesos.deb http://repo/etcd-server.deb"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json::error_code ec;
  auto parsed = json::parse(r.out, ec);
  ASSERT_FALSE(ec) << r.out;
  const auto& task = parsed.as_object();
  EXPECT_EQ(task.at("task_id").at("value").as_string(), "etcd-mesos-scheduler-b");
  const auto& resources = task.at("resources").as_array();
  ASSERT_EQ(resources.size(), 3u);
  EXPECT_EQ(json::serialize(resources[2].at("ranges")),
            R"({"range":[{"begin":31510,"end":31510},{"begin":31511,"end":31511}]})");
  const auto& command = task.at("command").as_object();
  const std::string value(command.at("value").as_string());
  expect_scheduler_flags(value);
  EXPECT_NE(value.find("-admin-port=31510"), std::string::npos) << value;
  EXPECT_NE(value.find("-artifact-port=31511"), std::string::npos) << value;
  EXPECT_NE(value.find("-zk-framework-persist='zk://10.0.0.1:2181/etcd-mesos'"), std::string::npos)
      << value;
  EXPECT_NE(value.find("while true"), std::string::npos) << "restarted when it exits";
  EXPECT_EQ(command.at("uris").as_array().size(), 2u);
  const auto& variables = command.at("environment").at("variables").as_array();
  ASSERT_EQ(variables.size(), 1u);
  EXPECT_EQ(variables[0].at("value").as_string(), R"(s3"cr\et)") << "escaped, read back whole";
}

TEST(Deploy, MesosExecuteRecipeRefusesMissingSettings) {
  auto r = run_recipe({{"ZK", "10.0.0.1:2181"}, {"ADMIN_SECRET", "s"}});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("MESOS_MASTER"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

}  // namespace
}  // namespace etcdmesos::scheduler
