// etcd-mesos-proxy: flags, logging, signal handling, wiring. Nothing else.
#include "common/log.hpp"
#include "common/time_source.hpp"
#include "common/version.hpp"
#include "io/master_detector.hpp"
#include "proxy/follower.hpp"
#include "proxy/gateway_supervisor.hpp"
#include "proxy/membership_source.hpp"
#include "proxy/options.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <filesystem>
#include <iostream>

namespace {

using namespace etcdmesos;

struct Wiring {
  std::unique_ptr<io::MasterDetector> detector;  // only with -master
  std::unique_ptr<proxy::MembershipSource> source;
};

// Start-up errors (a malformed -master or -members-url) are Errors here and
// end the program with a message.
Result<Wiring> make_source(boost::asio::io_context& io, const proxy::ProxyOptions& o) {
  Wiring w;
  if (!o.members_url.empty()) {
    auto source = proxy::SchedulerMembersSource::from_url(io.get_executor(), o.members_url,
                                                          o.request_timeout());
    if (!source) {
      return source.error();
    }
    w.source = std::move(*source);
    return w;
  }
  auto detector = io::MasterDetector::from_spec(io.get_executor(), o.master);
  if (!detector) {
    return make_error("-master '" + o.master + "': " + detector.error().message);
  }
  w.detector = std::move(*detector);
  w.source = std::make_unique<proxy::MasterStateSource>(
      io.get_executor(), *w.detector, o.master,
      proxy::FrameworkSelector{o.framework_name, o.framework_id}, o.request_timeout());
  return w;
}

// A plain function, not a capturing lambda: the coroutine frame must not
// refer to a lambda object that is gone once co_spawn returns.
boost::asio::awaitable<void> stop_gateway_then_exit(proxy::GatewaySupervisor& gateway,
                                                    boost::asio::io_context& io) {
  co_await gateway.shutdown();
  io.stop();
}

int run(const proxy::ProxyOptions& o) {
  if (!o.data_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(o.data_dir, ec);
    if (ec) {
      logger("proxy")->critical("cannot create -data-dir {}: {}", o.data_dir, ec.message());
      return 1;
    }
  }
  boost::asio::io_context io;
  auto wiring = make_source(io, o);
  if (!wiring) {
    logger("proxy")->critical("{}", wiring.error().message);
    return 2;
  }
  proxy::GatewaySettings settings;
  settings.command.etcd_bin = o.etcd_bin;
  settings.command.listen_addr = *proxy::listen_address_from_urls(o.listen_client_urls);
  settings.command.retry_delay = o.gateway_retry_delay();
  settings.command.cert_file = o.cert_file;
  settings.command.key_file = o.key_file;
  settings.command.ca_file = o.ca_file;
  settings.command.serve_tls = proxy::listens_with_tls(o.listen_client_urls);
  if (!o.data_dir.empty()) {
    settings.command.data_dir = (std::filesystem::path(o.data_dir) / "grpc-proxy").string();
  }
  // The one clock of the whole proxy.
  settings.time = &real_time();
  proxy::GatewaySupervisor gateway(io.get_executor(), settings);
  proxy::MembershipFollower follower(
      io.get_executor(),
      proxy::FollowerConfig{o.framework_name, o.poll_interval(), o.data_dir, settings.time},
      *wiring->source, gateway);
  gateway.start();
  follower.start();

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) {
      return;
    }
    logger("proxy")->info("received signal {}, stopping the gateway", signo);
    follower.stop();
    boost::asio::co_spawn(io, stop_gateway_then_exit(gateway, io), boost::asio::detached);
  });
  io.run();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto options = proxy::parse_proxy_options(argc, argv);
  if (!options) {
    if (options.error().message.empty()) {
      std::cout << proxy::proxy_help_text();
      return 0;
    }
    std::cerr << "etcd-mesos-proxy: " << options.error().message << "\n";
    return 2;
  }
  if (options->show_version) {
    std::cout << version_line("etcd-mesos-proxy") << "\n";
    return 0;
  }
  if (!set_log_level(options->log_level)) {
    std::cerr << "etcd-mesos-proxy: unknown --log-level '" << options->log_level << "'\n";
    return 2;
  }
  try {
    return run(*options);
  } catch (const std::exception& e) {
    logger("proxy")->critical("fatal: {}", e.what());
    return 1;
  }
}
