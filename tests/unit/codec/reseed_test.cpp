// The reseed wire format (codec/reseed.hpp): orders round-trip, an
// executor's answer decodes to the report it meant, and the data label of a
// failed seed is strict — a report claiming more than this version knows is
// no report at all.
#include "codec/reseed.hpp"

#include <gtest/gtest.h>

namespace etcdmesos {
namespace {

const ReseedOrderText kSeed{ReseedAction::kSeed, 7};

Labels with(Labels labels, const std::string& key, const std::string& value) {
  labels.emplace_back(key, value);
  return labels;
}

TEST(ReseedProtocol, OrderRoundTripsAndOthersAreRefused) {
  EXPECT_EQ(encode_reseed_order(kSeed), "etcd-mesos/reseed action=seed id=7");
  EXPECT_EQ(decode_reseed_order(encode_reseed_order(kSeed)), kSeed);
  EXPECT_EQ(decode_reseed_order("etcd-mesos/reseed action=seed id="), std::nullopt);
  EXPECT_EQ(decode_reseed_order("etcd-mesos/reseed action=grow id=1"), std::nullopt);
}

TEST(ReseedProtocol, AFenceOrderCarriesAPositiveLease) {
  const ReseedOrderText fence{ReseedAction::kFence, 7, 60000};
  EXPECT_EQ(encode_reseed_order(fence), "etcd-mesos/reseed action=fence id=7 lease-ms=60000");
  EXPECT_EQ(decode_reseed_order(encode_reseed_order(fence)), fence);
  // A fence without a bounded lease would keep etcd stopped for good.
  EXPECT_EQ(decode_reseed_order("etcd-mesos/reseed action=fence id=7"), std::nullopt);
  EXPECT_EQ(decode_reseed_order("etcd-mesos/reseed action=fence id=7 lease-ms=0"), std::nullopt);
  EXPECT_EQ(decode_reseed_order("etcd-mesos/reseed action=fence id=7 lease-ms=x"), std::nullopt);
  EXPECT_EQ(decode_reseed_order("etcd-mesos/reseed action=fence id=7 lease=5"), std::nullopt);
  // A seed has nothing after its id.
  EXPECT_EQ(decode_reseed_order("etcd-mesos/reseed action=seed id=7 lease-ms=5"), std::nullopt);
  EXPECT_EQ(decode_reseed_order("etcd-mesos/reseed action=backup id=7"), std::nullopt);
}

TEST(ReseedProtocol, AnOkFenceSaysTheCommitIndexOfItsStoppedData) {
  const ReseedOrderText fence{ReseedAction::kFence, 7, 60000};
  const auto labels = reseed_report_labels(fence, true, false, 1234);
  auto report = reseed_report_from("t1", labels, "stopped");
  ASSERT_TRUE(report);
  EXPECT_EQ(report->action, ReseedAction::kFence);
  EXPECT_TRUE(report->ok);
  EXPECT_EQ(report->raft_index, 1234u);
  // Without the index it cannot be ranked; an index elsewhere is malformed.
  Labels without(labels.begin(), labels.end() - 1);
  EXPECT_EQ(reseed_report_from("t1", without, ""), std::nullopt);
  EXPECT_EQ(reseed_report_from("t1", with(without, std::string(kLabelRaftIndex), "x"), ""),
            std::nullopt);
  EXPECT_EQ(
      reseed_report_from(
          "t1", with(reseed_report_labels(kSeed, true), std::string(kLabelRaftIndex), "5"), ""),
      std::nullopt);
  // A failed fence carries no index and may say its data is untouched.
  auto failed = reseed_report_from("t1", reseed_report_labels(fence, false, true, 99), "leader");
  ASSERT_TRUE(failed);
  EXPECT_FALSE(failed->ok);
  EXPECT_TRUE(failed->data_untouched);
  EXPECT_EQ(failed->raft_index, 0u);
}

TEST(ReseedProtocol, AnswersDecodeToTheirReport) {
  auto ok = reseed_report_from("t1", reseed_report_labels(kSeed, true), "serves");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->task_id, "t1");
  EXPECT_EQ(ok->reseed_id, 7u);
  EXPECT_EQ(ok->action, ReseedAction::kSeed);
  EXPECT_TRUE(ok->ok);
  EXPECT_FALSE(ok->data_untouched);
  EXPECT_EQ(ok->message, "serves");

  auto failed = reseed_report_from("t1", reseed_report_labels(kSeed, false), "etcd exited");
  ASSERT_TRUE(failed);
  EXPECT_FALSE(failed->ok);
  EXPECT_FALSE(failed->data_untouched);  // absent: claims nothing
}

TEST(ReseedProtocol, AFailedAnswerCanSayTheDataIsUntouched) {
  const auto labels = reseed_report_labels(kSeed, false, /*data_untouched=*/true);
  EXPECT_EQ(labels.size(), 4u);
  EXPECT_EQ(labels.back(),
            (std::pair<std::string, std::string>{std::string(kLabelReseedData), "untouched"}));
  auto report = reseed_report_from("t1", labels, "no space");
  ASSERT_TRUE(report);
  EXPECT_FALSE(report->ok);
  EXPECT_TRUE(report->data_untouched);
}

TEST(ReseedProtocol, AnOkAnswerNeverSaysUntouched) {
  // Success changed the data: the flag is not written, and one read is malformed.
  EXPECT_EQ(reseed_report_labels(kSeed, true, true).size(), 3u);
  EXPECT_EQ(
      reseed_report_from(
          "t1", with(reseed_report_labels(kSeed, true), std::string(kLabelReseedData), "untouched"),
          ""),
      std::nullopt);
}

TEST(ReseedProtocol, AnUnknownDataValueMakesTheAnswerMalformed) {
  for (const std::string value : {"", "Untouched", "changed", "untouched "}) {
    EXPECT_EQ(
        reseed_report_from(
            "t1", with(reseed_report_labels(kSeed, false), std::string(kLabelReseedData), value),
            ""),
        std::nullopt)
        << "'" << value << "'";
  }
}

TEST(ReseedProtocol, MissingOrMalformedLabelsAreNoAnswer) {
  EXPECT_EQ(reseed_report_from("t1", {}, ""), std::nullopt);
  auto labels = reseed_report_labels(kSeed, false);
  labels.pop_back();  // no result
  EXPECT_EQ(reseed_report_from("t1", labels, ""), std::nullopt);
  labels.emplace_back(std::string(kLabelReseedResult), "maybe");
  EXPECT_EQ(reseed_report_from("t1", labels, ""), std::nullopt);
}

}  // namespace
}  // namespace etcdmesos
