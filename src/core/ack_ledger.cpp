#include "core/ack_ledger.hpp"

namespace etcdmesos::core {

AckLedger::Verdict AckLedger::record(const std::string& uuid, Millis now) {
  auto it = acked_at_.find(uuid);
  if (it != acked_at_.end()) {
    if (now - it->second < repeat_after_) {
      return Verdict::kDuplicate;
    }
    it->second = now;
    return Verdict::kRetry;
  }
  while (capacity_ > 0 && acked_at_.size() >= capacity_ && !order_.empty()) {
    acked_at_.erase(order_.front());
    order_.pop_front();
  }
  acked_at_.emplace(uuid, now);
  order_.push_back(uuid);
  return Verdict::kFirst;
}

void AckLedger::forget_all() {
  acked_at_.clear();
  order_.clear();
}

}  // namespace etcdmesos::core
