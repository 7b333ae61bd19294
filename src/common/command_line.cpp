#include "common/command_line.hpp"

#include <boost/program_options/parsers.hpp>

#include <string>

namespace etcdmesos {
namespace po = boost::program_options;

Result<po::variables_map> parse_command_line(int argc, const char* const* argv,
                                             const po::options_description& options) {
  // allow_long_disguise: "-etcd-bin=X" is the long option --etcd-bin, as Go's
  // flag package spells it; a single dash before an unknown name is still an
  // error ("unrecognised option '-x'").
  const auto style =
      po::command_line_style::default_style | po::command_line_style::allow_long_disguise;
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(options).style(style).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return make_error(std::string(e.what()) + " (see --help)");
  }
  return vm;
}

}  // namespace etcdmesos
