// The version of etcd-mesos: the project version of the top CMakeLists.txt
// and the git commit the programs were built from ("unknown" when built
// outside a git checkout). Defined in a source file the build generates and
// regenerates when HEAD moves (cmake/version_info.cmake), in the library
// etcdmesos_version: a new commit recompiles that one file and relinks what
// links it, nothing else.
#pragma once

#include <string>
#include <string_view>

namespace etcdmesos {

std::string_view project_version();  // "0.1.0"
std::string_view git_commit();       // "12d0196", or "unknown"
// "<program> 0.1.0 (git 12d0196)": what every program's --version prints and
// the scheduler's first log line names.
std::string version_line(std::string_view program);

}  // namespace etcdmesos
