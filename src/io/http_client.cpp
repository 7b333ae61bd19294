// HTTP client side of io/http.hpp: one-shot requests (over TLS when the
// endpoint carries a TlsClient), kept-alive connections and streamed responses.
//
// Every operation runs under a deadline (beast::tcp_stream::expires_at), so a
// peer that stops answering is reported as a timeout instead of hanging the
// caller. Completion tokens are as_tuple(use_awaitable): network failures come
// back as error codes and are turned into Error values here.
#include "io/http.hpp"

#include "common/log.hpp"
#include "io/tls.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <variant>
#include <vector>

namespace etcdmesos::io {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
// os-clock: every deadline here bounds real socket I/O, and Beast's
// tcp_stream keeps its timers on the steady clock; see common/time_source.hpp.
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// Response headers are small in every API we talk to; a peer that sends more
// is misbehaving and must not make us buffer without bound.
constexpr std::uint32_t kResponseHeaderLimit = 64 * 1024;
// Size of one read from a streamed body; a piece handed to the caller is at
// most this long.
constexpr std::size_t kStreamReadChunk = 64 * 1024;
// How long a TLS close waits for the peer's close_notify once the response is
// in: the answer is already complete, and a peer that just closes (or never
// answers the alert) must not hold the caller.
constexpr std::chrono::milliseconds kTlsShutdownLimit{250};

// Turns a failed operation into a message that names what failed and where.
Error describe_failure(std::string_view what, const Endpoint& to,
                       const boost::system::error_code& ec, std::chrono::milliseconds timeout) {
  if (ec == beast::error::timeout) {
    return make_error(std::string(what) + " " + to.to_string() + " timed out after " +
                      std::to_string(timeout.count()) + " ms");
  }
  if (ec == asio::error::connection_refused) {
    return make_error("connect to " + to.to_string() + " refused");
  }
  if (ec == http::error::body_limit) {
    return make_error(std::string(what) + " " + to.to_string() + ": body above limit");
  }
  if (ec == http::error::partial_message || ec == asio::error::eof ||
      ec == http::error::end_of_stream) {
    return make_error(std::string(what) + " " + to.to_string() +
                      ": connection closed before the message was complete");
  }
  return make_error(std::string(what) + " " + to.to_string() + " failed: " + ec.message());
}

// Resolves `to` (IP literals without a lookup) before `deadline`.
asio::awaitable<Result<std::vector<tcp::endpoint>>> resolve(asio::any_io_executor ex,
                                                            const Endpoint& to,
                                                            Clock::time_point deadline,
                                                            std::chrono::milliseconds timeout) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(to.host, ec);
  if (!ec) {
    co_return std::vector<tcp::endpoint>{tcp::endpoint(address, to.port)};
  }
  using namespace asio::experimental::awaitable_operators;
  tcp::resolver resolver(ex);
  asio::steady_timer timer(ex, deadline);
  auto outcome = co_await (resolver.async_resolve(to.host, std::to_string(to.port), kTuple) ||
                           timer.async_wait(kTuple));
  if (outcome.index() == 1) {
    co_return describe_failure("resolve", to, beast::error::timeout, timeout);
  }
  auto [resolve_ec, results] = std::get<0>(std::move(outcome));
  if (resolve_ec) {
    co_return make_error("resolve " + to.host + " failed: " + resolve_ec.message());
  }
  std::vector<tcp::endpoint> endpoints;
  for (const auto& entry : results) {
    endpoints.push_back(entry.endpoint());
  }
  co_return endpoints;
}

// Resolves and connects `stream` to `to` before `deadline`.
asio::awaitable<Result<void>> connect(beast::tcp_stream& stream, const Endpoint& to,
                                      Clock::time_point deadline,
                                      std::chrono::milliseconds timeout) {
  auto endpoints = co_await resolve(stream.get_executor(), to, deadline, timeout);
  if (!endpoints) {
    co_return endpoints.error();
  }
  stream.expires_at(deadline);
  auto [ec, connected] = co_await stream.async_connect(*endpoints, kTuple);
  (void)connected;
  if (ec) {
    co_return describe_failure("connect to", to, ec, timeout);
  }
  co_return Result<void>{};
}

// Writes `req` to a connected stream (plain or TLS) before `deadline`.
template <class Stream>
asio::awaitable<Result<void>> send(Stream& stream, const Endpoint& to, Request& req,
                                   Clock::time_point deadline, std::chrono::milliseconds timeout) {
  beast::get_lowest_layer(stream).expires_at(deadline);
  auto [ec, written] = co_await http::async_write(stream, req, kTuple);
  (void)written;
  if (ec) {
    co_return describe_failure("send request to", to, ec, timeout);
  }
  co_return Result<void>{};
}

// Connects and writes `req` before `deadline`.
asio::awaitable<Result<void>> connect_and_send(beast::tcp_stream& stream, const Endpoint& to,
                                               Request& req, Clock::time_point deadline,
                                               std::chrono::milliseconds timeout) {
  auto connected = co_await connect(stream, to, deadline, timeout);
  if (!connected) {
    co_return connected.error();
  }
  co_return co_await send(stream, to, req, deadline, timeout);
}

// Names the server the handshake must find in the certificate. Not Asio's
// ssl::host_name_verification: Boost 1.81's does match IP literals against
// IP SANs, but it rejects from a verify callback that leaves OpenSSL's
// verify result at "ok", so a certificate for the wrong host would read only
// "certificate verify failed". Set on the verify parameters, OpenSSL checks
// the name itself and reports "IP address mismatch" or "hostname mismatch".
Result<void> expect_server(TlsStream& stream, const Endpoint& to) {
  SSL* ssl = stream.native_handle();
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  boost::system::error_code not_ip;
  (void)asio::ip::make_address(to.host, not_ip);
  if (!not_ip) {
    // An IP literal must match an IP SAN (never a DNS SAN spelled like it),
    // and goes without SNI, which carries DNS names only (RFC 6066 §3).
    if (X509_VERIFY_PARAM_set1_ip_asc(param, to.host.c_str()) != 1) {
      return make_error("TLS with " + to.to_string() + ": cannot check the address '" + to.host +
                        "' in a certificate");
    }
    return {};
  }
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (SSL_set_tlsext_host_name(ssl, to.host.c_str()) != 1 ||
      X509_VERIFY_PARAM_set1_host(param, to.host.data(), to.host.size()) != 1) {
    return make_error("TLS with " + to.to_string() + ": cannot check the name '" + to.host +
                      "' in a certificate");
  }
  return {};
}

// Runs the client handshake on a connected stream before `deadline`.
asio::awaitable<Result<void>> tls_handshake(TlsStream& stream, const Endpoint& to,
                                            Clock::time_point deadline,
                                            std::chrono::milliseconds timeout) {
  if (auto expected = expect_server(stream, to); !expected) {
    co_return expected.error();
  }
  beast::get_lowest_layer(stream).expires_at(deadline);
  auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::client, kTuple);
  if (!ec) {
    co_return Result<void>{};
  }
  if (ec == beast::error::timeout) {
    co_return describe_failure("TLS handshake with", to, ec, timeout);
  }
  // The SSL error says only "certificate verify failed"; the verify result
  // says which check failed (unknown CA, expired, wrong address).
  std::string reason = ec.message();
  if (const long verified = SSL_get_verify_result(stream.native_handle()); verified != X509_V_OK) {
    reason += std::string(": ") + X509_verify_cert_error_string(verified);
  }
  co_return make_error("TLS handshake with " + to.to_string() + " failed: " + reason);
}

void close_quietly(beast::tcp_stream& stream) {
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream.close();
}

// True when the peer closed an idle kept-alive connection (servers do after
// an idle timeout), or sent bytes nobody asked for: it must not carry the next
// request. Checked before sending rather than by sending again after a
// failure, because a request sent once may have been acted on.
bool closed_while_idle(beast::tcp_stream& stream) {
  auto& socket = stream.socket();
  boost::system::error_code ec;
  socket.non_blocking(true, ec);
  if (ec) {
    return true;
  }
  char byte = 0;
  socket.receive(asio::buffer(&byte, 1), tcp::socket::message_peek, ec);
  boost::system::error_code ignored;
  socket.non_blocking(false, ignored);
  return ec != asio::error::would_block;
}

struct ReadResponse {
  boost::system::error_code ec;
  Response response;
};

// Reads one whole response (plain or TLS) before `deadline`.
template <class Stream>
asio::awaitable<ReadResponse> read_response(Stream& stream, beast::flat_buffer& buffer,
                                            Clock::time_point deadline, std::size_t body_limit) {
  http::response_parser<http::string_body> parser;
  parser.header_limit(kResponseHeaderLimit);
  parser.body_limit(body_limit);
  beast::get_lowest_layer(stream).expires_at(deadline);
  auto [ec, read] = co_await http::async_read(stream, buffer, parser, kTuple);
  (void)read;
  ReadResponse out{ec, {}};
  if (!ec) {
    out.response = parser.release();
  }
  co_return out;
}

// Sends close_notify and waits briefly for the peer's; errors are ignored,
// since the response is complete by then. Then closes the socket.
asio::awaitable<void> close_tls_quietly(TlsStream& stream, Clock::time_point deadline) {
  auto& lowest = beast::get_lowest_layer(stream);
  lowest.expires_at(std::min(deadline, Clock::now() + kTlsShutdownLimit));  // os-clock: socket I/O
  auto [ignored] = co_await stream.async_shutdown(kTuple);
  (void)ignored;
  close_quietly(lowest);
}

// connect_and_send over TLS: connect, handshake (the server's certificate
// checked against the CA and `to.host`), write; the socket is closed on a
// failure.
asio::awaitable<Result<void>> connect_and_send(TlsStream& stream, const Endpoint& to, Request& req,
                                               Clock::time_point deadline,
                                               std::chrono::milliseconds timeout) {
  auto& lowest = beast::get_lowest_layer(stream);
  auto connected = co_await connect(lowest, to, deadline, timeout);
  if (!connected) {
    co_return connected.error();
  }
  auto secured = co_await tls_handshake(stream, to, deadline, timeout);
  if (!secured) {
    close_quietly(lowest);
    co_return secured.error();
  }
  auto sent = co_await send(stream, to, req, deadline, timeout);
  if (!sent) {
    close_quietly(lowest);
    co_return sent.error();
  }
  co_return Result<void>{};
}

// http_request over TLS: connect, handshake, write, read, all before one
// deadline.
asio::awaitable<Result<Response>> https_request(asio::any_io_executor ex, const Endpoint& to,
                                                Request& req, std::chrono::milliseconds timeout,
                                                std::size_t body_limit) {
  const auto deadline = Clock::now() + timeout;  // os-clock: socket I/O
  TlsStream stream(ex, to.tls->context());
  auto& lowest = beast::get_lowest_layer(stream);
  auto sent = co_await connect_and_send(stream, to, req, deadline, timeout);
  if (!sent) {
    co_return sent.error();
  }
  beast::flat_buffer buffer;
  buffer.reserve(kStreamReadChunk);  // as in http_request
  auto read = co_await read_response(stream, buffer, deadline, body_limit);
  if (read.ec) {
    close_quietly(lowest);
    co_return describe_failure("read response from", to, read.ec, timeout);
  }
  co_await close_tls_quietly(stream, deadline);
  co_return std::move(read.response);
}

Error tls_not_supported(const Endpoint& to, std::string_view on) {
  return make_error("connection to " + to.to_string() + ": TLS is not supported on " +
                    std::string(on));
}

}  // namespace

Result<Endpoint> parse_endpoint(std::string_view text) {
  const auto quoted = "'" + std::string(text) + "'";
  auto authority = boost::urls::parse_authority(text);
  if (!authority || authority->has_userinfo()) {
    return make_error(quoted + " is not host:port");
  }
  // host_address() is the host without an IPv6 literal's brackets.
  if (authority->host_address().empty()) {
    return make_error(quoted + " has no host");
  }
  if (!authority->has_port() || authority->port().empty()) {
    return make_error(quoted + " has no port");
  }
  // Not port_number(): Boost.URL reads an out-of-range port as 0 or wraps it.
  const std::string_view digits = authority->port();
  unsigned port = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc() || end != digits.data() + digits.size() || port > 65535) {
    return make_error(quoted + " has a bad port (0-65535)");
  }
  return Endpoint{std::string(authority->host_address()), static_cast<uint16_t>(port)};
}

Request make_request(http::verb verb, std::string target, const Endpoint& to, std::string body,
                     std::string content_type) {
  Request req{verb, target, 11};
  req.set(http::field::host, to.to_string());
  req.set(http::field::user_agent, "etcd-mesos");
  if (!body.empty()) {
    req.set(http::field::content_type, content_type);
    req.body() = std::move(body);
  }
  req.prepare_payload();
  return req;
}

asio::awaitable<Result<Response>> http_request(asio::any_io_executor ex, Endpoint to, Request req,
                                               std::chrono::milliseconds timeout,
                                               std::size_t body_limit) {
  if (to.tls) {
    co_return co_await https_request(ex, to, req, timeout, body_limit);
  }
  const auto deadline = Clock::now() + timeout;  // os-clock: socket I/O
  beast::tcp_stream stream(ex);
  auto sent = co_await connect_and_send(stream, to, req, deadline, timeout);
  if (!sent) {
    co_return sent.error();
  }
  // Beast reads no more than the buffer's free capacity (at least 512 bytes)
  // at a time, and the body parser empties the buffer after each read: an
  // unreserved buffer fetches a 45 MB artifact in 90,000 reads.
  beast::flat_buffer buffer;
  buffer.reserve(kStreamReadChunk);
  auto read = co_await read_response(stream, buffer, deadline, body_limit);
  close_quietly(stream);
  if (read.ec) {
    co_return describe_failure("read response from", to, read.ec, timeout);
  }
  co_return std::move(read.response);
}

// ------------------------------------------------------------------ streamed bodies

namespace {

// The error text of a refused streamed request: its status and the start of
// its body.
constexpr std::size_t kStreamedErrorText = 512;

// Reads the response to a request already sent on `stream` and hands its
// body to `sink` piece by piece; see http_request_streamed.
template <class Stream>
asio::awaitable<Result<void>> read_streamed(Stream& stream, const Endpoint& to,
                                            Clock::time_point deadline,
                                            std::chrono::milliseconds timeout,
                                            std::chrono::milliseconds idle_timeout,
                                            std::uint64_t body_limit, const BodySink& sink) {
  auto& lowest = beast::get_lowest_layer(stream);
  beast::flat_buffer buffer;
  buffer.reserve(kStreamReadChunk);
  http::response_parser<http::buffer_body> parser;
  parser.header_limit(kResponseHeaderLimit);
  parser.body_limit(body_limit);
  lowest.expires_at(deadline);
  auto [header_ec, header_read] = co_await http::async_read_header(stream, buffer, parser, kTuple);
  (void)header_read;
  if (header_ec) {
    co_return describe_failure("read response header from", to, header_ec, timeout);
  }
  const unsigned status = parser.get().result_int();
  std::string refusal;
  std::vector<char> piece(kStreamReadChunk);
  while (!parser.is_done()) {
    auto& body = parser.get().body();
    body.data = piece.data();
    body.size = piece.size();
    // os-clock: each read bounded by the idle limit and the whole deadline
    lowest.expires_at(std::min(deadline, Clock::now() + idle_timeout));
    auto [ec, read] = co_await http::async_read_some(stream, buffer, parser, kTuple);
    (void)read;
    if (ec && ec != http::error::need_buffer) {
      const bool idle = ec == beast::error::timeout && Clock::now() < deadline;  // os-clock
      co_return describe_failure("read body from", to, ec, idle ? idle_timeout : timeout);
    }
    const std::string_view got(piece.data(), piece.size() - body.size);
    if (status != 200) {
      refusal.append(
          got.substr(0, kStreamedErrorText - std::min(refusal.size(), kStreamedErrorText)));
      if (refusal.size() >= kStreamedErrorText) {
        break;
      }
      continue;
    }
    if (!got.empty()) {
      if (auto taken = sink(got); !taken) {
        co_return taken.error();
      }
    }
  }
  if (status != 200) {
    co_return make_error(to.to_string() + " answered " + std::to_string(status) + ": " + refusal,
                         static_cast<int>(status));
  }
  co_return Result<void>{};
}

}  // namespace

asio::awaitable<Result<void>> http_request_streamed(asio::any_io_executor ex, Endpoint to,
                                                    Request req, std::chrono::milliseconds timeout,
                                                    std::chrono::milliseconds idle_timeout,
                                                    std::uint64_t body_limit, BodySink sink) {
  const auto deadline = Clock::now() + timeout;  // os-clock: socket I/O
  if (!to.tls) {
    beast::tcp_stream stream(ex);
    auto sent = co_await connect_and_send(stream, to, req, deadline, timeout);
    if (!sent) {
      co_return sent.error();
    }
    auto read =
        co_await read_streamed(stream, to, deadline, timeout, idle_timeout, body_limit, sink);
    close_quietly(stream);
    co_return read;
  }
  TlsStream stream(ex, to.tls->context());
  auto& lowest = beast::get_lowest_layer(stream);
  auto sent = co_await connect_and_send(stream, to, req, deadline, timeout);
  if (!sent) {
    co_return sent.error();
  }
  auto read = co_await read_streamed(stream, to, deadline, timeout, idle_timeout, body_limit, sink);
  if (!read) {
    close_quietly(lowest);
    co_return read;
  }
  co_await close_tls_quietly(stream, deadline);
  co_return read;
}

// ------------------------------------------------------------------ HttpConnection

struct HttpConnection::State {
  State(asio::any_io_executor ex, Endpoint peer) : stream(ex), to(std::move(peer)) {
    buffer.reserve(kStreamReadChunk);  // as in http_request
  }
  beast::tcp_stream stream;
  Endpoint to;
  beast::flat_buffer buffer;
  bool closed = false;
};

HttpConnection::HttpConnection(asio::any_io_executor ex, Endpoint to)
    : state_(std::make_unique<State>(std::move(ex), std::move(to))) {}

HttpConnection::~HttpConnection() {
  close();
}

const Endpoint& HttpConnection::peer() const {
  return state_->to;
}

asio::awaitable<Result<Response>> HttpConnection::request(Request req,
                                                          std::chrono::milliseconds timeout,
                                                          std::size_t body_limit) {
  auto& s = *state_;
  auto closed_error = [&s] { return make_error("connection to " + s.to.to_string() + " closed"); };
  if (s.closed) {
    co_return closed_error();
  }
  // Refused rather than sent in the clear: callers that carry a TlsClient
  // mean the peer to be authenticated (and it would refuse plain HTTP).
  if (s.to.tls) {
    co_return tls_not_supported(s.to, "kept-alive connections");
  }
  const auto deadline = Clock::now() + timeout;  // os-clock: socket I/O
  if (s.stream.socket().is_open() && (s.buffer.size() > 0 || closed_while_idle(s.stream))) {
    logger("http")->debug("connection to {} was closed while idle; opening a new one",
                          s.to.to_string());
    close_quietly(s.stream);
  }
  if (!s.stream.socket().is_open()) {
    s.buffer.clear();
    auto connected = co_await connect(s.stream, s.to, deadline, timeout);
    if (!connected || s.closed) {  // closed while resolving a name
      close_quietly(s.stream);
      co_return connected ? closed_error() : connected.error();
    }
  }
  s.stream.expires_at(deadline);
  auto [write_ec, written] = co_await http::async_write(s.stream, req, kTuple);
  (void)written;
  ReadResponse read;
  if (!write_ec) {
    read = co_await read_response(s.stream, s.buffer, deadline, body_limit);
  }
  if (s.closed) {
    co_return closed_error();
  }
  if (write_ec || read.ec) {
    close_quietly(s.stream);
    co_return describe_failure(write_ec ? "send request to" : "read response from", s.to,
                               write_ec ? write_ec : read.ec, timeout);
  }
  if (!read.response.keep_alive()) {
    close_quietly(s.stream);
  }
  co_return std::move(read.response);
}

void HttpConnection::close() {
  state_->closed = true;
  close_quietly(state_->stream);
}

// ------------------------------------------------------------------ HttpStream

struct HttpStream::State {
  explicit State(asio::any_io_executor ex, Endpoint peer) : stream(ex), to(std::move(peer)) {}
  beast::tcp_stream stream;
  Endpoint to;
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  std::array<char, kStreamReadChunk> piece{};
};

HttpStream::HttpStream(std::unique_ptr<State> state) : state_(std::move(state)) {}

HttpStream::~HttpStream() {
  close();
}

asio::awaitable<Result<std::unique_ptr<HttpStream>>> HttpStream::open(
    asio::any_io_executor ex, Endpoint to, Request req, std::chrono::milliseconds timeout) {
  if (to.tls) {  // as in HttpConnection::request
    co_return tls_not_supported(to, "streamed responses");
  }
  const auto deadline = Clock::now() + timeout;  // os-clock: socket I/O
  auto state = std::make_unique<State>(ex, to);
  state->buffer.reserve(kStreamReadChunk);  // as in http_request
  auto sent = co_await connect_and_send(state->stream, to, req, deadline, timeout);
  if (!sent) {
    co_return sent.error();
  }
  state->parser.header_limit(kResponseHeaderLimit);
  // A stream has no natural size; whoever reads it bounds what it buffers
  // (read_all's limit, the RecordIO decoder's record limit).
  state->parser.body_limit(boost::none);
  state->stream.expires_at(deadline);
  auto [ec, read] =
      co_await http::async_read_header(state->stream, state->buffer, state->parser, kTuple);
  (void)read;
  if (ec) {
    co_return describe_failure("read response header from", to, ec, timeout);
  }
  co_return std::unique_ptr<HttpStream>(new HttpStream(std::move(state)));
}

unsigned HttpStream::status() const {
  return state_->parser.get().result_int();
}

std::string HttpStream::header(std::string_view name) const {
  const auto& fields = state_->parser.get();
  auto it = fields.find(name);
  return it == fields.end() ? std::string() : std::string(it->value());
}

asio::awaitable<Result<std::optional<std::string>>> HttpStream::read_some(
    std::chrono::milliseconds timeout) {
  auto& s = *state_;
  // A read may consume only chunk framing and yield no body bytes; keep going
  // until there are bytes or the body ends.
  for (;;) {
    if (s.parser.is_done()) {
      co_return std::optional<std::string>();
    }
    auto& body = s.parser.get().body();
    body.data = s.piece.data();
    body.size = s.piece.size();
    s.stream.expires_after(timeout);
    auto [ec, read] = co_await http::async_read_some(s.stream, s.buffer, s.parser, kTuple);
    (void)read;
    // need_buffer only says that our piece buffer is full.
    if (ec && ec != http::error::need_buffer) {
      co_return describe_failure("read stream from", s.to, ec, timeout);
    }
    const std::size_t got = s.piece.size() - body.size;
    if (got > 0) {
      co_return std::optional<std::string>(std::string(s.piece.data(), got));
    }
  }
}

asio::awaitable<Result<std::string>> HttpStream::read_all(std::chrono::milliseconds timeout,
                                                          std::size_t body_limit) {
  const auto deadline = Clock::now() + timeout;  // os-clock: socket I/O
  std::string all;
  for (;;) {
    const auto left = deadline - Clock::now();  // os-clock: socket I/O
    if (left <= Clock::duration::zero()) {
      co_return describe_failure("read body from", state_->to, beast::error::timeout, timeout);
    }
    auto piece = co_await read_some(std::chrono::ceil<std::chrono::milliseconds>(left));
    if (!piece) {
      co_return piece.error();
    }
    if (!piece->has_value()) {
      // Spelled out: Error is constructible from a string too.
      co_return Result<std::string>(boost::system::in_place_value, std::move(all));
    }
    if (all.size() + (*piece)->size() > body_limit) {
      close();
      co_return describe_failure("read body from", state_->to, http::error::body_limit, timeout);
    }
    all += **piece;
  }
}

void HttpStream::close() {
  if (state_ && state_->stream.socket().is_open()) {
    close_quietly(state_->stream);
  }
}

}  // namespace etcdmesos::io
