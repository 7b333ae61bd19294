// The scheduler's admin HTTP interface:
//   GET /members  running and starting members (JSON list)
//   GET /stats    counters (JSON)
//   GET /healthz  200 "ok" when the last health check passed, else 503 with the reason
//   GET /health   the last health check with a per-member breakdown (JSON)
// Unknown paths get 404, other methods 405 with an Allow header.
// Threading: runs on the io_context of the executor given; the snapshot
// function is called on that io_context.
#pragma once

#include "common/error.hpp"
#include "io/http.hpp"
#include "scheduler/admin_json.hpp"

#include <functional>

namespace etcdmesos::scheduler {

class AdminServer {
 public:
  AdminServer(boost::asio::any_io_executor ex, std::function<AdminSnapshot()> snapshot);

  Result<io::Endpoint> listen(const io::Endpoint& bind);
  void stop();

  // Routing, separate from the socket so that it can be tested directly.
  static io::Response route(const io::Request& req, const AdminSnapshot& snapshot);

 private:
  std::function<AdminSnapshot()> snapshot_;
  io::HttpServer server_;
};

}  // namespace etcdmesos::scheduler
