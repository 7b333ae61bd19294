// Backups (issue 14, -backup-dir): the shell's part. The core decides when
// (core/scheduler_core_backup.cpp) and emits TakeBackup; take_backup() takes
// an etcd snapshot through the maintenance API of one member, verifies it
// and writes it atomically to the backup directory, then prunes the oldest.
//
// The snapshot stream (POST /v3/maintenance/snapshot, reference etcd §7) is
// newline-separated JSON messages {"result":{"remaining_bytes":"N","blob":
// "<base64>"}}; the decoded blobs concatenated are exactly what `etcdctl
// snapshot save` writes: the database followed by the SHA-256 of it.
//
// Threading: take_backup runs on the scheduler's io_context; the pure parts
// (SnapshotDecoder, backup_file_name, backups_to_prune) have no I/O. The
// file writes (one per 32 KiB blob), fsync and rename are plain blocking
// calls on that thread: quick on a local disk, but a network filesystem that
// hangs would hold the scheduler's loop with it (a known limit; moving them
// to a thread of their own is the fix if it ever matters).
#pragma once

#include "common/error.hpp"
#include "common/time_source.hpp"
#include "core/types.hpp"
#include "io/http.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace etcdmesos::scheduler {

// Decodes a snapshot stream fed in pieces of any size, hands the snapshot's
// bytes to a writer as they come, and checks them as etcd 3.4 sends them:
// the first message's blob size plus its remaining_bytes announce the
// database's size (at most max_bytes: refused at once otherwise), every
// later message agrees with it, and once that many bytes came, one last
// message holds the 32-byte SHA-256 of the database, which must match. The
// writer gets the database and then the hash (the file `etcdctl snapshot
// save` writes). One message line is at most kMaxLine. An error message from
// etcd ({"error":{...}}) fails the decoder with etcd's text. Once failed it
// stays failed.
class SnapshotDecoder {
 public:
  static constexpr std::size_t kMaxLine = 4 * 1024 * 1024;
  static constexpr std::size_t kHashSize = 32;
  using Writer = std::function<Result<void>(std::string_view bytes)>;

  SnapshotDecoder(uint64_t max_bytes, Writer writer);
  ~SnapshotDecoder();
  SnapshotDecoder(const SnapshotDecoder&) = delete;
  SnapshotDecoder& operator=(const SnapshotDecoder&) = delete;

  Result<void> feed(std::string_view piece);
  // The stream ended: every byte announced came, then the hash, and it
  // matches. The size written (database and hash).
  Result<uint64_t> finish();

 private:
  Result<void> fail(std::string why);
  Result<void> message(std::string_view line);
  Result<void> write(std::string_view bytes);

  uint64_t max_bytes_;
  Writer writer_;
  std::string line_;
  std::optional<std::string> failed_;
  std::optional<uint64_t> total_;  // the database's size, announced by the first message
  uint64_t received_ = 0;          // of the database
  uint64_t written_ = 0;           // database and hash
  std::optional<std::string> hash_;
  struct Digest;
  std::unique_ptr<Digest> digest_;
};

// "etcd-backup-20261204T153000.123Z-r42.db": the UTC time of the backup
// first, so that names sort by time (a restored or new cluster may have a
// lower revision than older backups), then the revision it holds.
std::string backup_file_name(std::chrono::system_clock::time_point at, uint64_t revision);
// Whether `name` is one backup_file_name makes: pruning touches nothing else.
bool is_backup_file_name(std::string_view name);
// The names of `names` to delete so that the newest `keep` backups remain:
// only backup file names, oldest first, never `just_written`.
std::vector<std::string> backups_to_prune(std::vector<std::string> names, std::size_t keep,
                                          const std::string& just_written);

struct BackupSettings {
  std::string dir;
  std::size_t keep = 24;
  std::string etcdctl_bin = "/usr/bin/etcdctl";
  // Bounds: the snapshot's size, the whole transfer, and each read of it.
  uint64_t max_bytes = 64ULL * 1024 * 1024 * 1024;
  std::chrono::milliseconds timeout{std::chrono::hours(2)};
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
  std::chrono::milliseconds request_timeout{std::chrono::seconds(5)};
  // `etcdctl snapshot status` reads the whole database.
  std::chrono::milliseconds status_timeout{std::chrono::minutes(10)};
};

// Checks at start-up that `dir` is a directory the scheduler can create,
// write, sync and delete files in (it writes and removes a probe file).
Result<void> check_backup_dir(const std::string& dir);

// Takes the backup `order` asks for: tries each client URL in turn until
// one gives a snapshot that verifies (see docs/administration.md,
// "Backups"): the member's revision first (maintenance status), then the
// stream into a temporary file in the backup directory, the size and the
// SHA-256 checked, `etcdctl snapshot status` must read it and report a
// revision at least the member's, then fsync, rename to backup_file_name,
// fsync the directory, and prune. A failure removes the temporary file and
// deletes nothing else. Never throws; the answer is always a BackupDone.
boost::asio::awaitable<core::BackupDone> take_backup(boost::asio::any_io_executor ex,
                                                     core::TakeBackup order,
                                                     BackupSettings settings,
                                                     std::shared_ptr<io::TlsClient> tls,
                                                     TimeSource& time);

}  // namespace etcdmesos::scheduler
