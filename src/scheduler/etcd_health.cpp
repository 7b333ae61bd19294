#include "scheduler/etcd_health.hpp"

#include "common/log.hpp"
#include "io/etcd_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <exception>

namespace etcdmesos::scheduler {

namespace asio = boost::asio;
using io::Endpoint;
using io::EtcdClient;
using std::chrono::milliseconds;

namespace {

std::optional<Endpoint> client_endpoint(const core::Member& m,
                                        const std::shared_ptr<io::TlsClient>& tls) {
  if (m.host.empty() || m.client_port == 0 || m.client_port > 65535) {
    return std::nullopt;
  }
  return Endpoint{m.host, static_cast<uint16_t>(m.client_port), m.tls ? tls : nullptr};
}

core::StatusSample unreachable(std::string error) {
  core::StatusSample s;
  s.error = std::move(error);
  return s;
}

asio::awaitable<core::StatusSample> sample_one(asio::any_io_executor ex, std::optional<Endpoint> to,
                                               milliseconds timeout) {
  if (!to) {
    co_return unreachable("no client address known");
  }
  EtcdClient client(ex, *to, timeout);
  auto status = co_await client.status();
  if (!status) {
    co_return unreachable(status.error().message);
  }
  core::StatusSample s;
  s.reachable = true;
  s.member_id = status->member_id;
  s.leader = status->leader;
  s.raft_index = status->raft_index;
  s.raft_term = status->raft_term;
  s.errors = status->errors;
  s.db_size = status->db_size;
  co_return s;
}

// Results of parallel status reads; shared with the spawned coroutines so
// that it outlives a caller that is torn down early.
struct Gather {
  explicit Gather(asio::any_io_executor ex, std::size_t n)
      : samples(n), remaining(n), done(ex, asio::steady_timer::time_point::max()) {}
  std::vector<core::StatusSample> samples;
  std::size_t remaining;
  asio::steady_timer done;
};

asio::awaitable<std::vector<core::StatusSample>> read_statuses(
    asio::any_io_executor ex, const std::vector<std::optional<Endpoint>>& endpoints,
    milliseconds timeout) {
  auto gather = std::make_shared<Gather>(ex, endpoints.size());
  for (std::size_t i = 0; i < endpoints.size(); ++i) {
    asio::co_spawn(ex, sample_one(ex, endpoints[i], timeout),
                   [gather, i](std::exception_ptr e, core::StatusSample s) {
                     gather->samples[i] = e ? unreachable("status read failed") : std::move(s);
                     if (--gather->remaining == 0) {
                       gather->done.cancel();
                     }
                   });
  }
  // Every read is bounded by `timeout`, so this wait is too. All of this
  // runs on one thread: no completion can slip in between check and wait.
  while (gather->remaining > 0) {
    boost::system::error_code ec;
    co_await gather->done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return std::move(gather->samples);
}

std::string probe_value() {
  static std::atomic<uint64_t> counter{0};
  return "health check " + std::to_string(++counter);
}

asio::awaitable<void> write_probe(asio::any_io_executor ex,
                                  const std::vector<std::optional<Endpoint>>& endpoints,
                                  const std::vector<core::StatusSample>& before,
                                  milliseconds budget, TimeSource& time,
                                  core::HealthObservations& obs) {
  const auto deadline = time.now() + budget;
  obs.probe_error = "no member answered the status read";
  for (std::size_t i : core::probe_order(before)) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - time.now());
    if (left <= milliseconds(0)) {
      obs.probe_error += " (probe time spent)";
      break;
    }
    EtcdClient client(ex, *endpoints[i], left);
    std::string key(kHealthProbeKey);
    std::string value = probe_value();
    auto put = co_await client.put(std::move(key), std::move(value));
    if (put) {
      obs.probe_ok = true;
      obs.probe_error.clear();
      co_return;
    }
    obs.probe_error = put.error().message;
  }
}

asio::awaitable<void> read_membership(asio::any_io_executor ex,
                                      const std::vector<std::optional<Endpoint>>& endpoints,
                                      const std::vector<core::StatusSample>& after,
                                      milliseconds timeout, core::HealthObservations& obs) {
  // In the probe's order: a member cut off from the cluster (or left over
  // from the cluster before a reseed) lists a membership that is not the
  // serving one.
  for (std::size_t i : core::probe_order(after)) {
    EtcdClient client(ex, *endpoints[i], timeout);
    auto list = co_await client.member_list();
    if (!list) {
      logger("health")->debug("member list from {} failed: {}", endpoints[i]->to_string(),
                              list.error().message);
      continue;
    }
    for (auto& m : *list) {
      obs.membership.push_back(core::EtcdMember{m.id, std::move(m.name), std::move(m.peer_urls),
                                                std::move(m.client_urls)});
    }
    co_return;
  }
}

// etcd's alarm list, read through the first member in the probe's order.
// etcd serves an alarm request through raft (3.4: the read is a committed
// entry, measured: the raft index rises by one per read), so it is read
// between the probe and the second status samples: while a NOSPACE alarm
// refuses the probe write, a served alarm read still shows the cluster
// committing (HealthResult::commits), which keeps a cluster that cannot
// take writes from looking like a lost majority (simulator seed 101090990).
asio::awaitable<void> read_alarms(asio::any_io_executor ex,
                                  const std::vector<std::optional<Endpoint>>& endpoints,
                                  const std::vector<core::StatusSample>& before,
                                  milliseconds timeout, core::HealthObservations& obs) {
  // Only when the probe went through or was refused for a full backend: a
  // cluster without a majority would only hold the read until its timeout
  // and push the check past its own.
  const bool worth_it =
      obs.probe_ok || obs.probe_error.find("database space exceeded") != std::string::npos;
  const auto order = core::probe_order(before);
  if (!worth_it || order.empty()) {
    co_return;
  }
  EtcdClient client(ex, *endpoints[order.front()], timeout);
  auto alarms = co_await client.alarms();
  if (!alarms) {
    logger("health")->debug("alarm list from {} failed: {}", endpoints[order.front()]->to_string(),
                            alarms.error().message);
    co_return;
  }
  for (auto& a : *alarms) {
    obs.alarms.push_back(core::MemberAlarm{a.member_id, std::move(a.alarm)});
  }
}

}  // namespace

asio::awaitable<core::HealthObservations> observe_health(asio::any_io_executor ex,
                                                         std::vector<core::Member> members,
                                                         HealthCheckOptions options) {
  std::vector<std::optional<Endpoint>> endpoints;
  for (const auto& m : members) {
    endpoints.push_back(client_endpoint(m, options.tls));
  }
  core::HealthObservations obs;
  auto before = co_await read_statuses(ex, endpoints, options.status_timeout);
  co_await write_probe(ex, endpoints, before, options.probe_timeout, *options.time, obs);
  co_await read_alarms(ex, endpoints, before, options.member_list_timeout, obs);
  auto after = co_await read_statuses(ex, endpoints, options.status_timeout);
  co_await read_membership(ex, endpoints, after, options.member_list_timeout, obs);
  for (std::size_t i = 0; i < members.size(); ++i) {
    obs.members.push_back(
        core::MemberObservation{members[i].name, std::move(before[i]), std::move(after[i])});
  }
  co_return obs;
}

}  // namespace etcdmesos::scheduler
