// A real ZooKeeper 3.8 server (Debian package `zookeeper`) for tests.
//
// Runs `java ... org.apache.zookeeper.server.ZooKeeperServerMain zoo.cfg`
// directly (no zkServer.sh, no systemd): standalone, bound to 127.0.0.1 on a
// free port, with its own temporary data directory, the AdminServer (Jetty,
// port 8080) disabled and the `srvr`/`ruok` four-letter words allowed.
// Readiness is `srvr` answering with a version line (`ruok` already answers
// "imok" before the server serves requests, so it is not enough).
//
// Start-up (JVM + server) measured on the 2-core dev machine: 0.5-0.8 s.
//
// tickTime is short (200 ms by default) so that tests can use short session
// timeouts (the server allows 2 x tickTime .. max_session_timeout).
//
// Blocking API; the constructor throws when the server does not come up.
// The destructor stops the JVM by PID (SIGTERM, then SIGKILL).
#pragma once

#include "support/processes.hpp"

#include <chrono>
#include <csignal>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace etcdmesos::testing {

struct ZooKeeperOptions {
  std::chrono::milliseconds tick_time{200};
  std::chrono::milliseconds max_session_timeout{60000};
  std::chrono::milliseconds start_timeout{30000};
};

class ZooKeeperServer {
 public:
  explicit ZooKeeperServer(ZooKeeperOptions options = {});
  ~ZooKeeperServer();
  ZooKeeperServer(const ZooKeeperServer&) = delete;
  ZooKeeperServer& operator=(const ZooKeeperServer&) = delete;

  uint16_t port() const { return port_; }
  // "127.0.0.1:<port>", for zookeeper_init.
  std::string connect_string() const;
  // "zk://127.0.0.1:<port><path>" (path starts with '/').
  std::string url(const std::string& path) const;

  bool running();
  // Graceful stop (SIGTERM, SIGKILL after `grace`), reaped. Idempotent.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(5));
  // Sends `signo` to the server's process group; SIGKILL/SIGTERM are also
  // reaped, so that restart() can follow at once.
  void kill(int signo = SIGKILL);
  // Stops the server if it runs, then starts it again on the same port and
  // data directory (sessions and znodes survive) and waits until it serves.
  void restart();
  // True when `srvr` reports a serving server within `timeout`.
  bool serving(std::chrono::milliseconds timeout = std::chrono::milliseconds(500)) const;

  // Time the last start took until the server served requests.
  std::chrono::milliseconds last_start_duration() const { return last_start_duration_; }
  std::string log_text() const;  // the server's stdout + stderr so far

 private:
  void write_config() const;
  bool start_once();

  ZooKeeperOptions options_;
  TempDir dir_;
  uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> process_;
  std::chrono::milliseconds last_start_duration_{0};
};

// Sends a four-letter word to 127.0.0.1:port and returns the whole answer,
// or nullopt when the connection fails or times out.
std::optional<std::string> zk_four_letter_word(uint16_t port, const std::string& word,
                                               std::chrono::milliseconds timeout);

}  // namespace etcdmesos::testing
