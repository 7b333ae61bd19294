// End to end (issue 14, item 1): the scheduler backs the cluster up into
// -backup-dir with etcd's snapshot API; the files restore with etcdctl into
// an etcd that holds the keys; old backups are pruned to -backup-keep; a
// failure is counted, shown on /health and deletes nothing; POST /backup is
// refused while one runs, while the cluster is unhealthy and without a
// directory; backups go on after a member is replaced.
#include "codec/mesos.hpp"
#include "support/member_checks.hpp"
#include "support/stack.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <sys/stat.h>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

namespace etcdmesos::testing {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;
namespace fs = std::filesystem;

constexpr auto kBringUp = 90s;
constexpr auto kBackup = 60s;

StackOptions with_backups(const fs::path& dir, std::vector<std::string> more, int agents = 3) {
  StackOptions o;
  o.agents = agents;
  o.scheduler_args = {"-backup-dir=" + dir.string()};
  o.scheduler_args.insert(o.scheduler_args.end(), more.begin(), more.end());
  return o;
}

// GET /health's "backup" object (empty when unavailable).
json::object backup_state(LocalStack& stack) {
  auto health = stack.health();
  if (const auto* b = health.if_contains("backup"); b && b->is_object()) {
    return b->as_object();
  }
  return {};
}

int64_t backup_count(LocalStack& stack, const char* key) {
  auto b = backup_state(stack);
  const auto* v = b.if_contains(key);
  if (v == nullptr) {
    return -1;
  }
  return v->is_uint64() ? static_cast<int64_t>(v->as_uint64())
                        : (v->is_int64() ? v->as_int64() : -1);
}

std::vector<std::string> backup_files(const fs::path& dir) {
  static const std::regex name(R"(etcd-backup-\d{8}T\d{6}\.\d{3}Z-r\d+\.db)");
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const auto file = entry.path().filename().string();
    if (std::regex_match(file, name)) {
      out.push_back(file);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> all_files(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    out.push_back(entry.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool put(const std::string& client_url, const std::string& key, const std::string& value) {
  const auto answer = etcd_post(client_url, "/v3/kv/put",
                                R"({"key":")" + mesos::base64_encode(key) + R"(","value":")" +
                                    mesos::base64_encode(value) + "\"}");
  return answer && answer->status == 200;
}

// `etcdctl snapshot status FILE -w json`, parsed (empty on failure).
json::object snapshot_status(const fs::path& work, const fs::path& file) {
  auto result = etcdctl(work, "127.0.0.1:1", {"snapshot", "status", file.string(), "-w", "json"});
  if (!result.ok) {
    ADD_FAILURE() << "etcdctl snapshot status " << file << ": " << result.output;
    return {};
  }
  boost::system::error_code ec;
  auto doc = json::parse(result.output, ec);
  return !ec && doc.is_object() ? doc.as_object() : json::object{};
}

// Restores `file` with etcdctl into a new one-member cluster, starts etcd on
// it and reads `keys` back through it.
void expect_restore_holds(const fs::path& file, const std::map<std::string, std::string>& keys) {
  TempDir dir("etcd-restore");
  const uint16_t peer = free_port();
  const uint16_t client = free_port();
  const std::string peer_url = "http://127.0.0.1:" + std::to_string(peer);
  const std::string client_url = "http://127.0.0.1:" + std::to_string(client);
  const fs::path data = dir.path() / "data";
  auto restored = etcdctl(
      dir.path(), "127.0.0.1:1",
      {"snapshot", "restore", file.string(), "--name", "restored", "--data-dir", data.string(),
       "--initial-cluster", "restored=" + peer_url, "--initial-cluster-token", "restore-test",
       "--initial-advertise-peer-urls", peer_url});
  ASSERT_TRUE(restored.ok) << restored.output;
  ChildProcess etcd(
      {"/usr/bin/etcd", "--name", "restored", "--data-dir", data.string(), "--listen-client-urls",
       client_url, "--advertise-client-urls", client_url, "--listen-peer-urls", peer_url,
       "--initial-advertise-peer-urls", peer_url, "--initial-cluster", "restored=" + peer_url,
       "--logger=zap", "--log-outputs=stderr"},
      dir.path() / "etcd");
  for (const auto& [key, value] : keys) {
    CommandResult got;
    ASSERT_TRUE(wait_until(
        [&] {
          got = etcdctl(dir.path(), client_url, {"get", key, "--print-value-only"});
          return got.ok && !got.output.empty();
        },
        30s))
        << "key " << key << " not in the restored cluster: " << got.output << "\n"
        << etcd.stderr_text();
    EXPECT_EQ(got.output, value + "\n") << "key " << key;
  }
  etcd.stop();
}

TEST(Backup, APostedBackupIsAVerifiedSnapshotThatRestoresWithTheKeys) {
  TempDir dir("backups");
  LocalStack stack(with_backups(dir.path(), {"-backup-interval=3600"}));
  ASSERT_TRUE(comes_up(stack, 3));
  // The first scheduled backup is taken as soon as the cluster is healthy.
  ASSERT_TRUE(wait_until([&] { return backup_count(stack, "successes") >= 1; }, kBackup))
      << json::serialize(backup_state(stack)) << "\n"
      << stack.logs();
  const auto member = str(stack.members()[0], "client_url");
  std::map<std::string, std::string> keys;
  for (int i = 0; i < 20; ++i) {
    keys["backup/key-" + std::to_string(i)] = "value " + std::to_string(i);
  }
  for (const auto& [key, value] : keys) {
    ASSERT_TRUE(put(member, key, value)) << key;
  }
  const auto before = backup_count(stack, "successes");
  auto posted = stack.admin_call("POST", "/backup");
  ASSERT_TRUE(posted);
  EXPECT_EQ(posted->status, 202u) << posted->body;
  ASSERT_TRUE(wait_until([&] { return backup_count(stack, "successes") == before + 1; }, kBackup))
      << json::serialize(backup_state(stack)) << "\n"
      << stack.logs();

  const auto state = backup_state(stack);
  EXPECT_TRUE(state.at("enabled").as_bool());
  EXPECT_EQ(state.at("failures").to_number<uint64_t>(), 0u);
  EXPECT_FALSE(state.contains("last_error"));
  const std::string newest = std::string(state.at("last_file").as_string());
  const auto files = backup_files(dir.path());
  ASSERT_FALSE(files.empty());
  EXPECT_EQ(files.back(), newest);
  EXPECT_EQ(files, all_files(dir.path())) << "no temporary file is left";
  const fs::path file = dir.path() / newest;
  EXPECT_EQ(fs::file_size(file), state.at("last_size_bytes").to_number<uint64_t>());
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "a backup holds every key: owner only";

  // etcd's own tools read it, with the revision the name and /health give.
  const auto status = snapshot_status(stack.work_dir(), file);
  ASSERT_TRUE(status.contains("revision"));
  const uint64_t revision = status.at("revision").to_number<uint64_t>();
  EXPECT_EQ(revision, state.at("last_revision").to_number<uint64_t>());
  EXPECT_NE(newest.find("-r" + std::to_string(revision) + ".db"), std::string::npos);
  expect_restore_holds(file, keys);
}

TEST(Backup, ScheduledBackupsKeepOnlyTheNewest) {
  TempDir dir("backups");
  // A stranger's file in the directory is never touched.
  { std::ofstream(dir.path() / "notes.txt") << "mine\n"; }
  LocalStack stack(with_backups(dir.path(), {"-backup-interval=1", "-backup-keep=2"}));
  ASSERT_TRUE(comes_up(stack, 3));
  ASSERT_TRUE(wait_until([&] { return backup_count(stack, "successes") >= 5; }, kBackup))
      << json::serialize(backup_state(stack)) << "\n"
      << stack.logs();
  // Between two backups (they come every second) the directory holds the
  // two newest and the stranger's file.
  std::vector<std::string> files;
  std::string newest;
  ASSERT_TRUE(wait_until(
      [&] {
        const auto state = backup_state(stack);
        files = backup_files(dir.path());
        newest = std::string(state.at("last_file").as_string());
        return !state.at("in_progress").as_bool() && !files.empty() && files.back() == newest &&
               backup_files(dir.path()) == files;
      },
      20s));
  EXPECT_EQ(files.size(), 2u) << ::testing::PrintToString(files);
  EXPECT_TRUE(fs::exists(dir.path() / "notes.txt"));
  for (const auto& f : files) {
    EXPECT_TRUE(snapshot_status(stack.work_dir(), dir.path() / f).contains("revision")) << f;
  }
  EXPECT_EQ(backup_count(stack, "failures"), 0);
}

TEST(Backup, AFailureIsCountedAndShownAndKeepsTheOlderBackups) {
  TempDir root("backups");
  const fs::path dir = root.path() / "dir";
  fs::create_directory(dir);
  LocalStack stack(with_backups(dir, {"-backup-interval=2", "-backup-keep=3"}));
  ASSERT_TRUE(comes_up(stack, 3));
  ASSERT_TRUE(wait_until([&] { return backup_count(stack, "successes") >= 3; }, kBackup))
      << stack.logs();
  // The directory goes away under the scheduler, a file in its place (as
  // root, permissions would not stop the writes).
  const fs::path aside = root.path() / "aside";
  ASSERT_TRUE(wait_until([&] { return !backup_state(stack).at("in_progress").as_bool(); }, 20s));
  fs::rename(dir, aside);
  { std::ofstream(dir) << "not a directory\n"; }
  const auto kept = backup_files(aside);
  ASSERT_EQ(kept.size(), 3u);
  ASSERT_TRUE(wait_until([&] { return backup_count(stack, "failures") >= 2; }, kBackup))
      << stack.logs();
  const auto state = backup_state(stack);
  ASSERT_TRUE(state.contains("last_error")) << json::serialize(state);
  EXPECT_NE(std::string(state.at("last_error").as_string()).find("Not a directory"),
            std::string::npos)
      << json::serialize(state);
  EXPECT_NE(stack.scheduler_log().find("backup"), std::string::npos);
  // Nothing was deleted, and a failure is retried: once the directory is
  // back, backups succeed again and prune as usual.
  EXPECT_EQ(backup_files(aside), kept);
  const auto successes = backup_count(stack, "successes");
  fs::remove(dir);
  fs::rename(aside, dir);
  ASSERT_TRUE(wait_until([&] { return backup_count(stack, "successes") > successes; }, kBackup))
      << stack.logs();
  EXPECT_FALSE(backup_state(stack).contains("last_error"));
}

TEST(Backup, RefusedWhileOneRunsWhileUnhealthyAndWithoutADirectory) {
  TempDir dir("backups");
  LocalStack stack(with_backups(dir.path(), {"-backup-interval=3600"}));
  ASSERT_TRUE(comes_up(stack, 3));
  ASSERT_TRUE(wait_until([&] { return backup_count(stack, "successes") >= 1; }, kBackup));
  const auto members = stack.members();
  // Every member frozen right after a healthy check: the backup the
  // operator asks for hangs on each member in turn (each request times out)
  // while a second request is refused.
  for (const auto& m : members) {
    ASSERT_TRUE(signal_member(m, SIGSTOP));
  }
  auto first = stack.admin_call("POST", "/backup");
  ASSERT_TRUE(first);
  if (first->status == 202) {
    auto second = stack.admin_call("POST", "/backup");
    ASSERT_TRUE(second);
    EXPECT_EQ(second->status, 409u) << second->body;
    EXPECT_NE(second->body.find("already under way"), std::string::npos) << second->body;
    ASSERT_TRUE(wait_until([&] { return backup_count(stack, "failures") >= 1; }, kBackup))
        << stack.logs();
  } else {
    // A check that started before the freeze timed out first: the request
    // was refused for the cluster's health instead.
    EXPECT_EQ(first->status, 409u) << first->body;
  }
  // The frozen cluster is found unhealthy: refused, with the reason.
  ASSERT_TRUE(wait_until(
      [&] {
        auto h = stack.health();
        return h.contains("healthy") && !h.at("healthy").as_bool();
      },
      30s));
  auto refused = stack.admin_call("POST", "/backup");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 409u) << refused->body;
  EXPECT_NE(refused->body.find("health check"), std::string::npos) << refused->body;
  for (const auto& m : members) {
    signal_member(m, SIGCONT);
  }
  ASSERT_TRUE(comes_up(stack, 3));

  LocalStack plain(StackOptions{});
  auto off = plain.admin_call("POST", "/backup");
  ASSERT_TRUE(off);
  EXPECT_EQ(off->status, 409u) << off->body;
  EXPECT_NE(off->body.find("-backup-dir"), std::string::npos) << off->body;
}

TEST(Backup, BackupsGoOnAfterAMemberIsReplaced) {
  TempDir dir("backups");
  LocalStack stack(with_backups(
      dir.path(), {"-backup-interval=2", "-backup-keep=100", "-etcd-restart-attempts=0"}, 4));
  ASSERT_TRUE(comes_up(stack, 3));
  ASSERT_TRUE(wait_until([&] { return backup_count(stack, "successes") >= 1; }, kBackup));
  const auto before = stack.members();
  const std::string victim = str(before[1], "name");
  ASSERT_TRUE(signal_member(before[1], SIGKILL));
  ASSERT_TRUE(wait_until(
      [&] {
        auto now = stack.members();
        return !names_of(now).contains(victim) && stack.healthy_with(3) &&
               etcd_lists_exactly(now, names_of(now));
      },
      kBringUp))
      << stack.logs();
  const auto replacement = stack.members();
  const auto successes = backup_count(stack, "successes");
  ASSERT_TRUE(
      wait_until([&] { return backup_count(stack, "successes") >= successes + 2; }, kBackup))
      << json::serialize(backup_state(stack)) << "\n"
      << stack.logs();
  const auto state = backup_state(stack);
  const fs::path newest = dir.path() / std::string(state.at("last_file").as_string());
  EXPECT_TRUE(snapshot_status(stack.work_dir(), newest).contains("revision"));
  // Taken from a member of the new membership: the newest backup restores.
  const auto member = str(replacement[0], "client_url");
  ASSERT_TRUE(put(member, "after/replacement", "yes"));
  const auto now = backup_count(stack, "successes");
  ASSERT_TRUE(wait_until([&] { return backup_count(stack, "successes") > now; }, kBackup));
  expect_restore_holds(dir.path() / std::string(backup_state(stack).at("last_file").as_string()),
                       {{"after/replacement", "yes"}});
}

}  // namespace
}  // namespace etcdmesos::testing
