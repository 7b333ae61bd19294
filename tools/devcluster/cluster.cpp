#include "cluster.hpp"

#include "common/log.hpp"
#include "http_util.hpp"
#include "util.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
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

constexpr std::chrono::seconds kZkSessionTimeout{10};
constexpr std::chrono::seconds kZkConnectTimeout{15};
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
  return json::object{{"id", agent.id()},           {"ip", agent.ip()},
                      {"port", agent.port()},       {"pid", agent.pid()},
                      {"running", agent.running()}, {"executors", agent.executors_json()}};
}

}  // namespace

Cluster::Cluster(asio::any_io_executor ex, Options options)
    : ex_(ex), options_(std::move(options)), master_(ex, options_, new_uuid_string()) {
  options_.work_dir = fs::absolute(options_.work_dir).string();
  ResourceBag resources;
  resources.cpus = options_.agent_resources.cpus;
  resources.mem = options_.agent_resources.mem;
  resources.disk = options_.agent_resources.disk;
  resources.set_ports({{options_.agent_resources.ports_begin, options_.agent_resources.ports_end}});
  for (int i = 0; i < options_.agents; ++i) {
    AgentConfig config;
    config.id = master_.id() + "-S" + std::to_string(i);
    config.ip = ipv4_add(options_.first_agent_ip, static_cast<uint32_t>(i));
    if (config.ip.empty()) {
      throw std::runtime_error("--first-agent-ip leaves 127.0.0.0/8 for agent " +
                               std::to_string(i));
    }
    config.port = options_.agent_port;
    config.resources = resources;
    config.work_dir = options_.work_dir;
    config.registration_timeout = options_.executor_registration_timeout;
    config.shutdown_grace_period = options_.executor_shutdown_grace_period;
    config.status_update_retry_interval = options_.status_update_retry_interval;
    agents_.push_back(std::make_unique<Agent>(ex, std::move(config), master_));
  }
}

Cluster::~Cluster() = default;

asio::awaitable<Result<void>> Cluster::start() {
  server_ = std::make_unique<io::HttpServer>(
      ex_, [this](io::HttpExchange& exchange) { return handle_http(exchange); });
  auto bound = server_->listen(io::Endpoint{options_.master_ip, options_.port});
  if (!bound) {
    co_return make_error("master cannot listen on " + options_.master_ip + ":" +
                         std::to_string(options_.port) + ": " + bound.error().message);
  }
  endpoint_ = *bound;
  master_.start(endpoint_);
  for (auto& agent : agents_) {
    if (auto started = agent->start(); !started) {
      co_return started.error();
    }
    master_.add_agent(*agent);
  }
  if (!options_.zk.empty()) {
    if (auto registered = co_await start_zk(); !registered) {
      co_return registered.error();
    }
  }
  if (auto written = write_endpoint_file(); !written) {
    co_return written.error();
  }
  log()->info("master '{}' with {} agent(s), work dir {}", master_.id(), agents_.size(),
              options_.work_dir);
  std::cout << "master listening on http://" << endpoint_.to_string() << std::endl;
  co_return Result<void>{};
}

Result<void> Cluster::write_endpoint_file() const {
  if (options_.endpoint_file.empty()) {
    return {};
  }
  // Written aside and renamed, so a reader never sees half an address.
  std::string temporary = options_.endpoint_file + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << endpoint_.to_string();
    if (!out) {
      return make_error("cannot write " + temporary);
    }
  }
  std::error_code ec;
  fs::rename(temporary, options_.endpoint_file, ec);
  if (ec) {
    return make_error("cannot write " + options_.endpoint_file + ": " + ec.message());
  }
  return {};
}

asio::awaitable<void> Cluster::shutdown() {
  log()->info("shutting down: killing every executor");
  master_.close_all_streams();
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
  zk_.reset();  // closes the session: the master's node goes away at once
  if (server_) {
    server_->stop();
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

asio::awaitable<void> Cluster::handle_http(io::HttpExchange& exchange) {
  const io::Request& req = exchange.request();
  std::string_view path = request_path(req);
  if (path == "/api/v1/scheduler" || path == "/master/api/v1/scheduler") {
    co_await master_.handle_scheduler(exchange);
  } else if (path == "/state" || path == "/master/state") {
    co_await exchange.respond(json_response(req, master_.state_json()));
  } else if (path == "/health" || path == "/master/health") {
    co_await exchange.respond(text_response(req, status::ok, ""));
  } else if (path == "/redirect" || path == "/master/redirect") {
    // The leader points at itself (reference §2).
    auto res = text_response(req, status::temporary_redirect, "");
    res.set(io::http::field::location, "//" + endpoint_.to_string());
    co_await exchange.respond(std::move(res));
  } else if (path.starts_with("/control/")) {
    co_await handle_control(exchange, path);
  } else {
    co_await exchange.respond(text_response(req, status::not_found, ""));
  }
}

asio::awaitable<void> Cluster::handle_control(io::HttpExchange& exchange, std::string_view path) {
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
  std::string_view rest = path.substr(std::min(path.size(), kAgents.size()));
  auto slash = rest.rfind('/');
  if (!rest.starts_with("/") || slash == 0 || slash == std::string_view::npos) {
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
    master_.agent_stopped(agent->id());
  } else if (!agent->running()) {
    if (auto started = agent->start(); !started) {
      co_await exchange.respond(
          text_response(req, status::internal_server_error, started.error().message));
      co_return;
    }
    master_.agent_started(agent->id());
  }
  co_await exchange.respond(json_response(req, agent_summary(*agent)));
}

// ------------------------------------------------------------ ZooKeeper

asio::awaitable<Result<void>> Cluster::start_zk() {
  auto url = io::parse_zk_url(options_.zk, true);
  if (!url) {
    co_return make_error("--zk: " + url.error().message);
  }
  zk_path_ = url->path;
  zk_ = std::make_unique<io::ZkClient>(ex_, url->servers, kZkSessionTimeout);
  if (!co_await zk_->wait_connected(kZkConnectTimeout)) {
    co_return make_error("cannot connect to ZooKeeper at " + url->servers);
  }
  if (auto registered = co_await register_in_zk(); !registered) {
    co_return registered.error();
  }
  // A new session after expiry has lost the ephemeral node: register again
  // (a real master aborts instead; documented in docs/devcluster.md).
  zk_->on_session_state([this](io::ZkSessionState state) {
    if (state == io::ZkSessionState::kConnected && zk_ &&
        zk_->generation() != zk_registered_generation_) {
      asio::co_spawn(
          ex_,
          [this]() -> asio::awaitable<void> {
            if (auto again = co_await register_in_zk(); !again) {
              log()->error("ZooKeeper registration failed: {}", again.error().message);
            }
          },
          asio::detached);
    }
  });
  co_return Result<void>{};
}

asio::awaitable<Result<void>> Cluster::register_in_zk() {
  if (zk_registering_) {
    co_return Result<void>{};
  }
  zk_registering_ = true;
  uint64_t generation = zk_->generation();
  auto ensured = co_await zk_->ensure_path(zk_path_);
  Result<std::string> created = make_error("not created");
  if (ensured) {
    created =
        co_await zk_->create(zk_path_ + "/json.info_", zk_node_data(master_.info()), true, true);
  }
  zk_registering_ = false;
  if (!ensured) {
    co_return make_error("ZooKeeper: cannot create " + zk_path_ + ": " + ensured.error().message);
  }
  if (!created) {
    co_return make_error("ZooKeeper: cannot register the master: " + created.error().message);
  }
  zk_registered_generation_ = generation;
  log()->info("registered as leading master in ZooKeeper at {}", *created);
  co_return Result<void>{};
}

}  // namespace etcdmesos::devcluster
