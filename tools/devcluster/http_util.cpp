#include "http_util.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cctype>

namespace etcdmesos::devcluster {

io::Response text_response(const io::Request& req, io::http::status status, std::string body) {
  return io::make_response(req, status, std::move(body), "text/plain; charset=utf-8");
}

io::Response accepted_response(const io::Request& req) {
  io::Response res{io::http::status::accepted, req.version()};
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  return res;
}

io::Response method_not_allowed(const io::Request& req) {
  auto res = text_response(
      req, io::http::status::method_not_allowed,
      "Expecting one of { 'POST' }, but received '" + std::string(req.method_string()) + "'");
  res.set(io::http::field::allow, "POST");
  return res;
}

io::Response json_response(const io::Request& req, const boost::json::value& body) {
  return io::make_response(req, io::http::status::ok, boost::json::serialize(body),
                           "application/json");
}

std::optional<io::Response> check_content_type(const io::Request& req) {
  auto it = req.find(io::http::field::content_type);
  if (it == req.end()) {
    return text_response(req, io::http::status::bad_request,
                         "Expecting 'Content-Type' to be present");
  }
  // Mesos compares the whole header literally; parameters or other casing
  // are refused. Protobuf is valid for Mesos but not spoken here.
  if (it->value() != "application/json") {
    return text_response(req, io::http::status::unsupported_media_type,
                         "Expecting 'Content-Type' of application/json or application/x-protobuf");
  }
  return std::nullopt;
}

bool accepts_json(const io::Request& req) {
  auto it = req.find(io::http::field::accept);
  if (it == req.end()) {
    return true;
  }
  std::string_view value = it->value();
  while (!value.empty()) {
    auto comma = value.find(',');
    auto item = value.substr(0, comma);
    item = item.substr(0, item.find(';'));
    auto first = item.find_first_not_of(" \t");
    auto last = item.find_last_not_of(" \t");
    if (first != std::string_view::npos) {
      std::string media(item.substr(first, last - first + 1));
      std::transform(media.begin(), media.end(), media.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      if (media == "application/json" || media == "*/*" || media == "application/*") {
        return true;
      }
    }
    if (comma == std::string_view::npos) {
      break;
    }
    value.remove_prefix(comma + 1);
  }
  return false;
}

std::string_view request_path(const io::Request& req) {
  std::string_view target = req.target();
  return target.substr(0, target.find('?'));
}

ParsedBody parse_json_body(const io::Request& req) {
  ParsedBody out;
  boost::system::error_code ec;
  out.json = boost::json::parse(req.body(), ec);
  if (ec) {
    out.error = text_response(req, io::http::status::bad_request,
                              "Failed to parse body into JSON: " + ec.message());
  } else if (!out.json.is_object()) {
    out.error = text_response(req, io::http::status::bad_request,
                              "Failed to convert JSON into Call protobuf: Expecting a JSON object");
  }
  return out;
}

std::string call_type(const boost::json::value& body) {
  const auto* obj = body.if_object();
  if (obj == nullptr) {
    return {};
  }
  auto it = obj->find("type");
  if (it == obj->end() || !it->value().is_string()) {
    return {};
  }
  return std::string(it->value().as_string());
}

}  // namespace etcdmesos::devcluster
