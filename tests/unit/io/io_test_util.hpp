// Helpers for tests of the I/O layer: drive coroutines on a test-owned
// io_context from straight-line test code, and a queue that lets a test hand
// values to a coroutine (so that servers write when the test says so, not
// after sleeps).
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <deque>
#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
#include <thread>

namespace etcdmesos::testing {

// Runs the io_context until `done()` or `timeout`; true when done() held.
inline bool run_until(boost::asio::io_context& ioc, const std::function<bool()>& done,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  ioc.restart();
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    if (ioc.run_one_for(std::chrono::milliseconds(20)) == 0 && ioc.stopped()) {
      // Nothing to run: the condition depends on something outside the loop
      // (a child process, a file); poll it.
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      ioc.restart();
    }
  }
  return true;
}

// Runs `aw` to completion on `ioc` (other work on the context runs too) and
// returns its value; throws when it does not finish within `timeout`.
template <class T>
T run_coro(boost::asio::io_context& ioc, boost::asio::awaitable<T> aw,
           std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  std::optional<T> out;
  std::exception_ptr failure;
  bool finished = false;
  boost::asio::co_spawn(ioc, std::move(aw), [&](std::exception_ptr e, T value) {
    failure = e;
    if (!e) {
      out.emplace(std::move(value));
    }
    finished = true;
  });
  if (!run_until(
          ioc, [&] { return finished; }, timeout)) {
    throw std::runtime_error("coroutine did not finish in time");
  }
  if (failure) {
    std::rethrow_exception(failure);
  }
  return std::move(*out);
}

inline void run_coro(boost::asio::io_context& ioc, boost::asio::awaitable<void> aw,
                     std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  std::exception_ptr failure;
  bool finished = false;
  boost::asio::co_spawn(ioc, std::move(aw), [&](std::exception_ptr e) {
    failure = e;
    finished = true;
  });
  if (!run_until(
          ioc, [&] { return finished; }, timeout)) {
    throw std::runtime_error("coroutine did not finish in time");
  }
  if (failure) {
    std::rethrow_exception(failure);
  }
}

// A single-consumer queue: push() from anywhere on the loop's thread, pop()
// from one coroutine. pop() returns nullopt once close() was called and the
// queue is empty.
template <class T>
class AsyncQueue {
 public:
  explicit AsyncQueue(boost::asio::any_io_executor ex) : wakeup_(ex) {
    wakeup_.expires_at(boost::asio::steady_timer::time_point::max());
  }
  void push(T value) {
    items_.push_back(std::move(value));
    wakeup_.cancel();
  }
  void close() {
    closed_ = true;
    wakeup_.cancel();
  }
  std::size_t size() const { return items_.size(); }

  boost::asio::awaitable<std::optional<T>> pop() {
    while (items_.empty() && !closed_) {
      wakeup_.expires_at(boost::asio::steady_timer::time_point::max());
      co_await wakeup_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }
    if (items_.empty()) {
      co_return std::nullopt;
    }
    T value = std::move(items_.front());
    items_.pop_front();
    co_return value;
  }

 private:
  boost::asio::steady_timer wakeup_;
  std::deque<T> items_;
  bool closed_ = false;
};

}  // namespace etcdmesos::testing
