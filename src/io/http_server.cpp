// HTTP server side of io/http.hpp.
//
// One coroutine accepts; one coroutine per connection reads requests one at a
// time and runs the handler for each. The server keeps every open connection
// in a table so that stop() can close them all at once, streams included:
// tests and the dev cluster use that to make a host disappear.
//
// Limits: at most kMaxConnections open connections (or what
// set_connection_limits says), optionally a cap per client address (further
// ones are closed on accept), request headers up to kRequestHeaderLimit
// bytes, request bodies up to the configured limit, and a timeout on every
// read and write.
#include "io/http.hpp"

#include "common/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <algorithm>
#include <map>

namespace etcdmesos::io {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxConnections = 1024;
constexpr std::uint32_t kRequestHeaderLimit = 16 * 1024;
// How long a connection may sit without a complete request (keep-alive idle
// time included) and how long one write may take.
constexpr auto kReadTimeout = std::chrono::seconds(60);
constexpr auto kWriteTimeout = std::chrono::seconds(60);
// After an error answer the rest of the request is read and dropped for a
// moment, so that closing with unread data (which sends a TCP reset) does not
// destroy the answer before the client has read it.
constexpr std::size_t kDrainLimit = 1024 * 1024;
constexpr auto kDrainTimeout = std::chrono::seconds(1);
// Pause after a failed accept (e.g. out of file descriptors) so that the loop
// does not spin.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);

std::shared_ptr<spdlog::logger> log() {
  return logger("http");
}

Endpoint to_endpoint(const tcp::endpoint& ep) {
  return Endpoint{ep.address().to_string(), ep.port()};
}

struct Connection {
  Connection(tcp::socket socket, Endpoint peer, uint64_t connection_id)
      : stream(std::move(socket)), remote(std::move(peer)), id(connection_id) {}

  void close() {
    if (closed) {
      return;
    }
    closed = true;
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.close();
  }

  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  Endpoint remote;
  uint64_t id;
  bool closed = false;
};

// Writes `buffers` with a timeout; closes the connection when that fails.
template <class Buffers>
asio::awaitable<bool> write_or_close(Connection& conn, const Buffers& buffers) {
  if (conn.closed) {
    co_return false;
  }
  conn.stream.expires_after(kWriteTimeout);
  auto [ec, written] = co_await asio::async_write(conn.stream, buffers, kTuple);
  (void)written;
  if (ec) {
    log()->debug("write to {} failed: {}", conn.remote.to_string(), ec.message());
    conn.close();
    co_return false;
  }
  co_return true;
}

template <class Message>
asio::awaitable<bool> write_message_or_close(Connection& conn, Message& message) {
  if (conn.closed) {
    co_return false;
  }
  conn.stream.expires_after(kWriteTimeout);
  auto [ec, written] = co_await http::async_write(conn.stream, message, kTuple);
  (void)written;
  if (ec) {
    log()->debug("write to {} failed: {}", conn.remote.to_string(), ec.message());
    conn.close();
    co_return false;
  }
  co_return true;
}

class Exchange final : public HttpExchange {
 public:
  enum class Phase { kWaiting, kResponded, kStreaming, kFinished };

  Exchange(Connection& conn, Request req) : conn_(conn), req_(std::move(req)) {}

  const Request& request() const override { return req_; }
  Endpoint remote() const override { return conn_.remote; }

  asio::awaitable<bool> respond(Response res) override {
    if (phase_ != Phase::kWaiting) {
      log()->error("handler for {} answered twice; second answer dropped",
                   std::string(req_.target()));
      co_return false;
    }
    phase_ = Phase::kResponded;
    res.version(req_.version());
    if (!req_.keep_alive()) {
      res.keep_alive(false);
    }
    keep_alive_ = res.keep_alive();
    bool ok = false;
    if (req_.method() == http::verb::head) {
      // RFC 9110 9.3.2: the headers GET would get, no body. A handler that
      // set Content-Length without a body meant the length of what GET sends.
      if (!res.body().empty() || !res.has_content_length()) {
        res.prepare_payload();
      }
      http::response<http::empty_body> header_only(std::move(res.base()));
      ok = co_await write_message_or_close(conn_, header_only);
    } else {
      res.prepare_payload();
      ok = co_await write_message_or_close(conn_, res);
    }
    keep_alive_ = keep_alive_ && ok;
    co_return ok;
  }

  asio::awaitable<bool> start_stream(Response header_only) override {
    if (phase_ != Phase::kWaiting) {
      co_return false;
    }
    phase_ = Phase::kStreaming;
    http::response<http::empty_body> res(std::move(header_only.base()));
    res.version(11);
    res.chunked(true);
    res.erase(http::field::content_length);
    http::response_serializer<http::empty_body> serializer(res);
    if (conn_.closed) {
      co_return false;
    }
    conn_.stream.expires_after(kWriteTimeout);
    auto [ec, written] = co_await http::async_write_header(conn_.stream, serializer, kTuple);
    (void)written;
    if (ec) {
      conn_.close();
      co_return false;
    }
    co_return true;
  }

  asio::awaitable<bool> write_chunk(std::string data) override {
    if (phase_ != Phase::kStreaming) {
      co_return false;
    }
    // An empty chunk would read as the end of the body.
    if (data.empty()) {
      co_return !conn_.closed;
    }
    co_return co_await write_or_close(conn_, http::make_chunk(asio::buffer(data)));
  }

  asio::awaitable<bool> finish_stream() override {
    if (phase_ != Phase::kStreaming) {
      co_return false;
    }
    phase_ = Phase::kFinished;
    co_return co_await write_or_close(conn_, http::make_chunk_last());
  }

  void abort() override { conn_.close(); }

  Phase phase() const { return phase_; }
  bool keep_alive() const { return keep_alive_; }

 private:
  Connection& conn_;
  Request req_;
  Phase phase_ = Phase::kWaiting;
  bool keep_alive_ = false;
};

// Reads and discards what the client still sends, then closes.
asio::awaitable<void> drain_and_close(Connection& conn) {
  boost::system::error_code ignored;
  conn.stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  std::size_t drained = 0;
  std::array<char, 16 * 1024> sink{};
  conn.stream.expires_after(kDrainTimeout);
  while (!conn.closed && drained < kDrainLimit) {
    auto [ec, n] = co_await conn.stream.async_read_some(asio::buffer(sink), kTuple);
    if (ec) {
      break;
    }
    drained += n;
  }
  conn.close();
}

// Answers a request that could not be read, and ends the connection.
asio::awaitable<void> reject(Connection& conn, http::status status, std::string text) {
  log()->info("rejecting request from {}: {} {}", conn.remote.to_string(),
              static_cast<unsigned>(status), text);
  Response res{status, 11};
  res.set(http::field::server, "etcd-mesos");
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.keep_alive(false);
  res.body() = std::move(text) + "\n";
  res.prepare_payload();
  if (co_await write_message_or_close(conn, res)) {
    co_await drain_and_close(conn);
  }
}

bool is_parse_error(const boost::system::error_code& ec) {
  static const auto& category = http::make_error_code(http::error::bad_method).category();
  return ec.category() == category && ec != http::error::end_of_stream &&
         ec != http::error::partial_message;
}

}  // namespace

struct HttpServer::State : std::enable_shared_from_this<State> {
  State(asio::any_io_executor executor, HttpHandler h, std::size_t limit)
      : ex(executor), handler(std::move(h)), body_limit(limit), acceptor(executor) {}

  asio::awaitable<void> accept_loop(uint64_t generation);
  asio::awaitable<void> serve(std::shared_ptr<Connection> conn);
  asio::awaitable<std::optional<Request>> read_request(Connection& conn);
  asio::awaitable<bool> run_handler(Connection& conn, Request req);
  void spawn_connection(tcp::socket socket);

  asio::any_io_executor ex;
  HttpHandler handler;
  std::size_t body_limit;
  std::size_t max_connections = kMaxConnections;
  std::size_t max_per_address = 0;  // 0: no cap per address
  tcp::acceptor acceptor;
  Endpoint local;
  // Bumped by every listen() and stop(), so that an accept loop from an
  // earlier listen() ends instead of serving a reopened acceptor twice.
  uint64_t generation = 0;
  uint64_t next_connection_id = 0;
  std::map<uint64_t, std::shared_ptr<Connection>> connections;
  // Open connections per client address (only while a cap is set).
  std::map<std::string, std::size_t> per_address;
  // Refusals since the last one logged, so that a flood logs a line a second.
  std::size_t refused_unlogged = 0;
  std::chrono::steady_clock::time_point refused_logged_at{};
  void refuse(tcp::socket& socket, const Endpoint& peer, const std::string& why);
};

void HttpServer::State::refuse(tcp::socket& socket, const Endpoint& peer, const std::string& why) {
  boost::system::error_code ec;
  socket.close(ec);
  ++refused_unlogged;
  // os-clock: only spaces log lines.
  const auto now = std::chrono::steady_clock::now();  // os-clock
  if (now - refused_logged_at >= std::chrono::seconds(1)) {
    log()->warn("closed {} connection(s) on {}, the last from {}: {}", refused_unlogged,
                local.to_string(), peer.to_string(), why);
    refused_unlogged = 0;
    refused_logged_at = now;
  }
}

asio::awaitable<void> HttpServer::State::accept_loop(uint64_t my_generation) {
  auto self = shared_from_this();
  while (generation == my_generation) {
    auto [ec, socket] = co_await acceptor.async_accept(kTuple);
    if (generation != my_generation || ec == asio::error::operation_aborted) {
      co_return;
    }
    if (ec) {
      log()->warn("accept on {} failed: {}", local.to_string(), ec.message());
      asio::steady_timer pause(ex, kAcceptRetryDelay);
      co_await pause.async_wait(kTuple);
      continue;
    }
    spawn_connection(std::move(socket));
  }
}

void HttpServer::State::spawn_connection(tcp::socket socket) {
  boost::system::error_code ec;
  auto peer = socket.remote_endpoint(ec);
  if (ec) {
    return;  // the client left already
  }
  const Endpoint remote = to_endpoint(peer);
  if (connections.size() >= max_connections) {
    refuse(socket, remote, std::to_string(connections.size()) + " connections open already");
    return;
  }
  if (max_per_address > 0 && per_address[remote.host] >= max_per_address) {
    refuse(socket, remote,
           std::to_string(max_per_address) + " connections from " + remote.host + " open already");
    return;
  }
  const uint64_t id = next_connection_id++;
  auto conn = std::make_shared<Connection>(std::move(socket), remote, id);
  connections.emplace(id, conn);
  if (max_per_address > 0) {
    ++per_address[remote.host];
  }
  asio::co_spawn(ex, serve(conn), log_exceptions(log(), "connection"));
}

asio::awaitable<void> HttpServer::State::serve(std::shared_ptr<Connection> conn) {
  auto self = shared_from_this();
  while (!conn->closed) {
    auto req = co_await read_request(*conn);
    if (!req) {
      break;
    }
    if (!co_await run_handler(*conn, std::move(*req))) {
      break;
    }
  }
  conn->close();
  if (connections.erase(conn->id) > 0 && max_per_address > 0) {
    auto it = per_address.find(conn->remote.host);
    if (it != per_address.end() && --it->second == 0) {
      per_address.erase(it);
    }
  }
}

asio::awaitable<std::optional<Request>> HttpServer::State::read_request(Connection& conn) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(kRequestHeaderLimit);
  parser.body_limit(body_limit);
  conn.stream.expires_after(kReadTimeout);
  auto [ec, read] = co_await http::async_read(conn.stream, conn.buffer, parser, kTuple);
  (void)read;
  if (!ec) {
    co_return parser.release();
  }
  if (ec == http::error::body_limit) {
    co_await reject(conn, http::status::payload_too_large,
                    "request body above limit of " + std::to_string(body_limit) + " bytes");
  } else if (ec == http::error::header_limit) {
    co_await reject(
        conn, http::status::request_header_fields_too_large,
        "request header above limit of " + std::to_string(kRequestHeaderLimit) + " bytes");
  } else if (is_parse_error(ec)) {
    co_await reject(conn, http::status::bad_request, "malformed request: " + ec.message());
  } else {
    conn.close();  // peer closed, idle timeout, or stop()
  }
  co_return std::nullopt;
}

// Runs the handler for one request; true when the connection may carry the
// next request.
asio::awaitable<bool> HttpServer::State::run_handler(Connection& conn, Request req) {
  Exchange exchange(conn, std::move(req));
  try {
    co_await handler(exchange);
  } catch (const std::exception& e) {
    log()->error("handler for {} {} threw: {}", std::string(exchange.request().method_string()),
                 std::string(exchange.request().target()), e.what());
  }
  switch (exchange.phase()) {
    case Exchange::Phase::kWaiting:
      if (conn.closed) {
        co_return false;
      }
      if (!co_await exchange.respond(make_response(exchange.request(),
                                                   http::status::internal_server_error,
                                                   "handler sent no response\n", "text/plain"))) {
        co_return false;
      }
      co_return exchange.keep_alive();
    case Exchange::Phase::kResponded:
      co_return exchange.keep_alive();
    case Exchange::Phase::kStreaming:
    case Exchange::Phase::kFinished:
      break;
  }
  co_return false;  // a chunked stream ends its connection
}

// ------------------------------------------------------------------ HttpServer

HttpServer::HttpServer(asio::any_io_executor ex, HttpHandler handler, std::size_t body_limit)
    : state_(std::make_shared<State>(ex, std::move(handler), body_limit)) {}

HttpServer::~HttpServer() {
  if (state_) {
    stop();
  }
}

Result<Endpoint> HttpServer::listen(const Endpoint& bind) {
  auto& s = *state_;
  if (s.acceptor.is_open()) {
    return make_error("already listening on " + s.local.to_string());
  }
  boost::system::error_code ec;
  auto address = asio::ip::make_address(bind.host == "localhost" ? "127.0.0.1" : bind.host, ec);
  if (ec) {
    return make_error("bind address '" + bind.host + "' is not an IP address");
  }
  const tcp::endpoint ep(address, bind.port);
  auto fail = [&](const char* step) {
    boost::system::error_code ignored;
    s.acceptor.close(ignored);
    return make_error(std::string(step) + " " + bind.to_string() + " failed: " + ec.message());
  };
  s.acceptor.open(ep.protocol(), ec);
  if (ec) {
    return fail("open socket for");
  }
  s.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) {
    return fail("set SO_REUSEADDR on");
  }
  s.acceptor.bind(ep, ec);
  if (ec) {
    return fail("bind");
  }
  s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return fail("listen on");
  }
  s.local = to_endpoint(s.acceptor.local_endpoint(ec));
  const uint64_t generation = ++s.generation;
  asio::co_spawn(s.ex, s.accept_loop(generation), log_exceptions(log(), "accept loop"));
  log()->debug("listening on {}", s.local.to_string());
  return s.local;
}

void HttpServer::set_connection_limits(std::size_t total, std::size_t per_address) {
  state_->max_connections = std::max<std::size_t>(total, 1);
  state_->max_per_address = per_address;
}

Endpoint HttpServer::local_endpoint() const {
  return state_->local;
}

void HttpServer::stop() {
  auto& s = *state_;
  ++s.generation;
  boost::system::error_code ignored;
  s.acceptor.close(ignored);
  // Copy: closing does not erase synchronously, but be safe against a
  // connection coroutine that finishes while we iterate.
  auto open = s.connections;
  for (auto& [id, conn] : open) {
    conn->close();
  }
}

Response make_response(const Request& req, http::status status, std::string body,
                       std::string content_type) {
  Response res{status, req.version()};
  res.set(http::field::server, "etcd-mesos");
  if (!body.empty()) {
    res.set(http::field::content_type, content_type);
  }
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

}  // namespace etcdmesos::io
