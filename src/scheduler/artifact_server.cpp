#include "scheduler/artifact_server.hpp"

#include <fstream>
#include <sstream>

namespace etcdmesos::scheduler {

namespace {
// The etcd binary is ~25 MB; anything far larger is not one of ours.
constexpr std::size_t kMaxArtifactBytes = 256 * 1024 * 1024;
}  // namespace

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
  files_[name] = std::make_shared<const std::string>(std::move(bytes));
  return {};
}

Result<io::Endpoint> ArtifactServer::listen(const io::Endpoint& bind) {
  auto bound = server_.listen(bind);
  if (bound) {
    endpoint_ = *bound;
  }
  return bound;
}

std::string ArtifactServer::url(const std::string& name) const {
  return "http://" + endpoint_.to_string() + "/" + name;
}

void ArtifactServer::stop() {
  server_.stop();
}

boost::asio::awaitable<void> ArtifactServer::handle(io::HttpExchange& exchange) {
  const auto& req = exchange.request();
  if (req.method() != io::http::verb::get) {
    auto res = io::make_response(req, io::http::status::method_not_allowed,
                                 "only GET is supported\n", "text/plain");
    res.set(io::http::field::allow, "GET");
    co_await exchange.respond(std::move(res));
    co_return;
  }
  std::string target(req.target());
  auto it = target.size() > 1 ? files_.find(target.substr(1)) : files_.end();
  if (it == files_.end()) {
    co_await exchange.respond(
        io::make_response(req, io::http::status::not_found, "no such artifact\n", "text/plain"));
    co_return;
  }
  auto res = io::make_response(req, io::http::status::ok, *it->second, "application/octet-stream");
  co_await exchange.respond(std::move(res));
}

}  // namespace etcdmesos::scheduler
