// sim: runs the seeded simulation of the scheduler core.
//   sim --seeds 2000            seeds 1..2000, a summary line, failures listed
//   sim --seed 17 --trace       one seed with its full trace (replay a failure)
// Exit status 0 when every seed passed, 1 otherwise, 2 on bad flags.
#include "world.hpp"

#include <boost/program_options.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>

namespace po = boost::program_options;
using etcdmesos::sim::Outcome;
using etcdmesos::sim::SimOptions;

namespace {

struct Flags {
  SimOptions sim;
  uint64_t first = 1;
  uint64_t seeds = 100;
  bool single = false;
  bool quiet = false;
  bool determinism = false;
};

bool parse(int argc, char** argv, Flags& flags) {
  po::options_description desc("sim: deterministic simulation of the etcd-mesos scheduler core");
  uint64_t fault_seconds = 120;
  uint64_t liveness_seconds = 600;
  desc.add_options()("help,h", "this text")(
      "seed", po::value<uint64_t>(), "run this one seed (prints what happened; see --trace)")(
      "seeds", po::value<uint64_t>(&flags.seeds)->default_value(100), "how many seeds to run")(
      "first", po::value<uint64_t>(&flags.first)->default_value(1), "first seed of --seeds")(
      "trace", po::bool_switch(&flags.sim.trace), "print every event, effect and fault")(
      "cluster-size", po::value<std::size_t>(&flags.sim.cluster_size)->default_value(3),
      "desired etcd cluster size")("agents",
                                   po::value<std::size_t>(&flags.sim.agents)->default_value(0),
                                   "Mesos agents (0: cluster size + 2)")(
      "fault-seconds", po::value<uint64_t>(&fault_seconds)->default_value(120),
      "simulated length of the fault phase")(
      "liveness-seconds", po::value<uint64_t>(&liveness_seconds)->default_value(600),
      "bound on convergence once the faults end")(
      "no-faults", "no faults at all (a plain bring-up)")("quiet,q", po::bool_switch(&flags.quiet),
                                                          "print only failures and the summary")(
      "determinism", po::bool_switch(&flags.determinism),
      "run every seed twice and fail when the two traces differ")(
      "pending", po::bool_switch(&flags.sim.pending_invariants),
      "also check the invariants the core does not keep yet (docs/testing.md)")(
      "persist", po::bool_switch(&flags.sim.persist),
      "run the core with -zk-framework-persist against a simulated ZooKeeper store (slow and "
      "failing writes, outages) and restart the scheduler process now and then");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "sim: " << e.what() << "\n" << desc;
    return false;
  }
  if (vm.count("help")) {
    std::cout << desc;
    std::exit(0);
  }
  if (vm.count("seed")) {
    flags.single = true;
    flags.first = vm["seed"].as<uint64_t>();
    flags.seeds = 1;
  }
  flags.sim.faults = vm.count("no-faults") == 0;
  flags.sim.fault_phase = std::chrono::seconds(fault_seconds);
  flags.sim.liveness_bound = std::chrono::seconds(liveness_seconds);
  return true;
}

std::string replay_command(const Flags& flags, uint64_t seed) {
  std::string cmd = "sim --seed " + std::to_string(seed);
  if (flags.sim.cluster_size != 3) {
    cmd += " --cluster-size " + std::to_string(flags.sim.cluster_size);
  }
  if (flags.sim.agents != 0) {
    cmd += " --agents " + std::to_string(flags.sim.agents);
  }
  const SimOptions defaults;
  if (flags.sim.fault_phase != defaults.fault_phase) {
    cmd += " --fault-seconds " + std::to_string(flags.sim.fault_phase.count() / 1000);
  }
  if (flags.sim.liveness_bound != defaults.liveness_bound) {
    cmd += " --liveness-seconds " + std::to_string(flags.sim.liveness_bound.count() / 1000);
  }
  if (!flags.sim.faults) {
    cmd += " --no-faults";
  }
  if (flags.sim.pending_invariants) {
    cmd += " --pending";
  }
  if (flags.sim.persist) {
    cmd += " --persist";
  }
  return cmd + " --trace";
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (!parse(argc, argv, flags)) {
    return 2;
  }
  uint64_t passed = 0;
  uint64_t failed = 0;
  uint64_t unlocks = 0;
  uint64_t restores = 0;
  uint64_t restarts = 0;
  uint64_t removed = 0;
  const auto began = std::chrono::steady_clock::now();
  for (uint64_t seed = flags.first; seed < flags.first + flags.seeds; ++seed) {
    SimOptions options = flags.sim;
    options.seed = seed;
    if (flags.determinism) {
      options.trace = true;
    }
    Outcome outcome = etcdmesos::sim::run_simulation(options);
    if (flags.determinism) {
      const Outcome again = etcdmesos::sim::run_simulation(options);
      if (again.trace != outcome.trace && outcome.ok) {
        outcome.ok = false;
        outcome.failure = "the same seed gave two different runs (nondeterminism)";
      }
      outcome.trace.clear();
    }
    for (const auto& line : outcome.trace) {
      std::cout << line << "\n";
    }
    unlocks += outcome.unlocks;
    restores += outcome.restores;
    restarts += outcome.restarts;
    removed += outcome.frameworks_removed;
    if (outcome.ok) {
      ++passed;
      if (flags.single) {
        std::printf("seed %llu ok: converged %.1fs after the faults (%llu faults, %llu steps)\n",
                    static_cast<unsigned long long>(seed),
                    static_cast<double>(outcome.converged_after.count()) / 1000.0,
                    static_cast<unsigned long long>(outcome.faults),
                    static_cast<unsigned long long>(outcome.steps));
      }
      continue;
    }
    ++failed;
    std::printf("seed %llu FAILED %s\n  replay: %s\n", static_cast<unsigned long long>(seed),
                outcome.failure.c_str(), replay_command(flags, seed).c_str());
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  if (!flags.quiet || failed > 0) {
    std::printf(
        "sim: seeds %llu..%llu, %.0f seeds/s, %llu operator unlocks after total loss (%llu of "
        "them restores from a snapshot)",
        static_cast<unsigned long long>(flags.first),
        static_cast<unsigned long long>(flags.first + flags.seeds - 1),
        seconds > 0 ? static_cast<double>(flags.seeds) / seconds : 0.0,
        static_cast<unsigned long long>(unlocks), static_cast<unsigned long long>(restores));
    if (flags.sim.persist) {
      std::printf(", %llu scheduler restarts, %llu frameworks removed by Mesos",
                  static_cast<unsigned long long>(restarts),
                  static_cast<unsigned long long>(removed));
    }
    std::printf("\n");
  }
  std::printf("%llu passed, %llu failed\n", static_cast<unsigned long long>(passed),
              static_cast<unsigned long long>(failed));
  return failed == 0 ? 0 : 1;
}
