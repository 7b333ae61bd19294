// Fetches CommandInfo URIs into a sandbox, like Mesos' fetcher without its
// cache: http:// over HTTP/1.1, file:// and absolute paths by copy. Archives
// are not extracted (our artifacts are plain executables).
#pragma once

#include "codec/mesos.hpp"
#include "common/error.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>

namespace etcdmesos::devcluster {

// The file name a URI is stored under: output_file, else the last path
// segment. Error for names that would leave the sandbox.
Result<std::string> fetch_file_name(const mesos::Uri& uri);

// Stores the URI's content at sandbox/<fetch_file_name>, mode 0755 when
// `executable`, else 0644. Returns the path written.
boost::asio::awaitable<Result<std::filesystem::path>> fetch_uri(
    boost::asio::any_io_executor ex, const mesos::Uri& uri, const std::filesystem::path& sandbox,
    std::size_t max_bytes, std::chrono::milliseconds timeout);

}  // namespace etcdmesos::devcluster
