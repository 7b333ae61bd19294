// The copy of etcd's data directory that a reseed makes before it changes
// anything (a backup order, or a seed before --force-new-cluster): the way
// back if the reseed chose badly.
//
// The copy goes to the sandbox, on the filesystem etcd itself writes to.
// Filling that disk would stop the very etcd being saved (and, as the seed,
// the cluster's last copy of the data), so the free space is checked first
// and a copy that does not fit with a margin is refused before anything is
// written.
//
// Pure functions and blocking filesystem calls; errors are values.
#pragma once

#include "common/error.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace etcdmesos::executor {

// The room left after the copy: max(64 MiB, 10% of the data). etcd writes
// on after the copy — a new 64 MiB WAL segment (etcd preallocates them
// whole), the snapshot a --force-new-cluster start takes, bbolt growing —
// and a copy that leaves the disk full makes that etcd fail.
std::uintmax_t copy_margin_bytes(std::uintmax_t data_bytes);

// Whether a copy of `data_bytes` fits into `available_bytes` with the
// margin: nullopt when it does, else the message that says so (both numbers
// in MiB, and `where` the filesystem is).
std::optional<std::string> copy_does_not_fit(std::uintmax_t data_bytes,
                                             std::uintmax_t available_bytes,
                                             const std::filesystem::path& where);

// The sum of the sizes of the regular files under `dir`, recursively.
Result<std::uintmax_t> directory_size(const std::filesystem::path& dir);

// Bytes available to this process on the filesystem that holds `dir`.
using FreeSpace = std::function<Result<std::uintmax_t>(const std::filesystem::path& dir)>;
Result<std::uintmax_t> free_space(const std::filesystem::path& dir);

// Copies `from` to `to` (to a temporary name first, so that a half-made copy
// is never taken for a whole one). An existing copy is kept: it is the
// older one, made before anything changed. A copy that does not fit on the
// filesystem of `to` (asked with `space`) fails without writing anything.
// On success, says what was done.
Result<std::string> copy_data_dir(const std::filesystem::path& from,
                                  const std::filesystem::path& to,
                                  const FreeSpace& space = free_space);

}  // namespace etcdmesos::executor
