#include "executor/etcd_command.hpp"

namespace etcdmesos::executor {

namespace {

std::string url(bool tls, const std::string& host, uint32_t port) {
  // An IPv6 literal needs brackets in a URL.
  const bool bare_ipv6 = host.find(':') != std::string::npos && !host.starts_with("[");
  return (tls ? "https://" : "http://") + (bare_ipv6 ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

}  // namespace

std::vector<std::string> etcd_argv(const MemberTaskData& task, const std::string& etcd_bin,
                                   const std::string& data_dir, EtcdStart start,
                                   const TlsFiles* tls) {
  const std::string client_url = url(tls != nullptr, task.host, task.client_port);
  const std::string peer_url = url(tls != nullptr, task.host, task.peer_port);
  std::vector<std::string> argv{
      etcd_bin,
      "--name=" + task.name,
      "--data-dir=" + data_dir,
      "--listen-client-urls=" + client_url,
      "--advertise-client-urls=" + client_url,
      "--listen-peer-urls=" + peer_url,
      "--initial-advertise-peer-urls=" + peer_url,
      "--initial-cluster=" + task.initial_cluster,
      "--initial-cluster-state=" + task.cluster_state,
      "--initial-cluster-token=" + task.cluster_token,
      // capnslog (the 3.4 default) warns that it is deprecated; zap writes
      // JSON lines (reference etcd §2).
      "--logger=zap",
      "--log-outputs=stderr",
  };
  // History is compacted as it ages and the backend has a quota, so a
  // member cannot fill its sandbox (issue 13).
  if (!task.auto_compaction_mode.empty()) {
    argv.push_back("--auto-compaction-mode=" + task.auto_compaction_mode);
    argv.push_back("--auto-compaction-retention=" + task.auto_compaction_retention);
  }
  if (task.quota_backend_bytes > 0) {
    argv.push_back("--quota-backend-bytes=" + std::to_string(task.quota_backend_bytes));
  }
  if (tls != nullptr) {
    for (const char* prefix : {"--", "--peer-"}) {
      argv.push_back(std::string(prefix) + "cert-file=" + tls->cert);
      argv.push_back(std::string(prefix) + "key-file=" + tls->key);
      argv.push_back(std::string(prefix) + "trusted-ca-file=" + tls->ca);
      argv.push_back(std::string(prefix) + "client-cert-auth");
    }
  }
  if (start == EtcdStart::kForceNewCluster) {
    argv.push_back("--force-new-cluster");
  }
  return argv;
}

std::vector<std::string> restore_argv(const MemberTaskData& task, const std::string& etcdctl_bin,
                                      const std::string& file, const std::string& data_dir) {
  const std::string peer_url = url(task.tls, task.host, task.peer_port);
  return {etcdctl_bin,
          "snapshot",
          "restore",
          file,
          "--name=" + task.name,
          "--initial-cluster=" + task.name + "=" + peer_url,
          "--initial-cluster-token=" + task.cluster_token,
          "--initial-advertise-peer-urls=" + peer_url,
          "--data-dir=" + data_dir};
}

std::map<std::string, std::string> restore_environment(std::map<std::string, std::string> base) {
  auto env = etcd_environment(std::move(base));
  std::erase_if(env, [](const auto& entry) { return entry.first.starts_with("ETCDCTL_"); });
  env["ETCDCTL_API"] = "3";
  return env;
}

std::map<std::string, std::string> etcd_environment(std::map<std::string, std::string> base) {
  std::erase_if(base, [](const auto& entry) {
    const std::string& name = entry.first;
    return name.starts_with("ETCD_") || name.starts_with("MESOS_") ||
           name.starts_with("LIBPROCESS_");
  });
  return base;
}

}  // namespace etcdmesos::executor
