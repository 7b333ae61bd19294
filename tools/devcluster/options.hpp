// Command-line options of mesos-devcluster (see docs/devcluster.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace etcdmesos::devcluster {

struct AgentResources {
  double cpus = 4;
  double mem = 4096;
  double disk = 10240;
  uint64_t ports_begin = 31000;
  uint64_t ports_end = 31999;  // inclusive
};

struct Options {
  std::string master_ip = "127.0.0.1";
  uint16_t port = 5050;  // 0 = ephemeral
  std::string endpoint_file;
  std::string zk;  // zk://host:port/path, empty = no ZooKeeper registration
  std::chrono::milliseconds zk_session_timeout{10000};
  int masters = 1;  // > 1 requires zk
  int agents = 3;
  std::string first_agent_ip = "127.0.0.2";
  uint16_t agent_port = 0;
  AgentResources agent_resources;
  std::string work_dir = "/tmp/mesos-devcluster";
  // Agent i caches in <fetcher_cache_dir>/<agent id>; "" = <work_dir>/fetch.
  std::string fetcher_cache_dir;
  uint64_t fetcher_cache_bytes = 2ULL << 30;  // per agent, like Mesos' 2GB default
  std::chrono::milliseconds heartbeat_interval{15000};
  std::chrono::milliseconds agent_removal_delay{3000};
  std::chrono::milliseconds executor_registration_timeout{60000};
  std::chrono::milliseconds executor_shutdown_grace_period{5000};
  std::chrono::milliseconds status_update_retry_interval{10000};
  std::chrono::milliseconds allocation_interval{1000};
  std::string log_level = "info";
};

// Parses argv. Throws std::runtime_error with a readable message on bad flags
// (start-up error). Returns nullopt when --help or --version was printed.
std::optional<Options> parse_options(int argc, const char* const argv[]);

// "2GB", "512MB", "100KB", "10B" or a plain byte count -> bytes (Mesos'
// spelling of sizes). Throws on malformed text.
uint64_t parse_bytes(const std::string& text);

// "31000-31999" -> begin/end. Throws on malformed text.
void parse_port_range(const std::string& text, AgentResources& out);

}  // namespace etcdmesos::devcluster
