// Where the proxy reads a cluster's members from: the leading Mesos master's
// /master/state (found through io::MasterDetector), or the scheduler's
// GET /members.
//
// Threading: fetch() runs on the io_context of the executor given. One
// fetch at a time: the caller awaits each one before starting the next, so
// never more than one request is in flight (/state is expensive for the
// master). Errors (no leader known, refused connection, timeout, a non-200
// answer, malformed JSON, no such framework) are Error values with a message
// that says what to check; nothing is thrown.
#pragma once

#include "common/error.hpp"
#include "io/http.hpp"
#include "io/master_detector.hpp"
#include "proxy/discovery.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace etcdmesos::proxy {

class MembershipSource {
 public:
  virtual ~MembershipSource() = default;
  virtual boost::asio::awaitable<Result<Discovery>> fetch() = 0;
  // "the Mesos master (zk://...)", for log lines.
  virtual std::string describe() const = 0;
};

// "//host:port/path" or "http://host:port/path" (a Location header) ->
// host:port. Error for anything else.
Result<io::Endpoint> endpoint_from_location(std::string_view location);

class MasterStateSource : public MembershipSource {
 public:
  // `detector` must outlive this source; `master_spec` is only for messages.
  MasterStateSource(boost::asio::any_io_executor ex, io::MasterDetector& detector,
                    std::string master_spec, FrameworkSelector selector,
                    std::chrono::milliseconds timeout);
  boost::asio::awaitable<Result<Discovery>> fetch() override;
  std::string describe() const override;

 private:
  boost::asio::awaitable<Result<std::string>> get_state(io::Endpoint master);

  boost::asio::any_io_executor ex_;
  io::MasterDetector& detector_;
  std::string master_spec_;
  FrameworkSelector selector_;
  std::chrono::milliseconds timeout_;
};

class SchedulerMembersSource : public MembershipSource {
 public:
  // Error for a URL that is not http://host:port[/path].
  static Result<std::unique_ptr<SchedulerMembersSource>> from_url(
      boost::asio::any_io_executor ex, std::string_view url, std::chrono::milliseconds timeout);
  boost::asio::awaitable<Result<Discovery>> fetch() override;
  std::string describe() const override;

 private:
  SchedulerMembersSource(boost::asio::any_io_executor ex, std::string url, io::Endpoint endpoint,
                         std::string target, std::chrono::milliseconds timeout);

  boost::asio::any_io_executor ex_;
  std::string url_;
  io::Endpoint endpoint_;
  std::string target_;
  std::chrono::milliseconds timeout_;
};

}  // namespace etcdmesos::proxy
