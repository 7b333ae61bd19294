// Real processes for integration tests: ZooKeeper and etcd from Debian's
// packages, and this project's own binaries. Each server runs on loopback
// with ports from a per-test range (free_port) in its own temporary directory,
// and is stopped by PID (SIGTERM, then SIGKILL) when the object is destroyed.
// Blocking API (tests are straight-line code); waits poll for an observable
// condition with a deadline, never a fixed sleep.
#pragma once

#include <sys/types.h>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace etcdmesos::testing {

// A free TCP port on `host` for a server a test starts, held for this test
// process's lifetime. It comes from 20000-30999: below the kernel's ephemeral
// range (32768-60999), so no outgoing connection's source port can take it
// between this call and the server's bind — a port the OS handed out and the
// test released could be, and was (a scheduler failed with "Address already
// in use"). Each port is an flock(2) on a file under
// $TMPDIR/etcd-mesos-ports, exclusive across test processes and dropped by
// the kernel when the holder exits; a port something else has bound is
// skipped. Agents' task ports (31000-...) are above the range.
uint16_t free_port(const std::string& host = "127.0.0.1");

// A /24 of 127.0.0.0/8 for one stack's agents, held for the lease's
// lifetime and exclusive across every test process on the machine: agents
// offer the same fixed port ranges (31000-...), so two stacks on one network
// would have their members bind each other's addresses. Each network is an
// flock(2) on a file under $TMPDIR/etcd-mesos-agent-networks; the kernel drops
// the lock when the holder exits, however it exits. first_ip() is
// "127.<a>.<b>.2"; agent i uses .2+i.
class AgentNetworkLease {
 public:
  AgentNetworkLease();
  ~AgentNetworkLease();
  AgentNetworkLease(const AgentNetworkLease&) = delete;
  AgentNetworkLease& operator=(const AgentNetworkLease&) = delete;
  const std::string& first_ip() const { return first_ip_; }

 private:
  int fd_ = -1;
  std::string first_ip_;
};

// A fresh directory under $TMPDIR, removed by the destructor unless the
// environment variable ETCDMESOS_KEEP_TMP is set.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix);
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A child process started with fork/exec, output to files in `log_dir`.
class ChildProcess {
 public:
  ChildProcess(std::vector<std::string> argv, std::filesystem::path log_dir,
               std::map<std::string, std::string> extra_env = {});
  ~ChildProcess();  // stop()
  pid_t pid() const { return pid_; }
  bool running();
  // SIGTERM, wait up to `grace`, then SIGKILL; reaps. Idempotent.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(5));
  void kill(int signo);  // signal without waiting
  // Waits for exit up to `timeout`; returns the raw wait status.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  std::string stdout_text() const;
  std::string stderr_text() const;

 private:
  pid_t pid_ = -1;
  std::filesystem::path log_dir_;
  std::optional<int> status_;
};

// Connects to host:port (IPv4 literal), sends `request`, and returns all
// bytes until the peer closes. nullopt on a connect error or when the whole
// exchange takes longer than `timeout`. For four-letter words and simple
// HTTP/1.1 requests sent with "Connection: close".
std::optional<std::string> tcp_exchange(const std::string& host, uint16_t port,
                                        const std::string& request,
                                        std::chrono::milliseconds timeout);

// The whole content of a file ("" when it cannot be read).
std::string read_file(const std::filesystem::path& path);

// A process of this machine, as /proc shows it: its command line with the
// arguments joined by spaces, and its name (at most 15 characters).
struct ProcessEntry {
  pid_t pid = 0;
  std::string cmdline;
  std::string comm;
};
std::vector<ProcessEntry> running_processes();

// Polls `condition` every 50 ms until it returns true or `timeout` passes.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

}  // namespace etcdmesos::testing
