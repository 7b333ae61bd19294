#include "common/time_source.hpp"

#include <algorithm>

namespace etcdmesos {

double TimeSource::epoch_seconds() const {
  return std::chrono::duration<double>(system_now().time_since_epoch()).count();
}

void TimeSource::set_inner_expiry(Timer& timer, TimePoint at) {
  timer.inner_.expires_at(at);
}

void TimeSource::mark_expired(Timer& timer) {
  timer.marks_->expired = timer.marks_->armed;
  // Aborts the waits in progress (Timer::Wait reads that as an expiry) and
  // lets later waits complete at once, as on an expired steady_timer.
  timer.inner_.expires_at(TimePoint::min());
}

namespace {

class RealTimeSource final : public TimeSource {
 public:
  TimePoint now() const override {
    return Clock::now();  // os-clock: this is the real time source
  }
  std::chrono::system_clock::time_point system_now() const override {
    return std::chrono::system_clock::now();  // os-clock: this is the real time source
  }

 protected:
  void arm(Timer& timer, TimePoint at) override { set_inner_expiry(timer, at); }
  void forget(Timer&) override {}
};

}  // namespace

TimeSource& real_time() {
  static RealTimeSource source;
  return source;
}

FakeTimeSource::FakeTimeSource()
    : now_(TimePoint(std::chrono::hours(24 * 365))),
      // 2026-01-01T00:00:00Z: fixed, so that logs of a test read the same.
      wall_start_(std::chrono::system_clock::time_point(std::chrono::seconds(1767225600))),
      start_(now_) {}

FakeTimeSource::~FakeTimeSource() = default;

std::chrono::system_clock::time_point FakeTimeSource::system_now() const {
  return wall_start_ +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(now_ - start_);
}

void FakeTimeSource::arm(Timer& timer, TimePoint at) {
  std::erase(armed_, &timer);
  if (at == TimePoint::max()) {
    set_inner_expiry(timer, TimePoint::max());
  } else if (at <= now_) {
    mark_expired(timer);
  } else {
    set_inner_expiry(timer, TimePoint::max());
    armed_.push_back(&timer);
  }
}

void FakeTimeSource::forget(Timer& timer) {
  std::erase(armed_, &timer);
}

Timer* FakeTimeSource::earliest_due(TimePoint until) const {
  Timer* earliest = nullptr;
  for (Timer* timer : armed_) {
    if (timer->expiry() <= until && (earliest == nullptr || timer->expiry() < earliest->expiry())) {
      earliest = timer;
    }
  }
  return earliest;
}

TimeSource::TimePoint FakeTimeSource::expiry_of(const Timer& timer) {
  return timer.expiry();
}

void FakeTimeSource::expire(Timer& timer) {
  std::erase(armed_, &timer);
  mark_expired(timer);
}

Timer::Timer(boost::asio::any_io_executor ex, TimeSource& time)
    : time_(time), inner_(std::move(ex), TimePoint::max()), marks_(std::make_shared<Marks>()) {}

Timer::~Timer() {
  time_.forget(*this);
}

void Timer::expires_at(TimePoint at) {
  expiry_ = at;
  ++marks_->armed;
  time_.arm(*this, at);
}

void Timer::expires_never() {
  expires_at(TimePoint::max());
}

RandomSource& process_random() {
  thread_local SeededRandom random([] {
    std::random_device device;
    return (static_cast<uint64_t>(device()) << 32) ^ device();
  }());
  return random;
}

}  // namespace etcdmesos
