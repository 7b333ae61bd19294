#include "event_stream.hpp"

#include "codec/recordio.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace etcdmesos::devcluster {

namespace asio = boost::asio;

EventStream::EventStream(asio::any_io_executor ex) : wake_(ex) {}

bool EventStream::push(std::string json) {
  if (mode_ != Mode::kOpen) {
    return false;
  }
  if (queue_.size() >= kMaxQueued) {
    abort();
    return false;
  }
  queue_.push_back(recordio::encode(json));
  wake();
  return true;
}

void EventStream::finish() {
  if (mode_ == Mode::kOpen) {
    mode_ = Mode::kFinishing;
    wake();
  }
}

void EventStream::abort() {
  if (mode_ == Mode::kOpen || mode_ == Mode::kFinishing) {
    mode_ = Mode::kAborting;
    queue_.clear();
    wake();
  }
}

asio::awaitable<void> EventStream::serve(io::HttpExchange& exchange, io::Response header,
                                         std::optional<std::chrono::milliseconds> heartbeat,
                                         std::string heartbeat_json) {
  using Clock = std::chrono::steady_clock;
  if (mode_ == Mode::kAborting || !co_await exchange.start_stream(std::move(header))) {
    mode_ = Mode::kDone;
    co_return;
  }
  auto next_heartbeat = heartbeat ? Clock::now() + *heartbeat : Clock::time_point::max();
  while (true) {
    while (!queue_.empty() && mode_ != Mode::kAborting) {
      std::string chunk = std::move(queue_.front());
      queue_.pop_front();
      if (!co_await exchange.write_chunk(std::move(chunk))) {
        mode_ = Mode::kDone;
        co_return;
      }
    }
    if (mode_ == Mode::kAborting) {
      exchange.abort();
      mode_ = Mode::kDone;
      co_return;
    }
    if (mode_ == Mode::kFinishing) {
      mode_ = Mode::kDone;
      co_await exchange.finish_stream();
      co_return;
    }
    if (heartbeat && Clock::now() >= next_heartbeat) {
      queue_.push_back(recordio::encode(heartbeat_json));
      next_heartbeat = Clock::now() + *heartbeat;
      continue;
    }
    wake_.expires_at(next_heartbeat);
    boost::system::error_code ec;
    co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<void> respond_single_event(io::HttpExchange& exchange, std::string json) {
  io::Response header{io::http::status::ok, exchange.request().version()};
  header.set(io::http::field::content_type, "application/json");
  if (!co_await exchange.start_stream(std::move(header))) {
    co_return;
  }
  if (co_await exchange.write_chunk(recordio::encode(json))) {
    co_await exchange.finish_stream();
  }
}

}  // namespace etcdmesos::devcluster
