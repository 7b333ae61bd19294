// Where a restore's snapshot may come from (issue 14): what -restore-from and
// POST /restore?uri= accept. The agent's Mesos fetcher fetches it, so the
// scheduler only checks the form: a file:// URI or an absolute path (on the
// agent: it need not exist on the scheduler's host), or an http:// or
// https:// URL with a host. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace etcdmesos::scheduler {

// The longest URI accepted (a bound on what is put into every task).
inline constexpr std::size_t kMaxRestoreUriLength = 4096;

// Why `uri` cannot be a restore's source, or nullopt when it can.
std::optional<std::string> restore_uri_error(std::string_view uri);

}  // namespace etcdmesos::scheduler
