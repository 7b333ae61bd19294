// The whole dev cluster: N masters (one leads, elected through ZooKeeper as
// real Mesos masters are), K agents, each master's HTTP server (scheduler
// API, /state, /health, /redirect, /control/...), leader failover, and the
// orderly exit that leaves no executor behind.
//
// Ownership: created by main on the io_context it runs on; owns everything.
// Agents talk to whichever master leads through this class (MasterLink);
// while no master leads they keep their status updates.
// Errors: start-up failures are returned by start(); an expired ZooKeeper
// session is fatal (the callback given to on_fatal is called), as it is for
// a real master.
#pragma once

#include "agent.hpp"
#include "io/http.hpp"
#include "io/zk.hpp"
#include "master.hpp"
#include "master_link.hpp"
#include "options.hpp"

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace etcdmesos::devcluster {

class Cluster final : public MasterLink {
 public:
  // Retired master incarnations kept alive until their coroutines end.
  static constexpr std::size_t kMaxRetiredMasters = 64;
  static constexpr double kMaxFailoverGapSeconds = 3600;

  Cluster(boost::asio::any_io_executor ex, Options options);
  ~Cluster() override;
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // Called with an exit code when the process must end (ZooKeeper session
  // expired).
  void on_fatal(std::function<void(int)> callback) { fatal_ = std::move(callback); }

  // Listens (every master, then every agent), announces the endpoints,
  // registers the masters in ZooKeeper and waits for a leader. An error is a
  // start-up failure.
  boost::asio::awaitable<Result<void>> start();
  // Ends subscriptions, SIGKILLs every executor tree and waits (bounded) for
  // them to be reaped, leaves ZooKeeper, stops listening.
  boost::asio::awaitable<void> shutdown();

  // MasterLink: to the leading master; with none, updates are kept by the
  // agents (forward_status_update answers true) and the rest is dropped.
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
  // One master process of a real cluster: a port, and the incarnation that
  // currently runs there (replaced by a fresh one after a failover).
  struct MasterSlot {
    std::unique_ptr<Master> master;
    std::unique_ptr<io::HttpServer> server;
    io::Endpoint endpoint;
    std::string zk_node;  // its json.info_ node name, empty when not registered
  };

  boost::asio::awaitable<void> handle_http(std::size_t slot, io::HttpExchange& exchange);
  boost::asio::awaitable<void> handle_standby(io::HttpExchange& exchange, std::string_view path);
  boost::asio::awaitable<void> handle_control(io::HttpExchange& exchange, std::string_view path);
  boost::asio::awaitable<void> handle_agent_control(io::HttpExchange& exchange,
                                                    std::string_view path);
  boost::asio::awaitable<void> handle_failover(io::HttpExchange& exchange);
  boost::asio::awaitable<void> finish_failover(std::size_t slot, std::chrono::milliseconds gap);
  boost::json::array masters_json() const;

  boost::asio::awaitable<Result<void>> start_zk();
  boost::asio::awaitable<Result<void>> register_in_zk(std::size_t slot);
  // Reads the json.info_ children (and watches them); the lowest leads.
  boost::asio::awaitable<void> refresh_leader();
  void spawn_refresh_leader();
  // Applies an election result: a local slot, or a master elsewhere.
  void set_leader(std::optional<std::size_t> slot, std::optional<io::Endpoint> elsewhere);
  // Retires the incarnation at `slot` and starts a fresh standby there.
  void replace_master(std::size_t slot);
  Master* leader() const;

  Result<void> write_endpoint_file() const;
  Result<void> write_all_endpoints_file() const;
  Agent* find_agent(std::string_view id) const;

  boost::asio::any_io_executor ex_;
  Options options_;
  std::vector<MasterSlot> masters_;
  std::deque<std::unique_ptr<Master>> retired_masters_;
  std::vector<std::unique_ptr<Agent>> agents_;
  std::optional<std::size_t> leader_;            // the local slot that leads
  std::optional<io::Endpoint> leader_endpoint_;  // the leader's address, when one is known
  bool election_held_ = false;                   // a failover in progress: nobody leads
  uint64_t refresh_sequence_ = 0;
  std::unique_ptr<io::ZkClient> zk_;
  std::string zk_path_;
  std::function<void(int)> fatal_;
};

}  // namespace etcdmesos::devcluster
