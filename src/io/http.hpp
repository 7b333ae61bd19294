// Minimal HTTP/1.1 client and server on Boost.Beast, for Asio coroutines.
//
// Threading: everything runs on the io_context that owns the executor given;
// no internal threads. Call HttpServer::stop() and HttpStream::close() from
// that io_context's thread too. Every network operation has a timeout. Errors that a
// peer can cause (refused connection, timeout, malformed HTTP, oversized
// body) are returned as Error values, never thrown.
#pragma once

#include "common/error.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace etcdmesos::io {

namespace http = boost::beast::http;
class TlsClient;  // io/tls.hpp
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

struct Endpoint {
  std::string host;  // IP literal or resolvable name
  uint16_t port = 0;
  // Set: http_request speaks HTTPS, verifying that the server's certificate
  // comes from this client's CA and is issued for `host`. Null: plain HTTP.
  // Compared by identity: two endpoints are equal when they share the client.
  std::shared_ptr<TlsClient> tls = nullptr;
  std::string to_string() const { return host + ":" + std::to_string(port); }
  bool operator==(const Endpoint&) const = default;
};

// Parses "host:port" or "[v6-literal]:port", an URL's authority without user
// info (Boost.URL's grammar). Error that names the text: no host, no port, a
// port outside 0-65535, user info, or anything else that is not an authority.
Result<Endpoint> parse_endpoint(std::string_view text);

inline constexpr std::size_t kDefaultBodyLimit = 8 * 1024 * 1024;

// Builds a request with Host, User-Agent and, when body is non-empty,
// Content-Type (exactly the string given) and Content-Length set.
Request make_request(http::verb verb, std::string target, const Endpoint& to, std::string body = {},
                     std::string content_type = "application/json");

// One request on a new connection; the whole exchange (connect, TLS handshake
// when `to.tls` is set, write, read) must finish within `timeout`. Bodies
// above body_limit are an error. Over TLS, a server certificate that is not
// from the client's CA or not issued for `to.host` (its IP address for an IP
// literal, its DNS name otherwise) fails the handshake with an Error naming
// the endpoint and the reason.
boost::asio::awaitable<Result<Response>> http_request(boost::asio::any_io_executor ex, Endpoint to,
                                                      Request req,
                                                      std::chrono::milliseconds timeout,
                                                      std::size_t body_limit = kDefaultBodyLimit);

// Receives a streamed body piece by piece; an Error stops the request.
using BodySink = std::function<Result<void>(std::string_view piece)>;

// One request on a new connection (over TLS when `to.tls` is set, as
// http_request) whose response body is handed to `sink` as it arrives
// instead of being held in memory: for bodies larger than memory should
// hold (an etcd snapshot). The whole exchange must finish within `timeout`,
// and each read within `idle_timeout`. Errors: a connection failure or
// timeout; a status other than 200 (code = the status, the message quotes
// the start of the body); a body above body_limit; the sink's own Error.
boost::asio::awaitable<Result<void>> http_request_streamed(boost::asio::any_io_executor ex,
                                                           Endpoint to, Request req,
                                                           std::chrono::milliseconds timeout,
                                                           std::chrono::milliseconds idle_timeout,
                                                           std::uint64_t body_limit, BodySink sink);

// One client connection kept open across requests (HTTP/1.1 keep-alive), for
// requests that must reach one peer one at a time and in order. The first
// request opens it, and so does the first request after it broke (an error,
// a timeout, `Connection: close` from the peer, or a peer that closed it
// while idle, as HttpServer does after 60 s: checked before each request).
// A failed request is never sent again: the peer may have acted on it.
// Plain HTTP only: every request to an Endpoint with `tls` set is an Error.
// Use from one coroutine at a time; close() may be called from anywhere on
// the loop and ends the connection for good.
class HttpConnection {
 public:
  HttpConnection(boost::asio::any_io_executor ex, Endpoint to);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  const Endpoint& peer() const;
  // The whole exchange (connect if needed, write, read) must finish within
  // `timeout`; bodies above body_limit are an error.
  boost::asio::awaitable<Result<Response>> request(Request req, std::chrono::milliseconds timeout,
                                                   std::size_t body_limit = kDefaultBodyLimit);
  // A request in flight fails, and every later one.
  void close();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// A response whose body is read as it arrives (chunked streams such as the
// Mesos SUBSCRIBE response). Owns its connection; close() or destruction
// ends it. Not copyable; use from one coroutine at a time. Plain HTTP only:
// open() with an Endpoint whose `tls` is set is an Error.
class HttpStream {
 public:
  // Connects, sends `req`, reads the response header within `timeout`.
  static boost::asio::awaitable<Result<std::unique_ptr<HttpStream>>> open(
      boost::asio::any_io_executor ex, Endpoint to, Request req, std::chrono::milliseconds timeout);

  ~HttpStream();
  HttpStream(const HttpStream&) = delete;
  HttpStream& operator=(const HttpStream&) = delete;

  unsigned status() const;
  // Header value or "" when absent.
  std::string header(std::string_view name) const;

  // Next piece of decoded body (chunk framing removed). std::nullopt at the
  // end of the body. Error on timeout (nothing arrived within `timeout`) or
  // connection failure.
  boost::asio::awaitable<Result<std::optional<std::string>>> read_some(
      std::chrono::milliseconds timeout);

  // Reads the rest of a (non-streaming) body, up to body_limit bytes.
  boost::asio::awaitable<Result<std::string>> read_all(std::chrono::milliseconds timeout,
                                                       std::size_t body_limit = kDefaultBodyLimit);

  void close();

 private:
  struct State;
  explicit HttpStream(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// The server side of one connection, handed to a handler for one request.
// A handler either sends one response, or starts a chunked stream and writes
// chunks until it chooses to finish (or a write fails because the peer left).
class HttpExchange {
 public:
  virtual ~HttpExchange() = default;
  virtual const Request& request() const = 0;
  virtual Endpoint remote() const = 0;
  // Sends a complete response (Content-Length set automatically).
  virtual boost::asio::awaitable<bool> respond(Response res) = 0;
  // Starts a chunked response with the given status and headers.
  virtual boost::asio::awaitable<bool> start_stream(Response header_only) = 0;
  virtual boost::asio::awaitable<bool> write_chunk(std::string data) = 0;
  // Writes the last (zero) chunk; the connection closes afterwards.
  virtual boost::asio::awaitable<bool> finish_stream() = 0;
  // Closes the connection at once (used to simulate a lost host).
  virtual void abort() = 0;
};

using HttpHandler = std::function<boost::asio::awaitable<void>(HttpExchange&)>;

// Accepts connections on `bind` (port 0 = pick one) and runs `handler` for
// each request, serially per connection (keep-alive honoured). A handler that
// returns without responding gets a 500. Request bodies above body_limit get
// 413 (before any of the body is read when it has a Content-Length);
// malformed requests get 400 and the connection is closed.
class HttpServer {
 public:
  HttpServer(boost::asio::any_io_executor ex, HttpHandler handler,
             std::size_t body_limit = kDefaultBodyLimit);
  ~HttpServer();

  // Open connections allowed in all and from one client address (0: no
  // cap per address; the default). A connection beyond either is closed
  // when accepted, so one host holding idle sockets cannot take every slot.
  void set_connection_limits(std::size_t total, std::size_t per_address);
  // Binds and starts accepting. Error if the address cannot be bound.
  Result<Endpoint> listen(const Endpoint& bind);
  Endpoint local_endpoint() const;
  // Stops accepting and closes every open connection (streams included).
  void stop();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// Helpers for handlers.
Response make_response(const Request& req, http::status status, std::string body,
                       std::string content_type = "application/json");

}  // namespace etcdmesos::io
