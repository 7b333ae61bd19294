#include "cluster.hpp"

#include "common/files.hpp"
#include "common/log.hpp"
#include "http_util.hpp"
#include "util.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace etcdmesos::devcluster {

namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;
using io::http::status;

namespace {

auto log() {
  return etcdmesos::logger("devcluster");
}

constexpr std::chrono::seconds kZkConnectTimeout{15};
constexpr int kMaxZkRemoveAttempts = 60;
constexpr std::chrono::seconds kReapTimeout{5};

// Objects with their keys in alphabetical order, as in the node a real
// master writes (reference §19).
json::value sorted_keys(const json::value& value) {
  if (const auto* array = value.if_array()) {
    json::array out;
    for (const auto& item : *array) {
      out.push_back(sorted_keys(item));
    }
    return out;
  }
  const auto* object = value.if_object();
  if (object == nullptr) {
    return value;
  }
  std::vector<std::string> keys;
  for (const auto& entry : *object) {
    keys.emplace_back(entry.key());
  }
  std::sort(keys.begin(), keys.end());
  json::object out;
  for (const auto& key : keys) {
    out[key] = sorted_keys(object->at(key));
  }
  return out;
}

std::string zk_node_data(const mesos::MasterInfo& info) {
  std::string encoded = mesos::encode(info);
  boost::system::error_code ec;
  auto parsed = json::parse(encoded, ec);
  return ec ? encoded : json::serialize(sorted_keys(parsed));
}

json::object agent_summary(const Agent& agent) {
  return json::object{{"id", agent.id()},
                      {"ip", agent.ip()},
                      {"port", agent.port()},
                      {"pid", agent.pid()},
                      {"running", agent.running()},
                      {"executors", agent.executors_json()},
                      {"fetcher_cache", agent.fetcher_cache_json()}};
}

// Sequence number of a master's node: json.info_0000000012 -> 12.
std::optional<uint64_t> master_node_sequence(std::string_view name) {
  constexpr std::string_view kPrefix = "json.info_";
  if (!name.starts_with(kPrefix) || name.size() == kPrefix.size()) {
    return std::nullopt;
  }
  std::string_view digits = name.substr(kPrefix.size());
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc{} || end != digits.data() + digits.size()) {
    return std::nullopt;
  }
  return value;
}

// The value of `key` in the request's query string, if present.
std::optional<std::string> query_value(const io::Request& req, std::string_view key) {
  std::string_view target = req.target();
  auto question = target.find('?');
  if (question == std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view query = target.substr(question + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == key) {
      return eq == std::string_view::npos ? std::string() : std::string(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) {
      break;
    }
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

}  // namespace

Cluster::Cluster(asio::any_io_executor ex, Options options)
    : ex_(ex), options_(std::move(options)) {
  options_.work_dir = fs::absolute(options_.work_dir).string();
  for (int i = 0; i < options_.masters; ++i) {
    MasterSlot slot;
    slot.master = std::make_unique<Master>(ex_, options_, new_uuid_string());
    masters_.push_back(std::move(slot));
  }
  // Agent ids come from the first leader's id, as with a real cluster.
  const std::string first_id = masters_.front().master->id();
  ResourceBag resources;
  resources.cpus = options_.agent_resources.cpus;
  resources.mem = options_.agent_resources.mem;
  resources.disk = options_.agent_resources.disk;
  resources.set_ports({{options_.agent_resources.ports_begin, options_.agent_resources.ports_end}});
  for (int i = 0; i < options_.agents; ++i) {
    AgentConfig config;
    config.id = first_id + "-S" + std::to_string(i);
    config.ip = ipv4_add(options_.first_agent_ip, static_cast<uint32_t>(i));
    if (config.ip.empty()) {
      throw std::runtime_error("--first-agent-ip leaves 127.0.0.0/8 for agent " +
                               std::to_string(i));
    }
    config.port = options_.agent_port;
    config.resources = resources;
    config.work_dir = options_.work_dir;
    const fs::path cache_root = options_.fetcher_cache_dir.empty()
                                    ? fs::path(options_.work_dir) / "fetch"
                                    : fs::absolute(options_.fetcher_cache_dir);
    config.fetcher_cache_dir = cache_root / config.id;
    config.fetcher_cache_bytes = options_.fetcher_cache_bytes;
    config.registration_timeout = options_.executor_registration_timeout;
    config.shutdown_grace_period = options_.executor_shutdown_grace_period;
    config.status_update_retry_interval = options_.status_update_retry_interval;
    agents_.push_back(std::make_unique<Agent>(ex, std::move(config), *this));
  }
}

Cluster::~Cluster() = default;

asio::awaitable<Result<void>> Cluster::start() {
  for (std::size_t i = 0; i < masters_.size(); ++i) {
    MasterSlot& slot = masters_[i];
    slot.server = std::make_unique<io::HttpServer>(
        ex_, [this, i](io::HttpExchange& exchange) { return handle_http(i, exchange); });
    uint16_t port = options_.port == 0 ? 0 : static_cast<uint16_t>(options_.port + i);
    auto bound = slot.server->listen(io::Endpoint{options_.master_ip, port});
    if (!bound) {
      co_return make_error("master cannot listen on " + options_.master_ip + ":" +
                           std::to_string(port) + ": " + bound.error().message);
    }
    slot.endpoint = *bound;
    slot.master->start(slot.endpoint);
  }
  for (auto& agent : agents_) {
    if (auto started = agent->start(); !started) {
      co_return started.error();
    }
  }
  if (auto written = write_all_endpoints_file(); !written) {
    co_return written.error();
  }
  if (!options_.zk.empty()) {
    if (auto registered = co_await start_zk(); !registered) {
      co_return registered.error();
    }
  } else {
    set_leader(0, std::nullopt);
  }
  // A node left by a master that died a moment ago leads until its session
  // expires; wait for it like a real standby would (bounded).
  asio::steady_timer wait(ex_);
  auto deadline = std::chrono::steady_clock::now() + 2 * options_.zk_session_timeout;
  while (!leader_ && std::chrono::steady_clock::now() < deadline) {
    wait.expires_after(std::chrono::milliseconds(100));
    boost::system::error_code ec;
    co_await wait.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (!leader_) {
    co_return make_error("no master of this dev cluster leads: another master's node in " +
                         zk_path_ + " stays lower");
  }
  if (auto written = write_endpoint_file(); !written) {
    co_return written.error();
  }
  log()->info("{} master(s), leader '{}', {} agent(s), work dir {}", masters_.size(),
              leader()->id(), agents_.size(), options_.work_dir);
  for (const auto& slot : masters_) {
    std::cout << "master listening on http://" << slot.endpoint.to_string() << std::endl;
  }
  co_return Result<void>{};
}

Result<void> Cluster::write_endpoint_file() const {
  if (options_.endpoint_file.empty() || !leader_endpoint_) {
    return {};
  }
  return write_file_atomically(options_.endpoint_file, leader_endpoint_->to_string());
}

Result<void> Cluster::write_all_endpoints_file() const {
  if (options_.endpoint_file.empty()) {
    return {};
  }
  std::string lines;
  for (const auto& slot : masters_) {
    lines += slot.endpoint.to_string() + "\n";
  }
  return write_file_atomically(options_.endpoint_file + ".all", lines);
}

asio::awaitable<void> Cluster::shutdown() {
  log()->info("shutting down: killing every executor");
  for (auto& slot : masters_) {
    slot.master->close_all_streams();
  }
  for (auto& agent : agents_) {
    agent->kill_all();
  }
  // Reap the executors, so that none outlives the dev cluster.
  asio::steady_timer timer(ex_);
  auto deadline = std::chrono::steady_clock::now() + kReapTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::size_t live = 0;
    for (auto& agent : agents_) {
      live += agent->kill_all();
    }
    if (live == 0) {
      break;
    }
    timer.expires_after(std::chrono::milliseconds(20));
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  zk_.reset();  // closes the session: the masters' nodes go away at once
  for (auto& slot : masters_) {
    if (slot.server) {
      slot.server->stop();
    }
  }
}

// ------------------------------------------------------------ MasterLink

Master* Cluster::leader() const {
  return leader_ ? masters_[*leader_].master.get() : nullptr;
}

Master* Cluster::registered_master(std::string_view agent_id) const {
  Master* master = leader();
  return master != nullptr && master->knows_agent(std::string(agent_id)) ? master : nullptr;
}

bool Cluster::forward_status_update(const std::string& agent_id, const std::string& framework_id,
                                    const mesos::TaskStatus& status,
                                    mesos::TaskState latest_state) {
  if (Master* master = registered_master(agent_id)) {
    return master->forward_status_update(agent_id, framework_id, status, latest_state);
  }
  // No master that knows the agent (none leads, or the new leader before
  // the agent re-registered): the agent keeps the update and resends it.
  log()->debug("agent '{}' is not registered with a leading master: it keeps {} of task '{}'",
               agent_id, mesos::to_string(status.state), status.task_id);
  return true;
}

void Cluster::task_state_changed(const std::string& agent_id, const std::string& framework_id,
                                 const std::string& task_id, mesos::TaskState latest_state) {
  // Without a master the newest state reaches the next one by the report
  // of the agent's re-registration.
  if (Master* master = registered_master(agent_id)) {
    master->task_state_changed(agent_id, framework_id, task_id, latest_state);
  }
}

void Cluster::executor_terminated(const std::string& agent_id, const std::string& framework_id,
                                  const std::string& executor_id, int wait_status) {
  if (Master* master = registered_master(agent_id)) {
    master->executor_terminated(agent_id, framework_id, executor_id, wait_status);
  } else {
    log()->warn(
        "agent '{}' is not registered with a leading master: FAILURE of executor '{}' is "
        "dropped",
        agent_id, executor_id);
  }
}

void Cluster::executor_message(const std::string& agent_id, const std::string& framework_id,
                               const std::string& executor_id, std::string data) {
  if (Master* master = registered_master(agent_id)) {
    master->executor_message(agent_id, framework_id, executor_id, std::move(data));
  } else {
    log()->warn(
        "agent '{}' is not registered with a leading master: message of executor '{}' is "
        "dropped",
        agent_id, executor_id);
  }
}

// ------------------------------------------------------------ HTTP

Agent* Cluster::find_agent(std::string_view id) const {
  for (const auto& agent : agents_) {
    if (agent->id() == id) {
      return agent.get();
    }
  }
  return nullptr;
}

asio::awaitable<void> Cluster::handle_http(std::size_t slot, io::HttpExchange& exchange) {
  const io::Request& req = exchange.request();
  std::string_view path = request_path(req);
  if (path.starts_with("/control/")) {
    co_await handle_control(exchange, path);  // on every master's port
    co_return;
  }
  if (path == "/health" || path == "/master/health") {
    co_await exchange.respond(text_response(req, status::ok, ""));
    co_return;
  }
  if (leader_ != slot) {
    co_await handle_standby(exchange, path);
    co_return;
  }
  Master& master = *masters_[slot].master;
  if (path == "/api/v1/scheduler" || path == "/master/api/v1/scheduler") {
    co_await master.handle_scheduler(exchange);
  } else if (path == "/state" || path == "/master/state") {
    co_await exchange.respond(json_response(req, master.state_json()));
  } else if (path == "/redirect" || path == "/master/redirect") {
    // The leader points at itself (reference §2).
    auto res = text_response(req, status::temporary_redirect, "");
    res.set(io::http::field::location, "//" + masters_[slot].endpoint.to_string());
    co_await exchange.respond(std::move(res));
  } else {
    co_await exchange.respond(text_response(req, status::not_found, ""));
  }
}

// A master that does not lead, as observed on a real standby (reference §2,
// §3): redirects to the leader before any other check, 503 without one.
asio::awaitable<void> Cluster::handle_standby(io::HttpExchange& exchange, std::string_view path) {
  const io::Request& req = exchange.request();
  std::optional<std::string> location;
  if (path == "/api/v1/scheduler" || path == "/master/api/v1/scheduler") {
    location = "/master/api/v1/scheduler";
  } else if (path == "/state" || path == "/master/state") {
    std::string_view target = req.target();
    auto question = target.find('?');
    location = "/master/state" +
               std::string(question == std::string_view::npos ? "" : target.substr(question));
  } else if (path == "/redirect" || path == "/master/redirect") {
    location = "";
  }
  if (!location) {
    co_await exchange.respond(text_response(req, status::not_found, ""));
  } else if (!leader_endpoint_) {
    co_await exchange.respond(text_response(req, status::service_unavailable, "No leader elected"));
  } else {
    auto res = text_response(req, status::temporary_redirect, "");
    res.set(io::http::field::location, "//" + leader_endpoint_->to_string() + *location);
    co_await exchange.respond(std::move(res));
  }
}

json::array Cluster::masters_json() const {
  json::array list;
  for (std::size_t i = 0; i < masters_.size(); ++i) {
    const MasterSlot& slot = masters_[i];
    list.push_back(json::object{{"id", slot.master->id()},
                                {"endpoint", slot.endpoint.to_string()},
                                {"leading", leader_ == i},
                                {"zk_node", slot.zk_node}});
  }
  return list;
}

asio::awaitable<void> Cluster::handle_control(io::HttpExchange& exchange, std::string_view path) {
  const io::Request& req = exchange.request();
  if (path == "/control/masters") {
    co_await exchange.respond(json_response(req, masters_json()));
  } else if (path == "/control/masters/failover") {
    co_await handle_failover(exchange);
  } else if (path == "/control/agents" || path.starts_with("/control/agents/")) {
    co_await handle_agent_control(exchange, path);
  } else {
    co_await exchange.respond(text_response(req, status::not_found, "unknown control endpoint"));
  }
}

asio::awaitable<void> Cluster::handle_agent_control(io::HttpExchange& exchange,
                                                    std::string_view path) {
  const io::Request& req = exchange.request();
  constexpr std::string_view kAgents = "/control/agents";
  if (path == kAgents) {
    json::array list;
    for (const auto& agent : agents_) {
      list.push_back(agent_summary(*agent));
    }
    co_await exchange.respond(json_response(req, list));
    co_return;
  }
  // /control/agents/<id>/stop | /control/agents/<id>/start
  std::string_view rest = path.substr(kAgents.size());
  auto slash = rest.rfind('/');
  if (slash == 0 || slash == std::string_view::npos) {
    co_await exchange.respond(text_response(req, status::not_found, "unknown control endpoint"));
    co_return;
  }
  std::string_view id = rest.substr(1, slash - 1);
  std::string_view verb = rest.substr(slash + 1);
  Agent* agent = find_agent(id);
  if (agent == nullptr || (verb != "stop" && verb != "start")) {
    co_await exchange.respond(
        text_response(req, status::not_found, "unknown agent '" + std::string(id) + "'"));
    co_return;
  }
  if (req.method() != io::http::verb::post) {
    co_await exchange.respond(method_not_allowed(req));
    co_return;
  }
  if (verb == "stop") {
    agent->stop();
    if (Master* master = registered_master(agent->id())) {
      master->agent_stopped(agent->id());
    }
  } else if (!agent->running()) {
    if (auto started = agent->start(); !started) {
      co_await exchange.respond(
          text_response(req, status::internal_server_error, started.error().message));
      co_return;
    }
    if (Master* master = registered_master(agent->id())) {
      master->agent_started(agent->id());
    } else if (Master* new_leader = leader();
               new_leader != nullptr && !reregistrations_.contains(agent->id())) {
      // Its re-registration came due while it was down.
      register_agent(*agent, *new_leader);
    }
  }
  co_await exchange.respond(json_response(req, agent_summary(*agent)));
}

// ------------------------------------------------------------ failover

asio::awaitable<void> Cluster::handle_failover(io::HttpExchange& exchange) {
  const io::Request& req = exchange.request();
  if (req.method() != io::http::verb::post) {
    co_await exchange.respond(method_not_allowed(req));
    co_return;
  }
  auto gap_s = seconds_parameter(req, "gap", kMaxFailoverGapSeconds);
  auto reregister_s = seconds_parameter(req, "reregister", kMaxReregisterSeconds);
  for (const auto* parsed : {&gap_s, &reregister_s}) {
    if (!*parsed) {
      co_await exchange.respond(text_response(req, status::bad_request, parsed->error().message));
      co_return;
    }
  }
  if (election_held_ || !leader_) {
    co_await exchange.respond(
        text_response(req, status::conflict, "no master leads (a failover is in progress?)"));
    co_return;
  }
  const std::size_t slot = *leader_;
  const double gap = gap_s->value_or(0);
  json::object answer{{"previous_leader", masters_[slot].endpoint.to_string()},
                      {"previous_id", masters_[slot].master->id()},
                      {"gap_seconds", gap}};
  answer["reregister_seconds"] = *reregister_s ? json::value(**reregister_s) : json::value(nullptr);
  requested_reregister_delay_.reset();
  if (*reregister_s) {
    requested_reregister_delay_ =
        std::chrono::milliseconds(static_cast<int64_t>(**reregister_s * 1000));
  }
  const std::string reregister_after =
      requested_reregister_delay_ ? std::to_string(requested_reregister_delay_->count()) + " ms"
                                  : std::string("0-1000 ms at random");
  log()->info(
      "failover asked for: master '{}' at {} gives up leading (gap {}s, agents "
      "re-register after {})",
      masters_[slot].master->id(), masters_[slot].endpoint.to_string(), gap, reregister_after);
  election_held_ = true;
  set_leader(std::nullopt, std::nullopt);
  replace_master(slot);
  auto gap_ms = std::chrono::milliseconds(static_cast<int64_t>(gap * 1000));
  asio::co_spawn(ex_, finish_failover(slot, gap_ms), asio::detached);
  co_await exchange.respond(json_response(req, answer));
}

Result<std::optional<double>> Cluster::seconds_parameter(const io::Request& req,
                                                         std::string_view key, double max_s) {
  auto text = query_value(req, key);
  if (!text) {
    return std::optional<double>{};
  }
  char* end = nullptr;
  double value = std::strtod(text->c_str(), &end);
  if (text->empty() || end != text->c_str() + text->size() || !(value >= 0) || value > max_s) {
    return make_error(std::string(key) + " must be a number of seconds from 0 to " +
                      std::to_string(static_cast<int64_t>(max_s)));
  }
  return std::optional<double>{value};
}

void Cluster::replace_master(std::size_t slot) {
  MasterSlot& entry = masters_[slot];
  entry.master->retire();
  retired_masters_.push_back(std::move(entry.master));
  while (retired_masters_.size() > kMaxRetiredMasters) {
    retired_masters_.pop_front();
  }
  entry.master = std::make_unique<Master>(ex_, options_, new_uuid_string());
  entry.master->start(entry.endpoint);
  log()->info("master at {} comes back as standby '{}'", entry.endpoint.to_string(),
              entry.master->id());
}

// The rest of a failover: the old leader's node goes, nobody leads for
// `gap`, then the fresh incarnation queues up again and the lowest node
// leads.
asio::awaitable<void> Cluster::finish_failover(std::size_t slot, std::chrono::milliseconds gap) {
  if (zk_ && !masters_[slot].zk_node.empty()) {
    // Retried over a connection loss: while the node stays, it leads.
    const std::string node = zk_path_ + "/" + masters_[slot].zk_node;
    asio::steady_timer retry(ex_);
    for (int attempt = 0; attempt < kMaxZkRemoveAttempts; ++attempt) {
      auto removed = co_await zk_->remove(node);
      if (removed) {
        break;
      }
      log()->warn("ZooKeeper: cannot delete {}: {}", node, removed.error().message);
      retry.expires_after(std::chrono::milliseconds(500));
      boost::system::error_code ec;
      co_await retry.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    masters_[slot].zk_node.clear();
  }
  if (gap.count() > 0) {
    asio::steady_timer timer(ex_);
    timer.expires_after(gap);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  election_held_ = false;
  if (!zk_) {
    set_leader(0, std::nullopt);
    co_return;
  }
  if (auto registered = co_await register_in_zk(slot); !registered) {
    log()->error("{}", registered.error().message);
  }
  co_await refresh_leader();
}

// ------------------------------------------------------------ election

void Cluster::set_leader(std::optional<std::size_t> slot, std::optional<io::Endpoint> elsewhere) {
  if (election_held_) {
    slot.reset();
    elsewhere.reset();
  }
  std::optional<io::Endpoint> endpoint = slot ? masters_[*slot].endpoint : elsewhere;
  bool same_endpoint = endpoint.has_value() == leader_endpoint_.has_value() &&
                       (!endpoint || endpoint->to_string() == leader_endpoint_->to_string());
  if (slot == leader_ && same_endpoint) {
    return;
  }
  const std::string before = leader_endpoint_ ? leader_endpoint_->to_string() : "none";
  const std::string after = endpoint ? endpoint->to_string() : "none";
  std::optional<std::size_t> previous = leader_;
  leader_ = slot;
  leader_endpoint_ = endpoint;
  log()->info("leading master: {} -> {}", before, after);
  if (previous && previous != slot && !election_held_) {
    // Its node is gone without a failover asked for (deleted by hand): it
    // stops leading and queues up again as a fresh master.
    replace_master(*previous);
    if (zk_) {
      masters_[*previous].zk_node.clear();
      asio::co_spawn(
          ex_,
          [this, p = *previous]() -> asio::awaitable<void> {
            if (auto again = co_await register_in_zk(p); !again) {
              log()->error("{}", again.error().message);
            }
          },
          asio::detached);
    }
  }
  // Re-registrations still due with the previous leader are void.
  cancel_reregistrations();
  if (Master* master = leader(); master && previous != slot) {
    log()->info("master '{}' at {} leads", master->id(), after);
    schedule_reregistrations(*master);
  }
  if (endpoint) {
    if (auto written = write_endpoint_file(); !written) {
      log()->error("{}", written.error().message);
    }
  }
}

// ------------------------------------------------------------ agent re-registration

void Cluster::schedule_reregistrations(Master& master) {
  if (!leader_seen_) {
    // The dev cluster starts with its agents registered.
    leader_seen_ = true;
    for (auto& agent : agents_) {
      if (agent->running()) {
        register_agent(*agent, master);
      }
    }
    return;
  }
  // Until an agent re-registers, the new leader does not know it, as a
  // real master with --registry=in_memory: no offers from it, its updates
  // stay with it, reconciliation of its tasks answers TASK_UNKNOWN (the
  // window in which TASK_LOST answers once destroyed a serving cluster).
  std::uniform_int_distribution<int64_t> backoff_ms(0, kReregistrationBackoff.count());
  const std::optional<std::chrono::milliseconds> fixed = requested_reregister_delay_;
  requested_reregister_delay_.reset();
  for (auto& agent : agents_) {
    const std::chrono::milliseconds delay =
        fixed ? *fixed : std::chrono::milliseconds(backoff_ms(random_));
    auto timer = std::make_unique<asio::steady_timer>(ex_);
    timer->expires_after(delay);
    timer->async_wait([this, id = agent->id(), raw = timer.get()](boost::system::error_code ec) {
      if (ec) {
        return;  // cancelled (a newer leader change), perhaps with this Cluster gone
      }
      if (auto it = reregistrations_.find(id);
          it != reregistrations_.end() && it->second.get() == raw) {
        reregistration_due(id);
      }
    });
    reregistrations_[agent->id()] = std::move(timer);
    log()->info("agent '{}' will re-register with master '{}' in {} ms", agent->id(), master.id(),
                delay.count());
  }
}

void Cluster::cancel_reregistrations() {
  if (!reregistrations_.empty()) {
    log()->info("{} pending agent re-registration(s) cancelled", reregistrations_.size());
  }
  // Destroying the timers cancels them; their handlers see the error.
  reregistrations_.clear();
}

void Cluster::reregistration_due(const std::string& agent_id) {
  // The timer whose handler runs here may be destroyed: its wait is over.
  reregistrations_.erase(agent_id);
  Agent* agent = find_agent(agent_id);
  Master* master = leader();
  if (agent == nullptr || master == nullptr || master->knows_agent(agent_id)) {
    return;
  }
  if (!agent->running()) {
    log()->info(
        "agent '{}': re-registration with master '{}' came due but the agent is down; "
        "it registers when it starts",
        agent_id, master->id());
    return;
  }
  register_agent(*agent, *master);
}

void Cluster::register_agent(Agent& agent, Master& master) {
  log()->info("agent '{}' re-registers with master '{}'", agent.id(), master.id());
  master.agent_reregistered(agent, agent.report());
  // Then it resends what the schedulers have not acknowledged (a real
  // agent's status update manager resumes on re-registration).
  agent.master_changed();
}

asio::awaitable<Result<void>> Cluster::start_zk() {
  auto url = io::parse_zk_url(options_.zk, true);
  if (!url) {
    co_return make_error("--zk: " + url.error().message);
  }
  zk_path_ = url->path;
  zk_ = std::make_unique<io::ZkClient>(ex_, url->servers, options_.zk_session_timeout);
  if (!co_await zk_->wait_connected(kZkConnectTimeout)) {
    co_return make_error("cannot connect to ZooKeeper at " + url->servers);
  }
  const uint64_t generation = zk_->generation();
  zk_->on_session_state([this, generation](io::ZkSessionState state) {
    if (!zk_) {
      return;
    }
    if (state == io::ZkSessionState::kExpired ||
        (state == io::ZkSessionState::kConnected && zk_->generation() != generation)) {
      // The ephemeral nodes are gone; a real master aborts here.
      log()->critical("ZooKeeper session expired: the masters lost their nodes; exiting");
      if (fatal_) {
        fatal_(1);
      }
    } else if (state == io::ZkSessionState::kConnected) {
      // Back after a connection blip within the session timeout: the nodes
      // are still there; read the queue again in case it changed.
      spawn_refresh_leader();
    }
  });
  if (auto ensured = co_await zk_->ensure_path(zk_path_); !ensured) {
    co_return make_error("ZooKeeper: cannot create " + zk_path_ + ": " + ensured.error().message);
  }
  for (std::size_t i = 0; i < masters_.size(); ++i) {
    if (auto registered = co_await register_in_zk(i); !registered) {
      co_return registered.error();
    }
  }
  co_await refresh_leader();
  co_return Result<void>{};
}

asio::awaitable<Result<void>> Cluster::register_in_zk(std::size_t slot) {
  Master& master = *masters_[slot].master;
  auto created =
      co_await zk_->create(zk_path_ + "/json.info_", zk_node_data(master.info()), true, true);
  if (!created) {
    co_return make_error("ZooKeeper: cannot register master '" + master.id() +
                         "': " + created.error().message);
  }
  // The master may have been replaced meanwhile; the node is its slot's.
  masters_[slot].zk_node = created->substr(created->rfind('/') + 1);
  log()->info("master '{}' registered in ZooKeeper at {}", master.id(), *created);
  co_return Result<void>{};
}

void Cluster::spawn_refresh_leader() {
  asio::co_spawn(ex_, refresh_leader(), asio::detached);
}

asio::awaitable<void> Cluster::refresh_leader() {
  if (!zk_) {
    co_return;
  }
  const uint64_t sequence = ++refresh_sequence_;
  auto children = co_await zk_->children(zk_path_, [this] { spawn_refresh_leader(); });
  if (!children) {
    // Connection loss: the refresh after reconnecting decides.
    log()->warn("ZooKeeper: cannot list {}: {}", zk_path_, children.error().message);
    co_return;
  }
  std::optional<std::pair<uint64_t, std::string>> lowest;
  for (const auto& name : *children) {
    if (auto seq = master_node_sequence(name); seq && (!lowest || *seq < lowest->first)) {
      lowest = std::make_pair(*seq, name);
    }
  }
  std::optional<std::size_t> slot;
  std::optional<io::Endpoint> elsewhere;
  if (lowest) {
    for (std::size_t i = 0; i < masters_.size(); ++i) {
      if (masters_[i].zk_node == lowest->second) {
        slot = i;
      }
    }
    if (!slot) {
      // A master outside this process leads (or our node name is not
      // known yet): its address is in the node.
      auto data = co_await zk_->get(zk_path_ + "/" + lowest->second);
      if (data && *data) {
        if (auto info = mesos::decode_master_info(**data); info && info->address) {
          elsewhere = io::Endpoint{info->address->ip.value_or(info->address->hostname.value_or("")),
                                   static_cast<uint16_t>(info->address->port)};
        }
        // A node left by an earlier incarnation of one of our masters (its
        // deletion failed): nobody serves there as leader.
        for (const auto& other : masters_) {
          if (elsewhere && elsewhere->to_string() == other.endpoint.to_string()) {
            elsewhere.reset();
          }
        }
      }
    }
  }
  if (sequence != refresh_sequence_ || !zk_) {
    co_return;  // a newer refresh decides
  }
  set_leader(slot, elsewhere);
}

}  // namespace etcdmesos::devcluster
