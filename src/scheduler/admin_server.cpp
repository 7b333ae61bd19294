#include "scheduler/admin_server.hpp"

namespace etcdmesos::scheduler {

namespace http = io::http;

AdminServer::AdminServer(boost::asio::any_io_executor ex, std::function<AdminSnapshot()> snapshot)
    : snapshot_(std::move(snapshot)),
      server_(
          ex,
          [this](io::HttpExchange& exchange) -> boost::asio::awaitable<void> {
            co_await exchange.respond(route(exchange.request(), snapshot_()));
          },
          64 * 1024) {}

Result<io::Endpoint> AdminServer::listen(const io::Endpoint& bind) {
  return server_.listen(bind);
}

void AdminServer::stop() {
  server_.stop();
}

io::Response AdminServer::route(const io::Request& req, const AdminSnapshot& snapshot) {
  std::string_view target = req.target();
  target = target.substr(0, target.find('?'));
  const bool known =
      target == "/members" || target == "/stats" || target == "/healthz" || target == "/health";
  if (!known) {
    return io::make_response(req, http::status::not_found, "not found\n", "text/plain");
  }
  if (req.method() != http::verb::get) {
    auto res = io::make_response(req, http::status::method_not_allowed,
                                 std::string(target) + " only answers GET\n", "text/plain");
    res.set(http::field::allow, "GET");
    return res;
  }
  if (target == "/members") {
    return io::make_response(req, http::status::ok, members_json(snapshot));
  }
  if (target == "/stats") {
    return io::make_response(req, http::status::ok, stats_json(snapshot));
  }
  if (target == "/health") {
    return io::make_response(req, http::status::ok, health_json(snapshot));
  }
  if (snapshot.stats.healthy) {
    return io::make_response(req, http::status::ok, "ok\n", "text/plain");
  }
  std::string reason = snapshot.health ? snapshot.health->reason : "no health check has passed yet";
  return io::make_response(req, http::status::service_unavailable, "unhealthy: " + reason + "\n",
                           "text/plain");
}

}  // namespace etcdmesos::scheduler
