// Serves the executor, etcd and etcdctl binaries to Mesos agents, which fetch
// them into each executor's sandbox (CommandInfo.uris).
//
// Files are read once at start-up, so a binary replaced on disk while the
// scheduler runs does not change what agents get, and a missing file is a
// start-up error rather than a failed launch later.
// Threading: runs on the io_context of the executor given.
#pragma once

#include "common/error.hpp"
#include "io/http.hpp"

#include <map>
#include <memory>
#include <string>

namespace etcdmesos::scheduler {

class ArtifactServer {
 public:
  explicit ArtifactServer(boost::asio::any_io_executor ex);

  // Adds GET /<name> serving the file at `path`. Error when it cannot be read.
  Result<void> add_file(const std::string& name, const std::string& path);
  Result<io::Endpoint> listen(const io::Endpoint& bind);
  // http://host:port/<name>
  std::string url(const std::string& name) const;
  void stop();

 private:
  boost::asio::awaitable<void> handle(io::HttpExchange& exchange);

  std::map<std::string, std::shared_ptr<const std::string>> files_;
  io::HttpServer server_;
  io::Endpoint endpoint_;
};

}  // namespace etcdmesos::scheduler
