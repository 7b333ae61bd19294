#include "scheduler/artifact_server.hpp"

#include <openssl/evp.h>

#include <array>
#include <fstream>
#include <sstream>

namespace etcdmesos::scheduler {

namespace http = io::http;

namespace {

// The etcd binary is ~25 MB; anything far larger is not one of ours.
constexpr std::size_t kMaxArtifactBytes = 256 * 1024 * 1024;
constexpr std::string_view kPrefix = "/artifacts/";

io::Response text(const io::Request& req, http::status status, std::string body) {
  return io::make_response(req, status, std::move(body), "text/plain");
}

}  // namespace

std::string artifact_digest(const std::string& content) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int length = 0;
  // One-shot EVP digest: cannot fail for SHA-256 short of memory exhaustion.
  if (EVP_Digest(content.data(), content.size(), md.data(), &length, EVP_sha256(), nullptr) != 1) {
    std::abort();
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length && hex.size() < kArtifactDigestChars; ++i) {
    hex.push_back(kHex[md[i] >> 4]);
    hex.push_back(kHex[md[i] & 0xf]);
  }
  return hex;
}

ArtifactServer::ArtifactServer(boost::asio::any_io_executor ex)
    : server_(ex, [this](io::HttpExchange& exchange) { return handle(exchange); }) {}

Result<void> ArtifactServer::add_file(const std::string& name, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error("cannot read artifact '" + name + "' from " + path);
  }
  std::ostringstream content;
  content << in.rdbuf();
  auto bytes = std::move(content).str();
  if (bytes.size() > kMaxArtifactBytes) {
    return make_error("artifact " + path + " is larger than 256 MB");
  }
  return add_content(name, std::move(bytes));
}

Result<void> ArtifactServer::add_content(const std::string& name, std::string content) {
  if (name.empty() || name.find('/') != std::string::npos) {
    return make_error("artifact name '" + name + "' must be one path segment");
  }
  auto digest = artifact_digest(content);
  artifacts_[name] =
      Artifact{std::move(digest), std::make_shared<const std::string>(std::move(content))};
  return {};
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

io::Response ArtifactServer::route(const io::Request& req) {
  const bool head = req.method() == http::verb::head;
  if (req.method() != http::verb::get && !head) {
    auto res = text(req, http::status::method_not_allowed, "only GET and HEAD are supported\n");
    res.set(http::field::allow, "GET, HEAD");
    return res;
  }
  std::string target(req.target());
  target = target.substr(0, target.find('?'));
  if (target.size() > 1 && target.find('/', 1) == std::string::npos) {
    // The pre-digest path /<name>: where today's content of that name lives.
    const auto current = path(target.substr(1));
    if (current.empty()) {
      return text(req, http::status::not_found, "no such artifact\n");
    }
    auto res = text(req, http::status::temporary_redirect, "see " + current + "\n");
    res.set(http::field::location, current);
    res.set(http::field::cache_control, "no-cache");
    return res;
  }
  if (target.compare(0, kPrefix.size(), kPrefix) != 0) {
    return text(req, http::status::not_found, "no such artifact\n");
  }
  const auto rest = target.substr(kPrefix.size());
  const auto slash = rest.find('/');
  const auto digest = rest.substr(0, slash);
  const auto name = slash == std::string::npos ? std::string() : rest.substr(slash + 1);
  auto it = artifacts_.find(name);
  if (it == artifacts_.end()) {
    return text(req, http::status::not_found, "no such artifact\n");
  }
  if (it->second.digest != digest) {
    return text(
        req, http::status::not_found,
        "artifact '" + name + "' has digest " + it->second.digest + " now, not " + digest + "\n");
  }
  const auto& content = *it->second.content;
  auto res = io::make_response(req, http::status::ok, head ? std::string() : content,
                               "application/octet-stream");
  if (head) {
    res.content_length(content.size());  // the HTTP server sends no body for HEAD
  } else {
    ++downloads_;
  }
  // The bytes under a digest never change.
  res.set(http::field::etag, "\"" + digest + "\"");
  res.set(http::field::cache_control, "public, max-age=31536000, immutable");
  return res;
}

boost::asio::awaitable<void> ArtifactServer::handle(io::HttpExchange& exchange) {
  co_await exchange.respond(route(exchange.request()));
}

}  // namespace etcdmesos::scheduler
