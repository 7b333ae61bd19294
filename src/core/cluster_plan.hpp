// The reconcile decision, in the manner of etcd-operator's reconcile: look at
// the picture of the cluster and pick at most one next step. Pure: the core
// builds the picture from what it last observed and performs the step.
//
// Order of precedence (each rule ends the pass):
//   1. every member that ever ran is gone            -> lock (data is lost)
//   2. a membership change is still in flight        -> wait
//   3. no member ever launched yet                   -> bootstrap a new cluster
//   4. a majority is lost (livelock)                 -> wait (etcd cannot change
//                                                       its membership; only a
//                                                       reseed or returning
//                                                       members end it)
//   4b. the scheduler sees no majority but the
//       evidence says one may serve (partitioned)    -> wait (no removal either:
//                                                       the members it cannot
//                                                       reach may be the ones
//                                                       that commit)
//   5. no health check started after the last change -> wait
//   6. etcd lists a member we do not run             -> remove it (before any add)
//   7. the cluster is above its size (an operator
//      shrank it): when the fresh check was healthy
//      and a majority stays reachable without it     -> remove one member from
//                                                       etcd (never the leader;
//                                                       an unreachable one
//                                                       first), then kill it
//   7b. the cluster has its full size                -> nothing to do
//   8. the fresh check was not healthy               -> wait
//   9. otherwise                                     -> grow by one member
#pragma once

#include "core/types.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace etcdmesos::core {

// Whether etcd's entry describes our member: the same name, or, for an added
// member that has not started yet (etcd lists it without a name), the same
// peer URL.
bool same_member(const EtcdMember& listed, const Member& member);

// A size the scheduler keeps a cluster at: 1, 3, 5, 7 or 9.
bool valid_cluster_size(std::size_t size);

// "etcd-12" -> 12; 0 for a name of another shape.
uint64_t member_number(const std::string& name);

// Members etcd lists that match none of `members`, ordered by id.
std::vector<EtcdMember> unknown_etcd_members(const std::vector<EtcdMember>& membership,
                                             const std::vector<Member>& members);

// Running members of `members` that `result` reports unreachable.
std::vector<std::string> unreachable_members(const HealthResult& result,
                                             const std::vector<Member>& members);

// "n1=http://h:p,n2=..." in the given order.
std::string initial_cluster(const std::vector<Member>& members);

// Client URLs of the members in TASK_RUNNING: whom to ask for a membership change.
std::vector<std::string> running_client_urls(const std::vector<Member>& members);

// The member a shrink takes out next (see plan rule 7).
struct ShrinkChoice {
  std::string task_id;
  std::string name;
  uint64_t etcd_id = 0;
};
struct ShrinkOptions {
  std::optional<ShrinkChoice> choice;
  std::string why_none;  // when there is no choice
};
// Whom to remove to shrink `members` by one, judged by a fresh check:
// members etcd lists (with an id) that ran, never the leader, those the
// check could not reach first, then the newest (highest number); and only
// if the members that stay keep a reachable majority among themselves.
ShrinkOptions shrink_choice(const std::vector<Member>& members, const HealthResult& fresh);

struct ClusterPicture {
  std::size_t desired = 0;
  std::size_t live = 0;                  // launched and not failed
  std::size_t survivors = 0;             // live members that reached TASK_RUNNING
  bool ever_ran = false;                 // some member reached TASK_RUNNING: etcd holds data
  bool change_in_flight = false;         // add, launch or remove not finished
  bool livelocked = false;               // the last judged check found no majority
  std::string livelock_reason;           // ... and why
  bool partitioned = false;              // no majority seen, but evidence of one
  std::string partition_reason;          // ... and which
  bool fresh_check = false;              // a check started after the last change answered
  bool fresh_healthy = false;            // ... and found the cluster healthy
  std::string fresh_reason;              // ... or why not
  std::vector<EtcdMember> unknown;       // from the fresh check's membership
  std::vector<std::string> unreachable;  // from the fresh check's member reports
  ShrinkOptions shrink;                  // above size, with a fresh check
};

enum class NextStep { kWait, kLock, kBootstrap, kRemove, kGrow, kShrink };
const char* to_string(NextStep step);

struct Plan {
  NextStep step = NextStep::kWait;
  uint64_t etcd_id = 0;   // kRemove, kShrink: whom
  std::string reason;     // one line, for logs and the admin interface
  std::string task_id{};  // kShrink: its task, killed once etcd removed it
};

Plan plan_next(const ClusterPicture& picture);

}  // namespace etcdmesos::core
