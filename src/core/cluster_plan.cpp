#include "core/cluster_plan.hpp"

#include "core/rng.hpp"

#include <algorithm>

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
  if (p.live >= p.desired) {
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
