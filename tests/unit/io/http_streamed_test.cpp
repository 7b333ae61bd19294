// io::http_request_streamed: a response body handed to a sink piece by
// piece (etcd snapshots, scheduler/backup.cpp), bounded by a size limit and
// timeouts; a refusal's status and text; a sink's error stops the request.
#include "io/http.hpp"

#include "io_test_util.hpp"

#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <string>
#include <vector>

namespace etcdmesos::io {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using etcdmesos::testing::run_coro;
using std::chrono::milliseconds;

const Endpoint kLoopback{"127.0.0.1", 0};

// A handler streaming `chunks` as a chunked 200 response.
HttpHandler streaming(std::vector<std::string> chunks) {
  return [chunks](HttpExchange& ex) -> awaitable<void> {
    Response header{http::status::ok, 11};
    header.set(http::field::content_type, "application/json");
    if (!co_await ex.start_stream(std::move(header))) {
      co_return;
    }
    for (const auto& chunk : chunks) {
      if (!co_await ex.write_chunk(chunk)) {
        co_return;
      }
    }
    co_await ex.finish_stream();
  };
}

class HttpStreamedTest : public ::testing::Test {
 protected:
  Endpoint start(HttpHandler handler) {
    server_ = std::make_unique<HttpServer>(ioc_.get_executor(), std::move(handler));
    auto bound = server_->listen(kLoopback);
    EXPECT_TRUE(bound) << bound.error().message;
    return *bound;
  }
  Result<void> fetch(Endpoint to, std::uint64_t limit, BodySink sink,
                     milliseconds idle = milliseconds(5000)) {
    auto req = make_request(http::verb::post, "/v3/maintenance/snapshot", to, "{}");
    return run_coro(ioc_, http_request_streamed(ioc_.get_executor(), to, std::move(req),
                                                milliseconds(5000), idle, limit, std::move(sink)));
  }

  asio::io_context ioc_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpStreamedTest, TheBodyReachesTheSinkInOrder) {
  std::vector<std::string> chunks;
  std::string expected;
  for (int i = 0; i < 50; ++i) {
    chunks.push_back(std::string(10000, static_cast<char>('a' + i % 26)));
    expected += chunks.back();
  }
  auto at = start(streaming(chunks));
  std::string got;
  auto done = fetch(at, 1 << 20, [&](std::string_view piece) {
    got.append(piece);
    return Result<void>{};
  });
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(got, expected);
}

TEST_F(HttpStreamedTest, ABodyAboveTheLimitFails) {
  auto at = start(streaming({std::string(3000, 'x'), std::string(3000, 'y')}));
  auto done = fetch(at, 4000, [](std::string_view) { return Result<void>{}; });
  ASSERT_FALSE(done);
  EXPECT_NE(done.error().message.find("body above limit"), std::string::npos)
      << done.error().message;
}

TEST_F(HttpStreamedTest, TheSinksErrorStopsTheRequest) {
  auto at = start(streaming({"one", "two", "three"}));
  int calls = 0;
  auto done = fetch(at, 1 << 20, [&](std::string_view) -> Result<void> {
    ++calls;
    return make_error("disk full");
  });
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().message, "disk full");
  EXPECT_EQ(calls, 1);
}

TEST_F(HttpStreamedTest, ARefusalNamesItsStatusAndTextAndFeedsNothing) {
  auto at = start([](HttpExchange& ex) -> awaitable<void> {
    co_await ex.respond(make_response(ex.request(), http::status::service_unavailable,
                                      R"({"error":"etcdserver: request timed out"})"));
  });
  bool fed = false;
  auto done = fetch(at, 1 << 20, [&](std::string_view) {
    fed = true;
    return Result<void>{};
  });
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().code, 503);
  EXPECT_NE(done.error().message.find("request timed out"), std::string::npos)
      << done.error().message;
  EXPECT_FALSE(fed);
}

TEST_F(HttpStreamedTest, AStreamThatStallsTimesOut) {
  auto at = start([](HttpExchange& ex) -> awaitable<void> {
    Response header{http::status::ok, 11};
    if (!co_await ex.start_stream(std::move(header)) || !co_await ex.write_chunk("start")) {
      co_return;
    }
    asio::steady_timer wait(co_await asio::this_coro::executor, std::chrono::seconds(3));
    co_await wait.async_wait(asio::use_awaitable);
    co_await ex.finish_stream();
  });
  auto done = fetch(
      at, 1 << 20, [](std::string_view) { return Result<void>{}; }, milliseconds(300));
  ASSERT_FALSE(done);
  EXPECT_NE(done.error().message.find("timed out after 300 ms"), std::string::npos)
      << done.error().message;
}

}  // namespace
}  // namespace etcdmesos::io
