#include "proxy/gateway_supervisor.hpp"

#include "common/backoff.hpp"
#include "common/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <csignal>
#include <exception>
#include <variant>

namespace etcdmesos::proxy {

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// Long enough to mean "until something happens"; timers are woken early.
constexpr auto kForever = std::chrono::hours(24);

std::shared_ptr<spdlog::logger> log() {
  return logger("proxy");
}

// ETCD_* variables would configure the gateway behind our back (and etcd
// refuses a flag that is also set in the environment).
std::map<std::string, std::string> gateway_environment() {
  auto env = io::current_environment();
  std::erase_if(env, [](const auto& entry) { return entry.first.rfind("ETCD_", 0) == 0; });
  return env;
}

}  // namespace

GatewaySupervisor::GatewaySupervisor(asio::any_io_executor ex, GatewaySettings settings)
    : ex_(std::move(ex)),
      settings_(std::move(settings)),
      wake_(ex_, *settings_.time),
      finished_(ex_) {
  finished_.expires_at(asio::steady_timer::time_point::max());
}

GatewaySupervisor::~GatewaySupervisor() {
  // The loop is no longer run; do not leave a gateway holding the port.
  if (process_ && process_->running()) {
    process_->signal(SIGKILL, true);
  }
}

void GatewaySupervisor::start() {
  if (started_) {
    return;
  }
  started_ = true;
  asio::co_spawn(ex_, supervise(),
                 log_exceptions(log(), "gateway supervision", spdlog::level::critical));
}

void GatewaySupervisor::set_endpoints(EndpointSet endpoints) {
  if (endpoints.empty() || endpoints == desired_) {
    return;
  }
  desired_ = std::move(endpoints);
  wake_.cancel();
}

std::optional<pid_t> GatewaySupervisor::pid() const {
  if (!process_) {
    return std::nullopt;
  }
  return process_->pid();
}

asio::awaitable<void> GatewaySupervisor::shutdown() {
  stopping_ = true;
  if (!started_) {
    co_return;
  }
  wake_.cancel();
  while (!done_) {
    co_await finished_.async_wait(kTuple);
  }
}

asio::awaitable<void> GatewaySupervisor::pause(milliseconds d) {
  wake_.expires_after(d);
  co_await wake_.async_wait(kTuple);
}

asio::awaitable<void> GatewaySupervisor::supervise() {
  Backoff backoff(settings_.min_backoff, settings_.max_backoff);
  while (!stopping_) {
    if (desired_.empty()) {
      co_await pause(std::chrono::duration_cast<milliseconds>(kForever));
      continue;
    }
    const EndpointSet target = desired_;
    const auto began = settings_.time->now();
    if (co_await run_once() || stopping_ || desired_ != target) {
      continue;  // restarted on purpose: no backoff
    }
    if (settings_.time->now() - began >= settings_.stable_after) {
      backoff.reset();
    }
    const auto wait = backoff.next();
    log()->warn("starting the etcd gateway again in {} ms", wait.count());
    co_await pause(wait);
  }
  done_ = true;
  finished_.cancel();
}

asio::awaitable<bool> GatewaySupervisor::run_once() {
  io::SpawnOptions options;
  options.argv = gateway_argv(settings_.command, desired_);
  options.env = gateway_environment();
  auto spawned = io::Process::spawn(ex_, options);
  if (!spawned) {
    log()->error("cannot start the etcd gateway ({}): {}", settings_.command.etcd_bin,
                 spawned.error().message);
    co_return false;
  }
  process_ = std::move(*spawned);
  serving_ = desired_;
  ++starts_;
  log()->info("etcd gateway (pid {}) listening on {}, forwarding to {}", process_->pid(),
              settings_.command.listen_addr, join(serving_, ", "));
  using namespace asio::experimental::awaitable_operators;
  for (;;) {
    wake_.expires_never();
    auto outcome = co_await (process_->wait_for(kForever) || wake_.async_wait(kTuple));
    if (outcome.index() == 0) {
      const auto& status = std::get<0>(outcome);
      if (!status) {
        continue;
      }
      log()->warn("etcd gateway (pid {}) {} on its own (see its output above)", process_->pid(),
                  status->describe());
      process_.reset();
      serving_.clear();
      co_return false;
    }
    if (must_restart()) {
      const pid_t pid = process_->pid();
      auto status = co_await process_->terminate(settings_.stop_grace);
      log()->info("stopped etcd gateway (pid {}): {}", pid, status.describe());
      process_.reset();
      serving_.clear();
      co_return true;
    }
  }
}

}  // namespace etcdmesos::proxy
