// What an agent tells the master: the agent-to-master messages of real Mesos,
// as direct calls because both live in one process and one io_context.
#pragma once

#include "codec/mesos.hpp"

#include <optional>
#include <string>

namespace etcdmesos::devcluster {

class MasterLink {
 public:
  virtual ~MasterLink() = default;

  // The agent's status update manager sends (or resends) the oldest
  // unacknowledged update of a task; `latest_state` is the newest state the
  // agent knows. Returns false when the framework no longer exists (the
  // agent then drops the task's pending updates).
  virtual bool forward_status_update(const std::string& agent_id, const std::string& framework_id,
                                     const mesos::TaskStatus& status,
                                     mesos::TaskState latest_state) = 0;
  // The newest state the agent knows for a task changed (a terminal state
  // frees the task's resources at once, before the update is delivered).
  virtual void task_state_changed(const std::string& agent_id, const std::string& framework_id,
                                  const std::string& task_id, mesos::TaskState latest_state) = 0;
  // An executor ended (or could not be started: wait_status -1). The raw
  // waitpid status is what Mesos puts into FAILURE.status.
  virtual void executor_terminated(const std::string& agent_id, const std::string& framework_id,
                                   const std::string& executor_id, int wait_status) = 0;
  // An executor's MESSAGE call, for the scheduler.
  virtual void executor_message(const std::string& agent_id, const std::string& framework_id,
                                const std::string& executor_id, std::string data) = 0;
};

}  // namespace etcdmesos::devcluster
