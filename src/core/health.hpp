// The health verdict for an etcd cluster, as a pure function of what the
// checker observed (no I/O here; src/io/etcd_health gathers the inputs).
//
// A check reads every member's maintenance status, writes a probe key,
// and reads every status again. The cluster is healthy when:
//  1. a majority of the known members answered (known = the larger of the
//     scheduler's member list and etcd's member list);
//  2. every member that answered names the same non-zero leader;
//  3. the probe write succeeded;
//  4. no member's raft term changed over the window (a rising term means
//     members keep losing their leader and holding elections);
//  5. the commit index advanced over the window (the probe write makes an
//     idle cluster show progress).
// The first rule that fails gives the reason; reasons start with a fixed
// phrase ("no quorum", "no leader", "leader disagreement", "probe write
// failed", "raft term changed", "no progress") followed by details.
//
// Independently of the verdict, HealthResult::commits says whether what the
// checker saw proves a committing majority: the probe write succeeded, or a
// reachable member that names a leader saw its commit index advance. A
// verdict of "no quorum" with commits set means the checker, not the
// cluster, is cut off (see reseed_plan.hpp).
#pragma once

#include "core/types.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace etcdmesos::core {

// One maintenance status read of one member.
struct StatusSample {
  bool reachable = false;  // answered within the timeout
  uint64_t member_id = 0;
  uint64_t leader = 0;  // 0 = none
  uint64_t raft_index = 0;
  uint64_t raft_term = 0;
  std::vector<std::string> errors;  // etcd's own "errors" (e.g. "etcdserver: no leader")
  std::string error;                // why it was unreachable
};

struct MemberObservation {
  std::string name;
  StatusSample before;
  StatusSample after;
};

struct HealthObservations {
  std::vector<MemberObservation> members;  // one per member the scheduler knows
  bool probe_ok = false;
  std::string probe_error;
  std::vector<EtcdMember> membership;  // etcd's member list; empty if it could not be read
};

HealthResult judge_health(const HealthObservations& observations);

// Whom the checker writes its probe through (and, with the second samples,
// reads the member list from), as indexes into the samples: the
// members that answered, the leader first, then those that name a leader
// (connected to a majority), then the rest. A write through a member that
// cannot commit takes the whole probe budget, so the first choice is the
// one that counts: a member cut off from the majority must not be tried
// before one that reaches it, or a committing majority goes unseen.
std::vector<std::size_t> probe_order(const std::vector<StatusSample>& before);

}  // namespace etcdmesos::core
