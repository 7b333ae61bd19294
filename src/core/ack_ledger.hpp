// Which status-update uuids were already acknowledged, so that an update the
// master delivers several times (after an agent re-registers, one update came
// 3-4 times within milliseconds) is acknowledged and acted upon once.
//
// A uuid seen again long after its acknowledgement means Mesos never got that
// acknowledgement and is retrying (first retry after 10 s); since Mesos holds
// back every later update of the task until the current one is acknowledged,
// such a retry is acknowledged again. Bounded: the oldest entries are dropped.
#pragma once

#include "core/types.hpp"

#include <cstddef>
#include <deque>
#include <map>
#include <string>

namespace etcdmesos::core {

class AckLedger {
 public:
  enum class Verdict {
    kFirst,      // never seen: acknowledge and act on it
    kRetry,      // seen long ago: acknowledge again, do not act twice
    kDuplicate,  // seen recently: ignore
  };

  AckLedger(Millis repeat_after, std::size_t capacity)
      : repeat_after_(repeat_after), capacity_(capacity) {}

  Verdict record(const std::string& uuid, Millis now);
  // A new subscription: the old connection may have swallowed acknowledgements.
  void forget_all();
  std::size_t size() const { return acked_at_.size(); }

 private:
  Millis repeat_after_;
  std::size_t capacity_;
  std::map<std::string, Millis> acked_at_;
  std::deque<std::string> order_;  // insertion order, for eviction
};

}  // namespace etcdmesos::core
