// GET /metrics: the scheduler's state in the Prometheus text exposition
// format (0.0.4), built with prometheus-cpp's core library from a snapshot
// of the scheduler (admin_json.hpp). Pure: no I/O, no clock.
//
// Every scrape builds the families afresh from the snapshot: counters are
// the core's cumulative counts (core::Counters, core::Stats) and the
// backup's and artifact server's, which never go back within a process;
// per-member series exist for the members the scheduler runs now, so a
// replaced member's series disappear with it. docs/administration.md
// ("Metrics") lists every family.
#pragma once

#include "scheduler/admin_json.hpp"

#include <string>
#include <string_view>

namespace etcdmesos::scheduler {

inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string metrics_text(const AdminSnapshot& snapshot);

}  // namespace etcdmesos::scheduler
