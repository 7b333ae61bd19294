#include "core/reseed_plan.hpp"

#include "core/cluster_plan.hpp"

#include <algorithm>

namespace etcdmesos::core {

bool lacks_quorum(const HealthResult& result) {
  if (result.healthy) {
    return false;
  }
  return result.reason.starts_with("no quorum") || result.reason.starts_with("no leader");
}

std::string MajorityEvidence::describe(const HealthResult& result) const {
  std::string out;
  if (commits) {
    out = "the cluster commits (a reachable member saw its commit index advance)";
  }
  if (!silent.empty()) {
    std::string names;
    for (const auto& n : silent) {
      names += (names.empty() ? "" : ", ") + n;
    }
    out += (out.empty() ? "" : "; ") + names +
           " do not answer the scheduler but Mesos reports their tasks running";
  }
  return out + " (health check: " + result.reason + ")";
}

MajorityEvidence majority_evidence(const HealthResult& result, const std::vector<Member>& members) {
  return MajorityEvidence{result.commits, unreachable_members(result, members)};
}

std::vector<std::string> unanswered_members(const std::vector<MemberHealth>& statuses,
                                            const std::vector<Member>& members) {
  std::vector<std::string> names;
  for (const auto& m : members) {
    if (m.state != TaskState::kRunning) {
      continue;
    }
    const bool answered = std::any_of(statuses.begin(), statuses.end(), [&](const MemberHealth& s) {
      return s.name == m.name && s.reachable;
    });
    if (!answered) {
      names.push_back(m.name);
    }
  }
  return names;
}

std::vector<std::string> rank_seed_candidates(const std::vector<MemberHealth>& statuses,
                                              const std::vector<Member>& members) {
  struct Candidate {
    std::size_t launch_order = 0;
    uint64_t raft_index = 0;
    std::string task_id;
  };
  std::vector<Candidate> candidates;
  for (std::size_t i = 0; i < members.size(); ++i) {
    const Member& m = members[i];
    if (m.state != TaskState::kRunning) {
      continue;
    }
    auto answer = std::find_if(statuses.begin(), statuses.end(), [&](const MemberHealth& s) {
      return s.name == m.name && s.reachable;
    });
    if (answer != statuses.end()) {
      candidates.push_back(Candidate{i, answer->raft_index, m.task_id});
    }
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) {
                     if (a.raft_index != b.raft_index) {
                       return a.raft_index > b.raft_index;
                     }
                     return a.launch_order < b.launch_order;
                   });
  std::vector<std::string> ids;
  for (auto& c : candidates) {
    ids.push_back(std::move(c.task_id));
  }
  return ids;
}

}  // namespace etcdmesos::core
