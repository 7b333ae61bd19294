#include "io/http.hpp"

#include "io_test_util.hpp"

#include <gtest/gtest.h>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <atomic>
#include <vector>

namespace etcdmesos::io {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::awaitable;
using etcdmesos::testing::AsyncQueue;
using etcdmesos::testing::run_coro;
using etcdmesos::testing::run_until;
using std::chrono::milliseconds;
using tcp = asio::ip::tcp;

constexpr auto kTimeout = milliseconds(5000);
const Endpoint kLoopback{"127.0.0.1", 0};

// Echo handler: answers with "<METHOD> <target> <body>".
awaitable<void> echo(HttpExchange& ex) {
  const auto& req = ex.request();
  std::string text =
      std::string(req.method_string()) + " " + std::string(req.target()) + " " + req.body();
  co_await ex.respond(make_response(req, http::status::ok, text, "text/plain"));
}

// Sends raw bytes on a new connection and reads until the server closes it
// (or `timeout` passes).
awaitable<std::string> raw_exchange(Endpoint to, std::string bytes,
                                    milliseconds timeout = kTimeout) {
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  stream.expires_after(timeout);
  co_await stream.async_connect(tcp::endpoint(asio::ip::make_address(to.host), to.port),
                                asio::use_awaitable);
  co_await asio::async_write(stream, asio::buffer(bytes), asio::use_awaitable);
  std::string received;
  std::array<char, 4096> buf{};
  for (;;) {
    auto [ec, n] =
        co_await stream.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
    received.append(buf.data(), n);
    if (ec) {
      break;
    }
  }
  co_return received;
}

// An idle connection from `from`, one of the loopback addresses of
// 127.0.0.0/8, so that a test can be several client hosts at once.
tcp::socket idle_connection(asio::io_context& ioc, const std::string& from, const Endpoint& to) {
  tcp::socket socket(ioc);
  socket.open(tcp::v4());
  socket.bind(tcp::endpoint(asio::ip::make_address(from), 0));
  socket.connect(tcp::endpoint(asio::ip::make_address(to.host), to.port));
  return socket;
}

// Whether the server closed `socket` (it reads end of stream at once).
bool closed_by_server(tcp::socket& socket) {
  socket.non_blocking(true);
  char byte = 0;
  boost::system::error_code ec;
  socket.read_some(asio::buffer(&byte, 1), ec);
  return ec && ec != asio::error::would_block;
}

class HttpTest : public ::testing::Test {
 protected:
  Endpoint start(HttpHandler handler, std::size_t body_limit = kDefaultBodyLimit) {
    server_ = std::make_unique<HttpServer>(ioc_.get_executor(), std::move(handler), body_limit);
    auto bound = server_->listen(kLoopback);
    EXPECT_TRUE(bound) << bound.error().message;
    return *bound;
  }
  Result<Response> request(Request req, Endpoint to, milliseconds timeout = kTimeout,
                           std::size_t limit = kDefaultBodyLimit) {
    return run_coro(ioc_, http_request(ioc_.get_executor(), to, std::move(req), timeout, limit));
  }

  asio::io_context ioc_;
  std::unique_ptr<HttpServer> server_;
};

TEST(ParseEndpoint, AcceptsHostAndPort) {
  auto ep = parse_endpoint("127.0.0.2:5051");
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->host, "127.0.0.2");
  EXPECT_EQ(ep->port, 5051);
  auto v6 = parse_endpoint("[::1]:80");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(parse_endpoint("master.example:0")->port, 0);
}

TEST(ParseEndpoint, RejectsMissingOrBadPort) {
  for (const char* bad : {"127.0.0.1", "127.0.0.1:", ":5050", "h:65536", "h:50x", "h:-1", "",
                          "u@h:5050", "[::1]", "h:5050/x", "http://h:5050"}) {
    EXPECT_FALSE(parse_endpoint(bad)) << bad;
  }
}

TEST(MakeRequest, SetsHostLengthAndExactContentType) {
  Endpoint to{"10.0.0.1", 5050};
  auto req = make_request(http::verb::post, "/api/v1/scheduler", to, "{}");
  EXPECT_EQ(req[http::field::host], "10.0.0.1:5050");
  EXPECT_EQ(req[http::field::content_type], "application/json");
  EXPECT_EQ(req[http::field::content_length], "2");
  auto empty = make_request(http::verb::get, "/", to);
  EXPECT_EQ(empty.count(http::field::content_type), 0u);
}

TEST_F(HttpTest, RoundTrip) {
  auto at = start(echo);
  auto res = request(make_request(http::verb::post, "/x?y=1", at, "hello", "text/plain"), at);
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->result(), http::status::ok);
  EXPECT_EQ(res->body(), "POST /x?y=1 hello");
  EXPECT_EQ((*res)[http::field::content_type], "text/plain");
}

TEST_F(HttpTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  std::vector<uint16_t> remote_ports;
  auto at = start([&](HttpExchange& ex) -> awaitable<void> {
    remote_ports.push_back(ex.remote().port);
    co_await echo(ex);
  });
  // Two pipelined requests, the second asking to close afterwards.
  std::string two =
      "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  auto received = run_coro(ioc_, raw_exchange(at, two));
  EXPECT_NE(received.find("GET /a "), std::string::npos) << received;
  EXPECT_NE(received.find("GET /b "), std::string::npos) << received;
  ASSERT_EQ(remote_ports.size(), 2u);
  EXPECT_EQ(remote_ports[0], remote_ports[1]);
}

// HttpConnection keeps one connection while the server keeps it, opens a new
// one after `Connection: close`, and refuses everything after close().
TEST_F(HttpTest, AKeptConnectionCarriesRequestsUntilTheServerClosesIt) {
  std::vector<uint16_t> remote_ports;
  auto at = start([&](HttpExchange& ex) -> awaitable<void> {
    remote_ports.push_back(ex.remote().port);
    auto res = make_response(ex.request(), http::status::ok, "", "text/plain");
    res.keep_alive(ex.request().target() != "/last");
    co_await ex.respond(std::move(res));
  });
  HttpConnection conn(ioc_.get_executor(), at);
  for (const auto* target : {"/1", "/2", "/last", "/after"}) {
    auto res = run_coro(ioc_, conn.request(make_request(http::verb::get, target, at), kTimeout));
    ASSERT_TRUE(res) << target << ": " << res.error().message;
  }
  ASSERT_EQ(remote_ports.size(), 4u);
  EXPECT_EQ(remote_ports[0], remote_ports[1]);
  EXPECT_EQ(remote_ports[1], remote_ports[2]);
  EXPECT_NE(remote_ports[2], remote_ports[3]);

  conn.close();
  auto refused = run_coro(ioc_, conn.request(make_request(http::verb::get, "/", at), kTimeout));
  EXPECT_FALSE(refused);
  EXPECT_EQ(remote_ports.size(), 4u);
}

// Issue 13: one host holding idle sockets must not lock out the others
// (monitoring, the agents' fetchers).
TEST_F(HttpTest, OneAddressCannotTakeEveryConnection) {
  auto at = start(echo);
  server_->set_connection_limits(16, 4);
  std::vector<tcp::socket> hog;
  for (int i = 0; i < 6; ++i) {
    hog.push_back(idle_connection(ioc_, "127.0.0.2", at));
  }
  run_until(
      ioc_, [] { return false; }, milliseconds(300));
  std::vector<bool> closed;
  for (auto& socket : hog) {
    closed.push_back(closed_by_server(socket));
  }
  EXPECT_EQ(std::count(closed.begin(), closed.end(), true), 2) << "4 kept, 2 closed on accept";

  // Another address is served at once.
  auto res = request(make_request(http::verb::get, "/other", at), at);
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->result(), http::status::ok);

  // A slot the address gives up is its own again.
  const auto kept = std::find(closed.begin(), closed.end(), false) - closed.begin();
  hog[kept].close();
  run_until(
      ioc_, [] { return false; }, milliseconds(300));
  auto again = idle_connection(ioc_, "127.0.0.2", at);
  run_until(
      ioc_, [] { return false; }, milliseconds(300));
  EXPECT_FALSE(closed_by_server(again));
}

TEST_F(HttpTest, TheTotalCapHoldsAcrossAddresses) {
  auto at = start(echo);
  server_->set_connection_limits(3, 0);
  std::vector<tcp::socket> idle;
  for (const char* from : {"127.0.0.2", "127.0.0.3", "127.0.0.4"}) {
    idle.push_back(idle_connection(ioc_, from, at));
  }
  run_until(
      ioc_, [] { return false; }, milliseconds(300));
  auto refused = request(make_request(http::verb::get, "/", at), at);
  EXPECT_FALSE(refused) << "a fourth connection is closed on accept";
  idle.clear();  // the server sees the three leave and frees their slots
  bool served = false;
  for (int i = 0; i < 30 && !served; ++i) {
    run_until(
        ioc_, [] { return false; }, milliseconds(100));
    served = static_cast<bool>(request(make_request(http::verb::get, "/", at), at));
  }
  EXPECT_TRUE(served);
}

TEST_F(HttpTest, BodyAboveLimitGets413) {
  auto at = start(echo, 1024);
  // Announced above the limit: refused on the header alone.
  auto res = request(make_request(http::verb::post, "/", at, std::string(4096, 'x')), at);
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->result(), http::status::payload_too_large);
  auto fits = request(make_request(http::verb::post, "/", at, std::string(1000, 'x')), at);
  ASSERT_TRUE(fits);
  EXPECT_EQ(fits->result(), http::status::ok);
}

// RFC 9110 9.3.2: HEAD gets GET's headers, Content-Length included, and no
// body; a handler may give only the length (the artifact server does, to
// avoid copying a 25 MB body that is never sent).
TEST_F(HttpTest, HeadGetsTheLengthWithoutTheBody) {
  auto at = start([&](HttpExchange& ex) -> awaitable<void> {
    const auto& req = ex.request();
    if (req.target() == "/length-only") {
      auto res = make_response(req, http::status::ok, "", "text/plain");
      res.content_length(1234);
      co_await ex.respond(std::move(res));
    } else {
      co_await echo(ex);
    }
  });
  auto echoed =
      run_coro(ioc_, raw_exchange(at, "HEAD /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(echoed.rfind("HTTP/1.1 200", 0), 0u) << echoed;
  EXPECT_NE(echoed.find("Content-Length: 8\r\n"), std::string::npos) << echoed;  // "HEAD /x "
  EXPECT_EQ(echoed.substr(echoed.size() - 4), "\r\n\r\n") << "no body: " << echoed;
  auto length_only = run_coro(
      ioc_, raw_exchange(at, "HEAD /length-only HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
  EXPECT_NE(length_only.find("Content-Length: 1234\r\n"), std::string::npos) << length_only;
  EXPECT_EQ(length_only.substr(length_only.size() - 4), "\r\n\r\n") << length_only;
}

TEST_F(HttpTest, MalformedRequestGets400AndClose) {
  bool handler_ran = false;
  auto at = start([&](HttpExchange& ex) -> awaitable<void> {
    handler_ran = true;
    co_await echo(ex);
  });
  // raw_exchange returns only once the server has closed the connection.
  auto received = run_coro(ioc_, raw_exchange(at, "NOT HTTP AT ALL\r\n\r\n"));
  EXPECT_EQ(received.rfind("HTTP/1.1 400", 0), 0u) << received;
  EXPECT_FALSE(handler_ran);
}

TEST_F(HttpTest, OversizedHeaderIsRefused) {
  auto at = start(echo);
  std::string req = "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n";
  auto received = run_coro(ioc_, raw_exchange(at, req));
  EXPECT_EQ(received.rfind("HTTP/1.1 431", 0), 0u) << received.substr(0, 100);
}

TEST_F(HttpTest, HandlerThatDoesNotAnswerYields500) {
  auto at = start([](HttpExchange&) -> awaitable<void> { co_return; });
  auto res = request(make_request(http::verb::get, "/", at), at);
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->result(), http::status::internal_server_error);
}

TEST_F(HttpTest, TimesOutOnAServerThatNeverAnswers) {
  // A listening socket that never accepts: connect succeeds (backlog), the
  // request is written, no answer ever comes.
  tcp::acceptor silent(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  Endpoint at{"127.0.0.1", silent.local_endpoint().port()};
  const auto started = std::chrono::steady_clock::now();
  auto res = request(make_request(http::verb::get, "/", at), at, milliseconds(200));
  ASSERT_FALSE(res);
  EXPECT_NE(res.error().message.find("timed out after 200 ms"), std::string::npos)
      << res.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
}

TEST_F(HttpTest, ConnectionRefusedIsAnError) {
  uint16_t port = 0;
  {
    tcp::acceptor closed(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.2"), 0));
    port = closed.local_endpoint().port();
  }
  Endpoint at{"127.0.0.2", port};
  auto res = request(make_request(http::verb::get, "/", at), at);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().message, "connect to 127.0.0.2:" + std::to_string(port) + " refused");
}

TEST_F(HttpTest, ResponseBodyAboveClientLimitIsAnError) {
  auto at = start([](HttpExchange& ex) -> awaitable<void> {
    co_await ex.respond(make_response(ex.request(), http::status::ok, std::string(10000, 'z')));
  });
  auto res = request(make_request(http::verb::get, "/", at), at, kTimeout, 1000);
  ASSERT_FALSE(res);
  EXPECT_NE(res.error().message.find("body above limit"), std::string::npos) << res.error().message;
}

// A server whose handler streams whatever the test pushes into `chunks`,
// and finishes the stream when the queue is closed.
struct StreamingServer {
  explicit StreamingServer(asio::io_context& ioc)
      : chunks(ioc.get_executor()),
        server(ioc.get_executor(), [this](HttpExchange& ex) -> awaitable<void> {
          auto header = make_response(ex.request(), http::status::ok, "");
          header.set("Mesos-Stream-Id", "stream-1");
          if (!co_await ex.start_stream(std::move(header))) {
            co_return;
          }
          ++streams_started;
          while (auto chunk = co_await chunks.pop()) {
            if (!co_await ex.write_chunk(*chunk)) {
              co_return;
            }
          }
          co_await ex.finish_stream();
        }) {}
  AsyncQueue<std::string> chunks;
  int streams_started = 0;
  HttpServer server;
};

TEST_F(HttpTest, ChunkedStreamIsReadIncrementally) {
  StreamingServer s(ioc_);
  auto at = s.server.listen(kLoopback).value();
  auto stream =
      run_coro(ioc_, HttpStream::open(ioc_.get_executor(), at,
                                      make_request(http::verb::post, "/", at, "{}"), kTimeout))
          .value();
  EXPECT_EQ(stream->status(), 200u);
  EXPECT_EQ(stream->header("Mesos-Stream-Id"), "stream-1");
  EXPECT_EQ(stream->header("Transfer-Encoding"), "chunked");
  EXPECT_EQ(stream->header("No-Such-Header"), "");
  // Each piece arrives only after the test pushed it: read_some must hand it
  // over without waiting for more.
  for (const std::string& piece :
       std::vector<std::string>{"21\n{\"type\":", "\"HEARTBEAT\"}", std::string(100000, 'r')}) {
    s.chunks.push(piece);
    std::string got;
    while (got.size() < piece.size()) {
      auto part = run_coro(ioc_, stream->read_some(kTimeout));
      ASSERT_TRUE(part) << part.error().message;
      ASSERT_TRUE(part->has_value());
      got += **part;
    }
    EXPECT_EQ(got, piece);
  }
  s.chunks.close();
  auto end = run_coro(ioc_, stream->read_some(kTimeout));
  ASSERT_TRUE(end) << end.error().message;
  EXPECT_FALSE(end->has_value());
}

TEST_F(HttpTest, StreamReadTimesOutWhenNothingArrives) {
  StreamingServer s(ioc_);
  auto at = s.server.listen(kLoopback).value();
  auto stream = run_coro(ioc_, HttpStream::open(ioc_.get_executor(), at,
                                                make_request(http::verb::get, "/", at), kTimeout))
                    .value();
  auto part = run_coro(ioc_, stream->read_some(milliseconds(100)));
  ASSERT_FALSE(part);
  EXPECT_NE(part.error().message.find("timed out after 100 ms"), std::string::npos);
}

TEST_F(HttpTest, StopEndsOpenStreamsAndRefusesNewConnections) {
  StreamingServer s(ioc_);
  auto at = s.server.listen(kLoopback).value();
  auto stream = run_coro(ioc_, HttpStream::open(ioc_.get_executor(), at,
                                                make_request(http::verb::get, "/", at), kTimeout))
                    .value();
  s.chunks.push("first");
  auto first = run_coro(ioc_, stream->read_some(kTimeout));
  ASSERT_TRUE(first && first->has_value());
  s.server.stop();
  auto after = run_coro(ioc_, stream->read_some(kTimeout));
  EXPECT_FALSE(after) << "a stopped server must end the stream with an error";
  auto res = request(make_request(http::verb::get, "/", at), at);
  ASSERT_FALSE(res);
  EXPECT_NE(res.error().message.find("refused"), std::string::npos) << res.error().message;
}

TEST_F(HttpTest, ReadAllReadsAPlainBody) {
  auto at = start(echo);
  auto stream =
      run_coro(ioc_, HttpStream::open(ioc_.get_executor(), at,
                                      make_request(http::verb::put, "/p", at, "b"), kTimeout))
          .value();
  EXPECT_EQ(stream->status(), 200u);
  auto body = run_coro(ioc_, stream->read_all(kTimeout));
  ASSERT_TRUE(body) << body.error().message;
  EXPECT_EQ(*body, "PUT /p b");
}

TEST_F(HttpTest, ListenFailsOnAPortInUse) {
  auto at = start(echo);
  HttpServer second(ioc_.get_executor(), echo);
  auto bound = second.listen(Endpoint{"127.0.0.1", at.port});
  ASSERT_FALSE(bound);
  EXPECT_NE(bound.error().message.find("bind"), std::string::npos) << bound.error().message;
}

}  // namespace
}  // namespace etcdmesos::io
