// The command line of the etcd process the proxy runs, and the listen
// address derived from -listen-client-urls. Pure.
//
// Why `etcd gateway` (reference etcd §10, §11): it forwards TCP, so one
// listener serves etcd v3 gRPC clients (etcdctl) and the v3 JSON API
// (POST /v3/kv/range) alike. `etcd grpc-proxy` answers gRPC only (no JSON
// gateway: /v3/... is 404), and the v2 `--proxy on` mode is deprecated and
// discovers members through peer URLs we would have to keep in sync.
// The gateway reads its endpoints only at start-up, so following the
// membership means restarting it (GatewaySupervisor).
//
// A cluster whose scheduler has a CA serves TLS and requires client
// certificates (issue 13). Given one (-cert-file, -key-file, -ca-file) the
// proxy runs `etcd grpc-proxy` instead: it ends TLS with the members using
// that certificate and serves its own clients plain or, with an https
// listen URL, over TLS with the same certificate. grpc-proxy answers gRPC
// (etcdctl, the client libraries) but not the JSON API.
#pragma once

#include "common/error.hpp"
#include "proxy/discovery.hpp"

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace etcdmesos::proxy {

struct GatewayCommand {
  std::string etcd_bin = "/usr/bin/etcd";
  std::string listen_addr;  // host:port
  // How long the gateway leaves an endpoint it could not dial before trying
  // it again (etcd's default is 1 min, far too long for a member that was
  // only restarting).
  std::chrono::milliseconds retry_delay{2000};
  // TLS to the members; all three or none. With them: grpc-proxy.
  std::string cert_file{};
  std::string key_file{};
  std::string ca_file{};
  // Serve clients over TLS too (an https listen URL), with the same files.
  bool serve_tls = false;
  // grpc-proxy's --data-dir; "" = its default under the working directory.
  std::string data_dir{};
};

// etcd gateway start --endpoints=a,b --listen-addr=h:p --retry-delay=2s;
// with a certificate: etcd grpc-proxy start --endpoints=a,b --listen-addr=h:p
// --cert= --key= --cacert= [--cert-file= --key-file= --trusted-ca-file=].
std::vector<std::string> gateway_argv(const GatewayCommand& command, const EndpointSet& endpoints);

// A Go duration string: "2s", "1500ms".
std::string go_duration(std::chrono::milliseconds d);

// "http://host:port" or "https://host:port" (one URL, no path) ->
// "host:port". The proxy listens on one address, so lists are errors.
Result<std::string> listen_address_from_urls(std::string_view urls);
// Whether that URL is https (clients are served over TLS).
bool listens_with_tls(std::string_view urls);

}  // namespace etcdmesos::proxy
