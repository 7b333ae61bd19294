// etcd-mesos-scheduler: flags, logging, signal handling, wiring. Nothing else.
#include "common/log.hpp"
#include "common/time_source.hpp"
#include "common/version.hpp"
#include "scheduler/options.hpp"
#include "scheduler/scheduler.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <iostream>

int main(int argc, char** argv) {
  using namespace etcdmesos;
  auto options = scheduler::parse_options(argc, argv);
  if (!options) {
    if (options.error().message.empty()) {
      std::cout << scheduler::help_text();
      return 0;
    }
    std::cerr << "etcd-mesos-scheduler: " << options.error().message << "\n";
    return 2;
  }
  if (options->show_version) {
    std::cout << version_line("etcd-mesos-scheduler") << "\n";
    return 0;
  }
  if (!set_log_level(options->log_level)) {
    std::cerr << "etcd-mesos-scheduler: unknown --log-level '" << options->log_level << "'\n";
    return 2;
  }
  // The first log line says which build runs (a bug report starts there).
  logger("scheduler")->info("{} starting", version_line("etcd-mesos-scheduler"));
  try {
    boost::asio::io_context io;
    // The one clock and the one generator of the whole scheduler.
    scheduler::Scheduler sched(io, *options, real_time(), process_random());
    if (auto started = sched.start(); !started) {
      logger("scheduler")->critical("cannot start: {}", started.error().message);
      return 1;
    }
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int signo) {
      logger("scheduler")->info("received signal {}, stopping", signo);
      sched.stop();
      io.stop();
    });
    io.run();
    if (sched.exit_code() != 0) {
      return sched.exit_code();
    }
  } catch (const std::exception& e) {
    logger("scheduler")->critical("fatal: {}", e.what());
    return 1;
  }
  return 0;
}
