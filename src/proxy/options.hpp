// Command-line options of etcd-mesos-proxy. Both spellings of the original
// etcd-mesos are accepted: -framework-name=etcd and --framework-name etcd.
#pragma once

#include "common/error.hpp"

#include <chrono>
#include <string>

namespace etcdmesos::proxy {

struct ProxyOptions {
  std::string master = "127.0.0.1:5050";  // host:port or zk://h1:p1,h2:p2/path
  std::string members_url;                // http://host:port/members; replaces -master
  std::string framework_name = "etcd";
  std::string framework_id;  // "" = the framework with that name
  std::string etcd_bin = "/usr/bin/etcd";
  std::string listen_client_urls = "http://localhost:2379";
  std::string data_dir;  // "" = do not remember endpoints across restarts
  double poll_interval_s = 5;
  double request_timeout_s = 10;
  double gateway_retry_delay_s = 2;
  // A client certificate of the cluster's CA (issue 13): TLS to the
  // members through `etcd grpc-proxy`; all three or none.
  std::string cert_file;
  std::string key_file;
  std::string ca_file;
  std::string log_level = "info";
  // --version: print the version and exit; nothing else is checked.
  bool show_version = false;

  std::chrono::milliseconds poll_interval() const;
  std::chrono::milliseconds request_timeout() const;
  std::chrono::milliseconds gateway_retry_delay() const;
};

// Parses argv. On --help returns an error whose message is empty (print
// help_text()); on --version, options with show_version set (not validated). Any bad flag is an
// error with a readable message.
Result<ProxyOptions> parse_proxy_options(int argc, const char* const* argv);
std::string proxy_help_text();

}  // namespace etcdmesos::proxy
