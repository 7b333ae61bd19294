// The copy of etcd's data directory before a reseed (executor/data_copy.hpp):
// the free-space decision alone, then copy_data_dir with the free space
// given, so that a full disk needs no full disk.
#include "executor/data_copy.hpp"

#include "support/processes.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <limits>

namespace etcdmesos::executor {
namespace {

constexpr std::uintmax_t kMiB = 1024 * 1024;

void write_file(const std::filesystem::path& file, std::size_t bytes) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << std::string(bytes, 'x');
}

FreeSpace space_of(std::uintmax_t bytes, int* asked = nullptr) {
  return [bytes, asked](const std::filesystem::path&) -> Result<std::uintmax_t> {
    if (asked != nullptr) {
      ++*asked;
    }
    return bytes;
  };
}

TEST(CopyMargin, IsTenPercentOfTheDataButAtLeast64MiB) {
  EXPECT_EQ(copy_margin_bytes(0), 64 * kMiB);
  EXPECT_EQ(copy_margin_bytes(640 * kMiB), 64 * kMiB);
  EXPECT_EQ(copy_margin_bytes(2000 * kMiB), 200 * kMiB);
}

TEST(CopyDoesNotFit, NothingToSayWhenTheCopyAndItsMarginFit) {
  EXPECT_EQ(copy_does_not_fit(100 * kMiB, 164 * kMiB, "/sandbox"), std::nullopt);
  EXPECT_EQ(copy_does_not_fit(0, 64 * kMiB, "/sandbox"), std::nullopt);
}

TEST(CopyDoesNotFit, ARefusalNamesWhatIsNeededAndWhatIsThere) {
  auto refusal = copy_does_not_fit(100 * kMiB, 164 * kMiB - 1, "/sandbox");
  ASSERT_TRUE(refusal);
  EXPECT_EQ(*refusal,
            "not enough free space to copy the data directory aside: it needs 164 MiB (100 MiB of "
            "data + 64 MiB margin for etcd to write on), 163 MiB available on /sandbox");
  // Needed rounds up, available down: a refusal never reads as if it fitted.
  refusal = copy_does_not_fit(1024 * kMiB, 300 * kMiB + kMiB / 2, "/d");
  ASSERT_TRUE(refusal);
  EXPECT_NE(refusal->find("needs 1127 MiB (1024 MiB of data + 103 MiB margin"), std::string::npos)
      << *refusal;
  EXPECT_NE(refusal->find("300 MiB available on /d"), std::string::npos) << *refusal;
}

TEST(CopyDoesNotFit, HugeSizesDoNotWrapAround) {
  const auto max = std::numeric_limits<std::uintmax_t>::max();
  EXPECT_TRUE(copy_does_not_fit(max - kMiB, max - 1, "/d"));
  EXPECT_TRUE(copy_does_not_fit(max, max - 1, "/d"));
}

TEST(DirectorySize, SumsTheRegularFilesUnderIt) {
  testing::TempDir dir("data-copy-test");
  write_file(dir.path() / "data" / "member" / "snap" / "db", 3000);
  write_file(dir.path() / "data" / "member" / "wal" / "0.wal", 500);
  std::filesystem::create_directories(dir.path() / "data" / "empty");
  auto size = directory_size(dir.path() / "data");
  ASSERT_TRUE(size) << size.error().message;
  EXPECT_EQ(*size, 3500u);
  EXPECT_FALSE(directory_size(dir.path() / "missing"));
}

class CopyDataDir : public ::testing::Test {
 protected:
  CopyDataDir() : dir_("data-copy-test") {
    write_file(from_ / "member" / "snap" / "db", 4096);
    write_file(from_ / "member" / "wal" / "0.wal", 1024);
  }

  testing::TempDir dir_;
  std::filesystem::path from_ = dir_.path() / "etcd-data";
  std::filesystem::path to_ = dir_.path() / "etcd-data.before-reseed-7";
  std::filesystem::path partial_ = dir_.path() / "etcd-data.before-reseed-7.partial";
};

TEST_F(CopyDataDir, CopiesWhenItFits) {
  auto copied = copy_data_dir(from_, to_, space_of(64 * kMiB + 5120));
  ASSERT_TRUE(copied) << copied.error().message;
  EXPECT_EQ(std::filesystem::file_size(to_ / "member" / "snap" / "db"), 4096u);
  EXPECT_EQ(std::filesystem::file_size(to_ / "member" / "wal" / "0.wal"), 1024u);
  EXPECT_FALSE(std::filesystem::exists(partial_));
}

TEST_F(CopyDataDir, RefusesWithoutWritingAnythingWhenItDoesNotFit) {
  write_file(partial_ / "leftover", 10);  // an earlier attempt's
  auto copied = copy_data_dir(from_, to_, space_of(64 * kMiB + 5119));
  ASSERT_FALSE(copied);
  EXPECT_NE(copied.error().message.find("not enough free space"), std::string::npos)
      << copied.error().message;
  EXPECT_NE(copied.error().message.find(dir_.path().string()), std::string::npos)
      << copied.error().message;
  EXPECT_FALSE(std::filesystem::exists(to_));
  EXPECT_FALSE(std::filesystem::exists(partial_));
  EXPECT_TRUE(std::filesystem::exists(from_ / "member" / "snap" / "db"));
}

TEST_F(CopyDataDir, AnUnknownFreeSpaceIsAFailure) {
  auto copied =
      copy_data_dir(from_, to_, [](const std::filesystem::path&) -> Result<std::uintmax_t> {
        return make_error("statvfs failed");
      });
  ASSERT_FALSE(copied);
  EXPECT_EQ(copied.error().message, "statvfs failed");
  EXPECT_FALSE(std::filesystem::exists(to_));
}

TEST_F(CopyDataDir, KeepsAnEarlierCopyWithoutAskingForSpace) {
  std::filesystem::create_directories(to_);
  int asked = 0;
  auto copied = copy_data_dir(from_, to_, space_of(0, &asked));
  ASSERT_TRUE(copied) << copied.error().message;
  EXPECT_NE(copied->find("kept the earlier copy"), std::string::npos) << *copied;
  EXPECT_EQ(asked, 0);
}

TEST_F(CopyDataDir, AsksTheRealFilesystemByDefault) {
  // The sandbox's filesystem has room for 5 KiB and the margin here.
  auto copied = copy_data_dir(from_, to_);
  ASSERT_TRUE(copied) << copied.error().message;
  EXPECT_TRUE(std::filesystem::exists(to_ / "member" / "snap" / "db"));
  auto free = free_space(dir_.path());
  ASSERT_TRUE(free) << free.error().message;
  EXPECT_GT(*free, 0u);
}

}  // namespace
}  // namespace etcdmesos::executor
