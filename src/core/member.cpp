#include "core/types.hpp"

namespace etcdmesos::core {

std::string Member::peer_url() const {
  return (tls ? "https://" : "http://") + host + ":" + std::to_string(peer_port);
}

std::string Member::client_url() const {
  return (tls ? "https://" : "http://") + host + ":" + std::to_string(client_port);
}

std::string executor_id_for(const std::string& task_id) {
  return "executor-" + task_id;
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
