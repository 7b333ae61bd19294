// One subscription stream (scheduler SUBSCRIBE at the master, executor
// SUBSCRIBE at an agent): a bounded queue of RecordIO records written as
// HTTP chunks by the handler coroutine that owns the exchange.
//
// Ownership: shared by the record that produces events (framework or executor
// run) and the serving handler. Threading: one io_context, no locking.
// A peer that went away is noticed at the next write (heartbeats make that
// periodic for schedulers); a full queue means a stuck peer and closes the
// stream.
#pragma once

#include "io/http.hpp"

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>
#include <string>

namespace etcdmesos::devcluster {

class EventStream {
 public:
  static constexpr std::size_t kMaxQueued = 10000;

  explicit EventStream(boost::asio::any_io_executor ex);

  // Queues one event (JSON). False when the stream is closed (the event is
  // dropped) or the queue overflowed (the stream is then aborted).
  bool push(std::string json);
  // Sends what is queued, then the zero chunk.
  void finish();
  // Drops the connection at once.
  void abort();
  bool closed() const { return mode_ != Mode::kOpen; }

  // Starts the chunked response and writes events until finish(), abort(),
  // or a failed write. `heartbeat_json` is queued every `heartbeat` when set.
  boost::asio::awaitable<void> serve(io::HttpExchange& exchange, io::Response header,
                                     std::optional<std::chrono::milliseconds> heartbeat,
                                     std::string heartbeat_json = {});

 private:
  enum class Mode { kOpen, kFinishing, kAborting, kDone };
  void wake() { wake_.cancel(); }

  std::deque<std::string> queue_;
  boost::asio::steady_timer wake_;
  Mode mode_ = Mode::kOpen;
};

// Writes a complete stream holding one event and the zero chunk (used for
// SUBSCRIBE refusals that Mesos sends as 200 + ERROR).
boost::asio::awaitable<void> respond_single_event(io::HttpExchange& exchange, std::string json);

}  // namespace etcdmesos::devcluster
