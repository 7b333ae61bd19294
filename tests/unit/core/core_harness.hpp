// Drives a SchedulerCore with a fake clock (plain Millis values, no sleeps)
// and small builders for events, so tests read as scripts.
#pragma once

#include "core/scheduler_core.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace etcdmesos::core::testing {

using namespace std::chrono_literals;

// The effects of one kind, for either core's effect variant.
template <class T, class AnyEffect>
std::vector<T> only(const std::vector<AnyEffect>& effects) {
  std::vector<T> out;
  for (const auto& e : effects) {
    if (const auto* t = std::get_if<T>(&e)) {
      out.push_back(*t);
    }
  }
  return out;
}

template <class T, class AnyEffect>
std::size_t count(const std::vector<AnyEffect>& effects) {
  return only<T>(effects).size();
}

inline Config test_config() {
  Config c;
  c.framework_name = "etcd-test";
  c.cluster_size = 3;
  c.task_cpus = 1;
  c.task_mem_mb = 256;
  c.task_disk_mb = 1024;
  c.offer_refuse_seconds = 5;
  c.health_check_interval = 5000ms;
  c.health_check_timeout = 10000ms;
  c.launch_timeout = 60000ms;
  return c;
}

// test_config() with -zk-framework-persist.
inline Config persist_config() {
  Config c = test_config();
  c.persist = true;
  c.persist_retry_interval = 2000ms;
  c.reconcile_first_retry = 10000ms;
  c.reconcile_max_retry_interval = 20000ms;
  c.reconcile_max_retries = 2;
  c.zk_session_timeout = 4000ms;
  return c;
}

// An offer big enough for one member; agent "a<n>" on host 127.0.0.<n+1>.
inline OfferView offer(const std::string& offer_id, int agent,
                       std::vector<PortRange> ports = {{31000, 31009}}) {
  OfferView o;
  o.offer_id = offer_id;
  o.agent_id = "a" + std::to_string(agent);
  o.hostname = "127.0.0." + std::to_string(agent + 1);
  o.cpus = 2;
  o.mem_mb = 1024;
  o.disk_mb = 4096;
  o.ports = std::move(ports);
  return o;
}

inline StatusUpdate status(const std::string& task_id, const std::string& agent_id, TaskState state,
                           std::optional<std::string> uuid = std::nullopt) {
  StatusUpdate s;
  s.task_id = task_id;
  s.agent_id = agent_id;
  s.state = state;
  s.uuid = std::move(uuid);
  return s;
}

// etcd's view of our members, as a health check would report it.
inline EtcdMember listed(const Member& m, uint64_t id) {
  return EtcdMember{id, m.name, {m.peer_url()}, {m.client_url()}};
}

// The seed orders among `fx` (fence orders and their renewals left out).
inline std::vector<ReseedOrder> seed_orders(const std::vector<Effect>& fx) {
  auto orders = only<ReseedOrder>(fx);
  std::erase_if(orders, [](const ReseedOrder& o) { return o.action != ReseedAction::kSeed; });
  return orders;
}

// How many fence releases (a fence order whose lease ends at once) `fx` holds.
inline std::size_t releases(const std::vector<Effect>& fx) {
  auto orders = only<ReseedOrder>(fx);
  return static_cast<std::size_t>(std::count_if(orders.begin(), orders.end(), [](const auto& o) {
    return o.action == ReseedAction::kFence && o.lease == kFenceRelease;
  }));
}

class Harness {
 public:
  explicit Harness(Config config = test_config(), uint64_t seed = 42)
      : core(std::move(config), seed) {}

  std::vector<Effect> step(const Event& event) { return log(core.step(event, now)); }
  std::vector<Effect> advance(Millis by) {
    now += by;
    return log(core.tick(now));
  }
  std::vector<Effect> offers(std::vector<OfferView> list) {
    return step(OffersReceived{std::move(list)});
  }

  // Persist mode: answers every PersistTask in `fx` with success (as the
  // store would); returns `fx` followed by what the answers brought (a launch
  // held for its record). Without persistence `fx` unchanged.
  std::vector<Effect> acked(std::vector<Effect> fx) {
    std::vector<Effect> all = fx;
    for (const auto& e : fx) {
      if (const auto* p = std::get_if<PersistTask>(&e)) {
        auto more = step(TaskPersisted{p->member.task_id, false, true, ""});
        all.insert(all.end(), more.begin(), more.end());
      }
    }
    return all;
  }

  // Answers the in-flight check (from the last CheckHealth seen) with a
  // verdict listing every member the core knows, ids from `etcd_ids`.
  std::vector<Effect> answer_check(bool healthy, std::vector<EtcdMember> extra = {}) {
    HealthResult r;
    r.healthy = healthy;
    r.reason = healthy ? "" : "commit index did not advance";
    for (const auto& m : core.members()) {
      if (m.state == TaskState::kRunning) {
        r.members.push_back(MemberHealth{m.name, true, 1, 10, 2, ""});
      }
      r.membership.push_back(listed(m, etcd_id_of(m.name)));
    }
    for (auto& e : extra) {
      r.membership.push_back(std::move(e));
    }
    return step(HealthChecked{last_check_id, std::move(r)});
  }

  // Answers a status query, then every fence order that brings, each member
  // reporting the index it answered with (or its entry in `fenced_at`: what
  // its stopped data holds). Returns every effect on the way.
  std::vector<Effect> statuses_and_fences(const MemberStatuses& statuses,
                                          const std::map<std::string, uint64_t>& fenced_at = {}) {
    auto fx = step(statuses);
    std::vector<Effect> all = fx;
    for (const auto& e : fx) {
      const auto* order = std::get_if<ReseedOrder>(&e);
      if (order == nullptr || order->action != ReseedAction::kFence) {
        continue;
      }
      uint64_t index = 0;
      for (const auto& m : core.members()) {
        if (m.task_id != order->task_id) {
          continue;
        }
        for (const auto& s : statuses.members) {
          if (s.name == m.name) {
            index = s.raft_index;
          }
        }
        if (auto it = fenced_at.find(m.name); it != fenced_at.end()) {
          index = it->second;
        }
      }
      auto more = step(ReseedReport{order->task_id, order->reseed_id, ReseedAction::kFence, true,
                                    "fenced", false, index});
      all.insert(all.end(), more.begin(), more.end());
    }
    return all;
  }

  // Ticks until a CheckHealth is emitted (at most `limit` of fake time).
  std::vector<Effect> tick_until_check(Millis limit = 60000ms) {
    for (Millis waited{0}; waited <= limit; waited += 1000ms) {
      auto fx = advance(1000ms);
      if (count<CheckHealth>(fx) > 0) {
        return fx;
      }
    }
    return {};
  }

  // A deterministic etcd id per member name.
  static uint64_t etcd_id_of(const std::string& name) {
    uint64_t h = 1469598103934665603ULL;
    for (char c : name) {
      h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    }
    return h;
  }

  // A fresh uuid for a status update (16 raw bytes in Mesos; any string here).
  std::string next_uuid() { return "uuid-" + std::to_string(++uuids_); }

  std::vector<Effect> report(const Member& m, TaskState state) {
    return step(status(m.task_id, m.agent_id, state, next_uuid()));
  }

  // Subscribes and grows the cluster to `n` running members, one per agent
  // a1..an, each through the normal path; ends with a fresh healthy check.
  // Returns every effect emitted on the way.
  std::vector<Effect> bring_up(std::size_t n) {
    std::vector<Effect> all;
    auto keep = [&](std::vector<Effect> fx) {
      all.insert(all.end(), fx.begin(), fx.end());
      return fx;
    };
    if (!core.subscribed()) {
      keep(step(Subscribed{"fw-1"}));
    }
    for (std::size_t k = 1; k <= n; ++k) {
      const int agent = static_cast<int>(k);
      const std::string offer_id = "o" + std::to_string(k);
      std::vector<Effect> launched;
      if (core.members().empty()) {
        launched = keep(acked(offers({offer(offer_id, agent)})));
      } else {
        // With Config::join_settle, wait out etcd's 5-second rule first.
        auto settled =
            keep(core.config().join_settle > Millis{0} ? advance(core.config().join_settle)
                                                       : std::vector<Effect>{});
        if (count<CheckHealth>(settled) == 0) {
          keep(tick_until_check());
        }
        keep(answer_check(true));
        auto fx = keep(offers({offer(offer_id, agent)}));
        auto adds = only<AddEtcdMember>(fx);
        if (adds.size() != 1) {
          return all;
        }
        launched = keep(acked(step(MemberAdded{adds[0].name, true, etcd_id_of(adds[0].name), ""})));
      }
      auto launches = only<LaunchMember>(launched);
      if (launches.size() != 1) {
        return all;
      }
      keep(report(launches[0].spec.member, TaskState::kRunning));
    }
    keep(tick_until_check());
    keep(answer_check(true));
    return all;
  }

  const Member* member(const std::string& name) const {
    for (const auto& m : core.members()) {
      if (m.name == name) {
        return &m;
      }
    }
    return nullptr;
  }

  SchedulerCore core;
  Millis now{1000000};
  uint64_t last_check_id = 0;
  std::vector<Effect> history;

 private:
  uint64_t uuids_ = 0;

  std::vector<Effect> log(std::vector<Effect> fx) {
    for (const auto& e : fx) {
      if (const auto* c = std::get_if<CheckHealth>(&e)) {
        last_check_id = c->check_id;
      }
      history.push_back(e);
    }
    return fx;
  }
};

}  // namespace etcdmesos::core::testing
