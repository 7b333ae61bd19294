// The scheduler's memory while many slow clients fetch the etcd binary from
// its artifact server (issue 13: 100 slow clients once pushed it to 1.8 GB,
// when every response held a copy of the file).
#pragma once

#include "support/stack.hpp"

#include <sys/types.h>
#include <optional>

namespace etcdmesos::bench {

// VmRSS of `pid` in MiB (0 when unreadable).
double rss_mib(pid_t pid);

// Starts `clients` downloads of the etcd binary from the stack's scheduler,
// spread over the loopback addresses 127.0.0.2.. (at most 25 per address,
// under the server's cap per address), each reading about 640 KB/s; after
// `seconds` returns the scheduler's largest VmRSS seen meanwhile, in MiB.
// nullopt (with the reason on stderr) when the artifact server cannot be
// found or fewer than half the downloads got going.
std::optional<double> peak_rss_while_fetching_slowly(etcdmesos::testing::LocalStack& stack,
                                                     int clients, int seconds);

}  // namespace etcdmesos::bench
