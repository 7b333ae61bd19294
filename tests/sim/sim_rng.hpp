// The simulator's one source of randomness: every choice of a run (delays,
// faults, etcd ids) comes from this generator, seeded by the run's seed, so
// a seed replays exactly.
#pragma once

#include "core/rng.hpp"
#include "core/types.hpp"

#include <cstdint>

namespace etcdmesos::sim {

class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}

  uint64_t next() { return gen_.next(); }
  // Uniform in [0, n); 0 when n is 0.
  uint64_t below(uint64_t n) { return n == 0 ? 0 : next() % n; }
  // Uniform in [lo, hi].
  int64_t between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi - lo) + 1));
  }
  bool chance(double p) { return static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }
  core::Millis millis(int64_t lo, int64_t hi) { return core::Millis{between(lo, hi)}; }

 private:
  core::SplitMix64 gen_;
};

}  // namespace etcdmesos::sim
