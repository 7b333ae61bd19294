#include "core/types.hpp"

namespace etcdmesos::core {

std::string Member::peer_url() const {
  return "http://" + host + ":" + std::to_string(peer_port);
}

std::string Member::client_url() const {
  return "http://" + host + ":" + std::to_string(client_port);
}

const char* to_string(TaskState state) {
  switch (state) {
    case TaskState::kStaging:
      return "TASK_STAGING";
    case TaskState::kStarting:
      return "TASK_STARTING";
    case TaskState::kRunning:
      return "TASK_RUNNING";
    case TaskState::kKilling:
      return "TASK_KILLING";
    case TaskState::kFinished:
      return "TASK_FINISHED";
    case TaskState::kFailed:
      return "TASK_FAILED";
    case TaskState::kKilled:
      return "TASK_KILLED";
    case TaskState::kError:
      return "TASK_ERROR";
    case TaskState::kLost:
      return "TASK_LOST";
    case TaskState::kDropped:
      return "TASK_DROPPED";
    case TaskState::kUnreachable:
      return "TASK_UNREACHABLE";
    case TaskState::kGone:
      return "TASK_GONE";
    case TaskState::kGoneByOperator:
      return "TASK_GONE_BY_OPERATOR";
    case TaskState::kUnknown:
      return "TASK_UNKNOWN";
  }
  return "TASK_?";
}

bool means_member_lost(TaskState state) {
  switch (state) {
    case TaskState::kStaging:
    case TaskState::kStarting:
    case TaskState::kRunning:
    case TaskState::kKilling:
      return false;
    default:
      return true;
  }
}

bool process_gone(TaskState state) {
  switch (state) {
    case TaskState::kFinished:
    case TaskState::kFailed:
    case TaskState::kKilled:
    case TaskState::kError:
    case TaskState::kDropped:
    case TaskState::kGone:
    case TaskState::kGoneByOperator:
      return true;
    default:
      return false;
  }
}

}  // namespace etcdmesos::core
