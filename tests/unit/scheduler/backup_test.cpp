// The shell's part of backups (scheduler/backup.cpp): the snapshot stream
// decoder, file names and pruning.
#include "scheduler/backup.hpp"

#include "codec/mesos.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <chrono>
#include <string>
#include <vector>

namespace etcdmesos::scheduler {
namespace {

std::string sha256(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string message(uint64_t remaining, const std::string& blob) {
  std::string m = R"({"result":{)";
  if (remaining != 0) {  // etcd omits zero values
    m += R"("remaining_bytes":")" + std::to_string(remaining) + R"(",)";
  }
  return m + R"("blob":")" + mesos::base64_encode(blob) + "\"}}\n";
}

// What etcd 3.4 sends for `db`: blobs of `blob_size` bytes, each saying
// how many bytes of the database remain after it (the hash not counted),
// then the SHA-256 in a message of its own.
std::string stream_of(const std::string& db, std::size_t blob_size = 1000) {
  std::string out;
  std::size_t sent = 0;
  while (sent < db.size()) {
    const auto n = std::min(blob_size, db.size() - sent);
    sent += n;
    out += message(db.size() - sent, db.substr(sent - n, n));
  }
  out += message(0, sha256(db));
  return out;
}

std::string sample_db(std::size_t size) {
  std::string db(size, '\0');
  for (std::size_t i = 0; i < size; ++i) {
    db[i] = static_cast<char>((i * 131 + 7) % 251);
  }
  return db;
}

struct Decoded {
  Result<uint64_t> size = make_error("not finished");
  std::string written;
  std::string feed_error;
};

// Feeds `stream` in pieces of `piece` bytes.
Decoded decode(const std::string& stream, std::size_t piece, uint64_t limit = 1 << 30) {
  Decoded d;
  SnapshotDecoder decoder(limit, [&d](std::string_view bytes) {
    d.written.append(bytes);
    return Result<void>{};
  });
  for (std::size_t at = 0; at < stream.size(); at += piece) {
    if (auto fed = decoder.feed(std::string_view(stream).substr(at, piece)); !fed) {
      d.feed_error = fed.error().message;
      d.size = fed.error();
      return d;
    }
  }
  d.size = decoder.finish();
  return d;
}

TEST(SnapshotDecoder, ASnapshotFedInAnyPiecesIsWrittenWholeWithItsHash) {
  const std::string db = sample_db(5000);
  const std::string stream = stream_of(db);
  for (std::size_t piece : {std::size_t{1}, std::size_t{7}, std::size_t{31}, std::size_t{33},
                            std::size_t{1024}, stream.size()}) {
    const auto d = decode(stream, piece);
    ASSERT_TRUE(d.size) << "piece " << piece << ": " << d.size.error().message;
    EXPECT_EQ(*d.size, db.size() + 32);  // the database and its hash
    // Byte for byte what `etcdctl snapshot save` writes: the db and its hash.
    EXPECT_EQ(d.written, db + sha256(db)) << "piece " << piece;
  }
}

TEST(SnapshotDecoder, OneBlobWithoutRemainingBytesIsASmallDatabase) {
  // As a 20 KiB database arrives (captured from etcd 3.4): remaining_bytes
  // is omitted (zero) in both messages.
  const std::string db = sample_db(20480);
  const std::string stream = R"({"result":{"blob":")" + mesos::base64_encode(db) + "\"}}\n" +
                             R"({"result":{"blob":")" + mesos::base64_encode(sha256(db)) + "\"}}\n";
  const auto d = decode(stream, 4096);
  ASSERT_TRUE(d.size) << d.size.error().message;
  EXPECT_EQ(*d.size, 20480u + 32);
  EXPECT_EQ(d.written, db + sha256(db));
}

TEST(SnapshotDecoder, TheHashMustBeAMessageOfThirtyTwoBytes) {
  const std::string db = sample_db(100);
  const std::string hash = sha256(db);
  auto d =
      decode(message(0, db) + message(0, hash.substr(0, 20)) + message(0, hash.substr(20)), 64);
  ASSERT_FALSE(d.size);
  EXPECT_NE(d.feed_error.find("SHA-256 belongs"), std::string::npos) << d.feed_error;
  d = decode(message(0, db), 64);
  ASSERT_FALSE(d.size);
  EXPECT_NE(d.size.error().message.find("without its SHA-256"), std::string::npos)
      << d.size.error().message;
}

TEST(SnapshotDecoder, AWrongHashFails) {
  const std::string db = sample_db(3000);
  std::string corrupted = db;
  corrupted[1234] ^= 0x01;
  std::string stream = message(0, corrupted) + message(0, sha256(db));
  const auto d = decode(stream, 64);
  ASSERT_FALSE(d.size);
  EXPECT_NE(d.size.error().message.find("SHA-256"), std::string::npos) << d.size.error().message;
}

TEST(SnapshotDecoder, ATruncatedStreamFails) {
  const std::string stream = stream_of(sample_db(5000));
  // Cut after the second message: bytes announced never came.
  std::size_t cut = stream.find('\n', stream.find('\n') + 1) + 1;
  auto d = decode(stream.substr(0, cut), 100);
  ASSERT_FALSE(d.size);
  EXPECT_NE(d.size.error().message.find("ended after"), std::string::npos)
      << d.size.error().message;
  // Cut inside a message: not JSON.
  d = decode(stream.substr(0, cut + 20), 100);
  EXPECT_FALSE(d.size);
  // Nothing at all.
  d = decode("", 100);
  ASSERT_FALSE(d.size);
  EXPECT_NE(d.size.error().message.find("before its first message"), std::string::npos);
}

TEST(SnapshotDecoder, BadBase64BadJsonAndInconsistentCountsFail) {
  auto d = decode(R"({"result":{"remaining_bytes":"32","blob":"%%%not base64"}})"
                  "\n",
                  10);
  ASSERT_FALSE(d.size);
  EXPECT_NE(d.feed_error.find("base64"), std::string::npos) << d.feed_error;

  d = decode("this is not json\n", 4);
  ASSERT_FALSE(d.size);
  EXPECT_NE(d.feed_error.find("not JSON"), std::string::npos) << d.feed_error;

  d = decode(R"({"result":{"remaining_bytes":"x1","blob":""}})"
             "\n",
             100);
  EXPECT_NE(d.feed_error.find("remaining_bytes"), std::string::npos) << d.feed_error;

  // The second message claims more remains than the first announced.
  const std::string db = sample_db(200);
  d = decode(message(100, db.substr(0, 100)) + message(500, db.substr(100)), 50);
  ASSERT_FALSE(d.size);
  EXPECT_NE(d.feed_error.find("inconsistent"), std::string::npos) << d.feed_error;

  // More after the message that said nothing remains.
  d = decode(stream_of(db) + message(0, "x"), 1000);
  ASSERT_FALSE(d.size);
  EXPECT_NE(d.feed_error.find("goes on after its SHA-256"), std::string::npos) << d.feed_error;
}

TEST(SnapshotDecoder, EtcdsErrorMessageIsReported) {
  const auto d = decode(R"({"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: )"
                        R"(request timed out","http_status":"Service Unavailable"}})"
                        "\n",
                        17);
  ASSERT_FALSE(d.size);
  EXPECT_NE(d.feed_error.find("etcdserver: request timed out"), std::string::npos) << d.feed_error;
}

TEST(SnapshotDecoder, ASnapshotAboveTheLimitIsRefusedAtTheFirstMessage) {
  const std::string db = sample_db(4000);
  const auto d = decode(stream_of(db), 4096, 1000);
  ASSERT_FALSE(d.size);
  EXPECT_NE(d.feed_error.find("larger than the limit"), std::string::npos) << d.feed_error;
  EXPECT_TRUE(d.written.empty());  // nothing written before the refusal
  // A line without end beyond the line limit.
  SnapshotDecoder decoder(1 << 30, [](std::string_view) { return Result<void>{}; });
  const std::string chunk(1024 * 1024, 'a');
  Result<void> fed;
  for (int i = 0; i < 5 && fed; ++i) {
    fed = decoder.feed(chunk);
  }
  ASSERT_FALSE(fed);
  EXPECT_NE(fed.error().message.find("longer than"), std::string::npos);
}

TEST(SnapshotDecoder, AWriterErrorStopsTheDecoderForGood) {
  const std::string stream = stream_of(sample_db(3000));
  SnapshotDecoder decoder(1 << 30, [](std::string_view) -> Result<void> {
    return make_error("No space left on device");
  });
  auto fed = decoder.feed(stream);
  ASSERT_FALSE(fed);
  EXPECT_EQ(fed.error().message, "No space left on device");
  EXPECT_FALSE(decoder.feed("{}\n"));
  EXPECT_FALSE(decoder.finish());
}

TEST(BackupFiles, NamesSortByTimeAndCarryTheRevision) {
  using namespace std::chrono;
  const system_clock::time_point t{milliseconds(1796398200123)};  // 2026-12-04T15:30:00.123Z
  EXPECT_EQ(backup_file_name(t, 42), "etcd-backup-20261204T153000.123Z-r42.db");
  EXPECT_TRUE(is_backup_file_name(backup_file_name(t, 42)));
  EXPECT_LT(backup_file_name(t, 900), backup_file_name(t + seconds(1), 5));
  for (const char* other :
       {"etcd-backup-20261204T153000.123Z-r42.db.part", ".etcd-backup-3.part",
        "etcd-backup-latest.db", "notes.txt", "etcd-backup-20261204T153000Z-r1.db"}) {
    EXPECT_FALSE(is_backup_file_name(other)) << other;
  }
}

TEST(BackupFiles, PruningKeepsTheNewestAndTouchesNothingElse) {
  const std::vector<std::string> names = {
      "etcd-backup-20261204T150000.000Z-r10.db", "notes.txt",
      "etcd-backup-20261204T160000.000Z-r30.db", ".etcd-backup-9.part",
      "etcd-backup-20261204T153000.000Z-r20.db", "etcd-backup-20261204T170000.000Z-r5.db"};
  EXPECT_EQ(backups_to_prune(names, 2, "etcd-backup-20261204T170000.000Z-r5.db"),
            (std::vector<std::string>{"etcd-backup-20261204T150000.000Z-r10.db",
                                      "etcd-backup-20261204T153000.000Z-r20.db"}));
  EXPECT_TRUE(backups_to_prune(names, 4, "").empty());
  EXPECT_EQ(backups_to_prune(names, 1, "").size(), 3u);
  // The one just written survives even if the clock went back and it sorts
  // first; one more of the others goes instead.
  EXPECT_EQ(backups_to_prune(names, 2, "etcd-backup-20261204T150000.000Z-r10.db"),
            (std::vector<std::string>{"etcd-backup-20261204T153000.000Z-r20.db",
                                      "etcd-backup-20261204T160000.000Z-r30.db"}));
}

}  // namespace
}  // namespace etcdmesos::scheduler
