// Master: scheduler API validation, subscriptions and framework lifecycle.
#include "master.hpp"

#include "common/log.hpp"
#include "http_util.hpp"
#include "util.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cstdio>

namespace etcdmesos::devcluster {

namespace asio = boost::asio;
namespace json = boost::json;
using io::http::status;

namespace {

auto log() {
  return etcdmesos::logger("master");
}

// Call types of the v1 scheduler API (Mesos 1.12).
const std::set<std::string> kCallTypes = {"SUBSCRIBE",
                                          "TEARDOWN",
                                          "ACCEPT",
                                          "DECLINE",
                                          "ACCEPT_INVERSE_OFFERS",
                                          "DECLINE_INVERSE_OFFERS",
                                          "REVIVE",
                                          "KILL",
                                          "SHUTDOWN",
                                          "ACKNOWLEDGE",
                                          "ACKNOWLEDGE_OPERATION_STATUS",
                                          "RECONCILE",
                                          "RECONCILE_OPERATIONS",
                                          "MESSAGE",
                                          "REQUEST",
                                          "SUPPRESS",
                                          "UPDATE_FRAMEWORK"};
// The calls the codec decodes; the others are answered from the raw JSON.
const std::set<std::string> kDecodedTypes = {"SUBSCRIBE",   "TEARDOWN",  "ACCEPT", "DECLINE",
                                             "REVIVE",      "SUPPRESS",  "KILL",   "SHUTDOWN",
                                             "ACKNOWLEDGE", "RECONCILE", "MESSAGE"};
// Calls whose payload field is required (the field is the lower-case type).
const std::set<std::string> kPayloadRequired = {"SUBSCRIBE", "ACCEPT",      "DECLINE",   "KILL",
                                                "SHUTDOWN",  "ACKNOWLEDGE", "RECONCILE", "MESSAGE"};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::optional<std::string> raw_framework_id(const json::value& body) {
  const auto& obj = body.as_object();
  auto it = obj.find("framework_id");
  if (it == obj.end() || !it->value().is_object()) {
    return std::nullopt;
  }
  const auto* value = it->value().as_object().if_contains("value");
  if (value == nullptr || !value->is_string()) {
    return std::nullopt;
  }
  return std::string(value->as_string());
}

mesos::Event error_event(std::string message) {
  mesos::Event e = mesos::EventError{std::move(message)};
  return e;
}

std::string framework_id_text(const std::string& master_id, uint64_t n) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04llu", static_cast<unsigned long long>(n));
  return master_id + "-" + buf;
}

}  // namespace

bool Master::Framework::has_capability(const std::string& name) const {
  return std::find(info.capabilities.begin(), info.capabilities.end(), name) !=
         info.capabilities.end();
}

std::vector<std::string> Master::Framework::roles() const {
  if (multi_role() && !info.roles.empty()) {
    return info.roles;
  }
  return {"*"};
}

Master::Master(asio::any_io_executor ex, const Options& options, std::string master_id)
    : ex_(std::move(ex)), options_(options) {
  info_.id = std::move(master_id);
  start_time_ = wall_clock_seconds();
}

void Master::start(const io::Endpoint& listening) {
  info_.ip = ipv4_s_addr(listening.host);
  info_.port = listening.port;
  pid_ = "master@" + listening.host + ":" + std::to_string(listening.port);
  info_.pid = pid_;
  info_.hostname = listening.host;
  info_.version = "1.12.0";
  info_.address = mesos::Address{listening.host, listening.host, listening.port};
  info_.capabilities = {"AGENT_UPDATE", "AGENT_DRAINING", "QUOTA_V2"};
  asio::co_spawn(ex_, allocation_loop(), asio::detached);
}

void Master::add_agent(Agent& agent) {
  AgentRecord record;
  record.agent = &agent;
  record.active = agent.running();
  record.registered_time = wall_clock_seconds();
  agents_.emplace(agent.id(), std::move(record));
  agent_order_.push_back(agent.id());
}

Master::Framework* Master::find_framework(const std::string& id) {
  auto it = frameworks_.find(id);
  return it == frameworks_.end() ? nullptr : it->second.get();
}

Master::AgentRecord* Master::find_agent(const std::string& id) {
  auto it = agents_.find(id);
  return it == agents_.end() ? nullptr : &it->second;
}

const Master::AgentRecord* Master::find_agent(const std::string& id) const {
  auto it = agents_.find(id);
  return it == agents_.end() ? nullptr : &it->second;
}

void Master::send(Framework& framework, const mesos::Event& event) {
  if (framework.connected()) {
    framework.stream->push(mesos::encode(event));
  }
}

// ------------------------------------------------------------ HTTP entry

asio::awaitable<void> Master::handle_scheduler(io::HttpExchange& exchange) {
  const io::Request& req = exchange.request();
  if (req.method() != io::http::verb::post) {
    co_await exchange.respond(method_not_allowed(req));
    co_return;
  }
  if (auto refusal = check_content_type(req)) {
    co_await exchange.respond(std::move(*refusal));
    co_return;
  }
  auto parsed = parse_json_body(req);
  if (parsed.error) {
    co_await exchange.respond(std::move(*parsed.error));
    co_return;
  }
  std::string type = call_type(parsed.json);
  std::optional<mesos::Call> call;
  if (auto refusal = validate_call(req, type, parsed.json, call)) {
    co_await exchange.respond(std::move(*refusal));
    co_return;
  }
  if (type == "SUBSCRIBE") {
    if (!accepts_json(req)) {
      co_await exchange.respond(text_response(
          req, status::not_acceptable,
          "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'"));
    } else if (req.find("Mesos-Stream-Id") != req.end()) {
      co_await exchange.respond(
          text_response(req, status::bad_request,
                        "Subscribe calls should not include the 'Mesos-Stream-Id' header"));
    } else {
      co_await subscribe(exchange, std::move(*call));
    }
    co_return;
  }

  std::string framework_id =
      call ? call->framework_id.value_or("") : raw_framework_id(parsed.json).value_or("");
  Framework* framework = find_framework(framework_id);
  std::optional<io::Response> refusal;
  if (framework == nullptr) {
    refusal = text_response(req, status::bad_request, "Framework cannot be found");
  } else if (!framework->connected()) {
    refusal = text_response(req, status::forbidden, "Framework is not subscribed");
  } else if (auto it = req.find("Mesos-Stream-Id"); it == req.end()) {
    refusal = text_response(req, status::bad_request,
                            "All non-subscribe calls should include the 'Mesos-Stream-Id' header");
  } else if (it->value() != framework->stream_id) {
    refusal = text_response(
        req, status::bad_request,
        "The stream ID '" + std::string(it->value()) +
            "' included in this request didn't match the stream ID currently associated with "
            "framework ID " +
            framework_id);
  }
  if (refusal) {
    co_await exchange.respond(std::move(*refusal));
    co_return;
  }
  auto response = dispatch(req, *framework, type, call ? *call : mesos::Call{});
  co_await exchange.respond(std::move(response));
}

std::optional<io::Response> Master::validate_call(const io::Request& req, const std::string& type,
                                                  const json::value& body,
                                                  std::optional<mesos::Call>& call) const {
  auto bad = [&](const std::string& text) { return text_response(req, status::bad_request, text); };
  // An unknown enum name is dropped by Mesos' JSON conversion, so it reads
  // as a missing type. UNKNOWN aborts a real master; answer it instead.
  if (!kCallTypes.contains(type)) {
    return bad(type == "UNKNOWN" ? "Failed to validate scheduler::Call: Unknown call type"
                                 : "Failed to validate scheduler::Call: Expecting 'type' to be "
                                   "present");
  }
  std::string payload = lower(type);
  const auto& obj = body.as_object();
  if (kPayloadRequired.contains(type) && !obj.contains(payload)) {
    return bad("Failed to validate scheduler::Call: Expecting '" + payload + "' to be present");
  }
  if (type != "SUBSCRIBE" && !raw_framework_id(body)) {
    return bad("Failed to validate scheduler::Call: Expecting 'framework_id' to be present");
  }
  if (!kDecodedTypes.contains(type)) {
    return std::nullopt;
  }
  // REVIVE and SUPPRESS may come without their (optional) payload.
  json::object completed = obj;
  if ((type == "REVIVE" || type == "SUPPRESS") && !completed.contains(payload)) {
    completed[payload] = json::object{};
  }
  auto decoded = mesos::decode_call(json::serialize(completed));
  if (!decoded) {
    return bad("Failed to convert JSON into Call protobuf: " + decoded.error().message);
  }
  call = std::move(*decoded);
  if (type == "SUBSCRIBE") {
    const auto& id = std::get<mesos::CallSubscribe>(call->payload).framework_info.id;
    if (call->framework_id && (!id || *id != *call->framework_id)) {
      return bad(
          "Failed to validate scheduler::Call: 'framework_id' differs from "
          "'subscribe.framework_info.id'");
    }
  }
  if (type == "ACKNOWLEDGE" &&
      !is_valid_uuid_bytes(std::get<mesos::CallAcknowledge>(call->payload).uuid)) {
    return bad("Failed to validate scheduler::Call: Not a valid UUID");
  }
  return std::nullopt;
}

io::Response Master::dispatch(const io::Request& req, Framework& framework, const std::string& type,
                              const mesos::Call& call) {
  if (type == "TEARDOWN") {
    remove_framework(framework.id, "torn down by its scheduler");
  } else if (type == "ACCEPT") {
    accept(framework, std::get<mesos::CallAccept>(call.payload));
  } else if (type == "DECLINE") {
    const auto& decline_call = std::get<mesos::CallDecline>(call.payload);
    decline(framework, decline_call.offer_ids, decline_call.filters);
  } else if (type == "REVIVE") {
    const auto& roles = std::get<mesos::CallRevive>(call.payload).roles;
    if (roles.empty()) {
      framework.suppressed_roles.clear();
    }
    for (const auto& role : roles) {
      framework.suppressed_roles.erase(role);
    }
    framework.filters.clear();
    allocate_soon();
  } else if (type == "SUPPRESS") {
    auto roles = std::get<mesos::CallSuppress>(call.payload).roles;
    if (roles.empty()) {
      roles = framework.roles();
    }
    framework.suppressed_roles.insert(roles.begin(), roles.end());
  } else if (type == "KILL") {
    kill(framework, std::get<mesos::CallKill>(call.payload));
  } else if (type == "SHUTDOWN") {
    const auto& shutdown = std::get<mesos::CallShutdown>(call.payload);
    if (auto* agent = find_agent(shutdown.agent_id); agent && agent->agent->running()) {
      agent->agent->shutdown_executor(framework.id, shutdown.executor_id);
    }
  } else if (type == "ACKNOWLEDGE") {
    acknowledge(framework, std::get<mesos::CallAcknowledge>(call.payload));
  } else if (type == "RECONCILE") {
    reconcile(framework, std::get<mesos::CallReconcile>(call.payload));
  } else if (type == "MESSAGE") {
    const auto& message = std::get<mesos::CallMessage>(call.payload);
    if (auto* agent = find_agent(message.agent_id); agent && agent->agent->running()) {
      agent->agent->send_message(framework.id, message.executor_id, message.data);
    }
  } else if (type == "UPDATE_FRAMEWORK" || type == "ACKNOWLEDGE_OPERATION_STATUS" ||
             type == "RECONCILE_OPERATIONS") {
    return text_response(req, status::not_implemented,
                         type + " is not supported by mesos-devcluster");
  }
  // REQUEST and inverse offer calls are accepted and ignored, as by Mesos'
  // default allocator without maintenance schedules.
  return accepted_response(req);
}

// ------------------------------------------------------------ subscriptions

asio::awaitable<void> Master::subscribe(io::HttpExchange& exchange, mesos::Call call) {
  const auto& subscribe_call = std::get<mesos::CallSubscribe>(call.payload);
  const mesos::FrameworkInfo& info = subscribe_call.framework_info;
  auto completed = std::find_if(completed_frameworks_.begin(), completed_frameworks_.end(),
                                [&](const auto& f) { return info.id && f->id == *info.id; });
  std::optional<std::string> refusal;
  if (completed != completed_frameworks_.end()) {
    refusal = "Framework has been removed";
  } else if (!info.roles.empty() && std::find(info.capabilities.begin(), info.capabilities.end(),
                                              "MULTI_ROLE") == info.capabilities.end()) {
    refusal = "'FrameworkInfo.roles' must be empty when the framework is not MULTI_ROLE capable";
  } else if (Framework* existing = info.id ? find_framework(*info.id) : nullptr;
             existing && existing->info.principal != info.principal) {
    refusal = "Changing framework's principal is not allowed.";
  }
  if (refusal) {
    log()->info("refusing SUBSCRIBE of framework '{}': {}", info.id.value_or(""), *refusal);
    co_await respond_single_event(exchange, mesos::encode(error_event(*refusal)));
    co_return;
  }

  Framework& framework = admit_framework(info);
  auto stream = std::make_shared<EventStream>(ex_);
  framework.stream = stream;
  framework.stream_id = new_uuid_string();
  framework.filters.clear();
  framework.suppressed_roles = std::set<std::string>(subscribe_call.suppressed_roles.begin(),
                                                     subscribe_call.suppressed_roles.end());
  framework.failover_timer.reset();
  framework.unregistered_time.reset();

  mesos::Event subscribed = mesos::EventSubscribed{
      framework.id, std::chrono::duration<double>(options_.heartbeat_interval).count(), info_};
  std::string heartbeat_json = mesos::encode(mesos::Event{mesos::EventHeartbeat{}});
  stream->push(mesos::encode(subscribed));
  stream->push(heartbeat_json);
  log()->info("framework '{}' ({}) subscribed, stream '{}'", framework.id, framework.info.name,
              framework.stream_id);
  allocate_soon();

  io::Response header{status::ok, exchange.request().version()};
  header.set(io::http::field::content_type, "application/json");
  header.set("Mesos-Stream-Id", framework.stream_id);
  std::string framework_id = framework.id;
  co_await stream->serve(exchange, std::move(header), options_.heartbeat_interval,
                         std::move(heartbeat_json));
  framework_disconnected(framework_id, stream);
}

Master::Framework& Master::admit_framework(const mesos::FrameworkInfo& info) {
  if (info.id) {
    if (Framework* framework = find_framework(*info.id)) {
      if (framework->stream) {
        log()->info("framework '{}' failed over to a new subscription", framework->id);
        framework->stream->push(mesos::encode(error_event("Framework failed over")));
        framework->stream->finish();
        framework->stream = nullptr;
      }
      recover_offers_of_framework(*framework);
      // user and checkpoint cannot change on re-subscription (reference §5).
      mesos::FrameworkInfo updated = info;
      updated.user = framework->info.user;
      updated.checkpoint = framework->info.checkpoint;
      framework->info = std::move(updated);
      framework->reregistered_time = wall_clock_seconds();
      return *framework;
    }
  }
  std::string id;
  if (info.id) {
    id = *info.id;  // unknown ids are accepted as they are (reference §5)
  } else {
    do {
      id = framework_id_text(info_.id, next_framework_++);
    } while (frameworks_.contains(id));
  }
  auto framework = std::make_unique<Framework>();
  framework->id = id;
  framework->info = info;
  framework->info.id = id;
  framework->registered_time = wall_clock_seconds();
  Framework& ref = *framework;
  frameworks_[id] = std::move(framework);
  return ref;
}

void Master::framework_disconnected(const std::string& framework_id,
                                    const std::shared_ptr<EventStream>& stream) {
  Framework* framework = find_framework(framework_id);
  if (framework == nullptr || framework->stream != stream) {
    return;  // removed, or replaced by a newer subscription
  }
  framework->stream = nullptr;
  framework->unregistered_time = wall_clock_seconds();
  framework->filters.clear();
  recover_offers_of_framework(*framework);
  start_failover_timer(*framework);
}

void Master::start_failover_timer(Framework& framework) {
  const std::string framework_id = framework.id;
  double timeout_s = std::min(framework.info.failover_timeout, 365.0 * 24 * 3600);
  log()->info("framework '{}' disconnected; failover timeout {}s", framework_id, timeout_s);
  if (!(timeout_s > 0)) {
    remove_framework(framework_id, "disconnected with failover_timeout 0");
    return;
  }
  framework.failover_timer = std::make_unique<asio::steady_timer>(ex_);
  auto* timer = framework.failover_timer.get();
  timer->expires_after(std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000)));
  timer->async_wait([this, framework_id, timer](boost::system::error_code ec) {
    if (ec) {
      return;  // cancelled: the timer is gone, so is perhaps this master
    }
    Framework* f = find_framework(framework_id);
    if (f == nullptr || f->failover_timer.get() != timer || f->connected()) {
      return;
    }
    remove_framework(framework_id, "failover timeout expired");
  });
}

void Master::remove_framework(const std::string& framework_id, const std::string& why) {
  auto it = frameworks_.find(framework_id);
  if (it == frameworks_.end()) {
    return;
  }
  log()->info("removing framework '{}': {}", framework_id, why);
  Framework& framework = *it->second;
  if (framework.stream) {
    framework.stream->finish();  // zero chunk, no ERROR (reference §6 TEARDOWN)
    framework.stream = nullptr;
  }
  recover_offers_of_framework(framework);
  for (auto& [id, record] : agents_) {
    record.agent->shutdown_framework(framework_id);
  }
  for (auto& [task_id, task] : framework.tasks) {
    if (!mesos::is_terminal(task.state)) {
      task.state = mesos::TaskState::kKilled;
    }
    framework.completed_tasks.push_back(std::move(task));
  }
  while (framework.completed_tasks.size() > kMaxCompletedTasks) {
    framework.completed_tasks.pop_front();
  }
  framework.tasks.clear();
  framework.unreachable_tasks.clear();
  framework.executors.clear();
  framework.filters.clear();
  framework.unregistered_time = wall_clock_seconds();
  // The timer may be the one whose handler is running: destroying it there
  // is allowed, its wait has completed.
  framework.failover_timer.reset();
  completed_frameworks_.push_back(std::move(it->second));
  frameworks_.erase(it);
  while (completed_frameworks_.size() > kMaxCompletedFrameworks) {
    completed_frameworks_.pop_front();
  }
  allocate_soon();
}

void Master::agent_reregistered(Agent& agent, const AgentReport& report) {
  if (find_agent(agent.id()) == nullptr) {
    add_agent(agent);
  }
  AgentRecord& record = *find_agent(agent.id());
  record.active = agent.running();
  std::vector<std::string> recovered;
  for (const auto& executor : report.executors) {
    const std::string& framework_id = *executor.framework.id;
    Framework* framework = find_framework(framework_id);
    if (framework == nullptr) {
      auto created = std::make_unique<Framework>();
      created->id = framework_id;
      created->info = executor.framework;
      created->registered_time = wall_clock_seconds();
      framework = created.get();
      frameworks_[framework_id] = std::move(created);
      recovered.push_back(framework_id);
    }
    if (executor.running) {
      auto executor_resources = ResourceBag::from_mesos(executor.info.resources);
      framework->executors[{agent.id(), executor.info.executor_id}] =
          Executor{executor.info, executor_resources ? *executor_resources : ResourceBag{}};
    }
    for (const auto& [info, state] : executor.tasks) {
      Task task;
      task.info = info;
      task.info.data.reset();
      task.framework_id = framework_id;
      task.agent_id = agent.id();
      task.executor_id = executor.info.executor_id;
      for (const auto& resource : info.resources) {
        if (resource.allocation_role) {
          task.role = resource.allocation_role;
        }
      }
      auto resources = ResourceBag::from_mesos(info.resources);
      task.resources = resources ? *resources : ResourceBag{};
      task.state = state;
      framework->tasks[info.task_id] = std::move(task);
    }
  }
  for (const auto& framework_id : recovered) {
    log()->info("framework '{}' recovered from agent '{}'; waiting for it to re-subscribe",
                framework_id, agent.id());
    start_failover_timer(*frameworks_.at(framework_id));
  }
  log()->info("agent '{}' registered with master '{}': {} executor(s)", agent.id(), info_.id,
              report.executors.size());
  allocate_soon();
}

void Master::retire() {
  if (retired_) {
    return;
  }
  retired_ = true;
  log()->info("master '{}' stops leading", info_.id);
  close_all_streams();
  for (auto& [id, framework] : frameworks_) {
    framework->stream = nullptr;
  }
  // Destroying the timers cancels them; their handlers check the error
  // first and touch nothing else.
  frameworks_.clear();
  completed_frameworks_.clear();
  offers_.clear();
  agents_.clear();
  agent_order_.clear();
}

void Master::close_all_streams() {
  for (auto& [id, framework] : frameworks_) {
    if (framework->stream) {
      framework->stream->finish();
    }
  }
}

}  // namespace etcdmesos::devcluster
