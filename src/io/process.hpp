// Child processes: spawn with an explicit argv, environment and working
// directory, wait for exit asynchronously (pidfd), signal by PID.
//
// Children get their own process group (so a whole tree can be signalled)
// and PR_SET_PDEATHSIG=SIGKILL unless `survive_parent` is set, so that a
// crashed parent never leaves an etcd or executor behind.
// PR_SET_PDEATHSIG fires when the *thread* that called spawn() exits, so
// spawn from the io_context thread, never from a short-lived thread.
// Threading: a Process belongs to the io_context of the executor it was
// spawned with.
#pragma once

#include "common/error.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <sys/types.h>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace etcdmesos::io {

struct SpawnOptions {
  std::vector<std::string> argv;           // argv[0] is the program (PATH is not searched
                                           // unless it contains no '/')
  std::map<std::string, std::string> env;  // the complete environment of the child
  std::string cwd;                         // "" = inherit
  std::string stdout_path;                 // "" = inherit; else appended to
  std::string stderr_path;                 // "" = inherit; else appended to
  bool survive_parent = false;
};

// How a process ended, as waitpid reports it.
struct ExitStatus {
  bool signaled = false;
  int code = 0;                  // exit code, or signal number when signaled
  std::string describe() const;  // "exited with status 1" / "killed by signal 9 (Killed)"
};

class Process {
 public:
  static Result<std::unique_ptr<Process>> spawn(boost::asio::any_io_executor ex,
                                                const SpawnOptions& options);
  ~Process();  // does not kill; the child is reaped if it already ended
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const;
  bool running();
  // Signals the child (or its whole process group).
  void signal(int signo, bool whole_group = false);
  // Completes when the child has exited; may be awaited by one coroutine.
  boost::asio::awaitable<ExitStatus> wait();
  // Waits up to `timeout`; nullopt when still running.
  boost::asio::awaitable<std::optional<ExitStatus>> wait_for(std::chrono::milliseconds timeout);
  // SIGTERM, wait `grace`, then SIGKILL (whole group); returns the status.
  boost::asio::awaitable<ExitStatus> terminate(std::chrono::milliseconds grace);

 private:
  struct State;
  explicit Process(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// The environment of this process as a map (to derive a child's from).
std::map<std::string, std::string> current_environment();

}  // namespace etcdmesos::io
