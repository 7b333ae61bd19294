// Child processes with fork/execve, waited for through a pidfd.
//
// Between fork and execve the child only makes async-signal-safe calls: the
// parent may have other threads (ZooKeeper's), so everything the child needs
// (argv, envp, the program path, file descriptors) is prepared before fork.
//
// PR_SET_PDEATHSIG fires when the *thread* that forked exits, not when the
// process does. Spawn from the io_context thread (which lives as long as the
// program), never from a short-lived helper thread, or children die early.
//
// If the child cannot start (chdir or execve fails) it writes the failing step
// and errno into a close-on-exec pipe; a successful execve closes the pipe
// with nothing written. The parent reads that pipe before returning, so an
// exec failure is an Error from spawn(), not an exit status found later.
#include "io/process.hpp"

#include "common/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <csignal>
#include <cstring>

extern char** environ;

namespace etcdmesos::io {

namespace asio = boost::asio;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// Used only when a pidfd wait reports an unexpected error: poll instead.
constexpr auto kPollInterval = std::chrono::milliseconds(20);
constexpr const char* kDefaultPath = "/usr/local/bin:/usr/bin:/bin";

std::shared_ptr<spdlog::logger> log() {
  return logger("process");
}

std::string errno_text(int err) {
  return std::strerror(err);
}

// What the child reports through the pipe when it cannot start.
struct ChildFailure {
  enum Step : int { kSetup = 0, kChdir = 1, kExec = 2 };
  int step = kSetup;
  int err = 0;
};

// A file descriptor closed by its destructor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    reset(std::exchange(other.fd_, -1));
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// The program to execute: argv[0] itself when it names a path, otherwise the
// first executable file of that name on PATH (the child's PATH if given).
Result<std::string> find_program(const SpawnOptions& options) {
  const std::string& name = options.argv.front();
  // Spelled out: Error is constructible from a string too.
  constexpr auto kValue = boost::system::in_place_value;
  if (name.find('/') != std::string::npos) {
    return {kValue, name};
  }
  std::string path = kDefaultPath;
  if (auto it = options.env.find("PATH"); it != options.env.end()) {
    path = it->second;
  } else if (const char* own = std::getenv("PATH")) {
    path = own;
  }
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find(':', start);
    if (end == std::string::npos) {
      end = path.size();
    }
    std::string dir = path.substr(start, end - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    struct stat info {};
    if (::stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return {kValue, candidate};
    }
    start = end + 1;
  }
  return make_error("cannot execute " + name + ": not found in PATH");
}

Result<Fd> open_output(const std::string& path) {
  if (path.empty()) {
    return Fd();
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    return make_error("cannot open " + path + ": " + errno_text(errno));
  }
  return Fd(fd);
}

// Everything the child needs, prepared before fork.
struct Prepared {
  std::string program;
  std::vector<std::string> env_strings;
  std::vector<char*> argv;
  std::vector<char*> envp;
  Fd out;
  Fd err;
};

Result<Prepared> prepare(const SpawnOptions& options, std::vector<std::string>& argv_storage) {
  Prepared p;
  auto program = find_program(options);
  if (!program) {
    return program.error();
  }
  p.program = *program;
  for (const auto& [key, value] : options.env) {
    p.env_strings.push_back(key + "=" + value);
  }
  for (auto& arg : argv_storage) {
    p.argv.push_back(arg.data());
  }
  p.argv.push_back(nullptr);
  for (auto& entry : p.env_strings) {
    p.envp.push_back(entry.data());
  }
  p.envp.push_back(nullptr);
  auto out = open_output(options.stdout_path);
  if (!out) {
    return out.error();
  }
  auto err = open_output(options.stderr_path);
  if (!err) {
    return err.error();
  }
  p.out = std::move(*out);
  p.err = std::move(*err);
  return p;
}

[[noreturn]] void child_fail(int report_fd, int step) {
  ChildFailure failure{step, errno};
  // Nothing useful can be done if the report cannot be written.
  [[maybe_unused]] auto written = ::write(report_fd, &failure, sizeof failure);
  ::_exit(127);
}

// Runs in the child after fork: async-signal-safe calls only.
[[noreturn]] void run_child(const Prepared& p, const SpawnOptions& options, int report_fd,
                            pid_t parent) {
  ::setpgid(0, 0);
  if (!options.survive_parent) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    // The parent may have died before prctl took effect.
    if (::getppid() != parent) {
      ::_exit(127);
    }
  }
  if ((p.out.get() >= 0 && ::dup2(p.out.get(), STDOUT_FILENO) < 0) ||
      (p.err.get() >= 0 && ::dup2(p.err.get(), STDERR_FILENO) < 0)) {
    child_fail(report_fd, ChildFailure::kSetup);
  }
  // Asio opens its sockets without close-on-exec; a child must not keep the
  // parent's listening ports or connections alive.
  if (report_fd > 3) {
    ::syscall(SYS_close_range, 3U, static_cast<unsigned>(report_fd - 1), 0U);
  }
  ::syscall(SYS_close_range, static_cast<unsigned>(report_fd + 1), ~0U, 0U);
  // Blocked or ignored signals survive execve; start the child clean.
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int signo = 1; signo < NSIG; ++signo) {
    ::signal(signo, SIG_DFL);
  }
  if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) {
    child_fail(report_fd, ChildFailure::kChdir);
  }
  ::execve(p.program.c_str(), p.argv.data(), p.envp.data());
  child_fail(report_fd, ChildFailure::kExec);
}

// Blocks until the child has exec'd (pipe closed, nothing read) or reported
// why it could not.
std::optional<ChildFailure> read_child_report(int fd) {
  ChildFailure failure;
  for (;;) {
    ssize_t n = ::read(fd, &failure, sizeof failure);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n == static_cast<ssize_t>(sizeof failure)) {
      return failure;
    }
    return std::nullopt;
  }
}

std::string describe_failure(const ChildFailure& failure, const SpawnOptions& options,
                             const std::string& program) {
  switch (failure.step) {
    case ChildFailure::kChdir:
      return "cannot change directory to " + options.cwd + ": " + errno_text(failure.err);
    case ChildFailure::kExec:
      return "cannot execute " + program + ": " + errno_text(failure.err);
    default:
      return "cannot set up the child for " + program + ": " + errno_text(failure.err);
  }
}

ExitStatus from_wait_status(int status) {
  if (WIFSIGNALED(status)) {
    return ExitStatus{true, WTERMSIG(status)};
  }
  return ExitStatus{false, WEXITSTATUS(status)};
}

}  // namespace

std::string ExitStatus::describe() const {
  if (signaled) {
    // sigdescr_np, unlike strsignal, is thread-safe.
    const char* name = ::sigdescr_np(code);
    return "killed by signal " + std::to_string(code) + " (" + (name ? name : "unknown") + ")";
  }
  return "exited with status " + std::to_string(code);
}

struct Process::State {
  State(asio::any_io_executor executor, pid_t child, int pidfd)
      : ex(executor), pid(child), exit_signal(executor, pidfd) {}

  // Reaps the child if it has exited; true once an exit status is known.
  bool reap_if_exited() {
    if (status) {
      return true;
    }
    int raw = 0;
    pid_t got = ::waitpid(pid, &raw, WNOHANG);
    if (got == pid) {
      status = from_wait_status(raw);
      log()->debug("process {} {}", pid, status->describe());
    } else if (got < 0 && errno == ECHILD) {
      // Someone else reaped it (e.g. a SIGCHLD handler); the status is lost.
      log()->warn("process {} was reaped elsewhere; exit status unknown", pid);
      status = ExitStatus{false, -1};
    }
    return status.has_value();
  }

  // Returns once the child has exited, or early when the wait is cancelled.
  asio::awaitable<void> until_exit() {
    while (!reap_if_exited()) {
      auto [ec] = co_await exit_signal.async_wait(asio::posix::descriptor_base::wait_read, kTuple);
      if (ec == asio::error::operation_aborted) {
        co_return;
      }
      if (ec) {
        asio::steady_timer pause(ex, kPollInterval);
        co_await pause.async_wait(kTuple);
      }
    }
  }

  asio::any_io_executor ex;
  pid_t pid;
  // The pidfd: readable once the child has exited.
  asio::posix::stream_descriptor exit_signal;
  std::optional<ExitStatus> status;
};

Result<std::unique_ptr<Process>> Process::spawn(asio::any_io_executor ex,
                                                const SpawnOptions& options) {
  if (options.argv.empty()) {
    return make_error("cannot spawn a process without argv");
  }
  std::vector<std::string> argv_storage = options.argv;
  auto prepared = prepare(options, argv_storage);
  if (!prepared) {
    return prepared.error();
  }
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    return make_error("cannot create a pipe: " + errno_text(errno));
  }
  Fd report_read(report[0]);
  Fd report_write(report[1]);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    return make_error("fork failed: " + errno_text(errno));
  }
  if (pid == 0) {
    run_child(*prepared, options, report_write.get(), parent);
  }
  // Also set here: whichever of parent and child runs first, the group exists
  // before anyone signals it.
  ::setpgid(pid, pid);
  report_write.reset();
  if (auto failure = read_child_report(report_read.get())) {
    int ignored = 0;
    ::waitpid(pid, &ignored, 0);
    return make_error(describe_failure(*failure, options, prepared->program));
  }
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    const int err = errno;
    ::kill(pid, SIGKILL);
    int ignored = 0;
    ::waitpid(pid, &ignored, 0);
    return make_error("pidfd_open failed: " + errno_text(err));
  }
  log()->debug("started {} as process {}", prepared->program, pid);
  return std::unique_ptr<Process>(new Process(std::make_unique<State>(ex, pid, pidfd)));
}

Process::Process(std::unique_ptr<State> state) : state_(std::move(state)) {}

Process::~Process() {
  state_->reap_if_exited();
}

pid_t Process::pid() const {
  return state_->pid;
}

bool Process::running() {
  return !state_->reap_if_exited();
}

void Process::signal(int signo, bool whole_group) {
  // Once reaped, the PID may belong to someone else; a group may still have
  // members (that is what group signals are for), and its id is not reused
  // while it does.
  if (whole_group) {
    ::kill(-state_->pid, signo);
    return;
  }
  if (!state_->reap_if_exited()) {
    ::kill(state_->pid, signo);
  }
}

asio::awaitable<ExitStatus> Process::wait() {
  while (!state_->status) {
    co_await state_->until_exit();
  }
  co_return *state_->status;
}

asio::awaitable<std::optional<ExitStatus>> Process::wait_for(std::chrono::milliseconds timeout) {
  if (state_->reap_if_exited()) {
    co_return state_->status;
  }
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer timer(state_->ex, timeout);
  co_await (state_->until_exit() || timer.async_wait(kTuple));
  co_return state_->status;
}

asio::awaitable<ExitStatus> Process::terminate(std::chrono::milliseconds grace) {
  if (!state_->reap_if_exited()) {
    signal(SIGTERM, true);
    if (auto status = co_await wait_for(grace)) {
      // The leader is gone; sweep anything it left behind in its group.
      signal(SIGKILL, true);
      co_return *status;
    }
    log()->info("process {} still running {} ms after SIGTERM; sending SIGKILL", state_->pid,
                grace.count());
  }
  signal(SIGKILL, true);
  co_return co_await wait();
}

std::map<std::string, std::string> current_environment() {
  std::map<std::string, std::string> env;
  for (char** entry = environ; entry && *entry; ++entry) {
    std::string_view text(*entry);
    auto eq = text.find('=');
    if (eq == std::string_view::npos) {
      continue;
    }
    env.emplace(std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)));
  }
  return env;
}

}  // namespace etcdmesos::io
