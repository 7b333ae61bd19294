// Command-line options of etcd-mesos-scheduler. Both spellings of the
// original etcd-mesos are accepted: -cluster-size=3 and --cluster-size 3.
#pragma once

#include "common/error.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace etcdmesos::scheduler {

struct Options;
// The members' --quota-backend-bytes: the flag when given, else a quarter of
// the sandbox disk limit (the data directory also holds the WAL, snapshots
// and, during a reseed, a copy of the data), at most 8 GiB; 0 (etcd's
// default) without a disk limit.
uint64_t quota_backend_bytes(const Options& o);

struct Options {
  std::string master = "127.0.0.1:5050";  // host:port or zk://h1:p1,h2:p2/path
  std::string framework_name = "etcd";
  std::string framework_user = "root";
  std::string framework_role = "*";
  std::size_t cluster_size = 3;
  uint16_t admin_port = 23400;
  std::string address = "127.0.0.1";  // where the admin server listens
  std::string artifact_address;       // where the artifact server listens ("" = address)
  uint16_t artifact_port = 0;         // 0 = pick one
  bool admin_insecure = false;        // a non-loopback admin interface without a secret
  std::string executor_bin;
  std::string etcd_bin = "/usr/bin/etcd";
  std::string etcdctl_bin = "/usr/bin/etcdctl";
  double sandbox_cpu_limit = 1;
  double sandbox_mem_limit_mb = 256;
  double sandbox_disk_limit_mb = 1024;
  bool single_instance_per_slave = true;
  double failover_timeout_seconds = 604800;
  std::string framework_weburi;
  double mesos_offer_refuse_seconds = 5;
  // With no cluster yet, offers are held up to this long to launch every
  // member at once (static bootstrap); 0 = only when one event brings all.
  double bootstrap_window_seconds = 2;
  std::string mesos_authentication_principal;
  std::string mesos_authentication_secret_file;
  double health_check_interval_seconds = 5;
  // Livelock (majority lost) for this long starts a reseed if auto_reseed.
  double reseed_timeout_seconds = 240;
  bool auto_reseed = true;
  // When set, mutating admin requests (POST /reseed, POST /unlock) need
  // "Authorization: Bearer <the file's content>".
  std::string admin_secret_file;
  // How often an executor restarts an etcd that exited unexpectedly, on its
  // data directory, before the task fails (0 = never; the member is replaced).
  int etcd_restart_attempts = 3;
  // Every member's etcd: auto-compaction of its history, and its backend
  // quota (0: derived from the sandbox disk limit, quota_backend_bytes()).
  std::string etcd_auto_compaction_mode = "periodic";
  std::string etcd_auto_compaction_retention = "1h";
  uint64_t etcd_quota_backend_bytes = 0;
  // An operator's CA (PEM certificate and unencrypted key): every member
  // serves clients and peers over TLS with a certificate this scheduler
  // signs, and accepts only clients with a certificate of the CA. Both or
  // neither. Certificates are valid etcd_cert_validity_hours.
  std::string etcd_ca_cert_file;
  std::string etcd_ca_key_file;
  double etcd_cert_validity_hours = 720;
  // zk://h1:p1,h2:p2/chroot: persist the framework ID and which member runs
  // where in ZooKeeper, and elect one leader among schedulers of the same
  // framework name (standbys). Empty = no persistence, no standbys.
  std::string zk_framework_persist;
  // -restore-from URI: the first bootstrap restores this etcd snapshot
  // (file://, an absolute path, http:// or https://; fetched by the agent).
  std::string restore_from;
  double zk_session_timeout_seconds = 10;
  // A file holding "user:password": the scheduler's ZooKeeper identity
  // (digest scheme); every node it creates may then be changed by that
  // identity only, and read by anyone unless zk_acl_world_read is false.
  std::string zk_auth_file;
  bool zk_acl_world_read = true;
  // Backups (issue 14): an etcd snapshot into backup_dir every
  // backup_interval_seconds, the newest backup_keep kept. Empty: none.
  std::string backup_dir;
  double backup_interval_seconds = 1800;
  std::size_t backup_keep = 24;
  // Periodic implicit reconciliation with the master.
  double reconcile_interval_seconds = 300;
  std::string log_level = "info";
  // --version: print version_line() and exit; nothing else is checked.
  bool show_version = false;
};

// Parses argv. On --help, prints the help text to stdout and returns an error
// whose message is empty; on --version, options with show_version set (not
// validated). Any bad flag is an error with a readable message.
Result<Options> parse_options(int argc, const char* const* argv);
std::string help_text();

// The content of a secret file without its trailing newline; throws
// std::runtime_error naming `flag` when it cannot be read.
std::string read_secret(const std::string& path, const char* flag);

}  // namespace etcdmesos::scheduler
