// The shell's one backoff (common/backoff.hpp): doubling, the cap, reset,
// the jitter's range, and the stateless n-th wait. (In the codec area: the
// lowest unit binary, with the common library linked.)
#include "common/backoff.hpp"

#include <gtest/gtest.h>

#include <random>

namespace etcdmesos {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, DoublesUpToTheCapAndStartsAgainAfterAReset) {
  Backoff b(milliseconds(100), milliseconds(500));
  EXPECT_EQ(b.next(), milliseconds(100));
  EXPECT_EQ(b.next(), milliseconds(200));
  EXPECT_EQ(b.next(), milliseconds(400));
  EXPECT_EQ(b.next(), milliseconds(500));
  EXPECT_EQ(b.next(), milliseconds(500));
  b.reset();
  EXPECT_EQ(b.next(), milliseconds(100));
}

TEST(Backoff, TheCapWinsOverTheFirstWaitAndEveryWaitIsAtLeastOneMillisecond) {
  Backoff capped(milliseconds(30000), milliseconds(15000));
  EXPECT_EQ(capped.next(), milliseconds(15000));
  EXPECT_EQ(capped.next(), milliseconds(15000));
  Backoff zero(milliseconds(0), milliseconds(0));
  EXPECT_EQ(zero.next(), milliseconds(1));
  EXPECT_EQ(zero.next(), milliseconds(1));
}

TEST(Backoff, AJitteredWaitLiesBetweenHalfAndTheWholeOfItsStep) {
  std::mt19937_64 rng(7);
  Backoff b(milliseconds(100), milliseconds(1600));
  bool below_the_step = false;
  for (int ms : {100, 200, 400, 800, 1600, 1600, 1600}) {
    const milliseconds step(ms);
    const auto wait = b.next_jittered(rng);
    EXPECT_GE(wait, step / 2);
    EXPECT_LE(wait, step);
    below_the_step = below_the_step || wait < step;
  }
  EXPECT_TRUE(below_the_step);
}

TEST(Backoff, TheNthWaitNeedsNoState) {
  const Backoff b(milliseconds(1000), milliseconds(30000));
  EXPECT_EQ(b.nth(1), milliseconds(1000));
  EXPECT_EQ(b.nth(2), milliseconds(2000));
  EXPECT_EQ(b.nth(5), milliseconds(16000));
  EXPECT_EQ(b.nth(6), milliseconds(30000));
  EXPECT_EQ(b.nth(1000), milliseconds(30000));
  EXPECT_EQ(b.nth(0), milliseconds(1000));
}

}  // namespace
}  // namespace etcdmesos
