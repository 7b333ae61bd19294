#include "support/member_checks.hpp"

#include <signal.h>

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

}  // namespace etcdmesos::testing
