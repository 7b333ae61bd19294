// The etcd command line for a member task (reference etcd §2): name, data dir
// in the sandbox, peer and client URLs on the agent's address, initial
// cluster, state and token, zap logging to stderr.
#pragma once

#include "codec/task_data.hpp"

#include <map>
#include <string>
#include <vector>

namespace etcdmesos::executor {

enum class EtcdStart {
  kNormal,
  // Once, to reseed: etcd rewrites its membership to itself alone, keeping
  // its data (reference etcd §9). Never again after that start.
  kForceNewCluster,
};

// The member's certificate, its key and the CA that signed it, in the
// sandbox. With them etcd serves clients and peers over TLS and accepts only
// clients and peers with a certificate of that CA (--client-cert-auth,
// --peer-client-cert-auth); the same certificate serves as its peer client
// certificate. etcd 3.4 reads the files on each new connection, so a renewed
// certificate needs no restart.
struct TlsFiles {
  std::string cert;
  std::string key;
  std::string ca;
};

std::vector<std::string> etcd_argv(const MemberTaskData& task, const std::string& etcd_bin,
                                   const std::string& data_dir,
                                   EtcdStart start = EtcdStart::kNormal,
                                   const TlsFiles* tls = nullptr);

// The etcdctl 3.4 command that restores a member's snapshot `file` into
// `data_dir` (which must not exist) as a new one-member cluster: the
// member's name, its peer URL (https with TLS) as the initial cluster and
// advertised peer URL, and the task's cluster token, so the restored cluster
// gets a new cluster ID. etcdctl checks the SHA-256 etcd appends to a
// snapshot and refuses a file without it. Run with restore_environment().
std::vector<std::string> restore_argv(const MemberTaskData& task, const std::string& etcdctl_bin,
                                      const std::string& file, const std::string& data_dir);
// etcd_environment(base) with ETCDCTL_API=3 and no other ETCDCTL_* variable.
std::map<std::string, std::string> restore_environment(std::map<std::string, std::string> base);

// The environment for etcd: `base` without any ETCD_* variable (etcd exits
// when a flag is also set through the environment), and without the agent's
// MESOS_* and LIBPROCESS_* variables: etcd needs none of them, and they
// include the executor's own credential (MESOS_EXECUTOR_AUTHENTICATION_TOKEN),
// which must not reach a process that serves clients.
std::map<std::string, std::string> etcd_environment(std::map<std::string, std::string> base);

}  // namespace etcdmesos::executor
