// Test harness for mesos-devcluster: the binary as a child process on
// ephemeral ports with its own work dir and loopback subnet, driven over
// HTTP with src/io/http.hpp and the Mesos codec from a background
// io_context thread. Blocking API; every wait has a deadline.
#pragma once

#include "codec/mesos.hpp"
#include "io/http.hpp"
#include "support/processes.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace etcdmesos::devcluster::testing {

using namespace std::chrono_literals;

// An io_context on its own thread; run() executes a coroutine there and
// blocks until it completes.
class Loop {
 public:
  Loop();
  ~Loop();
  boost::asio::any_io_executor executor() { return ioc_.get_executor(); }
  template <class T>
  T run(boost::asio::awaitable<T> op) {
    return boost::asio::co_spawn(ioc_, std::move(op), boost::asio::use_future).get();
  }

 private:
  boost::asio::io_context ioc_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread thread_;
};

struct ClusterOptions {
  int subnet = 1;  // agents on 127.0.<subnet>.2, .3, ...
  int agents = 2;
  double heartbeat_seconds = 0.5;
  std::vector<std::string> extra_args;
};

inline ClusterOptions options(int subnet, int agents, std::vector<std::string> extra_args = {},
                              double heartbeat_seconds = 0.5) {
  ClusterOptions o;
  o.subnet = subnet;
  o.agents = agents;
  o.heartbeat_seconds = heartbeat_seconds;
  o.extra_args = std::move(extra_args);
  return o;
}

// The mesos-devcluster binary, stopped with SIGTERM by the destructor.
class DevCluster {
 public:
  explicit DevCluster(ClusterOptions options);
  ~DevCluster();
  const io::Endpoint& master() const { return master_; }
  std::string agent_ip(int index) const;
  const std::filesystem::path& dir() const { return dir_.path(); }
  std::filesystem::path work_dir() const { return dir_.path() / "work"; }
  etcdmesos::testing::ChildProcess& process() { return *process_; }
  std::string logs() const;
  // True once the dev cluster's log holds `line` (a substring of one line),
  // within `timeout`: for what a test cannot observe over HTTP in time,
  // such as an agent's re-registration coming due.
  bool wait_for_log(const std::string& line, std::chrono::milliseconds timeout = 20s) const;

 private:
  ClusterOptions options_;
  etcdmesos::testing::TempDir dir_;
  std::unique_ptr<etcdmesos::testing::ChildProcess> process_;
  io::Endpoint master_;
};

struct Header {
  std::string name;
  std::string value;
};

// One request on a new connection. content_type "" = no Content-Type.
io::Response http(Loop& loop, const io::Endpoint& to, io::http::verb verb,
                  const std::string& target, const std::string& body = "",
                  const std::string& content_type = "application/json",
                  const std::vector<Header>& headers = {});
boost::json::value get_json(Loop& loop, const io::Endpoint& to, const std::string& target);
// True once `master` leads (its /redirect points at itself), within
// `timeout`.
bool wait_for_leader(Loop& loop, const io::Endpoint& master,
                     std::chrono::milliseconds timeout = 20s);
// True once `master`'s /state lists `count` agents (after a failover the
// agents re-register with the new leader one by one), within `timeout`.
bool wait_for_agents(Loop& loop, const io::Endpoint& master, std::size_t count,
                     std::chrono::milliseconds timeout = 20s);

// A scheduler on the v1 API: one subscription stream read by a background
// coroutine into a queue, and calls on separate connections.
class Scheduler {
 public:
  Scheduler(Loop& loop, io::Endpoint master);
  ~Scheduler();

  // SUBSCRIBE; returns the HTTP status. On 200 the stream is read in the
  // background and, for SUBSCRIBED, framework_id() is set.
  unsigned subscribe(const mesos::FrameworkInfo& info, const std::vector<Header>& headers = {});
  const std::string& stream_id() const { return stream_id_; }
  std::string framework_id() const;

  // The next event, or nullopt when none arrives within `timeout`.
  std::optional<mesos::Event> next(std::chrono::milliseconds timeout = 30s);
  // The first queued or arriving event satisfying `pred`; other events stay
  // queued.
  std::optional<mesos::Event> wait_for(const std::function<bool(const mesos::Event&)>& pred,
                                       std::chrono::milliseconds timeout = 30s);
  std::optional<mesos::Event> wait_for_type(const std::string& type,
                                            std::chrono::milliseconds timeout = 30s);
  // Waits for an UPDATE of `task_id` (optionally in `state`).
  std::optional<mesos::TaskStatus> wait_for_update(const std::string& task_id,
                                                   std::optional<mesos::TaskState> state = {},
                                                   std::chrono::milliseconds timeout = 30s);
  // Drops every queued event.
  void drain();
  // True once the stream ended (zero chunk or closed), within `timeout`.
  bool wait_ended(std::chrono::milliseconds timeout = 30s);
  // Closes the subscription connection.
  void disconnect();

  // Sends `call` with framework_id and Mesos-Stream-Id filled in.
  io::Response call(mesos::Call call);
  io::Response acknowledge(const mesos::TaskStatus& status);

  struct Shared;

 private:
  Loop& loop_;
  io::Endpoint master_;
  std::string stream_id_;
  std::shared_ptr<Shared> shared_;
};

// Serves files (path -> content) over HTTP, like an artifact server.
class ArtifactServer {
 public:
  ArtifactServer(Loop& loop, std::map<std::string, std::string> files);
  ~ArtifactServer();
  std::string url(const std::string& path) const;
  // GET requests for `path` answered so far (found or not).
  std::size_t requests(const std::string& path) const;

  struct Shared;

 private:
  Loop& loop_;
  std::shared_ptr<Shared> shared_;
  std::unique_ptr<io::HttpServer> server_;
  io::Endpoint endpoint_;
};

// Helpers to build what a scheduler sends.
mesos::FrameworkInfo framework_info(const std::string& name = "devcluster-test");
// A task for `offer` using the test executor fetched from `executor_url`.
mesos::TaskInfo executor_task(const mesos::Offer& offer, const std::string& task_id,
                              const std::string& executor_id, const std::string& executor_url,
                              double cpus = 0.5, double mem = 64, std::string data = "");
// A call of this framework (Scheduler::call fills in the framework ID).
inline mesos::Call call_of(mesos::CallPayload payload) {
  return mesos::Call{std::nullopt, std::move(payload)};
}

mesos::Call accept_call(const mesos::Offer& offer, std::vector<mesos::TaskInfo> tasks,
                        std::optional<double> refuse_seconds = std::nullopt);
std::string read_text(const std::filesystem::path& path);
std::string test_executor_binary();

}  // namespace etcdmesos::devcluster::testing
