#include "io/leader_election.hpp"

#include "common/log.hpp"

#include <zookeeper/zookeeper.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <charconv>
#include <vector>

namespace etcdmesos::io {

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

constexpr std::string_view kNodePrefix = "member_";

auto log() {
  return logger("leader-election");
}

std::string basename(const std::string& path) {
  return path.substr(path.rfind('/') + 1);
}

// Election node names, lowest sequence first; other names are ignored.
std::vector<std::string> candidates(std::vector<std::string> names) {
  std::vector<std::pair<uint64_t, std::string>> seqs;
  for (auto& name : names) {
    if (auto seq = election_node_sequence(name)) {
      seqs.emplace_back(*seq, std::move(name));
    }
  }
  std::sort(seqs.begin(), seqs.end());
  std::vector<std::string> out;
  for (auto& [seq, name] : seqs) {
    out.push_back(std::move(name));
  }
  return out;
}

// Whether a create may have succeeded although its answer was an error: the
// request reached the server, the answer did not come back.
bool maybe_created(int code) {
  return code == ZOPERATIONTIMEOUT || code == ZCONNECTIONLOSS;
}

}  // namespace

std::optional<uint64_t> election_node_sequence(std::string_view name) {
  if (name.substr(0, kNodePrefix.size()) != kNodePrefix) {
    return std::nullopt;
  }
  std::string_view digits = name.substr(kNodePrefix.size());
  uint64_t seq = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
    return std::nullopt;
  }
  return seq;
}

struct LeaderElection::State : std::enable_shared_from_this<State> {
  State(asio::any_io_executor executor, ZkClient& client, std::string directory,
        std::string candidate_info, Callbacks cb, Options opts)
      : ex(std::move(executor)),
        zk(&client),
        dir(std::move(directory)),
        info(std::move(candidate_info)),
        callbacks(std::move(cb)),
        options(opts),
        retry_timer(ex, client.time()),
        recheck_timer(ex, client.time()),
        grace_timer(ex, client.time()) {}

  asio::any_io_executor ex;
  ZkClient* zk;  // null once stopped
  std::string dir;
  std::string info;
  Callbacks callbacks;
  Options options;
  Timer retry_timer;
  Timer recheck_timer;
  Timer grace_timer;  // runs while a leader is disconnected
  bool grace_armed = false;
  uint64_t grace_epoch = 0;  // a cancelled wait that runs late sees a newer one

  bool leading = false;
  std::optional<std::string> leader;  // the leader's info as last read
  std::string own;                    // own node path, empty while none
  uint64_t own_generation = 0;        // the session it belongs to
  // A create failed in a way that may have left a node of ours behind in
  // this session generation; it is removed before creating another, or it
  // could lead (or block) with nobody acting for it.
  std::optional<uint64_t> uncertain_generation;
  std::string watched;  // node with an outstanding watch
  uint64_t watched_generation = 0;

  bool checking = false;
  bool check_again = false;
  std::optional<int> last_error;

  void start();
  void stop();
  void on_session(ZkSessionState s);
  void start_grace();
  void cancel_grace();
  void elect();
  void depose(const std::string& why);
  void request_check();
  void schedule(Timer& timer, milliseconds after);
  static asio::awaitable<void> check_loop(std::shared_ptr<State> self);
  asio::awaitable<Result<void>> check();
  asio::awaitable<Result<void>> join(uint64_t generation);
  asio::awaitable<Result<void>> remove_leftovers();
  asio::awaitable<Result<void>> watch(std::string node, uint64_t generation);
  static asio::awaitable<Result<std::optional<std::string>>> read_leader(
      std::shared_ptr<State> self);
  bool stopped() const { return zk == nullptr; }
};

void LeaderElection::State::start() {
  zk->on_session_state([weak = weak_from_this()](ZkSessionState s) {
    if (auto self = weak.lock()) {
      self->on_session(s);
    }
  });
  request_check();
  schedule(recheck_timer, options.recheck_interval);
}

void LeaderElection::State::stop() {
  if (stopped()) {
    return;
  }
  leading = false;
  retry_timer.cancel();
  recheck_timer.cancel();
  cancel_grace();
  if (!own.empty() && own_generation == zk->generation()) {
    // The awaitable holds the client's own state, so it may finish after
    // both the election and the client are gone.
    asio::co_spawn(ex, zk->remove(own), asio::detached);
    log()->info("withdrew candidate '{}'", own);
  }
  zk = nullptr;
}

void LeaderElection::State::on_session(ZkSessionState s) {
  if (stopped()) {
    return;
  }
  if (s == ZkSessionState::kConnected) {
    cancel_grace();
    request_check();
    return;
  }
  if (s == ZkSessionState::kConnecting && leading && options.disconnect_grace > milliseconds(0)) {
    start_grace();
    return;
  }
  // Expired, or disconnected without a grace: another candidate may be
  // elected from now on without this one hearing of it.
  cancel_grace();
  leader.reset();
  depose(std::string("ZooKeeper session ") + to_string(s));
}

void LeaderElection::State::start_grace() {
  if (grace_armed) {
    return;
  }
  grace_armed = true;
  log()->warn("lost the ZooKeeper connection; still leading for at most {} ms",
              options.disconnect_grace.count());
  grace_timer.expires_after(options.disconnect_grace);
  grace_timer.async_wait(
      [weak = weak_from_this(), epoch = grace_epoch](boost::system::error_code ec) {
        auto self = weak.lock();
        if (!self || ec || epoch != self->grace_epoch || self->stopped()) {
          return;
        }
        self->grace_armed = false;
        if (self->zk->state() == ZkSessionState::kConnected) {
          return;
        }
        self->leader.reset();
        self->depose("the ZooKeeper connection stayed lost for longer than the grace");
      });
}

void LeaderElection::State::cancel_grace() {
  grace_armed = false;
  ++grace_epoch;
  grace_timer.cancel();
}

void LeaderElection::State::elect() {
  leader = info;
  if (leading) {
    return;
  }
  leading = true;
  log()->info("elected leader as '{}' ({})", own, info);
  if (callbacks.on_elected) {
    callbacks.on_elected();
  }
}

void LeaderElection::State::depose(const std::string& why) {
  if (!leading) {
    return;
  }
  leading = false;
  log()->warn("deposed as leader ('{}'): {}", own, why);
  if (callbacks.on_deposed) {
    callbacks.on_deposed();
  }
}

void LeaderElection::State::request_check() {
  if (stopped()) {
    return;
  }
  if (checking) {
    check_again = true;
    return;
  }
  checking = true;
  asio::co_spawn(ex, check_loop(shared_from_this()), asio::detached);
}

void LeaderElection::State::schedule(Timer& timer, milliseconds after) {
  timer.expires_after(after);
  const bool recheck = &timer == &recheck_timer;
  timer.async_wait([weak = weak_from_this(), recheck](boost::system::error_code ec) {
    auto self = weak.lock();
    if (!self || ec || self->stopped()) {
      return;
    }
    if (recheck) {
      self->schedule(self->recheck_timer, self->options.recheck_interval);
    }
    self->request_check();
  });
}

asio::awaitable<void> LeaderElection::State::check_loop(std::shared_ptr<State> self) {
  // Bounded: changes arriving while a pass runs are folded into one more.
  do {
    self->check_again = false;
    if (self->stopped() || self->zk->state() != ZkSessionState::kConnected) {
      break;  // the session listener asks again once connected
    }
    auto checked = co_await self->check();
    if (self->stopped()) {
      break;
    }
    if (checked) {
      self->last_error.reset();
    } else {
      if (self->last_error != checked.error().code) {
        log()->warn("election under '{}': {}; retrying every {} ms", self->dir,
                    checked.error().message, self->options.retry_interval.count());
      }
      self->last_error = checked.error().code;
      self->schedule(self->retry_timer, self->options.retry_interval);
    }
  } while (self->check_again);
  self->checking = false;
}

// One pass: make sure this candidate has a node in the current session, then
// lead if it is the lowest, else watch its predecessor.
asio::awaitable<Result<void>> LeaderElection::State::check() {
  const uint64_t generation = zk->generation();
  if (own.empty() || own_generation != generation) {
    depose("its node belonged to an ended session");
    auto joined = co_await join(generation);
    if (!joined || stopped()) {
      co_return joined;
    }
  }
  auto names = co_await zk->children(dir);
  if (!names || stopped()) {
    co_return names ? Result<void>{} : Result<void>(names.error());
  }
  auto nodes = candidates(std::move(*names));
  auto mine = std::find(nodes.begin(), nodes.end(), basename(own));
  if (mine == nodes.end()) {
    // Deleted by someone else, or the session ended meanwhile.
    depose("its node '" + own + "' is gone");
    own.clear();
    check_again = true;
    co_return Result<void>{};
  }
  if (mine == nodes.begin()) {
    elect();
    if (stopped()) {
      co_return Result<void>{};
    }
    // Watching its own node tells the leader when it is deleted under it.
    co_return co_await watch(own, generation);
  }
  depose("a lower node '" + nodes.front() + "' exists");
  std::string predecessor = dir + "/" + *std::prev(mine);
  auto leader_data = co_await zk->get(dir + "/" + nodes.front());
  if (stopped()) {
    co_return Result<void>{};
  }
  if (leader_data) {
    leader = *leader_data;  // nullopt when it vanished meanwhile
    if (leader && *leader != info && callbacks.on_other_leader) {
      callbacks.on_other_leader();
      if (stopped()) {
        co_return Result<void>{};
      }
    }
  }
  co_return co_await watch(predecessor, generation);
}

asio::awaitable<Result<void>> LeaderElection::State::join(uint64_t generation) {
  own.clear();
  if (uncertain_generation == generation) {
    auto removed = co_await remove_leftovers();
    if (!removed || stopped()) {
      co_return removed;
    }
  }
  auto ensured = co_await zk->ensure_path(dir);
  if (!ensured || stopped()) {
    co_return ensured;
  }
  auto created = co_await zk->create(dir + "/" + std::string(kNodePrefix), info, true, true);
  if (!created) {
    if (maybe_created(created.error().code)) {
      uncertain_generation = generation;
    }
    co_return created.error();
  }
  uncertain_generation.reset();
  own = *created;
  own_generation = generation;
  log()->info("joined the election under '{}' as '{}' ({})", dir, own, info);
  co_return Result<void>{};
}

// Removes nodes carrying this candidate's info: left by a create whose answer
// was lost. Another live candidate never carries the same info.
asio::awaitable<Result<void>> LeaderElection::State::remove_leftovers() {
  auto names = co_await zk->children(dir);
  if (!names) {
    co_return names.error().code == ZNONODE ? Result<void>{} : Result<void>(names.error());
  }
  for (const auto& name : candidates(std::move(*names))) {
    if (stopped()) {
      co_return Result<void>{};
    }
    std::string path = dir + "/" + name;
    auto data = co_await zk->get(path);
    if (!data) {
      co_return data.error();
    }
    if (*data == info && !stopped()) {
      log()->warn("removing '{}': left behind by a create whose answer was lost", path);
      auto removed = co_await zk->remove(path);
      if (!removed) {
        co_return removed.error();
      }
    }
  }
  co_return Result<void>{};
}

// Sets one watch on `node`, unless one is already outstanding in this session.
// ZNONODE: the node went before the watch was set; the pass runs again.
asio::awaitable<Result<void>> LeaderElection::State::watch(std::string node, uint64_t generation) {
  if (watched == node && watched_generation == generation) {
    co_return Result<void>{};
  }
  // Set before asking: the watch may fire before this coroutine resumes.
  watched = node;
  watched_generation = generation;
  auto on_change = [weak = weak_from_this(), node] {
    if (auto self = weak.lock(); self && !self->stopped()) {
      if (self->watched == node) {
        self->watched.clear();
      }
      self->request_check();
    }
  };
  auto kids = co_await zk->children(node, std::move(on_change));
  if (!kids) {
    if (watched == node) {
      watched.clear();  // a failed request registers no watch
    }
    if (kids.error().code == ZNONODE) {
      check_again = true;
      co_return Result<void>{};
    }
    co_return kids.error();
  }
  co_return Result<void>{};
}

asio::awaitable<Result<std::optional<std::string>>> LeaderElection::State::read_leader(
    std::shared_ptr<State> self) {
  if (self->stopped()) {
    co_return make_error("leader election stopped");
  }
  auto names = co_await self->zk->children(self->dir);
  if (!names) {
    if (names.error().code == ZNONODE) {
      co_return std::optional<std::string>();
    }
    co_return names.error();
  }
  // Bounded: a candidate that goes between listing and reading is skipped.
  for (const auto& name : candidates(std::move(*names))) {
    if (self->stopped()) {
      co_return make_error("leader election stopped");
    }
    auto data = co_await self->zk->get(self->dir + "/" + name);
    if (!data) {
      co_return data.error();
    }
    if (*data) {
      co_return std::move(*data);
    }
  }
  co_return std::optional<std::string>();
}

// ------------------------------------------------------------------ API

LeaderElection::LeaderElection(asio::any_io_executor ex, ZkClient& zk, std::string dir,
                               std::string info, Callbacks callbacks, Options options)
    : state_(std::make_shared<State>(std::move(ex), zk, std::move(dir), std::move(info),
                                     std::move(callbacks), options)) {}

LeaderElection::LeaderElection(asio::any_io_executor ex, ZkClient& zk, std::string dir,
                               std::string info, Callbacks callbacks)
    : LeaderElection(std::move(ex), zk, std::move(dir), std::move(info), std::move(callbacks),
                     Options{}) {}

LeaderElection::~LeaderElection() {
  state_->stop();
}

void LeaderElection::start() {
  if (!state_->stopped()) {
    state_->start();
  }
}

void LeaderElection::stop() {
  state_->stop();
}

bool LeaderElection::leading() const {
  return state_->leading;
}

std::optional<std::string> LeaderElection::leader_info() const {
  return state_->leader;
}

asio::awaitable<Result<std::optional<std::string>>> LeaderElection::read_leader_info() {
  return State::read_leader(state_);
}

std::string LeaderElection::node() const {
  return state_->own;
}

std::string LeaderElection::watched_node_ForTest() const {
  return state_->watched;
}

}  // namespace etcdmesos::io
