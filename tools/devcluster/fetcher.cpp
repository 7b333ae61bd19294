#include "fetcher.hpp"

#include "io/http.hpp"

#include <boost/url/parse.hpp>

#include <fstream>

namespace etcdmesos::devcluster {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

bool starts_with(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

Result<void> write_file(const fs::path& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) {
    return make_error("Failed to write '" + path.string() + "'");
  }
  return {};
}

asio::awaitable<Result<void>> fetch_http(asio::any_io_executor ex, const std::string& uri,
                                         const fs::path& target, std::size_t max_bytes,
                                         std::chrono::milliseconds timeout) {
  auto parsed = boost::urls::parse_uri(uri);
  if (!parsed) {
    co_return make_error("Failed to parse URI '" + uri + "'");
  }
  io::Endpoint endpoint;
  endpoint.host = std::string(parsed->encoded_host());
  endpoint.port = parsed->has_port() ? parsed->port_number() : 80;
  if (endpoint.host.empty() || endpoint.port == 0) {
    co_return make_error("URI '" + uri + "' has no usable host and port");
  }
  std::string path(parsed->encoded_path());
  if (path.empty()) {
    path = "/";
  }
  if (parsed->has_query()) {
    path += "?" + std::string(parsed->encoded_query());
  }
  auto request = io::make_request(io::http::verb::get, path, endpoint);
  auto response = co_await io::http_request(ex, endpoint, std::move(request), timeout, max_bytes);
  if (!response) {
    co_return make_error("Failed to fetch '" + uri + "': " + response.error().message);
  }
  if (response->result() != io::http::status::ok) {
    co_return make_error("Failed to fetch '" + uri + "': HTTP " +
                         std::to_string(response->result_int()));
  }
  co_return write_file(target, response->body());
}

// As the Mesos fetcher takes a local file: "file://localhost/p" and
// "file:///p" name /p, and a plain absolute path is itself; nothing is
// percent-decoded (Mesos does not either).
std::string local_path(const std::string& uri) {
  for (std::string_view prefix : {"file://localhost", "file://"}) {
    if (starts_with(uri, prefix)) {
      return uri.substr(prefix.size());
    }
  }
  return uri;
}

Result<void> copy_local(const std::string& uri, const fs::path& target) {
  const std::string source = local_path(uri);
  std::error_code ec;
  fs::copy_file(source, target, fs::copy_options::overwrite_existing, ec);
  if (ec) {
    return make_error("Failed to copy '" + source + "': " + ec.message());
  }
  return {};
}

}  // namespace

Result<std::string> fetch_file_name(const mesos::Uri& uri) {
  std::string name;
  if (uri.output_file) {
    name = *uri.output_file;
  } else {
    std::string path = uri.value;
    if (auto parsed = boost::urls::parse_uri(uri.value)) {
      path = std::string(parsed->path());
    }
    while (!path.empty() && path.back() == '/') {
      path.pop_back();
    }
    name = path.substr(path.find_last_of('/') + 1);
  }
  fs::path relative(name);
  bool escapes = name.empty() || relative.is_absolute();
  for (const auto& part : relative) {
    escapes = escapes || part == "..";
  }
  if (escapes) {
    return make_error("Cannot store URI '" + uri.value + "' in the sandbox as '" + name + "'");
  }
  // Error is constructible from a string too: say which alternative is meant.
  return Result<std::string>(boost::system::in_place_value, std::move(name));
}

asio::awaitable<Result<fs::path>> fetch_uri(asio::any_io_executor ex, const mesos::Uri& uri,
                                            const fs::path& sandbox, std::size_t max_bytes,
                                            std::chrono::milliseconds timeout) {
  auto name = fetch_file_name(uri);
  if (!name) {
    co_return name.error();
  }
  fs::path target = sandbox / *name;
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  Result<void> stored = make_error("unreachable");
  if (starts_with(uri.value, "http://")) {
    stored = co_await fetch_http(ex, uri.value, target, max_bytes, timeout);
  } else if (starts_with(uri.value, "file://") || starts_with(uri.value, "/")) {
    stored = copy_local(uri.value, target);
  } else {
    stored = make_error("Unsupported URI '" + uri.value +
                        "' (mesos-devcluster fetches http://, file:// and absolute paths)");
  }
  if (!stored) {
    co_return stored.error();
  }
  auto perms = uri.executable ? fs::perms(0755) : fs::perms(0644);
  fs::permissions(target, perms, fs::perm_options::replace, ec);
  if (ec) {
    co_return make_error("Failed to set the mode of '" + target.string() + "': " + ec.message());
  }
  co_return Result<fs::path>(boost::system::in_place_value, std::move(target));
}

}  // namespace etcdmesos::devcluster
