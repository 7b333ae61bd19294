// sim_throughput: how many simulator seeds per second one core runs (issue 6
// asks for at least 200 for a 3-member cluster in a release build). Runs the
// same seed range several times and prints each run and the median; with
// --min it exits 1 when the median is below that many seeds per second.
// scripts/bench builds it in build/release and pins it to one core.
//   sim_throughput [--seeds 500] [--runs 5] [--cluster-size 3] [--min 200]
#include "world.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Flags {
  uint64_t seeds = 500;
  int runs = 5;
  std::size_t cluster_size = 3;
  double min = 0;
};

bool parse(int argc, char** argv, Flags& flags) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string name = argv[i];
    char* end = nullptr;
    const double value = std::strtod(argv[i + 1], &end);
    if (end == argv[i + 1] || *end != '\0' || value < 0) {
      return false;
    }
    if (name == "--seeds" && value >= 1) {
      flags.seeds = static_cast<uint64_t>(value);
    } else if (name == "--runs" && value >= 1) {
      flags.runs = static_cast<int>(value);
    } else if (name == "--cluster-size" && value >= 1) {
      flags.cluster_size = static_cast<std::size_t>(value);
    } else if (name == "--min") {
      flags.min = value;
    } else {
      return false;
    }
  }
  return argc % 2 == 1;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (!parse(argc, argv, flags)) {
    std::fprintf(stderr,
                 "usage: sim_throughput [--seeds N] [--runs N] [--cluster-size N] [--min R]\n");
    return 2;
  }
  std::vector<double> rates;
  uint64_t failed = 0;
  for (int run = 1; run <= flags.runs; ++run) {
    uint64_t steps = 0;
    const auto began = std::chrono::steady_clock::now();
    for (uint64_t seed = 1; seed <= flags.seeds; ++seed) {
      etcdmesos::sim::SimOptions options;
      options.seed = seed;
      options.cluster_size = flags.cluster_size;
      const auto outcome = etcdmesos::sim::run_simulation(options);
      steps += outcome.steps;
      failed += outcome.ok ? 0 : 1;
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    rates.push_back(static_cast<double>(flags.seeds) / seconds);
    std::printf("run %d: %llu seeds in %.2f s: %.0f seeds/s, %.0f core steps/s\n", run,
                static_cast<unsigned long long>(flags.seeds), seconds, rates.back(),
                static_cast<double>(steps) / seconds);
  }
  std::sort(rates.begin(), rates.end());
  const double median = rates[rates.size() / 2];
  std::printf("sim_throughput: median %.0f seeds/s (%zu-member cluster, %d runs of %llu seeds)\n",
              median, flags.cluster_size, flags.runs, static_cast<unsigned long long>(flags.seeds));
  if (failed > 0) {
    std::printf("sim_throughput: %llu seed runs failed (see sim)\n",
                static_cast<unsigned long long>(failed));
    return 1;
  }
  if (median < flags.min) {
    std::printf("sim_throughput: below the target of %.0f seeds/s\n", flags.min);
    return 1;
  }
  return 0;
}
