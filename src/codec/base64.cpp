// Standard base64 (RFC 4648 §4) for the `bytes` fields of the Mesos and etcd
// JSON APIs. Declared in mesos.hpp.
#include "codec/mesos.hpp"

#include <array>
#include <cstdint>
#include <utility>

namespace etcdmesos::mesos {

namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr int8_t kInvalid = -1;

constexpr std::array<int8_t, 256> make_decode_table() {
  std::array<int8_t, 256> table{};
  table.fill(kInvalid);
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  }
  return table;
}

constexpr auto kDecodeTable = make_decode_table();

}  // namespace

std::string base64_encode(std::string_view raw) {
  std::string out;
  out.reserve((raw.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= raw.size(); i += 3) {
    const uint32_t n = (static_cast<uint8_t>(raw[i]) << 16) |
                       (static_cast<uint8_t>(raw[i + 1]) << 8) | static_cast<uint8_t>(raw[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  const std::size_t left = raw.size() - i;
  if (left > 0) {
    uint32_t n = static_cast<uint32_t>(static_cast<uint8_t>(raw[i])) << 16;
    if (left == 2) {
      n |= static_cast<uint32_t>(static_cast<uint8_t>(raw[i + 1])) << 8;
    }
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += left == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<std::string> base64_decode(std::string_view text) {
  // Padding is optional on input, but when present it must complete the
  // last group of four exactly.
  std::size_t padding = 0;
  while (padding < 2 && !text.empty() && text.back() == '=') {
    text.remove_suffix(1);
    ++padding;
  }
  if (text.size() % 4 == 1 || (padding > 0 && (text.size() + padding) % 4 != 0)) {
    return make_error("base64: invalid length");
  }
  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  uint32_t bits = 0;
  int bit_count = 0;
  for (char c : text) {
    const int8_t value = kDecodeTable[static_cast<unsigned char>(c)];
    if (value == kInvalid) {
      return make_error("base64: invalid character");
    }
    bits = (bits << 6) | static_cast<uint32_t>(value);
    bit_count += 6;
    if (bit_count >= 8) {
      bit_count -= 8;
      out += static_cast<char>((bits >> bit_count) & 0xff);
    }
  }
  // std::string would also convert to Error (aggregate), so say which.
  return Result<std::string>(boost::system::in_place_value, std::move(out));
}

}  // namespace etcdmesos::mesos
