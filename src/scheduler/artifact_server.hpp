// Serves the executor, etcd and etcdctl binaries to Mesos agents, which fetch
// them into each executor's sandbox (CommandInfo.uris) through the Mesos
// fetcher cache.
//
// Every artifact lives at /artifacts/<digest>/<name>, where <digest> is the
// first 16 hex digits of the SHA-256 of its content. The agents' fetcher cache
// is keyed by the URI, so a scheduler serving a new binary hands out a new URI
// and no agent can start a stale cached copy; an unchanged binary keeps its
// URI across scheduler restarts, so agents keep their cache.
//
// Paths outside that scheme:
//   GET /<name> (the pre-digest path, still in scripts and habits) redirects
//     with 307 to the current digest path: a human or `curl -L` gets today's
//     binary, and the redirect itself is never cached as the binary.
//   GET /artifacts/<other digest>/<name> is 404: that content is gone, and
//     serving different bytes under a digest would defeat the point of it.
// HEAD answers like GET without the body (Content-Length included), which is
// how a fetcher learns the size before it reserves cache space.
//
// Files are copied once at start-up into unlinked temporary files (in
// $TMPDIR, gone with the process even after a SIGKILL), so a binary replaced
// on disk while the scheduler runs does not change what agents get, a
// missing file is a start-up error rather than a failed launch later, and the
// ~45 MB are never held in the scheduler's memory: a GET streams its copy in
// chunks (chunked transfer encoding), a HEAD gives the length.
// Threading: runs on the io_context of the executor given.
#pragma once

#include "common/error.hpp"
#include "io/http.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace etcdmesos::scheduler {

// Hex digits of the SHA-256 used in artifact paths (64 bits: no two builds
// of one binary collide in practice).
inline constexpr std::size_t kArtifactDigestChars = 16;

// The first kArtifactDigestChars hex digits of SHA-256(content).
std::string artifact_digest(const std::string& content);

// The fetchers only GET: a request with a body gets 413. An agent fetches a
// few files at a time; the cap per address leaves room for the others.
inline constexpr std::size_t kArtifactMaxConnections = 1024;
inline constexpr std::size_t kArtifactMaxConnectionsPerAddress = 32;

class ArtifactServer {
 public:
  // An artifact's private copy: an open descriptor of an unlinked file.
  struct Copy;

  explicit ArtifactServer(boost::asio::any_io_executor ex);
  ~ArtifactServer();
  ArtifactServer(const ArtifactServer&) = delete;
  ArtifactServer& operator=(const ArtifactServer&) = delete;

  // Adds a copy of the file at `path` as artifact `name` (replacing one of
  // that name). Error when it cannot be read or copied.
  Result<void> add_file(const std::string& name, const std::string& path);
  // Adds `content` as artifact `name` (replacing one of that name).
  Result<void> add_content(const std::string& name, const std::string& content);
  Result<io::Endpoint> listen(const io::Endpoint& bind);
  // /artifacts/<digest>/<name>; "" for an unknown name.
  std::string path(const std::string& name) const;
  // http://host:port/artifacts/<digest>/<name>
  std::string url(const std::string& name) const;
  // GETs answered with an artifact's bytes since start (HEADs and redirects
  // are not downloads).
  uint64_t downloads() const { return downloads_; }
  void stop();

  // What to answer to one request (counts downloads): the response, and for
  // a GET of an artifact the copy whose bytes follow as its body (the
  // response then has headers only). Public so that tests can check the
  // paths without sockets.
  struct Answer {
    io::Response response;
    std::shared_ptr<const Copy> body;
  };
  Answer route(const io::Request& req);
  // All bytes of a copy (for tests; an error when it cannot be read).
  static Result<std::string> read_all(const Copy& copy);

 private:
  struct Artifact {
    std::string digest;
    std::shared_ptr<const Copy> copy;
  };

  boost::asio::awaitable<void> handle(io::HttpExchange& exchange);
  boost::asio::awaitable<void> stream(io::HttpExchange& exchange, Answer answer);
  // Copies everything `read` yields into a new unlinked file, hashing it.
  template <class Read>
  Result<void> add(const std::string& name, Read&& read);

  std::map<std::string, Artifact> artifacts_;  // by name
  uint64_t downloads_ = 0;
  io::HttpServer server_;
  io::Endpoint endpoint_;
};

}  // namespace etcdmesos::scheduler
