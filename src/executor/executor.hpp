// The member side of etcd-mesos: the logic of etcd-mesos-executor, driven by
// the events of a MesosExecutor (reference mesos §15) and by the etcd process
// it supervises.
//
// One task per executor. LAUNCH decodes MemberTaskData from TaskInfo.data,
// starts etcd with its data in <sandbox>/etcd-data and its output in
// <sandbox>/etcd.stdout and etcd.stderr, reports TASK_STARTING, and
// TASK_RUNNING once etcd answers on its client URL (POST
// /v3/maintenance/status; an unready etcd accepts connections but never
// answers, and /health would write a raft entry, reference etcd §3, §7).
// KILL and SHUTDOWN stop etcd (SIGTERM, SIGKILL after the grace period) and
// report TASK_KILLED.
//
// etcd ending by itself: status 0 means it was removed from the cluster
// (reference etcd §8; its data directory is useless) and is TASK_FAILED at
// once. Any other exit of an etcd that has served is restarted on the same
// data directory, after a pause that doubles from restart_backoff_initial up
// to restart_backoff_max, at most etcd_restart_attempts times (the budget
// is earned back after restart_budget_reset_after of serving); then the
// task is TASK_FAILED with the exit status and etcd's last log line. An etcd
// that never served is not restarted: its configuration is what is wrong.
//
// Reseed orders arrive as framework messages (codec/reseed.hpp):
// "fence" asks etcd for its leader (one named: refused, a majority serves),
// stops it and keeps it stopped while the task runs on, and answers with the
// commit index its data holds (executor/wal_commit.hpp; the status before
// the stop if the WAL cannot be read). etcd restarts as the member it was
// when the lease in the order ends; another fence renews it, a kill ends
// the task. "seed" makes a copy of etcd-data in
// etcd-data.before-reseed-<id> and starts etcd once with --force-new-cluster
// (later restarts go without it): from the stopped data of a fenced member,
// or (an order to a running member) after the same leader check and a stop.
// Each is answered with a TASK_RUNNING update carrying the reseed labels,
// for "seed" once etcd serves again. A copy that would not leave a margin of
// free space is refused before anything is written (executor/data_copy.hpp);
// a fenced seed whose copy fails stays fenced, a running one starts etcd
// again as it was, and the failed answer, like a refused order's, says the
// data is untouched.
//
// After the terminal update is acknowledged, or a bounded wait for that,
// the executor is done and calls on_exit.
//
// The decisions above are core::ExecutorCore's (core/executor_core.hpp);
// this class performs its effects (the etcd process, the status requests,
// the copy, the WAL, the updates) and feeds it what happens.
//
// Threading: runs on the io_context of the executor given; not thread-safe.
// Errors: bad task data, a missing etcd binary or a failing etcd become
// TASK_FAILED updates, never a crash.
#pragma once

#include "common/time_source.hpp"
#include "core/executor_core.hpp"
#include "executor/data_copy.hpp"
#include "io/mesos_executor_client.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <sys/types.h>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace etcdmesos::executor {

struct ExecutorOptions {
  // Where etcd-data, etcd.stdout and etcd.stderr go; etcd runs there.
  std::filesystem::path sandbox;
  // The etcd program; a relative path is taken relative to the current
  // directory when the Executor is made.
  std::string etcd_bin = "/usr/bin/etcd";
  // etcd's environment before every ETCD_* variable is removed.
  std::map<std::string, std::string> environment;
  // KILL without a kill policy: SIGTERM, then SIGKILL after this long.
  std::chrono::milliseconds default_kill_grace = std::chrono::seconds(5);
  // MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: SHUTDOWN must end the executor
  // within this time, terminal update included.
  std::chrono::milliseconds shutdown_grace = std::chrono::seconds(5);
  // Readiness probe: one status request at a time, each with this timeout.
  std::chrono::milliseconds ready_poll_interval = std::chrono::milliseconds(200);
  // The clock of the core (restart backoff, kill and shutdown grace) and of
  // the readiness polls; must outlive the executor.
  TimeSource* time = &real_time();
  std::chrono::milliseconds ready_request_timeout = std::chrono::seconds(1);
  // How long to wait for the agent to acknowledge the terminal update.
  std::chrono::milliseconds terminal_ack_timeout = std::chrono::seconds(30);
  // Restarts in place of an etcd that exited unexpectedly (see above).
  int etcd_restart_attempts = 3;
  std::chrono::milliseconds restart_backoff_initial = std::chrono::seconds(1);
  std::chrono::milliseconds restart_backoff_max = std::chrono::seconds(30);
  std::chrono::milliseconds restart_budget_reset_after = std::chrono::minutes(10);
  // SIGTERM to SIGKILL when etcd is stopped to become a reseed's seed.
  std::chrono::milliseconds reseed_stop_grace = std::chrono::seconds(10);
  // Stands in for the free space on the sandbox's filesystem when set
  // (executor/data_copy.hpp).
  FreeSpace free_space_ForTest;
  // A seed order is refused while etcd names a leader (a majority serves
  // again). A lone test etcd always leads itself: the tests of the seed's
  // own steps turn this off.
  bool seed_only_without_leader_ForTest = true;
};

// The sandbox named by the agent: MESOS_SANDBOX, else MESOS_DIRECTORY, else
// the current directory.
std::filesystem::path sandbox_from(const std::map<std::string, std::string>& env);

// The etcd binary when --etcd-bin is not given: ./etcd in the sandbox when
// it exists (the scheduler ships one), else /usr/bin/etcd.
std::string default_etcd_bin(const std::filesystem::path& sandbox);

class Executor {
 public:
  // IDLE -> STARTING -> RUNNING -> KILLING -> DONE -> EXITED (core::to_string).
  using Phase = core::ExecutorPhase;

  // `mesos` must outlive the Executor. on_exit(code) is called once, from
  // the io_context, when the executor is done (0) or has lost its agent (1).
  Executor(boost::asio::any_io_executor ex, ExecutorOptions options, io::MesosExecutor& mesos,
           std::function<void(int exit_code)> on_exit);
  // Kills a still running etcd (SIGKILL) without reporting anything.
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Starts the Mesos client with this executor's callbacks.
  void start();
  // As the agent's SHUTDOWN (used for SIGTERM/SIGINT).
  void shutdown(const std::string& why);

  Phase phase() const;
  std::optional<pid_t> etcd_pid_ForTest() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace etcdmesos::executor
