// devcluster-test-executor: a tiny custom executor for the dev cluster's
// tests, fetched by an agent over HTTP like a real artifact.
//
// It records its environment in ./env.txt, SUBSCRIBEs, and answers:
//   LAUNCH   -> TASK_RUNNING, then per the task's data:
//               "finish" -> TASK_FINISHED, "fail" -> TASK_FAILED,
//               "exit:N" -> exit with status N, otherwise stay running
//   KILL     -> TASK_KILLED
//   MESSAGE  -> MESSAGE "echo:<data>" back to the scheduler
//   SHUTDOWN -> TASK_KILLED for every running task, exit 0
// With TEST_EXECUTOR_MODE=no-subscribe it never subscribes (registration
// timeout tests); with TEST_EXECUTOR_MODE=ignore-shutdown it ignores
// SHUTDOWN (grace period tests). Exits 1 when the agent connection ends.
#include "codec/mesos.hpp"
#include "codec/recordio.hpp"
#include "io/http.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>

extern char** environ;

namespace asio = boost::asio;
namespace io = etcdmesos::io;
namespace mesos = etcdmesos::mesos;
using namespace std::chrono_literals;

namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

void record_environment() {
  std::vector<std::string> lines;
  for (char** e = environ; *e != nullptr; ++e) {
    lines.emplace_back(*e);
  }
  std::sort(lines.begin(), lines.end());
  std::ofstream out("env.txt");
  for (const auto& line : lines) {
    out << line << "\n";
  }
}

std::string uuid_bytes() {
  static std::mt19937_64 gen{std::random_device{}()};
  std::string bytes(16, '\0');
  for (auto& b : bytes) {
    b = static_cast<char>(gen() & 0xff);
  }
  bytes[6] = static_cast<char>((bytes[6] & 0x0f) | 0x40);
  bytes[8] = static_cast<char>((bytes[8] & 0x3f) | 0x80);
  return bytes;
}

class TestExecutor {
 public:
  explicit TestExecutor(asio::io_context& ioc) : ioc_(ioc) {}

  asio::awaitable<void> run() {
    auto endpoint = io::parse_endpoint(env("MESOS_AGENT_ENDPOINT"));
    if (!endpoint) {
      finish(2, "bad MESOS_AGENT_ENDPOINT");
      co_return;
    }
    agent_ = *endpoint;
    if (env("TEST_EXECUTOR_MODE") == "no-subscribe") {
      asio::steady_timer forever(ioc_, 24h);
      co_await forever.async_wait(asio::use_awaitable);
      co_return;
    }
    mesos::ExecutorCall call = base_call(mesos::ExecutorCallSubscribe{});
    auto req =
        io::make_request(io::http::verb::post, "/api/v1/executor", agent_, mesos::encode(call));
    req.set(io::http::field::accept, "application/json");
    auto stream = co_await io::HttpStream::open(ioc_.get_executor(), agent_, std::move(req), 10s);
    if (!stream || (*stream)->status() != 200) {
      finish(3, "SUBSCRIBE failed");
      co_return;
    }
    etcdmesos::recordio::Decoder decoder(mesos::kMaxMessageBytes);
    while (true) {
      auto piece = co_await (*stream)->read_some(24h);
      if (!piece || !*piece) {
        finish(1, "agent connection ended");
        co_return;
      }
      auto records = decoder.feed(**piece);
      if (!records) {
        finish(4, "bad RecordIO");
        co_return;
      }
      for (const auto& record : *records) {
        auto event = mesos::decode_executor_event(record);
        if (event) {
          co_await handle(*event);
        }
      }
    }
  }

 private:
  mesos::ExecutorCall base_call(mesos::ExecutorCallPayload payload) const {
    return mesos::ExecutorCall{env("MESOS_EXECUTOR_ID"), env("MESOS_FRAMEWORK_ID"),
                               std::move(payload)};
  }

  asio::awaitable<void> handle(const mesos::ExecutorEvent& event) {
    std::cerr << "event " << mesos::type_name(event) << std::endl;
    if (const auto* launch = std::get_if<mesos::ExecutorEventLaunch>(&event)) {
      const auto& task = launch->task;
      running_.insert(task.task_id);
      co_await update(task.task_id, mesos::TaskState::kRunning, "running");
      std::string data = task.data.value_or("");
      if (data == "finish" || data == "fail") {
        running_.erase(task.task_id);
        co_await update(task.task_id,
                        data == "finish" ? mesos::TaskState::kFinished : mesos::TaskState::kFailed,
                        data);
      } else if (data.rfind("exit:", 0) == 0) {
        finish(std::atoi(data.c_str() + 5), "asked to exit");
      }
    } else if (const auto* kill = std::get_if<mesos::ExecutorEventKill>(&event)) {
      running_.erase(kill->task_id);
      co_await update(kill->task_id, mesos::TaskState::kKilled, "killed");
    } else if (const auto* message = std::get_if<mesos::ExecutorEventMessage>(&event)) {
      // Named: GCC 12 destroys a temporary in a co_await expression twice.
      const auto echo = base_call(mesos::ExecutorCallMessage{"echo:" + message->data});
      co_await post(echo);
    } else if (std::holds_alternative<mesos::ExecutorEventShutdown>(event) &&
               env("TEST_EXECUTOR_MODE") != "ignore-shutdown") {
      for (const auto& id : std::set<std::string>(running_)) {
        co_await update(id, mesos::TaskState::kKilled, "shutdown");
      }
      finish(0, "shut down");
    }
  }

  asio::awaitable<void> update(const std::string& task_id, mesos::TaskState state,
                               std::string message) {
    mesos::TaskStatus status;
    status.task_id = task_id;
    status.state = state;
    status.message = std::move(message);
    status.source = "SOURCE_EXECUTOR";
    status.executor_id = env("MESOS_EXECUTOR_ID");
    status.uuid = uuid_bytes();
    status.timestamp =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    const auto call = base_call(mesos::ExecutorCallUpdate{status});
    co_await post(call);
  }

  asio::awaitable<void> post(const mesos::ExecutorCall& call) {
    auto req =
        io::make_request(io::http::verb::post, "/api/v1/executor", agent_, mesos::encode(call));
    auto res = co_await io::http_request(ioc_.get_executor(), agent_, std::move(req), 10s);
    if (!res || res->result_int() != 202) {
      std::cerr << mesos::type_name(call) << " answered "
                << (res ? std::to_string(res->result_int()) + " " + res->body()
                        : res.error().message)
                << std::endl;
    }
  }

  void finish(int code, const std::string& why) {
    std::cerr << "exiting with " << code << ": " << why << std::endl;
    exit_code_ = code;
    ioc_.stop();
  }

 public:
  int exit_code_ = 0;

 private:
  asio::io_context& ioc_;
  io::Endpoint agent_;
  std::set<std::string> running_;
};

}  // namespace

int main() {
  record_environment();
  asio::io_context ioc;
  TestExecutor executor(ioc);
  asio::co_spawn(ioc, executor.run(), asio::detached);
  ioc.run();
  return executor.exit_code_;
}
