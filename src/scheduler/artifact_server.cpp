#include "scheduler/artifact_server.hpp"

#include <openssl/evp.h>

#include <fcntl.h>
#include <unistd.h>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace etcdmesos::scheduler {

namespace http = io::http;

namespace {

// The etcd binary is ~25 MB; anything far larger is not one of ours.
constexpr std::size_t kMaxArtifactBytes = 256 * 1024 * 1024;
// Piece of a copy read and sent at a time: bounds the memory of a download
// (one piece each: 100 slow fetches hold about 6 MB; with 256 KB pieces,
// copied once more into the write, they held 50 MB).
constexpr std::size_t kChunkBytes = 64 * 1024;
constexpr std::string_view kPrefix = "/artifacts/";

io::Response text(const io::Request& req, http::status status, std::string body) {
  return io::make_response(req, status, std::move(body), "text/plain");
}

std::string hex_prefix(const unsigned char* md, unsigned int length) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length && hex.size() < kArtifactDigestChars; ++i) {
    hex.push_back(kHex[md[i] >> 4]);
    hex.push_back(kHex[md[i] & 0xf]);
  }
  return hex;
}

// SHA-256 fed piece by piece. EVP calls fail only when memory is exhausted.
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) {
    if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) {
      std::abort();
    }
  }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const char* data, std::size_t n) {
    if (EVP_DigestUpdate(ctx_, data, n) != 1) {
      std::abort();
    }
  }
  std::string hex_prefix_of_final() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(ctx_, md.data(), &length) != 1) {
      std::abort();
    }
    return hex_prefix(md.data(), length);
  }

 private:
  EVP_MD_CTX* ctx_;
};

Result<void> write_fully(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    const auto written = ::write(fd, data, n);
    if (written < 0 && errno == EINTR) {
      continue;
    }
    if (written <= 0) {
      return make_error(std::string("cannot write an artifact copy: ") + std::strerror(errno));
    }
    data += written;
    n -= static_cast<std::size_t>(written);
  }
  return {};
}

}  // namespace

// An unlinked file: nothing is left behind, whatever ends the process.
struct ArtifactServer::Copy {
  explicit Copy(int descriptor) : fd(descriptor) {}
  ~Copy() { ::close(fd); }
  Copy(const Copy&) = delete;
  Copy& operator=(const Copy&) = delete;
  int fd;
  uint64_t size = 0;
};

std::string artifact_digest(const std::string& content) {
  Sha256 sha;
  sha.update(content.data(), content.size());
  return sha.hex_prefix_of_final();
}

ArtifactServer::ArtifactServer(boost::asio::any_io_executor ex)
    : server_(
          ex, [this](io::HttpExchange& exchange) { return handle(exchange); }, 0) {
  server_.set_connection_limits(kArtifactMaxConnections, kArtifactMaxConnectionsPerAddress);
}

ArtifactServer::~ArtifactServer() = default;

template <class Read>
Result<void> ArtifactServer::add(const std::string& name, Read&& read) {
  if (name.empty() || name.find('/') != std::string::npos) {
    return make_error("artifact name '" + name + "' must be one path segment");
  }
  std::error_code ec;
  auto pattern = (std::filesystem::temp_directory_path(ec) / "etcd-mesos-artifact-XXXXXX").string();
  const int fd = ::mkstemp(pattern.data());
  if (fd < 0) {
    return make_error("cannot create a copy of artifact '" + name + "' in " + pattern + ": " +
                      std::strerror(errno));
  }
  ::unlink(pattern.c_str());
  auto copy = std::make_shared<Copy>(fd);
  Sha256 sha;
  std::string buffer(kChunkBytes, '\0');
  for (;;) {
    auto n = read(buffer.data(), buffer.size());
    if (!n) {
      return n.error();
    }
    if (*n == 0) {
      break;
    }
    copy->size += *n;
    if (copy->size > kMaxArtifactBytes) {
      return make_error("artifact '" + name + "' is larger than 256 MB");
    }
    sha.update(buffer.data(), *n);
    if (auto written = write_fully(fd, buffer.data(), *n); !written) {
      return written.error();
    }
  }
  artifacts_[name] = Artifact{sha.hex_prefix_of_final(), std::move(copy)};
  return {};
}

Result<void> ArtifactServer::add_file(const std::string& name, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error("cannot read artifact '" + name + "' from " + path);
  }
  return add(name, [&](char* data, std::size_t size) -> Result<std::size_t> {
    in.read(data, static_cast<std::streamsize>(size));
    if (in.bad()) {
      return make_error("cannot read artifact '" + name + "' from " + path);
    }
    return static_cast<std::size_t>(in.gcount());
  });
}

Result<void> ArtifactServer::add_content(const std::string& name, const std::string& content) {
  std::size_t at = 0;
  return add(name, [&](char* data, std::size_t size) -> Result<std::size_t> {
    const auto n = std::min(size, content.size() - at);
    std::memcpy(data, content.data() + at, n);
    at += n;
    return n;
  });
}

Result<std::string> ArtifactServer::read_all(const Copy& copy) {
  std::string out(copy.size, '\0');
  std::size_t at = 0;
  while (at < out.size()) {
    const auto n = ::pread(copy.fd, out.data() + at, out.size() - at, static_cast<off_t>(at));
    if (n <= 0) {
      return make_error("cannot read an artifact copy");
    }
    at += static_cast<std::size_t>(n);
  }
  // Error is constructible from a string too: say which alternative is meant.
  return Result<std::string>(boost::system::in_place_value, std::move(out));
}

Result<io::Endpoint> ArtifactServer::listen(const io::Endpoint& bind) {
  auto bound = server_.listen(bind);
  if (bound) {
    endpoint_ = *bound;
  }
  return bound;
}

std::string ArtifactServer::path(const std::string& name) const {
  auto it = artifacts_.find(name);
  if (it == artifacts_.end()) {
    return "";
  }
  return std::string(kPrefix) + it->second.digest + "/" + name;
}

std::string ArtifactServer::url(const std::string& name) const {
  return "http://" + endpoint_.to_string() + path(name);
}

void ArtifactServer::stop() {
  server_.stop();
}

ArtifactServer::Answer ArtifactServer::route(const io::Request& req) {
  const bool head = req.method() == http::verb::head;
  if (req.method() != http::verb::get && !head) {
    auto res = text(req, http::status::method_not_allowed, "only GET and HEAD are supported\n");
    res.set(http::field::allow, "GET, HEAD");
    return {std::move(res), nullptr};
  }
  std::string target(req.target());
  target = target.substr(0, target.find('?'));
  if (target.size() > 1 && target.find('/', 1) == std::string::npos) {
    // The pre-digest path /<name>: where today's content of that name lives.
    const auto current = path(target.substr(1));
    if (current.empty()) {
      return {text(req, http::status::not_found, "no such artifact\n"), nullptr};
    }
    auto res = text(req, http::status::temporary_redirect, "see " + current + "\n");
    res.set(http::field::location, current);
    res.set(http::field::cache_control, "no-cache");
    return {std::move(res), nullptr};
  }
  if (target.compare(0, kPrefix.size(), kPrefix) != 0) {
    return {text(req, http::status::not_found, "no such artifact\n"), nullptr};
  }
  const auto rest = target.substr(kPrefix.size());
  const auto slash = rest.find('/');
  const auto digest = rest.substr(0, slash);
  const auto name = slash == std::string::npos ? std::string() : rest.substr(slash + 1);
  auto it = artifacts_.find(name);
  if (it == artifacts_.end()) {
    return {text(req, http::status::not_found, "no such artifact\n"), nullptr};
  }
  if (it->second.digest != digest) {
    return {text(req, http::status::not_found,
                 "artifact '" + name + "' has digest " + it->second.digest + " now, not " + digest +
                     "\n"),
            nullptr};
  }
  auto res = io::make_response(req, http::status::ok, "");
  res.set(http::field::content_type, "application/octet-stream");
  res.content_length(it->second.copy->size);
  // The bytes under a digest never change.
  res.set(http::field::etag, "\"" + digest + "\"");
  res.set(http::field::cache_control, "public, max-age=31536000, immutable");
  if (head) {
    return {std::move(res), nullptr};  // the HTTP server sends no body for HEAD
  }
  ++downloads_;
  return {std::move(res), it->second.copy};
}

boost::asio::awaitable<void> ArtifactServer::handle(io::HttpExchange& exchange) {
  auto answer = route(exchange.request());
  if (!answer.body) {
    co_await exchange.respond(std::move(answer.response));
    co_return;
  }
  co_await stream(exchange, std::move(answer));
}

boost::asio::awaitable<void> ArtifactServer::stream(io::HttpExchange& exchange, Answer answer) {
  // Chunked, a piece at a time, so a download never holds a whole binary in
  // memory; `body` keeps the copy open even if the artifact is replaced.
  const auto body = std::move(answer.body);
  if (!co_await exchange.start_stream(std::move(answer.response))) {
    co_return;
  }
  std::string chunk;
  for (uint64_t at = 0; at < body->size;) {
    chunk.resize(static_cast<std::size_t>(std::min<uint64_t>(kChunkBytes, body->size - at)));
    const auto n = ::pread(body->fd, chunk.data(), chunk.size(), static_cast<off_t>(at));
    if (n <= 0) {
      exchange.abort();  // the fetcher sees a short body and fails the fetch
      co_return;
    }
    chunk.resize(static_cast<std::size_t>(n));
    at += static_cast<uint64_t>(n);
    // Moved, not copied: the piece in the write is the only one held.
    if (!co_await exchange.write_chunk(std::move(chunk))) {
      co_return;
    }
    chunk = std::string();
  }
  co_await exchange.finish_stream();
}

}  // namespace etcdmesos::scheduler
