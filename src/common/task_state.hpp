// Mesos' task states (TaskState in mesos.proto), shared by the codec, which
// reads and writes them in Mesos messages, and the core, which decides on
// them. Header-only, so that the core can use it without linking anything.
// What a state means is each user's own business: the codec's is_terminal()
// is Mesos' sense, the core's means_member_lost() is the scheduler's.
#pragma once

#include <array>
#include <optional>
#include <string_view>
#include <utility>

namespace etcdmesos {

enum class TaskState {
  kStaging,
  kStarting,
  kRunning,
  kKilling,
  kFinished,
  kFailed,
  kKilled,
  kError,
  kLost,
  kDropped,
  kUnreachable,
  kGone,
  kGoneByOperator,
  kUnknown,
};

namespace detail {
inline constexpr std::array<std::pair<TaskState, std::string_view>, 14> kTaskStateNames{{
    {TaskState::kStaging, "TASK_STAGING"},
    {TaskState::kStarting, "TASK_STARTING"},
    {TaskState::kRunning, "TASK_RUNNING"},
    {TaskState::kKilling, "TASK_KILLING"},
    {TaskState::kFinished, "TASK_FINISHED"},
    {TaskState::kFailed, "TASK_FAILED"},
    {TaskState::kKilled, "TASK_KILLED"},
    {TaskState::kError, "TASK_ERROR"},
    {TaskState::kLost, "TASK_LOST"},
    {TaskState::kDropped, "TASK_DROPPED"},
    {TaskState::kUnreachable, "TASK_UNREACHABLE"},
    {TaskState::kGone, "TASK_GONE"},
    {TaskState::kGoneByOperator, "TASK_GONE_BY_OPERATOR"},
    {TaskState::kUnknown, "TASK_UNKNOWN"},
}};
}  // namespace detail

// "TASK_RUNNING"; a value outside the enum reads "TASK_UNKNOWN".
constexpr std::string_view to_string(TaskState state) {
  for (const auto& [s, name] : detail::kTaskStateNames) {
    if (s == state) {
      return name;
    }
  }
  return "TASK_UNKNOWN";
}

// The state of that Mesos name; nullopt for any other text.
constexpr std::optional<TaskState> task_state_from_string(std::string_view name) {
  for (const auto& [s, n] : detail::kTaskStateNames) {
    if (n == name) {
      return s;
    }
  }
  return std::nullopt;
}

}  // namespace etcdmesos
