// When to start a health check and which answer belongs to which check. At
// most one check is in flight; one that gets no answer within the timeout is
// abandoned (the caller counts it unhealthy) so that a hung etcd client cannot
// stop health checking forever.
//
// Every check remembers the membership epoch it started in: a verdict counts
// for a decision only if the check began after the last membership change.
#pragma once

#include "core/types.hpp"

#include <cstdint>
#include <optional>

namespace etcdmesos::core {

class CheckSchedule {
 public:
  CheckSchedule(Millis interval, Millis timeout) : interval_(interval), timeout_(timeout) {}

  // Starts a check if none is in flight and one is due; returns its id.
  std::optional<uint64_t> start_if_due(Millis now, uint64_t epoch);
  // Abandons the in-flight check if it is older than the timeout; returns its
  // id when it did.
  std::optional<uint64_t> expire(Millis now);
  // Matches an answer to the in-flight check; returns the epoch the check
  // started in, or nothing for an unknown, old or abandoned check id.
  std::optional<uint64_t> finish(uint64_t check_id);
  // The next check should start as soon as possible (after a membership change).
  void due_now(Millis now);

  bool in_flight() const { return in_flight_.has_value(); }
  // When the check in flight started (nothing when none is).
  std::optional<Millis> in_flight_since() const {
    return in_flight_ ? std::optional<Millis>(in_flight_->started_at) : std::nullopt;
  }
  // The id of the last check started (0: none yet).
  uint64_t last_started() const { return last_id_; }

 private:
  struct InFlight {
    uint64_t id = 0;
    Millis started_at{0};
    uint64_t epoch = 0;
  };

  Millis interval_;
  Millis timeout_;
  Millis next_at_{0};
  uint64_t last_id_ = 0;
  std::optional<InFlight> in_flight_;
};

}  // namespace etcdmesos::core
