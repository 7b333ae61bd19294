#include "scheduler/backup.hpp"

#include "codec/mesos.hpp"
#include "common/log.hpp"
#include "io/etcd_client.hpp"
#include "io/process.hpp"

#include <boost/json.hpp>

#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace etcdmesos::scheduler {

namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

auto log() {
  return logger("backup");
}

std::string errno_text() {
  return std::strerror(errno);
}

// A uint64 as the gateway writes it: a decimal string (or a number).
std::optional<uint64_t> read_uint64(const json::value* v) {
  if (v == nullptr) {
    return 0;  // zero values are omitted
  }
  if (v->is_uint64()) {
    return v->as_uint64();
  }
  if (v->is_int64() && v->as_int64() >= 0) {
    return static_cast<uint64_t>(v->as_int64());
  }
  if (v->is_string()) {
    const auto& s = v->as_string();
    uint64_t out = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc{} && end == s.data() + s.size() && !s.empty()) {
      return out;
    }
  }
  return std::nullopt;
}

}  // namespace

// ------------------------------------------------------------ SnapshotDecoder

struct SnapshotDecoder::Digest {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Digest() { EVP_MD_CTX_free(ctx); }
};

SnapshotDecoder::SnapshotDecoder(uint64_t max_bytes, Writer writer)
    : max_bytes_(max_bytes), writer_(std::move(writer)), digest_(std::make_unique<Digest>()) {
  if (digest_->ctx == nullptr || EVP_DigestInit_ex(digest_->ctx, EVP_sha256(), nullptr) != 1) {
    failed_ = "cannot start a SHA-256 digest (OpenSSL)";
  }
}

SnapshotDecoder::~SnapshotDecoder() = default;

Result<void> SnapshotDecoder::fail(std::string why) {
  if (!failed_) {
    failed_ = std::move(why);
  }
  return make_error(*failed_);
}

Result<void> SnapshotDecoder::feed(std::string_view piece) {
  if (failed_) {
    return make_error(*failed_);
  }
  while (!piece.empty()) {
    const auto newline = piece.find('\n');
    const auto part = piece.substr(0, newline);
    if (line_.size() + part.size() > kMaxLine) {
      return fail("a snapshot stream message is longer than " + std::to_string(kMaxLine) +
                  " bytes");
    }
    line_.append(part);
    if (newline == std::string_view::npos) {
      break;
    }
    piece.remove_prefix(newline + 1);
    std::string line = std::move(line_);
    line_.clear();
    if (line.find_first_not_of(" \t\r") == std::string::npos) {
      continue;
    }
    if (auto ok = message(line); !ok) {
      return ok;
    }
  }
  return {};
}

Result<void> SnapshotDecoder::message(std::string_view line) {
  boost::system::error_code ec;
  const json::value doc = json::parse(line, ec);
  if (ec || !doc.is_object()) {
    return fail("a snapshot stream message is not JSON: " + std::string(line.substr(0, 80)));
  }
  const auto& obj = doc.as_object();
  if (const auto* error = obj.if_contains("error")) {
    std::string text = json::serialize(*error);
    if (error->is_object()) {
      if (const auto* m = error->as_object().if_contains("message"); m && m->is_string()) {
        text = std::string(m->as_string());
      }
    }
    return fail("etcd ended the snapshot with an error: " + text);
  }
  const auto* result = obj.if_contains("result");
  if (result == nullptr || !result->is_object()) {
    return fail("a snapshot stream message has no result");
  }
  const auto& r = result->as_object();
  const auto remaining = read_uint64(r.if_contains("remaining_bytes"));
  if (!remaining) {
    return fail("a snapshot stream message has a bad remaining_bytes");
  }
  std::string blob;
  if (const auto* b = r.if_contains("blob")) {
    if (!b->is_string()) {
      return fail("a snapshot stream message has a blob that is not a string");
    }
    auto decoded = mesos::base64_decode(std::string_view(b->as_string()));
    if (!decoded) {
      return fail("a snapshot stream message has a blob that is not base64: " +
                  decoded.error().message);
    }
    blob = std::move(*decoded);
  }
  if (hash_) {
    return fail("the snapshot stream goes on after its SHA-256");
  }
  if (total_ && received_ == *total_) {
    // The database is complete: this is etcd's last message, its SHA-256.
    if (blob.size() != kHashSize || *remaining != 0) {
      return fail("the snapshot stream ends with " + std::to_string(blob.size()) +
                  " bytes where the 32-byte SHA-256 belongs");
    }
    hash_ = blob;
    return write(blob);
  }
  // remaining_bytes counts the database's bytes after this message; the
  // hash that follows it is not counted.
  const uint64_t after = received_ + blob.size();
  if (!total_) {
    if (*remaining > max_bytes_ || after > max_bytes_ - *remaining) {
      return fail("the snapshot is larger than the limit of " + std::to_string(max_bytes_) +
                  " bytes (" + std::to_string(after + *remaining) + " announced)");
    }
    if (after + *remaining == 0) {
      return fail("the snapshot stream announces an empty database");
    }
    total_ = after + *remaining;
  } else if (after + *remaining != *total_) {
    return fail("the snapshot stream is inconsistent: " + std::to_string(after) +
                " bytes received and " + std::to_string(*remaining) + " said to remain, but " +
                std::to_string(*total_) + " were announced");
  }
  received_ = after;
  if (EVP_DigestUpdate(digest_->ctx, blob.data(), blob.size()) != 1) {
    return fail("SHA-256 update failed (OpenSSL)");
  }
  return write(blob);
}

Result<void> SnapshotDecoder::write(std::string_view bytes) {
  if (bytes.empty()) {
    return {};
  }
  written_ += bytes.size();
  if (auto written = writer_(bytes); !written) {
    return fail(written.error().message);
  }
  return {};
}

Result<uint64_t> SnapshotDecoder::finish() {
  if (failed_) {
    return make_error(*failed_);
  }
  if (!line_.empty() && line_.find_first_not_of(" \t\r") != std::string::npos) {
    if (auto ok = message(line_); !ok) {
      return ok.error();
    }
    line_.clear();
  }
  if (!total_) {
    return fail("the snapshot stream ended before its first message").error();
  }
  if (received_ != *total_) {
    return fail("the snapshot stream ended after " + std::to_string(received_) + " of " +
                std::to_string(*total_) + " bytes")
        .error();
  }
  if (!hash_) {
    return fail("the snapshot stream ended without its SHA-256").error();
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(digest_->ctx, digest, &length) != 1 || length != kHashSize) {
    return fail("SHA-256 final failed (OpenSSL)").error();
  }
  if (std::memcmp(hash_->data(), digest, kHashSize) != 0) {
    return fail("the snapshot's SHA-256 does not match its content: corrupted in transfer").error();
  }
  return written_;
}

// ------------------------------------------------------------ file names

std::string backup_file_name(std::chrono::system_clock::time_point at, uint64_t revision) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch());
  const std::time_t seconds = static_cast<std::time_t>(ms.count() / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &utc);
  char millis[8];
  std::snprintf(millis, sizeof millis, ".%03d", static_cast<int>(ms.count() % 1000));
  return "etcd-backup-" + std::string(stamp) + millis + "Z-r" + std::to_string(revision) + ".db";
}

bool is_backup_file_name(std::string_view name) {
  static const std::regex pattern(R"(etcd-backup-\d{8}T\d{6}\.\d{3}Z-r\d+\.db)");
  return std::regex_match(name.begin(), name.end(), pattern);
}

std::vector<std::string> backups_to_prune(std::vector<std::string> names, std::size_t keep,
                                          const std::string& just_written) {
  std::erase_if(names, [](const std::string& n) { return !is_backup_file_name(n); });
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::vector<std::string> doomed;
  if (names.size() <= keep) {
    return doomed;
  }
  const std::size_t excess = names.size() - keep;
  for (std::size_t i = 0; i < names.size() && doomed.size() < excess; ++i) {
    if (names[i] != just_written) {
      doomed.push_back(names[i]);
    }
  }
  return doomed;
}

// ------------------------------------------------------------ files

namespace {

Result<void> sync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return make_error("cannot open the backup directory " + dir + ": " + errno_text());
  }
  const bool ok = ::fsync(fd) == 0;
  const std::string why = ok ? "" : errno_text();
  ::close(fd);
  if (!ok) {
    return make_error("cannot sync the backup directory " + dir + ": " + why);
  }
  return {};
}

// A file being written: removed unless kept.
class TempFile {
 public:
  static Result<std::unique_ptr<TempFile>> create(const std::string& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      return make_error("cannot create " + path + ": " + errno_text());
    }
    return std::unique_ptr<TempFile>(new TempFile(path, fd));
  }
  ~TempFile() {
    close_fd();
    if (!kept_) {
      ::unlink(path_.c_str());
    }
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  Result<void> write(std::string_view bytes) {
    while (!bytes.empty()) {
      const auto n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        return make_error("writing " + path_ + " failed: " + errno_text());
      }
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
  }
  Result<void> sync_and_close() {
    if (::fsync(fd_) != 0) {
      return make_error("syncing " + path_ + " failed: " + errno_text());
    }
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) {
      return make_error("closing " + path_ + " failed: " + errno_text());
    }
    return {};
  }
  // Renames it to `target`, which must not exist: a backup never replaces one.
  Result<void> rename_to(const std::string& target) {
    struct stat st {};
    if (::lstat(target.c_str(), &st) == 0) {
      return make_error(target + " already exists");
    }
    if (::rename(path_.c_str(), target.c_str()) != 0) {
      return make_error("renaming " + path_ + " to " + target + " failed: " + errno_text());
    }
    kept_ = true;
    return {};
  }

 private:
  TempFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  void close_fd() {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  std::string path_;
  int fd_ = -1;
  bool kept_ = false;
};

std::string read_small_file(const std::string& path, std::size_t limit) {
  std::ifstream in(path, std::ios::binary);
  std::string out(limit, '\0');
  in.read(out.data(), static_cast<std::streamsize>(limit));
  out.resize(static_cast<std::size_t>(in.gcount()));
  return out;
}

// `etcdctl snapshot status FILE -w json`: etcd's own reader must open the
// database and find its revision.
asio::awaitable<Result<uint64_t>> snapshot_revision(asio::any_io_executor ex,
                                                    const BackupSettings& settings,
                                                    const std::string& file, uint64_t id) {
  const std::string out_path = settings.dir + "/.etcd-backup-" + std::to_string(id) + ".status";
  ::unlink(out_path.c_str());
  io::SpawnOptions spawn;
  spawn.argv = {settings.etcdctl_bin, "snapshot", "status", file, "-w", "json"};
  spawn.env = {{"ETCDCTL_API", "3"}, {"PATH", "/usr/local/bin:/usr/bin:/bin"}};
  spawn.stdout_path = out_path;
  spawn.stderr_path = out_path;
  auto process = io::Process::spawn(ex, spawn);
  if (!process) {
    co_return make_error("cannot run " + settings.etcdctl_bin + ": " + process.error().message);
  }
  auto status = co_await (*process)->wait_for(settings.status_timeout);
  if (!status) {
    (*process)->signal(SIGKILL, true);
    co_await (*process)->wait();
  }
  std::string output = read_small_file(out_path, 64 * 1024);
  ::unlink(out_path.c_str());
  if (!status) {
    co_return make_error("etcdctl snapshot status did not finish within " +
                         std::to_string(settings.status_timeout.count() / 1000) + " s");
  }
  if (status->signaled || status->code != 0) {
    co_return make_error("etcdctl snapshot status " + status->describe() + ": " +
                         output.substr(0, 300));
  }
  boost::system::error_code ec;
  const auto doc = json::parse(output, ec);
  const auto* obj = !ec && doc.is_object() ? &doc.as_object() : nullptr;
  const auto revision = obj ? read_uint64(obj->if_contains("revision")) : std::nullopt;
  if (!revision) {
    co_return make_error("etcdctl snapshot status gave no revision: " + output.substr(0, 300));
  }
  co_return *revision;
}

// One attempt from one member.
asio::awaitable<Result<core::BackupDone>> backup_from(asio::any_io_executor ex,
                                                      const core::TakeBackup& order,
                                                      const BackupSettings& settings,
                                                      std::shared_ptr<io::TlsClient> tls,
                                                      const std::string& url, TimeSource& time) {
  auto endpoint = io::endpoint_from_url(url, tls);
  if (!endpoint) {
    co_return endpoint.error();
  }
  io::EtcdClient client(ex, *endpoint, settings.request_timeout);
  // The revision the member holds before the snapshot: the snapshot, taken
  // after, must hold at least that.
  auto before = co_await client.status();
  if (!before) {
    co_return make_error("status before the snapshot: " + before.error().message);
  }
  const std::string temp = settings.dir + "/.etcd-backup-" + std::to_string(order.id) + ".part";
  ::unlink(temp.c_str());  // left by a scheduler that died while writing
  auto file = TempFile::create(temp);
  if (!file) {
    co_return file.error();
  }
  TempFile& out = **file;
  SnapshotDecoder decoder(settings.max_bytes,
                          [&out](std::string_view bytes) { return out.write(bytes); });
  io::Request req =
      io::make_request(io::http::verb::post, "/v3/maintenance/snapshot", *endpoint, "{}");
  // Built before co_await (GCC 12 and temporaries in its arguments).
  io::BodySink sink = [&decoder](std::string_view piece) { return decoder.feed(piece); };
  const uint64_t wire_limit = settings.max_bytes * 2 + 1024 * 1024;  // base64 and JSON
  auto streamed =
      co_await io::http_request_streamed(ex, *endpoint, std::move(req), settings.timeout,
                                         settings.idle_timeout, wire_limit, std::move(sink));
  if (!streamed) {
    co_return make_error("snapshot: " + streamed.error().message);
  }
  auto size = decoder.finish();
  if (!size) {
    co_return size.error();
  }
  if (auto synced = out.sync_and_close(); !synced) {
    co_return synced.error();
  }
  auto revision = co_await snapshot_revision(ex, settings, temp, order.id);
  if (!revision) {
    co_return revision.error();
  }
  if (*revision < before->revision) {
    co_return make_error("the snapshot holds revision " + std::to_string(*revision) +
                         ", older than the member's " + std::to_string(before->revision) +
                         " before it was taken");
  }
  const std::string name = backup_file_name(time.system_now(), *revision);
  if (auto renamed = out.rename_to(settings.dir + "/" + name); !renamed) {
    co_return renamed.error();
  }
  if (auto synced = sync_dir(settings.dir); !synced) {
    co_return synced.error();
  }
  core::BackupDone done;
  done.id = order.id;
  done.ok = true;
  done.revision = *revision;
  done.size_bytes = *size;
  done.file = name;
  co_return done;
}

void prune(const BackupSettings& settings, const std::string& just_written) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(settings.dir, ec)) {
    names.push_back(entry.path().filename().string());
  }
  if (ec) {
    log()->warn("cannot list {} to prune old backups: {}", settings.dir, ec.message());
    return;
  }
  for (const auto& name : backups_to_prune(names, settings.keep, just_written)) {
    const std::string path = settings.dir + "/" + name;
    if (::unlink(path.c_str()) != 0) {
      log()->warn("cannot delete the old backup {}: {}", path, errno_text());
    } else {
      log()->info("deleted the old backup {} (keeping the newest {})", name, settings.keep);
    }
  }
}

}  // namespace

Result<void> check_backup_dir(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return make_error("--backup-dir " + dir + " is not a directory");
  }
  const std::string probe = dir + "/.etcd-backup-probe";
  ::unlink(probe.c_str());
  auto file = TempFile::create(probe);
  if (!file) {
    return make_error("--backup-dir " + dir + " is not writable: " + file.error().message);
  }
  if (auto written = (*file)->write("probe"); !written) {
    return make_error("--backup-dir " + dir + ": " + written.error().message);
  }
  if (auto synced = (*file)->sync_and_close(); !synced) {
    return make_error("--backup-dir " + dir + ": " + synced.error().message);
  }
  return {};  // the probe is removed with `file`
}

asio::awaitable<core::BackupDone> take_backup(asio::any_io_executor ex, core::TakeBackup order,
                                              BackupSettings settings,
                                              std::shared_ptr<io::TlsClient> tls,
                                              TimeSource& time) {
  core::BackupDone done;
  done.id = order.id;
  done.error = "no member to take it from";
  std::string errors;
  for (const auto& url : order.client_urls) {
    Result<core::BackupDone> attempt = make_error("internal error");
    try {
      attempt = co_await backup_from(ex, order, settings, tls, url, time);
    } catch (const std::exception& e) {
      attempt = make_error(std::string("internal error: ") + e.what());
    }
    if (attempt) {
      try {
        prune(settings, attempt->file);
      } catch (const std::exception& e) {
        // The backup is written and verified: a failed pruning is only logged.
        log()->warn("pruning old backups in {} failed: {}", settings.dir, e.what());
      }
      co_return *attempt;
    }
    errors += (errors.empty() ? "" : "; ") + url + ": " + attempt.error().message;
    log()->warn("backup {} from {} failed: {}", order.id, url, attempt.error().message);
  }
  if (!errors.empty()) {
    done.error = errors;
  }
  co_return done;
}

}  // namespace etcdmesos::scheduler
