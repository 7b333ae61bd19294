#include "core/executor_core.hpp"

#include "common/backoff.hpp"

#include <algorithm>

namespace etcdmesos::core {

namespace {

using Level = LogLine::Level;

void log(Level level, std::string text, std::vector<ExecutorEffect>& out) {
  out.push_back(LogLine{level, std::move(text)});
}

}  // namespace

const char* to_string(ExecutorPhase phase) {
  switch (phase) {
    case ExecutorPhase::kIdle:
      return "IDLE";
    case ExecutorPhase::kStarting:
      return "STARTING";
    case ExecutorPhase::kRunning:
      return "RUNNING";
    case ExecutorPhase::kKilling:
      return "KILLING";
    case ExecutorPhase::kDone:
      return "DONE";
    case ExecutorPhase::kExited:
      return "EXITED";
  }
  return "UNKNOWN";
}

ExecutorCore::ExecutorCore(ExecutorConfig config) : config_(config) {}

std::vector<ExecutorEffect> ExecutorCore::step(const ExecutorEvent& event, Millis now) {
  Effects out;
  std::visit([&](const auto& e) { on(e, now, out); }, event);
  return out;
}

std::optional<Millis> ExecutorCore::next_deadline() const {
  std::optional<Millis> next;
  auto consider = [&](std::optional<Millis> when) {
    if (when && (!next || *when < *next)) {
      next = when;
    }
  };
  if (phase_ == ExecutorPhase::kExited) {
    return std::nullopt;
  }
  if (etcd_running_ && !sigkill_sent_) {
    consider(kill_at_);
  }
  consider(exit_at_);
  consider(restart_at_);
  if (fence_ && !copy_ && !ended()) {
    consider(fence_->until);  // tick() ends only a live task's lease
  }
  if (!ended()) {
    consider(certificate_retry_at_);
    if (certificate_request_ == 0) {
      consider(renew_at_);
    }
  }
  return next;
}

std::vector<ExecutorEffect> ExecutorCore::tick(Millis now) {
  Effects out;
  if (phase_ == ExecutorPhase::kExited) {
    return out;
  }
  if (kill_at_ && now >= *kill_at_ && etcd_running_ && !sigkill_sent_) {
    sigkill_sent_ = true;
    log(Level::kWarn, "etcd outlived its grace period; sending SIGKILL", out);
    out.push_back(SignalEtcd{true, Millis(0)});
  }
  if (exit_at_ && now >= *exit_at_) {
    exit(agent_gone_ ? 1 : 0, exit_why_, out);
    return out;
  }
  if (restart_at_ && now >= *restart_at_) {
    restart_at_.reset();
    restart_now(now, out);
  }
  if (fence_ && !copy_ && now >= fence_->until && !ended()) {
    end_fence_lease(out);
  }
  certificate_tick(now, out);
  return out;
}

// ------------------------------------------------------------- the task

void ExecutorCore::on(const TaskLaunched& e, Millis now, Effects& out) {
  if (phase_ == ExecutorPhase::kExited) {
    return;  // nobody to tell
  }
  if (phase_ != ExecutorPhase::kIdle || shutting_down_) {
    log(Level::kWarn,
        "refusing task '" + e.task_id + "': this executor runs one task ('" + task_id_ + "')", out);
    out.push_back(SendUpdate{e.task_id, TaskState::kFailed,
                             "etcd-mesos-executor runs one task and already has '" + task_id_ + "'",
                             std::nullopt, std::nullopt, false});
    return;
  }
  task_id_ = e.task_id;
  kill_grace_ = e.kill_grace.value_or(config_.default_kill_grace);
  enter(ExecutorPhase::kStarting, out);
  if (!e.member) {
    finish(TaskState::kFailed, "bad task data: " + e.error, now, out);
    return;
  }
  member_name_ = e.member->name;
  client_ = e.member->client;
  tls_ = e.member->tls;
  if (e.member->restore) {
    send(TaskState::kStarting,
         "starting etcd member '" + member_name_ + "': restoring its snapshot", out);
    restoring_ = true;
    out.push_back(RestoreSnapshot{});
    return;
  }
  start_member(now, out);
}

void ExecutorCore::on(const SnapshotRestored& e, Millis now, Effects& out) {
  if (!restoring_ || ended()) {
    return;  // killed meanwhile: the task has ended already
  }
  restoring_ = false;
  if (!e.ok) {
    finish(TaskState::kFailed, "restoring the snapshot failed: " + e.message, now, out);
    return;
  }
  log(Level::kInfo, "snapshot restored for member '" + member_name_ + "': " + e.message, out);
  start_member(now, out);
}

void ExecutorCore::start_member(Millis now, Effects& out) {
  if (tls_) {
    send(TaskState::kStarting,
         "starting etcd member '" + member_name_ + "': asking the scheduler for its certificate",
         out);
    request_certificate(now, false, out);
    return;
  }
  send(TaskState::kStarting, "starting etcd member '" + member_name_ + "'", out);
  spawn(false, SpawnFor::kLaunch, out);
}

// ------------------------------------------------------- TLS certificates

void ExecutorCore::request_certificate(Millis now, bool renewal, Effects& out) {
  ++certificate_request_seq_;
  certificate_request_ = certificate_request_seq_;
  certificate_asked_ = now;
  certificate_retry_at_ = now + config_.certificate_retry;
  log(Level::kInfo,
      std::string(renewal ? "renewing" : "asking for") + " the member's certificate (request " +
          std::to_string(certificate_request_) + ")",
      out);
  out.push_back(RequestCertificate{certificate_request_});
}

void ExecutorCore::certificate_tick(Millis now, Effects& out) {
  if (ended()) {
    return;
  }
  if (certificate_request_ != 0 && certificate_retry_at_ && now >= *certificate_retry_at_) {
    if (!have_certificate_ && now - certificate_asked_ >= config_.certificate_wait) {
      certificate_request_ = 0;
      certificate_retry_at_.reset();
      finish(
          TaskState::kFailed,
          "no certificate from the scheduler within " + describe_duration(config_.certificate_wait),
          now, out);
      return;
    }
    // Unanswered (a framework message may be lost): the same request again.
    certificate_retry_at_ = now + config_.certificate_retry;
    out.push_back(RequestCertificate{certificate_request_});
    return;
  }
  if (certificate_request_ == 0 && renew_at_ && now >= *renew_at_) {
    renew_at_.reset();
    request_certificate(now, true, out);
  }
}

void ExecutorCore::on(const CertificateAnswered& e, Millis now, Effects& out) {
  if (ended() || certificate_request_ == 0 || e.request_id != certificate_request_) {
    return;  // a late answer to a request already answered or abandoned
  }
  certificate_request_ = 0;
  certificate_retry_at_.reset();
  if (!e.ok) {
    if (!have_certificate_) {
      finish(TaskState::kFailed, "no certificate for member '" + member_name_ + "': " + e.reason,
             now, out);
      return;
    }
    // etcd runs on the certificate it has; asking again later costs nothing.
    log(Level::kWarn, "renewing the certificate failed: " + e.reason, out);
    renew_at_ = now + config_.certificate_retry;
    return;
  }
  // Renewed at two thirds of its lifetime, so a scheduler that is away for
  // a while (a failover) leaves a third of it to try again; one with less
  // than a third left (a short validity, whose backdated start counts in
  // its lifetime) halfway to its end.
  const Millis renew_in = std::max({e.remaining - e.lifetime / 3, e.remaining / 2, Millis{1000}});
  renew_at_ = now + renew_in;
  if (have_certificate_) {
    log(Level::kInfo,
        "certificate renewed; etcd reads it on its next connections; next renewal in " +
            describe_duration(renew_in),
        out);
    return;
  }
  have_certificate_ = true;
  if (kill_requested_ || shutting_down_) {
    return;
  }
  spawn(false, SpawnFor::kLaunch, out);
}

void ExecutorCore::spawn(bool force_new_cluster, SpawnFor why, Effects& out) {
  ++generation_;
  etcd_running_ = true;
  sigkill_sent_ = false;
  kill_at_.reset();
  serving_since_.reset();
  spawn_for_ = why;
  out.emplace_back(SpawnEtcd{generation_, force_new_cluster});
}

void ExecutorCore::on(const EtcdSpawnFailed& e, Millis now, Effects& out) {
  if (e.generation != generation_ || !etcd_running_ || ended()) {
    return;
  }
  etcd_running_ = false;
  switch (spawn_for_) {
    case SpawnFor::kLaunch:
      finish(TaskState::kFailed, "cannot start etcd: " + e.error, now, out);
      return;
    case SpawnFor::kRestart:
      finish(TaskState::kFailed, restart_why_ + "; cannot restart it: " + e.error, now, out);
      return;
    case SpawnFor::kSeed: {
      const auto order = seed_report_ ? seed_report_->order : ReseedCommand{};
      seed_report_.reset();
      report_reseed(order, false, "cannot start etcd: " + e.error, false, 0, out);
      finish(TaskState::kFailed, "cannot restart etcd to seed: " + e.error, now, out);
      return;
    }
    case SpawnFor::kAfterFailedCopy:
      finish(TaskState::kFailed, "cannot restart etcd to seed: " + e.error, now, out);
      return;
    case SpawnFor::kAfterFence:
      finish(TaskState::kFailed, "cannot restart etcd after a fence: " + e.error, now, out);
      return;
  }
}

void ExecutorCore::on(const EtcdServing& e, Millis now, Effects& out) {
  if (!probe_ready(e.generation) || !etcd_running_) {
    return;
  }
  serving_since_ = now;
  const std::string serves = "etcd member '" + member_name_ + "' serves clients on " + client_;
  if (phase_ == ExecutorPhase::kStarting) {
    enter(ExecutorPhase::kRunning, out);
    send(TaskState::kRunning, serves, out, e.member_id);
    return;
  }
  if (seed_report_ && seed_report_->generation == e.generation) {
    const auto order = seed_report_->order;
    seed_report_.reset();
    report_reseed(
        order, true,
        serves + " as a new one-member cluster (raft index " + std::to_string(e.raft_index) + ")",
        false, 0, out);
    return;
  }
  send(TaskState::kRunning, serves + " again after restart " + std::to_string(restarts_done_), out,
       e.member_id);
}

// Alone decides what follows an exit: the terminal state (so that a KILL
// racing with a crash reports one terminal update), the fence, the seed's
// restart, or a restart in place.
void ExecutorCore::on(const EtcdExited& e, Millis now, Effects& out) {
  if (e.generation != generation_ || !etcd_running_) {
    return;
  }
  etcd_running_ = false;
  kill_at_.reset();
  sigkill_sent_ = false;
  log(Level::kInfo, "etcd member '" + member_name_ + "' " + e.description, out);
  if (phase_ == ExecutorPhase::kExited || phase_ == ExecutorPhase::kDone) {
    return;
  }
  if (kill_requested_) {
    finish(TaskState::kKilled, "etcd stopped: " + e.description, now, out);
    return;
  }
  if (fencing_) {
    reading_index_ = fencing_;
    fencing_.reset();
    out.push_back(ReadCommitIndex{});
    return;
  }
  if (seeding_) {
    copy_ = Copy{*seeding_, false};
    seeding_.reset();
    out.push_back(CopyData{copy_->order.reseed_id});
    return;
  }
  restart_after_exit(e, now, out);
}

std::string ExecutorCore::exit_message(const EtcdExited& e) const {
  return "etcd " + e.description +
         (e.last_log_line.empty() ? "" : "; its last log: " + e.last_log_line);
}

void ExecutorCore::restart_after_exit(const EtcdExited& e, Millis now, Effects& out) {
  if (seed_report_) {
    // Not untouched: etcd ran with --force-new-cluster on this data.
    report_reseed(seed_report_->order, false,
                  "etcd exited before serving as the seed: " + exit_message(e), false, 0, out);
    seed_report_.reset();
    forced_seed_failed_ = true;
  }
  if (!e.signaled && e.code == 0) {
    // etcd ends itself so when removed (reference etcd §8).
    finish(TaskState::kFailed,
           std::string("etcd exited with status 0: the member was removed from the cluster") +
               (e.logged_removed ? " (etcd logged so)" : "") +
               " (etcd ends itself then; its data directory must not be reused)",
           now, out);
    return;
  }
  const std::string why = exit_message(e);
  if (serving_since_ && now - *serving_since_ >= config_.restart_budget_reset_after) {
    restarts_done_ = 0;
  }
  // An etcd that never served is not restarted: its configuration is wrong.
  if (phase_ != ExecutorPhase::kRunning || restarts_done_ >= config_.restart_attempts) {
    const bool tried = phase_ == ExecutorPhase::kRunning && config_.restart_attempts > 0;
    finish(TaskState::kFailed,
           why + (tried ? "; gave up after " + std::to_string(restarts_done_) + " restart(s)" : ""),
           now, out);
    return;
  }
  ++restarts_done_;
  const auto pause =
      Backoff(config_.restart_backoff_initial, config_.restart_backoff_max).nth(restarts_done_);
  log(Level::kWarn,
      why + "; restarting etcd member '" + member_name_ + "' on its data directory in " +
          std::to_string(pause.count()) + " ms (restart " + std::to_string(restarts_done_) +
          " of " + std::to_string(config_.restart_attempts) + ")",
      out);
  restart_why_ = why;
  restart_at_ = now + pause;
}

void ExecutorCore::restart_now(Millis now, Effects& out) {
  if (ended()) {
    return;
  }
  if (kill_requested_) {
    finish(TaskState::kKilled, "killed while etcd was down (" + restart_why_ + ")", now, out);
    return;
  }
  spawn(false, SpawnFor::kRestart, out);
}

// ------------------------------------------------------------- reseeds

void ExecutorCore::on(const ReseedOrdered& e, Millis now, Effects& out) {
  const auto& order = e.order;
  log(Level::kWarn,
      "reseed " + std::to_string(order.reseed_id) + ": ordered to " + to_string(order.action) +
          " (task '" + task_id_ + "', phase " + to_string(phase_) + ")",
      out);
  if (fence_ && phase_ == ExecutorPhase::kRunning && !kill_requested_ && !seeding_ && !copy_) {
    if (order.action == ReseedAction::kFence) {
      fence_->until = now + order.lease;
      report_reseed(order, true,
                    "etcd stays stopped for " + std::to_string(order.lease.count()) +
                        " ms more; its data holds commit index " +
                        std::to_string(fence_->raft_index),
                    false, fence_->raft_index, out);
      return;
    }
    // A seed from the stopped data: copied aside first.
    copy_ = Copy{order, true};
    out.push_back(CopyData{order.reseed_id});
    return;
  }
  const bool serving = phase_ == ExecutorPhase::kRunning && etcd_running_ && !seeding_ &&
                       !leader_check_ && !fencing_ && !copy_;
  // A refusal changes nothing; it says so unless another seed is under way
  // (data_untouched()).
  if (!serving) {
    report_reseed(order, false,
                  "etcd is not serving (phase " + std::string(to_string(phase_)) + ")",
                  data_untouched(), 0, out);
    return;
  }
  if (seed_report_) {
    report_reseed(order, false,
                  "already seeding for reseed " + std::to_string(seed_report_->order.reseed_id),
                  data_untouched(), 0, out);
    return;
  }
  leader_check_ = order;
  out.push_back(AskEtcdStatus{});
}

// Before a seed or a fence stops etcd: one naming a leader means a majority
// serves again.
void ExecutorCore::on(const EtcdStatusAnswered& e, Millis now, Effects& out) {
  if (!leader_check_) {
    return;
  }
  const auto order = *leader_check_;
  leader_check_.reset();
  const bool fence = order.action == ReseedAction::kFence;
  if (phase_ != ExecutorPhase::kRunning || !etcd_running_) {
    report_reseed(order, false,
                  std::string(fence ? "etcd stopped serving before the fence"
                                    : "etcd stopped serving before the seed began") +
                      " (phase " + to_string(phase_) + ")",
                  data_untouched(), 0, out);
    return;
  }
  if (e.status && e.status->leader != 0 && config_.refuse_reseed_while_led) {
    // The scheduler ranked the members while the majority was lost; it is
    // back now: --force-new-cluster would fork a second cluster beside it,
    // and a fence would only weaken it.
    report_reseed(order, false,
                  "etcd names leader " + std::to_string(e.status->leader) +
                      ": a majority serves again; " + (fence ? "not fenced" : "not seeding"),
                  fence || data_untouched(), 0, out);
    return;
  }
  if (fence) {
    fencing_ = order;
    fencing_status_index_ =
        e.status ? std::optional<uint64_t>(e.status->raft_index) : std::optional<uint64_t>();
  } else {
    seeding_ = order;
  }
  stop_etcd(config_.reseed_stop_grace, false, now, out);
}

void ExecutorCore::on(const DataCopied& e, Millis now, Effects& out) {
  if (!copy_ || copy_->order.reseed_id != e.reseed_id) {
    return;
  }
  const auto copy = *copy_;
  copy_.reset();
  if (ended()) {
    return;
  }
  if (copy.fenced) {
    if (!e.ok) {
      // Nothing written: the fence holds on, the scheduler tries the next.
      report_reseed(copy.order, false, e.message, true, 0, out);
      if (fence_ && now >= fence_->until) {
        end_fence_lease(out);
      }
      return;
    }
    fence_.reset();
    seed_from_stopped_data(copy.order, e.message, out);
    return;
  }
  if (e.ok) {
    seed_from_stopped_data(copy.order, e.message, out);
    return;
  }
  // Nothing was written (a copy that does not fit is refused first, a
  // half-made one removed): etcd restarts as the member it was, and the
  // scheduler keeps it and tries the next candidate.
  report_reseed(copy.order, false, e.message, data_untouched(), 0, out);
  spawn(false, SpawnFor::kAfterFailedCopy, out);
}

// Starts etcd once with --force-new-cluster on the data copied aside.
void ExecutorCore::seed_from_stopped_data(const ReseedCommand& order, const std::string& copied,
                                          Effects& out) {
  log(Level::kWarn,
      "reseed " + std::to_string(order.reseed_id) + ": " + copied + "; etcd member '" +
          member_name_ + "' restarts as a new one-member cluster",
      out);
  spawn(true, SpawnFor::kSeed, out);
  seed_report_ = SeedReport{order, generation_};
}

void ExecutorCore::on(const CommitIndexRead& e, Millis now, Effects& out) {
  if (!reading_index_) {
    return;
  }
  const auto order = *reading_index_;
  reading_index_.reset();
  if (ended()) {
    return;
  }
  uint64_t index = 0;
  std::string source;
  if (e.index) {
    index = *e.index;
    source = "the last commit index in its WAL";
  } else if (fencing_status_index_) {
    index = *fencing_status_index_;
    source = "its status before the stop (" + e.error + ")";
  } else {
    // Nothing says what the data holds: no rankable copy. etcd runs again
    // as the member it was.
    report_reseed(order, false,
                  "etcd stopped, but neither its WAL nor its status says what it holds: " + e.error,
                  true, 0, out);
    spawn(false, SpawnFor::kAfterFence, out);
    return;
  }
  fence_ = Fence{index, now + order.lease};
  report_reseed(order, true,
                "etcd stopped for " + std::to_string(order.lease.count()) +
                    " ms unless renewed, seeded or killed; its data holds commit index " +
                    std::to_string(index) + " (" + source + ")",
                false, index, out);
}

void ExecutorCore::end_fence_lease(Effects& out) {
  fence_.reset();
  log(Level::kWarn,
      "the fence lease ended without a seed order: etcd member '" + member_name_ +
          "' restarts as it was",
      out);
  spawn(false, SpawnFor::kAfterFence, out);
}

// Whether etcd runs (or restarts) on data no reseed has changed, as the
// member of the cluster it was in: what a failed answer may claim. Not while
// another seed is under way — the scheduler would keep this member and seed
// a second one while this one becomes a one-member cluster — nor after a
// forced start that failed.
bool ExecutorCore::data_untouched() const {
  return !seeding_ && !seed_report_ && !forced_seed_failed_ && !leader_check_ && !fencing_ &&
         !copy_;
}

void ExecutorCore::report_reseed(const ReseedCommand& order, bool ok, const std::string& message,
                                 bool untouched, uint64_t raft_index, Effects& out) {
  const std::string head = "reseed " + std::to_string(order.reseed_id) + " " +
                           to_string(order.action) + " " + (ok ? "done" : "failed");
  log(ok ? Level::kInfo : Level::kError,
      head + ": " + message + (!ok && untouched ? " (data untouched)" : ""), out);
  if (phase_ != ExecutorPhase::kStarting && phase_ != ExecutorPhase::kRunning) {
    return;  // the task is ending: its terminal update tells the scheduler
  }
  // An update must carry the task's state: never claim RUNNING early.
  const auto state =
      phase_ == ExecutorPhase::kStarting ? TaskState::kStarting : TaskState::kRunning;
  ReseedAnswer answer{order, ok, !ok && untouched,
                      ok && order.action == ReseedAction::kFence ? raft_index : 0};
  out.push_back(SendUpdate{task_id_, state, head + ": " + message, std::nullopt, answer, false});
}

// ------------------------------------------------------------- the end

void ExecutorCore::on(const KillRequested& e, Millis now, Effects& out) {
  if (e.task_id != task_id_) {
    log(Level::kWarn, "KILL for unknown task '" + e.task_id + "' ignored", out);
    return;
  }
  if (ended()) {
    log(Level::kInfo, "KILL for task '" + e.task_id + "', which has ended already", out);
    return;
  }
  kill_task(e.grace.value_or(kill_grace_), now, out);
}

void ExecutorCore::kill_task(Millis grace, Millis now, Effects& out) {
  kill_requested_ = true;
  if (restoring_) {
    // etcd never started; the restore's answer is ignored when it comes.
    restoring_ = false;
    finish(TaskState::kKilled, "killed before etcd started (restoring its snapshot)", now, out);
    return;
  }
  if (tls_ && !have_certificate_ && !etcd_running_) {
    // Still waiting for the certificate: etcd never started.
    certificate_request_ = 0;
    certificate_retry_at_.reset();
    finish(TaskState::kKilled, "killed before etcd started (waiting for its certificate)", now,
           out);
    return;
  }
  if (restart_at_) {
    // etcd is down, waiting to restart.
    restart_at_.reset();
    finish(TaskState::kKilled, "killed while etcd was down (" + restart_why_ + ")", now, out);
    return;
  }
  if (fence_ && !copy_) {
    fence_.reset();
    finish(TaskState::kKilled, "killed while etcd was fenced", now, out);
    return;
  }
  if (!etcd_running_ && (copy_ || reading_index_)) {
    // Between a reseed's stop and its next start (the production shell
    // answers these at once; a shell that does not must not lose the kill).
    copy_.reset();
    reading_index_.reset();
    fence_.reset();
    finish(TaskState::kKilled, "killed while etcd was stopped for a reseed", now, out);
    return;
  }
  stop_etcd(grace, true, now, out);
}

// SIGTERM now, SIGKILL at the end of `grace`. for_kill: the task is ending
// (KILLING); otherwise etcd is stopped to be started again (reseed).
void ExecutorCore::stop_etcd(Millis grace, bool for_kill, Millis now, Effects& out) {
  if (!etcd_running_) {
    return;
  }
  if (for_kill) {
    enter(ExecutorPhase::kKilling, out);
  }
  const Millis when = now + grace;
  if (kill_at_ && *kill_at_ <= when) {
    return;  // already stopping, with a shorter grace
  }
  if (!kill_at_) {
    out.push_back(SignalEtcd{false, grace});
  }
  kill_at_ = when;
}

void ExecutorCore::finish(TaskState state, const std::string& message, Millis now, Effects& out) {
  if (ended()) {
    return;
  }
  enter(ExecutorPhase::kDone, out);
  out.push_back(SendUpdate{task_id_, state, message, std::nullopt, std::nullopt, true});
  if (agent_gone_) {
    exit(1, "task ended with no agent to tell", out);
    return;
  }
  exit_at(now + config_.terminal_ack_timeout,
          "the agent did not acknowledge the terminal update in time");
}

void ExecutorCore::on(const TerminalUnsent&, Millis, Effects& out) {
  if (phase_ == ExecutorPhase::kDone) {
    exit(agent_gone_ ? 1 : 0, "task ended with no agent to tell", out);
  }
}

void ExecutorCore::on(const TerminalAcknowledged&, Millis, Effects& out) {
  if (phase_ == ExecutorPhase::kDone) {
    exit(0, "the terminal update of task '" + task_id_ + "' was acknowledged", out);
  }
}

void ExecutorCore::on(const ShutdownRequested& e, Millis now, Effects& out) {
  if (shutting_down_ || phase_ == ExecutorPhase::kExited) {
    return;
  }
  shutting_down_ = true;
  log(Level::kInfo, "shutting down: " + e.why, out);
  exit_at(now + config_.shutdown_grace, "the shutdown grace period is over");
  if (phase_ == ExecutorPhase::kIdle) {
    exit(0, "shut down before any task was launched", out);
    return;
  }
  if (phase_ == ExecutorPhase::kDone) {
    return;  // waiting for the terminal update's acknowledgement
  }
  // Leave part of the grace period for TASK_KILLED and its acknowledgement.
  const Millis reserve = std::min<Millis>(Millis(1000), config_.shutdown_grace / 2);
  kill_task(std::min(kill_grace_, config_.shutdown_grace - reserve), now, out);
}

void ExecutorCore::on(const AgentGone& e, Millis now, Effects& out) {
  log(Level::kError, "lost the agent: " + e.reason, out);
  agent_gone_ = true;
  if (etcd_running_ && phase_ != ExecutorPhase::kDone && phase_ != ExecutorPhase::kExited) {
    kill_requested_ = true;
    stop_etcd(kill_grace_, true, now, out);  // its exit then finishes and exits
    return;
  }
  exit(1, "lost the agent", out);
}

void ExecutorCore::exit_at(Millis when, const std::string& why) {
  if (exit_at_ && *exit_at_ <= when) {
    return;
  }
  exit_at_ = when;
  exit_why_ = why;
}

void ExecutorCore::exit(int code, const std::string& why, Effects& out) {
  if (phase_ == ExecutorPhase::kExited) {
    return;
  }
  enter(ExecutorPhase::kExited, out);
  log(Level::kInfo, "executor done (" + why + "), exit code " + std::to_string(code), out);
  kill_at_.reset();
  exit_at_.reset();
  restart_at_.reset();
  if (etcd_running_) {
    // Only when the shutdown grace ran out before etcd ended.
    out.push_back(SignalEtcd{true, Millis(0)});
  }
  out.push_back(ExitExecutor{code, why});
}

void ExecutorCore::send(TaskState state, const std::string& message, Effects& out,
                        std::optional<uint64_t> member_id) {
  out.push_back(SendUpdate{task_id_, state, message, member_id, std::nullopt, false});
}

void ExecutorCore::enter(ExecutorPhase to, Effects& out) {
  if (to != phase_) {
    log(Level::kInfo, "task '" + task_id_ + "': " + to_string(phase_) + " -> " + to_string(to),
        out);
    phase_ = to;
  }
}

}  // namespace etcdmesos::core
