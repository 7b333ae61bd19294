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
};

// etcd gateway start --endpoints=a,b --listen-addr=h:p --retry-delay=2s
std::vector<std::string> gateway_argv(const GatewayCommand& command, const EndpointSet& endpoints);

// A Go duration string: "2s", "1500ms".
std::string go_duration(std::chrono::milliseconds d);

// "http://host:port" (one URL, no path) -> "host:port". The gateway forwards
// plain TCP on one address, so https and lists of URLs are errors.
Result<std::string> listen_address_from_urls(std::string_view urls);

}  // namespace etcdmesos::proxy
