#include "scheduler/restore_uri.hpp"

#include <boost/url/parse.hpp>

#include <algorithm>

namespace etcdmesos::scheduler {

namespace {

std::string quoted(std::string_view uri) {
  return "'" + std::string(uri.substr(0, 128)) + (uri.size() > 128 ? "...'" : "'");
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

std::optional<std::string> restore_uri_error(std::string_view uri) {
  if (uri.empty()) {
    return std::string("the snapshot URI is empty");
  }
  if (uri.size() > kMaxRestoreUriLength) {
    return "the snapshot URI is longer than " + std::to_string(kMaxRestoreUriLength) +
           " characters";
  }
  if (std::any_of(uri.begin(), uri.end(),
                  [](unsigned char c) { return c < 0x20 || c == 0x7f || c == ' '; })) {
    return "the snapshot URI " + quoted(uri) + " holds spaces or control characters";
  }
  if (uri.front() == '/') {
    if (uri.back() == '/') {
      return "the snapshot path " + quoted(uri) + " names a directory, not a file";
    }
    return std::nullopt;  // a path on the agent, fetched as the fetcher copies files
  }
  auto parsed = boost::urls::parse_uri(uri);
  if (!parsed) {
    return "the snapshot URI " + quoted(uri) +
           " is neither an absolute path nor a URI (file:///path, http://host/path, "
           "https://host/path)";
  }
  const std::string scheme = lower(parsed->scheme());
  const std::string path(parsed->path());
  if (scheme == "file") {
    if (parsed->has_authority() && !parsed->host().empty() &&
        lower(parsed->host()) != "localhost") {
      return "the file URI " + quoted(uri) +
             " names a host; a file:// snapshot is read on the agent: file:///path";
    }
    if (path.empty() || path.front() != '/' || path.back() == '/') {
      return "the file URI " + quoted(uri) + " does not name an absolute file path";
    }
    return std::nullopt;
  }
  if (scheme == "http" || scheme == "https") {
    if (!parsed->has_authority() || parsed->host().empty()) {
      return "the URL " + quoted(uri) + " has no host";
    }
    return std::nullopt;
  }
  return "the snapshot URI " + quoted(uri) + " has the scheme '" + scheme.substr(0, 32) +
         "'; a restore fetches file://, http:// or https:// URIs or absolute paths";
}

}  // namespace etcdmesos::scheduler
