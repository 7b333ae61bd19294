#include "scheduler/web_page.hpp"

#include "scheduler/web_files.hpp"

#include <array>
#include <string>

namespace etcdmesos::scheduler {

namespace http = io::http;

namespace {

struct PagePath {
  std::string_view target;
  std::string_view file;  // in src/scheduler/web/
  std::string_view content_type;
};

constexpr std::array<PagePath, 4> kPagePaths{{
    {"/", "index.html", "text/html; charset=utf-8"},
    {"/index.html", "index.html", "text/html; charset=utf-8"},
    {"/ui/page.js", "page.js", "text/javascript; charset=utf-8"},
    {"/ui/page.css", "page.css", "text/css; charset=utf-8"},
}};

void set_page_headers(io::Response& res) {
  res.set("Content-Security-Policy", kWebPageCsp);
  res.set("X-Content-Type-Options", "nosniff");
  res.set(http::field::x_frame_options, "DENY");
  res.set("Referrer-Policy", "no-referrer");
  res.set(http::field::cache_control, "no-cache");
}

}  // namespace

std::optional<io::Response> web_page_response(const io::Request& req) {
  std::string_view target = req.target();
  target = target.substr(0, target.find('?'));
  for (const auto& path : kPagePaths) {
    if (target != path.target) {
      continue;
    }
    if (req.method() != http::verb::get) {
      auto res = io::make_response(req, http::status::method_not_allowed,
                                   std::string(target) +
                                       " is the web page and only answers GET; the page's "
                                       "buttons POST to /backup, /reseed and /cluster-size\n",
                                   "text/plain");
      res.set(http::field::allow, "GET");
      set_page_headers(res);
      return res;
    }
    const auto body = embedded_web_file(path.file);
    if (!body) {
      // Only a build without the page's files gets here.
      return io::make_response(req, http::status::not_found, "the web page is not built in\n",
                               "text/plain");
    }
    auto res = io::make_response(req, http::status::ok, std::string(*body),
                                 std::string(path.content_type));
    set_page_headers(res);
    return res;
  }
  return std::nullopt;
}

}  // namespace etcdmesos::scheduler
