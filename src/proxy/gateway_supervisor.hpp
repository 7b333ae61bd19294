// Runs `etcd gateway start` (io::Process) pointed at the endpoints it was
// last given, and keeps it running.
//
// - set_endpoints() with a different set restarts the gateway with the new
//   endpoints at once (SIGTERM, SIGKILL after `stop_grace`, then start):
//   the gateway reads its endpoints only at start-up. Open client
//   connections are cut; clients reconnect on their next retry.
// - An empty set is ignored: the gateway keeps the endpoints it has (a
//   cluster that briefly shows no running member may come back on the same
//   addresses, and dead endpoints cost nothing: the gateway skips them).
// - A gateway that exits by itself (port in use, crash) is started again
//   after a backoff that doubles from `min_backoff` to `max_backoff`, and
//   starts over once a run lasted `stable_after`.
//
// Threading: everything runs on the io_context of the executor given;
// start(), set_endpoints() and shutdown() are called on that thread. The
// gateway gets PR_SET_PDEATHSIG (io::Process), so it never outlives a
// crashed proxy.
#pragma once

#include "io/process.hpp"
#include "proxy/discovery.hpp"
#include "proxy/gateway_command.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include "common/time_source.hpp"

namespace etcdmesos::proxy {

struct GatewaySettings {
  GatewayCommand command;
  std::chrono::milliseconds stop_grace{2000};
  std::chrono::milliseconds min_backoff{500};
  std::chrono::milliseconds max_backoff{10000};
  std::chrono::milliseconds stable_after{10000};
  // The clock of the restart backoff and of "stable"; must outlive the
  // supervisor.
  TimeSource* time = &real_time();
};

class GatewaySupervisor {
 public:
  GatewaySupervisor(boost::asio::any_io_executor ex, GatewaySettings settings);
  ~GatewaySupervisor();
  GatewaySupervisor(const GatewaySupervisor&) = delete;
  GatewaySupervisor& operator=(const GatewaySupervisor&) = delete;

  // Starts supervising (nothing runs until the first non-empty set).
  void start();
  void set_endpoints(EndpointSet endpoints);
  // Stops the gateway; completes once it has exited and supervision ended.
  boost::asio::awaitable<void> shutdown();

  // What the running gateway was started with (empty when none runs).
  const EndpointSet& serving() const { return serving_; }
  std::optional<pid_t> pid() const;
  uint64_t starts() const { return starts_; }

 private:
  boost::asio::awaitable<void> supervise();
  // Runs one gateway until it exits or must be restarted; false when it
  // could not be started or ended by itself (then back off).
  boost::asio::awaitable<bool> run_once();
  boost::asio::awaitable<void> pause(std::chrono::milliseconds d);  // woken by changes
  bool must_restart() const { return stopping_ || desired_ != serving_; }

  boost::asio::any_io_executor ex_;
  GatewaySettings settings_;
  EndpointSet desired_;
  EndpointSet serving_;
  std::unique_ptr<io::Process> process_;
  Timer wake_;
  boost::asio::steady_timer finished_;
  bool started_ = false;
  bool stopping_ = false;
  bool done_ = false;
  uint64_t starts_ = 0;
};

}  // namespace etcdmesos::proxy
