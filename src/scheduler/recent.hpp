// Bounded records of what the scheduler did lately, for the web page and
// GET /health: the last health checks (a timeline) and the last notable
// events (state changes, launches, kills, membership changes, reseed steps,
// operator requests). Each keeps at most its capacity; the oldest entry
// goes first. Texts are cut to kRecentTextLimit bytes, so one record cannot
// grow without bound either.
//
// Threading: none; the scheduler uses them on its io_context only.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <utility>
#include <vector>

namespace etcdmesos::scheduler {

inline constexpr std::size_t kRecentChecks = 60;
inline constexpr std::size_t kRecentEvents = 50;
inline constexpr std::size_t kRecentTextLimit = 512;

// One finished health check as the shell saw it: when it started (Unix
// seconds), its own verdict, and how long it took.
struct CheckRecord {
  double unix_time = 0;
  bool healthy = false;
  std::string reason;  // why unhealthy ("" when healthy)
  double duration_seconds = 0;
  bool operator==(const CheckRecord&) const = default;
};

// One line of the scheduler's log worth showing an operator.
struct EventRecord {
  double unix_time = 0;
  std::string level;  // spdlog's name: "info", "warning", "error" or "critical"
  std::string text;
  bool operator==(const EventRecord&) const = default;
};

// `text` cut to at most `limit` bytes, ending in "..." when cut; never in
// the middle of a UTF-8 sequence.
std::string clip_text(std::string text, std::size_t limit = kRecentTextLimit);

template <typename T>
class RecentLog {
 public:
  explicit RecentLog(std::size_t capacity) : capacity_(capacity) {}

  void push(T entry) {
    if (capacity_ == 0) {
      return;
    }
    if (entries_.size() == capacity_) {
      entries_.pop_front();
    }
    entries_.push_back(std::move(entry));
  }
  // Oldest first.
  std::vector<T> items() const { return {entries_.begin(), entries_.end()}; }
  std::size_t size() const { return entries_.size(); }
  std::size_t capacity() const { return capacity_; }

 private:
  std::size_t capacity_;
  std::deque<T> entries_;
};

}  // namespace etcdmesos::scheduler
