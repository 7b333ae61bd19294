// Gathers what the health verdict (core/health.hpp) needs from a running
// etcd cluster; the core judges it (HealthObserved). Part of the scheduler's
// shell (it joins the I/O layer's etcd client to the core's types), so that
// src/io does not depend on the core.
//
// One check:
//  1. maintenance status of every member, in parallel, each bounded by
//     `status_timeout` (a frozen member accepts TCP and never answers);
//  2. a probe write: put of kHealthProbeKey (a timestamp-free counter value)
//     through the first member that answered, then the next, until one
//     succeeds or `probe_timeout` is spent. It makes an idle cluster's commit
//     index advance; GET /health is not used (each call would add a raft
//     entry of its own, reference etcd §7);
//  3. maintenance status of every member again;
//  4. the member list from a member that answered.
// Each check therefore adds one revision to the key space under the reserved
// key below. Applications must not use keys under "/etcd-mesos/".
//
// Runs on the scheduler's io_context; never throws for what etcd does.
#pragma once

#include "core/health.hpp"
#include "core/types.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <string_view>
#include <vector>

#include "common/time_source.hpp"

namespace etcdmesos::io {
class TlsClient;
}

namespace etcdmesos::scheduler {

inline constexpr std::string_view kHealthProbeKey = "/etcd-mesos/health-probe";

struct HealthCheckOptions {
  std::chrono::milliseconds status_timeout{2000};
  std::chrono::milliseconds probe_timeout{5000};
  std::chrono::milliseconds member_list_timeout{2000};
  // The clock the probe's budget is spent on (across members).
  TimeSource* time = &real_time();
  // The CA and the scheduler's client certificate, for members that serve
  // TLS (core::Member::tls); null without a CA.
  std::shared_ptr<io::TlsClient> tls;
};

// The observations of one check.
boost::asio::awaitable<core::HealthObservations> observe_health(boost::asio::any_io_executor ex,
                                                                std::vector<core::Member> members,
                                                                HealthCheckOptions options = {});

}  // namespace etcdmesos::scheduler
