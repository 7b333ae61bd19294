#include "harness.hpp"

#include "codec/recordio.hpp"

#include <boost/asio/detached.hpp>
#include <boost/json/parse.hpp>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace etcdmesos::devcluster::testing {

namespace asio = boost::asio;
namespace fs = std::filesystem;

// ------------------------------------------------------------ Loop

Loop::Loop() : work_(asio::make_work_guard(ioc_)), thread_([this] { ioc_.run(); }) {}

Loop::~Loop() {
  work_.reset();
  ioc_.stop();
  thread_.join();
}

// ------------------------------------------------------------ DevCluster

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

DevCluster::DevCluster(ClusterOptions options)
    : options_(std::move(options)), dir_("devcluster-test") {
  auto endpoint_file = dir_.path() / "endpoint";
  std::vector<std::string> argv = {DEVCLUSTER_BINARY,
                                   "--master-ip",
                                   "127.0.0.1",
                                   "--port",
                                   "0",
                                   "--endpoint-file",
                                   endpoint_file.string(),
                                   "--agents",
                                   std::to_string(options_.agents),
                                   "--first-agent-ip",
                                   agent_ip(0),
                                   "--work-dir",
                                   work_dir().string(),
                                   "--heartbeat-interval",
                                   std::to_string(options_.heartbeat_seconds),
                                   "--log-level",
                                   "debug"};
  argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
  process_ = std::make_unique<etcdmesos::testing::ChildProcess>(argv, dir_.path() / "log");
  bool up = etcdmesos::testing::wait_until(
      [&] {
        auto parsed = io::parse_endpoint(read_text(endpoint_file));
        if (parsed) {
          master_ = *parsed;
        }
        return parsed.has_value() || !process_->running();
      },
      30s);
  if (!up || master_.port == 0) {
    throw std::runtime_error("mesos-devcluster did not start:\n" + logs());
  }
}

DevCluster::~DevCluster() {
  process_->stop(10s);
}

std::string DevCluster::agent_ip(int index) const {
  return "127.0." + std::to_string(options_.subnet) + "." + std::to_string(2 + index);
}

std::string DevCluster::logs() const {
  return "--- devcluster stdout ---\n" + process_->stdout_text() + "--- devcluster stderr ---\n" +
         process_->stderr_text();
}

bool DevCluster::wait_for_log(const std::string& line, std::chrono::milliseconds timeout) const {
  return etcdmesos::testing::wait_until(
      [&] { return process_->stderr_text().find(line) != std::string::npos; }, timeout);
}

// ------------------------------------------------------------ HTTP

io::Response http(Loop& loop, const io::Endpoint& to, io::http::verb verb,
                  const std::string& target, const std::string& body,
                  const std::string& content_type, const std::vector<Header>& headers) {
  io::Request req = io::make_request(verb, target, to, body, content_type);
  if (content_type.empty()) {
    req.erase(io::http::field::content_type);
  }
  for (const auto& h : headers) {
    req.set(h.name, h.value);
  }
  auto ex = loop.executor();
  auto res = loop.run(io::http_request(ex, to, std::move(req), 10s));
  if (!res) {
    throw std::runtime_error("HTTP " + target + ": " + res.error().message);
  }
  return std::move(*res);
}

boost::json::value get_json(Loop& loop, const io::Endpoint& to, const std::string& target) {
  auto res = http(loop, to, io::http::verb::get, target, "", "");
  return boost::json::parse(res.body());
}

bool wait_for_leader(Loop& loop, const io::Endpoint& master, std::chrono::milliseconds timeout) {
  return etcdmesos::testing::wait_until(
      [&] {
        auto res = http(loop, master, io::http::verb::get, "/redirect", "", "");
        auto location = res.find(io::http::field::location);
        return res.result_int() == 307 && location != res.end() &&
               location->value() == "//" + master.to_string();
      },
      timeout);
}

bool wait_for_agents(Loop& loop, const io::Endpoint& master, std::size_t count,
                     std::chrono::milliseconds timeout) {
  return etcdmesos::testing::wait_until(
      [&] {
        auto res = http(loop, master, io::http::verb::get, "/state", "", "");
        boost::system::error_code ec;
        auto state = boost::json::parse(res.body(), ec);
        const auto* slaves = ec || res.result_int() != 200 || !state.is_object()
                                 ? nullptr
                                 : state.as_object().if_contains("slaves");
        return slaves != nullptr && slaves->is_array() && slaves->as_array().size() == count;
      },
      timeout);
}

// ------------------------------------------------------------ Scheduler

struct Scheduler::Shared {
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<mesos::Event> events;
  std::string framework_id;
  bool ended = false;
  io::HttpStream* stream = nullptr;  // loop thread only
};

namespace {

asio::awaitable<void> read_events(std::shared_ptr<Scheduler::Shared> shared,
                                  std::unique_ptr<io::HttpStream> stream) {
  shared->stream = stream.get();
  recordio::Decoder decoder(mesos::kMaxMessageBytes);
  while (true) {
    auto piece = co_await stream->read_some(1h);
    if (!piece || !*piece) {
      break;
    }
    auto records = decoder.feed(**piece);
    if (!records) {
      break;
    }
    std::lock_guard lock(shared->mutex);
    for (const auto& record : *records) {
      auto event = mesos::decode_event(record);
      mesos::Event e = event ? *event : mesos::Event{mesos::EventOther{"UNDECODABLE: " + record}};
      if (const auto* subscribed = std::get_if<mesos::EventSubscribed>(&e)) {
        shared->framework_id = subscribed->framework_id;
      }
      shared->events.push_back(std::move(e));
    }
    shared->changed.notify_all();
  }
  shared->stream = nullptr;
  std::lock_guard lock(shared->mutex);
  shared->ended = true;
  shared->changed.notify_all();
}

}  // namespace

Scheduler::Scheduler(Loop& loop, io::Endpoint master)
    : loop_(loop), master_(std::move(master)), shared_(std::make_shared<Shared>()) {}

Scheduler::~Scheduler() {
  disconnect();
}

unsigned Scheduler::subscribe(const mesos::FrameworkInfo& info,
                              const std::vector<Header>& headers) {
  mesos::Call call{info.id, mesos::CallSubscribe{info, {}}};
  auto req =
      io::make_request(io::http::verb::post, "/api/v1/scheduler", master_, mesos::encode(call));
  for (const auto& h : headers) {
    req.set(h.name, h.value);
  }
  auto executor = loop_.executor();
  auto shared = shared_;
  unsigned status =
      loop_.run([](asio::any_io_executor ex, io::Endpoint master, io::Request r,
                   std::shared_ptr<Shared> s, std::string& stream_id) -> asio::awaitable<unsigned> {
        auto stream = co_await io::HttpStream::open(ex, master, std::move(r), 10s);
        if (!stream) {
          co_return 0;
        }
        unsigned code = (*stream)->status();
        if (code == 200) {
          stream_id = (*stream)->header("Mesos-Stream-Id");
          asio::co_spawn(ex, read_events(s, std::move(*stream)), asio::detached);
        }
        co_return code;
      }(executor, master_, std::move(req), shared, stream_id_));
  if (status == 200) {
    std::unique_lock lock(shared_->mutex);
    shared_->changed.wait_for(lock, 10s, [&] {
      return !shared_->framework_id.empty() || shared_->ended || !shared_->events.empty();
    });
  }
  return status;
}

std::string Scheduler::framework_id() const {
  std::lock_guard lock(shared_->mutex);
  return shared_->framework_id;
}

std::optional<mesos::Event> Scheduler::next(std::chrono::milliseconds timeout) {
  std::unique_lock lock(shared_->mutex);
  if (!shared_->changed.wait_for(lock, timeout,
                                 [&] { return !shared_->events.empty() || shared_->ended; })) {
    return std::nullopt;
  }
  if (shared_->events.empty()) {
    return std::nullopt;
  }
  auto event = std::move(shared_->events.front());
  shared_->events.pop_front();
  return event;
}

std::optional<mesos::Event> Scheduler::wait_for(
    const std::function<bool(const mesos::Event&)>& pred, std::chrono::milliseconds timeout) {
  // Selective receive: the first matching event is taken, the others stay
  // queued, so that tests do not depend on the order of unrelated events.
  std::unique_lock lock(shared_->mutex);
  std::size_t scanned = 0;
  std::optional<mesos::Event> found;
  auto match = [&] {
    for (; scanned < shared_->events.size(); ++scanned) {
      if (pred(shared_->events[scanned])) {
        found = std::move(shared_->events[scanned]);
        shared_->events.erase(shared_->events.begin() + static_cast<std::ptrdiff_t>(scanned));
        return true;
      }
    }
    return shared_->ended;
  };
  shared_->changed.wait_for(lock, timeout, match);
  return found;
}

void Scheduler::drain() {
  std::lock_guard lock(shared_->mutex);
  shared_->events.clear();
}

std::optional<mesos::Event> Scheduler::wait_for_type(const std::string& type,
                                                     std::chrono::milliseconds timeout) {
  return wait_for([&](const mesos::Event& e) { return mesos::type_name(e) == type; }, timeout);
}

std::optional<mesos::TaskStatus> Scheduler::wait_for_update(const std::string& task_id,
                                                            std::optional<mesos::TaskState> state,
                                                            std::chrono::milliseconds timeout) {
  auto event = wait_for(
      [&](const mesos::Event& e) {
        const auto* update = std::get_if<mesos::EventUpdate>(&e);
        return update != nullptr && update->status.task_id == task_id &&
               (!state || update->status.state == *state);
      },
      timeout);
  if (!event) {
    return std::nullopt;
  }
  return std::get<mesos::EventUpdate>(*event).status;
}

bool Scheduler::wait_ended(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard lock(shared_->mutex);
      if (shared_->ended && shared_->events.empty()) {
        return true;
      }
    }
    next(100ms);  // drop what is still queued
  }
  return false;
}

void Scheduler::disconnect() {
  auto shared = shared_;
  loop_.run([](std::shared_ptr<Shared> s) -> asio::awaitable<void> {
    if (s->stream != nullptr) {
      s->stream->close();
    }
    co_return;
  }(shared));
}

io::Response Scheduler::call(mesos::Call call) {
  if (!call.framework_id) {
    call.framework_id = framework_id();
  }
  return http(loop_, master_, io::http::verb::post, "/api/v1/scheduler", mesos::encode(call),
              "application/json", {{"Mesos-Stream-Id", stream_id_}});
}

io::Response Scheduler::acknowledge(const mesos::TaskStatus& status) {
  return this->call(
      mesos::Call{std::nullopt, mesos::CallAcknowledge{status.agent_id.value_or(""), status.task_id,
                                                       status.uuid.value_or("")}});
}

// ------------------------------------------------------------ ArtifactServer

struct ArtifactServer::Shared {
  std::map<std::string, std::string> files;
  mutable std::mutex mutex;  // requests are counted on the loop, read by the test
  std::map<std::string, std::size_t> requests;
};

ArtifactServer::ArtifactServer(Loop& loop, std::map<std::string, std::string> files)
    : loop_(loop), shared_(std::make_shared<Shared>()) {
  shared_->files = std::move(files);
  server_ = std::make_unique<io::HttpServer>(
      loop.executor(),
      [shared = shared_](io::HttpExchange& exchange) -> asio::awaitable<void> {
        const auto& req = exchange.request();
        const std::string target(req.target());
        if (req.method() == io::http::verb::get) {
          std::lock_guard lock(shared->mutex);
          ++shared->requests[target];
        }
        auto it = shared->files.find(target);
        if (it == shared->files.end()) {
          co_await exchange.respond(
              io::make_response(req, io::http::status::not_found, "", "text/plain"));
        } else {
          co_await exchange.respond(
              io::make_response(req, io::http::status::ok, it->second, "application/octet-stream"));
        }
      },
      1024);
  auto* server = server_.get();
  auto bound = loop.run([](io::HttpServer* s) -> asio::awaitable<Result<io::Endpoint>> {
    co_return s->listen(io::Endpoint{"127.0.0.1", 0});
  }(server));
  if (!bound) {
    throw std::runtime_error("artifact server: " + bound.error().message);
  }
  endpoint_ = *bound;
}

ArtifactServer::~ArtifactServer() {
  auto* server = server_.get();
  loop_.run([](io::HttpServer* s) -> asio::awaitable<void> {
    s->stop();
    co_return;
  }(server));
}

std::string ArtifactServer::url(const std::string& path) const {
  return "http://" + endpoint_.to_string() + path;
}

std::size_t ArtifactServer::requests(const std::string& path) const {
  std::lock_guard lock(shared_->mutex);
  auto it = shared_->requests.find(path);
  return it == shared_->requests.end() ? 0 : it->second;
}

// ------------------------------------------------------------ builders

mesos::FrameworkInfo framework_info(const std::string& name) {
  mesos::FrameworkInfo info;
  info.user = "test";
  info.name = name;
  info.failover_timeout = 3600;
  info.checkpoint = true;
  info.roles = {"etcd"};
  info.capabilities = {"MULTI_ROLE"};
  return info;
}

mesos::TaskInfo executor_task(const mesos::Offer& offer, const std::string& task_id,
                              const std::string& executor_id, const std::string& executor_url,
                              double cpus, double mem, std::string data) {
  mesos::TaskInfo task;
  task.name = task_id;
  task.task_id = task_id;
  task.agent_id = offer.agent_id;
  task.resources = {mesos::scalar_resource("cpus", cpus), mesos::scalar_resource("mem", mem)};
  mesos::ExecutorInfo executor;
  executor.executor_id = executor_id;
  mesos::CommandInfo command;
  command.value = "./devcluster-test-executor";
  command.shell = false;
  command.arguments = {"devcluster-test-executor"};
  mesos::Uri uri;
  uri.value = executor_url;
  uri.executable = true;
  uri.extract = false;
  command.uris = {uri};
  command.environment = {{"TEST_VARIABLE", "from-command"}};
  executor.command = command;
  executor.resources = {mesos::scalar_resource("cpus", 0.1), mesos::scalar_resource("mem", 32)};
  task.executor = executor;
  if (!data.empty()) {
    task.data = std::move(data);
  }
  return task;
}

mesos::Call accept_call(const mesos::Offer& offer, std::vector<mesos::TaskInfo> tasks,
                        std::optional<double> refuse_seconds) {
  mesos::CallAccept accept;
  accept.offer_ids = {offer.id};
  mesos::Operation launch;
  launch.type = "LAUNCH";
  launch.launch_tasks = std::move(tasks);
  accept.operations = {launch};
  if (refuse_seconds) {
    accept.filters = mesos::Filters{refuse_seconds};
  }
  return mesos::Call{std::nullopt, std::move(accept)};
}

std::string test_executor_binary() {
  return read_text(DEVCLUSTER_TEST_EXECUTOR);
}

}  // namespace etcdmesos::devcluster::testing
