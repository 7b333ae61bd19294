// Executor: the shell around core::ExecutorCore. Callbacks of the Mesos
// client, the exit of each etcd process (watch()), its readiness probe
// (wait_until_ready()) and the answers of status requests become events;
// the core's effects are performed in order, and the events they produce
// are fed back before anything else, so the core sees one event at a time.
// One timer wakes the core at its next deadline (SIGKILL after a grace, a
// restart's backoff, a fence's lease, the exit without an acknowledgement).
// Each etcd process carries the core's generation number; a probe of an
// older generation stops.
#include "executor/executor.hpp"

#include "codec/etcd.hpp"
#include "codec/reseed.hpp"
#include "codec/task_data.hpp"
#include "codec/tls_message.hpp"
#include "common/files.hpp"
#include "common/log.hpp"
#include "core/executor_core.hpp"
#include "executor/data_copy.hpp"
#include "executor/etcd_command.hpp"
#include "executor/wal_commit.hpp"
#include "io/http.hpp"
#include "io/process.hpp"
#include "io/tls.hpp"
#include "pki/pki.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <csignal>
#include <deque>
#include <fstream>
#include <system_error>

namespace etcdmesos::executor {

namespace asio = boost::asio;
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

// How many lines of etcdctl's output a failed restore reports.
constexpr std::size_t kRestoreMessageLines = 3;

// The first `lines` non-empty lines of `file` from byte `from` on, joined
// with "; ", at most `limit` characters: why a tool gave up, without its
// stack trace.
std::string first_lines(const std::filesystem::path& file, std::uintmax_t from, std::size_t lines,
                        std::size_t limit) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return "(no output)";
  }
  in.seekg(static_cast<std::streamoff>(from));
  std::string out;
  std::string line;
  std::size_t taken = 0;
  while (taken < lines && out.size() < limit && std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) {
      continue;
    }
    out += (out.empty() ? "" : "; ") + line;
    ++taken;
  }
  if (out.empty()) {
    return "(no output)";
  }
  return out.size() > limit ? out.substr(0, limit) + "..." : out;
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

core::ExecutorConfig core_config(const ExecutorOptions& o) {
  core::ExecutorConfig c;
  c.default_kill_grace = o.default_kill_grace;
  c.shutdown_grace = o.shutdown_grace;
  c.terminal_ack_timeout = o.terminal_ack_timeout;
  c.restart_attempts = o.etcd_restart_attempts;
  c.restart_backoff_initial = o.restart_backoff_initial;
  c.restart_backoff_max = o.restart_backoff_max;
  c.restart_budget_reset_after = o.restart_budget_reset_after;
  c.reseed_stop_grace = o.reseed_stop_grace;
  c.refuse_reseed_while_led = o.seed_only_without_leader_ForTest;
  return c;
}

struct Executor::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::any_io_executor executor, ExecutorOptions o, io::MesosExecutor& m,
       std::function<void(int)> exit)
      : ex_(executor),
        options_(std::move(o)),
        mesos_(m),
        on_exit_(std::move(exit)),
        core_(core_config(options_)),
        timer_(executor, *options_.time) {
    std::error_code ec;
    auto absolute = std::filesystem::absolute(options_.etcd_bin, ec);
    if (!ec) {
      options_.etcd_bin = absolute.string();
    }
  }

  io::MesosExecutorCallbacks callbacks();
  void launch(const mesos::TaskInfo& task);
  void on_message(const std::string& data);
  void acknowledged(const std::string& uuid);
  // Steps the core with `event` (queued while effects are being performed,
  // so that the core sees events one at a time and in order).
  void feed(core::ExecutorEvent event);
  void on_timer();
  void run(std::vector<core::ExecutorEffect> effects);
  void arm_timer();
  void perform(const core::SpawnEtcd& e);
  void perform(const core::SignalEtcd& e);
  void perform(const core::AskEtcdStatus& e);
  void perform(const core::CopyData& e);
  void perform(const core::ReadCommitIndex& e);
  void perform(const core::SendUpdate& e);
  void perform(const core::ExitExecutor& e);
  void perform(const core::LogLine& e);
  void perform(const core::RequestCertificate& e);
  void perform(const core::RestoreSnapshot& e);
  asio::awaitable<void> restore_snapshot();
  void on_tls_message(const TlsMessage& message);
  Result<std::string> certificate_request();
  Result<core::CertificateAnswered> install_certificate(const CertificateGrantMessage& grant);
  std::filesystem::path tls_dir() const { return options_.sandbox / "tls"; }
  TlsFiles tls_files() const {
    return {(tls_dir() / "member.crt").string(), (tls_dir() / "member.key").string(),
            (tls_dir() / "ca.crt").string()};
  }
  asio::awaitable<void> watch(uint64_t generation);
  asio::awaitable<void> wait_until_ready(uint64_t generation);
  asio::awaitable<void> ask_status();
  void kill_etcd_now();
  core::Millis now() const {
    return std::chrono::duration_cast<core::Millis>(options_.time->now().time_since_epoch());
  }
  std::filesystem::path data_dir() const { return options_.sandbox / "etcd-data"; }

  asio::any_io_executor ex_;
  ExecutorOptions options_;
  io::MesosExecutor& mesos_;
  std::function<void(int)> on_exit_;
  core::ExecutorCore core_;
  std::deque<core::ExecutorEvent> pending_;
  bool running_effects_ = false;
  // Set by ExitExecutor and by ~Executor: nothing is reported any more.
  bool exited_ = false;
  bool destroyed_ = false;
  MemberTaskData data_;
  // etcd's client address; with TLS it carries the member's certificate,
  // which the executor's own status requests present.
  io::Endpoint client_;
  // TLS: the member's private key (made here, kept in the sandbox only).
  std::string key_pem_;
  std::unique_ptr<io::Process> etcd_;
  // Size of etcd.stderr when the current etcd started: what it logged since.
  std::uintmax_t stderr_offset_ = 0;
  std::optional<std::string> terminal_uuid_;
  // Wakes the core at its next deadline.
  Timer timer_;
};

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
      std::optional<core::Millis> grace;
      if (kill.grace_period_ns) {
        grace = from_ns(*kill.grace_period_ns);
      }
      self->feed(core::KillRequested{kill.task_id, grace});
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
      self->feed(core::ShutdownRequested{"the agent sent SHUTDOWN"});
    }
  };
  cb.on_error = [](const std::string& message) { log()->error("agent error: {}", message); };
  cb.on_gone = [weak](const std::string& reason) {
    if (auto self = weak.lock()) {
      self->feed(core::AgentGone{reason});
    }
  };
  return cb;
}

void Executor::Impl::launch(const mesos::TaskInfo& task) {
  core::TaskLaunched launched{task.task_id, std::nullopt, std::nullopt, ""};
  if (task.kill_grace_period_ns) {
    launched.kill_grace = from_ns(*task.kill_grace_period_ns);
  }
  auto data = task.data ? decode_member_task_data(*task.data)
                        : Result<MemberTaskData>(make_error("the task carries no data"));
  if (!data) {
    launched.error = data.error().message;
  } else if (core_.phase() == Phase::kIdle) {
    // The task this executor runs (a second one is refused by the core).
    data_ = *data;
    client_ = io::Endpoint{data_.host, static_cast<uint16_t>(data_.client_port)};
    launched.member = core::TaskLaunched::Member{data_.name, client_.to_string(), data_.tls,
                                                 !data_.restore_file.empty()};
  } else {
    launched.member = core::TaskLaunched::Member{data->name, ""};
  }
  feed(std::move(launched));
}

void Executor::Impl::on_message(const std::string& data) {
  const auto order = decode_reseed_order(data);
  if (!order) {
    if (auto tls = decode_tls_message(data)) {
      on_tls_message(*tls);
      return;
    }
    log()->warn("ignoring a framework message of {} bytes that is no reseed order or certificate",
                data.size());
    return;
  }
  feed(core::ReseedOrdered{
      core::ReseedCommand{order->action, order->reseed_id, core::Millis(order->lease_ms)}});
}

void Executor::Impl::acknowledged(const std::string& uuid) {
  if (terminal_uuid_ && uuid == *terminal_uuid_) {
    feed(core::TerminalAcknowledged{});
  }
}

void Executor::Impl::feed(core::ExecutorEvent event) {
  if (destroyed_) {
    return;
  }
  pending_.push_back(std::move(event));
  if (!running_effects_) {
    run({});
  }
}

void Executor::Impl::on_timer() {
  if (!destroyed_ && !running_effects_) {
    run(core_.tick(now()));
  }
}

// Performs `effects`, then steps the core with the events they and the
// callbacks meanwhile produced, until none is left; then waits for the
// core's next deadline.
void Executor::Impl::run(std::vector<core::ExecutorEffect> effects) {
  running_effects_ = true;
  for (;;) {
    for (const auto& effect : effects) {
      if (destroyed_) {
        break;
      }
      std::visit([this](const auto& e) { perform(e); }, effect);
    }
    if (pending_.empty() || destroyed_) {
      break;
    }
    auto event = std::move(pending_.front());
    pending_.pop_front();
    effects = core_.step(event, now());
  }
  running_effects_ = false;
  arm_timer();
}

void Executor::Impl::arm_timer() {
  const auto deadline = core_.next_deadline();
  if (!deadline || destroyed_ || exited_) {
    timer_.cancel();
    return;
  }
  timer_.expires_at(
      TimeSource::TimePoint(std::chrono::duration_cast<TimeSource::Duration>(*deadline)));
  timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    if (auto self = weak.lock(); self && !ec) {
      self->on_timer();
    }
  });
}

// Starts an etcd process of the core's next generation, its watch and its
// readiness probe.
void Executor::Impl::perform(const core::SpawnEtcd& e) {
  const auto mode = e.force_new_cluster ? EtcdStart::kForceNewCluster : EtcdStart::kNormal;
  std::error_code ec;
  std::filesystem::create_directories(data_dir(), ec);
  if (ec) {
    pending_.push_back(core::EtcdSpawnFailed{
        e.generation, "cannot create " + data_dir().string() + ": " + ec.message()});
    return;
  }
  const auto stderr_path = options_.sandbox / "etcd.stderr";
  io::SpawnOptions spawn;
  const TlsFiles files = tls_files();
  spawn.argv =
      etcd_argv(data_, options_.etcd_bin, data_dir().string(), mode, data_.tls ? &files : nullptr);
  spawn.env = etcd_environment(options_.environment);
  spawn.cwd = options_.sandbox.string();
  spawn.stdout_path = (options_.sandbox / "etcd.stdout").string();
  spawn.stderr_path = stderr_path.string();
  stderr_offset_ = file_size_or_zero(stderr_path);
  auto process = io::Process::spawn(ex_, spawn);
  if (!process) {
    pending_.push_back(core::EtcdSpawnFailed{e.generation, process.error().message});
    return;
  }
  etcd_ = std::move(*process);
  log()->info("started etcd member '{}' as process {} (client {}, state {}{})", data_.name,
              etcd_->pid(), client_.to_string(), data_.cluster_state,
              e.force_new_cluster ? ", --force-new-cluster" : "");
  asio::co_spawn(ex_, watch(e.generation), log_exception("watch"));
  asio::co_spawn(ex_, wait_until_ready(e.generation), log_exception("wait_until_ready"));
}

// Waits for the etcd of `generation` to end and tells the core how.
asio::awaitable<void> Executor::Impl::watch(uint64_t generation) {
  auto self = shared_from_this();
  const io::ExitStatus status = co_await etcd_->wait();
  if (destroyed_) {
    co_return;
  }
  const auto stderr_path = options_.sandbox / "etcd.stderr";
  core::EtcdExited exited{generation,
                          status.signaled,
                          status.code,
                          status.describe(),
                          summarise_log_line(last_line(stderr_path)),
                          false};
  if (!status.signaled && status.code == 0) {
    exited.logged_removed = log_contains(stderr_path, stderr_offset_, kRemovedLogLine);
  }
  feed(std::move(exited));
}

void Executor::Impl::perform(const core::SignalEtcd& e) {
  if (!etcd_ || !etcd_->running()) {
    return;
  }
  if (e.kill) {
    log()->warn("sending SIGKILL to etcd (process {})", etcd_->pid());
    etcd_->signal(SIGKILL, true);
    return;
  }
  log()->info("sending SIGTERM to etcd (process {}), SIGKILL in {} ms", etcd_->pid(),
              e.grace.count());
  etcd_->signal(SIGTERM, true);
}

void Executor::Impl::perform(const core::AskEtcdStatus&) {
  asio::co_spawn(ex_, ask_status(), log_exception("ask_status"));
}

asio::awaitable<void> Executor::Impl::ask_status() {
  auto self = shared_from_this();
  auto status = co_await fetch_status(ex_, client_, options_.ready_request_timeout);
  core::EtcdStatusAnswered answer;
  if (status) {
    answer.status = core::EtcdStatusAnswered::Status{status->leader, status->raft_index};
  }
  feed(answer);
}

void Executor::Impl::perform(const core::CopyData& e) {
  auto copied = copy_data_dir(
      data_dir(), options_.sandbox / ("etcd-data.before-reseed-" + std::to_string(e.reseed_id)),
      options_.free_space_ForTest ? options_.free_space_ForTest : free_space);
  pending_.push_back(
      core::DataCopied{e.reseed_id, bool(copied), copied ? *copied : copied.error().message});
}

void Executor::Impl::perform(const core::ReadCommitIndex&) {
  auto wal = wal_commit_index(data_dir());
  core::CommitIndexRead read;
  if (wal) {
    read.index = *wal;
  } else {
    read.error = wal.error().message;
  }
  pending_.push_back(std::move(read));
}

void Executor::Impl::perform(const core::SendUpdate& e) {
  if (exited_) {
    return;
  }
  mesos::TaskStatus status;
  status.task_id = e.task_id;
  status.state = e.state;
  status.message = e.message;
  if (e.etcd_member_id) {
    status.labels.push_back({"etcd_member_id", std::to_string(*e.etcd_member_id)});
  }
  if (e.reseed) {
    const ReseedOrderText order{e.reseed->order.action, e.reseed->order.reseed_id,
                                static_cast<uint64_t>(e.reseed->order.lease.count())};
    for (auto& [key, value] : reseed_report_labels(order, e.reseed->ok, e.reseed->data_untouched,
                                                   e.reseed->raft_index)) {
      status.labels.push_back({key, value});
    }
  }
  auto uuid = mesos_.send_update(std::move(status));
  if (!uuid) {
    log()->error("{}", uuid.error().message);
    if (e.terminal) {
      pending_.push_back(core::TerminalUnsent{});
    }
    return;
  }
  if (e.terminal) {
    terminal_uuid_ = *uuid;
  }
}

void Executor::Impl::perform(const core::ExitExecutor& e) {
  if (exited_) {
    return;
  }
  exited_ = true;
  timer_.cancel();
  mesos_.stop();
  // Not from inside a client callback: the program may tear everything down.
  asio::post(ex_, [on_exit = on_exit_, code = e.code] {
    if (on_exit) {
      on_exit(code);
    }
  });
}

void Executor::Impl::perform(const core::LogLine& e) {
  switch (e.level) {
    case core::LogLine::Level::kInfo:
      log()->info("{}", e.text);
      return;
    case core::LogLine::Level::kWarn:
      log()->warn("{}", e.text);
      return;
    case core::LogLine::Level::kError:
      log()->error("{}", e.text);
      return;
  }
}

// ------------------------------------------------------------- restore

void Executor::Impl::perform(const core::RestoreSnapshot&) {
  asio::co_spawn(ex_, restore_snapshot(), log_exception("restore_snapshot"));
}

// Restores the fetched snapshot with etcdctl (next to etcd when shipped,
// else /usr/bin/etcdctl). A failure leaves no data directory behind and is
// told in etcdctl's first lines.
asio::awaitable<void> Executor::Impl::restore_snapshot() {
  auto self = shared_from_this();
  const auto file = options_.sandbox / data_.restore_file;
  const auto log_path = options_.sandbox / "etcdctl-restore.log";
  std::error_code ec;
  const bool fetched = std::filesystem::is_regular_file(file, ec);
  const std::uintmax_t size = fetched ? std::filesystem::file_size(file, ec) : 0;
  if (!fetched || ec || size == 0) {
    feed(core::SnapshotRestored{
        false, "the snapshot " + file.string() +
                   (fetched ? std::string(" is empty") : std::string(" was not fetched"))});
    co_return;
  }
  if (std::filesystem::exists(data_dir(), ec)) {
    feed(core::SnapshotRestored{false, "the data directory " + data_dir().string() +
                                           " exists already; a restore never overwrites it"});
    co_return;
  }
  const auto etcd_dir = std::filesystem::path(options_.etcd_bin).parent_path();
  const auto shipped = etcd_dir / "etcdctl";
  const std::string etcdctl =
      std::filesystem::is_regular_file(shipped, ec) ? shipped.string() : "/usr/bin/etcdctl";
  io::SpawnOptions spawn;
  spawn.argv = restore_argv(data_, etcdctl, file.string(), data_dir().string());
  spawn.env = restore_environment(options_.environment);
  spawn.cwd = options_.sandbox.string();
  spawn.stdout_path = log_path.string();
  spawn.stderr_path = log_path.string();
  const auto log_start = file_size_or_zero(log_path);
  log()->info("restoring {} ({} bytes) into {} with {}", file.string(), size, data_dir().string(),
              etcdctl);
  auto process = io::Process::spawn(ex_, spawn);
  if (!process) {
    feed(core::SnapshotRestored{false, "cannot run " + etcdctl + ": " + process.error().message});
    co_return;
  }
  auto restore = std::move(*process);
  const io::ExitStatus status = co_await restore->wait();
  if (destroyed_) {
    co_return;
  }
  if (!status.signaled && status.code == 0) {
    feed(core::SnapshotRestored{true, file.string() + " (" + std::to_string(size) +
                                          " bytes) restored into " + data_dir().string()});
    co_return;
  }
  std::filesystem::remove_all(data_dir(), ec);
  feed(core::SnapshotRestored{
      false, "etcdctl snapshot restore " + status.describe() + ": " +
                 first_lines(log_path, log_start, kRestoreMessageLines, kLogLineLimit)});
}

// ------------------------------------------------------- TLS certificates

// The member's key is made once, in the sandbox, readable by this user only;
// every request (the first and each renewal) is made with it, so that a
// renewal replaces one file (the certificate) and etcd never reads a key
// and a certificate that do not belong together.
Result<std::string> Executor::Impl::certificate_request() {
  if (key_pem_.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(tls_dir(), ec);
    if (ec) {
      return make_error("cannot create " + tls_dir().string() + ": " + ec.message());
    }
    std::filesystem::permissions(tls_dir(), std::filesystem::perms::owner_all, ec);
    auto key = pki::make_key();
    if (!key) {
      return key.error();
    }
    if (auto written = write_file_atomically(tls_files().key, *key, 0600); !written) {
      return written.error();
    }
    key_pem_ = std::move(*key);
  }
  // The names the scheduler signs for this member (its host, and on a
  // loopback address also the source address of its peer connections).
  std::vector<std::string> ips;
  std::vector<std::string> names;
  for (const auto& name : core::certificate_names_for(data_.host)) {
    (pki::is_ip_literal(name) ? ips : names).push_back(name);
  }
  return pki::make_request_for_key(key_pem_, data_.name, ips, names);
}

void Executor::Impl::perform(const core::RequestCertificate& e) {
  auto csr = certificate_request();
  if (!csr) {
    pending_.push_back(core::CertificateAnswered{
        e.request_id, false, "cannot make a certificate request: " + csr.error().message, {}, {}});
    return;
  }
  mesos_.send_message(
      encode_tls_message(CertificateRequestMessage{core_.task_id(), e.request_id, *csr}));
}

void Executor::Impl::on_tls_message(const TlsMessage& message) {
  if (const auto* refusal = std::get_if<CertificateRefusalMessage>(&message)) {
    if (refusal->task_id == core_.task_id()) {
      feed(core::CertificateAnswered{
          refusal->request_id, false, "the scheduler refused: " + refusal->reason, {}, {}});
    }
    return;
  }
  const auto* grant = std::get_if<CertificateGrantMessage>(&message);
  if (grant == nullptr || grant->task_id != core_.task_id()) {
    log()->warn("ignoring a certificate message that is not for task '{}'", core_.task_id());
    return;
  }
  auto installed = install_certificate(*grant);
  if (!installed) {
    feed(core::CertificateAnswered{grant->request_id, false, installed.error().message, {}, {}});
    return;
  }
  feed(*installed);
}

// Checks what the scheduler sent (this member's name, this key, a CA that
// reads), puts the CA and then the certificate in place, and has the
// executor's own status requests present it from now on.
Result<core::CertificateAnswered> Executor::Impl::install_certificate(
    const CertificateGrantMessage& grant) {
  if (key_pem_.empty()) {
    return make_error("a certificate arrived before this executor asked for one");
  }
  auto cert = pki::read_certificate(grant.cert_pem);
  if (!cert) {
    return make_error("the certificate sent does not read: " + cert.error().message);
  }
  if (cert->common_name != data_.name) {
    return make_error("the certificate sent is for '" + cert->common_name + "', not '" +
                      data_.name + "'");
  }
  if (auto ca = pki::read_certificate(grant.ca_pem); !ca) {
    return make_error("the CA certificate sent does not read: " + ca.error().message);
  }
  // Loading it with the key also checks that it is this member's key's.
  auto tls = io::TlsClient::make(io::TlsClientConfig{grant.ca_pem, grant.cert_pem, key_pem_});
  if (!tls) {
    return make_error("the certificate sent does not go with this member's key: " +
                      tls.error().message);
  }
  const auto files = tls_files();
  for (const auto& [path, text] :
       {std::pair{files.ca, grant.ca_pem}, std::pair{files.cert, grant.cert_pem}}) {
    if (auto written = write_file_atomically(path, text, 0644); !written) {
      return written.error();
    }
  }
  client_.tls = *tls;
  const auto wall_now = options_.time->system_now();
  core::CertificateAnswered answer;
  answer.request_id = grant.request_id;
  answer.ok = true;
  answer.lifetime = std::chrono::duration_cast<core::Millis>(cert->not_after - cert->not_before);
  answer.remaining = std::chrono::duration_cast<core::Millis>(cert->not_after - wall_now);
  log()->info(
      "certificate for '{}' in place, valid until {} s after the epoch", data_.name,
      std::chrono::duration_cast<std::chrono::seconds>(cert->not_after.time_since_epoch()).count());
  return answer;
}

asio::awaitable<void> Executor::Impl::wait_until_ready(uint64_t generation) {
  auto self = shared_from_this();
  TimeSource& time = *options_.time;
  Timer pause(ex_, time);
  const auto began = time.now();
  auto next_report = began + kNotReadyReportInterval;
  auto current = [&] { return !destroyed_ && core_.probe_ready(generation); };
  while (current()) {
    auto status = co_await fetch_status(ex_, client_, options_.ready_request_timeout);
    if (!current()) {
      co_return;
    }
    if (status) {
      feed(core::EtcdServing{generation, status->member_id, status->raft_index});
      co_return;
    }
    log()->debug("etcd not ready yet: {}", status.error().message);
    if (time.now() >= next_report) {
      // Expected while a new cluster waits for its other members; worth a
      // line now and then, as it also shows a member that never comes up.
      log()->info("etcd member '{}' not serving on {} after {} s: {}", data_.name,
                  client_.to_string(),
                  std::chrono::duration_cast<std::chrono::seconds>(time.now() - began).count(),
                  status.error().message);
      next_report = time.now() + kNotReadyReportInterval;
    }
    pause.expires_after(options_.ready_poll_interval);
    co_await pause.async_wait(kTuple);
  }
}

void Executor::Impl::kill_etcd_now() {
  if (etcd_ && etcd_->running()) {
    etcd_->signal(SIGKILL, true);
  }
}

// ------------------------------------------------------------------ public

Executor::Executor(asio::any_io_executor ex, ExecutorOptions options, io::MesosExecutor& mesos,
                   std::function<void(int)> on_exit)
    : impl_(std::make_shared<Impl>(ex, std::move(options), mesos, std::move(on_exit))) {}

Executor::~Executor() {
  impl_->mesos_.stop();
  impl_->timer_.cancel();
  impl_->kill_etcd_now();
  impl_->destroyed_ = true;  // coroutines still pending report nothing
}

void Executor::start() {
  impl_->mesos_.start(impl_->callbacks());
}

void Executor::shutdown(const std::string& why) {
  impl_->feed(core::ShutdownRequested{why});
}

Executor::Phase Executor::phase() const {
  return impl_->core_.phase();
}

std::optional<pid_t> Executor::etcd_pid_ForTest() const {
  if (!impl_->etcd_) {
    return std::nullopt;
  }
  return impl_->etcd_->pid();
}

}  // namespace etcdmesos::executor
