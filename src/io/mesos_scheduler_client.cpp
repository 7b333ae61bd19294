// MesosSchedulerClient: one background coroutine per start() runs the
// connection loop (find master -> SUBSCRIBE -> read events -> back off). Each
// subscription has one more coroutine, the call writer: it sends the queued
// calls one after the other over one kept-alive connection of its own,
// because a call must never travel on the subscription connection (reference
// §2), and one connection per call would let calls overtake each other.
//
// Each connection attempt has a generation; stop() and every new attempt bump
// it, and a coroutine that wakes up with an older generation drops whatever it
// got instead of acting on it (Mesos' own scheduler library does the same).
// The queue and the call connection belong to one subscription: both are
// dropped when it ends.
#include "io/mesos_scheduler_client.hpp"

#include "codec/recordio.hpp"
#include "common/backoff.hpp"
#include "common/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <deque>

namespace etcdmesos::io {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using State = MesosSchedulerClient::State;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// Error answers are short texts; anything longer is cut off.
constexpr std::size_t kAnswerBodyLimit = 64 * 1024;
// Bounds on the heartbeat interval a master may announce, so that a bogus
// value neither drops every subscription at once nor disables the watchdog.
constexpr double kMinHeartbeatSeconds = 0.01;
constexpr double kMaxHeartbeatSeconds = 3600;

std::shared_ptr<spdlog::logger> log() {
  return logger("mesos");
}

milliseconds ms_from_seconds(double seconds) {
  return milliseconds(static_cast<int64_t>(seconds * 1000));
}

// Where a 307 points: "//host:port/master/api/v1/scheduler" (reference §3),
// an absolute URL, or a bare path on the same master.
struct Redirect {
  Endpoint to;
  std::string path;
};

Result<Redirect> parse_redirect(std::string_view location, const Endpoint& from,
                                const std::string& from_path) {
  auto ref = boost::urls::parse_uri_reference(location);
  if (location.empty() || !ref) {
    return make_error("307 without a usable Location ('" + std::string(location) + "')");
  }
  Redirect next{from, from_path};
  if (ref->has_authority()) {
    if (!ref->has_port() || ref->port_number() == 0 || ref->host_address().empty()) {
      return make_error("307 Location '" + std::string(location) + "' names no host:port");
    }
    next.to = Endpoint{std::string(ref->host_address()), ref->port_number()};
  }
  if (!ref->encoded_path().empty()) {
    next.path = std::string(ref->encoded_path());
    if (ref->has_query()) {
      next.path += "?" + std::string(ref->encoded_query());
    }
  }
  return next;
}

std::string one_line(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  while (!text.empty() && text.back() == ' ') {
    text.pop_back();
  }
  return text;
}

// How one connection attempt ended.
struct Outcome {
  bool reached_subscribed = false;
  std::string reason;
  // The master answered that it knows no leader yet (a 307 to itself, or
  // 503): asked again after no_leader_retry rather than the backoff.
  bool no_leader = false;
  // The detector named another leader: subscribe again without waiting.
  bool leader_moved = false;
};

}  // namespace

std::string_view to_string(State state) {
  switch (state) {
    case State::kDisconnected:
      return "DISCONNECTED";
    case State::kConnecting:
      return "CONNECTING";
    case State::kSubscribing:
      return "SUBSCRIBING";
    case State::kSubscribed:
      return "SUBSCRIBED";
  }
  return "UNKNOWN";
}

struct MesosSchedulerClient::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::any_io_executor executor, Config c, Callbacks cb)
      : ex_(executor),
        config_(std::move(c)),
        callbacks_(std::move(cb)),
        framework_id_(config_.framework_info.id),
        retry_timer_(executor, *config_.time),
        calls_ready_(executor) {}

  asio::awaitable<void> run(uint64_t my_run);
  asio::awaitable<Outcome> attempt(uint64_t gen);
  asio::awaitable<Outcome> read_events(uint64_t gen, std::unique_ptr<HttpStream> owned,
                                       const Endpoint& to, const std::string& path);
  // Handles one event; a reason when the subscription must end.
  std::optional<std::string> handle(uint64_t gen, const mesos::Event& event, bool& subscribed);
  void send(mesos::Call c);
  asio::awaitable<void> write_calls(uint64_t gen, std::shared_ptr<HttpConnection> conn);
  asio::awaitable<void> send_one(uint64_t gen, HttpConnection& conn, mesos::Call c);
  bool current(uint64_t gen) const { return gen == generation_ && state_ == State::kSubscribed; }
  void start_calls(uint64_t gen);
  void drop_calls();
  void on_leader_change(const std::optional<Endpoint>& leader);
  void stop();
  Request subscribe_request(const Endpoint& to, const std::string& path) const;
  void authorize(Request& req) const;
  void transition(State to, const std::string& detail);
  milliseconds watchdog_limit() const;

  asio::any_io_executor ex_;
  Config config_;
  Callbacks callbacks_;
  State state_ = State::kDisconnected;
  // Bumped by start() and stop(): a run loop ends once it changed.
  uint64_t run_id_ = 0;
  // Bumped per connection attempt and by stop().
  uint64_t generation_ = 0;
  bool running_ = false;
  std::optional<std::string> framework_id_;
  // Valid while subscribed: where calls go and the stream id they carry.
  std::string stream_id_;
  std::optional<Endpoint> master_;
  std::string master_path_;
  double heartbeat_seconds_ = 15;
  // The open subscription stream (owned by read_events) and its master, so
  // that stop() and a leader change can close it.
  HttpStream* stream_ = nullptr;
  Endpoint stream_to_;
  // Set when a leader change closed the stream: why the subscription ended.
  std::optional<std::string> leader_moved_;
  // Set by the heartbeat watchdog when it closed the stream: why.
  std::optional<std::string> silent_;
  Timer retry_timer_;
  // While subscribed: the calls waiting to be sent (at most
  // max_queued_calls), the connection that sends them, and the writer's
  // wake-up.
  std::deque<mesos::Call> calls_;
  std::shared_ptr<HttpConnection> call_conn_;
  asio::steady_timer calls_ready_;
};

void MesosSchedulerClient::Impl::transition(State to, const std::string& detail) {
  if (to == state_) {
    return;
  }
  log()->info("state {} -> {}{}{}", to_string(state_), to_string(to), detail.empty() ? "" : ": ",
              detail);
  if (state_ == State::kSubscribed) {
    drop_calls();
  }
  state_ = to;
  if (to != State::kSubscribed) {
    stream_id_.clear();
    master_.reset();
  }
}

milliseconds MesosSchedulerClient::Impl::watchdog_limit() const {
  const double interval =
      std::clamp(heartbeat_seconds_, kMinHeartbeatSeconds, kMaxHeartbeatSeconds);
  return ms_from_seconds(interval * std::max(1, config_.heartbeat_misses_allowed));
}

asio::awaitable<void> MesosSchedulerClient::Impl::run(uint64_t my_run) {
  auto self = shared_from_this();
  Backoff backoff(config_.backoff_initial, config_.backoff_max);
  TimeSource& time = *config_.time;
  std::optional<TimeSource::TimePoint> no_leader_since;
  while (my_run == run_id_) {
    const uint64_t gen = ++generation_;
    Outcome outcome;
    try {
      outcome = co_await attempt(gen);
    } catch (const std::exception& e) {
      // find_master or a callback threw: keep the loop alive.
      outcome = Outcome{state_ == State::kSubscribed, std::string("exception: ") + e.what()};
    }
    if (my_run != run_id_) {
      co_return;  // stopped: no callbacks_
    }
    if (outcome.reached_subscribed) {
      backoff.reset();
    }
    // While a master says it knows no leader yet, asked again promptly (and
    // ZooKeeper with it), so that the subscription follows the election
    // within no_leader_retry; after no_leader_wait, the usual backoff.
    if (!outcome.no_leader) {
      no_leader_since.reset();
    } else if (!no_leader_since) {
      no_leader_since = time.now();
    }
    const bool prompt = no_leader_since && time.now() - *no_leader_since < config_.no_leader_wait;
    auto delay = prompt ? config_.no_leader_retry : backoff.next_jittered(*config_.random);
    if (outcome.leader_moved) {
      delay = milliseconds::zero();
    }
    transition(State::kDisconnected, outcome.reason);
    if (outcome.reached_subscribed && callbacks_.on_disconnected) {
      callbacks_.on_disconnected(outcome.reason);
      if (my_run != run_id_) {
        co_return;
      }
    }
    log()->info("subscribing again in {} ms", delay.count());
    retry_timer_.expires_after(delay);
    co_await retry_timer_.async_wait(kTuple);
  }
}

asio::awaitable<Outcome> MesosSchedulerClient::Impl::attempt(uint64_t gen) {
  transition(State::kConnecting, "looking for the leading master");
  auto found = co_await config_.find_master(config_.find_master_wait);
  if (gen != generation_) {
    co_return Outcome{false, "stopped"};
  }
  if (!found) {
    co_return Outcome{false, "no leading master known"};
  }
  Endpoint to = *found;
  std::string path = config_.api_path;
  for (int hop = 0;; ++hop) {
    transition(State::kSubscribing, "SUBSCRIBE to " + to.to_string());
    auto opened =
        co_await HttpStream::open(ex_, to, subscribe_request(to, path), config_.request_timeout);
    if (gen != generation_) {
      co_return Outcome{false, "stopped"};
    }
    if (!opened) {
      co_return Outcome{false, "SUBSCRIBE failed: " + opened.error().message};
    }
    auto& stream = *opened;
    if (stream->status() == 307) {
      auto next = parse_redirect(stream->header("Location"), to, path);
      if (!next) {
        co_return Outcome{false, next.error().message + " from " + to.to_string()};
      }
      if (next->to.host == to.host && next->to.port == to.port) {
        // To itself: seen on Mesos 1.12 from a restarted master before its
        // election.
        co_return Outcome{false, "master " + to.to_string() + " redirects to itself", true};
      }
      if (!config_.principal.empty()) {
        // The credentials go only to the master configured or detected
        // (`found`), never to one a redirect named: a master, or whoever
        // answers in its place, could name any host. A real leader change is
        // seen by the detector soon; until then the leader is looked for again.
        co_return Outcome{false,
                          "master " + to.to_string() + " redirects to " + next->to.to_string() +
                              ", which was neither configured nor detected: not followed with "
                              "the credentials (name the leader in -master, or use zk://)",
                          true};
      }
      if (hop >= config_.max_redirects) {
        co_return Outcome{false, "more than " + std::to_string(config_.max_redirects) +
                                     " redirects, last from " + to.to_string()};
      }
      log()->info("master {} redirects to {}{}", to.to_string(), next->to.to_string(), next->path);
      to = next->to;
      path = next->path;
      continue;
    }
    if (stream->status() != 200) {
      auto body = co_await stream->read_all(config_.request_timeout, kAnswerBodyLimit);
      // 503: "No leader elected", "Master has not finished recovery"
      // (reference §3), a master without a leader yet.
      co_return Outcome{false,
                        "SUBSCRIBE to " + to.to_string() + " answered " +
                            std::to_string(stream->status()) + ": " +
                            one_line(body ? *body : body.error().message),
                        stream->status() == 503};
    }
    co_return co_await read_events(gen, std::move(stream), to, path);
  }
}

asio::awaitable<Outcome> MesosSchedulerClient::Impl::read_events(uint64_t gen,
                                                                 std::unique_ptr<HttpStream> owned,
                                                                 const Endpoint& to,
                                                                 const std::string& path) {
  // A refused subscription ("Framework has been removed") is a 200 without a
  // stream id whose body is one ERROR event: read it, so that the scheduler
  // learns why. Anything else without a stream id is refused below.
  const std::string sid = owned->header("Mesos-Stream-Id");
  stream_ = owned.get();
  stream_to_ = to;
  leader_moved_.reset();
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
  // Until SUBSCRIBED the master gets request_timeout; afterwards the
  // heartbeat watchdog applies. Either restarts with every event. The
  // watchdog is a timer on the injected clock that closes the stream; the
  // read's own I/O deadline (twice as long) is only a backstop.
  auto silence_limit = config_.request_timeout;
  Timer watchdog(ex_, *config_.time);
  silent_.reset();
  auto arm_watchdog = [&] {
    watchdog.expires_after(silence_limit);
    watchdog.async_wait([weak = weak_from_this(), gen, subscribed, limit = silence_limit,
                         to](boost::system::error_code ec) {
      auto impl = weak.lock();
      if (ec || !impl || impl->generation_ != gen || impl->stream_ == nullptr) {
        return;
      }
      impl->silent_ =
          (subscribed ? "no event (not even a heartbeat) for " : "no SUBSCRIBED within ") +
          std::to_string(limit.count()) + " ms from " + to.to_string();
      impl->stream_->close();
    });
  };
  arm_watchdog();
  for (;;) {
    auto piece = co_await owned->read_some(2 * silence_limit);
    if (gen != generation_) {
      co_return Outcome{subscribed, "stopped"};
    }
    if (leader_moved_) {
      co_return Outcome{subscribed, *leader_moved_, false, true};
    }
    if (silent_) {
      co_return Outcome{subscribed, *silent_};
    }
    if (!piece) {
      co_return Outcome{subscribed, "event stream failed: " + piece.error().message};
    }
    if (!piece->has_value()) {
      co_return Outcome{subscribed, "the master " + to.to_string() + " ended the event stream"};
    }
    auto records = decoder.feed(**piece);
    if (!records) {
      co_return Outcome{subscribed, "malformed event stream: " + records.error().message};
    }
    for (const auto& record : *records) {
      auto event = mesos::decode_event(record);
      if (!event) {
        co_return Outcome{subscribed, "malformed event: " + event.error().message};
      }
      if (sid.empty() && !std::holds_alternative<mesos::EventError>(*event)) {
        co_return Outcome{false,
                          "SUBSCRIBE answer from " + to.to_string() + " has no Mesos-Stream-Id"};
      }
      if (std::holds_alternative<mesos::EventSubscribed>(*event)) {
        stream_id_ = sid;
        master_ = to;
        master_path_ = path;
      }
      if (auto end = handle(gen, *event, subscribed)) {
        co_return Outcome{subscribed, *end};
      }
      silence_limit = subscribed ? watchdog_limit() : config_.request_timeout;
      arm_watchdog();
    }
  }
}

std::optional<std::string> MesosSchedulerClient::Impl::handle(uint64_t gen,
                                                              const mesos::Event& event,
                                                              bool& subscribed) {
  const auto* error = std::get_if<mesos::EventError>(&event);
  if (const auto* sub = std::get_if<mesos::EventSubscribed>(&event)) {
    framework_id_ = sub->framework_id;
    heartbeat_seconds_ = sub->heartbeat_interval_seconds;
    subscribed = true;
    transition(State::kSubscribed, "framework '" + *framework_id_ + "', heartbeat interval " +
                                       std::to_string(heartbeat_seconds_) + " s");
    start_calls(gen);
  } else if (!subscribed && error == nullptr) {
    return "event " + std::string(mesos::type_name(event)) + " before SUBSCRIBED";
  }
  if (callbacks_.on_event) {
    callbacks_.on_event(event);
  }
  if (gen != generation_) {
    return "stopped";
  }
  if (error != nullptr) {
    return "the master sent ERROR: " + error->message;
  }
  return std::nullopt;
}

Request MesosSchedulerClient::Impl::subscribe_request(const Endpoint& to,
                                                      const std::string& path) const {
  mesos::Call call;
  mesos::CallSubscribe subscribe;
  subscribe.framework_info = config_.framework_info;
  // Re-subscribing: both ids must be set and equal (reference §5).
  subscribe.framework_info.id = framework_id_;
  call.framework_id = framework_id_;
  call.payload = std::move(subscribe);
  auto req = make_request(http::verb::post, path, to, mesos::encode(call), "application/json");
  req.set(http::field::accept, "application/json");
  authorize(req);
  return req;
}

void MesosSchedulerClient::Impl::authorize(Request& req) const {
  if (!config_.principal.empty()) {
    req.set(http::field::authorization,
            "Basic " + mesos::base64_encode(config_.principal + ":" + config_.secret));
  }
}

void MesosSchedulerClient::Impl::send(mesos::Call c) {
  if (std::holds_alternative<mesos::CallSubscribe>(c.payload)) {
    log()->error("SUBSCRIBE call dropped: the client sends it itself");
    return;
  }
  if (state_ != State::kSubscribed) {
    log()->warn("{} call dropped: not subscribed (state {})", mesos::type_name(c),
                to_string(state_));
    return;
  }
  if (calls_.size() >= config_.max_queued_calls) {
    // Bounded: a master that stopped answering must not make us grow without
    // end; the core recovers the call through reconciliation and timeouts.
    log()->warn("{} call dropped: {} calls are waiting to be sent already", mesos::type_name(c),
                calls_.size());
    return;
  }
  calls_.push_back(std::move(c));
  calls_ready_.cancel();
}

void MesosSchedulerClient::Impl::start_calls(uint64_t gen) {
  call_conn_ = std::make_shared<HttpConnection>(ex_, *master_);
  asio::co_spawn(ex_, write_calls(gen, call_conn_), log_exceptions(log(), "the Mesos call writer"));
}

// The subscription ended: its stream id is refused from now on, so what is
// still queued or in flight is dropped rather than sent under the next one.
void MesosSchedulerClient::Impl::drop_calls() {
  if (!calls_.empty()) {
    log()->info("dropping {} queued call(s) of the ended subscription (stream '{}')", calls_.size(),
                stream_id_);
  }
  calls_.clear();
  if (call_conn_) {
    call_conn_->close();
    call_conn_.reset();
  }
  calls_ready_.cancel();
}

asio::awaitable<void> MesosSchedulerClient::Impl::write_calls(
    uint64_t gen, std::shared_ptr<HttpConnection> conn) {
  auto self = shared_from_this();
  while (current(gen)) {
    if (calls_.empty()) {
      calls_ready_.expires_at(asio::steady_timer::time_point::max());
      co_await calls_ready_.async_wait(kTuple);
      continue;
    }
    auto c = std::move(calls_.front());
    calls_.pop_front();
    co_await send_one(gen, *conn, std::move(c));
  }
}

asio::awaitable<void> MesosSchedulerClient::Impl::send_one(uint64_t gen, HttpConnection& conn,
                                                           mesos::Call c) {
  c.framework_id = framework_id_;
  auto req = make_request(http::verb::post, master_path_, conn.peer(), mesos::encode(c),
                          "application/json");
  req.set(http::field::accept, "application/json");
  req.set("Mesos-Stream-Id", stream_id_);
  authorize(req);
  auto res = co_await conn.request(std::move(req), config_.request_timeout, kAnswerBodyLimit);
  if (!current(gen)) {
    log()->debug("{} call ended with its subscription", mesos::type_name(c));
    co_return;
  }
  if (!res) {
    log()->warn("{} call failed: {}", mesos::type_name(c), res.error().message);
    co_return;
  }
  const unsigned status = res->result_int();
  if (status != 202 && status != 200) {
    log()->warn("{} call answered {} by {}: {}", mesos::type_name(c), status,
                conn.peer().to_string(), one_line(res->body()));
  }
}

// A new leader ends a subscription to another master at once, rather than
// after the old one's stream breaks or its heartbeats are missed; Mesos' own
// scheduler library disconnects on every detection too.
void MesosSchedulerClient::Impl::on_leader_change(const std::optional<Endpoint>& leader) {
  if (!running_ || !leader) {
    return;
  }
  // A backoff wait is not cut short: subscribing the moment a master is
  // elected, before the agents re-registered with it, has a master that keeps
  // its registry in memory answer the reconciliation with TASK_UNKNOWN for
  // every member (TASK_LOST before the framework was PARTITION_AWARE, when the
  // core locked on a total loss and killed the members). The core now keeps a
  // member through TASK_UNKNOWN (core::Config::unknown_task_grace); the wait
  // only makes that case rarer.
  if (stream_ && stream_to_ != *leader) {
    leader_moved_ =
        "the leading master is now " + leader->to_string() + ", not " + stream_to_.to_string();
    stream_->close();
  }
}

void MesosSchedulerClient::Impl::stop() {
  ++run_id_;
  ++generation_;
  running_ = false;
  retry_timer_.cancel();
  drop_calls();
  if (stream_) {
    stream_->close();
  }
  transition(State::kDisconnected, "stopped");
}

// ------------------------------------------------------------------ public

MesosSchedulerClient::MesosSchedulerClient(asio::any_io_executor ex, Config config,
                                           Callbacks callbacks)
    : impl_(std::make_shared<Impl>(ex, std::move(config), std::move(callbacks))) {
  if (impl_->config_.watch_master) {
    // The detector keeps its listeners: it must not keep the client alive.
    impl_->config_.watch_master(
        [weak = std::weak_ptr<Impl>(impl_)](std::optional<Endpoint> leader) {
          if (auto impl = weak.lock()) {
            impl->on_leader_change(leader);
          }
        });
  }
}

MesosSchedulerClient::~MesosSchedulerClient() {
  impl_->stop();
}

void MesosSchedulerClient::start() {
  if (impl_->running_) {
    return;
  }
  impl_->running_ = true;
  const uint64_t my_run = ++impl_->run_id_;
  asio::co_spawn(impl_->ex_, impl_->run(my_run),
                 log_exceptions(log(), "the Mesos connection loop"));
}

void MesosSchedulerClient::stop() {
  impl_->stop();
}

void MesosSchedulerClient::send(mesos::Call call) {
  impl_->send(std::move(call));
}

std::string MesosSchedulerClient::state_name() const {
  return std::string(to_string(impl_->state_));
}

State MesosSchedulerClient::state() const {
  return impl_->state_;
}

std::optional<std::string> MesosSchedulerClient::framework_id() const {
  return impl_->framework_id_;
}

void MesosSchedulerClient::forget_framework_id() {
  impl_->framework_id_.reset();
}

std::optional<Endpoint> MesosSchedulerClient::master() const {
  return impl_->master_;
}

std::size_t MesosSchedulerClient::queued_calls() const {
  return impl_->calls_.size();
}

}  // namespace etcdmesos::io
