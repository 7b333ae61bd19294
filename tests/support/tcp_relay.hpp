// A TCP relay on 127.0.0.1 for tests: a client connected
// through it can be cut off from its server (every relayed connection closed,
// every new one closed at once) and later let through again, while other
// clients of the same server are untouched. It runs on its own thread, so a
// client whose library has its own I/O thread (the ZooKeeper client) keeps
// talking while the test thread waits.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace etcdmesos::testing {

class TcpRelay {
 public:
  explicit TcpRelay(uint16_t target_port)
      : target_(boost::asio::ip::make_address("127.0.0.1"), target_port),
        acceptor_(ioc_, {boost::asio::ip::make_address("127.0.0.1"), 0}),
        work_(boost::asio::make_work_guard(ioc_)) {
    boost::asio::co_spawn(ioc_, accept(), boost::asio::detached);
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~TcpRelay() {
    on_relay_thread([this] {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      close_all();
    });
    work_.reset();
    ioc_.stop();
    thread_.join();
  }
  TcpRelay(const TcpRelay&) = delete;
  TcpRelay& operator=(const TcpRelay&) = delete;

  std::string connect_string() const {
    return "127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }

  // Closes every relayed connection, and every new one until heal().
  void cut() {
    on_relay_thread([this] {
      cut_ = true;
      close_all();
    });
  }
  void heal() {
    on_relay_thread([this] { cut_ = false; });
  }

 private:
  using Socket = boost::asio::ip::tcp::socket;
  struct Pair {
    explicit Pair(boost::asio::io_context& ioc) : client(ioc), server(ioc) {}
    Socket client;
    Socket server;
    void close() {
      boost::system::error_code ignored;
      client.close(ignored);
      server.close(ignored);
    }
  };

  template <class F>
  void on_relay_thread(F f) {
    boost::asio::post(ioc_, boost::asio::use_future(std::move(f))).get();
  }

  void close_all() {
    for (auto& weak : pairs_) {
      if (auto pair = weak.lock()) {
        pair->close();
      }
    }
    pairs_.clear();
  }

  boost::asio::awaitable<void> accept() {
    for (;;) {
      auto pair = std::make_shared<Pair>(ioc_);
      boost::system::error_code ec;
      co_await acceptor_.async_accept(pair->client,
                                      boost::asio::redirect_error(boost::asio::use_awaitable, ec));
      if (ec == boost::asio::error::operation_aborted || !acceptor_.is_open()) {
        co_return;
      }
      if (ec || cut_) {
        pair->close();
        continue;
      }
      pairs_.push_back(pair);
      boost::asio::co_spawn(ioc_, connect_and_pump(pair), boost::asio::detached);
    }
  }

  boost::asio::awaitable<void> connect_and_pump(std::shared_ptr<Pair> pair) {
    boost::system::error_code ec;
    co_await pair->server.async_connect(
        target_, boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    if (ec || cut_) {
      pair->close();
      co_return;
    }
    boost::asio::co_spawn(ioc_, pump(pair, pair->client, pair->server), boost::asio::detached);
    co_await pump(pair, pair->server, pair->client);
  }

  static boost::asio::awaitable<void> pump(std::shared_ptr<Pair> pair, Socket& from, Socket& to) {
    std::array<char, 16384> buffer{};
    for (;;) {
      boost::system::error_code ec;
      const size_t n = co_await from.async_read_some(
          boost::asio::buffer(buffer), boost::asio::redirect_error(boost::asio::use_awaitable, ec));
      if (ec) {
        break;
      }
      co_await boost::asio::async_write(
          to, boost::asio::buffer(buffer.data(), n),
          boost::asio::redirect_error(boost::asio::use_awaitable, ec));
      if (ec) {
        break;
      }
    }
    pair->close();
  }

  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::endpoint target_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::vector<std::weak_ptr<Pair>> pairs_;
  bool cut_ = false;
  std::thread thread_;
};

}  // namespace etcdmesos::testing
