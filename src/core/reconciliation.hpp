// "Stay immutable until reconciled": which persisted tasks Mesos has answered
// about since the scheduler (re)subscribed, when to ask again, when to give up,
// and when the periodic implicit reconciliation is due.
//
// A scheduler that restarted, took over as leader, or re-subscribed after a
// master failover may hold a stale picture: tasks it persisted may have ended,
// and Mesos may not have told anyone yet. Until every persisted task has been
// heard from (any status update counts, TASK_LOST and TASK_UNKNOWN included:
// they are answers) the scheduler must launch and kill nothing.
//
// Rules:
// - start(): one explicit Reconcile for the tasks (when there are any) and one
//   implicit Reconcile (empty list). No tasks: in sync at once.
// - Silent tasks are asked about again (explicitly, only those) after
//   first_retry_after, then with the interval doubling up to
//   max_retry_interval. A master answers nothing for tasks on agents that have
//   not re-registered yet (until its --agent_reregister_timeout, 10 min by
//   default), so the defaults wait about 12.5 minutes in all.
// - When the wait after the last of max_retries retries passes with tasks
//   still silent, the phase is kFailed and failure_reason() says which; the
//   scheduler then exits non-zero. Nothing is due after that.
// - While subscribed (in sync or not), an implicit Reconcile is due every
//   implicit_interval after the last one.
//
// Pure: time is passed in; no clocks, no I/O. Not thread-safe.
#pragma once

#include "core/types.hpp"

#include <string>
#include <vector>

namespace etcdmesos::core {

struct ReconcileTask {
  std::string task_id;
  std::string agent_id;  // may be empty when unknown
  bool operator==(const ReconcileTask&) const = default;
};

struct ReconcileConfig {
  Millis first_retry_after{10000};
  Millis max_retry_interval{120000};
  int max_retries = 8;
  Millis implicit_interval{300000};  // 5 minutes
};

enum class ReconcilePhase {
  kIdle,     // not subscribed: nothing is asked, nothing is due
  kWaiting,  // asked; some persisted tasks not heard from yet
  kInSync,   // every persisted task heard from since start()
  kFailed,   // gave up; see failure_reason()
};
const char* to_string(ReconcilePhase phase);

class ReconcileTracker {
 public:
  explicit ReconcileTracker(ReconcileConfig config = {});

  // Subscribed (first time or again): forgets what was heard before and asks
  // about `tasks` (duplicates and tasks without an id are dropped) explicitly
  // and about everything implicitly.
  std::vector<Reconcile> start(const std::vector<ReconcileTask>& tasks, Millis now);
  // The subscription is gone: nothing is due until the next start().
  void stop();
  // A status update arrived for `task_id`. True when that task was still
  // silent (this answer may have brought the tracker in sync).
  bool heard(const std::string& task_id);
  // Explicit retries, the failure verdict, periodic implicit reconciliation.
  std::vector<Reconcile> tick(Millis now);

  ReconcilePhase phase() const { return phase_; }
  bool in_sync() const { return phase_ == ReconcilePhase::kInSync; }
  bool failed() const { return phase_ == ReconcilePhase::kFailed; }
  // Persisted tasks not heard from since start(), in the order given.
  const std::vector<ReconcileTask>& silent() const { return silent_; }
  // Persisted tasks heard from since start(), in the order heard.
  const std::vector<ReconcileTask>& heard_from() const { return heard_; }
  int retries() const { return retries_; }
  // Why the tracker gave up (empty unless failed()).
  const std::string& failure_reason() const { return failure_reason_; }
  // One line for logs and the admin interface.
  std::string describe() const;

 private:
  Millis retry_interval(int retry) const;
  void fail(Millis now);

  ReconcileConfig config_;
  ReconcilePhase phase_ = ReconcilePhase::kIdle;
  std::vector<ReconcileTask> silent_;
  std::vector<ReconcileTask> heard_;
  Millis started_{0};
  Millis next_retry_{0};
  Millis next_implicit_{0};
  int retries_ = 0;
  std::string failure_reason_;
};

}  // namespace etcdmesos::core
