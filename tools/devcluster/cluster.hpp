// The whole dev cluster: master, agents, the master's HTTP server (scheduler
// API, /state, /health, /redirect, /control/...), ZooKeeper registration,
// and the orderly exit that leaves no executor behind.
//
// Ownership: created by main on the io_context it runs on; owns everything.
#pragma once

#include "agent.hpp"
#include "io/http.hpp"
#include "io/zk.hpp"
#include "master.hpp"
#include "options.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace etcdmesos::devcluster {

class Cluster {
 public:
  Cluster(boost::asio::any_io_executor ex, Options options);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // Listens (master, then every agent), announces the endpoint, registers in
  // ZooKeeper. An error is a start-up failure.
  boost::asio::awaitable<Result<void>> start();
  // Ends subscriptions, SIGKILLs every executor tree and waits (bounded) for
  // them to be reaped, leaves ZooKeeper, stops listening.
  boost::asio::awaitable<void> shutdown();

 private:
  boost::asio::awaitable<void> handle_http(io::HttpExchange& exchange);
  boost::asio::awaitable<void> handle_control(io::HttpExchange& exchange, std::string_view path);
  boost::asio::awaitable<Result<void>> start_zk();
  boost::asio::awaitable<Result<void>> register_in_zk();
  Result<void> write_endpoint_file() const;
  Agent* find_agent(std::string_view id) const;

  boost::asio::any_io_executor ex_;
  Options options_;
  Master master_;
  std::vector<std::unique_ptr<Agent>> agents_;
  std::unique_ptr<io::HttpServer> server_;
  io::Endpoint endpoint_;
  std::unique_ptr<io::ZkClient> zk_;
  std::string zk_path_;
  uint64_t zk_registered_generation_ = 0;
  bool zk_registering_ = false;
};

}  // namespace etcdmesos::devcluster
