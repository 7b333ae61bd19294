#include "scheduler/options.hpp"

#include "codec/task_data.hpp"
#include "common/command_line.hpp"
#include "io/framework_store.hpp"
#include "scheduler/backup.hpp"
#include "scheduler/restore_uri.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/program_options.hpp>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace etcdmesos::scheduler {
namespace po = boost::program_options;

uint64_t quota_backend_bytes(const Options& o) {
  if (o.etcd_quota_backend_bytes > 0) {
    return o.etcd_quota_backend_bytes;
  }
  if (o.sandbox_disk_limit_mb <= 0) {
    return 0;
  }
  const double quarter = o.sandbox_disk_limit_mb * 1024 * 1024 / 4;
  return quarter >= static_cast<double>(kMaxQuotaBackendBytes) ? kMaxQuotaBackendBytes
                                                               : static_cast<uint64_t>(quarter);
}

namespace {

po::options_description describe_options(Options& o) {
  po::options_description d("etcd-mesos-scheduler options");
  // clang-format off
  d.add_options()
    ("help", "print this help and exit")
    ("version", po::bool_switch(&o.show_version), "print the version and exit")
    ("master", po::value(&o.master)->default_value(o.master),
     "Mesos master: host:port, or zk://h1:p1,h2:p2/path to follow the leading master "
     "through ZooKeeper")
    ("framework-name", po::value(&o.framework_name)->default_value(o.framework_name),
     "framework name; also names the etcd cluster (members are <name>-<n>)")
    ("framework-user", po::value(&o.framework_user)->default_value(o.framework_user),
     "Unix user the executors and etcd run as on the agents")
    ("framework-role", po::value(&o.framework_role)->default_value(o.framework_role),
     "Mesos role to take offers for")
    ("cluster-size", po::value(&o.cluster_size)->default_value(o.cluster_size),
     "number of etcd members to run (1..9; odd sizes tolerate failures best). POST "
     "/cluster-size changes it while running; with --zk-framework-persist the size set so is "
     "kept in ZooKeeper and wins over this flag when a scheduler starts")
    ("admin-port", po::value(&o.admin_port)->default_value(o.admin_port),
     "port of the admin HTTP interface (GET /members, /stats, /healthz, /health; "
     "/metrics, the web page at /; POST /reseed, /unlock, /restore?uri=URI, /backup, "
     "/cluster-size?size=N)")
    ("address", po::value(&o.address)->default_value(o.address),
     "IP address the admin interface listens on, and the artifact server too unless "
     "--artifact-address is given. Other than a loopback address it needs "
     "--admin-secret-file (or --admin-insecure)")
    ("artifact-address", po::value(&o.artifact_address),
     "IP address the artifact server listens on; the agents must reach it (default: "
     "--address). Lets the admin interface stay on loopback or a management network")
    ("admin-insecure",
     po::value(&o.admin_insecure)->default_value(o.admin_insecure)->implicit_value(true),
     "accept an admin interface on a non-loopback --address without --admin-secret-file: "
     "anyone who reaches it can reseed or unlock the cluster")
    ("artifact-port", po::value(&o.artifact_port)->default_value(o.artifact_port),
     "port of the artifact server that agents fetch the executor, etcd and etcdctl "
     "from, through their fetcher cache, at /artifacts/<sha256 prefix>/<name> "
     "(0 = any free port)")
    ("executor-bin", po::value(&o.executor_bin),
     "path of the etcd-mesos-executor binary to serve (default: next to this program)")
    ("etcd-bin", po::value(&o.etcd_bin)->default_value(o.etcd_bin),
     "path of the etcd binary to serve to agents")
    ("etcdctl-bin", po::value(&o.etcdctl_bin)->default_value(o.etcdctl_bin),
     "path of the etcdctl binary to serve to agents")
    ("sandbox-cpu-limit", po::value(&o.sandbox_cpu_limit)->default_value(o.sandbox_cpu_limit),
     "CPUs per member task")
    ("sandbox-mem-limit", po::value(&o.sandbox_mem_limit_mb)->default_value(o.sandbox_mem_limit_mb),
     "memory per member task, in MB")
    ("sandbox-disk-limit", po::value(&o.sandbox_disk_limit_mb)->default_value(o.sandbox_disk_limit_mb),
     "disk per member task, in MB")
    ("single-instance-per-slave",
     po::value(&o.single_instance_per_slave)->default_value(o.single_instance_per_slave)
         ->implicit_value(true),
     "never run two members on one agent (true/false)")
    ("failover-timeout-seconds",
     po::value(&o.failover_timeout_seconds)->default_value(o.failover_timeout_seconds),
     "how long Mesos keeps the members running while no scheduler is connected")
    ("framework-weburi", po::value(&o.framework_weburi),
     "web UI URL shown by Mesos (default: the admin interface)")
    ("mesos-offer-refuse-seconds",
     po::value(&o.mesos_offer_refuse_seconds)->default_value(o.mesos_offer_refuse_seconds),
     "how long Mesos should not re-offer resources this scheduler declined")
    ("bootstrap-window",
     po::value(&o.bootstrap_window_seconds)->default_value(o.bootstrap_window_seconds),
     "seconds to hold offers when there is no cluster yet, so that every member starts at "
     "once with one --initial-cluster (static bootstrap); when fewer agents than "
     "--cluster-size offered by then, the first member starts alone and the others join one "
     "at a time (0 = start all at once only when one offer event holds enough agents)")
    ("mesos-authentication-principal", po::value(&o.mesos_authentication_principal),
     "principal for HTTP basic authentication with the master (also FrameworkInfo.principal)")
    ("mesos-authentication-secret-file", po::value(&o.mesos_authentication_secret_file),
     "file holding the secret for HTTP basic authentication")
    ("health-check-interval",
     po::value(&o.health_check_interval_seconds)->default_value(o.health_check_interval_seconds),
     "seconds between etcd health checks")
    ("reseed-timeout",
     po::value(&o.reseed_timeout_seconds)->default_value(o.reseed_timeout_seconds),
     "seconds a majority of members may stay lost (livelock: etcd can change nothing) before "
     "the scheduler reseeds: the live member with the highest raft index becomes a new "
     "one-member cluster holding its data, the other old members are retired once it is "
     "healthy, and the cluster grows back. Writes only the seed lacked are lost")
    ("auto-reseed",
     po::value(&o.auto_reseed)->default_value(o.auto_reseed)->implicit_value(true),
     "reseed automatically after --reseed-timeout (true/false); with false a livelocked "
     "cluster is left alone until an operator sends POST /reseed to the admin port")
    ("admin-secret-file", po::value(&o.admin_secret_file),
     "file holding a secret; when given, mutating admin requests (POST /reseed, "
     "POST /unlock) need the header 'Authorization: Bearer <secret>'")
    ("etcd-restart-attempts",
     po::value(&o.etcd_restart_attempts)->default_value(o.etcd_restart_attempts),
     "how often an executor restarts an etcd that exited unexpectedly, on its data directory "
     "and with growing pauses, before the task fails and the member is replaced (0 = never; "
     "a member removed from the cluster is never restarted)")
    ("etcd-auto-compaction-mode",
     po::value(&o.etcd_auto_compaction_mode)->default_value(o.etcd_auto_compaction_mode),
     "how members compact their key history: periodic (keep what is younger than the "
     "retention) or revision (keep the newest retention revisions); etcd's "
     "--auto-compaction-mode")
    ("etcd-auto-compaction-retention",
     po::value(&o.etcd_auto_compaction_retention)
         ->default_value(o.etcd_auto_compaction_retention),
     "for periodic: hours, or a duration such as 30m or 1h30m; for revision: a number of "
     "revisions; etcd's --auto-compaction-retention")
    ("etcd-quota-backend-bytes",
     po::value(&o.etcd_quota_backend_bytes)->default_value(o.etcd_quota_backend_bytes),
     "members' backend quota in bytes (etcd raises a NOSPACE alarm and refuses writes beyond "
     "it); 0 = a quarter of --sandbox-disk-limit, at most 8 GiB")
    ("etcd-ca-cert-file", po::value(&o.etcd_ca_cert_file),
     "the operator's CA certificate (PEM), with --etcd-ca-key-file: every member then serves "
     "clients and peers over TLS and accepts only clients and peers holding a certificate of "
     "this CA. Each member's executor makes its own key (it never leaves the agent) and asks "
     "this scheduler to sign it; the scheduler's own etcd client uses a certificate it issues "
     "itself. Without a CA members serve plain HTTP to anyone who reaches them")
    ("etcd-ca-key-file", po::value(&o.etcd_ca_key_file),
     "the CA's private key (PEM, unencrypted; keep the file readable by the scheduler only)")
    ("etcd-cert-validity",
     po::value(&o.etcd_cert_validity_hours)->default_value(o.etcd_cert_validity_hours),
     "hours a member certificate is valid; members renew theirs at two thirds of it, without "
     "a restart")
    ("zk-framework-persist", po::value(&o.zk_framework_persist),
     "zk://h1:p1,h2:p2/chroot: keep the framework ID and which member runs on which agent "
     "in ZooKeeper under <chroot>/<framework-name>, so that a restarted scheduler re-subscribes "
     "as the same framework and adopts the running members after reconciling with Mesos. "
     "Schedulers started with the same URL and framework name elect one leader; the others "
     "wait as standbys and take over when it goes. Without it a restarted scheduler starts "
     "a new framework")
    ("zk-session-timeout",
     po::value(&o.zk_session_timeout_seconds)->default_value(o.zk_session_timeout_seconds),
     "ZooKeeper session timeout in seconds (with --zk-framework-persist): a standby takes "
     "over within about this long after the leader died")
    ("zk-auth-file", po::value(&o.zk_auth_file),
     "file holding user:password, the scheduler's ZooKeeper identity (digest scheme, with "
     "--zk-framework-persist): every node it creates may then be changed by that identity "
     "only, so give standbys the same file. Without it the nodes are open to anyone")
    ("zk-acl-world-read",
     po::value(&o.zk_acl_world_read)->default_value(o.zk_acl_world_read)->implicit_value(true),
     "with --zk-auth-file: whether anyone may still read the nodes (true/false)")
    ("restore-from", po::value(&o.restore_from)->value_name("URI"),
     "an etcd snapshot (as 'etcdctl snapshot save' or -backup-dir writes it) to bootstrap "
     "the cluster from instead of starting empty: file:///path or /path (on the agent that "
     "runs the first member; the Mesos fetcher copies it), http:// or https://. The first "
     "member restores it alone with a new cluster ID, the others join it. Used only by a "
     "scheduler that knows no cluster: with --zk-framework-persist it is ignored once any "
     "task is recorded, so a restart with the flag still set never restores over a running "
     "cluster (without persistence a restarted scheduler knows no cluster and restores again). "
     "A snapshot that fails to restore locks the scheduler with the reason; after a total "
     "loss use POST /restore?uri=URI instead (docs/incident-response.md)")
    ("backup-dir", po::value(&o.backup_dir),
     "directory on the scheduler's host (local, or a mounted network filesystem) for etcd "
     "snapshots: every --backup-interval the scheduler takes one from a healthy member, "
     "verifies it (SHA-256, size, revision) and writes it atomically as "
     "etcd-backup-<UTC time>-r<revision>.db; POST /backup takes one at once. It must exist "
     "and be writable. Without it no backups are taken")
    ("backup-interval",
     po::value(&o.backup_interval_seconds)->default_value(o.backup_interval_seconds),
     "seconds between backups (with --backup-dir); a failed one is tried again after "
     "60 s (or this interval, if shorter)")
    ("backup-keep", po::value(&o.backup_keep)->default_value(o.backup_keep),
     "how many backups to keep (with --backup-dir): older ones are deleted after each new "
     "one is written and verified, never after a failure")
    ("reconcile-interval",
     po::value(&o.reconcile_interval_seconds)->default_value(o.reconcile_interval_seconds),
     "seconds between implicit reconciliations with the master while subscribed")
    ("log-level", po::value(&o.log_level)->default_value(o.log_level),
     "trace, debug, info, warn or error");
  // clang-format on
  return d;
}

Result<void> validate(const Options& o) {
  if (o.cluster_size < 1 || o.cluster_size > 9) {
    return make_error("--cluster-size must be between 1 and 9, got " +
                      std::to_string(o.cluster_size));
  }
  if (o.sandbox_cpu_limit <= 0 || o.sandbox_mem_limit_mb <= 0 || o.sandbox_disk_limit_mb < 0) {
    return make_error("--sandbox-cpu-limit and --sandbox-mem-limit must be positive");
  }
  if (o.failover_timeout_seconds < 0) {
    return make_error("--failover-timeout-seconds must not be negative");
  }
  if (o.mesos_offer_refuse_seconds < 0) {
    return make_error("--mesos-offer-refuse-seconds must not be negative");
  }
  if (o.bootstrap_window_seconds < 0 || o.bootstrap_window_seconds > 600) {
    return make_error("--bootstrap-window must be between 0 and 600 seconds");
  }
  if (o.health_check_interval_seconds <= 0) {
    return make_error("--health-check-interval must be positive");
  }
  if (o.reseed_timeout_seconds <= 0) {
    return make_error("--reseed-timeout must be positive");
  }
  if (o.etcd_restart_attempts < 0 || o.etcd_restart_attempts > 100) {
    return make_error("--etcd-restart-attempts must be between 0 and 100");
  }
  if (auto why =
          compaction_setting_error(o.etcd_auto_compaction_mode, o.etcd_auto_compaction_retention)) {
    return make_error("--etcd-auto-compaction-mode/--etcd-auto-compaction-retention: " + *why);
  }
  if (o.etcd_ca_cert_file.empty() != o.etcd_ca_key_file.empty()) {
    return make_error(
        "--etcd-ca-cert-file and --etcd-ca-key-file go together: give both or neither");
  }
  if (!(o.etcd_cert_validity_hours >= 1.0 / 60 && o.etcd_cert_validity_hours <= 24 * 3650)) {
    return make_error("--etcd-cert-validity must be between 1 minute (0.0167) and 87600 hours");
  }
  if (o.etcd_quota_backend_bytes > kMaxQuotaBackendBytes) {
    return make_error("--etcd-quota-backend-bytes must be at most 8 GiB (" +
                      std::to_string(kMaxQuotaBackendBytes) + ")");
  }
  if (o.framework_name.empty() || o.framework_name.size() > 64 ||
      o.framework_name.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
          std::string::npos) {
    return make_error("--framework-name must be 1-64 characters of [A-Za-z0-9._-]");
  }
  if (!o.zk_framework_persist.empty()) {
    if (auto location = io::persist_location(o.zk_framework_persist, o.framework_name); !location) {
      return location.error();
    }
  }
  if (o.zk_session_timeout_seconds < 1 || o.zk_session_timeout_seconds > 600) {
    return make_error("--zk-session-timeout must be between 1 and 600 seconds");
  }
  if (!(o.backup_interval_seconds > 0) || o.backup_interval_seconds > 366.0 * 24 * 3600) {
    return make_error("--backup-interval must be positive (seconds, at most a year)");
  }
  if (o.backup_keep < 1 || o.backup_keep > 100000) {
    return make_error("--backup-keep must be between 1 and 100000");
  }
  if (!o.backup_dir.empty()) {
    if (auto usable = check_backup_dir(o.backup_dir); !usable) {
      return usable.error();
    }
  }
  if (o.reconcile_interval_seconds <= 0) {
    return make_error("--reconcile-interval must be positive");
  }
  if (!o.restore_from.empty()) {
    if (auto bad = restore_uri_error(o.restore_from)) {
      return make_error("--restore-from: " + *bad);
    }
  }
  if (!o.zk_auth_file.empty() && o.zk_framework_persist.empty()) {
    return make_error("--zk-auth-file needs --zk-framework-persist");
  }
  boost::system::error_code ec;
  const auto admin = boost::asio::ip::make_address(o.address, ec);
  if (ec) {
    return make_error("--address must be an IP address, not '" + o.address + "'");
  }
  if (!o.artifact_address.empty()) {
    boost::asio::ip::make_address(o.artifact_address, ec);
    if (ec) {
      return make_error("--artifact-address must be an IP address, not '" + o.artifact_address +
                        "'");
    }
  }
  if (!admin.is_loopback() && o.admin_secret_file.empty() && !o.admin_insecure) {
    return make_error(
        "--address " + o.address +
        " is not a loopback address, and without --admin-secret-file anyone who reaches the "
        "admin interface could reseed or unlock the cluster. Give --admin-secret-file; or keep "
        "--address on loopback and set --artifact-address for the agents; or accept the risk "
        "with --admin-insecure");
  }
  if (o.mesos_authentication_principal.empty() != o.mesos_authentication_secret_file.empty()) {
    return make_error(
        "--mesos-authentication-principal and --mesos-authentication-secret-file go together");
  }
  return {};
}

}  // namespace

std::string read_secret(const std::string& path, const char* flag) {
  std::ifstream in(path);
  if (!in) {
    throw std::runtime_error(std::string("cannot read ") + flag + " " + path);
  }
  std::stringstream content;
  content << in.rdbuf();
  auto secret = content.str();
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) {
    secret.pop_back();
  }
  return secret;
}

std::string help_text() {
  Options defaults;
  std::ostringstream out;
  out << "Usage: etcd-mesos-scheduler [options]\n"
      << "Runs an etcd cluster of --cluster-size members on Apache Mesos, health-checks it and\n"
      << "repairs it. Flags may be written -name=value (as in the original etcd-mesos) or\n"
      << "--name value.\n\n"
      << describe_options(defaults);
  return out.str();
}

Result<Options> parse_options(int argc, const char* const* argv) {
  Options o;
  auto description = describe_options(o);
  auto vm = parse_command_line(argc, argv, description);
  if (!vm) {
    return vm.error();
  }
  if (vm->count("help")) {
    return make_error("");
  }
  if (o.show_version) {
    return o;
  }
  if (auto ok = validate(o); !ok) {
    return ok.error();
  }
  return o;
}

}  // namespace etcdmesos::scheduler
