// The one backoff of the shell: a wait that doubles from `initial` up to
// `max` with every failure and starts again from `initial` after a success.
// `next_jittered` draws each wait from [d/2, d] so that many clients do not
// retry in step (the Mesos scheduler and executor libraries do the same).
// The random generator is the caller's, so that a seeded one keeps a test
// or the simulator reproducible.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

namespace etcdmesos {

class Backoff {
 public:
  using Duration = std::chrono::milliseconds;

  // `max` wins over `initial` (an `initial` above it waits `max`); waits are
  // at least 1 ms.
  Backoff(Duration initial, Duration max)
      : max_(std::max(max, Duration(1))),
        initial_(std::clamp(initial, Duration(1), max_)),
        next_(initial_) {}

  // The wait for this failure; the one after it doubles, up to `max`.
  Duration next() {
    const Duration wait = next_;
    next_ = std::min(next_ * 2, max_);
    return wait;
  }

  // As next(), drawn uniformly from [d/2, d].
  template <class Rng>
  Duration next_jittered(Rng& rng) {
    const Duration ceiling = next();
    std::uniform_int_distribution<int64_t> pick(ceiling.count() / 2, ceiling.count());
    return Duration(pick(rng));
  }

  // The wait the n-th consecutive failure gets (n from 1), without state.
  Duration nth(int n) const {
    Duration wait = initial_;
    for (int i = 1; i < n && wait < max_; ++i) {
      wait *= 2;
    }
    return std::min(wait, max_);
  }

  void reset() { next_ = initial_; }

 private:
  Duration max_;
  Duration initial_;
  Duration next_;
};

}  // namespace etcdmesos
