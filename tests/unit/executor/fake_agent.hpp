// A fake Mesos agent for executor tests, built from HttpServer: it serves
// POST /api/v1/executor, answers SUBSCRIBE with a RecordIO stream that starts
// with SUBSCRIBED and then carries whatever the test sends, records every
// UPDATE and (unless told not to) answers it with ACKNOWLEDGED, as a real
// agent does a few ms after checkpointing it (reference mesos §15). Calls
// are checked like the real agent checks them: exact Content-Type, known ids,
// SOURCE_EXECUTOR and a 16-byte version 4 uuid; a violation gets a 400 and is
// recorded in `rejected`.
#pragma once

#include "codec/mesos.hpp"
#include "codec/recordio.hpp"
#include "io/http.hpp"
#include "unit/io/io_test_util.hpp"

#include <boost/asio/io_context.hpp>

#include <memory>
#include <string>
#include <vector>

namespace etcdmesos::testing {

class FakeAgent {
 public:
  struct Chunk {
    std::string bytes;
    bool abort = false;  // cut the connection instead of writing
  };
  struct Subscription {
    explicit Subscription(boost::asio::any_io_executor ex) : outbox(ex) {}
    mesos::ExecutorCall call;
    AsyncQueue<Chunk> outbox;
    bool ended = false;
  };

  static constexpr const char* kFrameworkId = "fw-test-0001";
  static constexpr const char* kExecutorId = "executor-etcd-m0";
  static constexpr const char* kAgentId = "agent-test-S0";

  explicit FakeAgent(boost::asio::io_context& ioc)
      : ioc_(ioc),
        server_(ioc.get_executor(), [this](io::HttpExchange& ex) { return handle(ex); }) {
    at = server_.listen({"127.0.0.1", 0}).value();
  }
  ~FakeAgent() { stop(); }

  // The agent process vanishes: streams cut, new connections refused.
  void stop() {
    for (auto& sub : subscriptions) {
      sub->outbox.close();
    }
    server_.stop();
  }

  // Writes `event` to the newest subscription's stream.
  void send(const mesos::ExecutorEvent& event) { send_raw(recordio::encode(mesos::encode(event))); }
  void send_raw(std::string bytes) { subscriptions.back()->outbox.push(Chunk{std::move(bytes)}); }
  // Cuts the newest subscription's connection.
  void drop() { subscriptions.back()->outbox.push(Chunk{{}, true}); }

  void acknowledge(const mesos::TaskStatus& status) {
    send(mesos::ExecutorEventAcknowledged{status.task_id, status.uuid.value_or("")});
  }

  std::vector<std::string> states() const {
    std::vector<std::string> out;
    for (const auto& u : updates) {
      out.emplace_back(mesos::to_string(u.state));
    }
    return out;
  }
  bool has_state(mesos::TaskState state) const {
    for (const auto& u : updates) {
      if (u.state == state) {
        return true;
      }
    }
    return false;
  }
  const mesos::TaskStatus* find(mesos::TaskState state) const {
    for (const auto& u : updates) {
      if (u.state == state) {
        return &u;
      }
    }
    return nullptr;
  }

  io::Endpoint at;
  bool auto_acknowledge = true;
  bool send_subscribed = true;
  std::vector<std::shared_ptr<Subscription>> subscriptions;
  std::vector<mesos::TaskStatus> updates;  // in arrival order
  std::vector<std::string> rejected;       // why a call got a 400

 private:
  static mesos::ExecutorEvent subscribed_event(uint16_t port) {
    mesos::ExecutorEventSubscribed s;
    s.executor_info.executor_id = kExecutorId;
    s.framework_info.user = "etcd";
    s.framework_info.name = "etcd-test";
    s.framework_info.id = kFrameworkId;
    s.agent_info.id = kAgentId;
    s.agent_info.hostname = "127.0.0.1";
    s.agent_info.port = port;
    s.container_id = "container-1";
    return s;
  }

  static std::string check(const io::Request& req, const mesos::ExecutorCall& call) {
    if (req[io::http::field::content_type] != "application/json") {
      return "Content-Type is not exactly application/json";
    }
    if (call.framework_id != kFrameworkId || call.executor_id != kExecutorId) {
      return "unknown framework or executor id";
    }
    if (const auto* update = std::get_if<mesos::ExecutorCallUpdate>(&call.payload)) {
      const auto& s = update->status;
      if (s.source != "SOURCE_EXECUTOR") {
        return "update source is not SOURCE_EXECUTOR";
      }
      if (s.executor_id && *s.executor_id != kExecutorId) {
        return "status.executor_id differs from the call's";
      }
      if (s.state == mesos::TaskState::kStaging) {
        return "TASK_STAGING sent by an executor";
      }
      const auto& uuid = s.uuid.value_or("");
      if (uuid.size() != 16 || (uuid[6] & 0xF0) != 0x40 || (uuid[8] & 0xC0) != 0x80) {
        return "uuid is not 16 bytes of a version 4 UUID";
      }
    }
    return {};
  }

  boost::asio::awaitable<void> handle(io::HttpExchange& ex) {
    const auto& req = ex.request();
    auto call = mesos::decode_executor_call(req.body());
    std::string problem = req.target() != "/api/v1/executor" ? "wrong path"
                          : !call                            ? call.error().message
                                                             : check(req, *call);
    if (!problem.empty()) {
      rejected.push_back(problem);
      co_await ex.respond(
          io::make_response(req, io::http::status::bad_request, problem, "text/plain"));
      co_return;
    }
    if (std::holds_alternative<mesos::ExecutorCallSubscribe>(call->payload)) {
      co_await stream(ex, *call);
      co_return;
    }
    if (const auto* update = std::get_if<mesos::ExecutorCallUpdate>(&call->payload)) {
      updates.push_back(update->status);
      co_await ex.respond(io::make_response(req, io::http::status::accepted, "", "text/plain"));
      if (auto_acknowledge && !subscriptions.empty()) {
        acknowledge(update->status);
      }
      co_return;
    }
    co_await ex.respond(io::make_response(req, io::http::status::accepted, "", "text/plain"));
  }

  boost::asio::awaitable<void> stream(io::HttpExchange& ex, mesos::ExecutorCall call) {
    auto sub = std::make_shared<Subscription>(ioc_.get_executor());
    sub->call = std::move(call);
    subscriptions.push_back(sub);
    auto header = io::make_response(ex.request(), io::http::status::ok, "");
    header.set(io::http::field::content_type, "application/json");
    if (send_subscribed) {
      sub->outbox.push(Chunk{recordio::encode(mesos::encode(subscribed_event(at.port)))});
    }
    if (co_await ex.start_stream(std::move(header))) {
      while (auto chunk = co_await sub->outbox.pop()) {
        if (chunk->abort) {
          ex.abort();
          sub->ended = true;
          co_return;
        }
        if (!co_await ex.write_chunk(chunk->bytes)) {
          break;
        }
      }
      co_await ex.finish_stream();
    }
    sub->ended = true;
  }

  boost::asio::io_context& ioc_;
  io::HttpServer server_;
};

}  // namespace etcdmesos::testing
