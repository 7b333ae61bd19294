// How fast the scheduler brings a cluster up and repairs it, end to end:
// real ZooKeeper, the dev cluster, the scheduler, executors and real etcd on
// loopback (the same stack as the integration tests, with their 1-second
// health checks). Each run measures, on a fresh stack of 4 agents:
//   bring-up  stack start -> 3 members running, healthy, and etcd listing 3
//   replace   SIGKILL of one etcd (no restart in place) -> 3 again, one new
//   reseed    SIGKILL of two etcd (--reseed-timeout 1) -> 3 again, healthy
// and then, on a fresh stack of 6 agents:
//   bring-up-5  stack start -> 5 members running, healthy, and etcd listing 5
// and prints every sample and the median of each. Run by scripts/bench.
//   recovery_bench [RUNS]      (default 3)
#include "support/member_checks.hpp"
#include "support/stack.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using namespace etcdmesos::testing;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

bool complete(LocalStack& stack, std::size_t size = 3) {
  return stack.healthy_with(size) && etcd_lists_exactly(stack.members(), names_of(stack.members()));
}

// Bring-up of `size` members on a fresh stack with one spare agent.
std::optional<double> bring_up(std::size_t size) {
  StackOptions options;
  options.agents = static_cast<int>(size) + 1;
  options.cluster_size = size;
  const auto start = Clock::now();
  LocalStack stack(options);
  if (!wait_until([&] { return complete(stack, size); }, 180s)) {
    std::fprintf(stderr, "bring-up of %zu did not complete:\n%s\n", size, stack.logs().c_str());
    return std::nullopt;
  }
  return seconds_since(start);
}

// One run; the samples it measured (a failed step ends the run).
std::map<std::string, double> run_once() {
  std::map<std::string, double> samples;
  StackOptions options;
  options.agents = 4;
  options.scheduler_args = {"-etcd-restart-attempts=0", "-reseed-timeout=1"};
  const auto start = Clock::now();
  LocalStack stack(options);
  if (!wait_until([&] { return complete(stack); }, 180s)) {
    std::fprintf(stderr, "bring-up did not complete:\n%s\n", stack.logs().c_str());
    return samples;
  }
  samples["bring-up"] = seconds_since(start);

  auto before = stack.members();
  auto killed = Clock::now();
  if (!signal_member(before[0], SIGKILL)) {
    return samples;
  }
  const auto old_names = names_of(before);
  auto replaced = [&] {
    if (!complete(stack)) {
      return false;
    }
    for (const auto& name : names_of(stack.members())) {
      if (!old_names.contains(name)) {
        return true;
      }
    }
    return false;
  };
  if (!wait_until(replaced, 180s)) {
    std::fprintf(stderr, "replacement did not complete:\n%s\n", stack.logs().c_str());
    return samples;
  }
  samples["replace"] = seconds_since(killed);

  before = stack.members();
  killed = Clock::now();
  if (!signal_member(before[0], SIGKILL) || !signal_member(before[1], SIGKILL)) {
    return samples;
  }
  auto reseeded = [&] { return stat(stack, "cluster_reseeds") == 1 && complete(stack); };
  if (!wait_until(reseeded, 300s)) {
    std::fprintf(stderr, "reseed did not complete:\n%s\n", stack.logs().c_str());
    return samples;
  }
  samples["reseed"] = seconds_since(killed);
  return samples;
}

std::map<std::string, double> run_once_all() {
  auto samples = run_once();
  if (auto five = bring_up(5)) {
    samples["bring-up-5"] = *five;
  }
  return samples;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const auto n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 3;
  if (argc > 1) {
    char* end = nullptr;
    const long parsed = std::strtol(argv[1], &end, 10);
    if (end == argv[1] || *end != '\0' || parsed < 1 || parsed > 50) {
      std::fprintf(stderr, "usage: recovery_bench [RUNS]   (RUNS: 1..50, default 3)\n");
      return 2;
    }
    runs = static_cast<int>(parsed);
  }
  const std::vector<std::string> steps{"bring-up", "replace", "reseed", "bring-up-5"};
  std::map<std::string, std::vector<double>> all;
  try {
    for (int i = 1; i <= runs; ++i) {
      const auto samples = run_once_all();
      std::printf("run %d:", i);
      for (const auto& step : steps) {
        if (auto it = samples.find(step); it != samples.end()) {
          all[step].push_back(it->second);
          std::printf("  %s %.1f s", step.c_str(), it->second);
        } else {
          std::printf("  %s failed", step.c_str());
        }
      }
      std::printf("\n");
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "recovery_bench: %s\n", e.what());
    return 1;
  }
  bool all_ok = true;
  for (const auto& step : steps) {
    const auto& values = all[step];
    if (values.empty()) {
      std::printf("median %-9s  no sample\n", step.c_str());
      all_ok = false;
      continue;
    }
    std::printf("median %-9s %6.1f s  (%zu of %d runs)\n", step.c_str(), median(values),
                values.size(), runs);
    all_ok = all_ok && values.size() == static_cast<std::size_t>(runs);
  }
  return all_ok ? 0 : 1;
}
