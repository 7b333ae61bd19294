// Agent: the v1 executor API (POST /api/v1/executor), validated and
// answered as reference §15 describes.
#include "agent.hpp"

#include "common/log.hpp"
#include "http_util.hpp"
#include "util.hpp"

namespace etcdmesos::devcluster {

namespace asio = boost::asio;
using io::http::status;

namespace {

auto log() {
  return etcdmesos::logger("agent");
}

constexpr std::string_view kInvalid = "Failed to validate executor::Call: ";

}  // namespace

asio::awaitable<void> Agent::handle_http(io::HttpExchange& exchange) {
  const io::Request& req = exchange.request();
  auto path = request_path(req);
  if (path == "/api/v1/executor" || path == "/slave(1)/api/v1/executor") {
    co_await handle_executor_call(exchange);
  } else if (path == "/health" || path == "/slave(1)/health") {
    co_await exchange.respond(text_response(req, status::ok, ""));
  } else {
    co_await exchange.respond(text_response(req, status::not_found, ""));
  }
}

std::optional<io::Response> Agent::validate_update(const io::Request& req,
                                                   const mesos::ExecutorCall& call) const {
  auto bad = [&](const std::string& text) {
    return text_response(req, status::bad_request, std::string(kInvalid) + text);
  };
  const auto* update = std::get_if<mesos::ExecutorCallUpdate>(&call.payload);
  if (update == nullptr) {
    return bad("Expecting 'update' to be present");
  }
  const mesos::TaskStatus& s = update->status;
  if (!s.uuid) {
    return bad("Expecting 'uuid' to be present");
  }
  if (!is_valid_uuid_bytes(*s.uuid)) {
    return bad("Not a valid UUID");
  }
  if (s.executor_id && *s.executor_id != call.executor_id) {
    return bad("ExecutorID in Call: " + call.executor_id +
               " does not match ExecutorID in TaskStatus: " + *s.executor_id);
  }
  if (s.source != "SOURCE_EXECUTOR") {
    return bad("Received Call from executor " + call.executor_id + " of framework " +
               call.framework_id + " with invalid source, expecting 'SOURCE_EXECUTOR'");
  }
  if (s.state == mesos::TaskState::kStaging) {
    return bad("Received TASK_STAGING from executor " + call.executor_id + " of framework " +
               call.framework_id + " which is not allowed");
  }
  return std::nullopt;
}

asio::awaitable<void> Agent::handle_executor_call(io::HttpExchange& exchange) {
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
  const std::string type = call_type(parsed.json);
  if (type == "HEARTBEAT") {
    co_await exchange.respond(accepted_response(req));  // no checks at all (reference §15)
    co_return;
  }
  if (type == "UNKNOWN") {
    co_await exchange.respond(
        text_response(req, status::not_implemented, "Received 'UNKNOWN' call"));
    co_return;
  }
  if (type != "SUBSCRIBE" && type != "UPDATE" && type != "MESSAGE") {
    co_await exchange.respond(text_response(
        req, status::bad_request, std::string(kInvalid) + "Expecting 'type' to be present"));
    co_return;
  }
  const auto& body = parsed.json.as_object();
  std::string payload = type == "SUBSCRIBE" ? "subscribe" : type == "UPDATE" ? "update" : "message";
  if (!body.contains(payload)) {
    co_await exchange.respond(
        text_response(req, status::bad_request,
                      std::string(kInvalid) + "Expecting '" + payload + "' to be present"));
    co_return;
  }
  auto call = mesos::decode_executor_call(req.body());
  if (!call) {
    co_await exchange.respond(
        text_response(req, status::bad_request,
                      "Failed to convert JSON into Call protobuf: " + call.error().message));
    co_return;
  }
  if (type == "UPDATE") {
    if (auto refusal = validate_update(req, *call)) {
      co_await exchange.respond(std::move(*refusal));
      co_return;
    }
  }
  if (type == "SUBSCRIBE" && !accepts_json(req)) {
    co_await exchange.respond(text_response(
        req, status::not_acceptable,
        "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'"));
    co_return;
  }
  bool framework_known = std::any_of(runs_.begin(), runs_.end(), [&](const auto& entry) {
    return entry.first.first == call->framework_id;
  });
  auto run = find_run(call->framework_id, call->executor_id);
  if (!framework_known) {
    co_await exchange.respond(text_response(req, status::bad_request, "Framework cannot be found"));
    co_return;
  }
  if (!run) {
    co_await exchange.respond(text_response(req, status::bad_request, "Executor cannot be found"));
    co_return;
  }
  if (type == "SUBSCRIBE") {
    co_await subscribe_executor(exchange, run, std::move(*call));
    co_return;
  }
  if (run->state == ExecutorRun::State::kFetching ||
      run->state == ExecutorRun::State::kRegistering) {
    co_await exchange.respond(text_response(req, status::forbidden, "Executor is not subscribed"));
    co_return;
  }
  if (type == "UPDATE") {
    co_await exchange.respond(
        handle_update(req, *run, std::get<mesos::ExecutorCallUpdate>(call->payload).status));
    co_return;
  }
  master_.executor_message(config_.id, run->framework_id, run->info.executor_id,
                           std::get<mesos::ExecutorCallMessage>(call->payload).data);
  co_await exchange.respond(accepted_response(req));
}

io::Response Agent::handle_update(const io::Request& req, ExecutorRun& run,
                                  mesos::TaskStatus status) {
  const std::string uuid = *status.uuid;
  const std::string task_id = status.task_id;
  Task* task = find_task(run.framework_id, task_id);
  if (task == nullptr || task->executor_id != run.info.executor_id) {
    // Finished and acknowledged long ago, or never ours: nothing to deliver,
    // but the executor may stop resending it.
    log()->warn("agent '{}': update {} for unknown task '{}' from executor '{}'", config_.id,
                mesos::to_string(status.state), task_id, run.info.executor_id);
  } else {
    // The agent adds what it knows (reference §11).
    status.agent_id = config_.id;
    status.executor_id = run.info.executor_id;
    status.container_ip = config_.ip;
    if (!status.timestamp) {
      status.timestamp = wall_clock_seconds();
    }
    record_update(run.framework_id, *task, std::move(status));
  }
  if (run.stream && !run.stream->closed()) {
    run.stream->push(
        mesos::encode(mesos::ExecutorEvent{mesos::ExecutorEventAcknowledged{task_id, uuid}}));
  }
  return accepted_response(req);
}

asio::awaitable<void> Agent::subscribe_executor(io::HttpExchange& exchange,
                                                std::shared_ptr<ExecutorRun> run,
                                                mesos::ExecutorCall call) {
  using S = ExecutorRun::State;
  if (run->silent || run->state == S::kTerminating || run->state == S::kTerminated) {
    co_await respond_single_event(
        exchange, mesos::encode(mesos::ExecutorEvent{mesos::ExecutorEventShutdown{}}));
    co_return;
  }
  if (run->stream) {
    run->stream->abort();  // a repeated SUBSCRIBE replaces the old connection
  }
  if (run->state == S::kRegistering) {
    run->timer.cancel();
  }
  run->state = S::kRunning;
  log()->info("agent '{}': executor '{}' of framework '{}' subscribed", config_.id,
              run->info.executor_id, run->framework_id);

  // Replayed updates: duplicates are recognised by uuid in record_update.
  auto& subscribe_call = std::get<mesos::ExecutorCallSubscribe>(call.payload);
  for (auto& status : subscribe_call.unacknowledged_updates) {
    Task* task = find_task(run->framework_id, status.task_id);
    if (task != nullptr && status.uuid && is_valid_uuid_bytes(*status.uuid) &&
        status.state != mesos::TaskState::kStaging) {
      status.agent_id = config_.id;
      status.executor_id = run->info.executor_id;
      status.container_ip = config_.ip;
      record_update(run->framework_id, *task, std::move(status));
    }
  }
  // Tasks sent but never received by this executor are dropped.
  std::set<std::string> received;
  for (const auto& task : subscribe_call.unacknowledged_tasks) {
    received.insert(task.task_id);
  }
  bool aware = std::count(run->framework.capabilities.begin(), run->framework.capabilities.end(),
                          "PARTITION_AWARE") > 0;
  for (const auto& task_id : run->task_ids) {
    Task* task = find_task(run->framework_id, task_id);
    if (task != nullptr && task->delivered && task->state == mesos::TaskState::kStaging &&
        !received.contains(task_id)) {
      send_agent_update(run->framework_id, *task,
                        aware ? mesos::TaskState::kDropped : mesos::TaskState::kLost, std::nullopt,
                        "Task was not received by the executor");
    }
  }

  auto stream = std::make_shared<EventStream>(ex_);
  run->stream = stream;
  mesos::ExecutorInfo executor_info = run->info;
  executor_info.framework_id = run->framework_id;
  stream->push(mesos::encode(mesos::ExecutorEvent{
      mesos::ExecutorEventSubscribed{executor_info, run->framework, info(), run->container_id}}));
  deliver_queued(*run);

  io::Response header{status::ok, exchange.request().version()};
  header.set(io::http::field::content_type, "application/json");
  co_await stream->serve(exchange, std::move(header), std::nullopt);
  if (run->stream == stream) {
    run->stream = nullptr;
    log()->info("agent '{}': executor '{}' of framework '{}' disconnected", config_.id,
                run->info.executor_id, run->framework_id);
  }
}

}  // namespace etcdmesos::devcluster
