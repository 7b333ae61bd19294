// A small seeded generator (SplitMix64) for the core's task ids and cluster
// tokens. The core must be deterministic (same seed, same effects), so it
// never touches std::random_device or a global generator.
#pragma once

#include <cstdint>
#include <string>

namespace etcdmesos::core {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}

  uint64_t next() {
    state_ += 0x9E3779B97F4A7C15ULL;
    uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

// Lower-case hex of the low `digits` nibbles of `value` (zero-padded).
std::string to_hex(uint64_t value, int digits);

// Lower-case hex of raw bytes, at most `max_bytes` of them ("..." if cut).
std::string bytes_to_hex(const std::string& bytes, std::size_t max_bytes);

}  // namespace etcdmesos::core
