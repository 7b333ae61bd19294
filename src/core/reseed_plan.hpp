// Pure rules for quorum loss: when a health verdict means the cluster has
// lost its majority (livelock: etcd can change nothing, not even its own
// membership), and which surviving member should seed a new cluster.
#pragma once

#include "core/types.hpp"

#include <string>
#include <vector>

namespace etcdmesos::core {

// Whether `result` shows a cluster without a working majority: at most half
// of the known members answer ("no quorum"), or the members that answer name
// no leader ("no leader"). Any other reason (an election during the check,
// a slow probe) is not a livelock.
bool lacks_quorum(const HealthResult& result);

// The evidence a livelock needs besides the scheduler's own view (issue 9):
// a verdict of "no quorum" or "no leader" is a lost majority only when both
//  - what the checker reached cannot commit (`commits` false: no probe write
//    went through, no member that names a leader saw its index advance), and
//  - every member the checker could not reach is one Mesos does not report
//    running (`silent` empty: the members left in the core's list run as far
//    as Mesos knows; those it reported lost, unreachable or ended are gone
//    from it).
// Otherwise the scheduler, not the cluster, may be cut off: "partitioned".
struct MajorityEvidence {
  bool commits = false;
  std::vector<std::string> silent;  // names: running per Mesos, no answer
  // One line for the partitioned state, ending with the verdict's reason.
  std::string describe(const HealthResult& result) const;
};
MajorityEvidence majority_evidence(const HealthResult& result, const std::vector<Member>& members);

// Running members of `members` (names) that gave no answer in `statuses`:
// they may hold the highest raft index.
std::vector<std::string> unanswered_members(const std::vector<MemberHealth>& statuses,
                                            const std::vector<Member>& members);

// Reseed candidates, best first, as task ids: running members that answered
// the status query, highest raft index first, ties broken by launch order so
// the choice is deterministic. Members that did not answer cannot be seeds.
// etcd 3.4's status `raftIndex` is the member's commit index (its
// `raftAppliedIndex` trails it, and entries past the commit index are not
// reported at all); --force-new-cluster keeps exactly the entries up to the
// seed's commit index, so the highest commit index is the copy that keeps
// the most acknowledged writes.
std::vector<std::string> rank_seed_candidates(const std::vector<MemberHealth>& statuses,
                                              const std::vector<Member>& members);

}  // namespace etcdmesos::core
