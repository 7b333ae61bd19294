#include "scheduler/admin_server.hpp"

#include "scheduler/metrics.hpp"
#include "scheduler/web_page.hpp"

#include <boost/algorithm/string/case_conv.hpp>
#include <boost/url/parse.hpp>

#include <array>

namespace etcdmesos::scheduler {

namespace http = io::http;

namespace {

struct ActionPath {
  std::string_view target;
  AdminAction action;
  std::string_view purpose;
};

constexpr std::array<ActionPath, 5> kActionPaths{{
    {"/reseed", AdminAction::kReseed,
     "POST /reseed reseeds a livelocked cluster now: the live member with the highest raft "
     "index becomes a new one-member cluster and the others are retired once it is healthy. "
     "It is refused (409) unless the cluster has lost its majority. Members that Mesos "
     "reports running but that do not answer hold it back; POST /reseed?skip-silent=true "
     "goes without them, accepting that what only they hold is lost. GET /health shows the "
     "livelock and the reseed's progress."},
    {"/unlock", AdminAction::kUnlock,
     "POST /unlock leaves the total-loss lock: the scheduler forgets the lost cluster and "
     "bootstraps a new, empty one. To bootstrap it from a backup instead, use POST "
     "/restore?uri=URI (docs/incident-response.md)."},
    {"/backup", AdminAction::kBackup,
     "POST /backup takes a backup now: a snapshot of a healthy member, verified and written "
     "to -backup-dir. It is refused (409) without -backup-dir, while a backup is running, or "
     "while the cluster is not healthy. GET /health shows the last backup."},
    {"/restore", AdminAction::kRestore,
     "POST /restore?uri=URI leaves the total-loss lock and bootstraps a new cluster from the "
     "snapshot at URI (a file or http URI the Mesos fetcher can fetch, percent-encoded in the "
     "query). It is refused (409) unless the scheduler is locked after a total loss."},
    {"/cluster-size", AdminAction::kResize,
     "POST /cluster-size?size=N grows or shrinks the cluster to N members (1, 3, 5, 7 or 9), "
     "one member at a time. It is refused (409) with the reason when the size cannot be "
     "reached; the new size is kept across scheduler restarts."},
}};

// Compares without an early exit, so the time taken does not reveal how
// much of a guess was right (only whether its length was).
bool same_secret(std::string_view given, std::string_view secret) {
  if (given.size() != secret.size()) {
    return false;
  }
  unsigned char diff = 0;
  for (std::size_t i = 0; i < given.size(); ++i) {
    diff |= static_cast<unsigned char>(given[i] ^ secret[i]);
  }
  return diff == 0;
}

bool authorized(const io::Request& req, const std::string& secret) {
  if (secret.empty()) {
    return true;
  }
  const auto header = req[http::field::authorization];
  constexpr std::string_view kBearer = "Bearer ";
  if (!header.starts_with(kBearer)) {
    return false;
  }
  return same_secret(header.substr(kBearer.size()), secret);
}

// Why a mutating request may come from a page in a browser rather than from
// an operator, or nothing. A page on another site can make a browser post to
// any server the browser reaches, without reading the answer:
// - a browser names the page's origin in `Origin`; it must be this server
//   (the authority the request was sent to, `Host`);
// - without a secret, a page could also reach this server under a name of
//   its own (DNS rebinding: its name resolving to this address), so `Host`
//   must then be an IP address or localhost. With a secret it cannot: the
//   page does not know the Bearer token, and a browser adds none by itself.
std::optional<std::string> foreign_request(const io::Request& req, bool has_secret) {
  const std::string host = boost::algorithm::to_lower_copy(std::string(req[http::field::host]));
  if (const auto origin = req[http::field::origin]; !origin.empty()) {
    auto url = boost::urls::parse_absolute_uri(origin);
    if (!url || !url->has_authority() ||
        boost::algorithm::to_lower_copy(std::string(url->encoded_authority())) != host) {
      return "Origin '" + std::string(origin.substr(0, 128)) + "' is not this server ('" +
             host.substr(0, 128) + "'): mutating requests are not taken from other sites";
    }
  }
  if (!has_secret) {
    auto authority = boost::urls::parse_authority(host);
    const bool address = authority && (authority->host_type() == boost::urls::host_type::ipv4 ||
                                       authority->host_type() == boost::urls::host_type::ipv6);
    if (!address && !(authority && authority->host_address() == "localhost")) {
      return "Host '" + host.substr(0, 128) +
             "' is a name: without --admin-secret-file mutating requests are taken only "
             "for an IP address or localhost";
    }
  }
  return std::nullopt;
}

io::Response text(const io::Request& req, http::status status, std::string body) {
  return io::make_response(req, status, std::move(body) + "\n", "text/plain");
}

// The query string of an action: /reseed takes skip-silent=true|false,
// /restore uri=URI (required), /cluster-size size=N (required); the others
// take none. Anything else is an error message.
Result<AdminRequest> parse_action(std::string_view target, AdminAction action) {
  AdminRequest request;
  request.action = action;
  auto url = boost::urls::parse_origin_form(target);
  if (!url) {
    return make_error("the request target is not a valid path and query");
  }
  for (const auto& param : url->params()) {
    if (param.key.empty() && !param.has_value) {
      continue;
    }
    if (action == AdminAction::kReseed && param.key == "skip-silent") {
      if (param.value == "true") {
        request.skip_silent = true;
      } else if (param.value == "false") {
        request.skip_silent = false;
      } else {
        return make_error("skip-silent must be true or false, not '" + param.value.substr(0, 64) +
                          "'");
      }
    } else if (action == AdminAction::kRestore && param.key == "uri") {
      request.uri = param.value;
    } else if (action == AdminAction::kResize && param.key == "size") {
      const std::string& v = param.value;
      if (v.size() != 1 || v[0] < '1' || v[0] > '9' || (v[0] - '0') % 2 == 0) {
        return make_error("size must be 1, 3, 5, 7 or 9, not '" + v.substr(0, 64) + "'");
      }
      request.size = static_cast<std::size_t>(v[0] - '0');
    } else {
      return make_error("unknown parameter '" + param.key.substr(0, 64) + "'");
    }
  }
  if (action == AdminAction::kRestore && request.uri.empty()) {
    return make_error("uri is required");
  }
  if (action == AdminAction::kResize && request.size == 0) {
    return make_error("size is required");
  }
  return request;
}

io::Response route_action(const io::Request& req, const ActionPath& path,
                          const AdminActionHandler& act, const std::string& secret) {
  if (req.method() != http::verb::post) {
    auto res = text(req, http::status::method_not_allowed, std::string(path.purpose));
    res.set(http::field::allow, "POST");
    return res;
  }
  if (auto why = foreign_request(req, !secret.empty())) {
    return text(req, http::status::forbidden, *why);
  }
  if (!authorized(req, secret)) {
    auto res = text(req, http::status::unauthorized,
                    "this request needs 'Authorization: Bearer <secret>' (--admin-secret-file)");
    res.set(http::field::www_authenticate, "Bearer realm=\"etcd-mesos\"");
    return res;
  }
  const auto request = parse_action(req.target(), path.action);
  if (!request) {
    return text(req, http::status::bad_request,
                request.error().message + "; " + std::string(path.purpose));
  }
  if (!act) {
    return text(req, http::status::service_unavailable, "not available");
  }
  const auto result = act(*request);
  return text(req, result.accepted ? http::status::accepted : http::status::conflict,
              result.message);
}

io::Response healthz(const io::Request& req, const AdminSnapshot& snapshot) {
  if (snapshot.stats.healthy) {
    return text(req, http::status::ok, "ok");
  }
  std::string reason;
  if (snapshot.locked) {
    reason =
        (snapshot.total_loss ? "locked after a total loss: " : "locked: ") + snapshot.lock_reason;
  } else if (!snapshot.reseed.empty()) {
    reason = "reseeding: " + snapshot.reseed;
  } else if (snapshot.livelocked) {
    reason = "livelocked (majority of members lost) for " +
             std::to_string(static_cast<long>(snapshot.livelock_seconds)) +
             " s: " + snapshot.livelock_reason + "; " +
             (snapshot.reseed_in_seconds
                  ? "automatic reseed in " +
                        std::to_string(static_cast<long>(*snapshot.reseed_in_seconds)) + " s"
                  : std::string("automatic reseed is off: POST /reseed to reseed"));
  } else if (snapshot.partitioned) {
    reason = "partitioned: the scheduler is cut off from members that may still serve (" +
             snapshot.partition_reason + "); nothing is reseeded or killed meanwhile";
  } else {
    reason = "unhealthy: " +
             (snapshot.health ? snapshot.health->reason : "no health check has passed yet");
  }
  return text(req, http::status::service_unavailable, reason);
}

}  // namespace

AdminServer::AdminServer(boost::asio::any_io_executor ex, std::function<AdminSnapshot()> snapshot,
                         AdminActionHandler act, std::string secret)
    : snapshot_(std::move(snapshot)),
      act_(std::move(act)),
      secret_(std::move(secret)),
      server_(
          ex,
          [this](io::HttpExchange& exchange) -> boost::asio::awaitable<void> {
            co_await exchange.respond(route(exchange.request(), snapshot_(), act_, secret_));
          },
          kAdminBodyLimit) {
  server_.set_connection_limits(kAdminMaxConnections, kAdminMaxConnectionsPerAddress);
}

Result<io::Endpoint> AdminServer::listen(const io::Endpoint& bind) {
  return server_.listen(bind);
}

void AdminServer::stop() {
  server_.stop();
}

io::Response AdminServer::route(const io::Request& req, const AdminSnapshot& snapshot,
                                const AdminActionHandler& act, const std::string& secret) {
  std::string_view target = req.target();
  target = target.substr(0, target.find('?'));
  // The page is served by a standby too: it polls /health, gets the
  // standby's answer and shows who leads.
  if (auto page = web_page_response(req)) {
    return std::move(*page);
  }
  if (snapshot.role == "standby") {
    // A standby knows nothing current: it says so and names who does.
    return io::make_response(req, http::status::service_unavailable, standby_json(snapshot));
  }
  for (const auto& path : kActionPaths) {
    if (target == path.target) {
      return route_action(req, path, act, secret);
    }
  }
  const bool known = target == "/members" || target == "/stats" || target == "/healthz" ||
                     target == "/health" || target == "/metrics";
  if (!known) {
    return text(req, http::status::not_found, "not found");
  }
  if (req.method() != http::verb::get) {
    auto res =
        text(req, http::status::method_not_allowed, std::string(target) + " only answers GET");
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
  if (target == "/metrics") {
    return io::make_response(req, http::status::ok, metrics_text(snapshot),
                             std::string(kMetricsContentType));
  }
  return healthz(req, snapshot);
}

}  // namespace etcdmesos::scheduler
