// The scheduler's admin HTTP interface:
//   GET  /         the web page (scheduler/web_page.hpp; also served by a
//                  standby)
//   GET  /members  running and starting members (JSON list)
//   GET  /stats    counters (JSON)
//   GET  /healthz  200 "ok" when the last health check passed, else 503 with
//                  the reason (total loss, livelock, reseed, or the check's)
//   GET  /health   the last health check with a per-member breakdown, and the
//                  scheduler's own state (JSON)
//   GET  /metrics  counters and gauges in the Prometheus text format
//                  (scheduler/metrics.hpp)
//   POST /reseed   reseed a livelocked cluster now (202; 409 with the reason
//                  when the scheduler refuses); ?skip-silent=true also goes
//                  without members Mesos reports running that do not answer
//                  (400 for any other parameter or value)
//   POST /unlock   leave the total-loss lock and bootstrap a new, empty
//                  cluster (202; 409 when not locked)
//   POST /backup   take a backup now (202; 409 when one cannot be taken now)
//   POST /restore?uri=URI
//                  leave the total-loss lock and bootstrap a new cluster from
//                  the snapshot at URI (202; 409 when not locked)
//   POST /cluster-size?size=N
//                  grow or shrink the cluster to N members, N in 1,3,5,7,9
//                  (202; 409 with the reason when refused)
// A standby scheduler (another one leads) answers every request with 503 and
// {"role":"standby","leader":"host:port"}.
// With a secret configured, POST requests need "Authorization: Bearer
// <secret>" (401 otherwise). A POST whose Origin is not this server, or,
// without a secret, whose Host is a name rather than an IP address or
// localhost, gets 403: a web page elsewhere must not reseed or unlock. Unknown paths get 404, other
// methods 405 with an Allow header and a line saying what the path is for. Threading: runs on the
// io_context of the executor given; the snapshot and action functions are called on that
// io_context.
#pragma once

#include "common/error.hpp"
#include "io/http.hpp"
#include "scheduler/admin_json.hpp"

#include <functional>
#include <string>

namespace etcdmesos::scheduler {

enum class AdminAction { kReseed, kUnlock, kBackup, kRestore, kResize };

// What an admin POST asks for.
struct AdminRequest {
  AdminAction action = AdminAction::kReseed;
  // POST /reseed?skip-silent=true: the operator accepts losing what only
  // silent members hold (see core::OperatorReseed).
  bool skip_silent = false;
  // POST /restore?uri=...: where the snapshot is (decoded; never empty).
  std::string uri;
  // POST /cluster-size?size=N: the size asked for (1..9, odd).
  std::size_t size = 0;
};

struct AdminActionResult {
  bool accepted = false;
  std::string message;  // what happens now, or why it was refused
};

using AdminActionHandler = std::function<AdminActionResult(const AdminRequest&)>;

// No endpoint reads a request body (actions take query parameters): a small
// one (a form post) is accepted and ignored, a larger one gets 413.
inline constexpr std::size_t kAdminBodyLimit = 1024;
// Open connections in all and from one client address: one host holding idle
// sockets leaves the others room to reach /healthz and /metrics.
inline constexpr std::size_t kAdminMaxConnections = 256;
inline constexpr std::size_t kAdminMaxConnectionsPerAddress = 32;

class AdminServer {
 public:
  AdminServer(boost::asio::any_io_executor ex, std::function<AdminSnapshot()> snapshot,
              AdminActionHandler act = {}, std::string secret = {});

  Result<io::Endpoint> listen(const io::Endpoint& bind);
  void stop();

  // Routing, separate from the socket so that it can be tested directly.
  // Without a handler, POST /reseed and /unlock answer 503.
  static io::Response route(const io::Request& req, const AdminSnapshot& snapshot,
                            const AdminActionHandler& act = {}, const std::string& secret = {});

 private:
  std::function<AdminSnapshot()> snapshot_;
  AdminActionHandler act_;
  std::string secret_;
  io::HttpServer server_;
};

}  // namespace etcdmesos::scheduler
