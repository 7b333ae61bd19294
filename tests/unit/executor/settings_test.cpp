// The executor's view of its environment: Mesos durations, the MESOS_*
// variables the agent sets (reference mesos §15) and UPDATE uuids.
#include "io/mesos_executor_client.hpp"

#include <gtest/gtest.h>

#include <set>

namespace etcdmesos::io {
namespace {

using namespace std::chrono_literals;
using std::chrono::nanoseconds;

TEST(MesosDuration, ParsesEveryUnit) {
  EXPECT_EQ(parse_mesos_duration("15ns").value(), 15ns);
  EXPECT_EQ(parse_mesos_duration("7us").value(), 7us);
  EXPECT_EQ(parse_mesos_duration("100ms").value(), 100ms);
  EXPECT_EQ(parse_mesos_duration("2secs").value(), 2s);
  EXPECT_EQ(parse_mesos_duration("15mins").value(), 15min);
  EXPECT_EQ(parse_mesos_duration("3hrs").value(), 3h);
  EXPECT_EQ(parse_mesos_duration("1days").value(), 24h);
  EXPECT_EQ(parse_mesos_duration("2weeks").value(), 14 * 24h);
  EXPECT_EQ(parse_mesos_duration("0secs").value(), 0s);
}

TEST(MesosDuration, ParsesFractions) {
  EXPECT_EQ(parse_mesos_duration("1.5secs").value(), 1500ms);
  EXPECT_EQ(parse_mesos_duration("0.25mins").value(), 15s);
  EXPECT_EQ(parse_mesos_duration(".5ms").value(), 500us);
}

TEST(MesosDuration, RejectsGarbage) {
  for (const char* bad :
       {"", "secs", "15", "15 mins", "15min", "15minutes", "-1secs", "1..5secs", ".secs", "15mins ",
        " 15mins", "1e3ms", "abc", "15MINS", "9999999weeks", "99999999999999999999ns"}) {
    auto parsed = parse_mesos_duration(bad);
    EXPECT_FALSE(parsed) << "'" << bad << "' parsed as " << parsed->count() << " ns";
  }
}

TEST(MesosDuration, ErrorNamesTheText) {
  auto parsed = parse_mesos_duration("15minutes");
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message.find("15minutes"), std::string::npos);
}

std::map<std::string, std::string> agent_environment() {
  return {
      {"MESOS_AGENT_ENDPOINT", "10.0.0.23:5051"},
      {"MESOS_FRAMEWORK_ID", "fw-1"},
      {"MESOS_EXECUTOR_ID", "exec-1"},
      {"MESOS_SLAVE_ID", "agent-1"},
      {"MESOS_DIRECTORY", "/var/lib/mesos/slaves/a/frameworks/f/executors/e/runs/c"},
      {"MESOS_CHECKPOINT", "1"},
      {"MESOS_RECOVERY_TIMEOUT", "15mins"},
      {"MESOS_SUBSCRIPTION_BACKOFF_MAX", "2secs"},
      {"MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", "7secs"},
  };
}

TEST(ExecutorSettings, ReadsWhatTheAgentSets) {
  auto s = executor_settings_from(agent_environment()).value();
  EXPECT_EQ(s.agent.host, "10.0.0.23");
  EXPECT_EQ(s.agent.port, 5051);
  EXPECT_EQ(s.framework_id, "fw-1");
  EXPECT_EQ(s.executor_id, "exec-1");
  EXPECT_EQ(s.agent_id, "agent-1");
  EXPECT_TRUE(s.checkpoint);
  EXPECT_EQ(s.recovery_timeout, 15min);
  EXPECT_EQ(s.subscription_backoff_max, 2s);
  EXPECT_EQ(s.shutdown_grace_period, 7s);
  EXPECT_EQ(s.sandbox, "/var/lib/mesos/slaves/a/frameworks/f/executors/e/runs/c");
}

TEST(ExecutorSettings, SandboxPrefersMesosSandbox) {
  auto env = agent_environment();
  env["MESOS_SANDBOX"] = "/mnt/mesos/sandbox";
  EXPECT_EQ(executor_settings_from(env).value().sandbox, "/mnt/mesos/sandbox");
}

TEST(ExecutorSettings, WithoutCheckpointTheRecoveryVariablesAreOptional) {
  auto env = agent_environment();
  env["MESOS_CHECKPOINT"] = "0";
  env.erase("MESOS_RECOVERY_TIMEOUT");
  env.erase("MESOS_SUBSCRIPTION_BACKOFF_MAX");
  env.erase("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD");
  auto s = executor_settings_from(env).value();
  EXPECT_FALSE(s.checkpoint);
  EXPECT_EQ(s.shutdown_grace_period, 5s);
}

TEST(ExecutorSettings, MissingRequiredVariableIsNamed) {
  for (const char* name : {"MESOS_AGENT_ENDPOINT", "MESOS_FRAMEWORK_ID", "MESOS_EXECUTOR_ID",
                           "MESOS_RECOVERY_TIMEOUT", "MESOS_SUBSCRIPTION_BACKOFF_MAX"}) {
    auto env = agent_environment();
    env.erase(name);
    auto s = executor_settings_from(env);
    ASSERT_FALSE(s) << name;
    EXPECT_NE(s.error().message.find(name), std::string::npos) << s.error().message;
    EXPECT_NE(s.error().message.find("not set"), std::string::npos) << s.error().message;
  }
}

TEST(ExecutorSettings, BadValuesAreErrors) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"MESOS_AGENT_ENDPOINT", "10.0.0.23"},
      {"MESOS_AGENT_ENDPOINT", "10.0.0.23:99999"},
      {"MESOS_CHECKPOINT", "true"},
      {"MESOS_RECOVERY_TIMEOUT", "forever"},
      {"MESOS_SUBSCRIPTION_BACKOFF_MAX", "2"},
      {"MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", "5 secs"},
  };
  for (const auto& [name, value] : bad) {
    auto env = agent_environment();
    env[name] = value;
    auto s = executor_settings_from(env);
    ASSERT_FALSE(s) << name << "=" << value;
    EXPECT_NE(s.error().message.find(name), std::string::npos) << s.error().message;
  }
}

TEST(RandomUuid, IsVersion4WithTheRfc4122Variant) {
  SeededRandom rng(42);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto uuid = random_uuid(rng);
    ASSERT_EQ(uuid.size(), 16u);
    EXPECT_EQ(static_cast<unsigned char>(uuid[6]) >> 4, 4u);
    EXPECT_EQ(static_cast<unsigned char>(uuid[8]) >> 6, 2u);
    seen.insert(uuid);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(RandomUuid, SameSeedSameSequence) {
  SeededRandom a(7);
  SeededRandom b(7);
  SeededRandom c(8);
  const auto first = random_uuid(a);
  EXPECT_EQ(first, random_uuid(b));
  EXPECT_NE(first, random_uuid(c));
}

}  // namespace
}  // namespace etcdmesos::io
