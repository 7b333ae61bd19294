// End to end: a majority of members lost. With auto-reseed the scheduler
// reseeds after --reseed-timeout from the survivor with the highest raft
// index; without it the cluster stays livelocked until an operator sends an
// authenticated POST /reseed. Either way the keys written before the loss
// survive and the cluster grows back to full size.
#include "support/member_checks.hpp"
#include "support/stack.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <csignal>
#include <fstream>
#include <set>
#include <thread>

namespace etcdmesos::testing {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

constexpr auto kBringUp = 90s;
constexpr auto kRecovery = 120s;
constexpr int kKeys = 20;

bool etcd_agrees(const json::array& members) {
  return etcd_lists_exactly(members, names_of(members));
}

// "kk" and six digits: eight base64 characters (six bytes) per key.
std::string key(int n) {
  return "kk" + std::to_string(100000 + n);
}

// Writes the keys through members[0], then waits until every member has
// applied the last one (a serializable read answers from the member's own
// store): a commit needs only a majority, and a survivor that had not yet
// received the last writes when the others died cannot seed them — the
// scenarios below are about the scheduler keeping what a survivor holds.
void write_keys(const json::array& members) {
  for (int n = 0; n < kKeys; ++n) {
    auto put = etcd_post(str(members.at(0), "client_url"), "/v3/kv/put",
                         R"({"key":")" + key(n) + R"(","value":"c3Vydml2ZQ=="})");
    ASSERT_TRUE(put && put->status == 200) << (put ? put->body : "no answer");
  }
  const std::string last = R"({"key":")" + key(kKeys - 1) + R"(","serializable":true})";
  for (const auto& m : members) {
    ASSERT_TRUE(wait_until(
        [&] {
          auto get = etcd_post(str(m, "client_url"), "/v3/kv/range", last);
          return get && get->status == 200 && get->body.find("c3Vydml2ZQ==") != std::string::npos;
        },
        10s))
        << "the last key never reached " << str(m, "name");
  }
}

void expect_keys_everywhere(LocalStack& stack) {
  for (const auto& m : stack.members()) {
    for (int n = 0; n < kKeys; ++n) {
      auto get = etcd_post(str(m, "client_url"), "/v3/kv/range", R"({"key":")" + key(n) + R"("})");
      ASSERT_TRUE(get && get->status == 200);
      EXPECT_NE(get->body.find("c3Vydml2ZQ=="), std::string::npos)
          << "key " << n << " on " << str(m, "name");
    }
  }
}

bool complete(LocalStack& stack) {
  return stack.healthy_with(3) && etcd_agrees(stack.members());
}

StackOptions options(std::vector<std::string> args) {
  StackOptions o;
  o.agents = 3;
  o.scheduler_args = std::move(args);
  return o;
}

TEST(Reseed, AfterTheTimeoutTheSurvivorSeedsANewClusterThatGrowsBack) {
  LocalStack stack(options({"-etcd-restart-attempts=0", "-reseed-timeout=10"}));
  ASSERT_TRUE(wait_until([&] { return complete(stack); }, kBringUp)) << stack.logs();
  const auto before = stack.members();
  write_keys(before);
  const std::string survivor = str(before[2], "name");
  ASSERT_TRUE(signal_member(before[0], SIGKILL));
  ASSERT_TRUE(signal_member(before[1], SIGKILL));

  ASSERT_TRUE(wait_until([&] { return stat(stack, "livelocked") == 1; }, 30s)) << stack.logs();
  auto healthz = stack.admin("/healthz");
  ASSERT_TRUE(healthz);
  EXPECT_EQ(healthz->status, 503u);
  EXPECT_NE(healthz->body.find("livelocked"), std::string::npos) << healthz->body;

  ASSERT_TRUE(wait_until(
      [&] {
        return stat(stack, "cluster_reseeds") == 1 && stat(stack, "reseeding") == 0 &&
               complete(stack);
      },
      kRecovery))
      << stack.logs();
  EXPECT_TRUE(names_of(stack.members()).contains(survivor)) << "the survivor was the seed";
  EXPECT_EQ(stat(stack, "cluster_livelocks"), 1);
  EXPECT_EQ(stat(stack, "livelocked"), 0);
  expect_keys_everywhere(stack);
  const auto last = str(stack.health().at("scheduler"), "last_reseed");
  EXPECT_NE(last.find(survivor + " seeded a new cluster"), std::string::npos) << last;
}

TEST(Reseed, AFrozenSurvivorBlocksTheAutomaticReseedAndIsRetiredAfterAForcedOne) {
  LocalStack stack(options({"-etcd-restart-attempts=0", "-reseed-timeout=3"}));
  ASSERT_TRUE(wait_until([&] { return complete(stack); }, kBringUp)) << stack.logs();
  const auto before = stack.members();
  write_keys(before);
  // before[0] dies, before[1] freezes (its task still runs): only before[2]
  // answers. The frozen member may hold the highest raft index, or serve
  // behind a partition: no automatic reseed (issue 9), only an operator's
  // that names the risk. It is an old member that must not be stopped
  // before the seed is healthy.
  ASSERT_TRUE(signal_member(before[0], SIGKILL));
  ASSERT_TRUE(signal_member(before[1], SIGSTOP));
  const std::string frozen_task = str(before[1], "task_id");
  ASSERT_TRUE(wait_until([&] { return stack.partitioned(); }, 30s)) << stack.logs();
  // Well past --reseed-timeout: nothing happens by itself.
  const auto until = std::chrono::steady_clock::now() + 6s;
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_EQ(stat(stack, "cluster_reseeds"), 0) << stack.logs();
    ASSERT_EQ(stat(stack, "livelocked"), 0);
    std::this_thread::sleep_for(250ms);
  }
  auto plain = stack.admin_call("POST", "/reseed");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->status, 409u) << plain->body;
  EXPECT_NE(plain->body.find("skip-silent=true"), std::string::npos) << plain->body;
  auto forced = stack.admin_call("POST", "/reseed?skip-silent=true");
  ASSERT_TRUE(forced);
  EXPECT_EQ(forced->status, 202u) << forced->body;
  EXPECT_NE(forced->body.find(str(before[1], "name")), std::string::npos)
      << "the response names the member it skips: " << forced->body;

  ASSERT_TRUE(wait_until(
      [&] {
        return stat(stack, "cluster_reseeds") == 1 && stat(stack, "reseeding") == 0 &&
               complete(stack);
      },
      kRecovery))
      << stack.logs();
  EXPECT_TRUE(names_of(stack.members()).contains(str(before[2], "name")));
  EXPECT_FALSE(names_of(stack.members()).contains(str(before[1], "name")));
  // In the log: the seed's report, then (its healthy check) the frozen
  // member's kill, then the reseed's end; never a kill of it before.
  const auto log = stack.scheduler_log();
  const auto reported = log.find("seed report from " + str(before[2], "task_id") + ": ok");
  const auto killed = log.find("effect: kill task " + frozen_task);
  const auto seeded = log.find("seeded a new cluster");
  ASSERT_NE(reported, std::string::npos) << log;
  ASSERT_NE(killed, std::string::npos) << log;
  ASSERT_NE(seeded, std::string::npos) << log;
  EXPECT_LT(reported, killed);
  EXPECT_LT(killed, seeded);
  expect_keys_everywhere(stack);
}

// Five members; one (the laggard) is frozen while keys are written, then
// three others die and the laggard resumes: two survivors, and only one of
// them holds the keys. The seed must be that one (highest raft index).
TEST(Reseed, TheSurvivorWithTheHighestRaftIndexIsTheSeed) {
  StackOptions o = options({"-etcd-restart-attempts=0", "-reseed-timeout=10"});
  o.agents = 5;
  o.cluster_size = 5;
  LocalStack stack(o);
  auto complete5 = [&] { return stack.healthy_with(5) && etcd_agrees(stack.members()); };
  ASSERT_TRUE(wait_until(complete5, 2 * kBringUp)) << stack.logs();
  const auto before = stack.members();
  // The laggard launched first: on equal raft indices the ranking prefers the
  // older member, so only a real index difference makes `best` the seed.
  const auto& laggard = before[0];
  const auto& best = before[1];
  ASSERT_TRUE(signal_member(laggard, SIGSTOP));
  // Four of five still make a majority: the writes commit without the
  // laggard (retried while a new leader is elected, if it led).
  //
  // SIGSTOP does not stop the kernel: the leader's appends to the frozen
  // laggard keep arriving in its socket buffer, and on SIGCONT it reads them
  // and catches up to whatever they carry. Only etcd's own limit on appends in
  // flight to a follower that does not acknowledge (512 messages in etcd 3.4)
  // stops the stream. So first overwrite one filler key well past that limit;
  // the checked keys written after it are never sent to the laggard.
  constexpr int kPastTheInflightLimit = 700;
  auto put = [&](const std::string& k) {
    return wait_until(
        [&] {
          auto r = etcd_post(str(best, "client_url"), "/v3/kv/put",
                             R"({"key":")" + k + R"(","value":"c3Vydml2ZQ=="})");
          return r && r->status == 200;
        },
        20s);
  };
  for (int n = 0; n < kPastTheInflightLimit; ++n) {
    ASSERT_TRUE(put("ZmlsbGVy")) << "filler put " << n;
  }
  for (int n = 0; n < kKeys; ++n) {
    ASSERT_TRUE(put(key(n))) << "put " << n;
  }
  for (int i = 2; i < 5; ++i) {
    ASSERT_TRUE(signal_member(before[i], SIGKILL));
  }
  // Let the best survivor notice it lost the majority (and stop leading)
  // before the laggard comes back, so nothing is replicated to it. While the
  // laggard is frozen its task still runs: the scheduler calls that
  // partitioned, not livelocked (issue 9).
  ASSERT_TRUE(wait_until([&] { return stack.partitioned(); }, 30s)) << stack.logs();
  ASSERT_TRUE(signal_member(laggard, SIGCONT));

  ASSERT_TRUE(wait_until(
      [&] {
        return stat(stack, "cluster_reseeds") == 1 && stat(stack, "reseeding") == 0 && complete5();
      },
      2 * kRecovery))
      << stack.logs();
  const auto names = names_of(stack.members());
  EXPECT_TRUE(names.contains(str(best, "name"))) << "the up-to-date survivor is the seed";
  EXPECT_FALSE(names.contains(str(laggard, "name"))) << "the laggard was retired";
  const auto last = str(stack.health().at("scheduler"), "last_reseed");
  EXPECT_NE(last.find(str(best, "name") + " seeded a new cluster"), std::string::npos) << last;
  expect_keys_everywhere(stack);
}

TEST(Reseed, WithoutAutoReseedTheClusterStaysLivelockedUntilAnOperatorReseeds) {
  TempDir secret_dir("etcd-mesos-secret");
  const auto secret_file = secret_dir.path() / "admin-secret";
  std::ofstream(secret_file) << "s3cret\n";
  LocalStack stack(options({"-etcd-restart-attempts=0", "-reseed-timeout=2", "-auto-reseed=false",
                            "-admin-secret-file=" + secret_file.string()}));
  ASSERT_TRUE(wait_until([&] { return complete(stack); }, kBringUp)) << stack.logs();
  const auto before = stack.members();
  write_keys(before);
  ASSERT_TRUE(signal_member(before[0], SIGKILL));
  ASSERT_TRUE(signal_member(before[1], SIGKILL));
  ASSERT_TRUE(wait_until([&] { return stat(stack, "livelocked") == 1; }, 30s)) << stack.logs();

  // Well past --reseed-timeout: nothing happens by itself.
  const auto until = std::chrono::steady_clock::now() + 6s;
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_EQ(stat(stack, "cluster_reseeds"), 0);
    ASSERT_EQ(stat(stack, "livelocked"), 1);
    std::this_thread::sleep_for(250ms);
  }
  auto healthz = stack.admin("/healthz");
  ASSERT_TRUE(healthz);
  EXPECT_EQ(healthz->status, 503u);
  EXPECT_NE(healthz->body.find("POST /reseed"), std::string::npos) << healthz->body;

  auto get = stack.admin_call("GET", "/reseed", "s3cret");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 405u);
  EXPECT_NE(get->body.find("POST /reseed"), std::string::npos) << get->body;
  auto anonymous = stack.admin_call("POST", "/reseed");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401u);
  auto wrong = stack.admin_call("POST", "/reseed", "guess");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401u);
  EXPECT_EQ(stat(stack, "cluster_reseeds"), 0);
  EXPECT_EQ(stat(stack, "reseeding"), 0);

  auto post = stack.admin_call("POST", "/reseed", "s3cret");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 202u) << post->body;
  ASSERT_TRUE(
      wait_until([&] { return stat(stack, "reseeding") == 0 && complete(stack); }, kRecovery))
      << stack.logs();
  EXPECT_EQ(stat(stack, "cluster_reseeds"), 1);
  EXPECT_TRUE(names_of(stack.members()).contains(str(before[2], "name")));
  expect_keys_everywhere(stack);
  // A healthy cluster is not reseeded on request.
  auto again = stack.admin_call("POST", "/reseed", "s3cret");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 409u) << again->body;
}

}  // namespace
}  // namespace etcdmesos::testing
