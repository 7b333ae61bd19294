// One simulated Mesos agent: its own HTTP server on its own loopback IP
// serving the v1 executor API, executor processes (fetch, spawn, watch), and
// the status update manager that delivers each task's updates to the master
// in order, one at a time, resending until the scheduler acknowledges.
//
// Ownership: owned by the Cluster; talks to the master through MasterLink.
// Threading: everything on one io_context. Errors caused by executors (bad
// calls, failed fetches, crashes) become HTTP answers and task updates.
#pragma once

#include "codec/mesos.hpp"
#include "event_stream.hpp"
#include "fetcher_cache.hpp"
#include "io/http.hpp"
#include "io/process.hpp"
#include "master_link.hpp"
#include "resources.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/json/array.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace etcdmesos::devcluster {

// What an agent tells a newly elected master when it re-registers: its
// frameworks, executors and tasks with the newest state it knows.
struct AgentReport {
  struct Executor {
    mesos::FrameworkInfo framework;  // id set
    mesos::ExecutorInfo info;
    bool running = false;  // false: ended, tasks with unacknowledged updates remain
    std::vector<std::pair<mesos::TaskInfo, mesos::TaskState>> tasks;
  };
  std::vector<Executor> executors;
};

struct AgentConfig {
  std::string id;
  std::string ip;
  uint16_t port = 0;  // 0 = ephemeral (kept across stop/start once bound)
  ResourceBag resources;
  std::filesystem::path work_dir;
  // This agent's fetcher cache (emptied when the agent starts) and its size.
  std::filesystem::path fetcher_cache_dir;
  uint64_t fetcher_cache_bytes = 2ULL << 30;
  std::chrono::milliseconds registration_timeout{60000};
  std::chrono::milliseconds shutdown_grace_period{5000};
  std::chrono::milliseconds status_update_retry_interval{10000};
};

class Agent {
 public:
  // Bounds: pending updates per task, remembered uuids per task.
  static constexpr std::size_t kMaxPendingUpdates = 1000;
  static constexpr std::size_t kMaxSeenUuids = 1000;
  // Fetched artifacts may be large (the etcd binary is ~30 MB).
  static constexpr std::size_t kMaxFetchBytes = 512 * 1024 * 1024;

  Agent(boost::asio::any_io_executor ex, AgentConfig config, MasterLink& master);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Binds the HTTP server (the same port as before after a stop).
  Result<void> start();
  // Host lost: SIGKILLs every executor tree, drops executor connections and
  // every pending update; nothing is reported by this agent afterwards.
  void stop();
  // Dev cluster exit: like stop(); returns the number of executor processes
  // that have not been reaped yet.
  std::size_t kill_all();
  std::size_t live_processes() const;

  bool running() const { return running_; }
  const std::string& id() const { return config_.id; }
  const std::string& ip() const { return config_.ip; }
  uint16_t port() const { return port_; }
  std::string pid() const { return "slave(1)@" + config_.ip + ":" + std::to_string(port_); }
  const ResourceBag& total() const { return config_.resources; }
  mesos::AgentInfo info() const;

  // --- master -> agent
  // Runs `task` (task.executor set, framework_id filled) in its executor,
  // starting the executor first when it is not running yet.
  void launch(const mesos::FrameworkInfo& framework, mesos::TaskInfo task);
  void kill_task(const std::string& framework_id, const std::string& task_id,
                 std::optional<int64_t> grace_period_ns);
  void shutdown_executor(const std::string& framework_id, const std::string& executor_id);
  // The framework is gone: executors get SHUTDOWN, their updates are dropped.
  void shutdown_framework(const std::string& framework_id);
  void send_message(const std::string& framework_id, const std::string& executor_id,
                    std::string data);
  // The scheduler acknowledged `uuid`: when it is the update in flight for
  // the task, the next one is sent. Returns the state of the acknowledged
  // update, nullopt when it was not the one in flight (stale or duplicate).
  std::optional<mesos::TaskState> acknowledge(const std::string& framework_id,
                                              const std::string& task_id, const std::string& uuid);

  // Re-registration with a newly elected master: what the agent runs
  // (executors that have not terminated and their tasks).
  AgentReport report() const;
  // The agent re-registered with a new master: every unacknowledged update
  // is sent again at once (a real agent's status update manager resumes on
  // re-registration).
  void master_changed();

  // For /control/agents: [{framework_id, executor_id, container_id, pid, state, tasks}].
  boost::json::array executors_json() const;
  // For /control/agents: {"dir","entries","bytes","downloads","hits","evictions"}.
  boost::json::object fetcher_cache_json() const;

 private:
  // A task as this agent knows it, with its status update stream.
  struct Task {
    mesos::TaskInfo info;
    std::string executor_id;
    mesos::TaskState state = mesos::TaskState::kStaging;  // newest state known here
    bool delivered = false;                               // LAUNCH sent to the executor
    std::deque<mesos::TaskStatus> pending;                // front = in flight to the scheduler
    std::chrono::steady_clock::time_point last_sent;
    std::set<std::string> seen_uuids;  // duplicates from executor replays
    std::deque<std::string> seen_order;
  };

  // One executor container: sandbox, process, connection, tasks.
  struct ExecutorRun {
    enum class State { kFetching, kRegistering, kRunning, kTerminating, kTerminated };
    explicit ExecutorRun(boost::asio::any_io_executor ex) : timer(ex) {}
    std::string framework_id;
    mesos::FrameworkInfo framework;
    mesos::ExecutorInfo info;
    std::string container_id;
    std::filesystem::path sandbox;
    State state = State::kFetching;
    std::unique_ptr<io::Process> process;
    int pid = 0;
    std::shared_ptr<EventStream> stream;
    std::vector<std::string> task_ids;  // launch order
    std::set<std::string> kill_requested;
    std::optional<std::string> termination_reason;  // REASON_* for leftover tasks
    std::optional<std::string> termination_message;
    bool silent = false;              // host lost or framework removed: report nothing
    boost::asio::steady_timer timer;  // registration timeout, then shutdown grace
  };
  static const char* to_string(ExecutorRun::State state);

  using TaskKey = std::pair<std::string, std::string>;      // framework, task
  using ExecutorKey = std::pair<std::string, std::string>;  // framework, executor

  boost::asio::awaitable<void> handle_http(io::HttpExchange& exchange);
  boost::asio::awaitable<void> handle_executor_call(io::HttpExchange& exchange);
  boost::asio::awaitable<void> subscribe_executor(io::HttpExchange& exchange,
                                                  std::shared_ptr<ExecutorRun> run,
                                                  mesos::ExecutorCall call);
  io::Response handle_update(const io::Request& req, ExecutorRun& run, mesos::TaskStatus status);
  std::optional<io::Response> validate_update(const io::Request& req,
                                              const mesos::ExecutorCall& call) const;

  boost::asio::awaitable<void> start_executor(std::shared_ptr<ExecutorRun> run);
  Result<void> spawn_executor(ExecutorRun& run);
  boost::asio::awaitable<void> watch_executor(std::shared_ptr<ExecutorRun> run);
  boost::asio::awaitable<void> registration_timeout(std::shared_ptr<ExecutorRun> run);
  boost::asio::awaitable<void> shutdown_grace(std::shared_ptr<ExecutorRun> run,
                                              std::chrono::milliseconds grace);
  // Reports the end of an executor: leftover tasks TASK_FAILED (TASK_KILLED
  // when a kill or shutdown was asked for), then FAILURE via the master.
  void on_executor_exit(const std::shared_ptr<ExecutorRun>& run, int wait_status,
                        bool shutting_down);
  void fail_launch(const std::shared_ptr<ExecutorRun>& run, const std::string& message);
  void begin_shutdown(const std::shared_ptr<ExecutorRun>& run);
  void deliver_queued(ExecutorRun& run);
  void kill_process_tree(ExecutorRun& run);

  // Status update manager.
  void send_agent_update(const std::string& framework_id, Task& task, mesos::TaskState state,
                         std::optional<std::string> reason, std::string message);
  void record_update(const std::string& framework_id, Task& task, mesos::TaskStatus status);
  void forward_head(const std::string& framework_id, Task& task);
  boost::asio::awaitable<void> resend_loop(uint64_t generation);

  Task* find_task(const std::string& framework_id, const std::string& task_id);
  std::shared_ptr<ExecutorRun> find_run(const std::string& framework_id,
                                        const std::string& executor_id) const;

  boost::asio::any_io_executor ex_;
  AgentConfig config_;
  MasterLink& master_;
  FetcherCache fetcher_cache_;
  std::unique_ptr<io::HttpServer> server_;
  std::vector<std::unique_ptr<io::HttpServer>> retired_servers_;
  uint16_t port_ = 0;
  bool running_ = false;
  uint64_t generation_ = 0;  // increases at every start and stop
  std::map<ExecutorKey, std::shared_ptr<ExecutorRun>> runs_;
  std::map<TaskKey, Task> tasks_;
  // FrameworkInfo of every framework with tasks here, for re-registration.
  std::map<std::string, mesos::FrameworkInfo> frameworks_;
  // Runs whose process may still be alive after a stop (for kill_all).
  std::vector<std::weak_ptr<ExecutorRun>> orphans_;
};

}  // namespace etcdmesos::devcluster
