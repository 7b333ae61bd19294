// The backup flags (-backup-dir, -backup-interval, -backup-keep) and the
// "backup" object of GET /health.
#include "scheduler/admin_json.hpp"
#include "scheduler/options.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace etcdmesos::scheduler {
namespace {

namespace fs = std::filesystem;

Result<Options> parse(std::vector<std::string> args) {
  std::vector<const char*> argv{"etcd-mesos-scheduler"};
  for (const auto& a : args) {
    argv.push_back(a.c_str());
  }
  return parse_options(static_cast<int>(argv.size()), argv.data());
}

struct ScratchDir {
  fs::path path = fs::temp_directory_path() / ("backup-flags-" + std::to_string(::getpid()));
  ScratchDir() { fs::create_directories(path); }
  ~ScratchDir() { fs::remove_all(path); }
};

TEST(BackupFlags, DefaultsAreOffEvery30MinutesKeeping24) {
  auto o = parse({});
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_TRUE(o->backup_dir.empty());
  EXPECT_EQ(o->backup_interval_seconds, 1800);
  EXPECT_EQ(o->backup_keep, 24u);
  EXPECT_NE(help_text().find("--backup-dir"), std::string::npos);
  EXPECT_NE(help_text().find("--backup-keep"), std::string::npos);
}

TEST(BackupFlags, AWritableDirectoryIsTakenAndLeftAsItWas) {
  ScratchDir dir;
  auto o = parse({"-backup-dir=" + dir.path.string(), "-backup-interval=60", "-backup-keep=2"});
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->backup_dir, dir.path.string());
  EXPECT_EQ(o->backup_interval_seconds, 60);
  EXPECT_EQ(o->backup_keep, 2u);
  EXPECT_TRUE(fs::is_empty(dir.path)) << "the probe file is removed";
}

TEST(BackupFlags, BadValuesAreRefusedWithTheFlagsName) {
  ScratchDir dir;
  const fs::path file = dir.path / "a-file";
  std::ofstream(file) << "x";
  for (const auto& [args, flag] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"-backup-dir=" + (dir.path / "missing").string()}, "--backup-dir"},
           {{"-backup-dir=" + file.string()}, "--backup-dir"},
           {{"-backup-keep=0"}, "--backup-keep"},
           {{"-backup-keep=-1"}, "--backup-keep"},
           {{"-backup-interval=0"}, "--backup-interval"},
           {{"-backup-interval=-5"}, "--backup-interval"},
           {{"-backup-interval=nan"}, "--backup-interval"},
       }) {
    auto o = parse(args);
    ASSERT_FALSE(o) << args[0];
    EXPECT_NE(o.error().message.find(flag), std::string::npos)
        << args[0] << ": " << o.error().message;
  }
}

TEST(BackupHealth, TheBackupObjectSaysWhatHappened) {
  AdminSnapshot off;
  auto doc = boost::json::parse(health_json(off)).as_object();
  EXPECT_EQ(boost::json::serialize(doc.at("backup")), R"({"enabled":false})");

  AdminSnapshot s;
  s.backup.enabled = true;
  s.backup.dir = "/srv/backups";
  s.backup.successes = 3;
  s.backup.failures = 1;
  s.backup.last_success_unix = 1796398200.5;
  s.backup.last_file = "etcd-backup-20261204T153000.500Z-r9.db";
  s.backup.last_revision = 9;
  s.backup.last_size_bytes = 20512;
  s.backup.last_error = "http://10.0.0.1:31001: cannot create /srv/backups/.etcd-backup-4.part";
  s.backup.next_in_seconds = 0;
  s.backup.waiting = "the last health check found the cluster unhealthy: no quorum";
  doc = boost::json::parse(health_json(s)).as_object();
  const auto& b = doc.at("backup").as_object();
  EXPECT_TRUE(b.at("enabled").as_bool());
  EXPECT_EQ(b.at("dir").as_string(), "/srv/backups");
  EXPECT_FALSE(b.at("in_progress").as_bool());
  EXPECT_EQ(b.at("successes").to_number<uint64_t>(), 3u);
  EXPECT_EQ(b.at("failures").to_number<uint64_t>(), 1u);
  EXPECT_EQ(b.at("last_file").as_string(), s.backup.last_file);
  EXPECT_EQ(b.at("last_revision").to_number<uint64_t>(), 9u);
  EXPECT_EQ(b.at("last_size_bytes").to_number<uint64_t>(), 20512u);
  EXPECT_DOUBLE_EQ(b.at("last_success_unix").to_number<double>(), 1796398200.5);
  EXPECT_EQ(b.at("last_error").as_string(), s.backup.last_error);
  EXPECT_EQ(b.at("waiting").as_string(), s.backup.waiting);
}

}  // namespace
}  // namespace etcdmesos::scheduler
