// One time source and one randomness source for the whole shell, injected
// into every component that waits, times out, backs off or draws a random
// number (in the manner of Envoy's TimeSource), so that the shell's own
// timing — backoffs, heartbeats, reconnects, polls, the timeouts it chooses —
// runs under a fake clock in tests exactly as it runs on the real one.
//
// - TimeSource: the monotonic and the wall clock. `real_time()` is the
//   process's; FakeTimeSource only moves when a test advances it.
// - Timer: asio's steady_timer interface (expires_after/expires_at, cancel,
//   async_wait with any completion token: callbacks, use_awaitable, as_tuple,
//   redirect_error, awaitable operators) on a TimeSource. On the real clock
//   it is a steady_timer; on a fake one it expires when the clock is advanced
//   past its expiry, with the same completion semantics (an expired wait
//   completes with success even if cancel() follows before it ran).
// - RandomSource: a uniform random bit generator behind an interface;
//   `process_random()` is seeded once from std::random_device, SeededRandom
//   from a number a test chooses.
//
// What stays on the operating system's clock, by design: deadlines of socket
// operations (Beast's tcp_stream keeps its own steady_clock timers, and what
// they bound is real I/O) and waits for threads that are not ours (the
// ZooKeeper C client). Each such place says so with an "os-clock:" comment;
// the lint.clock test fails on any other use of a clock in src/.
//
// Threading: a FakeTimeSource and the timers on it belong to one thread (the
// test's io_context). real_time() may be used from any thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

namespace etcdmesos {

class Timer;

class TimeSource {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;
  using Duration = Clock::duration;

  virtual ~TimeSource() = default;
  // Monotonic time: for intervals, deadlines and timers.
  virtual TimePoint now() const = 0;
  // Wall-clock time: only for what is shown or sent (timestamps).
  virtual std::chrono::system_clock::time_point system_now() const = 0;

  // Seconds since the Unix epoch, as Mesos timestamps are written.
  double epoch_seconds() const;

 protected:
  friend class Timer;
  // A timer's wait now ends at `at`; called again whenever it is re-armed.
  virtual void arm(Timer& timer, TimePoint at) = 0;
  // The timer is being destroyed.
  virtual void forget(Timer& timer) = 0;

  // For the sources: the steady_timer under a Timer, and the fake clock's
  // expiry of one.
  static void set_inner_expiry(Timer& timer, TimePoint at);
  static void mark_expired(Timer& timer);
};

// The process's steady and system clocks.
TimeSource& real_time();

// A clock that moves only when told. Timers on it expire during advance(),
// in order of expiry, each at its own time: now() during the completion of a
// timer's wait is never before that timer's expiry. Completions run when
// the io_context runs (poll it after advancing, or use advance_and_run).
class FakeTimeSource final : public TimeSource {
 public:
  // Starts at an arbitrary point well after the steady clock's epoch, so
  // that "now minus a while" stays a valid time.
  FakeTimeSource();
  ~FakeTimeSource() override;
  FakeTimeSource(const FakeTimeSource&) = delete;
  FakeTimeSource& operator=(const FakeTimeSource&) = delete;

  TimePoint now() const override { return now_; }
  std::chrono::system_clock::time_point system_now() const override;

  // Moves the clock forward by `d` (negative counts as zero), expiring the
  // timers due on the way. Between two expiries `settle` is called (e.g. to
  // poll the io_context, so that a completion can arm a timer that expires
  // before the end of `d`); it may be empty.
  template <class Settle>
  void advance(Duration d, Settle&& settle) {
    const TimePoint until = now_ + std::max(d, Duration::zero());
    while (Timer* next = earliest_due(until)) {
      now_ = std::max(now_, expiry_of(*next));
      expire(*next);
      settle();
    }
    now_ = until;
    settle();
  }
  void advance(Duration d) {
    advance(d, [] {});
  }
  // Timers waiting for the clock (armed and not yet expired).
  std::size_t pending_timers() const { return armed_.size(); }

 protected:
  void arm(Timer& timer, TimePoint at) override;
  void forget(Timer& timer) override;

 private:
  Timer* earliest_due(TimePoint until) const;
  static TimePoint expiry_of(const Timer& timer);
  void expire(Timer& timer);

  TimePoint now_;
  std::chrono::system_clock::time_point wall_start_;
  TimePoint start_;
  std::vector<Timer*> armed_;
};

class Timer {
 public:
  using TimePoint = TimeSource::TimePoint;
  using Duration = TimeSource::Duration;

  // Not armed: a wait completes only by cancel() (unlike a steady_timer,
  // whose default expiry has passed; the shell uses such a timer as a
  // wake-up).
  Timer(boost::asio::any_io_executor ex, TimeSource& time);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Both cancel the waits in progress (they complete with
  // operation_aborted), as on a steady_timer.
  void expires_at(TimePoint at);
  void expires_after(Duration d) { expires_at(time_.now() + d); }
  // No expiry: waits complete only by cancel().
  void expires_never();
  TimePoint expiry() const { return expiry_; }
  // Ends the waits in progress with operation_aborted, except those whose
  // expiry already passed (they complete with success).
  std::size_t cancel() { return inner_.cancel(); }
  TimeSource& time() const { return time_; }

  template <class Token>
  auto async_wait(Token&& token) {
    return boost::asio::async_compose<Token, void(boost::system::error_code)>(
        Wait{inner_, marks_, marks_->armed}, token, inner_);
  }

 private:
  friend class TimeSource;

  // Shared with the waits in progress, which may complete after the timer
  // is gone (their handlers run when the io_context next runs).
  struct Marks {
    uint64_t armed = 0;        // bumped by every expires_*()
    uint64_t expired = ~0ull;  // the arming a fake clock expired
  };

  struct Wait {
    boost::asio::steady_timer& inner;
    std::shared_ptr<Marks> marks;
    uint64_t arming;
    bool started = false;

    template <class Self>
    void operator()(Self& self, boost::system::error_code ec = {}) {
      if (!started) {
        started = true;
        inner.async_wait(std::move(self));
        return;
      }
      // A fake clock ends the wait of an expired timer by re-arming the
      // steady_timer, which aborts the wait: that is an expiry.
      if (ec == boost::asio::error::operation_aborted && marks->expired == arming) {
        ec = {};
      }
      self.complete(ec);
    }
  };

  TimeSource& time_;
  boost::asio::steady_timer inner_;
  std::shared_ptr<Marks> marks_;
  TimePoint expiry_ = TimePoint::max();
};

class RandomSource {
 public:
  using result_type = std::uint64_t;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type{0}; }

  virtual ~RandomSource() = default;
  virtual result_type operator()() = 0;
};

// A Mersenne Twister seeded with a number of the caller's.
class SeededRandom final : public RandomSource {
 public:
  explicit SeededRandom(uint64_t seed) : engine_(seed) {}
  result_type operator()() override { return engine_(); }

 private:
  std::mt19937_64 engine_;
};

// The process's generator (one per thread), seeded once from
// std::random_device.
RandomSource& process_random();

}  // namespace etcdmesos
