// Live resize (admin POST /cluster-size): the operator's size, recorded in
// the store before it takes effect, so that a restarted or standby scheduler
// keeps it. Growing is the reconcile pass's usual grow; shrinking is its
// rule 7 (cluster_plan.hpp): one member at a time, removed from etcd first
// and killed once etcd no longer lists it.
#include "core/scheduler_core.hpp"

namespace etcdmesos::core {

std::optional<std::string> SchedulerCore::why_not_resize(std::size_t size) const {
  if (!valid_cluster_size(size)) {
    return "the size must be 1, 3, 5, 7 or 9 (an even size tolerates no more failures than the "
           "odd size below it), not " +
           std::to_string(size);
  }
  if (config_.single_instance_per_agent && size > agents_known_.size()) {
    return "only " + std::to_string(agents_known_.size()) +
           " agent(s) have offered room for a member or run one, and each member needs an "
           "agent of its own: " +
           std::to_string(size) + " members would never all run";
  }
  if (config_.persist && !store_writable()) {
    return "the size cannot be recorded in ZooKeeper now (" + persist_status() +
           "); a size not recorded would be lost by the next scheduler";
  }
  return std::nullopt;
}

std::optional<std::size_t> SchedulerCore::resize_pending() const {
  if (pending_size_) {
    return pending_size_->size;
  }
  return std::nullopt;
}

void SchedulerCore::on(const OperatorResize& e, Millis now, Effects& out) {
  if (why_not_resize(e.size)) {
    return;  // the shell asked first; a refused size changes nothing
  }
  if (!config_.persist) {
    apply_cluster_size(e.size);
    return;
  }
  // The latest wish wins; a write in flight for an older one is answered
  // first and then this one is written.
  const bool in_flight = pending_size_ && pending_size_->in_flight;
  pending_size_ = PendingSize{e.size, in_flight, now};
  persist_cluster_size(now, out);
}

void SchedulerCore::on(const ClusterSizePersisted& e, Millis now, Effects& out) {
  if (!pending_size_) {
    return;
  }
  pending_size_->in_flight = false;
  if (e.ok && e.size == pending_size_->size) {
    apply_cluster_size(e.size);
    pending_size_.reset();
    return;
  }
  if (!e.ok) {
    pending_size_->retry_at = now + config_.persist_retry_interval;
  }
  persist_cluster_size(now, out);  // a newer wish, or the retry once due
}

void SchedulerCore::persist_cluster_size(Millis now, Effects& out) {
  if (!pending_size_ || pending_size_->in_flight || now < pending_size_->retry_at ||
      !store_writable()) {
    return;
  }
  pending_size_->in_flight = true;
  out.push_back(PersistClusterSize{pending_size_->size});
}

void SchedulerCore::apply_cluster_size(std::size_t size) {
  if (size == config_.cluster_size) {
    return;
  }
  config_.cluster_size = size;
  // Growing needs offers again, including those declined while complete.
  revive_due_ = revive_due_ || members_.size() < size;
}

}  // namespace etcdmesos::core
