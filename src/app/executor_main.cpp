// etcd-mesos-executor: flags, logging, signal handling, wiring. Nothing else.
// Started by a Mesos agent, which passes everything but the flags in the
// environment (reference mesos §15).
#include "common/command_line.hpp"
#include "common/log.hpp"
#include "common/time_source.hpp"
#include "common/version.hpp"
#include "executor/executor.hpp"
#include "io/mesos_executor_client.hpp"
#include "io/process.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/program_options.hpp>

#include <csignal>
#include <iostream>

namespace {

namespace po = boost::program_options;
using namespace etcdmesos;

struct Flags {
  std::string etcd_bin;  // "" = default_etcd_bin(sandbox)
  std::string log_level = "info";
  int etcd_restart_attempts = 3;
  bool help = false;
  bool version = false;
};

po::options_description describe(Flags& f) {
  po::options_description d("Options");
  d.add_options()                                                             //
      ("help", po::bool_switch(&f.help), "print this help and exit")          //
      ("version", po::bool_switch(&f.version), "print the version and exit")  //
      ("etcd-bin", po::value(&f.etcd_bin)->value_name("PATH"),
       "the etcd program (default: ./etcd in the sandbox when present, else /usr/bin/etcd)")  //
      ("etcd-restart-attempts",
       po::value(&f.etcd_restart_attempts)->default_value(f.etcd_restart_attempts)->value_name("N"),
       "how often an etcd that served and then exited unexpectedly is restarted on its data "
       "directory (pauses of 1 s, 2 s, 4 s ... up to 30 s) before the task fails; 0 = never. "
       "An etcd that exits 0 because it was removed from the cluster is never restarted")  //
      ("log-level", po::value(&f.log_level)->default_value(f.log_level)->value_name("LEVEL"),
       "trace, debug, info, warn or error");
  return d;
}

void print_help() {
  Flags defaults;
  std::cout
      << "Usage: etcd-mesos-executor [options]\n"
      << "Runs one etcd member for etcd-mesos. Started by a Mesos agent, which passes the\n"
      << "agent endpoint, framework and executor ids in the environment (MESOS_*).\n"
      << "Flags may be written -name=value (as in the original etcd-mesos) or --name value.\n\n"
      << describe(defaults);
}

// "-etcd-bin=X" (as etcd-mesos, a Go program, wrote its flags) and
// "--etcd-bin X" alike.
Result<Flags> parse_flags(int argc, char** argv) {
  Flags f;
  auto description = describe(f);
  if (auto parsed = parse_command_line(argc, argv, description); !parsed) {
    return parsed.error();
  }
  return f;
}

int run(const Flags& flags, const io::ExecutorSettings& settings,
        const std::map<std::string, std::string>& env) {
  boost::asio::io_context io;
  io::MesosExecutorClient::Config config;
  config.settings = settings;
  // The one clock and the one generator of the whole executor.
  config.time = &real_time();
  config.random = &process_random();
  io::MesosExecutorClient client(io.get_executor(), config);

  executor::ExecutorOptions options;
  options.sandbox = settings.sandbox.empty() ? executor::sandbox_from(env)
                                             : std::filesystem::path(settings.sandbox);
  options.etcd_bin =
      flags.etcd_bin.empty() ? executor::default_etcd_bin(options.sandbox) : flags.etcd_bin;
  options.environment = env;
  options.time = config.time;
  options.etcd_restart_attempts = flags.etcd_restart_attempts;
  options.shutdown_grace =
      std::chrono::ceil<std::chrono::milliseconds>(settings.shutdown_grace_period);

  int exit_code = 0;
  executor::Executor executor(io.get_executor(), options, client, [&](int code) {
    exit_code = code;
    io.stop();
  });
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (!ec) {
      executor.shutdown("received signal " + std::to_string(signo));
    }
  });
  logger("executor")
      ->info("{}: executor '{}' of framework '{}' starting; agent {}, etcd {}, sandbox {}",
             version_line("etcd-mesos-executor"), settings.executor_id, settings.framework_id,
             settings.agent.to_string(), options.etcd_bin, options.sandbox.string());
  executor.start();
  io.run();
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = parse_flags(argc, argv);
  if (!parsed) {
    std::cerr << "etcd-mesos-executor: " << parsed.error().message << "\n";
    return 2;
  }
  const Flags& flags = *parsed;
  if (flags.help) {
    print_help();
    return 0;
  }
  if (flags.version) {
    std::cout << version_line("etcd-mesos-executor") << "\n";
    return 0;
  }
  if (flags.etcd_restart_attempts < 0 || flags.etcd_restart_attempts > 100) {
    std::cerr << "etcd-mesos-executor: --etcd-restart-attempts must be between 0 and 100\n";
    return 2;
  }
  if (!set_log_level(flags.log_level)) {
    std::cerr << "etcd-mesos-executor: unknown --log-level '" << flags.log_level << "'\n";
    return 2;
  }
  const auto env = io::current_environment();
  auto settings = io::executor_settings_from(env);
  if (!settings) {
    std::cerr << "etcd-mesos-executor: " << settings.error().message << "\n";
    return 2;
  }
  try {
    return run(flags, *settings, env);
  } catch (const std::exception& e) {
    logger("executor")->critical("fatal: {}", e.what());
    return 1;
  }
}
