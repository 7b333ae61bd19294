// The health verdict for an etcd cluster, as a pure function of what the
// checker observed (no I/O here; src/scheduler/etcd_health gathers the inputs and the
// core judges them on HealthObserved).
//
// A check reads every member's maintenance status, writes a probe key,
// and reads every status again. The cluster is healthy when:
//  1. a majority of the known members answered (known = the larger of the
//     scheduler's member list and etcd's member list);
//  2. every member that answered names the same non-zero leader;
//  3. etcd lists no alarm (NOSPACE: a backend reached its quota and the
//     cluster refuses writes; CORRUPT);
//  4. the probe write succeeded;
//  5. no member's raft term changed over the window (a rising term means
//     members keep losing their leader and holding elections);
//  6. the commit index advanced over the window (the probe write makes an
//     idle cluster show progress).
// The first rule that fails gives the reason; reasons start with a fixed
// phrase ("no quorum", "no leader", "leader disagreement", "NOSPACE alarm",
// "CORRUPT alarm", "probe write failed", "raft term changed", "no
// progress") followed by details.
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
#include <string_view>
#include <vector>

namespace etcdmesos::core {

// StatusSample, MemberObservation and HealthObservations are in types.hpp
// (the HealthObserved event carries them).
HealthResult judge_health(const HealthObservations& observations);

// The class of an unhealthy verdict's reason, one of kHealthFailureClasses
// (types.hpp): its fixed leading phrase ("no quorum" -> "no_quorum"), and
// "other" for a reason that starts with none of them.
const char* health_failure_class(std::string_view reason);

// The reason of a verdict whose only fault is a NOSPACE alarm: quorum and a
// leader are there, and space can be recovered (scheduler_core_space.cpp).
inline constexpr std::string_view kNoSpaceReason = "NOSPACE alarm";

// Whom the checker writes its probe through (and, with the second samples,
// reads the member list from), as indexes into the samples: the
// members that answered, the leader first, then those that name a leader
// (connected to a majority), then the rest. A write through a member that
// cannot commit takes the whole probe budget, so the first choice is the
// one that counts: a member cut off from the majority must not be tried
// before one that reaches it, or a committing majority goes unseen.
std::vector<std::size_t> probe_order(const std::vector<StatusSample>& before);

}  // namespace etcdmesos::core
