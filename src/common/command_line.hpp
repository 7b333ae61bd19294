// The one command-line parser of the programs. Flags are taken in the
// original etcd-mesos spelling (a Go program: -cluster-size=5, -master h:p)
// as well as the GNU one (--cluster-size=5, --master h:p).
#pragma once

#include "common/error.hpp"

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>

namespace etcdmesos {

// Parses argv[1..argc) against `options`, then runs their notifiers (which
// store into the variables the options name). Error: the parser's message
// followed by " (see --help)", for an unknown flag, a missing or malformed
// value, or an ambiguous abbreviation.
Result<boost::program_options::variables_map> parse_command_line(
    int argc, const char* const* argv, const boost::program_options::options_description& options);

}  // namespace etcdmesos
