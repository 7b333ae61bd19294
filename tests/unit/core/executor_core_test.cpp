// The executor's decisions (core/executor_core.hpp), one rule per test, with
// time passed in: restarts and their backoff, the terminal update and the
// exit, KILL/SHUTDOWN/a lost agent, and the steps of a reseed's fence and
// seed with what each answer says about the data.
#include "core/executor_core.hpp"
#include "core_harness.hpp"

#include <gtest/gtest.h>

namespace etcdmesos::core {
namespace {

using namespace std::chrono_literals;
using Effects = std::vector<ExecutorEffect>;

template <class T>
std::vector<T> all(const Effects& effects) {
  return testing::only<T>(effects);
}

template <class T>
bool has(const Effects& effects) {
  return testing::count<T>(effects) > 0;
}

template <class T>
T only(const Effects& effects) {
  const auto found = all<T>(effects);
  EXPECT_EQ(found.size(), 1u);
  return found.empty() ? T{} : found.front();
}

class ExecutorCoreTest : public ::testing::Test {
 protected:
  ExecutorCoreTest() : core_(config()) {}

  static ExecutorConfig config() {
    ExecutorConfig c;
    c.default_kill_grace = 5s;
    c.shutdown_grace = 5s;
    c.terminal_ack_timeout = 30s;
    c.restart_attempts = 3;
    c.restart_backoff_initial = 1s;
    c.restart_backoff_max = 30s;
    c.restart_budget_reset_after = 10min;
    c.reseed_stop_grace = 10s;
    return c;
  }

  Effects step(const ExecutorEvent& e) { return core_.step(e, now_); }
  Effects advance(Millis by) {
    now_ += by;
    return core_.tick(now_);
  }

  // LAUNCH with good task data, etcd then serving.
  void run() {
    const auto launched =
        step(TaskLaunched{"t1", std::nullopt, TaskLaunched::Member{"m0", "h:2379"}, ""});
    ASSERT_EQ(only<SpawnEtcd>(launched).generation, 1u);
    serve();
    ASSERT_EQ(core_.phase(), ExecutorPhase::kRunning);
  }
  Effects serve(uint64_t index = 10) { return step(EtcdServing{core_.generation(), 42, index}); }
  Effects crash() {
    return step(EtcdExited{core_.generation(), false, 2, "exited with status 2", "panic", false});
  }
  Effects exit_by_signal() {
    return step(EtcdExited{core_.generation(), true, 15, "killed by signal 15", "", false});
  }
  // A reseed order whose leader check finds no leader; etcd then stops.
  Effects order_and_stop(ReseedCommand order, std::optional<uint64_t> status_index = 5) {
    EXPECT_TRUE(has<AskEtcdStatus>(step(ReseedOrdered{order})));
    std::optional<EtcdStatusAnswered::Status> status;
    if (status_index) {
      status = EtcdStatusAnswered::Status{0, *status_index};
    }
    const auto stopping = step(EtcdStatusAnswered{status});
    EXPECT_FALSE(only<SignalEtcd>(stopping).kill);
    EXPECT_EQ(core_.phase(), ExecutorPhase::kRunning);  // the task runs on
    return exit_by_signal();
  }
  void fence(uint64_t index = 30, Millis lease = 60s) {
    const auto stopped = order_and_stop({ReseedAction::kFence, 7, lease});
    ASSERT_TRUE(has<ReadCommitIndex>(stopped));
    const auto answer = only<SendUpdate>(step(CommitIndexRead{index, ""}));
    ASSERT_TRUE(answer.reseed && answer.reseed->ok);
    ASSERT_TRUE(core_.fenced());
  }

  ExecutorCore core_;
  Millis now_{1000000};
};

TEST_F(ExecutorCoreTest, LaunchReportsStartingThenRunningOnceEtcdServes) {
  const auto launched = step(TaskLaunched{"t1", 3s, TaskLaunched::Member{"m0", "h:2379"}, ""});
  const auto starting = only<SendUpdate>(launched);
  EXPECT_EQ(starting.state, TaskState::kStarting);
  EXPECT_EQ(starting.message, "starting etcd member 'm0'");
  EXPECT_FALSE(only<SpawnEtcd>(launched).force_new_cluster);
  EXPECT_TRUE(core_.probe_ready(1));
  const auto running = only<SendUpdate>(serve());
  EXPECT_EQ(running.state, TaskState::kRunning);
  EXPECT_EQ(running.etcd_member_id, 42u);
  EXPECT_EQ(running.message, "etcd member 'm0' serves clients on h:2379");
  // The kill policy's grace is the SIGTERM-to-SIGKILL time.
  EXPECT_EQ(only<SignalEtcd>(step(KillRequested{"t1", std::nullopt})).grace, 3s);
}

TEST_F(ExecutorCoreTest, BadTaskDataIsTaskFailedAndASecondLaunchIsRefused) {
  const auto failed = step(TaskLaunched{"t1", std::nullopt, std::nullopt, "no data"});
  EXPECT_FALSE(has<SpawnEtcd>(failed));
  const auto update = only<SendUpdate>(failed);
  EXPECT_EQ(update.state, TaskState::kFailed);
  EXPECT_EQ(update.message, "bad task data: no data");
  EXPECT_TRUE(update.terminal);
  const auto second =
      only<SendUpdate>(step(TaskLaunched{"t2", std::nullopt, TaskLaunched::Member{"m", "h"}, ""}));
  EXPECT_EQ(second.task_id, "t2");
  EXPECT_EQ(second.state, TaskState::kFailed);
  EXPECT_FALSE(second.terminal);  // of another task: ours awaits its acknowledgement
}

TEST_F(ExecutorCoreTest, TheExecutorExitsWhenTheTerminalUpdateIsAcknowledgedOrAfterAWait) {
  step(TaskLaunched{"t1", std::nullopt, std::nullopt, "no data"});
  EXPECT_EQ(core_.next_deadline(), now_ + 30s);
  EXPECT_FALSE(has<ExitExecutor>(advance(29s)));
  EXPECT_EQ(only<ExitExecutor>(advance(1s)).code, 0);
  EXPECT_EQ(core_.phase(), ExecutorPhase::kExited);

  ExecutorCore acked(config());
  acked.step(TaskLaunched{"t1", std::nullopt, std::nullopt, "no data"}, now_);
  EXPECT_EQ(only<ExitExecutor>(acked.step(TerminalAcknowledged{}, now_)).code, 0);
  EXPECT_EQ(acked.next_deadline(), std::nullopt);
}

TEST_F(ExecutorCoreTest, ATerminalUpdateThatCannotBeSentEndsTheExecutorAtOnce) {
  step(TaskLaunched{"t1", std::nullopt, std::nullopt, "no data"});
  EXPECT_EQ(only<ExitExecutor>(step(TerminalUnsent{})).code, 0);
}

TEST_F(ExecutorCoreTest, AnEtcdThatCannotBeSpawnedIsTaskFailed) {
  step(TaskLaunched{"t1", std::nullopt, TaskLaunched::Member{"m0", "h:2379"}, ""});
  const auto failed = only<SendUpdate>(step(EtcdSpawnFailed{1, "no such file"}));
  EXPECT_EQ(failed.state, TaskState::kFailed);
  EXPECT_EQ(failed.message, "cannot start etcd: no such file");
}

TEST_F(ExecutorCoreTest, ExitStatusZeroMeansRemovedAndIsNeverRestarted) {
  run();
  const auto exited = step(EtcdExited{1, false, 0, "exited with status 0", "", true});
  EXPECT_FALSE(has<SpawnEtcd>(exited));
  const auto failed = only<SendUpdate>(exited);
  EXPECT_EQ(failed.state, TaskState::kFailed);
  EXPECT_NE(failed.message.find("removed from the cluster (etcd logged so)"), std::string::npos);
  EXPECT_EQ(core_.next_deadline(), now_ + 30s);  // only the wait for the acknowledgement
}

TEST_F(ExecutorCoreTest, AnEtcdThatNeverServedIsNotRestarted) {
  step(TaskLaunched{"t1", std::nullopt, TaskLaunched::Member{"m0", "h:2379"}, ""});
  const auto failed = only<SendUpdate>(crash());
  EXPECT_EQ(failed.state, TaskState::kFailed);
  EXPECT_EQ(failed.message, "etcd exited with status 2; its last log: panic");
}

TEST_F(ExecutorCoreTest, ACrashIsRestartedAfterADoublingBackoffUntilTheBudgetIsSpent) {
  run();
  for (int restart = 1; restart <= 3; ++restart) {
    const auto crashed = crash();
    EXPECT_FALSE(has<SpawnEtcd>(crashed));
    EXPECT_FALSE(has<SendUpdate>(crashed));
    const Millis pause = Millis(1000) * (1 << (restart - 1));  // 1 s, 2 s, 4 s
    EXPECT_EQ(core_.next_deadline(), now_ + pause);
    EXPECT_FALSE(has<SpawnEtcd>(advance(pause - 1ms)));
    EXPECT_EQ(only<SpawnEtcd>(advance(1ms)).generation, static_cast<uint64_t>(restart + 1));
    const auto again = only<SendUpdate>(serve());
    EXPECT_EQ(again.message, "etcd member 'm0' serves clients on h:2379 again after restart " +
                                 std::to_string(restart));
  }
  const auto failed = only<SendUpdate>(crash());
  EXPECT_EQ(failed.state, TaskState::kFailed);
  EXPECT_EQ(failed.message,
            "etcd exited with status 2; its last log: panic; gave up after 3 "
            "restart(s)");
}

TEST_F(ExecutorCoreTest, TheRestartBudgetIsEarnedBackAfterServingLongEnough) {
  run();
  for (int i = 0; i < 3; ++i) {
    crash();
    advance(30s);
    serve();
  }
  advance(10min);
  crash();
  EXPECT_EQ(core_.restarts_done(), 1);
  EXPECT_EQ(core_.next_deadline(), now_ + 1s);  // the backoff starts again too
}

TEST_F(ExecutorCoreTest, KillSendsSigtermThenSigkillAfterTheGraceAndReportsKilled) {
  run();
  const auto stopping = step(KillRequested{"t1", 2s});
  EXPECT_FALSE(only<SignalEtcd>(stopping).kill);
  EXPECT_EQ(core_.phase(), ExecutorPhase::kKilling);
  EXPECT_FALSE(has<SignalEtcd>(advance(1999ms)));
  EXPECT_TRUE(only<SignalEtcd>(advance(1ms)).kill);
  EXPECT_FALSE(has<SignalEtcd>(advance(1s)));  // once
  const auto killed =
      only<SendUpdate>(step(EtcdExited{1, true, 9, "killed by signal 9", "", false}));
  EXPECT_EQ(killed.state, TaskState::kKilled);
  EXPECT_TRUE(killed.terminal);
  EXPECT_EQ(only<ExitExecutor>(step(TerminalAcknowledged{})).code, 0);
}

TEST_F(ExecutorCoreTest, AKillForAnotherTaskIsIgnored) {
  run();
  EXPECT_FALSE(has<SignalEtcd>(step(KillRequested{"t9", std::nullopt})));
  EXPECT_EQ(core_.phase(), ExecutorPhase::kRunning);
}

TEST_F(ExecutorCoreTest, AKillWhileEtcdWaitsToRestartIsTaskKilledAtOnce) {
  run();
  crash();
  const auto killed = only<SendUpdate>(step(KillRequested{"t1", std::nullopt}));
  EXPECT_EQ(killed.state, TaskState::kKilled);
  EXPECT_EQ(killed.message,
            "killed while etcd was down (etcd exited with status 2; its last log: panic)");
  EXPECT_FALSE(has<SpawnEtcd>(advance(1s)));
}

TEST_F(ExecutorCoreTest, ShutdownBeforeALaunchExitsAtOnce) {
  EXPECT_EQ(only<ExitExecutor>(step(ShutdownRequested{"SIGTERM"})).code, 0);
}

TEST_F(ExecutorCoreTest, ShutdownKeepsPartOfItsGraceForTheTerminalUpdateAndEndsWithin) {
  run();
  // 5 s of grace: etcd gets 4 s, one is kept for TASK_KILLED and its ack.
  EXPECT_EQ(only<SignalEtcd>(step(ShutdownRequested{"SHUTDOWN"})).grace, 4s);
  EXPECT_TRUE(only<SignalEtcd>(advance(4s)).kill);
  // etcd never ends: at the end of the grace the executor exits anyway.
  const auto ended = advance(1s);
  EXPECT_EQ(only<ExitExecutor>(ended).code, 0);
}

TEST_F(ExecutorCoreTest, ALostAgentStopsEtcdAndExitsWithFailure) {
  run();
  EXPECT_FALSE(only<SignalEtcd>(step(AgentGone{"connection refused"})).kill);
  const auto ended = step(EtcdExited{1, true, 15, "killed by signal 15", "", false});
  EXPECT_EQ(only<SendUpdate>(ended).state, TaskState::kKilled);
  EXPECT_EQ(only<ExitExecutor>(ended).code, 1);
}

TEST_F(ExecutorCoreTest, OrdersBeforeEtcdServesAreRefusedWithTheDataUntouched) {
  step(TaskLaunched{"t1", std::nullopt, TaskLaunched::Member{"m0", "h:2379"}, ""});
  const auto refused = only<SendUpdate>(step(ReseedOrdered{{ReseedAction::kSeed, 3, 0ms}}));
  EXPECT_EQ(refused.state, TaskState::kStarting);  // never RUNNING early
  ASSERT_TRUE(refused.reseed);
  EXPECT_FALSE(refused.reseed->ok);
  EXPECT_TRUE(refused.reseed->data_untouched);
  EXPECT_EQ(refused.message, "reseed 3 seed failed: etcd is not serving (phase STARTING)");
}

TEST_F(ExecutorCoreTest, ASeedIsRefusedWhileEtcdNamesALeader) {
  run();
  ASSERT_TRUE(has<AskEtcdStatus>(step(ReseedOrdered{{ReseedAction::kSeed, 3, 0ms}})));
  const auto answered = step(EtcdStatusAnswered{EtcdStatusAnswered::Status{17, 9}});
  EXPECT_FALSE(has<SignalEtcd>(answered));
  const auto refused = only<SendUpdate>(answered);
  ASSERT_TRUE(refused.reseed);
  EXPECT_FALSE(refused.reseed->ok);
  EXPECT_TRUE(refused.reseed->data_untouched);
  EXPECT_NE(refused.message.find("etcd names leader 17"), std::string::npos);
}

TEST_F(ExecutorCoreTest, ASeedStopsEtcdCopiesItsDataAndStartsItOnceWithForceNewCluster) {
  run();
  const auto stopped = order_and_stop({ReseedAction::kSeed, 3, 0ms});
  EXPECT_EQ(only<CopyData>(stopped).reseed_id, 3u);
  EXPECT_FALSE(has<SendUpdate>(stopped));
  const auto forced = only<SpawnEtcd>(step(DataCopied{3, true, "copied"}));
  EXPECT_TRUE(forced.force_new_cluster);
  const auto answer = only<SendUpdate>(serve(77));
  ASSERT_TRUE(answer.reseed);
  EXPECT_TRUE(answer.reseed->ok);
  EXPECT_EQ(answer.state, TaskState::kRunning);
  EXPECT_NE(answer.message.find("as a new one-member cluster (raft index 77)"), std::string::npos);
  // Later restarts go without --force-new-cluster.
  crash();
  EXPECT_FALSE(only<SpawnEtcd>(advance(1s)).force_new_cluster);
}

TEST_F(ExecutorCoreTest, ASeedWhoseCopyFailsRunsOnAsTheMemberItWas) {
  run();
  order_and_stop({ReseedAction::kSeed, 3, 0ms});
  const auto failed = step(DataCopied{3, false, "does not fit"});
  const auto answer = only<SendUpdate>(failed);
  ASSERT_TRUE(answer.reseed);
  EXPECT_FALSE(answer.reseed->ok);
  EXPECT_TRUE(answer.reseed->data_untouched);
  EXPECT_FALSE(only<SpawnEtcd>(failed).force_new_cluster);
}

TEST_F(ExecutorCoreTest, AfterAFailedForcedStartNoAnswerSaysTheDataIsUntouched) {
  run();
  order_and_stop({ReseedAction::kSeed, 3, 0ms});
  step(DataCopied{3, true, "copied"});
  const auto failed = only<SendUpdate>(crash());
  ASSERT_TRUE(failed.reseed);
  EXPECT_FALSE(failed.reseed->ok);
  EXPECT_FALSE(failed.reseed->data_untouched);  // --force-new-cluster ran on it
  advance(1s);
  serve();
  step(ReseedOrdered{{ReseedAction::kSeed, 4, 0ms}});
  const auto later = only<SendUpdate>(step(EtcdStatusAnswered{EtcdStatusAnswered::Status{3, 9}}));
  EXPECT_TRUE(later.reseed && !later.reseed->ok && !later.reseed->data_untouched);
}

TEST_F(ExecutorCoreTest, AnOrderDuringASeedIsRefusedWithoutSayingUntouched) {
  run();
  step(ReseedOrdered{{ReseedAction::kSeed, 3, 0ms}});
  const auto refused = only<SendUpdate>(step(ReseedOrdered{{ReseedAction::kSeed, 4, 0ms}}));
  EXPECT_TRUE(refused.reseed && !refused.reseed->ok && !refused.reseed->data_untouched);
}

TEST_F(ExecutorCoreTest, AFenceStopsEtcdAndAnswersWithTheCommitIndexOfItsData) {
  run();
  const auto stopped = order_and_stop({ReseedAction::kFence, 7, 60s});
  EXPECT_TRUE(has<ReadCommitIndex>(stopped));
  const auto answer = only<SendUpdate>(step(CommitIndexRead{31, ""}));
  ASSERT_TRUE(answer.reseed);
  EXPECT_TRUE(answer.reseed->ok);
  EXPECT_EQ(answer.reseed->raft_index, 31u);
  EXPECT_EQ(answer.state, TaskState::kRunning);
  EXPECT_EQ(core_.next_deadline(), now_ + 60s);
}

TEST_F(ExecutorCoreTest, AFenceFallsBackOnTheStatusIndexThenOnRunningAsBefore) {
  run();
  order_and_stop({ReseedAction::kFence, 7, 60s}, 12);
  const auto answer = only<SendUpdate>(step(CommitIndexRead{std::nullopt, "no WAL"}));
  EXPECT_EQ(answer.reseed->raft_index, 12u);

  ExecutorCore blind(config());
  blind.step(TaskLaunched{"t1", std::nullopt, TaskLaunched::Member{"m0", "h"}, ""}, now_);
  blind.step(EtcdServing{1, 42, 1}, now_);
  blind.step(ReseedOrdered{{ReseedAction::kFence, 7, 60s}}, now_);
  blind.step(EtcdStatusAnswered{std::nullopt}, now_);
  blind.step(EtcdExited{1, true, 15, "killed by signal 15", "", false}, now_);
  const auto unknown = blind.step(CommitIndexRead{std::nullopt, "no WAL"}, now_);
  const auto refused = only<SendUpdate>(unknown);
  EXPECT_TRUE(refused.reseed && !refused.reseed->ok && refused.reseed->data_untouched);
  EXPECT_FALSE(only<SpawnEtcd>(unknown).force_new_cluster);
}

TEST_F(ExecutorCoreTest, AFenceIsRefusedWhileEtcdNamesALeader) {
  run();
  step(ReseedOrdered{{ReseedAction::kFence, 7, 60s}});
  const auto refused = only<SendUpdate>(step(EtcdStatusAnswered{EtcdStatusAnswered::Status{3, 9}}));
  EXPECT_TRUE(refused.reseed && !refused.reseed->ok && refused.reseed->data_untouched);
  EXPECT_TRUE(core_.etcd_running());
}

TEST_F(ExecutorCoreTest, WhenTheLeaseEndsEtcdRunsAgainAsTheMemberItWasAndARenewalDefersIt) {
  run();
  fence(30, 60s);
  advance(50s);
  const auto renewed = only<SendUpdate>(step(ReseedOrdered{{ReseedAction::kFence, 8, 60s}}));
  EXPECT_TRUE(renewed.reseed && renewed.reseed->ok);
  EXPECT_EQ(renewed.reseed->raft_index, 30u);
  EXPECT_FALSE(has<SpawnEtcd>(advance(59s)));
  const auto restarted = only<SpawnEtcd>(advance(1s));
  EXPECT_FALSE(restarted.force_new_cluster);
  EXPECT_FALSE(core_.fenced());
}

TEST_F(ExecutorCoreTest, ASeedOrderToAFencedMemberStartsFromItsStoppedData) {
  run();
  fence();
  EXPECT_EQ(only<CopyData>(step(ReseedOrdered{{ReseedAction::kSeed, 9, 0ms}})).reseed_id, 9u);
  EXPECT_TRUE(only<SpawnEtcd>(step(DataCopied{9, true, "copied"})).force_new_cluster);
  EXPECT_FALSE(core_.fenced());
}

TEST_F(ExecutorCoreTest, AFencedSeedWhoseCopyFailsStaysFencedWithItsDataUntouched) {
  run();
  fence();
  step(ReseedOrdered{{ReseedAction::kSeed, 9, 0ms}});
  const auto failed = step(DataCopied{9, false, "does not fit"});
  EXPECT_FALSE(has<SpawnEtcd>(failed));
  const auto answer = only<SendUpdate>(failed);
  EXPECT_TRUE(answer.reseed && !answer.reseed->ok && answer.reseed->data_untouched);
  EXPECT_TRUE(core_.fenced());
}

TEST_F(ExecutorCoreTest, AKillWhileFencedIsTaskKilledAtOnce) {
  run();
  fence();
  const auto killed = only<SendUpdate>(step(KillRequested{"t1", std::nullopt}));
  EXPECT_EQ(killed.state, TaskState::kKilled);
  EXPECT_EQ(killed.message, "killed while etcd was fenced");
}

TEST_F(ExecutorCoreTest, EventsOfAnOlderEtcdAreIgnored) {
  run();
  crash();
  advance(1s);  // generation 2 runs
  EXPECT_TRUE(step(EtcdExited{1, false, 2, "exited with status 2", "", false}).empty());
  EXPECT_TRUE(step(EtcdServing{1, 42, 1}).empty());
  EXPECT_TRUE(core_.etcd_running());
}

// ---------------------------------------------------------------- restore

TaskLaunched restoring_launch(bool tls = false) {
  return TaskLaunched{"t1", std::nullopt, TaskLaunched::Member{"m0", "h:2379", tls, true}, ""};
}

TEST_F(ExecutorCoreTest, ARestoringTaskRestoresBeforeEtcdStarts) {
  const auto launched = step(restoring_launch());
  EXPECT_TRUE(has<RestoreSnapshot>(launched));
  EXPECT_FALSE(has<SpawnEtcd>(launched));
  EXPECT_EQ(only<SendUpdate>(launched).state, TaskState::kStarting);
  const auto restored = step(SnapshotRestored{true, "restored"});
  EXPECT_EQ(only<SpawnEtcd>(restored).generation, 1u);
  EXPECT_FALSE(only<SpawnEtcd>(restored).force_new_cluster);
  serve();
  EXPECT_EQ(core_.phase(), ExecutorPhase::kRunning);
}

TEST_F(ExecutorCoreTest, AFailedRestoreFailsTheTaskWithItsReasonAndNeverStartsEtcd) {
  step(restoring_launch());
  const auto failed = step(SnapshotRestored{false, "Error: expected sha256 [1 2], got [3 4]"});
  EXPECT_FALSE(has<SpawnEtcd>(failed));
  const auto update = only<SendUpdate>(failed);
  EXPECT_EQ(update.state, TaskState::kFailed);
  EXPECT_TRUE(update.terminal);
  EXPECT_NE(update.message.find("restoring the snapshot failed: Error: expected sha256"),
            std::string::npos)
      << update.message;
  EXPECT_FALSE(core_.etcd_running());
  EXPECT_EQ(core_.generation(), 0u);
}

TEST_F(ExecutorCoreTest, ARestoredMemberIsRestartedOnItsDataNotRestoredAgain) {
  step(restoring_launch());
  step(SnapshotRestored{true, "restored"});
  serve();
  crash();
  const auto restarted = advance(1s);
  EXPECT_TRUE(has<SpawnEtcd>(restarted));
  EXPECT_FALSE(has<RestoreSnapshot>(restarted));
}

TEST_F(ExecutorCoreTest, AKillWhileRestoringIsTaskKilledAndTheLateAnswerIsIgnored) {
  step(restoring_launch());
  const auto killed = only<SendUpdate>(step(KillRequested{"t1", std::nullopt}));
  EXPECT_EQ(killed.state, TaskState::kKilled);
  const auto late = step(SnapshotRestored{true, "restored"});
  EXPECT_FALSE(has<SpawnEtcd>(late));
  EXPECT_FALSE(has<SendUpdate>(late));
}

TEST_F(ExecutorCoreTest, WithTlsTheCertificateIsAskedAfterTheRestore) {
  const auto launched = step(restoring_launch(true));
  EXPECT_FALSE(has<RequestCertificate>(launched));
  const auto restored = step(SnapshotRestored{true, "restored"});
  EXPECT_TRUE(has<RequestCertificate>(restored));
  EXPECT_FALSE(has<SpawnEtcd>(restored));
}

TEST_F(ExecutorCoreTest, AnUnaskedRestoreAnswerIsIgnored) {
  run();
  EXPECT_TRUE(step(SnapshotRestored{true, "restored"}).empty());
}

}  // namespace
}  // namespace etcdmesos::core
