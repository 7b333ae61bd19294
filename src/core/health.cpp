#include "core/health.hpp"

#include <algorithm>
#include <optional>

namespace etcdmesos::core {

namespace {

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    out += (out.empty() ? "" : "; ") + p;
  }
  return out;
}

MemberHealth summarise(const MemberObservation& m) {
  MemberHealth h;
  h.name = m.name;
  h.reachable = m.after.reachable;
  if (h.reachable) {
    h.leader = m.after.leader;
    h.raft_index = m.after.raft_index;
    h.raft_term = m.after.raft_term;
    h.error = join(m.after.errors);
    h.member_id = m.after.member_id;
    h.db_size = m.after.db_size;
  } else {
    h.error = m.after.error.empty() ? "no answer" : m.after.error;
  }
  return h;
}

std::optional<std::string> check_quorum(const HealthObservations& obs) {
  std::size_t known = std::max(obs.members.size(), obs.membership.size());
  if (known == 0) {
    return "no quorum: no members known";
  }
  auto reachable = static_cast<std::size_t>(
      std::count_if(obs.members.begin(), obs.members.end(),
                    [](const MemberObservation& m) { return m.after.reachable; }));
  if (reachable * 2 <= known) {
    return "no quorum: " + std::to_string(reachable) + " of " + std::to_string(known) +
           " members reachable";
  }
  return std::nullopt;
}

std::optional<std::string> check_leader(const HealthObservations& obs) {
  std::optional<uint64_t> leader;
  std::string first;
  for (const auto& m : obs.members) {
    if (!m.after.reachable) {
      continue;
    }
    if (m.after.leader == 0) {
      std::string why = m.after.errors.empty() ? "" : " (" + join(m.after.errors) + ")";
      return "no leader: " + m.name + " reports none" + why;
    }
    if (leader && *leader != m.after.leader) {
      return "leader disagreement: " + first + " follows " + std::to_string(*leader) + ", " +
             m.name + " follows " + std::to_string(m.after.leader);
    }
    leader = m.after.leader;
    first = m.name;
  }
  return std::nullopt;
}

std::optional<std::string> check_term(const HealthObservations& obs) {
  for (const auto& m : obs.members) {
    if (m.before.reachable && m.after.reachable && m.before.raft_term != m.after.raft_term) {
      return "raft term changed on " + m.name + ": " + std::to_string(m.before.raft_term) + " -> " +
             std::to_string(m.after.raft_term) + " (an election during the check)";
    }
  }
  return std::nullopt;
}

std::optional<std::string> check_progress(const HealthObservations& obs) {
  bool compared = false;
  for (const auto& m : obs.members) {
    if (!m.before.reachable || !m.after.reachable) {
      continue;
    }
    compared = true;
    if (m.after.raft_index > m.before.raft_index) {
      return std::nullopt;
    }
  }
  if (!compared) {
    return std::string("no progress: no member answered both before and after the probe");
  }
  return std::string("no progress: the commit index did not advance over the check");
}

// An alarm etcd raised, with the members it is on (by name where etcd's
// member list names them). NOSPACE first: it is the one the scheduler
// recovers from.
std::optional<std::string> check_alarms(const HealthObservations& obs) {
  for (const char* kind : {"NOSPACE", "CORRUPT"}) {
    std::string on;
    for (const auto& alarm : obs.alarms) {
      if (alarm.alarm != kind) {
        continue;
      }
      std::string who = std::to_string(alarm.member_id);
      for (const auto& m : obs.membership) {
        if (m.id == alarm.member_id && !m.name.empty()) {
          who = m.name;
        }
      }
      on += (on.empty() ? "" : ", ") + who;
    }
    if (!on.empty()) {
      return std::string(kind) + " alarm on " + on +
             (std::string_view(kind) == "NOSPACE"
                  ? ": a backend reached its quota, etcd refuses writes until space is recovered"
                  : ": etcd found its data inconsistent");
    }
  }
  return std::nullopt;
}

// The probe write went through, or a member that names a leader saw its
// commit index advance: a majority committed, reached or not.
bool commits(const HealthObservations& obs) {
  if (obs.probe_ok) {
    return true;
  }
  return std::any_of(obs.members.begin(), obs.members.end(), [](const MemberObservation& m) {
    return m.before.reachable && m.after.reachable && m.after.leader != 0 &&
           m.after.raft_index > m.before.raft_index;
  });
}

}  // namespace

std::vector<std::size_t> probe_order(const std::vector<StatusSample>& before) {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < before.size(); ++i) {
    if (before[i].reachable) {
      order.push_back(i);
    }
  }
  auto rank = [&](std::size_t i) {
    if (before[i].leader != 0 && before[i].member_id == before[i].leader) {
      return 0;
    }
    return before[i].leader != 0 ? 1 : 2;
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return rank(a) < rank(b); });
  return order;
}

HealthResult judge_health(const HealthObservations& observations) {
  HealthResult result;
  result.membership = observations.membership;
  for (const auto& m : observations.members) {
    result.members.push_back(summarise(m));
  }
  std::optional<std::string> reason = check_quorum(observations);
  if (!reason) {
    reason = check_leader(observations);
  }
  if (!reason) {
    reason = check_alarms(observations);
  }
  if (!reason && !observations.probe_ok) {
    reason = "probe write failed: " +
             (observations.probe_error.empty() ? "no answer" : observations.probe_error);
  }
  if (!reason) {
    reason = check_term(observations);
  }
  if (!reason) {
    reason = check_progress(observations);
  }
  result.commits = commits(observations);
  result.alarms = observations.alarms;
  result.healthy = !reason.has_value();
  result.reason = reason.value_or("");
  return result;
}

}  // namespace etcdmesos::core
