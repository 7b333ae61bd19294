// Restore (issue 14): a new cluster bootstrapped from an etcd snapshot
// instead of empty, at the first start (-restore-from, Config::restore_from)
// or when an operator leaves the total-loss lock with POST /restore.
//
// The restoring member is launched alone (start_bootstrap): every member of
// a static bootstrap would have to restore the same snapshot, and one that
// did not would start an empty cluster beside it. Its launch carries the
// URI; the executor restores the fetched file with a new cluster token (a
// new cluster ID) before etcd's first start. Once it ran, the others join
// it as in any growth.
//
// A restoring member that ends before it ever ran (a corrupt or truncated
// snapshot, a fetch that failed, its agent lost, no TASK_RUNNING in time)
// locks the core again as after a total loss, with the reason, and nothing
// more is launched: a bad snapshot changes nothing, and the operator can try
// another one. With persistence its record stays like a lost member's, so a
// scheduler restarted meanwhile locks as well; while it may still run, a
// restarted scheduler recovers its record and waits for it like any launch.
#include "core/scheduler_core.hpp"

namespace etcdmesos::core {

std::optional<std::string> SchedulerCore::why_not_restore() const {
  if (reseed_halt_ && !locked_) {
    return "the scheduler is locked because every seed candidate failed, not after a total "
           "loss: the members still hold the data, and a restore would throw it away. Fix the "
           "cause and POST /reseed to try again (" +
           *reseed_halt_ + ")";
  }
  if (!locked_) {
    return std::string(
        "the scheduler is not locked after a total loss: a restore would replace a cluster "
        "that may still hold data");
  }
  return std::nullopt;
}

std::string SchedulerCore::restore_status() const {
  if (!restore_) {
    return "";
  }
  for (const auto& m : members_) {
    auto it = tracked_.find(m.task_id);
    if (it != tracked_.end() && it->second.restore_uri == restore_->uri) {
      return "member " + m.name + " is restoring " + restore_->uri + " (" + restore_->why +
             "); the others join once it runs";
    }
  }
  return "restoring " + restore_->uri + " (" + restore_->why +
         ") at the next bootstrap: waiting for an offer";
}

void SchedulerCore::on(const OperatorRestore& e, Millis now, Effects& out) {
  if (why_not_restore() || e.uri.empty()) {
    return;
  }
  // The lost members' records stay until the restored member runs
  // (member_ran forgets them): a scheduler restarted before then recovers
  // them and the restoring member's own, and so never takes the store for
  // one without a cluster.
  leave_total_loss(now, true, out);
  restore_ = Restore{e.uri, "operator request"};
}

void SchedulerCore::restore_failed(const std::string& uri, const std::string& why) {
  last_restore_outcome_ = "restore from " + uri + " failed: " + why;
  lock(last_restore_outcome_ +
       "; nothing else was launched. Check the snapshot (etcdctl snapshot status FILE) and POST "
       "/restore?uri=URI with a good one, or POST /unlock for an empty cluster (see "
       "docs/incident-response.md)");
}

}  // namespace etcdmesos::core
