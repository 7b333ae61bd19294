// The scheduler side of the Mesos v1 HTTP scheduler API
// (shared/reference/mesos-v1-http-api.md §2-§7, §13, §14).
//
// MesosScheduler is the seam: the scheduler shell talks to it, tests give it
// a fake. MesosSchedulerClient is the real one: it finds the leading master,
// SUBSCRIBEs, reads the RecordIO event stream, watches heartbeats and
// re-subscribes with backoff whenever the subscription is lost, or at once
// when the master detector names a new leader. Every other call goes through
// one bounded queue, in the order sent, over one kept-alive connection per
// subscription (never the subscription's own, reference §2).
//
// Threading: everything runs on the io_context of the executor given;
// callbacks are called there. Not thread-safe.
// Lifetime: the client's background work keeps its own state alive, but
// `find_master` is awaited as given: whatever it refers to (a detector) must
// outlive any lookup in flight, i.e. be destroyed after the io_context stops
// running or after the client was stopped and the loop ran on.
// Errors: nothing a master sends can crash the client. A bad answer, a
// malformed record or a silent master ends the subscription (logged with the
// reason) and a new one is attempted after a backoff. Calls are fire and
// forget: one that cannot be sent or is refused is logged and dropped, as are
// the calls still queued when their subscription ends (they carry its stream
// id, which no master accepts afterwards); the scheduler core recovers lost
// calls through reconciliation and timeouts.
#pragma once

#include "codec/mesos.hpp"
#include "common/error.hpp"
#include "common/time_source.hpp"
#include "io/http.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace etcdmesos::io {

class MesosScheduler {
 public:
  virtual ~MesosScheduler() = default;
  // Starts subscribing in the background; returns at once.
  virtual void start() = 0;
  // Ends the subscription and stops re-subscribing. No callback is made
  // after stop() returns. May be called from inside a callback.
  virtual void stop() = 0;
  // Queues a non-SUBSCRIBE call, to be sent after the ones queued before it
  // with framework_id and Mesos-Stream-Id set; returns at once. Dropped with
  // a log line when not subscribed or when the queue is full; an answer other
  // than 202/200 is logged with the call type.
  virtual void send(mesos::Call call) = 0;
  // "DISCONNECTED", "CONNECTING", "SUBSCRIBING" or "SUBSCRIBED".
  virtual std::string state_name() const = 0;
};

class MesosSchedulerClient final : public MesosScheduler {
 public:
  enum class State { kDisconnected, kConnecting, kSubscribing, kSubscribed };

  struct Config {
    // Sent in every SUBSCRIBE. A preset `id` re-subscribes as that framework.
    mesos::FrameworkInfo framework_info;
    // Asked before every connection attempt for the leading master, waiting
    // up to the given time (a ZooKeeper detector, or a fixed host:port).
    std::function<boost::asio::awaitable<std::optional<Endpoint>>(std::chrono::milliseconds)>
        find_master;
    std::chrono::milliseconds find_master_wait = std::chrono::seconds(10);
    // Registers a listener for leader changes (MasterDetector::
    // on_leader_change); unset for a fixed master. A leader other than the
    // master subscribed to ends the subscription at once.
    std::function<void(std::function<void(std::optional<Endpoint>)>)> watch_master;
    // HTTP basic authentication (reference §14); empty principal = none.
    // With a principal, a 307 to a master other than the one find_master
    // named is not followed (the credentials would go to a host nobody
    // configured or detected); the leader is looked for again instead.
    std::string principal;
    std::string secret;
    // Each call, and the SUBSCRIBE up to its first event.
    std::chrono::milliseconds request_timeout = std::chrono::seconds(10);
    // Calls waiting to be sent; when full, the newest is dropped.
    std::size_t max_queued_calls = 1024;
    // Delay before re-subscribing: doubles from `backoff_initial` to
    // `backoff_max`, each delay drawn from [d/2, d] with `random`; back to
    // `backoff_initial` after a SUBSCRIBED.
    std::chrono::milliseconds backoff_initial = std::chrono::milliseconds(500);
    std::chrono::milliseconds backoff_max = std::chrono::seconds(15);
    // The clock of every wait above and below (backoff, heartbeat watchdog,
    // no-leader window) and the jitter's generator; both must outlive the
    // client.
    TimeSource* time = &real_time();
    RandomSource* random = &process_random();
    // The subscription is dropped when no event arrived for this many
    // heartbeat intervals (the interval comes from SUBSCRIBED), measured on
    // `time`.
    int heartbeat_misses_allowed = 5;
    std::size_t max_record_bytes = mesos::kMaxMessageBytes;
    // 307 redirects to another master followed per connection attempt.
    int max_redirects = 3;
    // A master that answers SUBSCRIBE with a 307 to itself (seen on Mesos
    // 1.12: a restarted master before its election) or with 503 ("No leader
    // elected", "Master has not finished recovery") knows no leader yet: the
    // leader is looked for and asked again after `no_leader_retry`, not after
    // the backoff, for up to `no_leader_wait` (found on real Mesos: counted
    // as redirects, the scheduler resubscribed only 12 s after a master
    // restart).
    std::chrono::milliseconds no_leader_retry = std::chrono::milliseconds(250);
    std::chrono::milliseconds no_leader_wait = std::chrono::seconds(30);
    std::string api_path = "/api/v1/scheduler";
  };

  struct Callbacks {
    std::function<void(const mesos::Event&)> on_event;
    // A subscription that had reached SUBSCRIBED has ended (stream closed,
    // heartbeats missed, ERROR event, malformed data). The client
    // re-subscribes unless stop() is called.
    std::function<void(const std::string& reason)> on_disconnected;
  };

  MesosSchedulerClient(boost::asio::any_io_executor ex, Config config, Callbacks callbacks);
  ~MesosSchedulerClient() override;
  MesosSchedulerClient(const MesosSchedulerClient&) = delete;
  MesosSchedulerClient& operator=(const MesosSchedulerClient&) = delete;

  void start() override;
  void stop() override;
  void send(mesos::Call call) override;
  std::string state_name() const override;

  State state() const;
  // The framework id learned from SUBSCRIBED (or preset in the config).
  std::optional<std::string> framework_id() const;
  // Forgets the framework id so that the next SUBSCRIBE registers a new
  // framework (after ERROR "Framework has been removed", reference §13.3).
  void forget_framework_id();
  // The master of the current subscription, when subscribed.
  std::optional<Endpoint> master() const;
  // Calls waiting to be sent.
  std::size_t queued_calls() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

std::string_view to_string(MesosSchedulerClient::State state);

}  // namespace etcdmesos::io
