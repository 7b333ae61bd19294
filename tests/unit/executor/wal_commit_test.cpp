// Reading the commit index a stopped etcd's WAL holds (executor/wal_commit):
// frames built here byte by byte as etcd 3.4 lays them out; the executor
// tests check the same reader against a real etcd's data directory.
#include "executor/wal_commit.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace etcdmesos::executor {
namespace {

std::string varint(uint64_t v) {
  std::string out;
  do {
    uint8_t byte = v & 0x7f;
    v >>= 7;
    out.push_back(static_cast<char>(v != 0 ? byte | 0x80 : byte));
  } while (v != 0);
  return out;
}

std::string field_varint(uint32_t number, uint64_t value) {
  return varint(uint64_t{number} << 3) + varint(value);
}

std::string field_bytes(uint32_t number, const std::string& bytes) {
  return varint((uint64_t{number} << 3) | 2) + varint(bytes.size()) + bytes;
}

// One frame: length field (with the padding in its top byte), record, padding.
std::string frame(uint64_t type, const std::string& data) {
  const std::string record = field_varint(1, type) + field_varint(2, 12345) + field_bytes(3, data);
  const std::size_t pad = (8 - record.size() % 8) % 8;
  uint64_t len = record.size();
  if (pad != 0) {
    len |= uint64_t{0x80 | pad} << 56;
  }
  std::string out;
  for (int i = 0; i < 8; ++i) {
    out.push_back(static_cast<char>((len >> (8 * i)) & 0xff));
  }
  return out + record + std::string(pad, '\0');
}

std::string hard_state(uint64_t term, uint64_t commit) {
  return frame(3, field_varint(1, term) + field_varint(2, 1) + field_varint(3, commit));
}

std::string entry() {
  return frame(2, field_varint(2, 7) + field_bytes(4, "put k v"));
}

TEST(WalCommit, TheLastHardStateGivesTheCommitIndex) {
  const std::string wal = frame(1, "metadata") + hard_state(2, 5) + entry() + hard_state(2, 9) +
                          entry() + std::string(64, '\0');  // preallocated space
  EXPECT_EQ(last_hard_state_commit(wal), 9u);
  EXPECT_EQ(last_hard_state_commit(frame(1, "metadata") + entry()), std::nullopt);
  EXPECT_EQ(last_hard_state_commit(""), std::nullopt);
}

TEST(WalCommit, ATornOrMalformedTailEndsTheReadingAndWhatCameBeforeStands) {
  const std::string good = hard_state(2, 5);
  const std::string next = hard_state(3, 8);
  EXPECT_EQ(last_hard_state_commit(good + next.substr(0, next.size() - 3)), 5u);
  EXPECT_EQ(last_hard_state_commit(good + std::string(8, '\xff') + next), 5u);
  // A record whose fields run past its end.
  std::string bad = frame(3, "\x18");  // commit field without its value
  EXPECT_EQ(last_hard_state_commit(good + bad + next), 5u);
}

TEST(WalCommit, TheFilesOfADataDirectoryAreReadInNameOrder) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("wal-commit-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  EXPECT_FALSE(wal_commit_index(dir));  // no WAL at all
  std::filesystem::create_directories(dir / "member" / "wal");
  EXPECT_FALSE(wal_commit_index(dir));  // no hard state
  std::ofstream(dir / "member" / "wal" / "0000000000000001-0000000000000010.wal", std::ios::binary)
      << hard_state(4, 30);
  std::ofstream(dir / "member" / "wal" / "0000000000000000-0000000000000000.wal", std::ios::binary)
      << hard_state(2, 12);
  std::ofstream(dir / "member" / "wal" / "0.tmp", std::ios::binary) << hard_state(9, 99);
  const auto index = wal_commit_index(dir);
  ASSERT_TRUE(index) << index.error().message;
  EXPECT_EQ(*index, 30u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace etcdmesos::executor
