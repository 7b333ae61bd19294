#include "core/cluster_plan.hpp"

#include "core/rng.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

namespace etcdmesos::core {

bool same_member(const EtcdMember& listed, const Member& member) {
  if (!listed.name.empty()) {
    // A started member: its name says it. Its peer URL may be another's
    // too, when a replacement took the same agent and port (found by the
    // simulator, persist seed 11862682: a failed member stayed "listed"
    // through its replacement and every later launch named it, which etcd
    // refused: "member count is unequal").
    return listed.name == member.name;
  }
  const std::string url = member.peer_url();
  return std::find(listed.peer_urls.begin(), listed.peer_urls.end(), url) != listed.peer_urls.end();
}

std::vector<EtcdMember> unknown_etcd_members(const std::vector<EtcdMember>& membership,
                                             const std::vector<Member>& members) {
  std::vector<EtcdMember> unknown;
  for (const auto& listed : membership) {
    const bool ours = std::any_of(members.begin(), members.end(),
                                  [&](const Member& m) { return same_member(listed, m); });
    if (!ours) {
      unknown.push_back(listed);
    }
  }
  std::sort(unknown.begin(), unknown.end(),
            [](const EtcdMember& a, const EtcdMember& b) { return a.id < b.id; });
  return unknown;
}

std::vector<std::string> unreachable_members(const HealthResult& result,
                                             const std::vector<Member>& members) {
  std::vector<std::string> names;
  for (const auto& m : members) {
    if (m.state != TaskState::kRunning) {
      continue;
    }
    for (const auto& report : result.members) {
      if (report.name == m.name && !report.reachable) {
        names.push_back(m.name);
        break;
      }
    }
  }
  return names;
}

std::string initial_cluster(const std::vector<Member>& members) {
  std::string out;
  for (const auto& m : members) {
    if (!out.empty()) {
      out += ',';
    }
    out += m.name + "=" + m.peer_url();
  }
  return out;
}

std::vector<std::string> running_client_urls(const std::vector<Member>& members) {
  std::vector<std::string> urls;
  for (const auto& m : members) {
    if (m.state == TaskState::kRunning) {
      urls.push_back(m.client_url());
    }
  }
  return urls;
}

bool valid_cluster_size(std::size_t size) {
  return size >= 1 && size <= 9 && size % 2 == 1;
}

uint64_t member_number(const std::string& name) {
  const auto dash = name.rfind('-');
  if (dash == std::string::npos) {
    return 0;
  }
  uint64_t n = 0;
  const char* first = name.data() + dash + 1;
  const char* last = name.data() + name.size();
  auto [end, ec] = std::from_chars(first, last, n);
  return ec == std::errc{} && end == last ? n : 0;
}

ShrinkOptions shrink_choice(const std::vector<Member>& members, const HealthResult& fresh) {
  // Who leads: the leader id the reachable members report.
  std::map<uint64_t, int> votes;
  std::set<std::string> reachable;
  for (const auto& h : fresh.members) {
    if (h.reachable) {
      reachable.insert(h.name);
      if (h.leader != 0) {
        ++votes[h.leader];
      }
    }
  }
  uint64_t leader = 0;
  int most = 0;
  for (const auto& [id, n] : votes) {
    if (n > most) {
      leader = id;
      most = n;
    }
  }
  struct Candidate {
    ShrinkChoice choice;
    bool reachable = false;
    uint64_t number = 0;
  };
  std::vector<Candidate> candidates;
  for (const auto& m : members) {
    if (m.state != TaskState::kRunning) {
      continue;
    }
    auto listed = std::find_if(fresh.membership.begin(), fresh.membership.end(),
                               [&](const EtcdMember& l) { return same_member(l, m); });
    if (listed == fresh.membership.end() || listed->id == 0 || listed->id == leader) {
      continue;
    }
    candidates.push_back(Candidate{ShrinkChoice{m.task_id, m.name, listed->id},
                                   reachable.contains(m.name), member_number(m.name)});
  }
  if (candidates.empty()) {
    return ShrinkOptions{std::nullopt, "no running member other than the leader is listed by etcd"};
  }
  // Unreachable first, then the newest.
  const auto best = std::min_element(candidates.begin(), candidates.end(),
                                     [](const Candidate& a, const Candidate& b) {
                                       if (a.reachable != b.reachable) {
                                         return !a.reachable;
                                       }
                                       return a.number > b.number;
                                     });
  const std::size_t stay = members.size() - 1;
  const std::size_t reachable_stay =
      static_cast<std::size_t>(std::count_if(members.begin(), members.end(), [&](const Member& m) {
        return m.task_id != best->choice.task_id && reachable.contains(m.name);
      }));
  if (reachable_stay < stay / 2 + 1) {
    return ShrinkOptions{std::nullopt, "without " + best->choice.name + " only " +
                                           std::to_string(reachable_stay) + " of " +
                                           std::to_string(stay) +
                                           " remaining members would be reachable: no majority"};
  }
  return ShrinkOptions{best->choice, ""};
}

const char* to_string(NextStep step) {
  switch (step) {
    case NextStep::kWait:
      return "wait";
    case NextStep::kLock:
      return "lock";
    case NextStep::kBootstrap:
      return "bootstrap";
    case NextStep::kRemove:
      return "remove";
    case NextStep::kGrow:
      return "grow";
    case NextStep::kShrink:
      return "shrink";
  }
  return "?";
}

namespace {

Plan wait(std::string reason) {
  return Plan{NextStep::kWait, 0, std::move(reason)};
}

std::string count_of(const ClusterPicture& p) {
  return std::to_string(p.live) + " of " + std::to_string(p.desired) + " members";
}

}  // namespace

Plan plan_next(const ClusterPicture& p) {
  if (p.ever_ran && p.survivors == 0) {
    return Plan{NextStep::kLock, 0,
                "total loss: every member that held the cluster's data is lost; nothing is "
                "launched until an operator restores the data: POST /restore?uri=URI with a "
                "snapshot, or from a member's sandbox and POST /unlock (see "
                "docs/incident-response.md)"};
  }
  if (p.change_in_flight) {
    return wait("a membership change is in flight (" + count_of(p) + ")");
  }
  if (p.live == 0 && !p.ever_ran) {
    if (p.desired == 0) {
      return wait("cluster size is 0");
    }
    return Plan{NextStep::kBootstrap, 0, "bootstrap a new cluster"};
  }
  if (p.livelocked) {
    return wait("majority of members lost (livelock: " + p.livelock_reason +
                "); etcd can change nothing until members return or a reseed");
  }
  if (p.partitioned) {
    return wait("scheduler partitioned from members (" + p.partition_reason +
                "); nothing is removed, launched or reseeded until it sees a majority again or "
                "Mesos reports the silent members gone");
  }
  if (!p.fresh_check) {
    return wait("waiting for a health check that started after the last membership change");
  }
  if (!p.unknown.empty()) {
    const auto& u = p.unknown.front();
    return Plan{NextStep::kRemove, u.id,
                "etcd lists member " + to_hex(u.id, 16) +
                    (u.name.empty() ? std::string(" (unstarted)") : " (" + u.name + ")") +
                    " that is not running; removing it before any launch"};
  }
  if (p.live > p.desired) {
    if (!p.fresh_healthy) {
      return wait("cluster unhealthy (" + p.fresh_reason + "); not shrinking from " + count_of(p));
    }
    if (!p.shrink.choice) {
      return wait("above size with " + count_of(p) + ", but " + p.shrink.why_none);
    }
    const auto& c = *p.shrink.choice;
    return Plan{NextStep::kShrink, c.etcd_id,
                "shrink from " + count_of(p) + ": removing " + c.name + " from etcd", c.task_id};
  }
  if (p.live == p.desired) {
    return wait("cluster complete with " + count_of(p));
  }
  if (!p.fresh_healthy) {
    return wait("cluster unhealthy (" + p.fresh_reason + "); not growing");
  }
  if (!p.unreachable.empty()) {
    return wait("member " + p.unreachable.front() + " is unreachable; not growing");
  }
  return Plan{NextStep::kGrow, 0, "grow from " + count_of(p)};
}

}  // namespace etcdmesos::core
