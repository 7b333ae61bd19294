#include "options.hpp"

#include "common/command_line.hpp"
#include "common/version.hpp"

#include <boost/asio/ip/address_v4.hpp>
#include <boost/program_options.hpp>

#include <cmath>
#include <iostream>
#include <stdexcept>
#include <utility>

namespace etcdmesos::devcluster {
namespace po = boost::program_options;

namespace {

std::chrono::milliseconds seconds_flag(const char* name, double seconds) {
  if (!std::isfinite(seconds) || seconds < 0 || seconds > 365.0 * 24 * 3600) {
    throw std::runtime_error(std::string("--") + name + " must be a number of seconds >= 0");
  }
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(seconds * 1000)));
}

void check_ipv4(const char* name, const std::string& text) {
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address_v4(text, ec);
  if (ec || !addr.is_loopback()) {
    // Agents get consecutive addresses; only 127.0.0.0/8 gives every agent
    // its own address on one host without configuration.
    throw std::runtime_error(std::string("--") + name + " must be an IPv4 loopback address");
  }
}

}  // namespace

uint64_t parse_bytes(const std::string& text) {
  static const std::pair<const char*, uint64_t> kUnits[] = {
      {"TB", 1ULL << 40}, {"GB", 1ULL << 30}, {"MB", 1ULL << 20}, {"KB", 1ULL << 10}, {"B", 1}};
  uint64_t unit = 1;
  std::string digits = text;
  for (const auto& [suffix, factor] : kUnits) {
    const std::string s(suffix);
    if (digits.size() > s.size() && digits.compare(digits.size() - s.size(), s.size(), s) == 0) {
      digits.resize(digits.size() - s.size());
      unit = factor;
      break;
    }
  }
  try {
    std::size_t used = 0;
    const auto value = std::stoull(digits, &used);
    if (used != digits.size() || digits.empty() || digits[0] == '-' || value > UINT64_MAX / unit) {
      throw std::invalid_argument("size");
    }
    return value * unit;
  } catch (const std::logic_error&) {
    throw std::runtime_error("a size must look like 2GB, 512MB, 100KB or 4096, got '" + text + "'");
  }
}

void parse_port_range(const std::string& text, AgentResources& out) {
  auto dash = text.find('-');
  try {
    if (dash == std::string::npos) {
      throw std::invalid_argument("no dash");
    }
    std::size_t used = 0;
    auto begin = std::stoull(text.substr(0, dash), &used);
    if (used != dash) {
      throw std::invalid_argument("begin");
    }
    auto end_text = text.substr(dash + 1);
    auto end = std::stoull(end_text, &used);
    if (used != end_text.size() || begin > end || end > 65535) {
      throw std::invalid_argument("range");
    }
    out.ports_begin = begin;
    out.ports_end = end;
  } catch (const std::logic_error&) {
    throw std::runtime_error("--agent-ports must look like 31000-31999, got '" + text + "'");
  }
}

std::optional<Options> parse_options(int argc, const char* const argv[]) {
  Options o;
  double heartbeat_s = 15, removal_s = 3, registration_s = 60, grace_s = 5, retry_s = 10,
         allocation_s = 1, zk_session_s = 10;
  std::string ports = "31000-31999";
  std::string cache_size = "2GB";
  po::options_description desc("mesos-devcluster: one Mesos-compatible master and K agents");
  auto add = desc.add_options();
  add("help", "print this help");
  add("version", "print the version and exit");
  add("master-ip", po::value(&o.master_ip)->default_value(o.master_ip), "master IP address");
  add("port", po::value(&o.port)->default_value(o.port), "master port (0 = ephemeral)");
  add("endpoint-file", po::value(&o.endpoint_file),
      "write IP:PORT of the master to this file once listening");
  add("zk", po::value(&o.zk), "register as leading master in ZooKeeper (zk://host:port/path)");
  add("zk-session-timeout", po::value(&zk_session_s)->default_value(zk_session_s),
      "seconds of ZooKeeper session timeout (a master whose session expires exits)");
  add("masters", po::value(&o.masters)->default_value(o.masters),
      "number of masters contending through ZooKeeper (> 1 requires --zk)");
  add("agents", po::value(&o.agents)->default_value(o.agents), "number of agents");
  add("first-agent-ip", po::value(&o.first_agent_ip)->default_value(o.first_agent_ip),
      "IP of agent 0; agent i gets the i-th following address");
  add("agent-port", po::value(&o.agent_port)->default_value(o.agent_port),
      "port of every agent (0 = ephemeral)");
  add("agent-cpus", po::value(&o.agent_resources.cpus)->default_value(o.agent_resources.cpus),
      "cpus per agent");
  add("agent-mem", po::value(&o.agent_resources.mem)->default_value(o.agent_resources.mem),
      "memory per agent (MB)");
  add("agent-disk", po::value(&o.agent_resources.disk)->default_value(o.agent_resources.disk),
      "disk per agent (MB)");
  add("agent-ports", po::value(&ports)->default_value(ports), "port range of every agent");
  add("work-dir", po::value(&o.work_dir)->default_value(o.work_dir), "root of the sandboxes");
  add("fetcher-cache-dir", po::value(&o.fetcher_cache_dir),
      "root of the agents' fetcher caches: agent <id> caches in <dir>/<id>, emptied when it "
      "starts (default: <work-dir>/fetch)");
  add("fetcher-cache-size", po::value(&cache_size)->default_value(cache_size),
      "size of each agent's fetcher cache (2GB, 512MB, ... or bytes)");
  add("heartbeat-interval", po::value(&heartbeat_s)->default_value(heartbeat_s),
      "seconds between HEARTBEAT events to schedulers");
  add("agent-removal-delay", po::value(&removal_s)->default_value(removal_s),
      "seconds between a stopped agent and its TASK_LOST/FAILURE updates");
  add("executor-registration-timeout", po::value(&registration_s)->default_value(registration_s),
      "seconds an executor has to SUBSCRIBE");
  add("executor-shutdown-grace-period", po::value(&grace_s)->default_value(grace_s),
      "default seconds between SHUTDOWN and killing the executor");
  add("status-update-retry-interval", po::value(&retry_s)->default_value(retry_s),
      "seconds between resends of an unacknowledged status update");
  add("allocation-interval", po::value(&allocation_s)->default_value(allocation_s),
      "seconds between periodic allocation passes (offer filters expire on them)");
  add("log-level", po::value(&o.log_level)->default_value(o.log_level),
      "trace, debug, info, warn, error");

  auto vm = parse_command_line(argc, argv, desc);
  if (!vm) {
    throw std::runtime_error(vm.error().message);
  }
  if (vm->count("help")) {
    std::cout << desc << "\n";
    return std::nullopt;
  }
  if (vm->count("version")) {
    std::cout << version_line("mesos-devcluster") << "\n";
    return std::nullopt;
  }
  if (o.agents < 0 || o.agents > 100) {
    throw std::runtime_error("--agents must be between 0 and 100");
  }
  if (o.masters < 1 || o.masters > 9) {
    throw std::runtime_error("--masters must be between 1 and 9");
  }
  if (o.masters > 1 && o.zk.empty()) {
    throw std::runtime_error("--masters > 1 requires --zk");
  }
  if (o.port != 0 && o.port + o.masters - 1 > 65535) {
    throw std::runtime_error("--port + --masters - 1 must not exceed 65535");
  }
  check_ipv4("master-ip", o.master_ip);
  check_ipv4("first-agent-ip", o.first_agent_ip);
  if (o.agent_resources.cpus < 0 || o.agent_resources.mem < 0 || o.agent_resources.disk < 0) {
    throw std::runtime_error("agent resources must not be negative");
  }
  parse_port_range(ports, o.agent_resources);
  o.fetcher_cache_bytes = parse_bytes(cache_size);
  o.heartbeat_interval = seconds_flag("heartbeat-interval", heartbeat_s);
  o.agent_removal_delay = seconds_flag("agent-removal-delay", removal_s);
  o.executor_registration_timeout = seconds_flag("executor-registration-timeout", registration_s);
  o.executor_shutdown_grace_period = seconds_flag("executor-shutdown-grace-period", grace_s);
  o.status_update_retry_interval = seconds_flag("status-update-retry-interval", retry_s);
  o.allocation_interval = seconds_flag("allocation-interval", allocation_s);
  o.zk_session_timeout = seconds_flag("zk-session-timeout", zk_session_s);
  if (o.zk_session_timeout < std::chrono::seconds(1)) {
    throw std::runtime_error("--zk-session-timeout must be at least 1 second");
  }
  if (o.heartbeat_interval.count() == 0 || o.allocation_interval.count() == 0 ||
      o.status_update_retry_interval.count() == 0) {
    throw std::runtime_error("intervals must be > 0");
  }
  return o;
}

}  // namespace etcdmesos::devcluster
