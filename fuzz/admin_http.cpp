// The admin HTTP interface: the input is parsed as an HTTP request by
// Beast's request_parser (as the server does, with the same body limit) and,
// when it parses, routed by AdminServer::route against a snapshot of a
// scheduler in a rich state. No crash, and every answer is a real status
// with a body that fits the snapshot.
#include "fuzz_check.hpp"
#include "scheduler/admin_server.hpp"

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/parser.hpp>

#include <cstddef>
#include <cstdint>

namespace {

using etcdmesos::scheduler::AdminAction;
using etcdmesos::scheduler::AdminActionResult;
using etcdmesos::scheduler::AdminRequest;
using etcdmesos::scheduler::AdminSnapshot;

AdminSnapshot snapshot() {
  namespace core = etcdmesos::core;
  AdminSnapshot s;
  core::Member m;
  m.name = "etcd-1";
  m.task_id = "etcd-1-00ff";
  m.agent_id = "a1";
  m.host = "10.0.0.1";
  m.peer_port = 31000;
  m.client_port = 31001;
  m.state = core::TaskState::kRunning;
  s.members = {m};
  s.stats.running_servers = 1;
  core::HealthResult h;
  h.reason = "no quorum: 1 of 3 members reachable";
  h.members = {core::MemberHealth{"etcd-1", true, 0, 42, 7, "etcdserver: no leader"}};
  h.membership = {core::EtcdMember{1, "etcd-1", {m.peer_url()}, {m.client_url()}}};
  s.health = h;
  s.framework_id = "fw-\"quoted\"\n";
  s.subscribed = true;
  s.plan = "majority of members lost";
  s.livelocked = true;
  s.livelock_seconds = 12.5;
  s.livelock_reason = h.reason;
  s.reseed_in_seconds = 30;
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  namespace http = boost::beast::http;
  static const AdminSnapshot state = snapshot();
  http::request_parser<http::string_body> parser;
  parser.body_limit(64 * 1024);
  parser.header_limit(8 * 1024);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (!ec && !parser.is_done()) {
    parser.put_eof(ec);
  }
  if (ec || !parser.is_done()) {
    return 0;  // the server answers 400 or closes; nothing reaches route()
  }
  auto act = [](const AdminRequest& request) {
    return AdminActionResult{request.action == AdminAction::kReseed && !request.skip_silent,
                             "fuzz"};
  };
  const auto& req = parser.get();
  for (const std::string secret : {"", "s3cret"}) {
    auto res = etcdmesos::scheduler::AdminServer::route(req, state, act, secret);
    const unsigned status = res.result_int();
    FUZZ_CHECK(status >= 200 && status < 600);
    FUZZ_CHECK(res.body().size() < 1024 * 1024);
  }
  return 0;
}
