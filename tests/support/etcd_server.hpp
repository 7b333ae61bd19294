// A real etcd 3.4 cluster (/usr/bin/etcd from Debian `etcd-server`) for tests.
//
// N members named m0..m{N-1} on 127.0.0.1 with free client and peer ports,
// each with its own data directory under one temporary directory, bootstrapped
// together (`--initial-cluster-state new`) with a unique
// `--initial-cluster-token`, logging JSON lines to stderr (`--logger=zap`).
// Inherited ETCD_* environment variables are scrubbed (etcd refuses a flag
// that is also set by environment).
//
// Healthy = every running member answers POST /v3/maintenance/status with the
// same non-zero leader (the status call adds no raft entry; /health would).
//
// Blocking API for straight-line tests; the constructor throws when the
// cluster does not become healthy. The destructor stops every member by PID.
#pragma once

#include "support/processes.hpp"

#include <chrono>
#include <csignal>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace etcdmesos::testing {

struct EtcdClusterOptions {
  std::size_t size = 3;
  std::chrono::milliseconds start_timeout{30000};
  std::vector<std::string> extra_args;  // added to every member's command line
};

// What /v3/maintenance/status reported (zero values when absent).
struct EtcdStatus {
  uint64_t member_id = 0;
  uint64_t leader = 0;
  uint64_t raft_index = 0;
  uint64_t raft_term = 0;
  std::vector<std::string> errors;
};

struct HttpAnswer {
  unsigned status = 0;
  std::string body;
};

class EtcdCluster {
 public:
  explicit EtcdCluster(EtcdClusterOptions options = {});
  explicit EtcdCluster(std::size_t size);
  ~EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  std::size_t size() const { return members_.size(); }
  std::string name(std::size_t i) const;
  uint16_t client_port(std::size_t i) const;
  uint16_t peer_port(std::size_t i) const;
  std::string client_url(std::size_t i) const;  // http://127.0.0.1:<client port>
  std::string peer_url(std::size_t i) const;    // http://127.0.0.1:<peer port>
  std::vector<std::string> client_urls() const;
  std::string cluster_token() const { return token_; }

  bool running(std::size_t i);
  // Sends `signo` to member i's process group; SIGKILL/SIGTERM are reaped.
  // SIGSTOP freezes the member (its port accepts but never answers);
  // SIGCONT thaws it.
  void kill(std::size_t i, int signo = SIGKILL);
  void stop(std::size_t i);  // SIGTERM, then SIGKILL; reaped
  void stop();               // every member
  // Starts member i again on its data directory (stopping it first).
  void restart(std::size_t i);

  // Member i's status, or nullopt when it does not answer within `timeout`.
  std::optional<EtcdStatus> status(std::size_t i,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(2));
  // True once every running member reports the same non-zero leader.
  bool wait_healthy(std::chrono::milliseconds timeout);
  // A JSON-gateway POST to member i (e.g. "/v3/kv/put"); nullopt on no answer.
  std::optional<HttpAnswer> post(std::size_t i, const std::string& target, const std::string& body,
                                 std::chrono::milliseconds timeout);
  std::string log_text(std::size_t i) const;

 private:
  struct MemberProcess {
    std::string name;
    uint16_t client_port = 0;
    uint16_t peer_port = 0;
    std::unique_ptr<ChildProcess> process;
  };
  std::vector<std::string> argv(std::size_t i) const;
  std::string initial_cluster() const;
  void start(std::size_t i);
  bool start_all();

  EtcdClusterOptions options_;
  TempDir dir_;
  std::string token_;
  std::vector<MemberProcess> members_;
};

// POST to 127.0.0.1:port with Connection: close; chunked bodies are decoded.
std::optional<HttpAnswer> http_post(uint16_t port, const std::string& target,
                                    const std::string& body, std::chrono::milliseconds timeout);

}  // namespace etcdmesos::testing
