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

// Reseed candidates, best first, as task ids: running members that answered
// the status query, highest raft index first (the most complete copy of the
// log), ties broken by launch order so the choice is deterministic. Members
// that did not answer cannot be seeds.
std::vector<std::string> rank_seed_candidates(const std::vector<MemberHealth>& statuses,
                                              const std::vector<Member>& members);

}  // namespace etcdmesos::core
