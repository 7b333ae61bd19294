#include "support/zookeeper_server.hpp"

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace etcdmesos::testing {

namespace {

using Clock = std::chrono::steady_clock;

// zookeeper.jar's manifest Class-Path names its dependencies under
// /usr/share/java, so the jar alone is a complete classpath. slf4j-simple
// makes the server log to stderr (our log file) instead of slf4j's NOP.
constexpr const char* kClasspath = "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar";

std::string java_binary() {
  if (const char* home = std::getenv("JAVA_HOME"); home != nullptr && *home != '\0') {
    std::filesystem::path java = std::filesystem::path(home) / "bin" / "java";
    if (std::filesystem::exists(java)) {
      return java.string();
    }
  }
  return "/usr/bin/java";
}

}  // namespace

std::optional<std::string> zk_four_letter_word(uint16_t port, const std::string& word,
                                               std::chrono::milliseconds timeout) {
  return tcp_exchange("127.0.0.1", port, word, timeout);
}

ZooKeeperServer::ZooKeeperServer(ZooKeeperOptions options)
    : options_(options), dir_("etcdmesos-zk") {
  std::filesystem::create_directories(dir_.path() / "data");
  // A leased port (free_port) is free when leased; a start that fails anyway
  // (a slow JVM, a stray process on the port) is retried on a fresh one.
  for (int attempt = 0; attempt < 3; ++attempt) {
    port_ = free_port();
    if (start_once()) {
      return;
    }
  }
  throw std::runtime_error("ZooKeeper did not start; log:\n" + log_text());
}

ZooKeeperServer::~ZooKeeperServer() {
  stop();
}

std::string ZooKeeperServer::connect_string() const {
  return "127.0.0.1:" + std::to_string(port_);
}

std::string ZooKeeperServer::url(const std::string& path) const {
  return "zk://" + connect_string() + path;
}

void ZooKeeperServer::write_config() const {
  std::ofstream cfg(dir_.path() / "zoo.cfg", std::ios::trunc);
  cfg << "tickTime=" << options_.tick_time.count() << "\n"
      << "dataDir=" << (dir_.path() / "data").string() << "\n"
      << "clientPort=" << port_ << "\n"
      << "clientPortAddress=127.0.0.1\n"
      // The AdminServer would bind 0.0.0.0:8080 and clash between tests.
      << "admin.enableServer=false\n"
      << "4lw.commands.whitelist=srvr,ruok,stat,cons\n"
      << "maxSessionTimeout=" << options_.max_session_timeout.count() << "\n"
      << "maxClientCnxns=0\n";
}

bool ZooKeeperServer::start_once() {
  write_config();
  auto started = Clock::now();
  std::vector<std::string> argv = {
      java_binary(),
      // Faster JVM start-up and a small heap: several servers may run at once.
      "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xms32m", "-Xmx256m",
      "-Dzookeeper.jmx.log4j.disable=true", "-Dorg.slf4j.simpleLogger.showDateTime=true", "-cp",
      kClasspath, "org.apache.zookeeper.server.ZooKeeperServerMain",
      (dir_.path() / "zoo.cfg").string()};
  process_ = std::make_unique<ChildProcess>(argv, dir_.path() / "logs");
  bool up =
      wait_until([this] { return !process_->running() || serving(); }, options_.start_timeout);
  if (!up || !process_->running()) {
    process_->stop();
    return false;
  }
  last_start_duration_ =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  return true;
}

bool ZooKeeperServer::serving(std::chrono::milliseconds timeout) const {
  auto answer = zk_four_letter_word(port_, "srvr", timeout);
  return answer && answer->find("Zookeeper version") != std::string::npos;
}

bool ZooKeeperServer::running() {
  return process_ && process_->running();
}

void ZooKeeperServer::stop(std::chrono::milliseconds grace) {
  if (process_) {
    process_->stop(grace);
  }
}

void ZooKeeperServer::kill(int signo) {
  if (!process_) {
    return;
  }
  process_->kill(signo);
  if (signo == SIGKILL || signo == SIGTERM) {
    process_->stop();
  }
}

void ZooKeeperServer::restart() {
  stop();
  // Same port: clients keep their connect string. The old listening socket
  // is closed by now; ZooKeeper binds with SO_REUSEADDR.
  if (!start_once()) {
    throw std::runtime_error("ZooKeeper did not restart on port " + std::to_string(port_) +
                             "; log:\n" + log_text());
  }
}

std::string ZooKeeperServer::log_text() const {
  if (!process_) {
    return {};
  }
  return process_->stdout_text() + process_->stderr_text();
}

}  // namespace etcdmesos::testing
