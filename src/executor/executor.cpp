// Executor: the task's life is a phase (IDLE -> STARTING -> RUNNING ->
// KILLING -> DONE -> EXITED). supervise() runs once per task: it waits for
// each etcd process to exit and alone decides what follows — the terminal
// state (so that a KILL racing with a crash reports one terminal update), a
// restart in place, or the seed's restart during a reseed. Each etcd process
// gets a generation number and a wait_until_ready() that probes it until it
// answers; a probe of an older generation stops.
#include "executor/executor.hpp"

#include "codec/etcd.hpp"
#include "codec/task_data.hpp"
#include "common/backoff.hpp"
#include "common/log.hpp"
#include "core/reseed_protocol.hpp"
#include "executor/data_copy.hpp"
#include "executor/etcd_command.hpp"
#include "executor/wal_commit.hpp"
#include "io/http.hpp"
#include "io/process.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <csignal>
#include <fstream>
#include <system_error>

namespace etcdmesos::executor {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using mesos::TaskState;
using std::chrono::milliseconds;
using Phase = Executor::Phase;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kStatusBodyLimit = 64 * 1024;
// How much of etcd's last log line goes into a TASK_FAILED message.
constexpr std::size_t kLogLineLimit = 400;
constexpr auto kNotReadyReportInterval = std::chrono::seconds(10);
// etcd's words when it ends because it was removed (reference etcd §8).
constexpr std::string_view kRemovedLogLine = "has been permanently removed";
// How much of etcd's log (since its start) is searched for them.
constexpr std::streamoff kRemovedSearchLimit = 256 * 1024;

std::shared_ptr<spdlog::logger> log() {
  return logger("executor");
}

milliseconds from_ns(int64_t ns) {
  return std::chrono::ceil<milliseconds>(std::chrono::nanoseconds(std::max<int64_t>(ns, 0)));
}

// etcd logs JSON lines with --logger=zap; "msg" and "error" say why it gave
// up, the rest (caller, stack trace) would only bury that.
std::string summarise_log_line(const std::string& line) {
  boost::system::error_code ec;
  auto parsed = boost::json::parse(line, ec);
  const auto* object = ec ? nullptr : parsed.if_object();
  const auto* msg = object ? object->if_contains("msg") : nullptr;
  if (!msg || !msg->is_string()) {
    return line.size() > kLogLineLimit ? line.substr(0, kLogLineLimit) + "..." : line;
  }
  std::string summary(msg->get_string());
  if (const auto* error = object->if_contains("error"); error && error->is_string()) {
    summary += ": " + std::string(error->get_string());
  }
  return summary.size() > kLogLineLimit ? summary.substr(0, kLogLineLimit) + "..." : summary;
}

// The last non-empty line of a log file (etcd logs why it gave up last).
std::string last_line(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return {};
  }
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  const std::streamoff take = std::min<std::streamoff>(size, 8 * 1024);
  std::string tail(static_cast<std::size_t>(take), '\0');
  in.seekg(size - take);
  in.read(tail.data(), take);
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) {
    tail.pop_back();
  }
  const auto start = tail.rfind('\n');
  return start == std::string::npos ? tail : tail.substr(start + 1);
}

// Whether `file` from byte `from` on (at most kRemovedSearchLimit of its end)
// contains `needle`.
bool log_contains(const std::filesystem::path& file, std::uintmax_t from, std::string_view needle) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return false;
  }
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  std::streamoff start = std::max<std::streamoff>(static_cast<std::streamoff>(from), 0);
  start = std::max(start, size - kRemovedSearchLimit);
  if (start >= size) {
    return false;
  }
  std::string text(static_cast<std::size_t>(size - start), '\0');
  in.seekg(start);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  return text.find(needle) != std::string::npos;
}

std::uintmax_t file_size_or_zero(const std::filesystem::path& file) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  return ec ? 0 : size;
}

// One status request: an etcd that answers it serves clients.
asio::awaitable<Result<etcd::EtcdStatus>> fetch_status(asio::any_io_executor ex, io::Endpoint to,
                                                       milliseconds timeout) {
  auto req = io::make_request(io::http::verb::post, "/v3/maintenance/status", to, "{}");
  auto res = co_await io::http_request(ex, to, std::move(req), timeout, kStatusBodyLimit);
  if (!res) {
    co_return res.error();
  }
  if (res->result_int() != 200) {
    co_return make_error("status answered " + std::to_string(res->result_int()));
  }
  co_return etcd::decode_status(res->body());
}

// Completion handler for the executor's coroutines: an exception escaping
// one is a bug, logged rather than lost.
LogExceptions log_exception(const char* coroutine) {
  return log_exceptions(log(), coroutine, spdlog::level::critical);
}

}  // namespace

std::string_view to_string(Phase phase) {
  switch (phase) {
    case Phase::kIdle:
      return "IDLE";
    case Phase::kStarting:
      return "STARTING";
    case Phase::kRunning:
      return "RUNNING";
    case Phase::kKilling:
      return "KILLING";
    case Phase::kDone:
      return "DONE";
    case Phase::kExited:
      return "EXITED";
  }
  return "UNKNOWN";
}

std::filesystem::path sandbox_from(const std::map<std::string, std::string>& env) {
  for (const char* name : {"MESOS_SANDBOX", "MESOS_DIRECTORY"}) {
    auto it = env.find(name);
    if (it != env.end() && !it->second.empty()) {
      return it->second;
    }
  }
  std::error_code ec;
  auto cwd = std::filesystem::current_path(ec);
  return ec ? std::filesystem::path(".") : cwd;
}

std::string default_etcd_bin(const std::filesystem::path& sandbox) {
  std::error_code ec;
  const auto shipped = sandbox / "etcd";
  if (std::filesystem::is_regular_file(shipped, ec)) {
    return shipped.string();
  }
  return "/usr/bin/etcd";
}

struct Executor::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::any_io_executor executor, ExecutorOptions o, io::MesosExecutor& m,
       std::function<void(int)> exit)
      : ex_(executor),
        options_(std::move(o)),
        mesos_(m),
        on_exit_(std::move(exit)),
        kill_timer_(executor),
        exit_timer_(executor),
        restart_timer_(executor),
        fence_timer_(executor) {
    std::error_code ec;
    auto absolute = std::filesystem::absolute(options_.etcd_bin, ec);
    if (!ec) {
      options_.etcd_bin = absolute.string();
    }
  }

  // A seed order whose etcd has been restarted with --force-new-cluster and
  // is answered once that etcd (of `generation`) serves.
  struct SeedReport {
    core::ReseedOrderText order;
    uint64_t generation = 0;
  };
  // etcd stopped by a fence order: it stays down until `until` (renewed by
  // the next fence order), a seed order or a kill.
  struct Fence {
    uint64_t raft_index = 0;  // what the stopped data holds as committed
    Clock::time_point until;
  };

  io::MesosExecutorCallbacks callbacks();
  void launch(const mesos::TaskInfo& task);
  Result<void> start_etcd(EtcdStart mode);
  asio::awaitable<void> supervise();
  asio::awaitable<bool> restart_after_exit(const io::ExitStatus& status);
  bool restart_as_seed();
  // Starts etcd once with --force-new-cluster on the data copied aside.
  bool start_as_seed(const core::ReseedOrderText& order, const std::string& copied);
  // etcd stopped for a fence: reports, then waits for the lease's end, a
  // seed order or a kill. True when a new etcd runs.
  asio::awaitable<bool> hold_fence();
  asio::awaitable<void> wait_until_ready(uint64_t generation);
  void became_ready(uint64_t generation, const etcd::EtcdStatus& status);
  void kill(const mesos::ExecutorEventKill& kill);
  void stop_etcd(milliseconds grace, bool for_kill = true);
  void finish(TaskState state, const std::string& message);
  void acknowledged(const std::string& uuid);
  void shutdown(const std::string& why);
  void agent_gone(const std::string& reason);
  void exit_at(Clock::time_point when, const std::string& why);
  void exit(int code, const std::string& why);
  void on_message(const std::string& data);
  // Before a seed or a fence stops etcd: asks it whether it names a leader
  // (a majority serves again: refused), and for its index (a fence's).
  asio::awaitable<void> stop_unless_led(core::ReseedOrderText order);
  void report_reseed(const core::ReseedOrderText& order, bool ok, const std::string& message,
                     bool untouched = false, uint64_t raft_index = 0);
  bool data_untouched() const;
  Result<std::string> backup_data(uint64_t reseed_id);
  std::string exit_message(const io::ExitStatus& status) const;
  std::optional<std::string> send(const std::string& task_id, TaskState state,
                                  const std::string& message,
                                  std::vector<mesos::Label> labels = {});
  void enter(Phase to);
  bool ended() const { return phase_ == Phase::kDone || phase_ == Phase::kExited; }
  std::filesystem::path data_dir() const { return options_.sandbox / "etcd-data"; }

  asio::any_io_executor ex_;
  ExecutorOptions options_;
  io::MesosExecutor& mesos_;
  std::function<void(int)> on_exit_;
  Phase phase_ = Phase::kIdle;
  std::string task_id_;
  std::string member_name_;
  MemberTaskData data_;
  milliseconds kill_grace_{0};
  std::unique_ptr<io::Process> etcd_;
  // Bumped for every etcd process started.
  uint64_t generation_ = 0;
  // Size of etcd.stderr when the current etcd started: what it logged since.
  std::uintmax_t stderr_offset_ = 0;
  io::Endpoint client_;
  // Set by KILL and SHUTDOWN: an etcd exit is then TASK_KILLED.
  bool kill_requested_ = false;
  bool shutting_down_ = false;
  bool agent_gone_ = false;
  std::optional<std::string> terminal_uuid_;
  // SIGKILL for an etcd that outlives its grace period.
  asio::steady_timer kill_timer_;
  std::optional<Clock::time_point> kill_at_;
  // Exit without an acknowledgement, or at the end of the shutdown grace.
  asio::steady_timer exit_timer_;
  std::optional<Clock::time_point> exit_at_;
  // The pause before a restart in place.
  asio::steady_timer restart_timer_;
  int restarts_done_ = 0;
  std::optional<Clock::time_point> serving_since_;
  // A seed order whose etcd is asked for its leader first.
  std::optional<core::ReseedOrderText> leader_check_;
  // A seed order whose etcd is being stopped, then the report it awaits.
  std::optional<core::ReseedOrderText> seeding_;
  std::optional<SeedReport> seed_report_;
  // A seed's --force-new-cluster start ended before it served: the data
  // is no longer the old cluster's member's, whatever etcd runs on it now.
  bool forced_seed_failed_ = false;
  // A fence order whose etcd is being stopped, with the commit index its
  // status named just before (used if the WAL cannot be read); then the
  // fence that holds, and the timer of its lease.
  std::optional<core::ReseedOrderText> fencing_;
  std::optional<uint64_t> fencing_status_index_;
  std::optional<Fence> fence_;
  asio::steady_timer fence_timer_;
};

void Executor::Impl::enter(Phase to) {
  if (to != phase_) {
    log()->info("task '{}': {} -> {}", task_id_, to_string(phase_), to_string(to));
    phase_ = to;
  }
}

io::MesosExecutorCallbacks Executor::Impl::callbacks() {
  std::weak_ptr<Impl> weak = shared_from_this();
  io::MesosExecutorCallbacks cb;
  cb.on_subscribed = [](const mesos::ExecutorEventSubscribed& s) {
    log()->info("subscribed to agent '{}' ({})", s.agent_info.id, s.agent_info.hostname);
  };
  cb.on_launch = [weak](const mesos::TaskInfo& task) {
    if (auto self = weak.lock()) {
      self->launch(task);
    }
  };
  cb.on_kill = [weak](const mesos::ExecutorEventKill& kill) {
    if (auto self = weak.lock()) {
      self->kill(kill);
    }
  };
  cb.on_acknowledged = [weak](const std::string&, const std::string& uuid) {
    if (auto self = weak.lock()) {
      self->acknowledged(uuid);
    }
  };
  cb.on_message = [weak](const std::string& data) {
    if (auto self = weak.lock()) {
      self->on_message(data);
    }
  };
  cb.on_shutdown = [weak] {
    if (auto self = weak.lock()) {
      self->shutdown("the agent sent SHUTDOWN");
    }
  };
  cb.on_error = [](const std::string& message) { log()->error("agent error: {}", message); };
  cb.on_gone = [weak](const std::string& reason) {
    if (auto self = weak.lock()) {
      self->agent_gone(reason);
    }
  };
  return cb;
}

std::optional<std::string> Executor::Impl::send(const std::string& task_id, TaskState state,
                                                const std::string& message,
                                                std::vector<mesos::Label> labels) {
  if (phase_ == Phase::kExited) {
    return std::nullopt;
  }
  mesos::TaskStatus status;
  status.task_id = task_id;
  status.state = state;
  status.message = message;
  status.labels = std::move(labels);
  auto uuid = mesos_.send_update(std::move(status));
  if (!uuid) {
    log()->error("{}", uuid.error().message);
    return std::nullopt;
  }
  return *uuid;
}

void Executor::Impl::launch(const mesos::TaskInfo& task) {
  if (phase_ != Phase::kIdle || shutting_down_) {
    log()->warn("refusing task '{}': this executor runs one task ('{}')", task.task_id, task_id_);
    send(task.task_id, TaskState::kFailed,
         "etcd-mesos-executor runs one task and already has '" + task_id_ + "'");
    return;
  }
  task_id_ = task.task_id;
  kill_grace_ =
      task.kill_grace_period_ns ? from_ns(*task.kill_grace_period_ns) : options_.default_kill_grace;
  enter(Phase::kStarting);
  auto data = task.data ? decode_member_task_data(*task.data)
                        : Result<MemberTaskData>(make_error("the task carries no data"));
  if (!data) {
    finish(TaskState::kFailed, "bad task data: " + data.error().message);
    return;
  }
  data_ = *data;
  member_name_ = data_.name;
  send(task_id_, TaskState::kStarting, "starting etcd member '" + member_name_ + "'");
  if (auto started = start_etcd(EtcdStart::kNormal); !started) {
    finish(TaskState::kFailed, "cannot start etcd: " + started.error().message);
    return;
  }
  asio::co_spawn(ex_, supervise(), log_exception("supervise"));
}

// Starts an etcd process of the next generation, and its readiness probe.
Result<void> Executor::Impl::start_etcd(EtcdStart mode) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir(), ec);
  if (ec) {
    return make_error("cannot create " + data_dir().string() + ": " + ec.message());
  }
  const auto stderr_path = options_.sandbox / "etcd.stderr";
  io::SpawnOptions spawn;
  spawn.argv = etcd_argv(data_, options_.etcd_bin, data_dir().string(), mode);
  spawn.env = etcd_environment(options_.environment);
  spawn.cwd = options_.sandbox.string();
  spawn.stdout_path = (options_.sandbox / "etcd.stdout").string();
  spawn.stderr_path = stderr_path.string();
  stderr_offset_ = file_size_or_zero(stderr_path);
  auto process = io::Process::spawn(ex_, spawn);
  if (!process) {
    return process.error();
  }
  etcd_ = std::move(*process);
  ++generation_;
  serving_since_.reset();
  client_ = io::Endpoint{data_.host, static_cast<uint16_t>(data_.client_port)};
  log()->info("started etcd member '{}' as process {} (client {}, state {}{})", data_.name,
              etcd_->pid(), client_.to_string(), data_.cluster_state,
              mode == EtcdStart::kForceNewCluster ? ", --force-new-cluster" : "");
  asio::co_spawn(ex_, wait_until_ready(generation_), log_exception("wait_until_ready"));
  return {};
}

std::string Executor::Impl::exit_message(const io::ExitStatus& status) const {
  const auto line = summarise_log_line(last_line(options_.sandbox / "etcd.stderr"));
  return "etcd " + status.describe() + (line.empty() ? "" : "; its last log: " + line);
}

asio::awaitable<void> Executor::Impl::supervise() {
  auto self = shared_from_this();
  for (;;) {
    const io::ExitStatus status = co_await etcd_->wait();
    kill_timer_.cancel();
    kill_at_.reset();
    log()->info("etcd member '{}' {}", member_name_, status.describe());
    if (phase_ == Phase::kExited) {
      co_return;
    }
    if (kill_requested_) {
      finish(TaskState::kKilled, "etcd stopped: " + status.describe());
      co_return;
    }
    if (fencing_) {
      if (!co_await hold_fence()) {
        co_return;
      }
      continue;
    }
    if (seeding_) {
      if (!restart_as_seed()) {
        co_return;
      }
      continue;
    }
    if (!co_await restart_after_exit(status)) {
      co_return;
    }
  }
}

// Decides what an unexpected exit leads to; true when a new etcd runs.
asio::awaitable<bool> Executor::Impl::restart_after_exit(const io::ExitStatus& status) {
  if (seed_report_) {
    // Not untouched: etcd ran with --force-new-cluster on this data.
    report_reseed(seed_report_->order, false,
                  "etcd exited before serving as the seed: " + exit_message(status));
    seed_report_.reset();
    forced_seed_failed_ = true;
  }
  if (!status.signaled && status.code == 0) {
    const bool said_so =
        log_contains(options_.sandbox / "etcd.stderr", stderr_offset_, kRemovedLogLine);
    finish(TaskState::kFailed,
           std::string("etcd exited with status 0: the member was removed from the cluster") +
               (said_so ? " (etcd logged so)" : "") +
               " (etcd ends itself then; its data directory must not be reused)");
    co_return false;
  }
  const std::string why = exit_message(status);
  if (serving_since_ && Clock::now() - *serving_since_ >= options_.restart_budget_reset_after) {
    restarts_done_ = 0;
  }
  if (phase_ != Phase::kRunning || restarts_done_ >= options_.etcd_restart_attempts) {
    const bool tried = phase_ == Phase::kRunning && options_.etcd_restart_attempts > 0;
    finish(
        TaskState::kFailed,
        why + (tried ? "; gave up after " + std::to_string(restarts_done_) + " restart(s)" : ""));
    co_return false;
  }
  ++restarts_done_;
  const auto pause =
      Backoff(options_.restart_backoff_initial, options_.restart_backoff_max).nth(restarts_done_);
  log()->warn("{}; restarting etcd member '{}' on its data directory in {} ms (restart {} of {})",
              why, member_name_, pause.count(), restarts_done_, options_.etcd_restart_attempts);
  restart_timer_.expires_after(pause);
  co_await restart_timer_.async_wait(kTuple);
  if (phase_ == Phase::kExited || ended()) {
    co_return false;
  }
  if (kill_requested_) {
    finish(TaskState::kKilled, "killed while etcd was down (" + why + ")");
    co_return false;
  }
  if (auto started = start_etcd(EtcdStart::kNormal); !started) {
    finish(TaskState::kFailed, why + "; cannot restart it: " + started.error().message);
    co_return false;
  }
  co_return true;
}

// etcd was stopped to seed: copy its data aside, then start it once with
// --force-new-cluster. True when a new etcd runs.
bool Executor::Impl::restart_as_seed() {
  const auto order = *seeding_;
  seeding_.reset();
  auto copied = backup_data(order.reseed_id);
  if (copied) {
    return start_as_seed(order, *copied);
  }
  // Nothing was written (a copy that does not fit is refused first, a
  // half-made one removed): etcd restarts as the member it was, and the
  // scheduler keeps it and tries the next candidate.
  report_reseed(order, false, copied.error().message, data_untouched());
  if (auto started = start_etcd(EtcdStart::kNormal); !started) {
    finish(TaskState::kFailed, "cannot restart etcd to seed: " + started.error().message);
    return false;
  }
  return true;
}

bool Executor::Impl::start_as_seed(const core::ReseedOrderText& order, const std::string& copied) {
  if (auto started = start_etcd(EtcdStart::kForceNewCluster); !started) {
    report_reseed(order, false, "cannot start etcd: " + started.error().message);
    finish(TaskState::kFailed, "cannot restart etcd to seed: " + started.error().message);
    return false;
  }
  log()->warn("reseed {}: {}; etcd member '{}' restarted as a new one-member cluster",
              order.reseed_id, copied, member_name_);
  seed_report_ = SeedReport{order, generation_};
  return true;
}

asio::awaitable<bool> Executor::Impl::hold_fence() {
  const auto order = *fencing_;
  fencing_.reset();
  const milliseconds lease(order.lease_ms);
  uint64_t index = 0;
  std::string source;
  if (auto wal = wal_commit_index(data_dir())) {
    index = *wal;
    source = "the last commit index in its WAL";
  } else if (fencing_status_index_) {
    index = *fencing_status_index_;
    source = "its status before the stop (" + wal.error().message + ")";
  } else {
    // Nothing says what the data holds: no rankable copy. etcd runs again
    // as the member it was.
    report_reseed(order, false,
                  "etcd stopped, but neither its WAL nor its status says what it holds: " +
                      wal.error().message,
                  true);
    if (auto started = start_etcd(EtcdStart::kNormal); !started) {
      finish(TaskState::kFailed, "cannot restart etcd after a fence: " + started.error().message);
      co_return false;
    }
    co_return true;
  }
  fence_ = Fence{index, Clock::now() + lease};
  report_reseed(order, true,
                "etcd stopped for " + std::to_string(lease.count()) +
                    " ms unless renewed, seeded or killed; its data holds commit index " +
                    std::to_string(index) + " (" + source + ")",
                false, index);
  for (;;) {
    fence_timer_.expires_at(fence_->until);
    co_await fence_timer_.async_wait(kTuple);
    if (ended()) {
      co_return false;
    }
    if (kill_requested_) {
      fence_.reset();
      finish(TaskState::kKilled, "killed while etcd was fenced");
      co_return false;
    }
    if (seeding_) {
      const auto seed = *seeding_;
      seeding_.reset();
      auto copied = backup_data(seed.reseed_id);
      if (!copied) {
        // Nothing written: the fence holds on, the scheduler tries the next.
        report_reseed(seed, false, copied.error().message, true);
        continue;
      }
      fence_.reset();
      co_return start_as_seed(seed, *copied);
    }
    if (Clock::now() >= fence_->until) {
      break;
    }
    // Renewed, or a seed whose copy failed: the fence holds on.
  }
  fence_.reset();
  log()->warn("the fence lease ended without a seed order: etcd member '{}' restarts as it was",
              member_name_);
  if (auto started = start_etcd(EtcdStart::kNormal); !started) {
    finish(TaskState::kFailed, "cannot restart etcd after a fence: " + started.error().message);
    co_return false;
  }
  co_return true;
}

asio::awaitable<void> Executor::Impl::wait_until_ready(uint64_t generation) {
  auto self = shared_from_this();
  asio::steady_timer pause(ex_);
  const auto began = Clock::now();
  auto next_report = began + kNotReadyReportInterval;
  auto current = [&] {
    return generation == generation_ && (phase_ == Phase::kStarting || phase_ == Phase::kRunning);
  };
  while (current()) {
    auto status = co_await fetch_status(ex_, client_, options_.ready_request_timeout);
    if (!current()) {
      co_return;
    }
    if (status) {
      became_ready(generation, *status);
      co_return;
    }
    log()->debug("etcd not ready yet: {}", status.error().message);
    if (Clock::now() >= next_report) {
      // Expected while a new cluster waits for its other members; worth a
      // line now and then, as it also shows a member that never comes up.
      log()->info("etcd member '{}' not serving on {} after {} s: {}", member_name_,
                  client_.to_string(),
                  std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - began).count(),
                  status.error().message);
      next_report = Clock::now() + kNotReadyReportInterval;
    }
    pause.expires_after(options_.ready_poll_interval);
    co_await pause.async_wait(kTuple);
  }
}

void Executor::Impl::became_ready(uint64_t generation, const etcd::EtcdStatus& status) {
  serving_since_ = Clock::now();
  std::vector<mesos::Label> labels{{"etcd_member_id", std::to_string(status.member_id)}};
  const std::string serves =
      "etcd member '" + member_name_ + "' serves clients on " + client_.to_string();
  if (phase_ == Phase::kStarting) {
    enter(Phase::kRunning);
    send(task_id_, TaskState::kRunning, serves, std::move(labels));
    return;
  }
  if (seed_report_ && seed_report_->generation == generation) {
    const auto order = seed_report_->order;
    seed_report_.reset();
    report_reseed(order, true,
                  serves + " as a new one-member cluster (raft index " +
                      std::to_string(status.raft_index) + ")");
    return;
  }
  send(task_id_, TaskState::kRunning,
       serves + " again after restart " + std::to_string(restarts_done_), std::move(labels));
}

void Executor::Impl::on_message(const std::string& data) {
  const auto order = core::decode_reseed_order(data);
  if (!order) {
    log()->warn("ignoring a framework message of {} bytes that is no reseed order", data.size());
    return;
  }
  log()->warn("reseed {}: ordered to {} (task '{}', phase {})", order->reseed_id,
              core::to_string(order->action), task_id_, to_string(phase_));
  if (fence_ && phase_ == Phase::kRunning && !kill_requested_ && !seeding_) {
    if (order->action == core::ReseedAction::kFence) {
      fence_->until = Clock::now() + milliseconds(order->lease_ms);
      fence_timer_.cancel();  // hold_fence() waits again, to the new end
      report_reseed(*order, true,
                    "etcd stays stopped for " + std::to_string(order->lease_ms) +
                        " ms more; its data holds commit index " +
                        std::to_string(fence_->raft_index),
                    false, fence_->raft_index);
      return;
    }
    seeding_ = *order;  // hold_fence() seeds from the stopped data
    fence_timer_.cancel();
    return;
  }
  const bool serving = phase_ == Phase::kRunning && etcd_ && etcd_->running() && !seeding_ &&
                       !leader_check_ && !fencing_;
  // A refusal changes nothing; it says so unless another seed is under way
  // (data_untouched()).
  if (!serving) {
    report_reseed(*order, false,
                  "etcd is not serving (phase " + std::string(to_string(phase_)) + ")",
                  data_untouched());
    return;
  }
  if (seed_report_) {
    report_reseed(*order, false,
                  "already seeding for reseed " + std::to_string(seed_report_->order.reseed_id),
                  data_untouched());
    return;
  }
  leader_check_ = *order;
  asio::co_spawn(ex_, stop_unless_led(*order), log_exception("stop_unless_led"));
}

asio::awaitable<void> Executor::Impl::stop_unless_led(core::ReseedOrderText order) {
  auto self = shared_from_this();
  const bool fence = order.action == core::ReseedAction::kFence;
  auto status = co_await fetch_status(ex_, client_, options_.ready_request_timeout);
  leader_check_.reset();
  if (phase_ != Phase::kRunning || !etcd_ || !etcd_->running()) {
    report_reseed(order, false,
                  std::string(fence ? "etcd stopped serving before the fence"
                                    : "etcd stopped serving before the seed began") +
                      " (phase " + std::string(to_string(phase_)) + ")",
                  data_untouched());
    co_return;
  }
  if (status && status->leader != 0 && options_.seed_only_without_leader_ForTest) {
    // The scheduler ranked the members while the majority was lost; it is
    // back now: --force-new-cluster would fork a second cluster beside it,
    // and a fence would only weaken it.
    report_reseed(order, false,
                  "etcd names leader " + std::to_string(status->leader) +
                      ": a majority serves again; " + (fence ? "not fenced" : "not seeding"),
                  fence || data_untouched());
    co_return;
  }
  if (fence) {
    fencing_ = order;
    fencing_status_index_ =
        status ? std::optional<uint64_t>(status->raft_index) : std::optional<uint64_t>();
  } else {
    seeding_ = order;
  }
  stop_etcd(options_.reseed_stop_grace, /*for_kill=*/false);  // supervise() goes on
}

// Whether etcd runs (or restarts) on data no reseed has changed, as the
// member of the cluster it was in: what a failed answer may claim. Not while
// another seed is under way — the scheduler would keep this member and seed
// a second one while this one becomes a one-member cluster — nor after a
// forced start that failed.
bool Executor::Impl::data_untouched() const {
  return !seeding_ && !seed_report_ && !forced_seed_failed_ && !leader_check_ && !fencing_;
}

void Executor::Impl::report_reseed(const core::ReseedOrderText& order, bool ok,
                                   const std::string& message, bool untouched,
                                   uint64_t raft_index) {
  std::vector<mesos::Label> labels;
  for (auto& [key, value] : core::reseed_report_labels(order, ok, untouched, raft_index)) {
    labels.push_back({key, value});
  }
  log()->log(ok ? spdlog::level::info : spdlog::level::err, "reseed {} {}: {}: {}{}",
             order.reseed_id, core::to_string(order.action), ok ? "done" : "failed", message,
             !ok && untouched ? " (data untouched)" : "");
  if (phase_ != Phase::kStarting && phase_ != Phase::kRunning) {
    return;  // the task is ending: its terminal update tells the scheduler
  }
  // An update must carry the task's state: never claim RUNNING early.
  const auto state = phase_ == Phase::kStarting ? TaskState::kStarting : TaskState::kRunning;
  send(task_id_, state,
       "reseed " + std::to_string(order.reseed_id) + " " + core::to_string(order.action) + " " +
           (ok ? "done" : "failed") + ": " + message,
       std::move(labels));
}

Result<std::string> Executor::Impl::backup_data(uint64_t reseed_id) {
  return copy_data_dir(data_dir(),
                       options_.sandbox / ("etcd-data.before-reseed-" + std::to_string(reseed_id)),
                       options_.free_space_ForTest ? options_.free_space_ForTest : free_space);
}

void Executor::Impl::kill(const mesos::ExecutorEventKill& kill) {
  if (kill.task_id != task_id_) {
    log()->warn("KILL for unknown task '{}' ignored", kill.task_id);
    return;
  }
  if (ended()) {
    log()->info("KILL for task '{}', which has ended already", kill.task_id);
    return;
  }
  kill_requested_ = true;
  restart_timer_.cancel();  // etcd may be down, waiting to restart
  fence_timer_.cancel();    // or fenced
  stop_etcd(kill.grace_period_ns ? from_ns(*kill.grace_period_ns) : kill_grace_);
}

// SIGTERM now, SIGKILL at the end of `grace`. for_kill: the task is ending
// (KILLING); otherwise etcd is stopped to be started again (reseed).
void Executor::Impl::stop_etcd(milliseconds grace, bool for_kill) {
  if (!etcd_ || !etcd_->running()) {
    return;
  }
  if (for_kill) {
    enter(Phase::kKilling);
  }
  const auto when = Clock::now() + grace;
  if (kill_at_ && *kill_at_ <= when) {
    return;  // already stopping, with a shorter grace
  }
  if (!kill_at_) {
    log()->info("sending SIGTERM to etcd (process {}), SIGKILL in {} ms", etcd_->pid(),
                grace.count());
    etcd_->signal(SIGTERM, true);
  }
  kill_at_ = when;
  kill_timer_.expires_at(when);
  kill_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || !self->etcd_ || !self->etcd_->running()) {
      return;
    }
    log()->warn("etcd (process {}) outlived its grace period; sending SIGKILL", self->etcd_->pid());
    self->etcd_->signal(SIGKILL, true);
  });
}

void Executor::Impl::finish(TaskState state, const std::string& message) {
  if (ended()) {
    return;
  }
  enter(Phase::kDone);
  terminal_uuid_ = send(task_id_, state, message);
  if (agent_gone_ || !terminal_uuid_) {
    exit(agent_gone_ ? 1 : 0, "task ended with no agent to tell");
    return;
  }
  exit_at(Clock::now() + options_.terminal_ack_timeout,
          "the agent did not acknowledge the terminal update in time");
}

void Executor::Impl::acknowledged(const std::string& uuid) {
  if (terminal_uuid_ && uuid == *terminal_uuid_) {
    exit(0, "the terminal update of task '" + task_id_ + "' was acknowledged");
  }
}

void Executor::Impl::shutdown(const std::string& why) {
  if (shutting_down_ || phase_ == Phase::kExited) {
    return;
  }
  shutting_down_ = true;
  log()->info("shutting down: {}", why);
  exit_at(Clock::now() + options_.shutdown_grace, "the shutdown grace period is over");
  if (phase_ == Phase::kIdle) {
    exit(0, "shut down before any task was launched");
    return;
  }
  if (phase_ == Phase::kDone) {
    return;  // waiting for the terminal update's acknowledgement
  }
  // Leave part of the grace period for TASK_KILLED and its acknowledgement.
  const auto reserve = std::min<milliseconds>(std::chrono::seconds(1), options_.shutdown_grace / 2);
  kill_requested_ = true;
  restart_timer_.cancel();
  fence_timer_.cancel();
  stop_etcd(std::min(kill_grace_, options_.shutdown_grace - reserve));
}

void Executor::Impl::agent_gone(const std::string& reason) {
  log()->error("lost the agent: {}", reason);
  agent_gone_ = true;
  if (etcd_ && etcd_->running() && phase_ != Phase::kDone) {
    kill_requested_ = true;
    stop_etcd(kill_grace_);  // supervise() then finishes and exits
    return;
  }
  exit(1, "lost the agent");
}

void Executor::Impl::exit_at(Clock::time_point when, const std::string& why) {
  if (exit_at_ && *exit_at_ <= when) {
    return;
  }
  exit_at_ = when;
  exit_timer_.expires_at(when);
  exit_timer_.async_wait([weak = weak_from_this(), why](const boost::system::error_code& ec) {
    if (auto self = weak.lock(); self && !ec) {
      self->exit(self->agent_gone_ ? 1 : 0, why);
    }
  });
}

void Executor::Impl::exit(int code, const std::string& why) {
  if (phase_ == Phase::kExited) {
    return;
  }
  enter(Phase::kExited);
  log()->info("executor done ({}), exit code {}", why, code);
  kill_timer_.cancel();
  exit_timer_.cancel();
  restart_timer_.cancel();
  if (etcd_ && etcd_->running()) {
    // Only when the shutdown grace ran out before etcd ended.
    etcd_->signal(SIGKILL, true);
  }
  mesos_.stop();
  // Not from inside a client callback: the program may tear everything down.
  asio::post(ex_, [on_exit = on_exit_, code] {
    if (on_exit) {
      on_exit(code);
    }
  });
}

// ------------------------------------------------------------------ public

Executor::Executor(asio::any_io_executor ex, ExecutorOptions options, io::MesosExecutor& mesos,
                   std::function<void(int)> on_exit)
    : impl_(std::make_shared<Impl>(ex, std::move(options), mesos, std::move(on_exit))) {}

Executor::~Executor() {
  impl_->mesos_.stop();
  impl_->kill_timer_.cancel();
  impl_->exit_timer_.cancel();
  impl_->restart_timer_.cancel();
  if (impl_->etcd_ && impl_->etcd_->running()) {
    impl_->etcd_->signal(SIGKILL, true);
  }
  impl_->phase_ = Phase::kExited;  // coroutines still pending report nothing
}

void Executor::start() {
  impl_->mesos_.start(impl_->callbacks());
}

void Executor::shutdown(const std::string& why) {
  impl_->shutdown(why);
}

Executor::Phase Executor::phase() const {
  return impl_->phase_;
}

std::optional<pid_t> Executor::etcd_pid_ForTest() const {
  if (!impl_->etcd_) {
    return std::nullopt;
  }
  return impl_->etcd_->pid();
}

}  // namespace etcdmesos::executor
