// The proxy's loop: read the members from a MembershipSource every
// `poll_interval` (one read at a time; the next starts `poll_interval` after
// the previous one ended), and point the gateway at them whenever the set
// of client endpoints changes.
//
// Problems (no master, no such framework, no running member, malformed
// answers) are logged with what to check and retried at the next poll; they
// never stop the proxy and never take away endpoints the gateway already
// serves. The same problem is logged as a warning when it first appears and
// once a minute while it lasts.
//
// With a data directory, the endpoints served are kept in
// <data_dir>/endpoints.json (written atomically) and loaded at start, so a
// restarted proxy serves at once while the master is unreachable; the first
// successful read replaces them.
//
// Threading: runs on the io_context of the executor given; start() and
// stop() are called on that thread.
#pragma once

#include "proxy/discovery.hpp"
#include "proxy/gateway_supervisor.hpp"
#include "proxy/membership_source.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <set>
#include <string>

namespace etcdmesos::proxy {

struct FollowerConfig {
  std::string framework_name;  // names the saved endpoints
  std::chrono::milliseconds poll_interval{5000};
  std::filesystem::path data_dir;  // empty: nothing is saved
  // The clock of the polls and of repeated-problem logging; must outlive
  // the follower.
  TimeSource* time = &real_time();
};

class MembershipFollower {
 public:
  // `source` and `gateway` must outlive the follower.
  MembershipFollower(boost::asio::any_io_executor ex, FollowerConfig config,
                     MembershipSource& source, GatewaySupervisor& gateway);
  MembershipFollower(const MembershipFollower&) = delete;
  MembershipFollower& operator=(const MembershipFollower&) = delete;

  // Loads saved endpoints (if any) and starts polling.
  void start();
  void stop();

  const EndpointSet& endpoints() const { return endpoints_; }
  uint64_t polls() const { return polls_; }

  static std::filesystem::path saved_endpoints_path(const std::filesystem::path& data_dir);

 private:
  boost::asio::awaitable<void> poll_loop();
  void apply(const Discovery& discovery);
  void report_problem(const std::string& message);
  void clear_problem();
  void load_saved();
  void save();

  boost::asio::any_io_executor ex_;
  FollowerConfig config_;
  MembershipSource& source_;
  GatewaySupervisor& gateway_;
  Timer sleep_;
  EndpointSet endpoints_;
  std::set<std::string> skipped_logged_;
  std::string problem_;
  TimeSource::TimePoint problem_logged_at_{};
  bool stopping_ = false;
  uint64_t polls_ = 0;
};

}  // namespace etcdmesos::proxy
