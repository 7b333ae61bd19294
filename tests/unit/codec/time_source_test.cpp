// The shell's time and randomness sources: Timer on the real clock behaves
// as asio's steady_timer; on a FakeTimeSource it expires only when the clock
// is advanced past its expiry, in order, with the same completion rules.
#include "common/time_source.hpp"
#include "common/backoff.hpp"

#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace etcdmesos {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::seconds;

class FakeTimeTest : public ::testing::Test {
 protected:
  // Advances the fake clock, running every completion on the way.
  void advance(TimeSource::Duration d) {
    time_.advance(d, [this] {
      ioc_.restart();
      ioc_.poll();
    });
  }
  void run_ready() {
    ioc_.restart();
    ioc_.poll();
  }

  asio::io_context ioc_;
  FakeTimeSource time_;
};

TEST_F(FakeTimeTest, ATimerExpiresOnlyWhenTheClockPassesItsExpiry) {
  Timer timer(ioc_.get_executor(), time_);
  std::optional<boost::system::error_code> result;
  timer.expires_after(seconds(30));
  timer.async_wait([&](boost::system::error_code ec) { result = ec; });
  run_ready();
  EXPECT_FALSE(result) << "no real time passes on a fake clock";
  EXPECT_EQ(time_.pending_timers(), 1u);

  advance(seconds(29));
  EXPECT_FALSE(result);
  advance(seconds(1));
  ASSERT_TRUE(result);
  EXPECT_FALSE(*result) << result->message();
  EXPECT_EQ(time_.pending_timers(), 0u);
}

TEST_F(FakeTimeTest, TimersExpireInOrderEachAtItsOwnTime) {
  Timer late(ioc_.get_executor(), time_);
  Timer early(ioc_.get_executor(), time_);
  std::vector<std::pair<std::string, TimeSource::TimePoint>> seen;
  const auto start = time_.now();
  late.expires_after(seconds(5));
  early.expires_after(seconds(2));
  late.async_wait([&](boost::system::error_code) { seen.emplace_back("late", time_.now()); });
  early.async_wait([&](boost::system::error_code) { seen.emplace_back("early", time_.now()); });
  advance(seconds(10));
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].first, "early");
  EXPECT_EQ(seen[0].second - start, seconds(2));
  EXPECT_EQ(seen[1].first, "late");
  EXPECT_EQ(seen[1].second - start, seconds(5));
  EXPECT_EQ(time_.now() - start, seconds(10));
}

TEST_F(FakeTimeTest, ALoopThatReArmsRunsEveryRoundWithinOneAdvance) {
  // A retry loop with a backoff, as the shell's clients have: under the fake
  // clock its rounds happen at exactly the backoff's times.
  Timer timer(ioc_.get_executor(), time_);
  Backoff backoff(milliseconds(100), milliseconds(800));
  std::vector<milliseconds> at;
  const auto start = time_.now();
  asio::co_spawn(
      ioc_,
      [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 6; ++i) {
          timer.expires_after(backoff.next());
          co_await timer.async_wait(asio::use_awaitable);
          at.push_back(std::chrono::duration_cast<milliseconds>(time_.now() - start));
        }
      },
      asio::detached);
  run_ready();
  advance(seconds(10));
  EXPECT_EQ(
      at, (std::vector<milliseconds>{milliseconds(100), milliseconds(300), milliseconds(700),
                                     milliseconds(1500), milliseconds(2300), milliseconds(3100)}));
}

TEST_F(FakeTimeTest, CancelAbortsAWaitThatHasNotExpired) {
  Timer timer(ioc_.get_executor(), time_);
  std::optional<boost::system::error_code> result;
  timer.expires_after(seconds(1));
  timer.async_wait([&](boost::system::error_code ec) { result = ec; });
  EXPECT_EQ(timer.cancel(), 1u);
  run_ready();
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, asio::error::operation_aborted);
}

TEST_F(FakeTimeTest, AnExpiredWaitStaysAnExpiryWhenCancelOrReArmFollows) {
  // As on a steady_timer: once the expiry passed, the completion is success
  // even if the timer is cancelled or re-armed before the handler runs.
  Timer timer(ioc_.get_executor(), time_);
  std::vector<boost::system::error_code> results;
  timer.expires_after(seconds(1));
  timer.async_wait([&](boost::system::error_code ec) { results.push_back(ec); });
  time_.advance(seconds(1));  // expired; the handler has not run
  timer.cancel();
  timer.expires_after(seconds(1));
  run_ready();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0]) << results[0].message();
}

TEST_F(FakeTimeTest, ReArmingAbortsTheWaitInProgress) {
  Timer timer(ioc_.get_executor(), time_);
  std::vector<boost::system::error_code> results;
  timer.expires_after(seconds(1));
  timer.async_wait([&](boost::system::error_code ec) { results.push_back(ec); });
  timer.expires_after(seconds(5));
  timer.async_wait([&](boost::system::error_code ec) { results.push_back(ec); });
  advance(seconds(2));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0], asio::error::operation_aborted);
  advance(seconds(3));
  ASSERT_EQ(results.size(), 2u);
  EXPECT_FALSE(results[1]);
}

TEST_F(FakeTimeTest, ATimeAlreadyPastOrAnExpiredTimerCompletesAtOnce) {
  Timer timer(ioc_.get_executor(), time_);
  int done = 0;
  timer.expires_at(time_.now() - seconds(1));
  timer.async_wait([&](boost::system::error_code ec) { done += ec ? 0 : 1; });
  run_ready();
  EXPECT_EQ(done, 1);
  // Waiting again on the expired timer completes at once, too.
  timer.async_wait([&](boost::system::error_code ec) { done += ec ? 0 : 1; });
  run_ready();
  EXPECT_EQ(done, 2);
}

TEST_F(FakeTimeTest, AnUnarmedTimerWaitsForCancelWhateverTheClockDoes) {
  Timer wake(ioc_.get_executor(), time_);
  std::optional<boost::system::error_code> result;
  wake.async_wait([&](boost::system::error_code ec) { result = ec; });
  advance(std::chrono::hours(1000));
  EXPECT_FALSE(result);
  wake.cancel();
  run_ready();
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, asio::error::operation_aborted);
}

TEST_F(FakeTimeTest, ADestroyedTimerLeavesTheClockAndAbortsItsWait) {
  std::optional<boost::system::error_code> result;
  {
    Timer timer(ioc_.get_executor(), time_);
    timer.expires_after(seconds(1));
    timer.async_wait([&](boost::system::error_code ec) { result = ec; });
  }
  EXPECT_EQ(time_.pending_timers(), 0u);
  advance(seconds(2));
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, asio::error::operation_aborted);
}

TEST_F(FakeTimeTest, TheWallClockMovesWithTheMonotonicOne) {
  const double before = time_.epoch_seconds();
  advance(milliseconds(2500));
  EXPECT_DOUBLE_EQ(time_.epoch_seconds() - before, 2.5);
}

TEST(RealTimeTest, ATimerOnTheRealClockIsASteadyTimer) {
  asio::io_context ioc;
  Timer timer(ioc.get_executor(), real_time());
  const auto start = real_time().now();
  timer.expires_after(milliseconds(30));
  bool expired = false;
  timer.async_wait([&](boost::system::error_code ec) { expired = !ec; });
  ioc.run();
  EXPECT_TRUE(expired);
  EXPECT_GE(real_time().now() - start, milliseconds(30));
}

TEST(RandomSourceTest, ASeededSourceRepeatsAndDrivesTheBackoffJitter) {
  SeededRandom a(42);
  SeededRandom b(42);
  Backoff one(milliseconds(100), seconds(10));
  Backoff two(milliseconds(100), seconds(10));
  for (int i = 0; i < 20; ++i) {
    RandomSource& ra = a;
    RandomSource& rb = b;
    EXPECT_EQ(one.next_jittered(ra), two.next_jittered(rb));
  }
  SeededRandom c(43);
  std::vector<uint64_t> from_a;
  std::vector<uint64_t> from_c;
  for (int i = 0; i < 4; ++i) {
    from_a.push_back(a());
    from_c.push_back(c());
  }
  EXPECT_NE(from_a, from_c);
}

}  // namespace
}  // namespace etcdmesos
