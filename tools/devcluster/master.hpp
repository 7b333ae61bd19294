// The simulated Mesos master: the v1 scheduler API (subscriptions, calls),
// the allocator (one offer per agent, refuse filters, suppression), the task
// model that answers reconciliation and /state, and agent loss.
//
// Ownership: owned by the Cluster; holds non-owning pointers to the agents.
// Threading: one io_context; handlers look frameworks up again by id after
// every suspension because a framework may be removed meanwhile.
// Errors: malformed or invalid calls get the HTTP answers of reference §3;
// nothing a scheduler sends can abort the process.
#pragma once

#include "agent.hpp"
#include "codec/mesos.hpp"
#include "event_stream.hpp"
#include "io/http.hpp"
#include "master_link.hpp"
#include "options.hpp"
#include "resources.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace etcdmesos::devcluster {

class Master final : public MasterLink {
 public:
  static constexpr std::size_t kMaxCompletedFrameworks = 50;
  static constexpr std::size_t kMaxCompletedTasks = 1000;
  static constexpr std::size_t kMaxStatusesPerTask = 100;
  static constexpr double kDefaultRefuseSeconds = 5;

  Master(boost::asio::any_io_executor ex, const Options& options, std::string master_id);

  // Sets the address in MasterInfo once the server listens; starts the
  // periodic allocation.
  void start(const io::Endpoint& listening);
  const mesos::MasterInfo& info() const { return info_; }
  const std::string& id() const { return info_.id; }
  // Whether this master knows the agent: it registered (or re-registered
  // after this master was elected), even if it was lost since. The only
  // answer to that question: an agent this master does not know gets no
  // offers, its tasks are unknown to reconciliation, /state does not list
  // it, and the Cluster routes nothing from it here.
  bool knows_agent(const std::string& agent_id) const { return find_agent(agent_id) != nullptr; }

  // POST /api/v1/scheduler; a SUBSCRIBE keeps the handler for the stream's life.
  boost::asio::awaitable<void> handle_scheduler(io::HttpExchange& exchange);
  // GET /state.
  boost::json::object state_json() const;

  // Control: the agent's host was lost / came back (the Agent is already
  // stopped / started).
  void agent_stopped(const std::string& agent_id);
  void agent_started(const std::string& agent_id);

  // Dev cluster exit: ends every subscription with the zero chunk.
  void close_all_streams();

  // Leader election: a newly elected master learns a running agent, its
  // frameworks, executors and tasks from the agent's (re-)registration,
  // which the Cluster sends at most once per agent and master.
  // Frameworks it did not know are recovered disconnected, and their
  // failover timeout starts now.
  void agent_reregistered(Agent& agent, const AgentReport& report);
  // This master stops leading for good: every subscription stream ends
  // (the zero chunk), and it forgets frameworks, agents and offers so that
  // none of its timers or streams can reach an agent afterwards. The object
  // stays alive until its coroutines have ended.
  void retire();
  bool retired() const { return retired_; }

  // MasterLink.
  bool forward_status_update(const std::string& agent_id, const std::string& framework_id,
                             const mesos::TaskStatus& status,
                             mesos::TaskState latest_state) override;
  void task_state_changed(const std::string& agent_id, const std::string& framework_id,
                          const std::string& task_id, mesos::TaskState latest_state) override;
  void executor_terminated(const std::string& agent_id, const std::string& framework_id,
                           const std::string& executor_id, int wait_status) override;
  void executor_message(const std::string& agent_id, const std::string& framework_id,
                        const std::string& executor_id, std::string data) override;

 private:
  using Clock = std::chrono::steady_clock;

  struct Task {
    mesos::TaskInfo info;  // without `data` (not kept in master memory, reference §10)
    std::string framework_id;
    std::string agent_id;
    std::string executor_id;
    std::optional<std::string> role;
    ResourceBag resources;
    mesos::TaskState state = mesos::TaskState::kStaging;  // newest state the agent knows
    std::optional<mesos::TaskState> status_update_state;  // last state sent to the scheduler
    std::optional<mesos::TaskStatus> last_status;
    std::vector<mesos::TaskStatus> statuses;  // for /state, one per uuid
  };

  struct Executor {
    mesos::ExecutorInfo info;
    ResourceBag resources;
  };

  struct RefuseFilter {
    ResourceBag refused;
    Clock::time_point until;
  };

  struct Framework {
    std::string id;
    mesos::FrameworkInfo info;
    std::shared_ptr<EventStream> stream;  // null while disconnected
    std::string stream_id;
    std::set<std::string> suppressed_roles;
    std::map<std::string, RefuseFilter> filters;  // by agent id
    std::map<std::string, Task> tasks;
    std::map<std::string, Task> unreachable_tasks;  // tasks of removed agents
    std::deque<Task> completed_tasks;
    std::map<std::pair<std::string, std::string>, Executor> executors;  // agent, executor
    std::unique_ptr<boost::asio::steady_timer> failover_timer;
    double registered_time = 0;
    std::optional<double> reregistered_time;
    std::optional<double> unregistered_time;

    bool connected() const { return stream != nullptr && !stream->closed(); }
    bool has_capability(const std::string& name) const;
    bool partition_aware() const { return has_capability("PARTITION_AWARE"); }
    bool multi_role() const { return has_capability("MULTI_ROLE"); }
    std::vector<std::string> roles() const;  // {"*"} without MULTI_ROLE or roles
  };

  struct Offer {
    std::string id;
    std::string framework_id;
    std::string agent_id;
    ResourceBag resources;
    std::optional<std::string> allocation_role;
  };

  struct AgentRecord {
    Agent* agent = nullptr;
    bool active = true;    // registered and reachable
    bool removed = false;  // marked unreachable after its host was lost
    std::unique_ptr<boost::asio::steady_timer> removal_timer;
    std::optional<std::string> offer_id;  // at most one outstanding offer
    double registered_time = 0;
    std::optional<double> reregistered_time;
  };

  // --- scheduler API (master.cpp)
  std::optional<io::Response> validate_call(const io::Request& req, const std::string& type,
                                            const boost::json::value& body,
                                            std::optional<mesos::Call>& call) const;
  boost::asio::awaitable<void> subscribe(io::HttpExchange& exchange, mesos::Call call);
  Framework& admit_framework(const mesos::FrameworkInfo& info);
  io::Response dispatch(const io::Request& req, Framework& framework, const std::string& type,
                        const mesos::Call& call);
  void framework_disconnected(const std::string& framework_id,
                              const std::shared_ptr<EventStream>& stream);
  void remove_framework(const std::string& framework_id, const std::string& why);
  void start_failover_timer(Framework& framework);
  void send(Framework& framework, const mesos::Event& event);

  // --- allocation (master_offers.cpp)
  void allocate_soon();
  void allocate();
  boost::asio::awaitable<void> allocation_loop();
  ResourceBag free_resources(const std::string& agent_id) const;
  Framework* pick_framework(const std::string& agent_id, const ResourceBag& free);
  mesos::Offer make_offer_message(const Offer& offer, const Framework& framework) const;
  void accept(Framework& framework, const mesos::CallAccept& call);
  void decline(Framework& framework, const std::vector<std::string>& offer_ids,
               const std::optional<mesos::Filters>& filters);
  struct LaunchPlan {
    ResourceBag task;
    std::optional<ResourceBag> new_executor;  // set when the executor is not running yet
    ResourceBag total() const { return new_executor ? task + *new_executor : task; }
  };
  // The TASK_ERROR message when the task cannot run from `remaining`.
  Result<LaunchPlan> plan_launch(const Framework& framework, const mesos::TaskInfo& task,
                                 const std::string& agent_id, const ResourceBag& remaining) const;
  void launch_task(Framework& framework, mesos::TaskInfo task, const std::string& agent_id,
                   const std::optional<std::string>& role, const LaunchPlan& plan);
  void remove_offer(const std::string& offer_id);
  void rescind_offers_of_agent(const std::string& agent_id);
  void recover_offers_of_framework(Framework& framework);
  void add_filter(Framework& framework, const std::string& agent_id, const ResourceBag& refused,
                  const std::optional<mesos::Filters>& filters);

  // --- tasks (master_tasks.cpp)
  void reconcile(Framework& framework, const mesos::CallReconcile& call);
  mesos::TaskStatus reconcile_status(const Framework& framework, const std::string& task_id,
                                     const std::optional<std::string>& agent_id) const;
  void kill(Framework& framework, const mesos::CallKill& call);
  void acknowledge(Framework& framework, const mesos::CallAcknowledge& call);
  void complete_task(Framework& framework, const std::string& task_id);
  void remove_agent(const std::string& agent_id);
  mesos::TaskStatus master_status(const Framework& framework, const Task& task,
                                  mesos::TaskState state, std::string reason,
                                  std::string message) const;
  mesos::TaskState for_framework(const Framework& framework, mesos::TaskState state) const;

  // --- /state (master_state.cpp)
  boost::json::object framework_json(const Framework& framework, bool active) const;
  boost::json::object task_json(const Task& task) const;
  boost::json::object agent_json(const AgentRecord& record) const;

  void add_agent(Agent& agent);
  Framework* find_framework(const std::string& id);
  AgentRecord* find_agent(const std::string& id);
  const AgentRecord* find_agent(const std::string& id) const;

  boost::asio::any_io_executor ex_;
  const Options& options_;
  mesos::MasterInfo info_;
  std::string pid_;
  double start_time_ = 0;
  uint64_t next_framework_ = 0;
  uint64_t next_offer_ = 0;
  std::size_t round_robin_ = 0;
  bool allocation_posted_ = false;
  bool retired_ = false;
  std::map<std::string, std::unique_ptr<Framework>> frameworks_;
  std::deque<std::unique_ptr<Framework>> completed_frameworks_;
  std::map<std::string, AgentRecord> agents_;
  std::vector<std::string> agent_order_;
  std::map<std::string, Offer> offers_;
};

}  // namespace etcdmesos::devcluster
