#include "core/reconciliation.hpp"

#include <algorithm>
#include <set>

namespace etcdmesos::core {

namespace {

// How many silent tasks a failure message names; the count says the rest.
constexpr std::size_t kTasksNamedInFailure = 10;

Reconcile explicit_reconcile(const std::vector<ReconcileTask>& tasks) {
  Reconcile r;
  for (const auto& t : tasks) {
    r.tasks.emplace_back(t.task_id, t.agent_id);
  }
  return r;
}

}  // namespace

const char* to_string(ReconcilePhase phase) {
  switch (phase) {
    case ReconcilePhase::kIdle:
      return "IDLE";
    case ReconcilePhase::kWaiting:
      return "WAITING";
    case ReconcilePhase::kInSync:
      return "IN_SYNC";
    case ReconcilePhase::kFailed:
      return "FAILED";
  }
  return "UNKNOWN";
}

ReconcileTracker::ReconcileTracker(ReconcileConfig config) : config_(config) {}

std::vector<Reconcile> ReconcileTracker::start(const std::vector<ReconcileTask>& tasks,
                                               Millis now) {
  silent_.clear();
  heard_.clear();
  failure_reason_.clear();
  retries_ = 0;
  std::set<std::string> seen;
  for (const auto& t : tasks) {
    if (!t.task_id.empty() && seen.insert(t.task_id).second) {
      silent_.push_back(t);
    }
  }
  started_ = now;
  next_retry_ = now + retry_interval(0);
  next_implicit_ = now + config_.implicit_interval;
  std::vector<Reconcile> out;
  if (!silent_.empty()) {
    out.push_back(explicit_reconcile(silent_));
  }
  out.push_back(Reconcile{});  // implicit: also reports tasks nobody persisted
  phase_ = silent_.empty() ? ReconcilePhase::kInSync : ReconcilePhase::kWaiting;
  return out;
}

void ReconcileTracker::stop() {
  // A failure verdict stands: the scheduler is about to exit on it.
  if (phase_ != ReconcilePhase::kFailed) {
    phase_ = ReconcilePhase::kIdle;
  }
}

bool ReconcileTracker::heard(const std::string& task_id) {
  if (phase_ != ReconcilePhase::kWaiting) {
    return false;
  }
  auto it = std::find_if(silent_.begin(), silent_.end(),
                         [&](const ReconcileTask& t) { return t.task_id == task_id; });
  if (it == silent_.end()) {
    return false;
  }
  heard_.push_back(*it);
  silent_.erase(it);
  if (silent_.empty()) {
    phase_ = ReconcilePhase::kInSync;
  }
  return true;
}

std::vector<Reconcile> ReconcileTracker::tick(Millis now) {
  std::vector<Reconcile> out;
  if (phase_ == ReconcilePhase::kWaiting && now >= next_retry_) {
    if (retries_ >= config_.max_retries) {
      fail(now);
      return out;
    }
    ++retries_;
    next_retry_ = now + retry_interval(retries_);
    out.push_back(explicit_reconcile(silent_));
  }
  const bool subscribed = phase_ == ReconcilePhase::kWaiting || phase_ == ReconcilePhase::kInSync;
  if (subscribed && now >= next_implicit_) {
    next_implicit_ = now + config_.implicit_interval;
    out.push_back(Reconcile{});
  }
  return out;
}

Millis ReconcileTracker::retry_interval(int retry) const {
  Millis interval = config_.first_retry_after;
  for (int i = 0; i < retry && interval < config_.max_retry_interval; ++i) {
    interval *= 2;
  }
  return std::min(interval, config_.max_retry_interval);
}

void ReconcileTracker::fail(Millis now) {
  phase_ = ReconcilePhase::kFailed;
  std::string names;
  for (std::size_t i = 0; i < silent_.size() && i < kTasksNamedInFailure; ++i) {
    names += (i == 0 ? "" : ", ") + std::string("'") + silent_[i].task_id + "'";
    if (!silent_[i].agent_id.empty()) {
      names += " on agent '" + silent_[i].agent_id + "'";
    }
  }
  if (silent_.size() > kTasksNamedInFailure) {
    names += " and " + std::to_string(silent_.size() - kTasksNamedInFailure) + " more";
  }
  failure_reason_ = "Mesos did not answer about " + std::to_string(silent_.size()) +
                    " persisted task(s) within " + describe_duration(now - started_) + " and " +
                    std::to_string(retries_) + " explicit reconciliation retries: " + names;
}

std::string ReconcileTracker::describe() const {
  switch (phase_) {
    case ReconcilePhase::kIdle:
      return "not reconciling (not subscribed)";
    case ReconcilePhase::kWaiting:
      return "waiting for Mesos to answer about " + std::to_string(silent_.size()) + " of " +
             std::to_string(silent_.size() + heard_.size()) + " persisted task(s) (retry " +
             std::to_string(retries_) + " of " + std::to_string(config_.max_retries) + ")";
    case ReconcilePhase::kInSync:
      return "in sync with Mesos (" + std::to_string(heard_.size()) + " persisted task(s) heard)";
    case ReconcilePhase::kFailed:
      return "reconciliation failed: " + failure_reason_;
  }
  return "";
}

}  // namespace etcdmesos::core
