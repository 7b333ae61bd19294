// The web page of the admin interface (docs/administration.md, "The web
// page"): GET / (also /index.html) serves the page, GET /ui/page.js and
// /ui/page.css its script and style, all from the binary (web_files.hpp).
// The page itself polls GET /health and sends the operator's POSTs; it
// stores nothing.
//
// Every answer carries a Content-Security-Policy that lets the page load
// only its own script and style and talk only to this server (no inline
// script, nothing from the internet, no framing), X-Content-Type-Options
// nosniff, and Cache-Control no-cache (a new binary's page is seen at once).
#pragma once

#include "io/http.hpp"

#include <optional>
#include <string_view>

namespace etcdmesos::scheduler {

inline constexpr std::string_view kWebPageCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// The answer for a path of the page (200, or 405 with Allow: GET for
// another method), or nullopt when `req` is for another path.
std::optional<io::Response> web_page_response(const io::Request& req);

}  // namespace etcdmesos::scheduler
