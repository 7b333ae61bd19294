#include "scheduler/scheduler.hpp"

#include "codec/reseed.hpp"
#include "codec/tls_message.hpp"
#include "common/log.hpp"
#include "common/version.hpp"
#include "io/etcd_client.hpp"
#include "scheduler/backup.hpp"
#include "scheduler/etcd_health.hpp"
#include "scheduler/restore_uri.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <unistd.h>
#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace etcdmesos::scheduler {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

auto log() {
  return logger("scheduler");
}

// Wait (docs/performance.md, "Waits"): a check made due by a membership
// change, and the end of a bootstrap window, start on the next tick.
constexpr auto kTickInterval = 250ms;

// The executor binary defaults to the one installed next to the scheduler.
std::string default_executor_bin() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) {
    return "etcd-mesos-executor";
  }
  return (self.parent_path() / "etcd-mesos-executor").string();
}

constexpr auto kStatusQueryTimeout = std::chrono::seconds(3);

std::string admin_secret(const Options& options) {
  if (options.admin_secret_file.empty()) {
    return {};
  }
  auto secret = read_secret(options.admin_secret_file, "--admin-secret-file");
  if (secret.empty()) {
    throw std::runtime_error("--admin-secret-file " + options.admin_secret_file + " is empty");
  }
  return secret;
}

double seconds(core::Millis d) {
  return static_cast<double>(d.count()) / 1000.0;
}

}  // namespace

Result<io::EtcdClient> Scheduler::etcd_client(const std::string& client_url,
                                              std::chrono::milliseconds timeout) const {
  auto endpoint = io::endpoint_from_url(client_url, etcd_tls_);
  if (!endpoint) {
    return endpoint.error();
  }
  return io::EtcdClient(io_.get_executor(), *endpoint, timeout);
}

Scheduler::Scheduler(asio::io_context& io, Options options, TimeSource& time, RandomSource& random)
    : io_(io),
      options_(std::move(options)),
      time_(time),
      random_(random),
      core_(core_config(), random_()),
      artifacts_(io.get_executor()),
      admin_(
          io.get_executor(), [this] { return snapshot(); },
          [this](const AdminRequest& request) {
            auto result = on_admin_action(request);
            note_admin(request, result);
            return result;
          },
          admin_secret(options_)),
      started_(time_.now()) {}

Scheduler::~Scheduler() {
  stop();
}

core::Config Scheduler::core_config() const {
  core::Config c;
  c.framework_name = options_.framework_name;
  c.cluster_size = options_.cluster_size;
  c.task_cpus = options_.sandbox_cpu_limit;
  c.task_mem_mb = options_.sandbox_mem_limit_mb;
  c.task_disk_mb = options_.sandbox_disk_limit_mb;
  c.single_instance_per_agent = options_.single_instance_per_slave;
  c.offer_refuse_seconds = options_.mesos_offer_refuse_seconds;
  // Wait: an unused offer comes back within 1 s while a member is missing
  // (those declined while the cluster was complete are revived when a
  // member leaves it: ReviveOffers).
  c.offer_refuse_seconds_while_growing = 1;
  // Wait: etcd's strict reconfiguration check wants every voter connected
  // for 5 s; the 0.5 s cover a peer connection made before the member's
  // TASK_RUNNING reached us. Only with two or more live members.
  c.join_settle = core::Millis{5500};
  // Wait: offers are held only while fewer agents than members offered, so
  // that all start at once instead of joining 5.5 s apart.
  c.bootstrap_window = core::Millis(static_cast<int64_t>(options_.bootstrap_window_seconds * 1000));
  // Offers must also hold the executor, which Mesos charges on top of the task.
  c.executor_cpus = ExecutorTemplate{}.executor_cpus;
  c.executor_mem_mb = ExecutorTemplate{}.executor_mem_mb;
  c.health_check_interval =
      core::Millis(static_cast<int64_t>(options_.health_check_interval_seconds * 1000));
  c.reseed_timeout = core::Millis(static_cast<int64_t>(options_.reseed_timeout_seconds * 1000));
  c.auto_reseed = options_.auto_reseed;
  c.persist = !options_.zk_framework_persist.empty();
  c.zk_session_timeout =
      core::Millis(static_cast<int64_t>(options_.zk_session_timeout_seconds * 1000));
  c.implicit_reconcile_interval =
      core::Millis(static_cast<int64_t>(options_.reconcile_interval_seconds * 1000));
  c.restore_from = options_.restore_from;
  c.tls = !options_.etcd_ca_cert_file.empty();
  c.certificate_validity =
      core::Millis(static_cast<int64_t>(options_.etcd_cert_validity_hours * 3600 * 1000));
  if (!options_.backup_dir.empty()) {
    c.backup_interval = core::Millis(static_cast<int64_t>(options_.backup_interval_seconds * 1000));
  }
  return c;
}

mesos::FrameworkInfo Scheduler::framework_info() const {
  mesos::FrameworkInfo info;
  info.user = options_.framework_user;
  info.name = options_.framework_name;
  info.failover_timeout = options_.failover_timeout_seconds;
  info.checkpoint = true;
  info.roles = {options_.framework_role};
  // PARTITION_AWARE: Mesos says TASK_UNREACHABLE, TASK_GONE, TASK_DROPPED or
  // TASK_UNKNOWN instead of TASK_LOST for all of them, and TASK_UNKNOWN ("no
  // record of the task's agent", as after a master failover with an
  // in-memory registry until the agent re-registers) is not news of a loss
  // (core::Config::unknown_task_grace).
  info.capabilities = {"MULTI_ROLE", "PARTITION_AWARE"};
  info.hostname = options_.address;
  info.webui_url = options_.framework_weburi.empty()
                       ? "http://" + options_.address + ":" + std::to_string(options_.admin_port)
                       : options_.framework_weburi;
  if (!options_.mesos_authentication_principal.empty()) {
    info.principal = options_.mesos_authentication_principal;
  }
  if (!framework_id_.empty()) {
    info.id = framework_id_;
  }
  return info;
}

Result<void> Scheduler::start() {
  // A CA that does not load stops the start before anything listens.
  if (auto tls = start_tls(); !tls) {
    return tls.error();
  }
  auto executor_bin =
      options_.executor_bin.empty() ? default_executor_bin() : options_.executor_bin;
  for (const auto& [name, path] :
       {std::pair{"etcd-mesos-executor", executor_bin}, std::pair{"etcd", options_.etcd_bin},
        std::pair{"etcdctl", options_.etcdctl_bin}}) {
    if (auto added = artifacts_.add_file(name, path); !added) {
      return added.error();
    }
  }
  const std::string& artifact_address =
      options_.artifact_address.empty() ? options_.address : options_.artifact_address;
  auto artifact_endpoint = artifacts_.listen({artifact_address, options_.artifact_port});
  if (!artifact_endpoint) {
    return make_error("artifact server: " + artifact_endpoint.error().message);
  }
  auto admin_endpoint = admin_.listen({options_.address, options_.admin_port});
  if (!admin_endpoint) {
    return make_error("admin server: " + admin_endpoint.error().message);
  }
  executor_template_ = ExecutorTemplate{};
  executor_template_.executor_url = artifacts_.url("etcd-mesos-executor");
  executor_template_.etcd_url = artifacts_.url("etcd");
  executor_template_.etcdctl_url = artifacts_.url("etcdctl");
  executor_template_.framework_name = options_.framework_name;
  executor_template_.etcd_restart_attempts = options_.etcd_restart_attempts;
  executor_template_.auto_compaction_mode = options_.etcd_auto_compaction_mode;
  executor_template_.auto_compaction_retention = options_.etcd_auto_compaction_retention;
  executor_template_.quota_backend_bytes = quota_backend_bytes(options_);
  log()->info("admin interface on http://{}, artifacts on http://{}", admin_endpoint->to_string(),
              artifact_endpoint->to_string());
  admin_endpoint_ = *admin_endpoint;
  if (options_.admin_insecure && options_.admin_secret_file.empty()) {
    log()->warn(
        "--admin-insecure: the admin interface on {} takes POST /reseed and /unlock from anyone "
        "who reaches it",
        admin_endpoint->to_string());
  }

  auto detector = io::MasterDetector::from_spec(io_.get_executor(), options_.master,
                                                std::chrono::seconds(10), time_);
  if (!detector) {
    return make_error("--master: " + detector.error().message);
  }
  detector_ = std::move(*detector);
  asio::co_spawn(io_, tick_loop(), asio::detached);
  if (!options_.zk_framework_persist.empty()) {
    // Mesos is contacted only once elected and the persisted state is loaded.
    return start_persistence();
  }
  start_mesos();
  return {};
}

void Scheduler::start_mesos() {
  if (mesos_ || stopped_) {
    return;
  }

  io::MesosSchedulerClient::Config config;
  config.framework_info = framework_info();
  config.time = &time_;
  config.random = &random_;
  config.find_master = [this](std::chrono::milliseconds wait) { return find_master(wait); };
  config.watch_master = [this](std::function<void(std::optional<io::Endpoint>)> listener) {
    detector_->on_leader_change(std::move(listener));
  };
  if (!options_.mesos_authentication_principal.empty()) {
    config.principal = options_.mesos_authentication_principal;
    try {
      config.secret = read_secret(options_.mesos_authentication_secret_file,
                                  "--mesos-authentication-secret-file");
    } catch (const std::exception& e) {
      fatal(e.what());
      return;
    }
  }
  io::MesosSchedulerClient::Callbacks callbacks;
  callbacks.on_event = [this](const mesos::Event& e) { on_mesos_event(e); };
  callbacks.on_disconnected = [this](const std::string& reason) { on_mesos_disconnected(reason); };
  mesos_ = std::make_unique<io::MesosSchedulerClient>(io_.get_executor(), std::move(config),
                                                      std::move(callbacks));
  mesos_->start();
}

// Asked before every subscription attempt.
asio::awaitable<std::optional<io::Endpoint>> Scheduler::find_master(
    std::chrono::milliseconds wait) {
  if (!core_.may_subscribe(now())) {
    // The core's leadership rule: no subscription while the ZooKeeper
    // session may be gone (the core exits on its next tick).
    co_return std::nullopt;
  }
  co_return co_await detector_->current_leader(wait);
}

void Scheduler::stop() {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  if (mesos_) {
    mesos_->stop();
  }
  if (election_) {
    election_->stop();
  }
  if (store_) {
    store_->close();
  }
  if (load_retry_) {
    load_retry_->cancel();
  }
  admin_.stop();
  artifacts_.stop();
}

AdminSnapshot Scheduler::snapshot() const {
  AdminSnapshot s;
  s.members = core_.members();
  s.stats = core_.stats();
  s.counters = core_.counters();
  s.reconcile_phase = core_.reconcile_phase();
  s.persist_enabled = core_.config().persist;
  s.persist_writable = core_.can_persist();
  s.artifact_downloads = artifacts_.downloads();
  s.health = core_.last_health();
  s.framework_id = framework_id_;
  s.subscribed = core_.subscribed();
  const auto at = now();
  s.plan = core_.plan_reason();
  s.locked = core_.locked();
  s.total_loss = core_.total_loss();
  s.lock_reason = core_.lock_reason();
  s.partitioned = core_.partitioned();
  s.partition_reason = core_.partition_reason();
  s.livelocked = core_.livelocked();
  if (const auto since = core_.livelock_since()) {
    s.livelock_seconds = seconds(at - *since);
  }
  s.livelock_reason = core_.livelock_reason();
  s.auto_reseed = core_.config().auto_reseed;
  if (const auto reseed_at = core_.auto_reseed_at()) {
    s.reseed_in_seconds = std::max(0.0, seconds(*reseed_at - at));
  }
  s.reseed = core_.reseed_status();
  s.last_reseed = core_.last_reseed_outcome();
  s.restore = core_.restore_status();
  s.last_restore = core_.last_restore_outcome();
  s.reconcile = core_.reconcile_status();
  s.persistence = core_.persist_status();
  s.cluster_size = core_.cluster_size();
  s.resize_pending = core_.resize_pending();
  s.checks = checks_.items();
  s.events = events_.items();
  s.backup = backup_status(at);
  s.version = std::string(project_version());
  s.git_commit = std::string(git_commit());
  if (election_ && !election_->leading() && !mesos_) {
    s.role = "standby";
    s.leader = election_->leader_info().value_or("");
  }
  return s;
}

AdminActionResult Scheduler::on_admin_action(const AdminRequest& request) {
  if (request.action == AdminAction::kReseed) {
    if (auto why_not = core_.why_not_reseed(request.skip_silent)) {
      log()->warn("operator reseed refused: {}", *why_not);
      return {false, "reseed refused: " + *why_not};
    }
    std::string skipped;
    if (request.skip_silent) {
      for (const auto& name : core_.silent_members()) {
        skipped += (skipped.empty() ? "" : ", ") + name;
      }
      skipped = skipped.empty()
                    ? "; no member is silent now (any that is silent when asked is skipped)"
                    : "; skipping silent member(s) " + skipped +
                          " if they still do not answer: what only they hold is lost";
    }
    log()->warn("operator requested a reseed{}", request.skip_silent ? skipped : "");
    feed(core::OperatorReseed{request.skip_silent});
    return {true,
            "reseed started: " + core_.reseed_status() + skipped + "; follow it on GET /health"};
  }
  if (request.action == AdminAction::kBackup) {
    if (auto why_not = core_.why_not_backup()) {
      log()->warn("operator backup refused: {}", *why_not);
      return {false, "backup refused: " + *why_not};
    }
    feed(core::OperatorBackup{});
    const auto id = core_.backups().in_flight;
    return {true, "backup " + (id ? std::to_string(*id) : std::string("?")) + " started into " +
                      options_.backup_dir + "; follow it on GET /health (\"backup\")"};
  }
  if (request.action == AdminAction::kRestore) {
    if (auto bad = restore_uri_error(request.uri)) {
      return {false, "restore refused: " + *bad};
    }
    if (auto why_not = core_.why_not_restore()) {
      return {false, "restore refused: " + *why_not};
    }
    log()->warn("operator restore from '{}': a new cluster is bootstrapped from the snapshot",
                request.uri);
    feed(core::OperatorRestore{request.uri});
    return {true, "restoring from " + request.uri +
                      ": the first member of a new cluster fetches and restores the snapshot, "
                      "the others join once it runs; follow it on GET /health"};
  }
  if (request.action == AdminAction::kResize) {
    if (auto why_not = core_.why_not_resize(request.size)) {
      log()->warn("operator resize to {} refused: {}", request.size, *why_not);
      return {false, "resize refused: " + *why_not};
    }
    const std::size_t from = core_.cluster_size();
    log()->warn("operator set the cluster size to {} (was {})", request.size, from);
    feed(core::OperatorResize{request.size});
    std::string how = request.size > from   ? "growing one member at a time"
                      : request.size < from ? "shrinking one member at a time: each is removed "
                                              "from etcd, then its task is killed"
                                            : "the cluster already has that size";
    if (core_.resize_pending()) {
      how = "recording the size in ZooKeeper first; then " + how;
    }
    return {true, "cluster size " + std::to_string(request.size) + " (was " + std::to_string(from) +
                      "): " + how + "; follow it on GET /health"};
  }
  if (auto why_not = core_.why_not_unlock()) {
    return {false, "unlock refused: " + *why_not};
  }
  log()->warn("operator unlocked the scheduler: a new, empty cluster will be bootstrapped");
  feed(core::OperatorUnlock{});
  return {true, "unlocked: a new, empty cluster will be bootstrapped"};
}

// One line per change of the core's state and plan, so that the log tells
// the story of an incident without a line per tick.
void Scheduler::log_state_changes() {
  std::string state = "normal";
  if (core_.locked()) {
    state = "locked: " + core_.lock_reason();
  } else if (core_.restoring()) {
    state = core_.restore_status();
  } else if (core_.reseeding()) {
    state = core_.reseed_status();
  } else if (core_.livelocked()) {
    state = "livelocked: " + core_.livelock_reason();
  } else if (core_.partitioned()) {
    state = "partitioned from members: " + core_.partition_reason();
  }
  if (state != logged_state_) {
    if (core_.total_loss()) {
      note(spdlog::level::critical,
           "state: '" + logged_state_ + "' -> '" + state +
               "'. To recover: POST /restore?uri=URI with the URI of a backup or of an etcd "
               "snapshot (take one from the newest etcd-data directory of a member's sandbox), "
               "or POST /unlock to bootstrap a new empty cluster, as "
               "docs/incident-response.md describes");
    } else {
      note(spdlog::level::warn, "state: '" + logged_state_ + "' -> '" + state + "'");
    }
    if (!core_.last_reseed_outcome().empty()) {
      note(spdlog::level::info, "last reseed: " + core_.last_reseed_outcome());
    }
    logged_state_ = state;
  }
  if (core_.plan_reason() != logged_plan_) {
    note(spdlog::level::info, "plan: " + core_.plan_reason());
    logged_plan_ = core_.plan_reason();
  }
}

void Scheduler::note(spdlog::level::level_enum level, std::string text) {
  log()->log(level, "{}", text);
  remember(level, std::move(text));
}

void Scheduler::remember(spdlog::level::level_enum level, std::string text) {
  const auto name = spdlog::level::to_string_view(level);
  events_.push(EventRecord{time_.epoch_seconds(), std::string(name.data(), name.size()),
                           clip_text(std::move(text))});
}

// Changes to what runs and to etcd's membership; offers, acknowledgements,
// health checks and persistence are too many to show.
void Scheduler::note_effect(const core::Effect& effect) {
  if (const auto* launch = std::get_if<core::LaunchMember>(&effect)) {
    const auto& m = launch->spec.member;
    remember(spdlog::level::info, "launch " + m.name + " on " + m.host + " (agent " + m.agent_id +
                                      ", task " + m.task_id + ", cluster state " +
                                      launch->spec.cluster_state + ")");
  } else if (std::holds_alternative<core::AddEtcdMember>(effect)) {
    remember(spdlog::level::info, core::describe(effect));
  } else if (std::holds_alternative<core::KillTask>(effect) ||
             std::holds_alternative<core::RemoveEtcdMember>(effect) ||
             std::holds_alternative<core::ReseedOrder>(effect) ||
             std::holds_alternative<core::RecoverSpace>(effect) ||
             std::holds_alternative<core::ExitScheduler>(effect)) {
    remember(spdlog::level::warn, core::describe(effect));
  }
}

// Every status update but TASK_RUNNING goes to the log, reconciliation's
// answers included, so that a member's loss can be traced to the update
// that said so. The recent events show a member's task that changed state,
// or a task the scheduler does not run that ended; the repeats of
// reconciliation are left out.
void Scheduler::note_status(const core::StatusUpdate& update) {
  const bool running = update.state == TaskState::kRunning ||
                       update.state == TaskState::kStarting || update.state == TaskState::kStaging;
  if (update.state != TaskState::kRunning) {
    log()->log(running ? spdlog::level::info : spdlog::level::warn,
               "status {} {} agent {} reason={} message={}", update.task_id,
               to_string(update.state), update.agent_id,
               update.reason.empty() ? "-" : update.reason, update.message);
  }
  const auto& members = core_.members();
  const auto known = std::find_if(members.begin(), members.end(), [&](const core::Member& m) {
    return m.task_id == update.task_id;
  });
  if (known != members.end() ? known->state == update.state : running) {
    return;
  }
  std::string text = (known != members.end() ? known->name + " (task " : "task ") + update.task_id +
                     (known != members.end() ? ")" : "") + " is " +
                     std::string(to_string(update.state));
  if (!update.reason.empty()) {
    text += " (" + update.reason + ")";
  }
  if (!update.message.empty()) {
    text += ": " + update.message;
  }
  remember(running ? spdlog::level::info : spdlog::level::warn, std::move(text));
}

void Scheduler::note_admin(const AdminRequest& request, const AdminActionResult& result) {
  static constexpr std::array<std::string_view, 5> kNames{"reseed", "unlock", "backup", "restore",
                                                          "cluster-size"};
  const auto index = static_cast<std::size_t>(request.action);
  const std::string_view name = index < kNames.size() ? kNames[index] : "action";
  // The message says whether it was accepted ("reseed started: ...",
  // "backup refused: ...").
  remember(result.accepted ? spdlog::level::warn : spdlog::level::info,
           "operator POST /" + std::string(name) + ": " + result.message);
}

core::Millis Scheduler::now() const {
  return std::chrono::duration_cast<core::Millis>(time_.now() - started_);
}

void Scheduler::on_mesos_event(const mesos::Event& event) {
  if (const auto* sub = std::get_if<mesos::EventSubscribed>(&event)) {
    framework_id_ = sub->framework_id;
    note(spdlog::level::info, "subscribed as framework '" + framework_id_ + "'");
    feed(core::Subscribed{framework_id_});
  } else if (const auto* offers = std::get_if<mesos::EventOffers>(&event)) {
    core::OffersReceived received;
    for (const auto& offer : offers->offers) {
      received.offers.push_back(to_offer_view(offer, options_.framework_role));
    }
    feed(received);
  } else if (const auto* rescind = std::get_if<mesos::EventRescind>(&event)) {
    feed(core::OfferRescinded{rescind->offer_id});
  } else if (const auto* status = std::get_if<mesos::EventUpdate>(&event)) {
    const auto& s = status->status;
    core::StatusUpdate update{s.task_id, s.agent_id.value_or(""), s.state,
                              s.uuid,    s.message.value_or(""),  s.reason.value_or(""),
                              {}};
    Labels labels;
    for (const auto& label : s.labels) {
      labels.emplace_back(label.key, label.value);
    }
    // An executor's answer to a reseed order (codec/reseed.hpp).
    if (auto r = reseed_report_from(update.task_id, labels, update.message)) {
      update.reseed = core::ReseedReport{r->task_id, r->reseed_id,      r->action,    r->ok,
                                         r->message, r->data_untouched, r->raft_index};
    }
    if (!labels.empty()) {
      log()->info("{}", core::describe(core::Event{update}));
    }
    note_status(update);
    feed(update);
  } else if (const auto* message = std::get_if<mesos::EventMessage>(&event)) {
    on_executor_message(*message);
  } else if (const auto* failure = std::get_if<mesos::EventFailure>(&event);
             failure != nullptr && failure->agent_id && !failure->executor_id) {
    feed(core::AgentLost{*failure->agent_id});
  } else if (const auto* error = std::get_if<mesos::EventError>(&event)) {
    log()->error("the master sent ERROR: {}", error->message);
    feed(core::FrameworkError{error->message});
  }
}

void Scheduler::on_mesos_disconnected(const std::string& reason) {
  note(spdlog::level::warn, "lost the subscription: " + reason);
  feed(core::Disconnected{});
}

void Scheduler::feed(const core::Event& event) {
  if (stopped_) {
    return;
  }
  log()->debug("event: {}", core::describe(event));
  perform(core_.step(event, now()));
  log_state_changes();
}

void Scheduler::perform(const std::vector<core::Effect>& effects) {
  for (const auto& effect : effects) {
    if (std::holds_alternative<core::DeclineOffer>(effect)) {
      continue;  // batched below
    }
    log()->info("effect: {}", core::describe(effect));
    note_effect(effect);
    perform_one(effect);
  }
  for (auto& decline : batch_declines(effects)) {
    const auto refuse = decline.filters->refuse_seconds.value_or(0);
    if (decline.offer_ids.size() == 1) {
      log()->info("effect: decline offer '{}' (refuse {} s)", decline.offer_ids.front(), refuse);
    } else {
      log()->info("effect: decline {} offers in one call (refuse {} s)", decline.offer_ids.size(),
                  refuse);
    }
    call(std::move(decline));
  }
}

void Scheduler::perform_one(const core::Effect& effect) {
  std::visit(
      [this](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, core::LaunchMember>) {
          mesos::Operation launch;
          launch.launch_tasks = {make_task_info(e.spec, core_.config(), executor_template_)};
          call(mesos::CallAccept{
              {e.offer_id}, {launch}, mesos::Filters{options_.mesos_offer_refuse_seconds}});
        } else if constexpr (std::is_same_v<T, core::DeclineOffer>) {
          call(mesos::CallDecline{{e.offer_id}, mesos::Filters{e.refuse_seconds}});
        } else if constexpr (std::is_same_v<T, core::ReviveOffers>) {
          call(mesos::CallRevive{{options_.framework_role}});
        } else if constexpr (std::is_same_v<T, core::KillTask>) {
          call(mesos::CallKill{e.task_id,
                               e.agent_id.empty() ? std::nullopt : std::optional(e.agent_id),
                               std::nullopt});
        } else if constexpr (std::is_same_v<T, core::Acknowledge>) {
          call(mesos::CallAcknowledge{e.agent_id, e.task_id, e.uuid});
        } else if constexpr (std::is_same_v<T, core::Reconcile>) {
          mesos::CallReconcile reconcile;
          for (const auto& [task, agent] : e.tasks) {
            reconcile.tasks.push_back({task, agent.empty() ? std::nullopt : std::optional(agent)});
          }
          call(std::move(reconcile));
        } else if constexpr (std::is_same_v<T, core::CheckHealth>) {
          check_health(e);
        } else if constexpr (std::is_same_v<T, core::AddEtcdMember>) {
          add_member(e);
        } else if constexpr (std::is_same_v<T, core::RemoveEtcdMember>) {
          remove_member(e);
        } else if constexpr (std::is_same_v<T, core::QueryMemberStatus>) {
          query_statuses(e);
        } else if constexpr (std::is_same_v<T, core::ReseedOrder>) {
          send_reseed_order(e);
        } else if constexpr (std::is_same_v<T, core::RecoverSpace>) {
          asio::co_spawn(io_, run_space_step(e), asio::detached);
        } else if constexpr (std::is_same_v<T, core::TakeBackup>) {
          asio::co_spawn(io_, run_backup(e), asio::detached);
        } else if constexpr (std::is_same_v<T, core::PersistFrameworkId> ||
                             std::is_same_v<T, core::PersistClusterSize> ||
                             std::is_same_v<T, core::PersistTask> ||
                             std::is_same_v<T, core::ForgetTask>) {
          persist(e);
        } else if constexpr (std::is_same_v<T, core::ClearStore>) {
          clear_store();
        } else if constexpr (std::is_same_v<T, core::StopSubscribing>) {
          if (mesos_) {
            mesos_->stop();
          }
        } else if constexpr (std::is_same_v<T, core::ExitScheduler>) {
          fatal(e.reason);
        } else if constexpr (std::is_same_v<T, core::IssueCertificate>) {
          issue_certificate(e);
        } else if constexpr (std::is_same_v<T, core::RefuseCertificate>) {
          call(mesos::CallMessage{
              e.agent_id, e.executor_id,
              encode_tls_message(CertificateRefusalMessage{e.task_id, e.request_id, e.reason})});
        } else {
          static_assert(sizeof(T) == 0, "an effect the scheduler does not perform");
        }
      },
      effect);
}

// Fire and forget: the client sends calls in order and logs failures; the
// core learns about lost calls through reconciliation and timeouts.
void Scheduler::call(mesos::CallPayload payload) {
  mesos::Call c{std::nullopt, std::move(payload)};
  if (!mesos_) {
    log()->warn("{} call dropped: not talking to Mesos", mesos::type_name(c));
    return;
  }
  mesos_->send(std::move(c));
}

void Scheduler::check_health(const core::CheckHealth& check) {
  asio::co_spawn(io_, run_health_check(check), asio::detached);
}

void Scheduler::add_member(const core::AddEtcdMember& add) {
  asio::co_spawn(io_, run_member_add(add), asio::detached);
}

void Scheduler::remove_member(const core::RemoveEtcdMember& remove) {
  asio::co_spawn(io_, run_member_remove(remove), asio::detached);
}

// Only the scheduler can order a reseed step: the order is a framework
// message, which Mesos delivers from this framework's scheduler alone.
void Scheduler::send_reseed_order(const core::ReseedOrder& order) {
  call(mesos::CallMessage{order.agent_id, executor_id_for(order.task_id),
                          encode_reseed_order({order.action, order.reseed_id,
                                               static_cast<uint64_t>(order.lease.count())})});
}

// ------------------------------------------------------------------- TLS

// With a CA the scheduler signs member certificates and talks to etcd with a
// client certificate it issues itself (kept in memory only). Without one it
// says once what that leaves open.
Result<void> Scheduler::start_tls() {
  if (options_.etcd_ca_cert_file.empty()) {
    log()->warn(
        "no CA (--etcd-ca-cert-file): members serve clients and peers over plain HTTP without "
        "authentication; anyone who reaches a member's ports can read, change or reconfigure "
        "the cluster");
    return {};
  }
  auto authority =
      pki::Authority::load_files(options_.etcd_ca_cert_file, options_.etcd_ca_key_file);
  if (!authority) {
    return make_error("--etcd-ca-cert-file/--etcd-ca-key-file: " + authority.error().message);
  }
  authority_ = std::move(*authority);
  if (auto issued = renew_client_certificate(); !issued) {
    return issued.error();
  }
  log()->info("TLS: members get certificates of the CA in {}, valid {} h",
              options_.etcd_ca_cert_file, options_.etcd_cert_validity_hours);
  asio::co_spawn(io_, client_certificate_loop(), asio::detached);
  return {};
}

Result<void> Scheduler::renew_client_certificate() {
  const auto validity =
      std::chrono::duration_cast<std::chrono::seconds>(core_.config().certificate_validity);
  auto issued = authority_->issue("etcd-mesos-scheduler", {}, {}, validity, time_.system_now());
  if (!issued) {
    return make_error("cannot issue the scheduler's own etcd client certificate: " +
                      issued.error().message);
  }
  auto tls = io::TlsClient::make(
      io::TlsClientConfig{authority_->cert_pem(), issued->cert_pem, issued->key_pem});
  if (!tls) {
    return make_error("the scheduler's own etcd client certificate does not load: " +
                      tls.error().message);
  }
  etcd_tls_ = std::move(*tls);  // requests under way keep the one they started with
  return {};
}

// The scheduler's client certificate is renewed at two thirds of its
// lifetime, like the members' (a failure is tried again every minute).
asio::awaitable<void> Scheduler::client_certificate_loop() {
  Timer timer(io_.get_executor(), time_);
  auto wait = core_.config().certificate_validity * 2 / 3;
  while (!stopped_) {
    timer.expires_after(wait);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (stopped_) {
      co_return;
    }
    if (auto renewed = renew_client_certificate(); !renewed) {
      log()->error("{}", renewed.error().message);
      wait = std::min<core::Millis>(core_.config().certificate_validity / 10, core::Millis(60000));
      continue;
    }
    log()->info("renewed the scheduler's own etcd client certificate");
    wait = core_.config().certificate_validity * 2 / 3;
  }
}

// A framework message from an executor: a member's certificate request
// (codec/tls_message.hpp). Mesos names the sender; the core decides.
void Scheduler::on_executor_message(const mesos::EventMessage& message) {
  auto decoded = decode_tls_message(message.data);
  const auto* request = decoded ? std::get_if<CertificateRequestMessage>(&*decoded) : nullptr;
  if (request == nullptr) {
    log()->warn("message of {} bytes from executor '{}' on agent '{}' ignored: {}",
                message.data.size(), message.executor_id, message.agent_id,
                decoded ? "not a certificate request" : decoded.error().message);
    return;
  }
  core::CertificateRequested event;
  event.agent_id = message.agent_id;
  event.executor_id = message.executor_id;
  event.task_id = request->task_id;
  event.request_id = request->request_id;
  event.csr_pem = request->csr_pem;
  if (auto info = pki::read_request(request->csr_pem)) {
    event.common_name = info->common_name;
    event.ip_sans = info->ip_sans;
    event.dns_sans = info->dns_sans;
  } else {
    event.problem = "the certificate request does not read: " + info.error().message;
  }
  log()->info("{}", core::describe(core::Event{event}));
  feed(event);
}

void Scheduler::issue_certificate(const core::IssueCertificate& issue) {
  std::string answer;
  auto signed_pem =
      authority_
          ? authority_->sign(issue.csr_pem,
                             std::chrono::duration_cast<std::chrono::seconds>(issue.validity),
                             time_.system_now())
          : Result<std::string>(make_error("this scheduler has no CA"));
  if (signed_pem) {
    answer = encode_tls_message(CertificateGrantMessage{issue.task_id, issue.request_id,
                                                        *signed_pem, authority_->cert_pem()});
  } else {
    log()->error("signing the certificate of task '{}' failed: {}", issue.task_id,
                 signed_pem.error().message);
    answer = encode_tls_message(CertificateRefusalMessage{
        issue.task_id, issue.request_id, "signing failed: " + signed_pem.error().message});
  }
  call(mesos::CallMessage{issue.agent_id, issue.executor_id, std::move(answer)});
}

// Every member's maintenance status in parallel (it answers without quorum,
// reference etcd §12); the answer goes back to the core once all are in.
void Scheduler::query_statuses(const core::QueryMemberStatus& query) {
  struct Gather {
    uint64_t query_id = 0;
    std::vector<core::MemberHealth> answers;
    std::size_t pending = 0;
  };
  auto gather = std::make_shared<Gather>(Gather{
      query.query_id, std::vector<core::MemberHealth>(query.members.size()), query.members.size()});
  if (query.members.empty()) {
    feed(core::MemberStatuses{query.query_id, {}});
    return;
  }
  for (std::size_t i = 0; i < query.members.size(); ++i) {
    asio::co_spawn(io_, status_of(query.members[i]),
                   [this, gather, i, name = query.members[i].name](std::exception_ptr e,
                                                                   core::MemberHealth answer) {
                     if (e) {
                       answer = core::MemberHealth{name, false, 0, 0, 0, "internal error"};
                     }
                     gather->answers[i] = std::move(answer);
                     if (--gather->pending == 0) {
                       feed(core::MemberStatuses{gather->query_id, std::move(gather->answers)});
                     }
                   });
  }
}

asio::awaitable<core::MemberHealth> Scheduler::status_of(core::Member member) {
  core::MemberHealth answer;
  answer.name = member.name;
  auto endpoint = io::endpoint_from_url(member.client_url(), etcd_tls_);
  if (!endpoint) {
    answer.error = endpoint.error().message;
    co_return answer;
  }
  io::EtcdClient client(io_.get_executor(), *endpoint, kStatusQueryTimeout);
  auto status = co_await client.status();
  if (!status) {
    answer.error = status.error().message;
    co_return answer;
  }
  answer.reachable = true;
  answer.leader = status->leader;
  answer.raft_index = status->raft_index;
  answer.raft_term = status->raft_term;
  co_return answer;
}

asio::awaitable<void> Scheduler::run_health_check(core::CheckHealth check) {
  HealthCheckOptions health_options;
  health_options.time = &time_;
  health_options.tls = etcd_tls_;
  const double started_unix = time_.epoch_seconds();
  const auto started = time_.now();
  auto observed =
      co_await scheduler::observe_health(io_.get_executor(), check.members, health_options);
  // The timeline shows each check's own verdict (the core's judgement of
  // the same observations), also of a check the core no longer waits for.
  const auto verdict = core::judge_health(observed);
  checks_.push(CheckRecord{started_unix, verdict.healthy, clip_text(verdict.reason),
                           std::chrono::duration<double>(time_.now() - started).count()});
  feed(core::HealthObserved{check.check_id, std::move(observed)});
}

// etcd accepts membership changes through any member; ask each in turn until
// one answers.
asio::awaitable<void> Scheduler::run_member_add(core::AddEtcdMember add) {
  core::MemberAdded outcome;
  outcome.name = add.name;
  outcome.error = "no member to ask";
  for (const auto& url : add.client_urls) {
    auto client = etcd_client(url);
    if (!client) {
      outcome.error = client.error().message;
      continue;
    }
    // Built before co_await: GCC 12 rejects an initializer list inside it.
    std::vector<std::string> peer_urls{add.peer_url};
    auto added = co_await client->member_add(std::move(peer_urls));
    if (added) {
      outcome.ok = true;
      outcome.etcd_id = added->id;
      outcome.error.clear();
      break;
    }
    outcome.error = url + ": " + added.error().message;
  }
  if (!outcome.ok) {
    // Expected for a few seconds after a member joins: etcd refuses changes
    // until every voter has been connected for 5 s (strict reconfig check).
    log()->warn("etcd member add of '{}' failed: {}", add.name, outcome.error);
  }
  feed(outcome);
}

// One step of a NOSPACE recovery (scheduler_core_space.cpp); the answer goes
// back to the core, which sends the next step.
asio::awaitable<void> Scheduler::run_space_step(core::RecoverSpace step) {
  core::SpaceStepDone done{step.id, false, "no member to ask"};
  for (const auto& url : step.client_urls) {
    // Compaction and defragmentation rewrite the backend: they get longer.
    auto client = etcd_client(url, kEtcdMaintenanceTimeout);
    if (!client) {
      done.error = client.error().message;
      continue;
    }
    Result<void> result = make_error("nothing to do");
    if (step.step == core::RecoverSpace::Step::kCompact) {
      auto status = co_await client->status();
      if (!status) {
        result = status.error();
      } else {
        result = co_await client->compact(status->revision);
      }
    } else if (step.step == core::RecoverSpace::Step::kDefragment) {
      result = co_await client->defragment();
    } else {
      result = Result<void>{};
      for (uint64_t member : step.alarm_members) {
        if (auto disarmed = co_await client->disarm(member, "NOSPACE"); !disarmed) {
          result = disarmed.error();
          break;
        }
      }
    }
    if (result) {
      done.ok = true;
      done.error.clear();
      break;
    }
    done.error = url + ": " + result.error().message;
    if (step.step == core::RecoverSpace::Step::kDefragment) {
      break;  // the one member named: nobody else can do it
    }
  }
  if (!done.ok) {
    log()->warn("space recovery {}: {}", step.id, done.error);
  }
  if (!stopped_) {
    feed(done);
  }
}

// A backup (scheduler/backup.cpp); its answer goes back to the core, which
// counts it and schedules the next.
asio::awaitable<void> Scheduler::run_backup(core::TakeBackup order) {
  BackupSettings settings;
  settings.dir = options_.backup_dir;
  settings.keep = options_.backup_keep;
  settings.etcdctl_bin = options_.etcdctl_bin;
  auto tls = etcd_tls_;  // requests under way keep the certificate they started with
  const uint64_t id = order.id;
  core::BackupDone done;
  try {
    done = co_await take_backup(io_.get_executor(), std::move(order), std::move(settings),
                                std::move(tls), time_);
  } catch (const std::exception& e) {
    done = core::BackupDone{id, false, 0, 0, "", std::string("internal error: ") + e.what()};
  }
  if (done.ok) {
    log()->info("backup {} written: {}/{} (revision {}, {} bytes)", done.id, options_.backup_dir,
                done.file, done.revision, done.size_bytes);
  } else {
    log()->error("backup {} failed: {}", done.id, done.error);
  }
  if (!stopped_) {
    feed(done);
  }
}

BackupStatus Scheduler::backup_status(core::Millis at) const {
  const auto& b = core_.backups();
  BackupStatus s;
  s.enabled = b.enabled;
  s.dir = options_.backup_dir;
  s.in_progress = b.in_flight.has_value();
  if (b.last_success_at) {
    const auto age = std::chrono::duration<double>(at - *b.last_success_at);
    s.last_success_unix =
        std::chrono::duration<double>(time_.system_now().time_since_epoch()).count() - age.count();
  }
  s.last_size_bytes = b.last_size_bytes;
  s.last_revision = b.last_revision;
  s.last_file = b.last_file;
  s.successes = b.successes;
  s.failures = b.failures;
  s.last_error = b.last_failed ? b.last_error : "";
  if (const auto next = core_.next_backup_at()) {
    s.next_in_seconds = std::max(0.0, seconds(*next - at));
    if (*next <= at) {
      s.waiting = core_.why_not_backup().value_or("");
    }
  }
  return s;
}

asio::awaitable<void> Scheduler::run_member_remove(core::RemoveEtcdMember remove) {
  core::MemberRemoved outcome;
  outcome.etcd_id = remove.etcd_id;
  outcome.error = "no member to ask";
  for (const auto& url : remove.client_urls) {
    auto client = etcd_client(url);
    if (!client) {
      outcome.error = client.error().message;
      continue;
    }
    auto removed = co_await client->member_remove(remove.etcd_id);
    if (removed) {
      outcome.ok = true;
      outcome.error.clear();
      break;
    }
    outcome.error = url + ": " + removed.error().message;
  }
  if (!outcome.ok) {
    log()->warn("etcd member remove of {} failed: {}", remove.etcd_id, outcome.error);
  }
  feed(outcome);
}

asio::awaitable<void> Scheduler::tick_loop() {
  Timer timer(io_.get_executor(), time_);
  while (!stopped_) {
    timer.expires_after(kTickInterval);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (stopped_) {
      break;
    }
    perform(core_.tick(now()));
    log_state_changes();
  }
}

}  // namespace etcdmesos::scheduler
