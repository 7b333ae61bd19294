#include "support/processes.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

extern char** environ;

namespace etcdmesos::testing {

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

// The environment of the child: ours, with `extra` added or replaced.
std::vector<std::string> child_environment(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    std::string name = entry.substr(0, entry.find('='));
    if (!extra.contains(name)) {
      env.push_back(std::move(entry));
    }
  }
  for (const auto& [name, value] : extra) {
    env.push_back(name + "=" + value);
  }
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) {
    out.push_back(s.data());
  }
  out.push_back(nullptr);
  return out;
}

// Runs in the forked child: only async-signal-safe calls until exec.
[[noreturn]] void exec_child(pid_t parent, int out_fd, int err_fd, char** argv, char** envp) {
  // Own process group, so that stop() reaches grandchildren (e.g. a JVM's
  // helpers) and a test runner's Ctrl-C does not hit them twice.
  setpgid(0, 0);
  // Dies with the test process even if it crashes before the destructor.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) {
    _exit(127);  // the parent died before prctl took effect
  }
  int devnull = open("/dev/null", O_RDONLY);
  if (devnull >= 0) {
    dup2(devnull, STDIN_FILENO);
  }
  dup2(out_fd, STDOUT_FILENO);
  dup2(err_fd, STDERR_FILENO);
  execve(argv[0], argv, envp);
  static const char kMsg[] = "execve failed\n";
  [[maybe_unused]] auto n = write(STDERR_FILENO, kMsg, sizeof(kMsg) - 1);
  _exit(127);
}

// True once `pid` has exited. WNOWAIT leaves it a zombie, so its PID cannot
// be reused before waitpid reaps it.
bool exited_unreaped(pid_t pid) {
  siginfo_t info{};
  info.si_pid = 0;
  return waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == pid;
}

// True when nothing has `port` bound on `addr` (nor a connection on it in
// TIME_WAIT: no SO_REUSEADDR, so the check is stricter than the servers').
bool bindable(sockaddr_in addr, uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw_errno("socket");
  }
  addr.sin_port = htons(port);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

struct Lease {
  int index;
  int fd;  // holds the flock; closing it (or exiting) releases the lease
};

// Leases one of `count` things named by `name_of(0..count-1)`: the first, from
// `start` on and wrapping, whose file under `dir` this process can flock(2)
// and that `usable` accepts. The lock is exclusive across processes and the
// kernel drops it when the holder exits, however it exits.
std::optional<Lease> lease_one(const std::filesystem::path& dir, int count, int start,
                               const std::function<std::string(int)>& name_of,
                               const std::function<bool(int)>& usable) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  for (int i = 0; i < count; ++i) {
    const int n = (start + i) % count;
    const auto file = dir / name_of(n);
    int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) {
      throw_errno("open " + file.string());
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0 && usable(n)) {
      return Lease{n, fd};
    }
    ::close(fd);
  }
  return std::nullopt;
}

}  // namespace

uint16_t free_port(const std::string& host) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    throw std::invalid_argument("free_port: not an IPv4 address: " + host);
  }
  constexpr int kFirst = 20000;
  constexpr int kCount = 11000;  // 20000-30999
  static std::mutex mutex;
  static int next = -1;
  // The lock files' descriptors stay open until the process exits.
  static std::vector<int> held;
  const std::lock_guard lock(mutex);
  if (next < 0) {
    // Spread by process id, so parallel test processes rarely probe the same
    // files.
    next = static_cast<int>(::getpid()) * 61 % kCount;
  }
  const auto lease = lease_one(
      std::filesystem::temp_directory_path() / "etcd-mesos-ports", kCount, next,
      [](int n) { return std::to_string(kFirst + n); },
      [&](int n) { return bindable(addr, static_cast<uint16_t>(kFirst + n)); });
  if (!lease) {
    throw std::runtime_error("free_port: every port in 20000-30999 is taken or held by a test");
  }
  held.push_back(lease->fd);
  next = (lease->index + 1) % kCount;
  return static_cast<uint16_t>(kFirst + lease->index);
}

AgentNetworkLease::AgentNetworkLease() {
  // 127.0.0.x is the masters', schedulers' and test servers' own network;
  // stacks take 127.<1..15>.<0..255>. The start is spread by process id so
  // parallel processes rarely probe the same files.
  constexpr int kNetworks = 15 * 256;
  const auto network_of = [](int n) {
    return "127." + std::to_string(n / 256 + 1) + "." + std::to_string(n % 256);
  };
  const auto dir = std::filesystem::temp_directory_path() / "etcd-mesos-agent-networks";
  const auto lease = lease_one(dir, kNetworks, static_cast<int>(::getpid()) * 31 % kNetworks,
                               network_of, [](int) { return true; });
  if (!lease) {
    throw std::runtime_error("every agent network under " + dir.string() + " is in use");
  }
  fd_ = lease->fd;
  first_ip_ = network_of(lease->index) + ".2";
}

AgentNetworkLease::~AgentNetworkLease() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

TempDir::TempDir(const std::string& prefix) {
  std::filesystem::path base = std::filesystem::temp_directory_path();
  std::string pattern = (base / (prefix + "-XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr) {
    throw_errno("mkdtemp " + pattern);
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  if (std::getenv("ETCDMESOS_KEEP_TMP") != nullptr) {
    return;
  }
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

ChildProcess::ChildProcess(std::vector<std::string> argv, std::filesystem::path log_dir,
                           std::map<std::string, std::string> extra_env)
    : log_dir_(std::move(log_dir)) {
  if (argv.empty()) {
    throw std::invalid_argument("ChildProcess: empty argv");
  }
  std::filesystem::create_directories(log_dir_);
  std::vector<std::string> env = child_environment(extra_env);
  std::vector<char*> c_argv = c_strings(argv);
  std::vector<char*> c_env = c_strings(env);

  int out_fd = open((log_dir_ / "stdout").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  int err_fd = open((log_dir_ / "stderr").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out_fd < 0 || err_fd < 0) {
    throw_errno("open log files in " + log_dir_.string());
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    throw_errno("fork");
  }
  if (pid == 0) {
    exec_child(parent, out_fd, err_fd, c_argv.data(), c_env.data());
  }
  // Set the group from both sides so that a kill right after the constructor
  // cannot race with the child's own setpgid.
  setpgid(pid, pid);
  close(out_fd);
  close(err_fd);
  pid_ = pid;
}

ChildProcess::~ChildProcess() {
  stop();
}

bool ChildProcess::running() {
  if (pid_ <= 0 || status_) {
    return false;
  }
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    status_ = status;
    return false;
  }
  return r == 0;
}

void ChildProcess::kill(int signo) {
  if (pid_ > 0 && !status_) {
    // The whole group: forked helpers must not outlive the server.
    if (::kill(-pid_, signo) != 0) {
      ::kill(pid_, signo);
    }
  }
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    if (!running()) {
      return status_;
    }
    if (Clock::now() >= deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void ChildProcess::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0 || status_) {
    return;
  }
  // A stopped (SIGSTOP) process would ignore SIGTERM until continued.
  kill(SIGCONT);
  kill(SIGTERM);
  auto deadline = Clock::now() + grace;
  while (!exited_unreaped(pid_) && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // The leader is not reaped yet, so its PID (the group id) is still ours:
  // this reaches leftovers of the group and a leader that ignored SIGTERM.
  ::kill(-pid_, SIGKILL);
  int status = 0;
  if (waitpid(pid_, &status, 0) == pid_) {
    status_ = status;
  }
}

std::string ChildProcess::stdout_text() const {
  return read_file(log_dir_ / "stdout");
}

std::string ChildProcess::stderr_text() const {
  return read_file(log_dir_ / "stderr");
}

namespace {

// Waits until `fd` is ready for `events` or `deadline` passes.
bool poll_until(int fd, short events, Clock::time_point deadline) {
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      return false;
    }
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r > 0) {
      return true;
    }
    if (r < 0 && errno != EINTR) {
      return false;
    }
  }
}

// Non-blocking connect bounded by `deadline`; -1 on failure.
int connect_until(const std::string& host, uint16_t port, Clock::time_point deadline) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return -1;
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    int error = 0;
    socklen_t len = sizeof(error);
    if (errno != EINPROGRESS || !poll_until(fd, POLLOUT, deadline) ||
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0 || error != 0) {
      close(fd);
      return -1;
    }
  }
  return fd;
}

bool send_all(int fd, const std::string& data, Clock::time_point deadline) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    if (!poll_until(fd, POLLOUT, deadline)) {
      return false;
    }
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return false;
    }
    sent += n > 0 ? static_cast<std::size_t>(n) : 0;
  }
  return true;
}

// Reads until EOF; a limit keeps a misbehaving peer from filling memory.
std::optional<std::string> receive_all(int fd, Clock::time_point deadline) {
  constexpr std::size_t kLimit = 16 * 1024 * 1024;
  std::string out;
  char buf[4096];
  while (out.size() < kLimit) {
    if (!poll_until(fd, POLLIN, deadline)) {
      return std::nullopt;
    }
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n == 0) {
      return out;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) {
        continue;
      }
      return out.empty() ? std::nullopt : std::optional<std::string>(out);
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

}  // namespace

std::optional<std::string> tcp_exchange(const std::string& host, uint16_t port,
                                        const std::string& request,
                                        std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  int fd = connect_until(host, port, deadline);
  if (fd < 0) {
    return std::nullopt;
  }
  std::optional<std::string> answer;
  if (send_all(fd, request, deadline)) {
    answer = receive_all(fd, deadline);
  }
  close(fd);
  return answer;
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    if (condition()) {
      return true;
    }
    if (Clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<ProcessEntry> running_processes() {
  std::vector<ProcessEntry> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const auto name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    ProcessEntry p;
    p.pid = static_cast<pid_t>(std::stol(name));
    p.cmdline = read_file(entry.path() / "cmdline");
    std::replace(p.cmdline.begin(), p.cmdline.end(), '\0', ' ');
    p.comm = read_file(entry.path() / "comm");
    if (!p.comm.empty() && p.comm.back() == '\n') {
      p.comm.pop_back();
    }
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace etcdmesos::testing
