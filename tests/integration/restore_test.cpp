// End to end restores (issue 14), with real etcd and etcdctl, on the dev
// cluster and (ETCDMESOS_MESOS=real) on a real Apache Mesos:
//  - keys written, a backup taken by the scheduler (POST /backup into
//    -backup-dir), every member lost, POST /restore?uri=file://... of that
//    backup: the cluster comes back at full size with every key and a new
//    cluster ID;
//  - a corrupted and a truncated snapshot are accepted (202) but fail in
//    the executor: the scheduler locks again with etcdctl's reason on
//    /health, launches nothing more, and a good snapshot still works after;
//  - -restore-from at the first start restores the keys, and a scheduler
//    restarted with the flag still set (persistence on) adopts the restored
//    cluster instead of restoring over it.
#include "support/etcd_server.hpp"
#include "support/member_checks.hpp"
#include "support/stack.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

namespace etcdmesos::testing {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;
namespace fs = std::filesystem;

constexpr int kKeys = 25;
// "cmVzdG9yZWQ=": base64 of "restored".
constexpr const char* kValue = "cmVzdG9yZWQ=";

// "rr" and six digits: eight base64 characters (six bytes) per key.
std::string key(int n) {
  return "rr" + std::to_string(100000 + n);
}

// Writes every key through `client_url` (a put answers once that member
// applied it, so a snapshot taken from it holds them all).
void write_keys(const std::string& client_url) {
  for (int n = 0; n < kKeys; ++n) {
    auto put = etcd_post(client_url, "/v3/kv/put",
                         R"({"key":")" + key(n) + R"(","value":")" + kValue + R"("})");
    ASSERT_TRUE(put && put->status == 200) << (put ? put->body : "no answer");
  }
}

void expect_keys_everywhere(LocalStack& stack) {
  for (const auto& m : stack.members()) {
    for (int n = 0; n < kKeys; ++n) {
      // Serializable: what this member's own store holds.
      auto get = etcd_post(str(m, "client_url"), "/v3/kv/range",
                           R"({"key":")" + key(n) + R"(","serializable":true})");
      ASSERT_TRUE(get && get->status == 200);
      EXPECT_NE(get->body.find(kValue), std::string::npos)
          << "key " << key(n) << " on " << str(m, "name") << ": " << get->body;
    }
  }
}

// The cluster ID a member reports (etcd's JSON gateway: a decimal string).
std::string cluster_id(const std::string& client_url) {
  auto status = etcd_post(client_url, "/v3/maintenance/status", "{}");
  if (!status || status->status != 200) {
    return "";
  }
  const auto parsed = json::parse(status->body);
  const auto* header = parsed.as_object().if_contains("header");
  const auto* id = header ? header->as_object().if_contains("cluster_id") : nullptr;
  return id && id->is_string() ? std::string(id->as_string()) : "";
}

void save_snapshot(const fs::path& dir, const std::string& client_url, const fs::path& file) {
  auto saved = etcdctl(dir, client_url, {"snapshot", "save", file.string()});
  ASSERT_TRUE(saved.ok) << saved.output;
  ASSERT_GT(fs::file_size(file), 0u);
}

// The store's revision as `client_url` reports it now (0 when it does not
// answer).
uint64_t revision_at(const std::string& client_url) {
  auto range = etcd_post(client_url, "/v3/kv/range", R"({"key":")" + key(0) + R"("})");
  if (!range || range->status != 200) {
    return 0;
  }
  const auto parsed = json::parse(range->body);
  const auto* header = parsed.as_object().if_contains("header");
  const auto* revision = header ? header->as_object().if_contains("revision") : nullptr;
  return revision && revision->is_string() ? std::stoull(std::string(revision->as_string())) : 0;
}

// The backups in `dir` that hold at least `revision`, by the revision in
// their name (etcd-backup-<time>-r<revision>.db).
std::vector<fs::path> backups_from(const fs::path& dir, uint64_t revision) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const auto name = entry.path().filename().string();
    const auto r = name.rfind("-r");
    if (!name.starts_with("etcd-backup-") || !name.ends_with(".db") || r == std::string::npos) {
      continue;
    }
    const std::string digits = name.substr(r + 2, name.size() - 3 - (r + 2));
    if (!digits.empty() &&
        std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
        std::stoull(digits) >= revision) {
      files.push_back(entry.path());
    }
  }
  return files;
}

// A backup taken by the scheduler now (POST /backup into `dir`, its
// -backup-dir) that holds every key written before, copied to `file`. The
// scheduler takes its first backup by itself once the cluster is healthy,
// perhaps before the keys: while that one runs the request is refused
// (409) and asked again, and only a backup of the revision after the keys
// (read from its name) is taken.
void back_up(LocalStack& stack, const std::string& client_url, const fs::path& dir,
             const fs::path& file) {
  const uint64_t written = revision_at(client_url);
  ASSERT_GT(written, static_cast<uint64_t>(kKeys));
  std::optional<HttpResult> posted;
  ASSERT_TRUE(wait_until(
      [&] {
        posted = stack.admin_call("POST", "/backup");
        return posted && posted->status == 202;
      },
      60s))
      << (posted ? posted->body : "no answer");
  std::vector<fs::path> found;
  ASSERT_TRUE(wait_until(
      [&] {
        found = backups_from(dir, written);
        return !found.empty();
      },
      60s))
      << stack.logs();
  fs::copy_file(found.front(), file);
}

std::string read_bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& file, const std::string& bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A copy of `good` with bytes flipped in the middle of the database (the
// appended SHA-256 no longer matches), and one cut in half.
void corrupt_copies(const fs::path& good, const fs::path& flipped, const fs::path& truncated) {
  std::string bytes = read_bytes(good);
  ASSERT_GT(bytes.size(), 4096u);
  write_bytes(truncated, bytes.substr(0, bytes.size() / 2));
  for (std::size_t i = bytes.size() / 2; i < bytes.size() / 2 + 64; ++i) {
    bytes[i] = static_cast<char>(~bytes[i]);
  }
  write_bytes(flipped, bytes);
}

std::string lock_reason(LocalStack& stack) {
  const auto health = stack.health();
  const auto* scheduler = health.if_contains("scheduler");
  const auto* reason = scheduler ? scheduler->as_object().if_contains("lock_reason") : nullptr;
  return reason && reason->is_string() ? std::string(reason->as_string()) : "";
}

// Every member's etcd killed, no restarts: the scheduler locks (total loss).
void lose_everything(LocalStack& stack) {
  for (const auto& m : stack.members()) {
    ASSERT_TRUE(signal_member(m, SIGKILL));
  }
  ASSERT_TRUE(wait_until([&] { return stat(stack, "locked") == 1; }, 30s)) << stack.logs();
  ASSERT_NE(lock_reason(stack).find("total loss"), std::string::npos) << lock_reason(stack);
}

std::optional<HttpResult> post_restore(LocalStack& stack, const std::string& uri) {
  return stack.admin_call("POST", "/restore?uri=" + uri);
}

// A restore of a bad snapshot: accepted, then its member fails, and the
// scheduler locks again saying so; nothing else is launched meanwhile.
void expect_refused_restore(LocalStack& stack, const fs::path& file, int64_t launched_before) {
  const std::string uri = "file://" + file.string();
  auto accepted = post_restore(stack, uri);
  ASSERT_TRUE(accepted);
  ASSERT_EQ(accepted->status, 202u) << accepted->body;
  ASSERT_TRUE(wait_until(
      [&] {
        return stat(stack, "locked") == 1 &&
               lock_reason(stack).find("restore from " + uri + " failed") != std::string::npos;
      },
      60s))
      << lock_reason(stack) << "\n"
      << stack.logs();
  const std::string reason = lock_reason(stack);
  EXPECT_NE(reason.find("etcdctl snapshot restore"), std::string::npos) << reason;
  EXPECT_NE(str(stack.health().at("scheduler"), "last_restore").find("failed"), std::string::npos);
  // Locked: offers keep coming, nothing is launched.
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_EQ(stat(stack, "launched_servers"), launched_before + 1);
    ASSERT_TRUE(stack.members().empty());
    ASSERT_EQ(stat(stack, "locked"), 1);
    std::this_thread::sleep_for(250ms);
  }
}

TEST(Restore, AfterATotalLossPostRestoreBringsBackEveryKeyAndRefusesBadSnapshots) {
  TempDir backups("restore-backups");
  StackOptions o;
  o.agents = 3;
  o.scheduler_args = {"-etcd-restart-attempts=0", "-backup-dir=" + backups.path().string()};
  LocalStack stack(o);
  ASSERT_TRUE(comes_up(stack, 3));
  const auto before = stack.members();
  const std::string url = str(before[0], "client_url");
  write_keys(url);
  const std::string old_id = cluster_id(url);
  ASSERT_FALSE(old_id.empty());
  const fs::path good = stack.work_dir() / "backup.snapshot";
  const fs::path flipped = stack.work_dir() / "flipped.snapshot";
  const fs::path truncated = stack.work_dir() / "truncated.snapshot";
  back_up(stack, url, backups.path(), good);
  corrupt_copies(good, flipped, truncated);

  // Not locked: refused with the reason.
  auto early = post_restore(stack, "file://" + good.string());
  ASSERT_TRUE(early);
  EXPECT_EQ(early->status, 409u) << early->body;
  EXPECT_NE(early->body.find("not locked"), std::string::npos) << early->body;

  lose_everything(stack);
  EXPECT_EQ(stat(stack, "launched_servers"), 3);

  // Bad requests: the wrong verb, no or a bad URI; nothing changes.
  auto get = stack.admin_call("GET", "/restore?uri=file://" + good.string());
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 405u);
  auto no_uri = stack.admin_call("POST", "/restore");
  ASSERT_TRUE(no_uri);
  EXPECT_EQ(no_uri->status, 400u) << no_uri->body;
  auto bad_scheme = post_restore(stack, "ftp://host/backup.snapshot");
  ASSERT_TRUE(bad_scheme);
  EXPECT_EQ(bad_scheme->status, 409u) << bad_scheme->body;
  EXPECT_NE(bad_scheme->body.find("scheme"), std::string::npos) << bad_scheme->body;
  EXPECT_EQ(stat(stack, "locked"), 1);

  expect_refused_restore(stack, flipped, 3);
  expect_refused_restore(stack, truncated, 4);

  auto restore = post_restore(stack, "file://" + good.string());
  ASSERT_TRUE(restore);
  ASSERT_EQ(restore->status, 202u) << restore->body;
  ASSERT_TRUE(comes_up(stack, 3));
  EXPECT_EQ(stat(stack, "locked"), 0);
  expect_keys_everywhere(stack);
  const std::string new_id = cluster_id(str(stack.members()[0], "client_url"));
  EXPECT_FALSE(new_id.empty());
  EXPECT_NE(new_id, old_id) << "a restored cluster gets a new cluster ID";
  EXPECT_NE(str(stack.health().at("scheduler"), "last_restore").find("restored from"),
            std::string::npos);
  // The restoring member, then two that joined it.
  EXPECT_EQ(stat(stack, "launched_servers"), 8);
}

TEST(Restore, RestoreFromAtTheFirstStartRestoresTheKeysAndARestartKeepsTheCluster) {
  // The snapshot comes from a cluster outside the framework.
  EtcdCluster source(1);
  write_keys(source.client_url(0));
  const std::string source_id = cluster_id(source.client_url(0));
  TempDir dir("restore-from");
  const fs::path file = dir.path() / "source.snapshot";
  save_snapshot(dir.path(), source.client_url(0), file);
  source.stop();

  StackOptions o;
  o.agents = 3;
  o.persist_path = "/etcd-mesos-restore";
  // A plain absolute path, as the fetcher takes it too.
  o.scheduler_args = {"-restore-from=" + file.string()};
  LocalStack stack(o);
  ASSERT_TRUE(comes_up(stack, 3));
  expect_keys_everywhere(stack);
  const auto restored = stack.members();
  const std::string restored_id = cluster_id(str(restored[0], "client_url"));
  EXPECT_NE(restored_id, source_id);
  EXPECT_EQ(stat(stack, "launched_servers"), 3);

  // A write after the restore, then a restart with the flag still set: the
  // recorded cluster is adopted, never restored over.
  auto put = etcd_post(str(restored[0], "client_url"), "/v3/kv/put",
                       R"({"key":"YWZ0ZXI=","value":")" + std::string(kValue) + R"("})");
  ASSERT_TRUE(put && put->status == 200);
  stack.kill_scheduler();
  stack.start_scheduler();
  ASSERT_TRUE(comes_up(stack, 3));
  EXPECT_EQ(names_of(stack.members()), names_of(restored));
  EXPECT_EQ(stat(stack, "launched_servers"), 0) << "the restarted scheduler launched nothing";
  EXPECT_EQ(cluster_id(str(stack.members()[0], "client_url")), restored_id);
  auto after =
      etcd_post(str(stack.members()[0], "client_url"), "/v3/kv/range", R"({"key":"YWZ0ZXI="})");
  ASSERT_TRUE(after && after->status == 200);
  EXPECT_NE(after->body.find(kValue), std::string::npos) << after->body;
  EXPECT_NE(str(stack.health().at("scheduler"), "last_restore").find("not restored"),
            std::string::npos);
}

}  // namespace
}  // namespace etcdmesos::testing
