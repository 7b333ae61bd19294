#include "proxy/options.hpp"

#include "common/command_line.hpp"
#include "proxy/gateway_command.hpp"

#include <boost/program_options.hpp>

#include <cmath>
#include <fstream>
#include <sstream>

namespace etcdmesos::proxy {
namespace po = boost::program_options;

namespace {

po::options_description describe_options(ProxyOptions& o) {
  po::options_description d("etcd-mesos-proxy options");
  // clang-format off
  d.add_options()
    ("help", "print this help and exit")
    ("version", po::bool_switch(&o.show_version), "print the version and exit")
    ("master", po::value(&o.master)->default_value(o.master),
     "Mesos master: host:port, or zk://h1:p1,h2:p2/path to follow the leading master "
     "through ZooKeeper; members are read from its /master/state")
    ("members-url", po::value(&o.members_url),
     "read members from the scheduler's admin interface instead of the master, e.g. "
     "http://scheduler-host:23400/members (cheaper than /state; not with -master)")
    ("framework-name", po::value(&o.framework_name)->default_value(o.framework_name),
     "name of the etcd-mesos framework (the scheduler's -framework-name)")
    ("framework-id", po::value(&o.framework_id),
     "framework id, when several registered frameworks share the name")
    ("etcd-bin", po::value(&o.etcd_bin)->default_value(o.etcd_bin),
     "the etcd program; the proxy runs `etcd gateway start` (with -cert-file: `etcd grpc-proxy "
     "start`)")
    ("listen-client-urls", po::value(&o.listen_client_urls)->default_value(o.listen_client_urls),
     "one http://host:port URL where clients connect (etcd v3 gRPC and JSON API alike); "
     "https://host:port with -cert-file to serve clients over TLS")
    ("cert-file", po::value(&o.cert_file),
     "for a cluster whose scheduler has a CA (-etcd-ca-cert-file): a certificate of that CA "
     "without a common name (grpc-proxy refuses one), for clientAuth (also serverAuth and the "
     "listen host as a subject alternative name, to serve https). The proxy then "
     "runs `etcd grpc-proxy`, which speaks TLS with the members and serves gRPC clients "
     "(etcdctl, client libraries) but not the JSON API")
    ("key-file", po::value(&o.key_file), "the key of -cert-file")
    ("ca-file", po::value(&o.ca_file), "the cluster's CA certificate (-etcd-ca-cert-file)")
    ("data-dir", po::value(&o.data_dir),
     "directory where the endpoints last served are kept, so that a restarted proxy serves at "
     "once even while the master is unreachable (default: none)")
    ("poll-interval", po::value(&o.poll_interval_s)->default_value(o.poll_interval_s),
     "seconds between membership reads (the master's /state is expensive; one request at a "
     "time)")
    ("request-timeout", po::value(&o.request_timeout_s)->default_value(o.request_timeout_s),
     "seconds one membership read may take")
    ("gateway-retry-delay",
     po::value(&o.gateway_retry_delay_s)->default_value(o.gateway_retry_delay_s),
     "seconds the gateway waits before dialling a member it could not reach again")
    ("log-level", po::value(&o.log_level)->default_value(o.log_level),
     "trace, debug, info, warn or error");
  // clang-format on
  return d;
}

std::chrono::milliseconds millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(seconds * 1000)));
}

Result<void> validate(const ProxyOptions& o, bool master_given) {
  if (master_given && !o.members_url.empty()) {
    return make_error("give either -master or -members-url, not both");
  }
  if (o.members_url.empty() && o.master.empty()) {
    return make_error("-master is empty");
  }
  if (!o.members_url.empty() && o.members_url.rfind("http://", 0) != 0) {
    return make_error("-members-url must be an http:// URL, got '" + o.members_url + "'");
  }
  if (o.framework_name.empty()) {
    return make_error("-framework-name is empty");
  }
  if (!(o.poll_interval_s >= 0.1 && o.poll_interval_s <= 3600)) {
    return make_error("-poll-interval must be between 0.1 and 3600 seconds");
  }
  if (!(o.request_timeout_s >= 0.1 && o.request_timeout_s <= 600)) {
    return make_error("-request-timeout must be between 0.1 and 600 seconds");
  }
  if (!(o.gateway_retry_delay_s >= 0.1 && o.gateway_retry_delay_s <= 3600)) {
    return make_error("-gateway-retry-delay must be between 0.1 and 3600 seconds");
  }
  if (o.etcd_bin.empty()) {
    return make_error("-etcd-bin is empty");
  }
  if (auto listen = listen_address_from_urls(o.listen_client_urls); !listen) {
    return listen.error();
  }
  const int tls_files = !o.cert_file.empty() + !o.key_file.empty() + !o.ca_file.empty();
  if (tls_files != 0 && tls_files != 3) {
    return make_error("-cert-file, -key-file and -ca-file go together: give all three or none");
  }
  for (const auto& [flag, path] :
       {std::pair{"-cert-file", &o.cert_file}, std::pair{"-key-file", &o.key_file},
        std::pair{"-ca-file", &o.ca_file}}) {
    std::ifstream in(*path);
    if (!path->empty() && !in) {
      return make_error(std::string(flag) + ": cannot read '" + *path + "'");
    }
  }
  if (listens_with_tls(o.listen_client_urls) && tls_files == 0) {
    return make_error("-listen-client-urls: https:// needs -cert-file, -key-file and -ca-file");
  }
  return {};
}

}  // namespace

std::chrono::milliseconds ProxyOptions::poll_interval() const {
  return millis(poll_interval_s);
}

std::chrono::milliseconds ProxyOptions::request_timeout() const {
  return millis(request_timeout_s);
}

std::chrono::milliseconds ProxyOptions::gateway_retry_delay() const {
  return millis(gateway_retry_delay_s);
}

std::string proxy_help_text() {
  ProxyOptions defaults;
  std::ostringstream out;
  out << "Usage: etcd-mesos-proxy [options]\n"
      << "Finds the members of an etcd-mesos cluster (from the Mesos master, or the scheduler's\n"
      << "/members) and runs `etcd gateway` pointed at them on -listen-client-urls, restarting it\n"
      << "with the new endpoints whenever the membership changes. Clients (etcdctl, the v3 JSON\n"
      << "API) only need to retry. For a TLS cluster (a scheduler with -etcd-ca-cert-file) give\n"
      << "-cert-file/-key-file/-ca-file: it then runs `etcd grpc-proxy`, which speaks TLS with "
         "the\n"
      << "members and serves gRPC clients, plain or (https listen URL) over TLS, but not the JSON\n"
      << "API. Flags may be written -name=value (as in the original\n"
      << "etcd-mesos) or --name value.\n\n"
      << describe_options(defaults);
  return out.str();
}

Result<ProxyOptions> parse_proxy_options(int argc, const char* const* argv) {
  ProxyOptions o;
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
  const bool master_given = vm->count("master") && !(*vm)["master"].defaulted();
  if (auto ok = validate(o, master_given); !ok) {
    return ok.error();
  }
  return o;
}

}  // namespace etcdmesos::proxy
