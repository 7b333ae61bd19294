#include "core/check_schedule.hpp"

namespace etcdmesos::core {

std::optional<uint64_t> CheckSchedule::start_if_due(Millis now, uint64_t epoch) {
  if (in_flight_ || now < next_at_) {
    return std::nullopt;
  }
  in_flight_ = InFlight{++last_id_, now, epoch};
  next_at_ = now + interval_;
  return last_id_;
}

std::optional<uint64_t> CheckSchedule::expire(Millis now) {
  if (!in_flight_ || now - in_flight_->started_at < timeout_) {
    return std::nullopt;
  }
  const uint64_t id = in_flight_->id;
  in_flight_.reset();
  return id;
}

std::optional<uint64_t> CheckSchedule::finish(uint64_t check_id) {
  if (!in_flight_ || in_flight_->id != check_id) {
    return std::nullopt;
  }
  const uint64_t epoch = in_flight_->epoch;
  in_flight_.reset();
  return epoch;
}

void CheckSchedule::due_now(Millis now) {
  if (next_at_ > now) {
    next_at_ = now;
  }
}

}  // namespace etcdmesos::core
