#include "core/rng.hpp"

namespace etcdmesos::core {

namespace {
constexpr char kHexDigits[] = "0123456789abcdef";
}

std::string to_hex(uint64_t value, int digits) {
  std::string out(static_cast<std::size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = kHexDigits[value & 0xF];
    value >>= 4;
  }
  return out;
}

std::string bytes_to_hex(const std::string& bytes, std::size_t max_bytes) {
  std::string out;
  const std::size_t n = bytes.size() < max_bytes ? bytes.size() : max_bytes;
  out.reserve(n * 2 + 3);
  for (std::size_t i = 0; i < n; ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    out.push_back(kHexDigits[b >> 4]);
    out.push_back(kHexDigits[b & 0xF]);
  }
  if (bytes.size() > n) {
    out += "...";
  }
  return out;
}

}  // namespace etcdmesos::core
