// mesos-devcluster: one Mesos-compatible master and K agents in one process
// (see docs/devcluster.md).
#include "cluster.hpp"
#include "common/log.hpp"
#include "options.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <exception>
#include <iostream>

namespace asio = boost::asio;
using etcdmesos::devcluster::Cluster;

int main(int argc, char** argv) {
  std::optional<etcdmesos::devcluster::Options> options;
  try {
    options = etcdmesos::devcluster::parse_options(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "mesos-devcluster: " << e.what() << "\n";
    return 2;
  }
  if (!options) {
    return 0;  // --help
  }
  if (!etcdmesos::set_log_level(options->log_level)) {
    std::cerr << "mesos-devcluster: unknown --log-level " << options->log_level << "\n";
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  auto log = etcdmesos::logger("devcluster");

  asio::io_context ioc;
  int exit_code = 0;
  std::unique_ptr<Cluster> cluster;
  try {
    cluster = std::make_unique<Cluster>(ioc.get_executor(), *options);
  } catch (const std::exception& e) {
    std::cerr << "mesos-devcluster: " << e.what() << "\n";
    return 2;
  }

  bool stopping = false;
  auto stop = [&](int code) {
    if (stopping) {
      return;
    }
    stopping = true;
    exit_code = code;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
          co_await cluster->shutdown();
          ioc.stop();
        },
        asio::detached);
  };

  cluster->on_fatal([&](int code) { stop(code); });

  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int signo) {
    if (!ec) {
      log->info("signal {} received", signo);
      stop(0);
    }
  });
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        auto started = co_await cluster->start();
        if (!started) {
          log->error("start-up failed: {}", started.error().message);
          stop(1);
        }
      },
      [&](std::exception_ptr e) {
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            log->error("start-up failed: {}", ex.what());
          }
          stop(1);
        }
      });
  ioc.run();
  spdlog::shutdown();
  return exit_code;
}
