// Small helpers shared by the master and the agents: UUIDs, Mesos duration
// strings, wall-clock timestamps, IPv4 conversions.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace etcdmesos::devcluster {

// 16 random bytes with the version-4 and variant bits set.
std::string new_uuid_bytes();
// "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" for 16 raw bytes.
std::string uuid_to_string(std::string_view bytes);
inline std::string new_uuid_string() {
  return uuid_to_string(new_uuid_bytes());
}
// True when `bytes` is 16 bytes with a known UUID version nibble (what
// Mesos' UUID::fromBytes accepts).
bool is_valid_uuid_bytes(std::string_view bytes);

// Mesos' duration text: largest unit whose value is >= 1 ("5secs",
// "1.5mins", "15mins", "500ms").
std::string format_mesos_duration(std::chrono::nanoseconds d);

// Seconds since the epoch as Mesos puts them in TaskStatus.timestamp.
double wall_clock_seconds();

// IPv4 text -> s_addr read as a native little-endian uint32 (MasterInfo.ip,
// reference §16: 127.0.0.1 -> 16777343). 0 for text that is not IPv4.
uint32_t ipv4_s_addr(const std::string& ip);

// The IPv4 address `offset` addresses after `ip` ("127.0.0.2" + 1 =
// "127.0.0.3"). Empty when the result leaves 127.0.0.0/8.
std::string ipv4_add(const std::string& ip, uint32_t offset);

}  // namespace etcdmesos::devcluster
