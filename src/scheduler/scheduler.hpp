// The scheduler process: drives the pure SchedulerCore with real I/O.
//
// Mesos events, etcd results and a periodic tick become core events; every
// effect the core returns is performed here (Mesos calls, etcd membership
// changes, health checks) and its outcome is fed back as another event. No
// decision is taken in this file.
//
// Threading: everything runs on the one io_context given; not thread-safe.
#pragma once

#include "codec/mesos.hpp"
#include "common/error.hpp"
#include "common/time_source.hpp"
#include "core/scheduler_core.hpp"
#include "io/etcd_client.hpp"
#include "io/framework_store.hpp"
#include "io/leader_election.hpp"
#include "io/master_detector.hpp"
#include "io/mesos_scheduler_client.hpp"
#include "io/tls.hpp"
#include "io/zk.hpp"
#include "pki/pki.hpp"
#include "scheduler/admin_server.hpp"
#include "scheduler/artifact_server.hpp"
#include "scheduler/convert.hpp"
#include "scheduler/options.hpp"
#include "scheduler/recent.hpp"

#include <spdlog/common.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>
#include <optional>

namespace etcdmesos::scheduler {

class Scheduler {
 public:
  // Every wait of the scheduler and of the clients it makes (Mesos,
  // ZooKeeper, the master detector, health checks, the core's clock) runs on
  // `time`; the core's seed and the backoff jitter come from `random`. Both
  // must outlive the scheduler.
  Scheduler(boost::asio::io_context& io, Options options, TimeSource& time = real_time(),
            RandomSource& random = process_random());
  ~Scheduler();

  // Loads the artifacts, opens the admin and artifact servers and starts
  // talking to Mesos. Errors are start-up errors (bad file, port in use).
  Result<void> start();
  void stop();

  AdminSnapshot snapshot() const;
  // Non-zero once the scheduler gave up (see fatal()); main returns it.
  int exit_code() const { return exit_code_; }

 private:
  // Each request to etcd; compaction and defragmentation, which rewrite a
  // backend, get longer.
  static constexpr std::chrono::milliseconds kEtcdRequestTimeout{5000};
  static constexpr std::chrono::milliseconds kEtcdMaintenanceTimeout{60000};

  // Persistence and leadership (-zk-framework-persist; scheduler_persist.cpp).
  Result<void> start_persistence();
  void on_elected();
  void on_deposed();
  void on_zk_state(io::ZkSessionState state);
  void load_state();
  void recovered(io::PersistedState state);
  void persist(const core::PersistFrameworkId& e);
  void persist(const core::PersistClusterSize& e);
  void persist(const core::PersistTask& e);
  void persist(const core::ForgetTask& e);
  void feed_leadership();
  void clear_store();
  // Logs `why`, stops everything and makes the process exit non-zero (to be
  // restarted by its supervisor).
  void fatal(const std::string& why);

  void start_mesos();
  boost::asio::awaitable<std::optional<io::Endpoint>> find_master(std::chrono::milliseconds wait);
  void on_mesos_event(const mesos::Event& event);
  void on_mesos_disconnected(const std::string& reason);
  void feed(const core::Event& event);
  void perform(const std::vector<core::Effect>& effects);
  void perform_one(const core::Effect& effect);
  void call(mesos::CallPayload payload);
  void check_health(const core::CheckHealth& check);
  void add_member(const core::AddEtcdMember& add);
  void remove_member(const core::RemoveEtcdMember& remove);
  void query_statuses(const core::QueryMemberStatus& query);
  void send_reseed_order(const core::ReseedOrder& order);
  // TLS (-etcd-ca-cert-file): certificate requests from executors, and the
  // scheduler's own client certificate for etcd.
  void on_executor_message(const mesos::EventMessage& message);
  void issue_certificate(const core::IssueCertificate& issue);
  Result<void> start_tls();
  Result<void> renew_client_certificate();
  boost::asio::awaitable<void> client_certificate_loop();
  boost::asio::awaitable<core::MemberHealth> status_of(core::Member member);
  AdminActionResult on_admin_action(const AdminRequest& request);
  void log_state_changes();
  // Logs `text` at `level` and keeps it among the recent events the web
  // page shows (recent.hpp); remember() only keeps it.
  void note(spdlog::level::level_enum level, std::string text);
  void remember(spdlog::level::level_enum level, std::string text);
  // The effects, status updates and operator requests worth an event.
  void note_effect(const core::Effect& effect);
  void note_status(const core::StatusUpdate& update);
  void note_admin(const AdminRequest& request, const AdminActionResult& result);
  boost::asio::awaitable<void> run_health_check(core::CheckHealth check);
  boost::asio::awaitable<void> run_member_add(core::AddEtcdMember add);
  boost::asio::awaitable<void> run_member_remove(core::RemoveEtcdMember remove);
  Result<io::EtcdClient> etcd_client(const std::string& client_url,
                                     std::chrono::milliseconds timeout = kEtcdRequestTimeout) const;
  boost::asio::awaitable<void> run_space_step(core::RecoverSpace step);
  boost::asio::awaitable<void> run_backup(core::TakeBackup order);
  BackupStatus backup_status(core::Millis at) const;
  boost::asio::awaitable<void> tick_loop();
  core::Millis now() const;

  mesos::FrameworkInfo framework_info() const;
  core::Config core_config() const;

  boost::asio::io_context& io_;
  Options options_;
  TimeSource& time_;
  RandomSource& random_;
  core::SchedulerCore core_;
  ArtifactServer artifacts_;
  AdminServer admin_;
  ExecutorTemplate executor_template_;
  // With a CA: it signs member certificates, and etcd_tls_ (the CA and the
  // scheduler's own client certificate) goes with every etcd request.
  std::optional<pki::Authority> authority_;
  std::shared_ptr<io::TlsClient> etcd_tls_;
  std::unique_ptr<io::MasterDetector> detector_;
  std::unique_ptr<io::MesosScheduler> mesos_;
  std::string framework_id_;
  io::Endpoint admin_endpoint_;
  // Persistence and leadership; null without -zk-framework-persist.
  std::unique_ptr<io::ZkClient> zk_;
  std::unique_ptr<io::FrameworkStore> store_;
  std::unique_ptr<io::LeaderElection> election_;
  std::unique_ptr<Timer> load_retry_;
  bool elected_ = false;  // elected at least once: the core hears of every change since
  int exit_code_ = 0;
  // What log_state_changes() last logged.
  std::string logged_state_;
  std::string logged_plan_;
  // The web page's timeline of health checks and its recent events.
  RecentLog<CheckRecord> checks_{kRecentChecks};
  RecentLog<EventRecord> events_{kRecentEvents};
  TimeSource::TimePoint started_;
  bool stopped_ = false;
};

}  // namespace etcdmesos::scheduler
