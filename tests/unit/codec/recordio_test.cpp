#include "codec/recordio.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace etcdmesos::recordio {
namespace {

using Records = std::vector<std::string>;

Records feed_ok(Decoder& decoder, std::string_view bytes) {
  auto result = decoder.feed(bytes);
  EXPECT_TRUE(result.has_value()) << (result ? "" : result.error().message);
  return result ? *result : Records{};
}

TEST(RecordIoEncode, PrefixesDecimalLengthAndNewline) {
  EXPECT_EQ(encode(R"({"type":"HEARTBEAT"})"), "20\n{\"type\":\"HEARTBEAT\"}");
  EXPECT_EQ(encode("x"), "1\nx");
}

TEST(RecordIoDecoder, DecodesObservedMasterStream) {
  // Reference §19: an ERROR event as the whole body (chunk framing removed).
  Decoder decoder(1024);
  const std::string body =
      "65\n{\"type\":\"ERROR\",\"error\":{\"message\":\"Framework has been removed\"}}";
  EXPECT_EQ(feed_ok(decoder, body),
            Records{R"({"type":"ERROR","error":{"message":"Framework has been removed"}})"});
  EXPECT_EQ(decoder.buffered(), 0u);
}

TEST(RecordIoDecoder, SeveralRecordsInOneFeed) {
  Decoder decoder(1024);
  const std::string bytes = encode("one") + encode("two") + encode("three");
  EXPECT_EQ(feed_ok(decoder, bytes), (Records{"one", "two", "three"}));
  EXPECT_EQ(decoder.buffered(), 0u);
}

TEST(RecordIoDecoder, RecordSplitAcrossFeeds) {
  Decoder decoder(1024);
  EXPECT_TRUE(feed_ok(decoder, "1").empty());
  EXPECT_TRUE(feed_ok(decoder, "1\nhello").empty());
  EXPECT_EQ(decoder.buffered(), 8u);
  EXPECT_EQ(feed_ok(decoder, " world2\nab"), (Records{"hello world", "ab"}));
  EXPECT_EQ(decoder.buffered(), 0u);
}

TEST(RecordIoDecoder, ByteByByteFeeding) {
  Decoder decoder(1024);
  const Records expected{"{\"a\":1}", std::string(300, 'x'), "z"};
  std::string stream;
  for (const auto& record : expected) {
    stream += encode(record);
  }
  Records got;
  for (char c : stream) {
    for (auto& record : feed_ok(decoder, std::string_view(&c, 1))) {
      got.push_back(record);
    }
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(decoder.buffered(), 0u);
}

TEST(RecordIoDecoder, RecordMayContainNewlinesAndBinary) {
  Decoder decoder(1024);
  const std::string record("a\nb\0c\n", 6);
  EXPECT_EQ(feed_ok(decoder, encode(record) + encode("d")), (Records{record, "d"}));
}

TEST(RecordIoDecoder, EmptyFeedIsHarmless) {
  Decoder decoder(1024);
  EXPECT_TRUE(feed_ok(decoder, "").empty());
  EXPECT_TRUE(feed_ok(decoder, "3").empty());
  EXPECT_TRUE(feed_ok(decoder, "").empty());
  EXPECT_EQ(feed_ok(decoder, "\nabc"), Records{"abc"});
}

TEST(RecordIoDecoder, LeadingZerosAccepted) {
  Decoder decoder(1024);
  EXPECT_EQ(feed_ok(decoder, "0003\nabc"), Records{"abc"});
  EXPECT_EQ(feed_ok(decoder, "00000000000000000002\nxy"), Records{"xy"});  // 20 digits
}

TEST(RecordIoDecoder, RecordExactlyAtLimitAccepted) {
  Decoder decoder(4);
  EXPECT_EQ(feed_ok(decoder, "4\nabcd"), Records{"abcd"});
}

struct BadInput {
  const char* name;
  std::string bytes;
};

class RecordIoMalformed : public testing::TestWithParam<BadInput> {};

TEST_P(RecordIoMalformed, FailsAndStaysFailed) {
  Decoder decoder(1024);
  auto first = decoder.feed(GetParam().bytes);
  ASSERT_FALSE(first.has_value());
  EXPECT_FALSE(first.error().message.empty());
  EXPECT_TRUE(decoder.failed());
  // A valid record afterwards does not revive it; the same error repeats.
  auto second = decoder.feed(encode("ok"));
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().message, first.error().message);
  EXPECT_EQ(decoder.buffered(), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    All, RecordIoMalformed,
    testing::Values(BadInput{"NonDigit", "1a\nxx"}, BadInput{"LeadingGarbage", "x5\nhello"},
                    BadInput{"Negative", "-5\nhello"}, BadInput{"Space", " 5\nhello"},
                    BadInput{"PlusSign", "+5\nhello"}, BadInput{"CarriageReturn", "5\r\nhello"},
                    BadInput{"EmptyLength", "\nabc"}, BadInput{"ZeroLength", "0\n"},
                    BadInput{"ZerosOnly", "000\n"},
                    BadInput{"TwentyOneDigits", "000000000000000000001\nx"},
                    BadInput{"TwentyOneDigitsNoNewline", "000000000000000000001"},
                    BadInput{"Overflow", "18446744073709551616\n"},
                    BadInput{"MaxUint64TooLarge", "18446744073709551615\n"},
                    BadInput{"AboveLimit", "1025\n"},
                    BadInput{"GarbageBeforeNewline", "{\"type\":\"HEARTBEAT\"}"},
                    BadInput{"BadSecondRecord", "1\nab\nc"}),
    [](const testing::TestParamInfo<BadInput>& param_info) { return param_info.param.name; });

TEST(RecordIoDecoder, GarbageDetectedBeforeNewlineArrives) {
  Decoder decoder(1024);
  auto result = decoder.feed("12x");
  EXPECT_FALSE(result.has_value());
  EXPECT_TRUE(decoder.failed());
}

TEST(RecordIoDecoder, FailureInLaterFeedAfterGoodRecords) {
  Decoder decoder(1024);
  EXPECT_EQ(feed_ok(decoder, encode("good")), Records{"good"});
  EXPECT_FALSE(decoder.feed("abc\n").has_value());
  EXPECT_FALSE(decoder.feed(encode("good")).has_value());
}

TEST(RecordIoDecoder, PartialRecordIsBufferedNotReturned) {
  Decoder decoder(1024);
  EXPECT_TRUE(feed_ok(decoder, "10\n12345").empty());
  EXPECT_EQ(decoder.buffered(), 8u);
  EXPECT_FALSE(decoder.failed());
}

}  // namespace
}  // namespace etcdmesos::recordio
