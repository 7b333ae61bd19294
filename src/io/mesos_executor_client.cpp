// MesosExecutorClient: one background coroutine runs the connection loop
// (SUBSCRIBE -> read events -> back off, within the windows of reference
// §15); while subscribed, a second coroutine POSTs queued UPDATEs one at a
// time, in order, each on a connection of its own (a call must never travel
// on the subscription connection, reference §2).
//
// Each connection attempt has a generation; stop() and every new attempt bump
// it, and a coroutine that wakes up with an older generation drops whatever it
// got instead of acting on it.
#include "io/mesos_executor_client.hpp"

#include "codec/recordio.hpp"
#include "common/backoff.hpp"
#include "common/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <deque>
#include <limits>
#include <optional>

namespace etcdmesos::io {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using State = MesosExecutorClient::State;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// Agent answers to calls are short texts; anything longer is cut off.
constexpr std::size_t kAnswerBodyLimit = 64 * 1024;

std::shared_ptr<spdlog::logger> log() {
  return logger("mesos");
}

struct DurationUnit {
  std::string_view name;
  int64_t nanoseconds;
};

constexpr int64_t kSecond = 1'000'000'000;
constexpr std::array<DurationUnit, 8> kDurationUnits = {{
    {"ns", 1},
    {"us", 1'000},
    {"ms", 1'000'000},
    {"secs", kSecond},
    {"mins", 60 * kSecond},
    {"hrs", 3600 * kSecond},
    {"days", 86400 * kSecond},
    {"weeks", 7 * 86400 * kSecond},
}};

std::optional<int64_t> unit_nanoseconds(std::string_view unit) {
  for (const auto& u : kDurationUnits) {
    if (u.name == unit) {
      return u.nanoseconds;
    }
  }
  return std::nullopt;
}

std::string one_line(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  while (!text.empty() && text.back() == ' ') {
    text.pop_back();
  }
  return text;
}

std::optional<std::string> lookup(const std::map<std::string, std::string>& env,
                                  const std::string& name) {
  auto it = env.find(name);
  if (it == env.end() || it->second.empty()) {
    return std::nullopt;
  }
  return it->second;
}

Error missing(const std::string& name) {
  return make_error(name +
                    " is not set; etcd-mesos-executor must be started by a Mesos agent, which "
                    "sets it");
}

Result<nanoseconds> duration_variable(const std::map<std::string, std::string>& env,
                                      const std::string& name) {
  auto text = lookup(env, name);
  if (!text) {
    return missing(name);
  }
  auto parsed = parse_mesos_duration(*text);
  if (!parsed) {
    return make_error(name + ": " + parsed.error().message);
  }
  return *parsed;
}

// How one connection attempt ended.
struct Outcome {
  bool reached_subscribed = false;
  std::string reason;
};

}  // namespace

Result<nanoseconds> parse_mesos_duration(std::string_view text) {
  const auto bad = [&](const std::string& why) {
    return make_error("bad duration '" + std::string(text.substr(0, 64)) + "': " + why +
                      " (expected a number and one of ns us ms secs mins hrs days weeks, "
                      "e.g. 15mins)");
  };
  const auto unit_at = text.find_first_not_of("0123456789.");
  const auto number = text.substr(0, unit_at);
  const auto unit = unit_at == std::string_view::npos ? std::string_view() : text.substr(unit_at);
  if (number.empty() || number == "." || std::count(number.begin(), number.end(), '.') > 1) {
    return bad("no number");
  }
  const auto factor = unit_nanoseconds(unit);
  if (!factor) {
    return bad(unit.empty() ? "no unit" : "unknown unit");
  }
  if (number.find('.') == std::string_view::npos) {
    int64_t whole = 0;
    auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), whole);
    if (ec != std::errc() || end != number.data() + number.size() ||
        whole > std::numeric_limits<int64_t>::max() / *factor) {
      return bad("too large");
    }
    return nanoseconds(whole * *factor);
  }
  double value = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc() || end != number.data() + number.size()) {
    return bad("not a number");
  }
  const double ns = value * static_cast<double>(*factor);
  if (!std::isfinite(ns) || ns >= static_cast<double>(std::numeric_limits<int64_t>::max())) {
    return bad("too large");
  }
  return nanoseconds(std::llround(ns));
}

Result<ExecutorSettings> executor_settings_from(const std::map<std::string, std::string>& env) {
  ExecutorSettings s;
  auto endpoint_text = lookup(env, "MESOS_AGENT_ENDPOINT");
  if (!endpoint_text) {
    return missing("MESOS_AGENT_ENDPOINT");
  }
  auto endpoint = parse_endpoint(*endpoint_text);
  if (!endpoint) {
    return make_error("MESOS_AGENT_ENDPOINT '" + *endpoint_text +
                      "' is not host:port: " + endpoint.error().message);
  }
  s.agent = *endpoint;
  for (auto [name, field] : {std::pair{"MESOS_FRAMEWORK_ID", &s.framework_id},
                             std::pair{"MESOS_EXECUTOR_ID", &s.executor_id}}) {
    auto value = lookup(env, name);
    if (!value) {
      return missing(name);
    }
    *field = *value;
  }
  s.agent_id = lookup(env, "MESOS_SLAVE_ID").value_or("");
  const auto checkpoint = lookup(env, "MESOS_CHECKPOINT").value_or("0");
  if (checkpoint != "0" && checkpoint != "1") {
    return make_error("MESOS_CHECKPOINT must be 1 or 0, not '" + checkpoint + "'");
  }
  s.checkpoint = checkpoint == "1";
  if (s.checkpoint) {
    auto recovery = duration_variable(env, "MESOS_RECOVERY_TIMEOUT");
    auto backoff = duration_variable(env, "MESOS_SUBSCRIPTION_BACKOFF_MAX");
    if (!recovery || !backoff) {
      return !recovery ? recovery.error() : backoff.error();
    }
    s.recovery_timeout = *recovery;
    s.subscription_backoff_max = *backoff;
  }
  if (lookup(env, "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD")) {
    auto grace = duration_variable(env, "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD");
    if (!grace) {
      return grace.error();
    }
    s.shutdown_grace_period = *grace;
  }
  s.sandbox = lookup(env, "MESOS_SANDBOX").value_or(lookup(env, "MESOS_DIRECTORY").value_or(""));
  s.auth_token = lookup(env, "MESOS_EXECUTOR_AUTHENTICATION_TOKEN").value_or("");
  return s;
}

std::string random_uuid(RandomSource& random) {
  std::string bytes(16, '\0');
  const uint64_t halves[2] = {random(), random()};
  std::memcpy(bytes.data(), halves, sizeof(halves));
  // RFC 4122 §4.4: version 4 in the high nibble of byte 6, variant 10xx in
  // byte 8; the agent rejects an UPDATE whose uuid does not parse as one.
  bytes[6] = static_cast<char>((bytes[6] & 0x0F) | 0x40);
  bytes[8] = static_cast<char>((bytes[8] & 0x3F) | 0x80);
  return bytes;
}

std::string_view to_string(State state) {
  switch (state) {
    case State::kDisconnected:
      return "DISCONNECTED";
    case State::kSubscribing:
      return "SUBSCRIBING";
    case State::kSubscribed:
      return "SUBSCRIBED";
    case State::kGone:
      return "GONE";
  }
  return "UNKNOWN";
}

struct MesosExecutorClient::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::any_io_executor executor, Config c)
      : ex_(executor),
        config_(std::move(c)),
        retry_timer_(executor, *config_.time),
        post_wakeup_(executor) {}

  asio::awaitable<void> run(uint64_t my_run);
  asio::awaitable<Outcome> attempt(uint64_t gen);
  asio::awaitable<Outcome> read_events(uint64_t gen, std::unique_ptr<HttpStream> owned);
  // Handles one event; a reason when the connection must end.
  std::optional<std::string> handle(uint64_t gen, const mesos::ExecutorEvent& event,
                                    bool& subscribed);
  void remember_task(const mesos::TaskInfo& task);
  void acknowledged(const mesos::ExecutorEventAcknowledged& ack);
  asio::awaitable<void> post_updates(uint64_t gen);
  asio::awaitable<void> post_with_retries(uint64_t gen, const mesos::TaskStatus& status);
  asio::awaitable<Result<void>> post(const mesos::TaskStatus& status);
  asio::awaitable<void> post_message(uint64_t gen, std::string data);
  Request call_request(const mesos::ExecutorCall& call) const;
  Result<std::string> send_update(mesos::TaskStatus status);
  void transition(State to, const std::string& detail);
  milliseconds backoff_max() const;
  std::optional<std::string> window_closed(bool ever_subscribed, TimeSource::TimePoint since) const;
  void give_up(const std::string& reason);
  void stop();

  asio::any_io_executor ex_;
  Config config_;
  MesosExecutorCallbacks callbacks_;
  State state_ = State::kDisconnected;
  bool running_ = false;
  // Bumped by start(), stop() and give_up(): a run loop ends once it changed.
  uint64_t run_id_ = 0;
  // Bumped per connection attempt and by stop().
  uint64_t generation_ = 0;
  // Updates not yet ACKNOWLEDGED, oldest first (resent in every SUBSCRIBE).
  std::vector<mesos::TaskStatus> unacked_updates_;
  // Launched tasks none of whose updates was ACKNOWLEDGED yet.
  std::vector<mesos::TaskInfo> unacked_tasks_;
  // uuids of updates that were not part of the last SUBSCRIBE and still
  // need a POST; drained by post_updates while subscribed.
  std::deque<std::string> to_post_;
  // The open subscription stream (owned by read_events), so stop() can
  // close it.
  HttpStream* stream_ = nullptr;
  Timer retry_timer_;
  asio::steady_timer post_wakeup_;
};

void MesosExecutorClient::Impl::transition(State to, const std::string& detail) {
  if (to == state_) {
    return;
  }
  log()->info("state {} -> {}{}{}", to_string(state_), to_string(to), detail.empty() ? "" : ": ",
              detail);
  state_ = to;
}

milliseconds MesosExecutorClient::Impl::backoff_max() const {
  return std::max(milliseconds(1),
                  std::chrono::floor<milliseconds>(config_.settings.subscription_backoff_max));
}

// Reference §15: before the first SUBSCRIBED the agent waits for us for its
// registration timeout; afterwards a checkpointing framework's executor may
// wait for a restarting agent up to the recovery timeout, and any other
// executor must exit at once.
std::optional<std::string> MesosExecutorClient::Impl::window_closed(
    bool ever_subscribed, TimeSource::TimePoint since) const {
  if (ever_subscribed && !config_.settings.checkpoint) {
    return "the framework does not checkpoint, so a lost agent connection ends the executor";
  }
  const auto window = ever_subscribed
                          ? std::chrono::ceil<milliseconds>(config_.settings.recovery_timeout)
                          : config_.registration_timeout;
  if (config_.time->now() - since >= window) {
    return std::string(ever_subscribed ? "no agent to re-subscribe to within the recovery "
                                         "timeout of "
                                       : "could not subscribe within ") +
           std::to_string(window.count()) + " ms";
  }
  return std::nullopt;
}

asio::awaitable<void> MesosExecutorClient::Impl::run(uint64_t my_run) {
  auto self = shared_from_this();
  bool ever_subscribed = false;
  auto window_start = config_.time->now();
  Backoff backoff(config_.backoff_initial, backoff_max());
  while (my_run == run_id_) {
    const uint64_t gen = ++generation_;
    Outcome outcome;
    try {
      outcome = co_await attempt(gen);
    } catch (const std::exception& e) {
      // A callback threw: keep the loop alive, treat it as a lost connection.
      outcome = Outcome{state_ == State::kSubscribed, std::string("exception: ") + e.what()};
    }
    if (my_run != run_id_) {
      co_return;
    }
    ++generation_;  // ends this connection's poster
    post_wakeup_.cancel();
    transition(State::kDisconnected, outcome.reason);
    if (outcome.reached_subscribed) {
      ever_subscribed = true;
      window_start = config_.time->now();
      backoff.reset();
    }
    if (auto closed = window_closed(ever_subscribed, window_start)) {
      give_up(*closed + " (last: " + outcome.reason + ")");
      co_return;
    }
    const auto delay = backoff.next_jittered(*config_.random);
    log()->info("subscribing again in {} ms", delay.count());
    retry_timer_.expires_after(delay);
    co_await retry_timer_.async_wait(kTuple);
  }
}

asio::awaitable<Outcome> MesosExecutorClient::Impl::attempt(uint64_t gen) {
  const auto& agent = config_.settings.agent;
  mesos::ExecutorCall call;
  call.payload = mesos::ExecutorCallSubscribe{unacked_tasks_, unacked_updates_};
  // Everything unacknowledged travels in this SUBSCRIBE; only updates made
  // from now on need a POST.
  to_post_.clear();
  transition(State::kSubscribing, "SUBSCRIBE to " + agent.to_string() + " with " +
                                      std::to_string(unacked_updates_.size()) +
                                      " unacknowledged updates and " +
                                      std::to_string(unacked_tasks_.size()) + " tasks");
  auto opened = co_await HttpStream::open(ex_, agent, call_request(call), config_.request_timeout);
  if (gen != generation_) {
    co_return Outcome{false, "stopped"};
  }
  if (!opened) {
    co_return Outcome{false, "SUBSCRIBE failed: " + opened.error().message};
  }
  auto& stream = *opened;
  if (stream->status() != 200) {
    auto body = co_await stream->read_all(config_.request_timeout, kAnswerBodyLimit);
    co_return Outcome{false, "SUBSCRIBE answered " + std::to_string(stream->status()) + ": " +
                                 one_line(body ? *body : body.error().message)};
  }
  co_return co_await read_events(gen, std::move(stream));
}

asio::awaitable<Outcome> MesosExecutorClient::Impl::read_events(uint64_t gen,
                                                                std::unique_ptr<HttpStream> owned) {
  stream_ = owned.get();
  struct Forget {
    Impl& impl;
    HttpStream* mine;
    ~Forget() {
      if (impl.stream_ == mine) {
        impl.stream_ = nullptr;
      }
    }
  } forget{*this, owned.get()};

  recordio::Decoder decoder(config_.max_record_bytes);
  bool subscribed = false;
  for (;;) {
    const auto limit = subscribed ? config_.event_silence_limit : config_.request_timeout;
    auto piece = co_await owned->read_some(limit);
    if (gen != generation_) {
      co_return Outcome{subscribed, "stopped"};
    }
    if (!piece) {
      co_return Outcome{subscribed, "event stream failed: " + piece.error().message};
    }
    if (!piece->has_value()) {
      co_return Outcome{subscribed, "the agent ended the event stream"};
    }
    auto records = decoder.feed(**piece);
    if (!records) {
      co_return Outcome{subscribed, "malformed event stream: " + records.error().message};
    }
    for (const auto& record : *records) {
      auto event = mesos::decode_executor_event(record);
      if (!event) {
        co_return Outcome{subscribed, "malformed event: " + event.error().message};
      }
      if (auto end = handle(gen, *event, subscribed)) {
        co_return Outcome{subscribed, *end};
      }
    }
  }
}

std::optional<std::string> MesosExecutorClient::Impl::handle(uint64_t gen,
                                                             const mesos::ExecutorEvent& event,
                                                             bool& subscribed) {
  const std::string type(mesos::type_name(event));
  log()->debug("event {}", type);
  // A terminating agent answers SUBSCRIBE with SHUTDOWN (reference §15).
  if (!subscribed && !std::holds_alternative<mesos::ExecutorEventSubscribed>(event) &&
      !std::holds_alternative<mesos::ExecutorEventShutdown>(event) &&
      !std::holds_alternative<mesos::ExecutorEventError>(event)) {
    return "event " + type + " before SUBSCRIBED";
  }
  if (const auto* sub = std::get_if<mesos::ExecutorEventSubscribed>(&event)) {
    if (subscribed) {
      return "a second SUBSCRIBED on one connection";
    }
    subscribed = true;
    transition(State::kSubscribed,
               "agent '" + sub->agent_info.id + "' on " + sub->agent_info.hostname);
    asio::co_spawn(ex_, post_updates(gen), asio::detached);
    if (callbacks_.on_subscribed) {
      callbacks_.on_subscribed(*sub);
    }
  } else if (const auto* launch = std::get_if<mesos::ExecutorEventLaunch>(&event)) {
    remember_task(launch->task);
    if (callbacks_.on_launch) {
      callbacks_.on_launch(launch->task);
    }
  } else if (const auto* kill = std::get_if<mesos::ExecutorEventKill>(&event)) {
    if (callbacks_.on_kill) {
      callbacks_.on_kill(*kill);
    }
  } else if (const auto* ack = std::get_if<mesos::ExecutorEventAcknowledged>(&event)) {
    acknowledged(*ack);
  } else if (const auto* message = std::get_if<mesos::ExecutorEventMessage>(&event)) {
    if (callbacks_.on_message) {
      callbacks_.on_message(message->data);
    }
  } else if (std::holds_alternative<mesos::ExecutorEventShutdown>(event)) {
    if (callbacks_.on_shutdown) {
      callbacks_.on_shutdown();
    }
  } else if (const auto* error = std::get_if<mesos::ExecutorEventError>(&event)) {
    log()->error("the agent sent ERROR: {}", error->message);
    if (callbacks_.on_error) {
      callbacks_.on_error(error->message);
    }
  } else if (std::holds_alternative<mesos::ExecutorEventOther>(event)) {
    log()->warn("ignoring unsupported event {}", type);
  }
  if (gen != generation_) {
    return "stopped";
  }
  return std::nullopt;
}

void MesosExecutorClient::Impl::remember_task(const mesos::TaskInfo& task) {
  const bool known = std::any_of(unacked_tasks_.begin(), unacked_tasks_.end(),
                                 [&](const auto& t) { return t.task_id == task.task_id; });
  if (known) {
    return;
  }
  if (unacked_tasks_.size() >= config_.max_unacknowledged_tasks) {
    log()->error("more than {} launched tasks without an acknowledged update; forgetting '{}'",
                 config_.max_unacknowledged_tasks, unacked_tasks_.front().task_id);
    unacked_tasks_.erase(unacked_tasks_.begin());
  }
  unacked_tasks_.push_back(task);
}

void MesosExecutorClient::Impl::acknowledged(const mesos::ExecutorEventAcknowledged& ack) {
  auto it = std::find_if(unacked_updates_.begin(), unacked_updates_.end(),
                         [&](const auto& s) { return s.uuid == ack.uuid; });
  if (it == unacked_updates_.end()) {
    // A replayed update acknowledged twice, or one the agent made up.
    log()->debug("ACKNOWLEDGED for an unknown update of task '{}'", ack.task_id);
  } else {
    log()->debug("update {} of task '{}' acknowledged", mesos::to_string(it->state), ack.task_id);
    unacked_updates_.erase(it);
  }
  std::erase_if(unacked_tasks_, [&](const auto& t) { return t.task_id == ack.task_id; });
  if (callbacks_.on_acknowledged) {
    callbacks_.on_acknowledged(ack.task_id, ack.uuid);
  }
}

asio::awaitable<void> MesosExecutorClient::Impl::post_updates(uint64_t gen) {
  auto self = shared_from_this();
  try {
    while (gen == generation_) {
      if (to_post_.empty()) {
        post_wakeup_.expires_at(asio::steady_timer::time_point::max());
        co_await post_wakeup_.async_wait(kTuple);
        continue;
      }
      const std::string uuid = to_post_.front();
      auto it = std::find_if(unacked_updates_.begin(), unacked_updates_.end(),
                             [&](const auto& s) { return s.uuid == uuid; });
      if (it != unacked_updates_.end()) {
        const mesos::TaskStatus status = *it;  // the ledger may change meanwhile
        co_await post_with_retries(gen, status);
      }
      if (gen != generation_) {
        co_return;
      }
      if (!to_post_.empty() && to_post_.front() == uuid) {
        to_post_.pop_front();
      }
    }
  } catch (const std::exception& e) {
    log()->error("the update sender ended with an exception: {}", e.what());
  }
}

// A failed POST is retried a few times while the subscription lasts; after
// that the update stays in the ledger and goes out with the next SUBSCRIBE.
asio::awaitable<void> MesosExecutorClient::Impl::post_with_retries(
    uint64_t gen, const mesos::TaskStatus& status) {
  Backoff backoff(config_.backoff_initial, backoff_max());
  Timer pause(ex_, *config_.time);
  for (int attempt = 1; attempt <= config_.update_attempts; ++attempt) {
    auto sent = co_await post(status);
    if (gen != generation_ || sent) {
      co_return;
    }
    log()->warn("UPDATE {} of task '{}' (attempt {} of {}): {}", mesos::to_string(status.state),
                status.task_id, attempt, config_.update_attempts, sent.error().message);
    if (sent.error().code >= 400 && sent.error().code < 500) {
      co_return;  // the agent refuses these bytes; sending them again will not help
    }
    pause.expires_after(backoff.next());
    co_await pause.async_wait(kTuple);
    if (gen != generation_) {
      co_return;
    }
  }
}

asio::awaitable<Result<void>> MesosExecutorClient::Impl::post(const mesos::TaskStatus& status) {
  mesos::ExecutorCall call;
  call.payload = mesos::ExecutorCallUpdate{status};
  auto res = co_await http_request(ex_, config_.settings.agent, call_request(call),
                                   config_.request_timeout, kAnswerBodyLimit);
  if (!res) {
    co_return make_error("UPDATE failed: " + res.error().message);
  }
  const unsigned code = res->result_int();
  if (code == 202 || code == 200) {
    log()->debug("UPDATE {} of task '{}' sent", mesos::to_string(status.state), status.task_id);
    co_return Result<void>{};
  }
  co_return make_error(
      "UPDATE answered " + std::to_string(code) + ": " + one_line(res->body().substr(0, 512)),
      static_cast<int>(code));
}

asio::awaitable<void> MesosExecutorClient::Impl::post_message(uint64_t gen, std::string data) {
  auto self = shared_from_this();
  mesos::ExecutorCall call;
  const auto size = data.size();
  call.payload = mesos::ExecutorCallMessage{std::move(data)};
  auto res = co_await http_request(ex_, config_.settings.agent, call_request(call),
                                   config_.request_timeout, kAnswerBodyLimit);
  if (gen != generation_) {
    co_return;
  }
  if (!res) {
    log()->warn("MESSAGE of {} bytes not sent: {}", size, res.error().message);
  } else if (res->result_int() != 202 && res->result_int() != 200) {
    log()->warn("MESSAGE of {} bytes answered {}: {}", size, res->result_int(),
                one_line(res->body().substr(0, 512)));
  }
}

Request MesosExecutorClient::Impl::call_request(const mesos::ExecutorCall& call) const {
  mesos::ExecutorCall full = call;
  full.executor_id = config_.settings.executor_id;
  full.framework_id = config_.settings.framework_id;
  auto req = make_request(http::verb::post, config_.api_path, config_.settings.agent,
                          mesos::encode(full), "application/json");
  req.set(http::field::accept, "application/json");
  if (!config_.settings.auth_token.empty()) {
    req.set(http::field::authorization, "Bearer " + config_.settings.auth_token);
  }
  return req;
}

Result<std::string> MesosExecutorClient::Impl::send_update(mesos::TaskStatus status) {
  if (unacked_updates_.size() >= config_.max_unacknowledged_updates) {
    return make_error("update " + std::string(mesos::to_string(status.state)) + " of task '" +
                      status.task_id + "' not sent: " + std::to_string(unacked_updates_.size()) +
                      " updates are still unacknowledged");
  }
  status.source = "SOURCE_EXECUTOR";
  status.executor_id = config_.settings.executor_id;
  status.timestamp = config_.time->epoch_seconds();
  status.uuid = random_uuid(*config_.random);
  log()->info("task '{}' -> {}{}{}", status.task_id, mesos::to_string(status.state),
              status.message ? ": " : "", status.message.value_or(""));
  unacked_updates_.push_back(status);
  to_post_.push_back(*status.uuid);
  post_wakeup_.cancel();
  return Result<std::string>(boost::system::in_place_value, *status.uuid);
}

void MesosExecutorClient::Impl::give_up(const std::string& reason) {
  ++run_id_;
  ++generation_;
  running_ = false;
  retry_timer_.cancel();
  post_wakeup_.cancel();
  transition(State::kGone, reason);
  auto on_gone = callbacks_.on_gone;
  if (on_gone) {
    on_gone(reason);
  }
}

void MesosExecutorClient::Impl::stop() {
  ++run_id_;
  ++generation_;
  running_ = false;
  retry_timer_.cancel();
  post_wakeup_.cancel();
  if (stream_) {
    stream_->close();
  }
  if (state_ != State::kGone) {
    transition(State::kDisconnected, "stopped");
  }
}

// ------------------------------------------------------------------ public

MesosExecutorClient::MesosExecutorClient(asio::any_io_executor ex, Config config)
    : impl_(std::make_shared<Impl>(ex, std::move(config))) {}

MesosExecutorClient::~MesosExecutorClient() {
  impl_->stop();
}

void MesosExecutorClient::start(MesosExecutorCallbacks callbacks) {
  if (impl_->running_) {
    return;
  }
  impl_->callbacks_ = std::move(callbacks);
  impl_->running_ = true;
  const uint64_t my_run = ++impl_->run_id_;
  asio::co_spawn(impl_->ex_, impl_->run(my_run),
                 log_exceptions(log(), "the agent connection loop"));
}

void MesosExecutorClient::stop() {
  impl_->stop();
}

Result<std::string> MesosExecutorClient::send_update(mesos::TaskStatus status) {
  return impl_->send_update(std::move(status));
}

void MesosExecutorClient::send_message(std::string data) {
  if (impl_->state_ != State::kSubscribed) {
    log()->warn("MESSAGE of {} bytes dropped: not subscribed to the agent", data.size());
    return;
  }
  asio::co_spawn(impl_->ex_, impl_->post_message(impl_->generation_, std::move(data)),
                 asio::detached);
}

std::size_t MesosExecutorClient::unacknowledged_updates() const {
  return impl_->unacked_updates_.size();
}

MesosExecutorClient::State MesosExecutorClient::state() const {
  return impl_->state_;
}

std::size_t MesosExecutorClient::unacknowledged_tasks() const {
  return impl_->unacked_tasks_.size();
}

}  // namespace etcdmesos::io
