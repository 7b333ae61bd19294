// Request checks and responses shared by the master's scheduler API and the
// agents' executor API, worded like Mesos' answers (reference §3, §15).
#pragma once

#include "io/http.hpp"

#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace etcdmesos::devcluster {

// Error answer with a text/plain body, as Mesos sends them.
io::Response text_response(const io::Request& req, io::http::status status, std::string body);
// 202 Accepted, empty body.
io::Response accepted_response(const io::Request& req);
// 405 with Allow: POST.
io::Response method_not_allowed(const io::Request& req);
io::Response json_response(const io::Request& req, const boost::json::value& body);

// The 400/415 answer for a missing or unsupported Content-Type (exact string
// compare against application/json), or nullopt when it is acceptable.
std::optional<io::Response> check_content_type(const io::Request& req);
// Whether the Accept header allows application/json (absent = yes).
bool accepts_json(const io::Request& req);

// Request target without the query string.
std::string_view request_path(const io::Request& req);

// Parses the body as a JSON object: on failure the 400 answer Mesos gives.
struct ParsedBody {
  boost::json::value json;
  std::optional<io::Response> error;
};
ParsedBody parse_json_body(const io::Request& req);

// Value of a string member `type`; empty when absent or not a string.
std::string call_type(const boost::json::value& body);

}  // namespace etcdmesos::devcluster
