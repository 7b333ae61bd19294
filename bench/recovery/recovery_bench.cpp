// How fast the scheduler brings a cluster up and repairs it, end to end:
// real ZooKeeper, the dev cluster, the scheduler, executors and real etcd on
// loopback (the stack of the integration tests, with their 1-second health
// checks, `-etcd-restart-attempts=0` and `-reseed-timeout=1`). Each run:
//   bringup-3/5/7     scheduler start -> N members running, healthy, etcd lists N
//                     (N + 1 agents)
//   replace-spare     on a settled cluster (complete for 6 s, so that etcd's
//                     5-second rule is not what is measured): SIGKILL of one
//                     etcd of 3 (4 agents) -> 3 healthy again, one new
//   replace-no-spare  the same with 3 agents: the replacement reuses the agent
//   replace-spare-from-status, replace-no-spare-from-status
//                     the same replacements, counted from the moment the
//                     scheduler received the victim's failed status (its log
//                     line "effect: acknowledge <task>", written in the step
//                     that handles the update)
//   reseed-seed       SIGKILL of two etcd of 3 -> the reseed is over and the seed
//                     is healthy (/stats reseeding 0, healthy 1)
//   reseed-full       the same SIGKILL -> 3 healthy members, etcd lists 3
//   reseed-seed-from-decision, reseed-full-from-decision
//                     the same, counted from the reseed decision (the
//                     scheduler's log line "effect: query member status",
//                     the first effect of a reseed)
//   health-3/5/7      one health round of the scheduler's checker (status,
//                     probe write, status, member list) against a real etcd
//                     cluster of N, without the core's check interval
//   rss-5             the scheduler's resident memory (VmRSS) with 5 healthy members
//   idle-cpu-5        the scheduler's CPU over 10 s with 5 healthy members, idle
//   artifact-rss-100  the scheduler's peak resident memory while 100 clients
//                     (from 127.0.0.2-5) fetch the etcd binary at ~640 KB/s
//                     each for 10 s (issue 13; target 64 MiB)
// The "from" measures compare the scheduler's log timestamps (wall clock, ms)
// with the wall clock at completion; a run whose log lacks the line gives no
// sample (said on stderr).
// It prints every sample, then a table (median, min, max), and with --json
// writes {"machine","commit","runs","results":{name:{unit,median,min,max,
// samples}}} there (scripts/bench merges the micro-benchmarks in).
// --micro FILE folds in Google Benchmark's JSON output of bench/micro.
// --logs DIR keeps each stack's scheduler log there (run<N>-<stack>.log).
//   recovery_bench [--runs N] [--only name,name,...] [--json FILE] [--micro FILE]
//                  [--commit ID] [--logs DIR]
#include "scheduler/etcd_health.hpp"
#include "slow_fetch.hpp"
#include "support/etcd_server.hpp"
#include "support/member_checks.hpp"
#include "support/stack.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using namespace etcdmesos::testing;
using Clock = std::chrono::steady_clock;
// The scheduler's log is stamped with the wall clock (local time, ms).
using Wall = std::chrono::system_clock;
namespace json = boost::json;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double seconds_between(Wall::time_point from, Wall::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// The time stamp that starts a log line ("2026-12-03T22:40:05.730 I [..."),
// nullopt for a line without one (a continuation).
std::optional<Wall::time_point> line_time(const std::string& line) {
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(line.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  tm.tm_isdst = -1;  // spdlog writes local time
  const std::time_t t = std::mktime(&tm);
  if (t == static_cast<std::time_t>(-1)) {
    return std::nullopt;
  }
  return Wall::from_time_t(t) + std::chrono::milliseconds(ms);
}

// When the scheduler logged the first line containing `marker` at or after
// `after` (the log has whole milliseconds); nullopt, said on stderr, when no
// such line exists.
std::optional<Wall::time_point> logged_at(LocalStack& stack, const std::string& marker,
                                          Wall::time_point after, const char* measure) {
  const auto from = std::chrono::floor<std::chrono::milliseconds>(after);
  std::istringstream log(stack.scheduler_log());
  for (std::string line; std::getline(log, line);) {
    if (line.find(marker) == std::string::npos) {
      continue;
    }
    if (auto t = line_time(line); t && *t >= from) {
      return t;
    }
  }
  std::fprintf(stderr, "%s: no scheduler log line \"%s\" after the SIGKILL; no sample\n", measure,
               marker.c_str());
  return std::nullopt;
}

struct Measure {
  const char* name;
  const char* unit;
  const char* what;
};

const std::vector<Measure> kMeasures = {
    {"bringup-3", "s", "scheduler start -> 3 healthy, listed by etcd"},
    {"bringup-5", "s", "scheduler start -> 5 healthy, listed by etcd"},
    {"bringup-7", "s", "scheduler start -> 7 healthy, listed by etcd"},
    {"replace-spare", "s", "settled, SIGKILL of 1 of 3 -> 3 healthy (spare agent)"},
    {"replace-spare-from-status", "s",
     "settled, failed status at the scheduler -> 3 healthy (spare agent)"},
    {"replace-no-spare", "s", "settled, SIGKILL of 1 of 3 -> 3 healthy (agent reused)"},
    {"replace-no-spare-from-status", "s",
     "settled, failed status at the scheduler -> 3 healthy (agent reused)"},
    {"reseed-seed", "s", "SIGKILL of 2 of 3 -> reseed over, seed healthy"},
    {"reseed-seed-from-decision", "s", "reseed decision -> reseed over, seed healthy"},
    {"reseed-full", "s", "SIGKILL of 2 of 3 -> 3 healthy again"},
    {"reseed-full-from-decision", "s", "reseed decision -> 3 healthy again"},
    {"health-3", "ms", "one health round, 3 members"},
    {"health-5", "ms", "one health round, 5 members"},
    {"health-7", "ms", "one health round, 7 members"},
    {"rss-5", "MiB", "scheduler VmRSS, 5 healthy members"},
    {"idle-cpu-5", "%", "scheduler CPU (of one core) over 10 s, 5 healthy, idle"},
    {"artifact-rss-100", "MiB", "scheduler peak VmRSS, 100 slow fetches of etcd for 10 s"},
};

using Samples = std::map<std::string, std::vector<double>>;

bool complete(LocalStack& stack, std::size_t size) {
  if (!stack.healthy_with(size)) {
    return false;
  }
  auto members = stack.members();
  return etcd_lists_exactly(members, names_of(members));
}

StackOptions stack_options(int agents, std::size_t size) {
  StackOptions o;
  o.agents = agents;
  o.cluster_size = size;
  o.scheduler_args = {"-etcd-restart-attempts=0", "-reseed-timeout=1"};
  o.start_scheduler = false;
  return o;
}

// A stack of `agents` agents; times the scheduler's start -> `size` complete.
// nullopt when it did not come up.
std::optional<double> bring_up(LocalStack& stack, std::size_t size) {
  auto start = Clock::now();
  // The admin port is picked free and bound by the scheduler a moment later;
  // on a machine running other tests someone may take it in between.
  for (int attempt = 1;; ++attempt) {
    try {
      start = Clock::now();
      stack.start_scheduler();
      break;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "scheduler start, attempt %d: %s\n", attempt, e.what());
      stack.stop_scheduler();
      if (attempt == 3) {
        return std::nullopt;
      }
    }
  }
  if (!wait_until([&] { return complete(stack, size); }, 180s)) {
    std::fprintf(stderr, "bring-up of %zu did not complete:\n%s\n", size, stack.logs().c_str());
    return std::nullopt;
  }
  return seconds_since(start);
}

// Waits until the cluster has been complete without a break for `span`:
// etcd refuses a `member add` until the survivors have been connected for 5
// s, which on an operator's settled cluster they have long been.
bool settled(LocalStack& stack, std::size_t size, Clock::duration span) {
  std::optional<Clock::time_point> since;
  return wait_until(
      [&] {
        if (!complete(stack, size)) {
          since.reset();
          return false;
        }
        if (!since) {
          since = Clock::now();
        }
        return Clock::now() - *since >= span;
      },
      120s);
}

// Kills one member of a settled cluster of 3 and times its replacement into
// out[name] (from the SIGKILL) and out[name + "-from-status"] (from the
// scheduler's receipt of the failed status).
void replace_one(LocalStack& stack, const std::string& name, Samples& out) {
  if (!settled(stack, 3, 6s)) {
    std::fprintf(stderr, "%s: the cluster did not stay complete for 6 s:\n%s\n", name.c_str(),
                 stack.logs().c_str());
    return;
  }
  const auto before = stack.members();
  const auto old_names = names_of(before);
  const auto victim_task = str(before[0], "task_id");
  const auto killed_wall = Wall::now();
  const auto killed = Clock::now();
  if (!signal_member(before[0], SIGKILL)) {
    return;
  }
  auto replaced = [&] {
    if (!complete(stack, 3)) {
      return false;
    }
    for (const auto& n : names_of(stack.members())) {
      if (!old_names.contains(n)) {
        return true;
      }
    }
    return false;
  };
  if (!wait_until(replaced, 180s)) {
    std::fprintf(stderr, "replacement did not complete:\n%s\n", stack.logs().c_str());
    return;
  }
  const auto done_wall = Wall::now();
  out[name].push_back(seconds_since(killed));
  // The core acknowledges a status update in the step that handles it; the
  // victim's first acknowledgement after the kill is its failed status.
  const auto measure = name + "-from-status";
  if (auto status = logged_at(stack, "effect: acknowledge " + victim_task + " ", killed_wall,
                              measure.c_str())) {
    out[measure].push_back(seconds_between(*status, done_wall));
  }
}

void reseed(LocalStack& stack, Samples& out) {
  const auto before = stack.members();
  const auto reseeds = stat(stack, "cluster_reseeds");
  const auto killed_wall = Wall::now();
  const auto killed = Clock::now();
  if (!signal_member(before[0], SIGKILL) || !signal_member(before[1], SIGKILL)) {
    return;
  }
  auto seed_healthy = [&] {
    auto s = stack.stats();
    auto number = [&](const char* key) {
      auto it = s.find(key);
      return it == s.end() ? -1 : it->value().to_number<int64_t>();
    };
    return number("cluster_reseeds") > reseeds && number("reseeding") == 0 &&
           number("healthy") == 1;
  };
  if (!wait_until(seed_healthy, 300s)) {
    std::fprintf(stderr, "reseed did not complete:\n%s\n", stack.logs().c_str());
    return;
  }
  const auto seed_wall = Wall::now();
  out["reseed-seed"].push_back(seconds_since(killed));
  // start_reseed's only effect is the status query of the live members.
  const auto decision =
      logged_at(stack, "effect: query member status ", killed_wall, "reseed-seed-from-decision");
  if (decision) {
    out["reseed-seed-from-decision"].push_back(seconds_between(*decision, seed_wall));
  }
  if (!wait_until([&] { return complete(stack, 3); }, 300s)) {
    std::fprintf(stderr, "regrowth after the reseed did not complete:\n%s\n", stack.logs().c_str());
    return;
  }
  const auto full_wall = Wall::now();
  out["reseed-full"].push_back(seconds_since(killed));
  if (decision) {
    out["reseed-full-from-decision"].push_back(seconds_between(*decision, full_wall));
  }
}

// utime + stime of `pid` in seconds.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');  // the command may contain spaces
  if (close == std::string::npos) {
    return 0;
  }
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; fields >> field; ++i) {
    if (i == 14 || i == 15) {  // utime, stime (proc(5))
      ticks += std::strtod(field.c_str(), nullptr);
    }
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

void resources_of_five(LocalStack& stack, Samples& out) {
  const pid_t pid = stack.scheduler()->pid();
  std::this_thread::sleep_for(5s);  // the last launch's answers settle
  out["rss-5"].push_back(etcdmesos::bench::rss_mib(pid));
  const double before = cpu_seconds(pid);
  const auto start = Clock::now();
  std::this_thread::sleep_for(10s);
  out["idle-cpu-5"].push_back(100.0 * (cpu_seconds(pid) - before) / seconds_since(start));
}

// One round of the scheduler's health checker against a real etcd of `size`.
void health_rounds(std::size_t size, Samples& out) {
  EtcdCluster etcd(size);
  if (!etcd.wait_healthy(30s)) {
    std::fprintf(stderr, "etcd cluster of %zu did not become healthy\n", size);
    return;
  }
  std::vector<etcdmesos::core::Member> members;
  for (std::size_t i = 0; i < size; ++i) {
    members.push_back(etcdmesos::core::Member{
        etcd.name(i), "task-" + std::to_string(i), "agent-" + std::to_string(i), "127.0.0.1",
        etcd.peer_port(i), etcd.client_port(i), etcdmesos::core::TaskState::kRunning});
  }
  boost::asio::io_context io;
  auto round = [&] {
    auto done =
        boost::asio::co_spawn(io, etcdmesos::scheduler::observe_health(io.get_executor(), members),
                              boost::asio::use_future);
    io.restart();
    io.run();
    return done.get();
  };
  round();  // connections and etcd's first probe write are not the steady state
  const auto start = Clock::now();
  auto observed = round();
  const double ms = seconds_since(start) * 1000;
  if (observed.probe_ok) {
    out["health-" + std::to_string(size)].push_back(ms);
  } else {
    std::fprintf(stderr, "health round of %zu: the probe write failed\n", size);
  }
}

bool wanted(const std::set<std::string>& only, std::initializer_list<const char*> names) {
  if (only.empty()) {
    return true;
  }
  for (const char* n : names) {
    if (only.contains(n)) {
      return true;
    }
  }
  return false;
}

// --logs DIR: each stack's scheduler log is kept there as run<N>-<stack>.log,
// to read where the time went.
std::string g_log_dir;
int g_run = 0;

void keep_log(LocalStack& stack, const char* what) {
  if (g_log_dir.empty()) {
    return;
  }
  std::ofstream(g_log_dir + "/run" + std::to_string(g_run) + "-" + what + ".log")
      << stack.scheduler_log();
}

void run_stacks(const std::set<std::string>& only, Samples& out);

// One run; a stack that fails (a process that does not start) costs its
// samples, not the run.
void run_once(const std::set<std::string>& only, Samples& out) {
  try {
    run_stacks(only, out);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "recovery_bench: run aborted: %s\n", e.what());
  }
}

void run_stacks(const std::set<std::string>& only, Samples& out) {
  if (wanted(only, {"bringup-3", "replace-spare", "replace-spare-from-status", "reseed-seed",
                    "reseed-seed-from-decision", "reseed-full", "reseed-full-from-decision"})) {
    LocalStack stack(stack_options(4, 3));
    auto up = bring_up(stack, 3);
    if (!up) {
      return;
    }
    out["bringup-3"].push_back(*up);
    if (wanted(only, {"replace-spare", "replace-spare-from-status"})) {
      replace_one(stack, "replace-spare", out);
    }
    if (wanted(only, {"reseed-seed", "reseed-seed-from-decision", "reseed-full",
                      "reseed-full-from-decision"}) &&
        complete(stack, 3)) {
      reseed(stack, out);
    }
    keep_log(stack, "4-agents");
  }
  if (wanted(only, {"replace-no-spare", "replace-no-spare-from-status"})) {
    LocalStack stack(stack_options(3, 3));
    if (bring_up(stack, 3)) {
      replace_one(stack, "replace-no-spare", out);
    }
    keep_log(stack, "3-agents");
  }
  if (wanted(only, {"bringup-5", "rss-5", "idle-cpu-5", "artifact-rss-100"})) {
    LocalStack stack(stack_options(6, 5));
    if (auto up = bring_up(stack, 5)) {
      out["bringup-5"].push_back(*up);
      if (wanted(only, {"rss-5", "idle-cpu-5"})) {
        resources_of_five(stack, out);
      }
      if (wanted(only, {"artifact-rss-100"})) {
        if (auto peak = etcdmesos::bench::peak_rss_while_fetching_slowly(stack, 100, 10)) {
          out["artifact-rss-100"].push_back(*peak);
        }
      }
    }
    keep_log(stack, "6-agents");
  }
  if (wanted(only, {"bringup-7"})) {
    LocalStack stack(stack_options(8, 7));
    if (auto up = bring_up(stack, 7)) {
      out["bringup-7"].push_back(*up);
    }
    keep_log(stack, "8-agents");
  }
  for (std::size_t size : {3u, 5u, 7u}) {
    if (wanted(only, {("health-" + std::to_string(size)).c_str()})) {
      health_rounds(size, out);
    }
  }
}

std::string command_output(const char* command) {
  std::string text;
  if (FILE* p = ::popen(command, "r")) {
    char buffer[256];
    while (std::fgets(buffer, sizeof buffer, p)) {
      text += buffer;
    }
    ::pclose(p);
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  std::replace(text.begin(), text.end(), '\n', ';');
  return text;
}

json::object summary(const std::vector<double>& values) {
  auto sorted = values;
  std::sort(sorted.begin(), sorted.end());
  const auto n = sorted.size();
  const double median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  json::array samples(values.begin(), values.end());
  return json::object{{"median", median},
                      {"min", sorted.front()},
                      {"max", sorted.back()},
                      {"samples", std::move(samples)}};
}

// Folds Google Benchmark's JSON (--benchmark_out, with repetitions) into
// `results`: per benchmark the median, min and max of its repetitions'
// real time, and its counters; prints them as table rows.
void add_micro(const std::string& path, json::object& results, bool print) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  boost::system::error_code ec;
  auto doc = json::parse(text, ec);
  if (ec || !doc.is_object() || !doc.as_object().contains("benchmarks")) {
    std::fprintf(stderr, "recovery_bench: cannot read micro-benchmarks from %s\n", path.c_str());
    return;
  }
  std::map<std::string, std::vector<double>> times;
  std::map<std::string, std::string> units;
  std::map<std::string, json::object> counters;
  std::vector<std::string> order;
  for (const auto& b : doc.at("benchmarks").as_array()) {
    const auto& o = b.as_object();
    if (o.contains("run_type") && o.at("run_type").as_string() != "iteration") {
      continue;
    }
    const std::string name(o.at("run_name").as_string());
    if (!times.contains(name)) {
      order.push_back(name);
    }
    times[name].push_back(o.at("real_time").to_number<double>());
    units[name] = std::string(o.at("time_unit").as_string());
    for (const char* counter : {"decline_calls", "bytes_per_second", "items_per_second"}) {
      if (o.contains(counter)) {
        counters[name][counter] = o.at(counter);
      }
    }
  }
  for (const auto& name : order) {
    auto s = summary(times[name]);
    s["unit"] = units[name];
    s["what"] = "Google Benchmark, real time per iteration";
    for (const auto& [key, value] : counters[name]) {
      s[key] = value;
    }
    if (print) {
      std::printf("%-28s %-4s %9.3f %9.3f %9.3f  %zu reps\n", ("micro " + name).c_str(),
                  units[name].c_str(), s["median"].as_double(), s["min"].as_double(),
                  s["max"].as_double(), times[name].size());
    }
    results["micro/" + name] = std::move(s);
  }
}

struct Output {
  std::string json_path;
  std::string micro_path;
  std::string commit = "unknown";
};

// Summarises the samples of `done` runs (of `runs`), with the table when
// `print`, into the JSON file when one was asked for. True when every
// measure has a sample from every run.
bool report(const Samples& all, const std::set<std::string>& only, int done, int runs,
            const Output& output, bool print) {
  json::object results;
  bool complete_set = true;
  if (print) {
    std::printf("\n%-28s %-4s %9s %9s %9s  %s\n", "measure", "unit", "median", "min", "max",
                "samples");
  }
  for (const auto& m : kMeasures) {
    if (!only.empty() && !only.contains(m.name)) {
      continue;
    }
    auto it = all.find(m.name);
    if (it == all.end() || it->second.empty()) {
      if (print) {
        std::printf("%-28s %-4s %9s %9s %9s  0 of %d  (%s)\n", m.name, m.unit, "-", "-", "-", done,
                    m.what);
      }
      complete_set = false;
      continue;
    }
    const auto& values = it->second;
    auto s = summary(values);
    s["unit"] = m.unit;
    s["what"] = m.what;
    if (print) {
      std::printf("%-28s %-4s %9.2f %9.2f %9.2f  %zu of %d  (%s)\n", m.name, m.unit,
                  s["median"].as_double(), s["min"].as_double(), s["max"].as_double(),
                  values.size(), done, m.what);
    }
    complete_set = complete_set && values.size() == static_cast<std::size_t>(done);
    results[m.name] = std::move(s);
  }
  if (!output.micro_path.empty()) {
    add_micro(output.micro_path, results, print);
  }
  if (!output.json_path.empty()) {
    json::object doc{
        {"commit", output.commit},
        {"machine", command_output("uname -srm; nproc | sed 's/$/ cores/'; grep -m1 'model name' "
                                   "/proc/cpuinfo | cut -d: -f2; cut -d' ' -f1-3 /proc/loadavg "
                                   "| sed 's/^/load /'")},
        {"runs", runs},
        {"runs_done", done},
        {"results", std::move(results)}};
    std::ofstream out(output.json_path);
    out << json::serialize(doc) << "\n";
  }
  return complete_set;
}

int usage() {
  std::fprintf(stderr,
               "usage: recovery_bench [--runs N] [--only name,...] [--json FILE] [--micro FILE]\n"
               "                      [--commit ID] [--logs DIR]\n"
               "  DIR: each stack's scheduler log is kept there (run<N>-<stack>.log)\n"
               "  N: 1..50 (default 5); --only takes these names:\n");
  for (const auto& m : kMeasures) {
    std::fprintf(stderr, "    %-30s %s\n", m.name, m.what);
  }
  std::fprintf(stderr,
               "  The replacements run on a settled cluster (complete for 6 s). The -from-status\n"
               "  and -from-decision measures start at the scheduler's log line of the victim's\n"
               "  failed status / of the reseed decision; a run without that line gives none.\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 5;
  std::set<std::string> only;
  Output options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) {
      return usage();
    }
    const std::string value = argv[++i];
    if (flag == "--runs") {
      runs = std::atoi(value.c_str());
      if (runs < 1 || runs > 50) {
        return usage();
      }
    } else if (flag == "--only") {
      std::stringstream list(value);
      for (std::string name; std::getline(list, name, ',');) {
        only.insert(name);
      }
    } else if (flag == "--json") {
      options.json_path = value;
    } else if (flag == "--micro") {
      options.micro_path = value;
    } else if (flag == "--commit") {
      options.commit = value;
    } else if (flag == "--logs") {
      g_log_dir = value;
    } else {
      return usage();
    }
  }
  Samples all;
  try {
    for (int i = 1; i <= runs; ++i) {
      Samples samples;
      g_run = i;
      run_once(only, samples);
      std::printf("run %d:", i);
      for (const auto& [name, values] : samples) {
        for (double v : values) {
          std::printf("  %s %.2f", name.c_str(), v);
          all[name].push_back(v);
        }
      }
      std::printf("\n");
      std::fflush(stdout);
      if (i < runs) {
        report(all, only, i, runs, options, false);  // partial results survive an interruption
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "recovery_bench: %s\n", e.what());
    return 1;
  }
  const bool complete_set = report(all, only, runs, runs, options, true);
  return complete_set ? 0 : 1;
}
