#include "process_tree.hpp"

#include <csignal>
#include <deque>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

namespace etcdmesos::devcluster {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxDescendants = 4096;

std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> out;
  std::error_code ec;
  fs::path tasks = "/proc/" + std::to_string(pid) + "/task";
  for (fs::directory_iterator it(tasks, ec), end; !ec && it != end; it.increment(ec)) {
    std::ifstream in(it->path() / "children");
    long child = 0;
    while (in >> child) {
      out.push_back(static_cast<pid_t>(child));
    }
  }
  return out;
}

}  // namespace

std::vector<pid_t> descendants(pid_t root) {
  std::vector<pid_t> out;
  std::set<pid_t> seen{root};
  std::deque<pid_t> todo{root};
  while (!todo.empty() && out.size() < kMaxDescendants) {
    pid_t pid = todo.front();
    todo.pop_front();
    for (pid_t child : children_of(pid)) {
      if (seen.insert(child).second) {
        out.push_back(child);
        todo.push_back(child);
      }
    }
  }
  return out;
}

void kill_tree(pid_t root, int signo) {
  if (root <= 0) {
    return;
  }
  auto all = descendants(root);
  ::kill(-root, signo);  // the executor leads its own process group
  ::kill(root, signo);
  for (pid_t pid : all) {
    ::kill(pid, signo);
  }
}

}  // namespace etcdmesos::devcluster
