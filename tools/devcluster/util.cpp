#include "util.hpp"

#include <boost/asio/ip/address_v4.hpp>

#include <array>
#include <cstdio>
#include <random>
#include <sstream>

namespace etcdmesos::devcluster {

namespace {

std::mt19937_64& generator() {
  // Ids only need to be unique, not secret; one seeded generator per process.
  static std::mt19937_64 gen{std::random_device{}()};
  return gen;
}

}  // namespace

std::string new_uuid_bytes() {
  std::string bytes(16, '\0');
  for (int half = 0; half < 2; ++half) {
    uint64_t r = generator()();
    for (int i = 0; i < 8; ++i) {
      bytes[half * 8 + i] = static_cast<char>((r >> (8 * i)) & 0xff);
    }
  }
  bytes[6] = static_cast<char>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<char>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return bytes;
}

std::string uuid_to_string(std::string_view bytes) {
  std::string out;
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      out += '-';
    }
    auto b = static_cast<unsigned char>(bytes[i]);
    out += kHex[b >> 4];
    out += kHex[b & 0x0f];
  }
  return out;
}

bool is_valid_uuid_bytes(std::string_view bytes) {
  if (bytes.size() != 16) {
    return false;
  }
  // boost::uuids (used by Mesos) reports version_unknown for nibbles outside
  // 1..5; Mesos rejects those as "Not a valid UUID".
  int version = (static_cast<unsigned char>(bytes[6]) >> 4) & 0x0f;
  return version >= 1 && version <= 5;
}

std::string format_mesos_duration(std::chrono::nanoseconds d) {
  struct Unit {
    int64_t ns;
    const char* name;
  };
  static constexpr std::array<Unit, 8> kUnits{{{604800000000000LL, "weeks"},
                                               {86400000000000LL, "days"},
                                               {3600000000000LL, "hrs"},
                                               {60000000000LL, "mins"},
                                               {1000000000LL, "secs"},
                                               {1000000LL, "ms"},
                                               {1000LL, "us"},
                                               {1LL, "ns"}}};
  int64_t ns = d.count();
  for (const auto& unit : kUnits) {
    if (ns >= unit.ns || unit.ns == 1) {
      std::ostringstream out;
      out << static_cast<double>(ns) / static_cast<double>(unit.ns) << unit.name;
      return out.str();
    }
  }
  return "0ns";
}

double wall_clock_seconds() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration<double>(now).count();
}

uint32_t ipv4_s_addr(const std::string& ip) {
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address_v4(ip, ec);
  if (ec) {
    return 0;
  }
  auto b = addr.to_bytes();
  return static_cast<uint32_t>(b[0]) | (static_cast<uint32_t>(b[1]) << 8) |
         (static_cast<uint32_t>(b[2]) << 16) | (static_cast<uint32_t>(b[3]) << 24);
}

std::string ipv4_add(const std::string& ip, uint32_t offset) {
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address_v4(ip, ec);
  if (ec) {
    return {};
  }
  uint64_t value = static_cast<uint64_t>(addr.to_uint()) + offset;
  auto result = boost::asio::ip::address_v4(static_cast<uint32_t>(value));
  if (value > 0xffffffffULL || !result.is_loopback()) {
    return {};
  }
  return result.to_string();
}

}  // namespace etcdmesos::devcluster
