// The executor side of the Mesos v1 HTTP executor API
// (shared/reference/mesos-v1-http-api.md §1, §4, §11, §15).
//
// MesosExecutor is the seam: the member-side logic (executor/executor.hpp)
// talks to it. MesosExecutorClient is the real one: it SUBSCRIBEs to the
// agent named by the environment, reads the RecordIO event stream, sends
// UPDATE calls on connections of their own, keeps every update until the
// agent ACKNOWLEDGED it and every launched task until one of its updates was
// acknowledged, and replays both in the next SUBSCRIBE after a reconnect.
//
// Reconnect rules (reference §15): before the first SUBSCRIBED the client
// keeps trying for `registration_timeout`; once subscribed, a lost
// connection ends the client when the framework does not checkpoint, and
// otherwise is retried (each wait <= MESOS_SUBSCRIPTION_BACKOFF_MAX) for up
// to MESOS_RECOVERY_TIMEOUT. Giving up is reported through on_gone.
//
// Threading: everything runs on the io_context of the executor given;
// callbacks are called there. Not thread-safe.
// Errors: nothing an agent sends can crash the client. A bad answer or a
// malformed record ends the connection (logged with the reason).
#pragma once

#include "codec/mesos.hpp"
#include "common/error.hpp"
#include "common/time_source.hpp"
#include "io/http.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace etcdmesos::io {

// Parses a Mesos duration ("15mins", "2secs", "1.5hrs", "100ms"): a
// non-negative decimal number followed by one of the units ns us ms secs mins
// hrs days weeks, nothing else. Error for anything else or on overflow.
Result<std::chrono::nanoseconds> parse_mesos_duration(std::string_view text);

// What the agent tells its executor through the environment.
struct ExecutorSettings {
  Endpoint agent;  // MESOS_AGENT_ENDPOINT
  std::string framework_id;
  std::string executor_id;
  std::string agent_id;  // MESOS_SLAVE_ID, informational, may be empty
  bool checkpoint = false;
  std::chrono::nanoseconds recovery_timeout = std::chrono::minutes(15);
  std::chrono::nanoseconds subscription_backoff_max = std::chrono::seconds(2);
  std::chrono::nanoseconds shutdown_grace_period = std::chrono::seconds(5);
  std::string sandbox;     // MESOS_SANDBOX, else MESOS_DIRECTORY, else ""
  std::string auth_token;  // MESOS_EXECUTOR_AUTHENTICATION_TOKEN (sent as Bearer)
};

// Reads the settings from an environment map (the process environment in
// production, a literal map in tests). Error naming the variable when a
// required one is missing or a value cannot be parsed. Required:
// MESOS_AGENT_ENDPOINT, MESOS_FRAMEWORK_ID, MESOS_EXECUTOR_ID; with
// MESOS_CHECKPOINT=1 also MESOS_RECOVERY_TIMEOUT and
// MESOS_SUBSCRIPTION_BACKOFF_MAX.
Result<ExecutorSettings> executor_settings_from(const std::map<std::string, std::string>& env);

// A random (version 4, RFC 4122 variant) UUID as 16 raw bytes: what an
// UPDATE's status.uuid must hold (base64-encoded on the wire).
std::string random_uuid(RandomSource& random);

struct MesosExecutorCallbacks {
  std::function<void(const mesos::ExecutorEventSubscribed&)> on_subscribed;
  std::function<void(const mesos::TaskInfo&)> on_launch;
  std::function<void(const mesos::ExecutorEventKill&)> on_kill;
  // After the client dropped the acknowledged update from its ledger.
  std::function<void(const std::string& task_id, const std::string& uuid)> on_acknowledged;
  std::function<void(const std::string& data)> on_message;
  std::function<void()> on_shutdown;
  std::function<void(const std::string& message)> on_error;
  // The client gave up on the agent (see the reconnect rules above) and has
  // stopped; the executor should end.
  std::function<void(const std::string& reason)> on_gone;
};

class MesosExecutor {
 public:
  virtual ~MesosExecutor() = default;
  // Starts subscribing in the background; returns at once.
  virtual void start(MesosExecutorCallbacks callbacks) = 0;
  // Ends the subscription; no callback is made after stop() returns. May be
  // called from inside a callback.
  virtual void stop() = 0;
  // Fills in source SOURCE_EXECUTOR, executor_id, timestamp and a fresh
  // uuid, keeps the update until it is acknowledged and sends it (now when
  // subscribed, else with the next SUBSCRIBE). Updates are sent in order.
  // Returns the uuid (raw bytes); Error when too many are unacknowledged.
  virtual Result<std::string> send_update(mesos::TaskStatus status) = 0;
  // Updates sent but not acknowledged yet.
  virtual std::size_t unacknowledged_updates() const = 0;
  // A framework message to the scheduler (MESSAGE call; Mesos names this
  // executor and its agent as the sender). Unreliable, as in Mesos: sent
  // once when subscribed, dropped (with a log line) otherwise; whoever needs
  // an answer asks again.
  virtual void send_message(std::string data) = 0;
};

class MesosExecutorClient final : public MesosExecutor {
 public:
  enum class State { kDisconnected, kSubscribing, kSubscribed, kGone };

  struct Config {
    ExecutorSettings settings;
    std::string api_path = "/api/v1/executor";
    // Each UPDATE, and the SUBSCRIBE up to its response header.
    std::chrono::milliseconds request_timeout = std::chrono::seconds(10);
    // The agent destroys an executor that has not subscribed within its
    // --executor_registration_timeout (default 1 min); trying longer is moot.
    std::chrono::milliseconds registration_timeout = std::chrono::minutes(1);
    // First wait before re-subscribing; doubles up to
    // settings.subscription_backoff_max, each wait drawn from [d/2, d].
    std::chrono::milliseconds backoff_initial = std::chrono::milliseconds(100);
    // The agent sends HEARTBEAT every 30 minutes: silence for longer than
    // two of them means the agent's host is gone without closing the socket.
    std::chrono::milliseconds event_silence_limit = std::chrono::minutes(65);
    // POST attempts per UPDATE while subscribed; afterwards it waits for the
    // next SUBSCRIBE.
    int update_attempts = 5;
    std::size_t max_unacknowledged_updates = 256;
    std::size_t max_unacknowledged_tasks = 64;
    std::size_t max_record_bytes = mesos::kMaxMessageBytes;
    // The clock of every wait (backoff, registration and recovery windows,
    // update retries) and of status.timestamp (its wall clock), and the
    // generator of uuids and backoff jitter; both must outlive the client.
    TimeSource* time = &real_time();
    RandomSource* random = &process_random();
  };

  MesosExecutorClient(boost::asio::any_io_executor ex, Config config);
  ~MesosExecutorClient() override;
  MesosExecutorClient(const MesosExecutorClient&) = delete;
  MesosExecutorClient& operator=(const MesosExecutorClient&) = delete;

  void start(MesosExecutorCallbacks callbacks) override;
  void stop() override;
  Result<std::string> send_update(mesos::TaskStatus status) override;
  std::size_t unacknowledged_updates() const override;
  void send_message(std::string data) override;

  State state() const;
  std::size_t unacknowledged_tasks() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

std::string_view to_string(MesosExecutorClient::State state);

}  // namespace etcdmesos::io
