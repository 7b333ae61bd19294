#include "support/real_mesos.hpp"

#include "support/stack.hpp"

#include <boost/json.hpp>

#include <unistd.h>
#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace etcdmesos::testing {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

bool has_master(const fs::path& home) {
  std::error_code ec;
  return fs::is_regular_file(home / "bin" / "mesos-master", ec);
}

// Kills every process whose command line mentions `marker` (a directory of
// this cluster) and whose name is one of `names`.
void kill_processes_mentioning(const std::string& marker, const std::vector<std::string>& names) {
  for (const auto& p : running_processes()) {
    const bool named = std::any_of(names.begin(), names.end(), [&](const std::string& n) {
      return p.comm.rfind(n.substr(0, 15), 0) == 0;
    });
    if (named && p.cmdline.find(marker) != std::string::npos) {
      ::kill(p.pid, SIGKILL);
    }
  }
}

}  // namespace

std::optional<fs::path> mesos_home() {
  if (const char* env = std::getenv("ETCDMESOS_MESOS_HOME"); env != nullptr && *env != '\0') {
    return has_master(env) ? std::optional<fs::path>(env) : std::nullopt;
  }
  const fs::path unpacked = fs::path(ETCDMESOS_SOURCE_DIR) / "build" / "mesos" / "mesos-1.12.0";
  return has_master(unpacked) ? std::optional<fs::path>(unpacked) : std::nullopt;
}

RealMesos::RealMesos(RealMesosOptions options) : options_(std::move(options)) {
  auto home = mesos_home();
  if (!home) {
    throw std::runtime_error(
        "no real Mesos: set ETCDMESOS_MESOS_HOME or unpack ../shared/mesos into build/mesos");
  }
  home_ = *home;
  for (int i = 0; i < options_.masters; ++i) {
    master_ports_.push_back(free_port());
    fs::create_directories(master_dir(i));
    masters_.push_back(std::make_unique<ChildProcess>(master_argv(i), master_dir(i)));
    if (i == 0 && options_.masters > 1) {
      // The first master leads: the others contend only once it does.
      wait_until([&] { return leading_master() == 0; }, 30s);
    }
  }
  for (int i = 0; i < options_.agents; ++i) {
    agent_ports_.push_back(free_port(agent_ip(i)));
    agents_.emplace_back();
    start_agent(i);
  }
  if (!wait_until([&] { return active_agents() == options_.agents; }, 60s)) {
    const std::string why = "the real Mesos did not come up with " +
                            std::to_string(options_.agents) + " active agents:\n" + logs();
    stop();
    throw std::runtime_error(why);
  }
}

RealMesos::~RealMesos() {
  stop();
}

std::string RealMesos::agent_ip(int i) const {
  const auto dot = options_.first_agent_ip.rfind('.');
  const int last = std::stoi(options_.first_agent_ip.substr(dot + 1)) + i;
  return options_.first_agent_ip.substr(0, dot + 1) + std::to_string(last);
}

fs::path RealMesos::agent_dir(int i) const {
  return options_.dir / ("agent-" + std::to_string(i));
}

fs::path RealMesos::master_dir(int i) const {
  return options_.dir / (i == 0 ? std::string("master") : "master-" + std::to_string(i));
}

std::vector<std::string> RealMesos::master_argv(int i) const {
  return {
      (home_ / "bin" / "mesos-master").string(),
      "--ip=127.0.0.1",
      "--port=" + std::to_string(master_ports_.at(static_cast<std::size_t>(i))),
      "--hostname=127.0.0.1",
      "--work_dir=" + (master_dir(i) / "work").string(),
      "--registry=in_memory",
      "--zk=" + options_.zk_url,
      "--zk_session_timeout=" + std::to_string(options_.master_zk_session_timeout.count()) + "secs",
      "--quorum=1",
      "--agent_ping_timeout=2secs",
      "--max_agent_ping_timeouts=3"};
}

std::vector<std::string> RealMesos::agent_argv(int i) const {
  const fs::path dir = agent_dir(i);
  const int lo = options_.first_task_port + i * options_.task_ports_per_agent;
  const int hi = lo + options_.task_ports_per_agent - 1;
  std::vector<std::string> argv{
      (home_ / "bin" / "mesos-agent").string(),
      "--master=" + options_.zk_url,
      "--ip=" + agent_ip(i),
      "--port=" + std::to_string(agent_ports_.at(static_cast<std::size_t>(i))),
      "--hostname=" + agent_ip(i),
      "--work_dir=" + (dir / "work").string(),
      "--runtime_dir=" + (dir / "run").string(),
      "--fetcher_cache_dir=" + (dir / "fetch").string(),
      "--launcher_dir=" + (home_ / "bin").string(),
      "--launcher=posix",
      "--isolation=posix/cpu,posix/mem",
      "--no-systemd_enable_support",
      "--no-switch_user",
      "--resources=" + options_.agent_resources + ";ports:[" + std::to_string(lo) + "-" +
          std::to_string(hi) + "]"};
  if (options_.agent_registration_backoff) {
    argv.push_back("--registration_backoff_factor=" +
                   std::to_string(options_.agent_registration_backoff->count()) + "secs");
  }
  return argv;
}

void RealMesos::start_agent(int i) {
  const fs::path dir = agent_dir(i);
  fs::create_directories(dir / "log");
  auto& slot = agents_.at(static_cast<std::size_t>(i));
  slot = std::make_unique<ChildProcess>(agent_argv(i), dir / "log");
}

std::optional<int> RealMesos::leading_master() {
  for (int i = 0; i < static_cast<int>(masters_.size()); ++i) {
    auto& master = masters_.at(static_cast<std::size_t>(i));
    if (!master || !master->running()) {
      continue;
    }
    // Only the leader answers 200; the others redirect to it or answer 503.
    const auto state = state_of(master_ports_.at(static_cast<std::size_t>(i)));
    const auto* pid = state ? state->if_contains("pid") : nullptr;
    const auto* leader = state ? state->if_contains("leader") : nullptr;
    if (pid != nullptr && leader != nullptr && *pid == *leader) {
      leader_ = i;
      return i;
    }
  }
  return std::nullopt;
}

uint16_t RealMesos::master_port() {
  if (options_.masters > 1) {
    leading_master();
  }
  return master_ports_.at(static_cast<std::size_t>(leader_));
}

std::optional<boost::json::object> RealMesos::master_state() {
  return state_of(master_port());
}

std::optional<boost::json::object> RealMesos::state_of(uint16_t port) {
  auto state = http_call("GET", "127.0.0.1", port, "/master/state");
  if (!state || state->status != 200) {
    return std::nullopt;
  }
  boost::system::error_code ec;
  auto parsed = boost::json::parse(state->body, ec);
  if (ec || !parsed.is_object()) {
    return std::nullopt;
  }
  return std::move(parsed.as_object());
}

int RealMesos::active_entries(const char* list) {
  const auto state = master_state();
  if (!state) {
    return -1;
  }
  const auto* entries = state->if_contains(list);
  if (entries == nullptr || !entries->is_array()) {
    return -1;
  }
  int active = 0;
  for (const auto& s : entries->as_array()) {
    const auto* flag = s.is_object() ? s.as_object().if_contains("active") : nullptr;
    active += (flag != nullptr && flag->is_bool() && flag->as_bool()) ? 1 : 0;
  }
  return active;
}

void RealMesos::kill_agent(int i) {
  auto& agent = agents_.at(static_cast<std::size_t>(i));
  if (agent) {
    agent->kill(SIGKILL);
    agent->wait(10s);
  }
}

bool RealMesos::lose_agent_host(const std::string& agent_id) {
  const auto state = master_state();
  const auto* slaves = state ? state->if_contains("slaves") : nullptr;
  if (slaves == nullptr || !slaves->is_array()) {
    return false;
  }
  for (const auto& s : slaves->as_array()) {
    const auto* id = s.is_object() ? s.as_object().if_contains("id") : nullptr;
    const auto* host = s.is_object() ? s.as_object().if_contains("hostname") : nullptr;
    if (id == nullptr || host == nullptr || !id->is_string() || !host->is_string() ||
        id->as_string() != agent_id) {
      continue;
    }
    for (int i = 0; i < options_.agents; ++i) {
      if (agent_ip(i) == host->as_string()) {
        kill_agent(i);
        kill_processes_mentioning(agent_dir(i).string(), {"etcd", "etcd-mesos-executor", "mesos-"});
        return true;
      }
    }
  }
  return false;
}

void RealMesos::restart_agent(int i) {
  kill_agent(i);
  start_agent(i);
}

void RealMesos::restart_master() {
  const int i = options_.masters > 1 ? leading_master().value_or(leader_) : 0;
  kill_master(i);
  masters_.at(static_cast<std::size_t>(i)) =
      std::make_unique<ChildProcess>(master_argv(i), master_dir(i));
}

void RealMesos::kill_master(int i) {
  auto& master = masters_.at(static_cast<std::size_t>(i));
  master->kill(SIGKILL);
  master->wait(10s);
}

bool RealMesos::kill_leading_master() {
  const auto i = leading_master();
  if (options_.masters < 2 || !i) {
    return false;
  }
  kill_master(*i);
  return true;
}

void RealMesos::stop() {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  // SIGUSR1: the agent kills its executors and unregisters (Mesos' own
  // graceful shutdown); they outlive a plain SIGTERM with the posix launcher.
  for (auto& agent : agents_) {
    if (agent && agent->running()) {
      agent->kill(SIGUSR1);
    }
  }
  for (auto& agent : agents_) {
    if (agent && !agent->wait(20s)) {
      agent->stop(1s);
    }
  }
  for (auto& master : masters_) {
    if (master) {
      master->stop();
    }
  }
  kill_leftovers();
}

// Executors (and their etcd) that outlived their agent: by the PIDs the
// agents recorded, then anything still running from this cluster's
// directories.
void RealMesos::kill_leftovers() {
  std::error_code ec;
  for (int i = 0; i < options_.agents; ++i) {
    const fs::path run = agent_dir(i) / "run";
    if (!fs::exists(run, ec)) {
      continue;
    }
    for (auto it = fs::recursive_directory_iterator(run, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) {
        break;
      }
      if (it->path().filename() == "pid") {
        const std::string text = read_file(it->path());
        if (!text.empty() && text.find_first_not_of("0123456789\n") == std::string::npos) {
          ::kill(static_cast<pid_t>(std::stoi(text)), SIGKILL);
        }
      }
    }
  }
  kill_processes_mentioning(options_.dir.string(), {"etcd", "etcd-mesos-executor", "mesos-"});
}

std::string RealMesos::logs() const {
  std::string out;
  for (std::size_t i = 0; i < masters_.size(); ++i) {
    if (masters_[i]) {
      const std::string text = masters_[i]->stderr_text();
      out += "--- mesos-master " + std::to_string(i) + " stderr (tail) ---\n" +
             (text.size() > 4000 ? text.substr(text.size() - 4000) : text);
    }
  }
  for (std::size_t i = 0; i < agents_.size(); ++i) {
    if (agents_[i]) {
      const std::string text = agents_[i]->stderr_text();
      out += "--- mesos-agent " + std::to_string(i) + " stderr (tail) ---\n" +
             (text.size() > 3000 ? text.substr(text.size() - 3000) : text);
    }
  }
  return out;
}

}  // namespace etcdmesos::testing
