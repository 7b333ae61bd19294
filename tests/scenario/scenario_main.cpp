// scenario: runs scenario scripts and compares them with their golden output.
//   scenario tests/scenario/bring_up.txt ...        compare; exit 1 on a difference
//   scenario --rewrite tests/scenario/*.txt         write the actual output back
#include "script.hpp"

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    out.push_back(line);
  }
  return out;
}

// The first differing line with a little context: enough to see what
// changed; --rewrite and `git diff` show the rest.
void show_difference(const std::string& path, const std::string& expected,
                     const std::string& actual) {
  const auto want = lines_of(expected);
  const auto got = lines_of(actual);
  std::size_t i = 0;
  while (i < want.size() && i < got.size() && want[i] == got[i]) {
    ++i;
  }
  std::cout << path << ":" << i + 1 << ": output differs from the golden file\n";
  const std::size_t from = i >= 3 ? i - 3 : 0;
  for (std::size_t k = from; k < i; ++k) {
    std::cout << "    " << want[k] << "\n";
  }
  for (std::size_t k = i; k < want.size() && k < i + 6; ++k) {
    std::cout << "  - " << want[k] << "\n";
  }
  for (std::size_t k = i; k < got.size() && k < i + 6; ++k) {
    std::cout << "  + " << got[k] << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool rewrite = false;
  std::vector<std::string> paths;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--rewrite") {
      rewrite = true;
    } else if (arg == "--help" || arg == "-h") {
      std::cout << "usage: scenario [--rewrite] FILE...\n";
      return 0;
    } else {
      paths.push_back(arg);
    }
  }
  if (paths.empty()) {
    std::cerr << "usage: scenario [--rewrite] FILE...\n";
    return 2;
  }
  int passed = 0;
  int failed = 0;
  for (const auto& path : paths) {
    std::ifstream in(path);
    if (!in) {
      std::cerr << path << ": cannot read\n";
      ++failed;
      continue;
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string expected = buffer.str();
    const auto result = etcdmesos::scenario::run_script(expected);
    if (!result.error.empty()) {
      std::cout << path << ": " << result.error << "\n";
      ++failed;
      continue;
    }
    if (result.actual == expected) {
      ++passed;
      continue;
    }
    if (rewrite) {
      std::ofstream(path) << result.actual;
      std::cout << path << ": rewritten\n";
      ++passed;
      continue;
    }
    show_difference(path, expected, result.actual);
    ++failed;
  }
  std::cout << passed << " passed, " << failed << " failed\n";
  return failed == 0 ? 0 : 1;
}
