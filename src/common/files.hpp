// Files written whole: what a reader (etcd reading its certificate on each
// new connection, a proxy restarting on its saved endpoints, a test reading
// the dev cluster's endpoint file) must never see half of.
#pragma once

#include "common/error.hpp"

#include <sys/types.h>

#include <filesystem>
#include <string>

namespace etcdmesos {

// Writes `text` to `path` through a temporary file beside it (`path`.tmp,
// created with `mode` less the umask, flushed to disk), renamed over `path`.
// A file created with mode 0600 is never readable by others, not even for
// a moment. On failure `path` is untouched and the temporary file removed;
// the error names the file and why.
Result<void> write_file_atomically(const std::filesystem::path& path, const std::string& text,
                                   mode_t mode = 0666);

}  // namespace etcdmesos
