// The simulated etcd 3.4 clusters (shared/reference/etcd-3.4-http-api.md):
// a cluster has voters (an added voter is unstarted, without name, until its
// process joins, and counts toward quorum meanwhile), a raft index that every
// proposal advances, a term and a leader. Membership changes follow the strict
// reconfiguration check (§8): every voter connected for 5 s to add; a down
// member may be removed, a healthy one only if enough stay connected. A
// removed member's process exits by itself. --force-new-cluster (a reseed's
// seed) forks a one-member cluster from the member's own data. Each process
// is started, stopped and restarted by its task's executor core
// (executor_side.cpp), which is told when it exits and when it serves.
#include "world.hpp"

#include "core/health.hpp"

#include <algorithm>

namespace etcdmesos::sim {

using namespace std::chrono_literals;

namespace {
constexpr Millis kHealthInterval = 5000ms;   // etcd's strict reconfig window
constexpr Millis kProposalTimeout = 7000ms;  // write without quorum fails after
constexpr std::size_t kMaxSettlePasses = 4;
constexpr int kUnstarted = -1;    // Voter::process of an added member not started yet
constexpr int kMovedToFork = -2;  // started once; its process now serves a seed's fork

std::vector<std::pair<std::string, std::string>> parse_initial(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t comma = text.find(',', pos);
    if (comma == std::string::npos) {
      comma = text.size();
    }
    const std::string item = text.substr(pos, comma - pos);
    const auto eq = item.find('=');
    if (eq != std::string::npos) {
      out.emplace_back(item.substr(0, eq), item.substr(eq + 1));
    }
    pos = comma + 1;
  }
  return out;
}
}  // namespace

bool World::alive(const Process& p) const {
  if (p.state != Process::State::kRunning || p.frozen) {
    return false;
  }
  for (const auto& a : agents_) {
    if (a.id == p.agent_id) {
      return a.state == Agent::State::kUp || a.state == Agent::State::kMasterCut;
    }
  }
  return false;
}

bool World::reachable(const Process& p) const {
  return alive(p) && p.link == Process::SchedulerLink::kUp;
}

bool World::receives(const Process& p) const {
  return alive(p) && p.link != Process::SchedulerLink::kCut;
}

bool World::connected(const Process& p) const {
  if (p.cluster < 0 || p.isolated || !alive(p)) {
    return false;
  }
  const auto& voters = clusters_[p.cluster].voters;
  return std::any_of(voters.begin(), voters.end(),
                     [&](const Voter& v) { return v.id == p.member_id; });
}

std::size_t World::connected_voters(const Cluster& c) const {
  std::size_t n = 0;
  for (const auto& v : c.voters) {
    if (v.process >= 0 && &clusters_[processes_[v.process].cluster] == &c &&
        connected(processes_[v.process])) {
      ++n;
    }
  }
  return n;
}

bool World::has_quorum(const Cluster& c) const {
  return !c.voters.empty() && connected_voters(c) * 2 > c.voters.size();
}

const Process* World::process_at(const std::string& client_url) const {
  for (const auto& p : processes_) {
    if (p.client_url == client_url && p.state == Process::State::kRunning) {
      return &p;
    }
  }
  return nullptr;
}

void World::elect(Cluster& c) {
  std::vector<uint64_t> candidates;
  for (const auto& v : c.voters) {
    if (v.process >= 0 && processes_[v.process].cluster >= 0 &&
        &clusters_[processes_[v.process].cluster] == &c && connected(processes_[v.process])) {
      candidates.push_back(v.id);
    }
  }
  c.term += 1;
  c.leader = candidates.empty() ? 0 : candidates[rng_.below(candidates.size())];
}

void World::settle() {
  for (std::size_t pass = 0; pass < kMaxSettlePasses; ++pass) {
    settle_once();
  }
}

// Brings derived state up to date: leaders, raft progress of connected
// members, connection times, removed members exiting, executors reporting
// members that serve.
void World::settle_once() {
  for (auto& c : clusters_) {
    if (!has_quorum(c)) {
      c.leader = 0;
      continue;
    }
    const bool leader_ok = std::any_of(c.voters.begin(), c.voters.end(), [&](const Voter& v) {
      return v.id == c.leader && v.process >= 0 && connected(processes_[v.process]);
    });
    if (!leader_ok) {
      elect(c);
    }
  }
  for (std::size_t pid = 0; pid < processes_.size(); ++pid) {
    Process& p = processes_[pid];
    if (p.state != Process::State::kRunning || p.cluster < 0) {
      p.was_connected = false;
      continue;
    }
    Cluster& c = clusters_[p.cluster];
    const bool is_voter = std::any_of(c.voters.begin(), c.voters.end(),
                                      [&](const Voter& v) { return v.id == p.member_id; });
    if (!is_voter && alive(p) && !p.isolated) {
      // "the member has been permanently removed from the cluster": exit 0.
      process_exit(static_cast<int>(pid), 0, "the member has been permanently removed");
      continue;
    }
    const bool seed_rejects = !p.isolated && alive(p) &&
                              std::any_of(c.forked_out.begin(), c.forked_out.end(),
                                          [&](int seed) { return alive(processes_[seed]); });
    if (seed_rejects) {
      // "rejected stream from remote peer because it was removed" (§9).
      process_exit(static_cast<int>(pid), 0,
                   "rejected stream from a peer forced into a new cluster");
      continue;
    }
    const bool now_connected = connected(p);
    if (now_connected && !p.was_connected) {
      p.connected_since = now_;
    }
    p.was_connected = now_connected;
    const bool quorum = has_quorum(c);
    if (now_connected && quorum) {
      p.raft_index = c.raft_index;
      p.raft_term = c.term;
    }
    if (!p.ready_reported && now_connected && quorum) {
      // The executor's readiness probe gets an answer.
      p.ready_reported = true;
      executor_event(p.task_id, core::EtcdServing{p.generation, p.member_id, p.raft_index});
    }
  }
}

void World::process_exit(int pid, int code, const std::string& why, bool signaled) {
  Process& p = processes_[pid];
  p.state = Process::State::kExited;
  const std::string description = signaled ? "killed by signal " + std::to_string(code)
                                           : "exited with status " + std::to_string(code);
  if (tracing()) {
    trace("etcd " + p.name + " " + description + ": " + why);
  }
  executor_event(p.task_id, core::EtcdExited{p.generation, signaled, code, description, why,
                                             !signaled && code == 0});
}

// The process of a launched member starts: bootstraps a new cluster, or joins
// the cluster that lists it as an unstarted voter.
void World::process_start(int pid, uint64_t generation, const std::string& cluster_state) {
  Process& p = processes_[pid];
  const Task* t = task(p.task_id);
  if (p.state != Process::State::kStarting || p.generation != generation || t == nullptr) {
    return;
  }
  const auto initial = parse_initial(t->spec.initial_cluster);
  if (cluster_state == "new") {
    // A static bootstrap: every member names the same initial cluster and
    // token, and they form one cluster (etcd derives its ids from both). The
    // first to start creates it; the others start as its listed voters.
    for (int i = static_cast<int>(clusters_.size()) - 1; i >= 0 && p.cluster < 0; --i) {
      const Cluster& other = clusters_[i];
      if (other.token != t->spec.cluster_token || !other.bootstrap ||
          other.initial_cluster != t->spec.initial_cluster) {
        continue;
      }
      for (const auto& v : other.voters) {
        if (v.peer_url == p.peer_url && v.process == kUnstarted) {
          p.cluster = i;
        }
      }
    }
    if (p.cluster < 0) {
      Cluster c;
      c.token = t->spec.cluster_token;
      c.bootstrap = true;
      c.initial_cluster = t->spec.initial_cluster;
      for (const auto& [name, url] : initial) {
        // Unstarted voters of a static bootstrap carry their names already
        // (etcd takes them from --initial-cluster).
        c.voters.push_back(
            Voter{rng_.next() | 1, initial.size() > 1 ? name : "", url, "", kUnstarted});
      }
      clusters_.push_back(std::move(c));
      p.cluster = static_cast<int>(clusters_.size() - 1);
    }
  } else {
    // The newest cluster listing this peer URL as an unstarted voter.
    for (int i = static_cast<int>(clusters_.size()) - 1; i >= 0 && p.cluster < 0; --i) {
      for (const auto& v : clusters_[i].voters) {
        if (v.peer_url == p.peer_url && v.process == kUnstarted) {
          p.cluster = i;
        }
      }
    }
    if (p.cluster < 0) {
      process_exit(pid, 1, "member count is unequal (never added)");
      return;
    }
    const auto& voters = clusters_[p.cluster].voters;
    const bool same = initial.size() == voters.size() &&
                      std::all_of(voters.begin(), voters.end(), [&](const Voter& v) {
                        return std::any_of(initial.begin(), initial.end(), [&](const auto& entry) {
                          return entry.second == v.peer_url;
                        });
                      });
    if (!same) {
      p.cluster = -1;
      process_exit(pid, 1, "error validating peerURLs: member count is unequal");
      return;
    }
  }
  Cluster& c = clusters_[p.cluster];
  for (auto& v : c.voters) {
    if (v.peer_url == p.peer_url && v.process == kUnstarted) {
      v.name = p.name;
      v.client_url = p.client_url;
      v.process = pid;
      p.member_id = v.id;
    }
  }
  p.state = Process::State::kRunning;
  c.raft_index += 1;  // the member publishes itself: a proposal
  if (tracing()) {
    trace("etcd " + p.name + " started in cluster " + c.token);
  }
}

// Most crashes are one-off and the executor's restart brings etcd back;
// the rest crash again at every restart until the executor gives up.
void World::crash_process(int pid) {
  processes_[pid].crash_loop = !rng_.chance(0.7);
  process_exit(pid, 2, "crash");
}

// The executor restarts etcd on its data directory.
void World::restart_process(int pid, uint64_t generation) {
  Process& p = processes_[pid];
  if (p.state != Process::State::kStarting || p.generation != generation) {
    return;
  }
  if (p.crash_loop || p.cluster < 0) {
    process_exit(pid, 2, "crash");
    return;
  }
  p.state = Process::State::kRunning;
  if (tracing()) {
    trace("etcd " + p.name + " restarted on its data");
  }
}

Process* World::random_running_process() {
  std::vector<Process*> running;
  for (auto& p : processes_) {
    if (p.state == Process::State::kRunning) {
      running.push_back(&p);
    }
  }
  return running.empty() ? nullptr : running[rng_.below(running.size())];
}

core::StatusSample World::sample(const std::string& client_url) const {
  core::StatusSample s;
  const Process* p = process_at(client_url);
  if (p == nullptr || !reachable(*p)) {
    s.error = p == nullptr ? "connection refused" : "timed out";
    return s;
  }
  s.reachable = true;
  s.member_id = p->member_id;
  s.raft_index = p->raft_index;
  s.raft_term = p->raft_term;
  if (p->cluster >= 0 && connected(*p) && has_quorum(clusters_[p->cluster])) {
    s.leader = clusters_[p->cluster].leader;
  } else {
    s.errors.push_back("etcdserver: no leader");
  }
  return s;
}

std::vector<core::EtcdMember> World::member_list(const Cluster& c) const {
  std::vector<core::EtcdMember> out;
  for (const auto& v : c.voters) {
    core::EtcdMember m;
    m.id = v.id;
    m.name = v.name;
    m.peer_urls = {v.peer_url};
    if (!v.client_url.empty()) {
      m.client_urls = {v.client_url};
    }
    out.push_back(std::move(m));
  }
  return out;
}

Process* World::via(const std::vector<std::string>& client_urls) {
  for (const auto& url : client_urls) {
    const Process* p = process_at(url);
    if (p != nullptr && receives(*p) && p->cluster >= 0) {
      return &processes_[static_cast<std::size_t>(p - processes_.data())];
    }
  }
  return nullptr;
}

// The checker (src/io/etcd_health): status of every member, a probe write,
// status again, the member list; the core judges them (HealthObserved).
void World::perform(const core::CheckHealth& e) {
  // Members cut off from a leader keep holding elections of their own.
  for (auto& p : processes_) {
    if (p.state == Process::State::kRunning && !connected(p)) {
      p.raft_term += rng_.below(3);
    }
  }
  core::HealthObservations obs;
  for (const auto& m : e.members) {
    obs.members.push_back(core::MemberObservation{m.name, sample(m.client_url()), {}});
  }
  // The probe, in the checker's order (core::probe_order): a write through
  // a member that cannot commit spends the whole budget, so only the first
  // choice is tried unless it succeeds.
  std::vector<core::StatusSample> before;
  for (const auto& m : obs.members) {
    before.push_back(m.before);
  }
  obs.probe_error = "no member answered the status read";
  if (const auto order = core::probe_order(before); !order.empty()) {
    const Process* first = process_at(e.members[order.front()].client_url());
    Process* p = first == nullptr ? nullptr : &processes_[first - processes_.data()];
    if (p != nullptr && p->cluster >= 0 && connected(*p) && has_quorum(clusters_[p->cluster]) &&
        !clusters_[p->cluster].nospace.empty()) {
      obs.probe_error = "etcdserver: mvcc: database space exceeded";
    } else if (p != nullptr && p->cluster >= 0 && connected(*p) &&
               has_quorum(clusters_[p->cluster])) {
      Cluster& c = clusters_[p->cluster];
      obs.probe_ok = true;
      obs.probe_error.clear();
      c.raft_index += 1;
      if (faults_on_ && rng_.chance(rates_.election_in_check)) {
        elect(c);
      }
      settle_once();
    } else {
      obs.probe_error = "etcdserver: request timed out";
    }
  }
  // The alarm list, through the probe's first choice: etcd serves it
  // through raft, so a read that is answered commits an entry (the index
  // rises) and needs a majority, as the probe does.
  // Read only when the probe was answered (went through, or refused for a
  // full backend), as the checker does.
  const bool probe_answered =
      obs.probe_ok || obs.probe_error.find("database space exceeded") != std::string::npos;
  if (const auto order = core::probe_order(before); probe_answered && !order.empty()) {
    const Process* first = process_at(e.members[order.front()].client_url());
    if (first != nullptr && first->cluster >= 0 && connected(*first) &&
        has_quorum(clusters_[first->cluster])) {
      Cluster& c = clusters_[first->cluster];
      c.raft_index += 1;
      for (uint64_t id : c.nospace) {
        obs.alarms.push_back(core::MemberAlarm{id, "NOSPACE"});
      }
      settle_once();
    }
  }
  std::vector<core::StatusSample> after;
  for (std::size_t i = 0; i < e.members.size(); ++i) {
    obs.members[i].after = sample(e.members[i].client_url());
    after.push_back(obs.members[i].after);
  }
  // The member list, from the first member in the probe's order that answers
  // it (persist seed 3623710: read from a member left over from the cluster
  // before a reseed, it hid the serving cluster's membership for good).
  for (std::size_t i : core::probe_order(after)) {
    if (Process* listed = via({e.members[i].client_url()});
        listed != nullptr && reachable(*listed)) {
      obs.membership = member_list(clusters_[listed->cluster]);
      break;
    }
  }
  core::HealthObserved answer{e.check_id, std::move(obs)};
  if (faults_on_ && rng_.chance(rates_.drop_check)) {
    if (tracing()) {
      trace("fault: health check " + std::to_string(e.check_id) + " never answers");
    }
    return;
  }
  answer_later(rng_.millis(20, 800), answer);
}

bool World::connected_fully_since(const Cluster& c, const Process& p, Millis since) const {
  return std::all_of(c.voters.begin(), c.voters.end(), [&](const Voter& v) {
    if (v.id == p.member_id) {
      return true;
    }
    if (v.process < 0) {
      return false;  // unstarted
    }
    const Process& q = processes_[v.process];
    return q.cluster == p.cluster && connected(q) && q.connected_since <= since;
  });
}

std::size_t World::connected_since_count(const Cluster& c, const Process& p, Millis since) const {
  std::size_t n = 0;
  for (const auto& v : c.voters) {
    if (v.id == p.member_id) {
      ++n;
      continue;
    }
    if (v.process < 0) {
      continue;
    }
    const Process& q = processes_[v.process];
    if (q.cluster == p.cluster && connected(q) && q.connected_since <= since) {
      ++n;
    }
  }
  return n;
}

std::optional<std::string> World::may_add(const Cluster& c, const Process& p) const {
  std::size_t started = 0;
  for (const auto& v : c.voters) {
    started += v.name.empty() ? 0 : 1;
  }
  const std::size_t members = c.voters.size() + 1;
  const bool one_to_two = started == 1 && members == 2;
  if (!one_to_two && started < members / 2 + 1) {
    return "etcdserver: re-configuration failed due to not enough started members";
  }
  if (!connected_fully_since(c, p, now_ - kHealthInterval)) {
    return "etcdserver: unhealthy cluster";
  }
  return std::nullopt;
}

std::optional<std::string> World::may_remove(const Cluster& c, const Process& p,
                                             uint64_t id) const {
  std::size_t members = 0;
  std::size_t started = 0;
  const Voter* target = nullptr;
  for (const auto& v : c.voters) {
    if (v.id == id) {
      target = &v;
      continue;
    }
    ++members;
    started += v.name.empty() ? 0 : 1;
  }
  if (started < members / 2 + 1) {
    return "etcdserver: re-configuration failed due to not enough started members";
  }
  const bool target_down = target->process < 0 || !connected(processes_[target->process]) ||
                           processes_[target->process].cluster != p.cluster;
  if (id != p.member_id && target_down) {
    return std::nullopt;  // a down member is safe to remove
  }
  const std::size_t active = connected_since_count(c, p, now_ - kHealthInterval);
  if (active - 1 < 1 + (c.voters.size() - 1) / 2) {
    return "etcdserver: unhealthy cluster";
  }
  return std::nullopt;
}

void World::perform(const core::AddEtcdMember& e) {
  core::MemberAdded answer{e.name, false, 0, "no member to ask"};
  Millis delay = rng_.millis(10, 300);
  if (Process* p = via(e.client_urls)) {
    Cluster& c = clusters_[p->cluster];
    const bool exists = std::any_of(c.voters.begin(), c.voters.end(),
                                    [&](const Voter& v) { return v.peer_url == e.peer_url; });
    if (!connected(*p) || !has_quorum(c)) {
      answer.error = "etcdserver: request timed out";
      delay = kProposalTimeout;
    } else if (exists) {
      answer.error = "etcdserver: Peer URLs already exists";
    } else if (auto refused = may_add(c, *p)) {
      answer.error = *refused;
    } else {
      const uint64_t id = rng_.next() | 1;
      c.voters.push_back(Voter{id, "", e.peer_url, "", kUnstarted});
      c.raft_index += 1;
      answer = core::MemberAdded{e.name, true, id, ""};
    }
    if (p->link == Process::SchedulerLink::kRepliesLost) {
      return;  // applied (or not); the answer never arrives
    }
  }
  if (faults_on_ && rng_.chance(rates_.drop_change_answer)) {
    if (tracing()) {
      trace("fault: the answer to adding " + e.name + " is lost");
    }
    return;
  }
  answer_later(delay, answer);
}

void World::perform(const core::RemoveEtcdMember& e) {
  core::MemberRemoved answer{e.etcd_id, false, "no member to ask"};
  Millis delay = rng_.millis(10, 300);
  if (Process* p = via(e.client_urls)) {
    Cluster& c = clusters_[p->cluster];
    auto it = std::find_if(c.voters.begin(), c.voters.end(),
                           [&](const Voter& v) { return v.id == e.etcd_id; });
    if (it == c.voters.end()) {
      answer = core::MemberRemoved{e.etcd_id, true, ""};  // 404: already gone
    } else if (!connected(*p) || !has_quorum(c)) {
      answer.error = "etcdserver: request timed out";
      delay = kProposalTimeout;
    } else if (auto refused = may_remove(c, *p, e.etcd_id)) {
      answer.error = *refused;
    } else {
      c.voters.erase(it);
      c.raft_index += 1;
      answer = core::MemberRemoved{e.etcd_id, true, ""};
    }
    if (p->link == Process::SchedulerLink::kRepliesLost) {
      return;
    }
  }
  if (faults_on_ && rng_.chance(rates_.drop_change_answer)) {
    if (tracing()) {
      trace("fault: the answer to removing a member is lost");
    }
    return;
  }
  answer_later(delay, answer);
}

void World::perform(const core::QueryMemberStatus& e) {
  core::MemberStatuses answer;
  answer.query_id = e.query_id;
  for (const auto& m : e.members) {
    auto s = sample(m.client_url());
    if (s.reachable && faults_on_ && rng_.chance(rates_.drop_status_answer)) {
      s = core::StatusSample{};  // a slow answer, past the query's timeout
      s.error = "timed out";
    }
    core::MemberHealth h;
    h.name = m.name;
    h.reachable = s.reachable;
    h.leader = s.leader;
    h.raft_index = s.raft_index;
    h.raft_term = s.raft_term;
    h.error = s.error;
    answer.members.push_back(std::move(h));
  }
  answer_later(rng_.millis(20, 500), answer);
}

// The order travels to the member's executor as a framework message; its
// executor core does the rest (executor_side.cpp).
void World::perform(const core::ReseedOrder& e) {
  Task* t = find_task(e.task_id);
  Agent* a = t ? agent(t->agent_id) : nullptr;
  if (!subscribed_ || t == nullptr || a == nullptr || !a->master_reaches() ||
      core::means_member_lost(t->state) || t->framework_id != framework_id_) {
    return;
  }
  const core::ReseedCommand order{e.action, e.reseed_id,
                                  e.action == core::ReseedAction::kFence ? e.lease : Millis(0)};
  const std::string task_id = e.task_id;
  after(rng_.millis(20, 600), [this, task_id, order] {
    const Task* task = find_task(task_id);
    const Agent* on = task ? agent(task->agent_id) : nullptr;
    if (on == nullptr || !on->master_reaches()) {
      return;  // the message is lost with the agent's link
    }
    executor_event(task_id, core::ReseedOrdered{order});
  });
}

void World::seed_restart(int pid, uint64_t generation) {
  Process& p = processes_[pid];
  if (p.state != Process::State::kStarting || p.generation != generation) {
    return;
  }
  if (p.cluster < 0) {
    process_exit(pid, 1, "no data to force a new cluster from");
    return;
  }
  const Cluster& old = clusters_[p.cluster];
  ++forced_starts_[p.task_id];
  Cluster fork;
  // Named after the seed too: two candidates of one reseed fork two clusters.
  fork.token = old.token + "+seed" + std::to_string(generation) + "-" + p.name;
  fork.voters.push_back(Voter{p.member_id, p.name, p.peer_url, p.client_url, pid});
  fork.raft_index = p.raft_index + 1;
  fork.term = p.raft_term + 1;
  fork.leader = p.member_id;
  for (auto& v : clusters_[p.cluster].voters) {
    if (v.id == p.member_id) {
      v.process = kMovedToFork;
    }
  }
  clusters_[p.cluster].forked_out.push_back(pid);
  clusters_.push_back(std::move(fork));
  p.cluster = static_cast<int>(clusters_.size() - 1);
  p.state = Process::State::kRunning;
  p.ready_reported = false;
  if (tracing()) {
    trace("etcd " + p.name + " restarted with --force-new-cluster");
  }
}

// The steps of a NOSPACE recovery, as etcd answers them: compaction and
// disarming go through any member of a cluster with quorum; a
// defragmentation through the one member named. Invariants: a recovery
// starts only on a cluster with an alarm, and one step at a time.
void World::perform(const core::RecoverSpace& e) {
  if (space_step_in_flight_ != 0 && space_step_incarnation_ == incarnation_) {
    fail("a space recovery step was sent while another was in flight");
    return;
  }
  Process* p = via(e.client_urls);
  const bool up = p != nullptr && reachable(*p) && has_quorum(clusters_[p->cluster]);
  core::SpaceStepDone done{e.id, false, "no member answered"};
  if (e.step == core::RecoverSpace::Step::kCompact && p != nullptr &&
      clusters_[p->cluster].nospace.empty()) {
    fail("space recovery without a NOSPACE alarm: " + core::describe(core::Effect{e}));
    return;
  }
  if (up) {
    Cluster& c = clusters_[p->cluster];
    switch (e.step) {
      case core::RecoverSpace::Step::kCompact:
        c.compacted = true;
        done = {e.id, true, ""};
        break;
      case core::RecoverSpace::Step::kDefragment:
        if (c.compacted) {
          c.defragmented.push_back(p->member_id);
        }
        done = {e.id, true, ""};
        break;
      case core::RecoverSpace::Step::kDisarm: {
        // Space is back once every voter was defragmented after compaction.
        const bool all = std::all_of(c.voters.begin(), c.voters.end(), [&](const Voter& v) {
          return std::find(c.defragmented.begin(), c.defragmented.end(), v.id) !=
                 c.defragmented.end();
        });
        if (c.compacted && all) {
          c.nospace.clear();
          done = {e.id, true, ""};
        } else {
          done = {e.id, false, "etcdserver: mvcc: database space exceeded"};
        }
        break;
      }
    }
  }
  if (faults_on_ && rng_.chance(rates_.drop_check)) {
    done = {e.id, false, "timed out"};
  }
  if (tracing()) {
    trace("space step " + core::describe(core::Effect{e}) + " -> " +
          (done.ok ? std::string("ok") : done.error));
  }
  space_step_in_flight_ = e.id;
  space_step_incarnation_ = incarnation_;
  after(rng_.millis(10, 500), [this, done, incarnation = incarnation_] {
    if (incarnation != incarnation_) {
      return;  // the scheduler that asked is gone
    }
    space_step_in_flight_ = 0;
    deliver(done);
  });
}

// A backup (issue 14): a member of a cluster with quorum streams its
// snapshot, which the scheduler's host fails to write now and then (a full
// disk); answered after up to 20 s. Invariants (invariants.cpp,
// "one-backup-at-a-time", "backup-only-when-healthy") check when the core
// asks.
void World::perform(const core::TakeBackup& e) {
  Process* p = via(e.client_urls);
  const bool up = p != nullptr && reachable(*p) && has_quorum(clusters_[p->cluster]);
  core::BackupDone done{e.id, false, 0, 0, "", "no member served the snapshot"};
  if (up && backup_rng_.chance(0.2)) {
    done.error = "writing the snapshot failed: No space left on device";
  } else if (up) {
    done.ok = true;
    done.error.clear();
    done.revision = clusters_[p->cluster].raft_index;
    done.size_bytes = 20480;
    done.file = "etcd-backup-sim-" + std::to_string(e.id) + ".db";
  }
  if (tracing()) {
    trace("backup " + core::describe(core::Effect{e}) + " -> " +
          (done.ok ? std::string("ok") : done.error));
  }
  after(backup_rng_.millis(50, 20000), [this, done, incarnation = incarnation_] {
    if (incarnation != incarnation_) {
      return;  // the scheduler that asked is gone
    }
    deliver(done);
  });
}

}  // namespace etcdmesos::sim
