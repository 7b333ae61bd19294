// Scenario scripts with golden output (in the manner of etcd raft's
// testdata/*.txt): a file is a list of commands, one per line; a command
// that prints something is followed by "----" and the expected output, up
// to the next blank line. '#' lines and blank lines are kept as they are.
//
//   offer a1 cpus=1 mem=512 disk=100 ports=31000-31010
//   effects
//   ----
//   launch etcd-1 on agent a1 ...
//
// run_script() executes a file against a fresh SchedulerCore and returns
// the file as it should read (expected outputs replaced by actual ones), so
// comparing the two is the test and writing it back is --rewrite.
//
// Commands (durations like 500ms, 30s, 5m):
//   config key=value...        before any event: cluster-size, launch-timeout,
//                              health-check-interval, reseed-timeout, auto-reseed,
//                              failed-agent-cooldown, membership-change-timeout,
//                              bootstrap-window, join-settle,
//                              persist=on (-zk-framework-persist: a store that
//                              answers every write at once, successfully)
//   subscribed [framework-id]  | disconnected
//   restart-scheduler          a new core; with persist=on it is fed Recovered
//                              from the store first (then: subscribed ...)
//   offer AGENT cpus= mem= disk= ports=B-E[,B-E] [id=] [host=]
//   offers AGENT,AGENT,... cpus= ...   one OFFERS event, an offer of each agent
//   rescind OFFER-ID           | agent-lost AGENT
//   status TASK-OR-MEMBER STATE [uuid=U | no-uuid] [reason=R] [message=M]
//   health healthy [unreachable=NAME,...]
//   health unhealthy [unreachable=NAME,...] [commits] REASON...
//                              (commits: a reachable member saw the cluster commit)
//   member-added NAME ok [id=N] | member-added NAME fail ERROR...
//   member-removed NAME|id=N ok | member-removed NAME|id=N fail ERROR...
//   statuses NAME=RAFT_INDEX|NAME=unreachable ...   (answers QueryMemberStatus)
//   reseed-report MEMBER fence ok INDEX [message...]   (the stopped data's commit index)
//   reseed-report MEMBER fence|seed fail [untouched] [message...]
//   reseed-report MEMBER seed ok [message...]
//                              (untouched: the executor changed nothing)
//   reseed [skip-silent] | unlock | restore URI   operator requests
//   tick DURATION              advances the clock, ticking once a second
//   bring-up N                 the usual path to N running members on agents
//                              a1..aN, as bring_up.txt shows it (effects dropped)
//   effects                    prints what the core asked for since the last
//   state                      prints the core's view (members, plan, flags)
#pragma once

#include <string>

namespace etcdmesos::scenario {

struct ScriptResult {
  std::string actual;  // the whole file with actual outputs
  std::string error;   // a malformed command (with its line number), or ""
};

ScriptResult run_script(const std::string& text);

}  // namespace etcdmesos::scenario
