#include "script.hpp"

#include "core/rng.hpp"
#include "core/scheduler_core.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace etcdmesos::scenario {

namespace {

using namespace std::chrono_literals;
using core::Millis;

constexpr uint64_t kCoreSeed = 42;
constexpr Millis kStart{1000000};
constexpr Millis kTickInterval = 1000ms;

// A malformed command; run_script() reports it with the line number.
struct BadCommand : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) {
    out.push_back(w);
  }
  return out;
}

std::string join(const std::vector<std::string>& parts, std::size_t from, const char* sep = " ") {
  std::string out;
  for (std::size_t i = from; i < parts.size(); ++i) {
    out += (out.empty() ? "" : sep) + parts[i];
  }
  return out;
}

uint64_t number(const std::string& text) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    throw BadCommand("not a number: '" + text + "'");
  }
  return v;
}

double decimal(const std::string& text) {
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    throw BadCommand("not a number: '" + text + "'");
  }
  return v;
}

Millis duration(const std::string& text) {
  for (const auto& [suffix, scale] :
       {std::pair{"ms", 1}, std::pair{"s", 1000}, std::pair{"m", 60000}}) {
    const std::string s = suffix;
    if (text.size() > s.size() && text.ends_with(s) &&
        std::isdigit(static_cast<unsigned char>(text[text.size() - s.size() - 1]))) {
      return Millis{static_cast<int64_t>(number(text.substr(0, text.size() - s.size())) * scale)};
    }
  }
  throw BadCommand("not a duration (500ms, 30s, 5m): '" + text + "'");
}

// "a,b,c" -> {"a", "b", "c"}
std::vector<std::string> comma_list(std::string text) {
  std::replace(text.begin(), text.end(), ',', ' ');
  return words(text);
}

// key=value arguments from `from` on; bare words map to "".
std::map<std::string, std::string> options(const std::vector<std::string>& w, std::size_t from) {
  std::map<std::string, std::string> out;
  for (std::size_t i = from; i < w.size(); ++i) {
    const auto eq = w[i].find('=');
    out[w[i].substr(0, eq)] = eq == std::string::npos ? "" : w[i].substr(eq + 1);
  }
  return out;
}

core::TaskState task_state(const std::string& name) {
  if (auto state = task_state_from_string(name)) {
    return *state;
  }
  throw BadCommand("unknown task state '" + name + "'");
}

// A stable etcd id per member name, as etcd would assign one.
uint64_t etcd_id_of(const std::string& name) {
  uint64_t h = 1469598103934665603ULL;
  for (char c : name) {
    h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  }
  return h;
}

class Runner {
 public:
  Runner() { core_ = std::make_unique<core::SchedulerCore>(config_, kCoreSeed); }

  std::vector<std::string> execute(const std::string& line);

 private:
  // etcd's member list as the script's answers made it.
  struct Listed {
    uint64_t id = 0;
    std::string name;  // empty while unstarted
    std::string peer_url;
    std::string client_url;
  };

  void configure(const std::vector<std::string>& w);
  void restart_scheduler();
  void feed(const core::Event& event);
  void answer_store_writes();
  void observe(const std::vector<core::Effect>& effects);
  std::vector<std::string> take_effects();
  std::vector<std::string> state() const;

  void offer(const std::vector<std::string>& w);
  // One OFFERS event with an offer of each agent in a comma list.
  void offers(const std::vector<std::string>& w);
  core::OfferView make_offer(const std::string& agent, const std::vector<std::string>& w);
  void status(const std::vector<std::string>& w);
  void health(const std::vector<std::string>& w);
  void member_added(const std::vector<std::string>& w);
  void member_removed(const std::vector<std::string>& w);
  void statuses(const std::vector<std::string>& w);
  void reseed_report(const std::vector<std::string>& w);
  // backup-done ok revision=N size=N file=NAME | backup-done failed REASON...
  void backup_done(const std::vector<std::string>& w);
  std::vector<std::string> backups() const;
  void tick(Millis by);
  void tick_until_check();
  void bring_up(uint64_t n);
  const core::Member& member(const std::string& name_or_task) const;

  core::Config config_;
  std::unique_ptr<core::SchedulerCore> core_;
  Millis now_ = kStart;
  bool fed_ = false;
  std::vector<core::Effect> pending_;
  std::map<std::string, core::Member> launched_;  // by member name
  std::map<std::string, std::string> adding_;     // member name -> peer url
  std::map<std::string, uint64_t> reseed_ids_;    // task id -> reseed id
  std::optional<core::CheckHealth> check_;
  std::optional<core::QueryMemberStatus> query_;
  std::optional<core::TakeBackup> backup_;  // the last backup asked for
  std::vector<Listed> etcd_;
  std::string bootstrap_token_;  // of the last new cluster: its members are listed together
  // The ZooKeeper store (config persist=on): what the core's writes left,
  // and the writes not answered yet (answered at once, successfully).
  std::string stored_framework_id_;
  std::map<std::string, core::Member> stored_tasks_;  // by task id
  std::optional<std::size_t> stored_cluster_size_;
  std::vector<core::Effect> store_writes_;
  uint64_t restarts_ = 0;
  uint64_t uuids_ = 0;
  uint64_t offers_ = 0;
};

std::vector<std::string> Runner::execute(const std::string& line) {
  const auto w = words(line);
  const std::string& cmd = w.at(0);
  if (cmd == "config") {
    configure(w);
  } else if (cmd == "subscribed") {
    feed(core::Subscribed{w.size() > 1 ? w[1] : "fw-1"});
  } else if (cmd == "disconnected") {
    feed(core::Disconnected{});
  } else if (cmd == "restart-scheduler") {
    restart_scheduler();
  } else if (cmd == "offer") {
    offer(w);
  } else if (cmd == "offers") {
    offers(w);
  } else if (cmd == "rescind" && w.size() == 2) {
    feed(core::OfferRescinded{w[1]});
  } else if (cmd == "agent-lost" && w.size() == 2) {
    feed(core::AgentLost{w[1]});
  } else if (cmd == "status") {
    status(w);
  } else if (cmd == "health") {
    health(w);
  } else if (cmd == "member-added") {
    member_added(w);
  } else if (cmd == "member-removed") {
    member_removed(w);
  } else if (cmd == "statuses") {
    statuses(w);
  } else if (cmd == "reseed-report") {
    reseed_report(w);
  } else if (cmd == "reseed" && w.size() == 1) {
    feed(core::OperatorReseed{});
  } else if (cmd == "reseed" && w.size() == 2 && w[1] == "skip-silent") {
    feed(core::OperatorReseed{true});
  } else if (cmd == "unlock") {
    feed(core::OperatorUnlock{});
  } else if (cmd == "resize" && w.size() == 2) {
    // As the admin server does: the core is asked first, a refusal answered.
    if (auto why_not = core_->why_not_resize(number(w[1]))) {
      return {"refused: " + *why_not};
    }
    feed(core::OperatorResize{number(w[1])});
  } else if (cmd == "restore" && w.size() == 2) {
    feed(core::OperatorRestore{w[1]});
  } else if (cmd == "backup" && w.size() == 1) {
    // An operator's POST /backup: refused with the reason, as the shell answers.
    if (auto why_not = core_->why_not_backup()) {
      return {"refused: " + *why_not};
    }
    feed(core::OperatorBackup{});
  } else if (cmd == "backup-done") {
    backup_done(w);
  } else if (cmd == "backups" && w.size() == 1) {
    return backups();
  } else if (cmd == "tick" && w.size() == 2) {
    tick(duration(w[1]));
  } else if (cmd == "bring-up" && w.size() == 2) {
    bring_up(number(w[1]));
  } else if (cmd == "effects") {
    return take_effects();
  } else if (cmd == "state") {
    return state();
  } else {
    throw BadCommand("unknown or malformed command: " + line);
  }
  return {};
}

void Runner::configure(const std::vector<std::string>& w) {
  if (fed_) {
    throw BadCommand("config must come before the first event");
  }
  for (const auto& [key, value] : options(w, 1)) {
    if (key == "cluster-size") {
      config_.cluster_size = number(value);
    } else if (key == "launch-timeout") {
      config_.launch_timeout = duration(value);
    } else if (key == "health-check-interval") {
      config_.health_check_interval = duration(value);
    } else if (key == "reseed-timeout") {
      config_.reseed_timeout = duration(value);
    } else if (key == "auto-reseed") {
      config_.auto_reseed = value == "true";
    } else if (key == "failed-agent-cooldown") {
      config_.failed_agent_cooldown = duration(value);
    } else if (key == "membership-change-timeout") {
      config_.membership_change_timeout = duration(value);
    } else if (key == "persist") {
      config_.persist = value == "on";
    } else if (key == "bootstrap-window") {
      config_.bootstrap_window = duration(value);
    } else if (key == "backup-interval") {
      config_.backup_interval = duration(value);
    } else if (key == "backup-retry") {
      config_.backup_retry = duration(value);
    } else if (key == "join-settle") {
      config_.join_settle = duration(value);
    } else if (key == "restore-from") {
      config_.restore_from = value;
    } else {
      throw BadCommand("unknown config key '" + key + "'");
    }
  }
  core_ = std::make_unique<core::SchedulerCore>(config_, kCoreSeed);
}

// A new scheduler process: everything the core held in memory is gone. With
// persistence it loads what the store holds and feeds it as Recovered before
// it subscribes, as src/scheduler/scheduler_persist.cpp does; answers the
// old process was waiting for never reach the new one.
void Runner::restart_scheduler() {
  core_ = std::make_unique<core::SchedulerCore>(config_, kCoreSeed + ++restarts_);
  check_.reset();
  query_.reset();
  backup_.reset();
  adding_.clear();
  store_writes_.clear();
  if (config_.persist) {
    core::Recovered recovered{stored_framework_id_, {}, "", stored_cluster_size_};
    for (const auto& [task_id, m] : stored_tasks_) {
      // As stored: the core itself takes a record not of a running member
      // for one written before its launch, as the shell reads "launching".
      recovered.members.push_back(m);
    }
    feed(recovered);
  }
}

void Runner::feed(const core::Event& event) {
  fed_ = true;
  observe(core_->step(event, now_));
  answer_store_writes();
}

// The store answers every write at once and successfully (the simulator
// covers slow, failing and unreachable stores).
void Runner::answer_store_writes() {
  while (!store_writes_.empty()) {
    const core::Effect write = store_writes_.front();
    store_writes_.erase(store_writes_.begin());
    core::Event answer;
    if (const auto* f = std::get_if<core::PersistFrameworkId>(&write)) {
      stored_framework_id_ = f->framework_id;
      answer = core::FrameworkIdPersisted{f->framework_id, true, ""};
    } else if (const auto* t = std::get_if<core::PersistTask>(&write)) {
      stored_tasks_[t->member.task_id] = t->member;
      answer = core::TaskPersisted{t->member.task_id, false, true, ""};
    } else if (const auto* z = std::get_if<core::PersistClusterSize>(&write)) {
      stored_cluster_size_ = z->size;
      answer = core::ClusterSizePersisted{z->size, true, ""};
    } else if (const auto* g = std::get_if<core::ForgetTask>(&write)) {
      stored_tasks_.erase(g->task_id);
      answer = core::TaskPersisted{g->task_id, true, true, ""};
    }
    observe(core_->step(answer, now_));
  }
}

void Runner::tick(Millis by) {
  fed_ = true;
  for (const Millis until = now_ + by; now_ < until;) {
    now_ = std::min(now_ + kTickInterval, until);
    observe(core_->tick(now_));
    answer_store_writes();
  }
}

void Runner::tick_until_check() {
  for (int waited = 0; !check_ && waited < 120; ++waited) {
    tick(kTickInterval);
  }
  if (!check_) {
    throw BadCommand("no health check within 120 s");
  }
}

// The usual path to n running members on agents a1..an, each after a
// healthy check; ends with a healthy check of all. Its effects are dropped:
// scenarios start from here and show what follows.
void Runner::bring_up(uint64_t n) {
  if (!core_->subscribed()) {
    execute("subscribed");
  }
  for (uint64_t k = 1; k <= n; ++k) {
    const std::string agent = "a" + std::to_string(k);
    if (k > 1) {
      tick_until_check();
      execute("health healthy");
    }
    execute("offer " + agent + " cpus=2 mem=1024 disk=4096 ports=31000-31010");
    if (k > 1) {
      execute("member-added etcd-" + std::to_string(k) + " ok");
    }
    execute("status etcd-" + std::to_string(k) + " TASK_RUNNING");
  }
  tick_until_check();
  execute("health healthy");
  pending_.clear();
}

// Remembers what later answers need: launched members, the check and status
// query in flight, reseed ids; and etcd's membership after a bootstrap.
void Runner::observe(const std::vector<core::Effect>& effects) {
  for (const auto& effect : effects) {
    pending_.push_back(effect);
    if (const auto* l = std::get_if<core::LaunchMember>(&effect)) {
      const auto& m = l->spec.member;
      launched_[m.name] = m;
      if (l->spec.cluster_state == "new") {
        // A static bootstrap launches every member of the new cluster at once.
        if (l->spec.cluster_token != bootstrap_token_) {
          etcd_.clear();
          bootstrap_token_ = l->spec.cluster_token;
        }
        etcd_.push_back(Listed{etcd_id_of(m.name), "", m.peer_url(), ""});
      }
    } else if (const auto* c = std::get_if<core::CheckHealth>(&effect)) {
      check_ = *c;
    } else if (const auto* q = std::get_if<core::QueryMemberStatus>(&effect)) {
      query_ = *q;
    } else if (const auto* b = std::get_if<core::TakeBackup>(&effect)) {
      backup_ = *b;
    } else if (const auto* a = std::get_if<core::AddEtcdMember>(&effect)) {
      adding_[a->name] = a->peer_url;
    } else if (const auto* r = std::get_if<core::ReseedOrder>(&effect)) {
      reseed_ids_[r->task_id] = r->reseed_id;
    } else if (std::holds_alternative<core::PersistFrameworkId>(effect) ||
               std::holds_alternative<core::PersistClusterSize>(effect) ||
               std::holds_alternative<core::PersistTask>(effect) ||
               std::holds_alternative<core::ForgetTask>(effect)) {
      store_writes_.push_back(effect);
    }
  }
}

std::vector<std::string> Runner::take_effects() {
  std::vector<std::string> out;
  for (const auto& e : pending_) {
    out.push_back(core::describe(e));
  }
  pending_.clear();
  if (out.empty()) {
    out.push_back("(none)");
  }
  return out;
}

std::vector<std::string> Runner::state() const {
  auto yes = [](bool b) { return b ? std::string("yes") : std::string("no"); };
  const auto& c = *core_;
  std::vector<std::string> out;
  out.push_back("subscribed=" + yes(c.subscribed()) + " healthy=" + yes(c.stats().healthy) +
                " locked=" + yes(c.locked()) + " livelocked=" + yes(c.livelocked()) +
                " reseeding=" + yes(c.reseeding()) +
                " change-in-flight=" + yes(c.change_in_flight()));
  out.push_back("plan: " + c.plan_reason());
  if (c.partitioned()) {
    out.push_back("partitioned: " + c.partition_reason());
  }
  if (c.reseed_halted()) {
    out.push_back("lock: " + c.lock_reason());
  }
  if (c.restoring()) {
    out.push_back("restore: " + c.restore_status());
  }
  if (!c.last_restore_outcome().empty()) {
    out.push_back("last restore: " + c.last_restore_outcome());
  }
  for (const auto& m : c.members()) {
    out.push_back("member " + m.name + " task=" + m.task_id + " agent=" + m.agent_id + " " +
                  std::string(core::to_string(m.state)));
  }
  std::string listed;
  for (const auto& l : etcd_) {
    listed += " " + (l.name.empty() ? core::to_hex(l.id, 16) + "(unstarted)" : l.name);
  }
  out.push_back("etcd lists:" + (listed.empty() ? std::string(" nothing") : listed));
  if (config_.persist) {
    std::string stored;
    for (const auto& [task_id, m] : stored_tasks_) {
      stored += " " + m.name;
    }
    out.push_back("store: framework " +
                  (stored_framework_id_.empty() ? std::string("(none)") : stored_framework_id_) +
                  ", members" + (stored.empty() ? std::string(" none") : stored));
    out.push_back("reconcile: " + c.reconcile_status());
  }
  return out;
}

void Runner::offer(const std::vector<std::string>& w) {
  if (w.size() < 2) {
    throw BadCommand("offer needs an agent id");
  }
  feed(core::OffersReceived{{make_offer(w[1], w)}});
}

void Runner::offers(const std::vector<std::string>& w) {
  if (w.size() < 2) {
    throw BadCommand("offers needs agent ids (a1,a2,...)");
  }
  core::OffersReceived event;
  for (const auto& agent : comma_list(w[1])) {
    event.offers.push_back(make_offer(agent, w));
  }
  feed(event);
}

core::OfferView Runner::make_offer(const std::string& agent, const std::vector<std::string>& w) {
  core::OfferView o;
  o.agent_id = agent;
  o.offer_id = "o" + std::to_string(++offers_);
  const auto digits = agent.find_first_of("0123456789");
  o.hostname = digits == std::string::npos ? agent : "10.0.0." + agent.substr(digits);
  for (const auto& [key, value] : options(w, 2)) {
    if (key == "cpus") {
      o.cpus = decimal(value);
    } else if (key == "mem") {
      o.mem_mb = decimal(value);
    } else if (key == "disk") {
      o.disk_mb = decimal(value);
    } else if (key == "id") {
      o.offer_id = value;
    } else if (key == "host") {
      o.hostname = value;
    } else if (key == "ports") {
      for (const auto& range : comma_list(value)) {
        const auto dash = range.find('-');
        const uint64_t begin = number(range.substr(0, dash));
        const uint64_t end = dash == std::string::npos ? begin : number(range.substr(dash + 1));
        o.ports.push_back(core::PortRange{begin, end});
      }
    } else {
      throw BadCommand("unknown offer field '" + key + "'");
    }
  }
  return o;
}

const core::Member& Runner::member(const std::string& name_or_task) const {
  for (const auto& [name, m] : launched_) {
    if (name == name_or_task || m.task_id == name_or_task) {
      return m;
    }
  }
  throw BadCommand("no member or task '" + name_or_task + "' was launched");
}

void Runner::status(const std::vector<std::string>& w) {
  if (w.size() < 3) {
    throw BadCommand("status needs a task (or member name) and a state");
  }
  const core::Member& m = member(w[1]);
  core::StatusUpdate s;
  s.task_id = m.task_id;
  s.agent_id = m.agent_id;
  s.state = task_state(w[2]);
  s.uuid = "uuid-" + std::to_string(++uuids_);
  for (const auto& [key, value] : options(w, 3)) {
    if (key == "uuid") {
      s.uuid = value;
    } else if (key == "no-uuid") {
      s.uuid.reset();
    } else if (key == "reason") {
      s.reason = value;
    } else if (key == "message") {
      s.message = value;
    } else {
      throw BadCommand("unknown status field '" + key + "'");
    }
  }
  if (s.state == core::TaskState::kRunning) {
    // The member has started: etcd lists it with its name from now on.
    for (auto& l : etcd_) {
      if (l.peer_url == m.peer_url()) {
        l.name = m.name;
        l.client_url = m.client_url();
      }
    }
  }
  feed(s);
}

void Runner::health(const std::vector<std::string>& w) {
  if (!check_) {
    throw BadCommand("no health check to answer");
  }
  if (w.size() < 2 || (w[1] != "healthy" && w[1] != "unhealthy")) {
    throw BadCommand("health healthy|unhealthy ...");
  }
  core::HealthResult r;
  r.healthy = w[1] == "healthy";
  std::vector<std::string> unreachable;
  uint64_t leader = 1;  // no member's id unless leader=NAME says whose
  if (r.healthy) {
    auto opts = options(w, 2);
    if (opts.contains("unreachable")) {
      unreachable = comma_list(opts["unreachable"]);
    }
    if (opts.contains("leader")) {
      leader = etcd_id_of(opts["leader"]);
    }
  } else {
    // Leading flags: unreachable=NAME,... and commits (HealthResult::commits).
    std::size_t at = 2;
    for (; at < w.size(); ++at) {
      if (w[at].starts_with("unreachable=")) {
        unreachable = comma_list(w[at].substr(std::string_view("unreachable=").size()));
      } else if (w[at] == "commits") {
        r.commits = true;
      } else {
        break;
      }
    }
    r.reason = join(w, at);
  }
  for (const auto& m : check_->members) {
    const bool down =
        std::find(unreachable.begin(), unreachable.end(), m.name) != unreachable.end();
    r.members.push_back(core::MemberHealth{m.name, !down, down ? 0u : leader, down ? 0u : 10u,
                                           down ? 0u : 2u, down ? "connection refused" : ""});
  }
  for (const auto& l : etcd_) {
    r.membership.push_back(core::EtcdMember{l.id,
                                            l.name,
                                            {l.peer_url},
                                            l.client_url.empty()
                                                ? std::vector<std::string>{}
                                                : std::vector<std::string>{l.client_url}});
  }
  const uint64_t id = check_->check_id;
  check_.reset();
  feed(core::HealthChecked{id, std::move(r)});
}

void Runner::member_added(const std::vector<std::string>& w) {
  if (w.size() < 3 || (w[2] != "ok" && w[2] != "fail")) {
    throw BadCommand("member-added NAME ok [id=N] | member-added NAME fail ERROR");
  }
  core::MemberAdded a;
  a.name = w[1];
  a.ok = w[2] == "ok";
  if (a.ok) {
    auto opts = options(w, 3);
    a.etcd_id = opts.contains("id") ? number(opts["id"]) : etcd_id_of(a.name);
    if (auto it = adding_.find(a.name); it != adding_.end()) {
      etcd_.push_back(Listed{a.etcd_id, "", it->second, ""});
    }
  } else {
    a.error = join(w, 3);
  }
  feed(a);
}

void Runner::member_removed(const std::vector<std::string>& w) {
  if (w.size() < 3 || (w[2] != "ok" && w[2] != "fail")) {
    throw BadCommand("member-removed NAME|id=N ok | member-removed NAME|id=N fail ERROR");
  }
  core::MemberRemoved r;
  r.etcd_id = w[1].starts_with("id=") ? number(w[1].substr(3)) : etcd_id_of(w[1]);
  r.ok = w[2] == "ok";
  if (r.ok) {
    std::erase_if(etcd_, [&](const Listed& l) { return l.id == r.etcd_id; });
  } else {
    r.error = join(w, 3);
  }
  feed(r);
}

void Runner::statuses(const std::vector<std::string>& w) {
  if (!query_) {
    throw BadCommand("no member status query to answer");
  }
  core::MemberStatuses s;
  s.query_id = query_->query_id;
  for (const auto& [name, value] : options(w, 1)) {
    core::MemberHealth h;
    h.name = name;
    h.reachable = value != "unreachable";
    if (h.reachable) {
      h.raft_index = number(value);
      h.raft_term = 2;
    }
    s.members.push_back(h);
  }
  query_.reset();
  feed(s);
}

void Runner::reseed_report(const std::vector<std::string>& w) {
  const bool fence_ok = w.size() > 4 && w[2] == "fence" && w[3] == "ok";
  if (w.size() < 4 || (w[2] != "fence" && w[2] != "seed") || (w[3] != "ok" && w[3] != "fail") ||
      (w[2] == "fence" && w[3] == "ok" && !fence_ok)) {
    throw BadCommand(
        "reseed-report MEMBER fence ok INDEX | MEMBER fence|seed fail [untouched] "
        "[message] | MEMBER seed ok [message]");
  }
  const core::Member& m = member(w[1]);
  core::ReseedReport r;
  r.task_id = m.task_id;
  r.reseed_id = reseed_ids_.contains(m.task_id) ? reseed_ids_[m.task_id] : 0;
  r.action = w[2] == "seed" ? core::ReseedAction::kSeed : core::ReseedAction::kFence;
  r.ok = w[3] == "ok";
  if (fence_ok) {
    r.raft_index = number(w[4]);  // what its stopped data holds
  }
  // "fail untouched ...": the executor says it changed nothing.
  const bool untouched = !r.ok && w.size() > 4 && w[4] == "untouched";
  r.data_untouched = untouched;
  r.message = join(w, untouched || fence_ok ? 5 : 4);
  if (r.ok && r.action == core::ReseedAction::kSeed) {
    // --force-new-cluster: etcd lists the seed alone from now on.
    std::erase_if(etcd_, [&](const Listed& l) { return l.peer_url != m.peer_url(); });
  }
  feed(r);
}

void Runner::backup_done(const std::vector<std::string>& w) {
  if (!backup_) {
    throw BadCommand("no backup to answer");
  }
  if (w.size() < 2 || (w[1] != "ok" && w[1] != "failed")) {
    throw BadCommand("backup-done ok revision=N size=N file=NAME | backup-done failed REASON");
  }
  core::BackupDone done;
  done.id = backup_->id;
  done.ok = w[1] == "ok";
  if (done.ok) {
    for (const auto& [key, value] : options(w, 2)) {
      if (key == "revision") {
        done.revision = number(value);
      } else if (key == "size") {
        done.size_bytes = number(value);
      } else if (key == "file") {
        done.file = value;
      } else {
        throw BadCommand("unknown backup-done key '" + key + "'");
      }
    }
  } else {
    done.error = join(w, 2);
  }
  feed(done);
}

std::vector<std::string> Runner::backups() const {
  const auto& b = core_->backups();
  std::string line = "backups: " + std::string(b.enabled ? "on" : "off") +
                     " successes=" + std::to_string(b.successes) +
                     " failures=" + std::to_string(b.failures);
  if (b.in_flight) {
    line += " in-flight=" + std::to_string(*b.in_flight);
  }
  if (b.last_success_at) {
    line += " last=" + b.last_file + " revision=" + std::to_string(b.last_revision) +
            " size=" + std::to_string(b.last_size_bytes);
  }
  if (b.last_failed) {
    line += " last-error=" + b.last_error;
  }
  std::vector<std::string> out{line};
  if (const auto next = core_->next_backup_at()) {
    out.push_back("next due in " + core::describe_duration(std::max(Millis{0}, *next - now_)));
    if (*next <= now_) {
      out.push_back("waiting: " + core_->why_not_backup().value_or("(nothing)"));
    }
  }
  return out;
}

}  // namespace

ScriptResult run_script(const std::string& text) {
  ScriptResult result;
  Runner runner;
  std::istringstream in(text);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  std::ostringstream out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    out << line << "\n";
    if (line.empty() || line.starts_with("#")) {
      continue;
    }
    const std::size_t command_line = i + 1;
    // Skip the expected output that follows; it is replaced below.
    if (i + 1 < lines.size() && lines[i + 1] == "----") {
      for (i += 2; i < lines.size() && !lines[i].empty(); ++i) {
      }
      --i;  // the blank line (or end) is handled by the loop
    }
    std::vector<std::string> output;
    try {
      output = runner.execute(line);
    } catch (const BadCommand& e) {
      result.error = "line " + std::to_string(command_line) + ": " + e.what();
      return result;
    }
    if (!output.empty()) {
      out << "----\n";
      for (const auto& o : output) {
        out << o << "\n";
      }
      if (i + 1 >= lines.size() || !lines[i + 1].empty()) {
        out << "\n";  // keep the block closed before the next command
      }
    }
  }
  result.actual = out.str();
  return result;
}

}  // namespace etcdmesos::scenario
