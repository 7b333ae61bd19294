// The web page's files (src/scheduler/web/), built into the binary: CMake
// turns each into bytes of a generated source (cmake/embed_files.cmake), so
// the page needs nothing from the internet and the binary nothing on disk.
#pragma once

#include <optional>
#include <string_view>

namespace etcdmesos::scheduler {

// The content of web/<name> ("index.html", "page.js", "page.css"), or
// nullopt for a name that is not there.
std::optional<std::string_view> embedded_web_file(std::string_view name);

}  // namespace etcdmesos::scheduler
