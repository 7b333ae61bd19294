#include "slow_fetch.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace etcdmesos::bench {

namespace {

using Clock = std::chrono::steady_clock;

// "host:port" of the artifact server, from the scheduler's log line
// "... artifacts on http://HOST:PORT".
std::optional<std::pair<std::string, uint16_t>> artifact_server(const std::string& log) {
  const std::string marker = "artifacts on http://";
  const auto at = log.find(marker);
  if (at == std::string::npos) {
    return std::nullopt;
  }
  const auto start = at + marker.size();
  const auto end = log.find_first_of(" \n", start);
  const std::string hostport = log.substr(start, end - start);
  const auto colon = hostport.rfind(':');
  if (colon == std::string::npos) {
    return std::nullopt;
  }
  return std::make_pair(hostport.substr(0, colon),
                        static_cast<uint16_t>(std::stoi(hostport.substr(colon + 1))));
}

// A connected socket from `from` to host:port with a small receive buffer,
// so that the server's writes block as they would for a slow agent; -1 on
// failure.
int connect_from(const std::string& from, const std::string& host, uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return -1;
  }
  const int buffer = 16 * 1024;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, from.c_str(), &local.sin_addr);
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(port);
  ::inet_pton(AF_INET, host.c_str(), &remote.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof remote) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, const std::string& text) {
  std::size_t at = 0;
  while (at < text.size()) {
    const auto n = ::send(fd, text.data() + at, text.size() - at, MSG_NOSIGNAL);
    if (n <= 0) {
      return false;
    }
    at += static_cast<std::size_t>(n);
  }
  return true;
}

// The digest path of the etcd binary: /etcd answers 307 to it.
std::optional<std::string> etcd_path(const std::string& host, uint16_t port) {
  const int fd = connect_from("127.0.0.1", host, port);
  if (fd < 0) {
    return std::nullopt;
  }
  std::string answer;
  if (send_all(fd, "GET /etcd HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")) {
    char buffer[4096];
    for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) {
      answer.append(buffer, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  const auto at = answer.find("\r\nLocation: ");
  if (at == std::string::npos) {
    return std::nullopt;
  }
  const auto start = at + 12;
  return answer.substr(start, answer.find("\r\n", start) - start);
}

}  // namespace

double rss_mib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
    }
  }
  return 0;
}

std::optional<double> peak_rss_while_fetching_slowly(etcdmesos::testing::LocalStack& stack,
                                                     int clients, int seconds) {
  auto server = artifact_server(stack.scheduler_log());
  if (!server) {
    std::fprintf(stderr, "slow fetches: no 'artifacts on' line in the scheduler's log\n");
    return std::nullopt;
  }
  const auto& [host, port] = *server;
  const auto path = etcd_path(host, port);
  if (!path) {
    std::fprintf(stderr, "slow fetches: /etcd did not redirect to its digest path\n");
    return std::nullopt;
  }
  std::vector<int> fds;
  for (int i = 0; i < clients; ++i) {
    const std::string from = "127.0.0." + std::to_string(2 + i / 25);
    const int fd = connect_from(from, host, port);
    if (fd >= 0 && send_all(fd, "GET " + *path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n")) {
      fds.push_back(fd);
    } else if (fd >= 0) {
      ::close(fd);
    }
  }
  const pid_t pid = stack.scheduler()->pid();
  double peak = rss_mib(pid);
  std::vector<std::size_t> received(fds.size(), 0);
  std::vector<char> buffer(64 * 1024);
  const auto until = Clock::now() + std::chrono::seconds(seconds);
  while (Clock::now() < until) {
    // Each client takes at most 64 KB every 100 ms.
    for (std::size_t i = 0; i < fds.size(); ++i) {
      const auto n = ::recv(fds[i], buffer.data(), buffer.size(), MSG_DONTWAIT);
      if (n > 0) {
        received[i] += static_cast<std::size_t>(n);
      }
    }
    peak = std::max(peak, rss_mib(pid));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const auto going =
      std::count_if(received.begin(), received.end(), [](std::size_t n) { return n > 256 * 1024; });
  for (int fd : fds) {
    ::close(fd);
  }
  if (going * 2 < clients) {
    std::fprintf(stderr, "slow fetches: only %ld of %d downloads got going\n",
                 static_cast<long>(going), clients);
    return std::nullopt;
  }
  return peak;
}

}  // namespace etcdmesos::bench
