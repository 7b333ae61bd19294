// Killing an executor together with everything it started (etcd may run in
// its own process group), the way a lost host takes all its processes along.
#pragma once

#include <sys/types.h>

#include <vector>

namespace etcdmesos::devcluster {

// Every live descendant of `root` (children first found breadth-first), read
// from /proc/<pid>/task/<tid>/children. Empty when /proc does not tell.
std::vector<pid_t> descendants(pid_t root);

// Signals `root`'s process group, `root` and every descendant found before
// signalling.
void kill_tree(pid_t root, int signo);

}  // namespace etcdmesos::devcluster
