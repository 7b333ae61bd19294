// Static bootstrap (issue 12): with no cluster yet, every member is launched
// at once with one initial cluster listing them all (--initial-cluster-state
// new), as etcd's own static bootstrap does, instead of growing one member
// at a time with etcd's 5-second wait before each join. Offers of distinct
// agents are held for up to Config::bootstrap_window; when fewer agents
// offered by its end, the first member bootstraps alone and the rest are
// added one at a time (the plan says so).
//
// Failures: before the launch (persist mode: while the records are written)
// the members go all together or not at all (abandon_launch). After it, a
// member that fails is the ordinary repair's business: with a majority of
// the initial members running the cluster forms, etcd lists the dead one,
// and the reconcile pass removes and replaces it; with the majority lost the
// livelock rule and the reseed apply (docs/architecture.md, "Growing a
// cluster"); with every member gone before one ran, the plan bootstraps again.
#include "core/scheduler_core.hpp"

#include <algorithm>

namespace etcdmesos::core {

void SchedulerCore::start_bootstrap(const std::vector<OfferView>* offers, std::vector<bool>* used,
                                    Millis now, Effects& out) {
  const std::size_t want = config_.cluster_size;
  if (offers != nullptr && used != nullptr) {
    hold_bootstrap_offers(*offers, *used, now);
  }
  if (!bootstrap_hold_ || bootstrap_hold_->placements.empty()) {
    bootstrap_hold_.reset();
    plan_reason_ += offers == nullptr ? ": waiting for an offer" : ": no offer fits";
    return;
  }
  const std::size_t have = bootstrap_hold_->placements.size();
  if (restore_) {
    // Every member of a static bootstrap would have to restore the same
    // snapshot: the restoring member starts alone, the others join it.
    const Placement first = bootstrap_hold_->placements.front();
    bootstrap_hold_->placements.erase(bootstrap_hold_->placements.begin());
    plan_reason_ = "bootstrap a new cluster from the snapshot " + restore_->uri + " (" +
                   restore_->why + "): its first member restores it alone";
    bootstrap_with({first}, now, out);
    release_bootstrap_hold(true, out);
    return;
  }
  if (have >= want) {
    auto placements = std::move(bootstrap_hold_->placements);
    bootstrap_hold_.reset();
    plan_reason_ = "bootstrap a new cluster of " + std::to_string(want) +
                   " members at once (static bootstrap)";
    bootstrap_with(placements, now, out);
    return;
  }
  if (now < bootstrap_hold_->until) {
    plan_reason_ = "bootstrap: holding offers of " + std::to_string(have) + " of " +
                   std::to_string(want) + " agents to launch every member at once (for " +
                   describe_duration(bootstrap_hold_->until - now) + " more)";
    return;
  }
  // Too few agents: today's one-at-a-time growth, from the first member.
  const Placement first = bootstrap_hold_->placements.front();
  bootstrap_hold_->placements.erase(bootstrap_hold_->placements.begin());
  plan_reason_ = "bootstrap: only " + std::to_string(have) + " of " + std::to_string(want) +
                 " agents offered" +
                 (config_.bootstrap_window > Millis{0}
                      ? " within " + describe_duration(config_.bootstrap_window)
                      : std::string()) +
                 "; falling back to one-at-a-time growth from the first member";
  bootstrap_with({first}, now, out);
  release_bootstrap_hold(true, out);
}

void SchedulerCore::hold_bootstrap_offers(const std::vector<OfferView>& offers,
                                          std::vector<bool>& used, Millis now) {
  if (!bootstrap_hold_) {
    bootstrap_hold_ = BootstrapHold{{}, now + config_.bootstrap_window};
  }
  auto& held = bootstrap_hold_->placements;
  const auto excluded = excluded_agents(now);
  const auto avoided = avoided_agents(now);
  // Agents where a member failed lately are taken last, as in choose_offer.
  for (const bool take_avoided : {false, true}) {
    for (std::size_t i = 0; i < offers.size() && held.size() < config_.cluster_size; ++i) {
      const auto& agent = offers[i].agent_id;
      if (used[i] || excluded.contains(agent) || avoided.contains(agent) != take_avoided) {
        continue;
      }
      const bool offer_taken = std::any_of(held.begin(), held.end(), [&](const Placement& p) {
        return p.offer_id == offers[i].offer_id;
      });
      const bool agent_taken = std::any_of(held.begin(), held.end(),
                                           [&](const Placement& p) { return p.agent_id == agent; });
      // One member per offer; with single_instance_per_agent one per agent.
      if (offer_taken || (config_.single_instance_per_agent && agent_taken)) {
        continue;
      }
      if (auto placement = placement_for(offers[i], config_)) {
        used[i] = true;
        held.push_back(std::move(*placement));
      }
    }
  }
}

void SchedulerCore::bootstrap_with(const std::vector<Placement>& placements, Millis now,
                                   Effects& out) {
  std::vector<Member> group;
  for (const auto& p : placements) {
    group.push_back(new_member(p));
  }
  // One token per cluster: two clusters bootstrapped from equal peer URLs
  // and token would get identical member ids.
  cluster_token_ = config_.framework_name + "-" + to_hex(rng_.next(), 16);
  departed_.clear();  // they belonged to a cluster that never ran
  const std::string initial = initial_cluster(group);
  for (std::size_t i = 0; i < group.size(); ++i) {
    if (config_.persist && group.size() > 1) {
      bootstrap_group_.push_back(group[i].task_id);
    }
    const std::string task_id = group[i].task_id;
    launch(std::move(group[i]), placements[i].offer_id, "new", initial, now, out,
           restore_ && group.size() == 1 ? restore_->uri : std::string());
    tracked_[task_id].bootstrap_peer = group.size() > 1;
  }
}

void SchedulerCore::release_bootstrap_hold(bool decline, Effects& out) {
  drop_bootstrap_offers([](const Placement&) { return true; }, decline, out);
  bootstrap_hold_.reset();
}

void SchedulerCore::drop_bootstrap_offers(const std::function<bool(const Placement&)>& gone,
                                          bool decline, Effects& out) {
  if (!bootstrap_hold_) {
    return;
  }
  std::erase_if(bootstrap_hold_->placements, [&](const Placement& p) {
    if (!gone(p)) {
      return false;
    }
    if (decline && subscribed_) {
      out.push_back(DeclineOffer{p.offer_id, refuse_seconds_now()});
    }
    return true;
  });
}

}  // namespace etcdmesos::core
