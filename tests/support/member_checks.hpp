// Small checks on a running stack's members, shared by the integration
// tests: fields of GET /members entries, /stats counters, etcd's own member
// list, and signals to a member's etcd process.
#pragma once

#include "support/stack.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <chrono>

#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace etcdmesos::testing {

// A string field of a JSON object (throws if absent: a test bug).
std::string str(const boost::json::value& v, const char* key);
// A GET /stats counter, -1 when unavailable.
int64_t stat(LocalStack& stack, const char* key);
// The "name" of every member.
std::set<std::string> names_of(const boost::json::array& members);
// etcd's own member list, as every one of `members` serves it, is exactly
// `names`.
bool etcd_lists_exactly(const boost::json::array& members, const std::set<std::string>& names);
// Waits for a complete, healthy cluster of `size` that etcd agrees on: the
// scheduler reports exactly `size` members running and healthy, and every one
// of them lists exactly those members. The failure carries the stack's logs.
::testing::AssertionResult comes_up(LocalStack& stack, std::size_t size,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(90));
// Sends `signo` to the etcd process serving the member's client URL.
bool signal_member(const boost::json::value& member, int signo);

struct CommandResult {
  bool ok = false;  // exited with status 0
  std::string output;
};

// etcdctl (v3, gRPC) against `endpoint` with `args` (flags such as --cacert
// and the command), within 20 s; its output files go under `dir`.
CommandResult etcdctl(const std::filesystem::path& dir, const std::string& endpoint,
                      std::vector<std::string> args);

}  // namespace etcdmesos::testing
