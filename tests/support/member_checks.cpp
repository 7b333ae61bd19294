#include "support/member_checks.hpp"

#include <signal.h>
#include <sys/wait.h>

#include <atomic>

namespace etcdmesos::testing {

namespace json = boost::json;

std::string str(const json::value& v, const char* key) {
  return std::string(v.at(key).as_string());
}

int64_t stat(LocalStack& stack, const char* key) {
  auto s = stack.stats();
  return s.contains(key) && s.at(key).is_int64() ? s.at(key).as_int64() : -1;
}

std::set<std::string> names_of(const json::array& members) {
  std::set<std::string> names;
  for (const auto& m : members) {
    names.insert(str(m, "name"));
  }
  return names;
}

::testing::AssertionResult comes_up(LocalStack& stack, std::size_t size,
                                    std::chrono::milliseconds timeout) {
  const bool ok = wait_until(
      [&] {
        if (!stack.healthy_with(size)) {
          return false;
        }
        auto members = stack.members();
        return etcd_lists_exactly(members, names_of(members));
      },
      timeout);
  if (ok) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "no healthy cluster of " << size << ":\n" << stack.logs();
}

bool etcd_lists_exactly(const json::array& members, const std::set<std::string>& names) {
  for (const auto& m : members) {
    auto listed = etcd_member_names(str(m, "client_url"));
    if (!listed || listed->size() != names.size() ||
        std::set<std::string>(listed->begin(), listed->end()) != names) {
      return false;
    }
  }
  return true;
}

bool signal_member(const json::value& member, int signo) {
  auto pid = etcd_pid(str(member, "client_url"));
  return pid && ::kill(*pid, signo) == 0;
}

CommandResult etcdctl(const std::filesystem::path& dir, const std::string& endpoint,
                      std::vector<std::string> args) {
  static std::atomic<int> counter{0};
  std::vector<std::string> argv{"/usr/bin/etcdctl", "--endpoints=" + endpoint, "--dial-timeout=2s",
                                "--command-timeout=5s"};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess run(argv, dir / ("etcdctl-" + std::to_string(counter++)));
  auto status = run.wait(std::chrono::seconds(20));
  CommandResult result;
  result.ok = status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0;
  result.output = run.stdout_text() + run.stderr_text();
  return result;
}

}  // namespace etcdmesos::testing
