#include "io/master_detector.hpp"

#include "codec/mesos.hpp"
#include "common/log.hpp"

#include <zookeeper/zookeeper.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <charconv>
#include <list>
#include <set>
#include <vector>

namespace etcdmesos::io {

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

constexpr std::string_view kMasterNodePrefix = "json.info_";

bool same(const std::optional<Endpoint>& a, const std::optional<Endpoint>& b) {
  if (a.has_value() != b.has_value()) {
    return false;
  }
  return !a || (a->host == b->host && a->port == b->port);
}

std::string describe(const std::optional<Endpoint>& e) {
  return e ? e->to_string() : "(none)";
}

bool valid_port(uint32_t port) {
  return port > 0 && port <= 65535;
}

}  // namespace

std::optional<uint64_t> master_node_sequence(std::string_view name) {
  if (name.substr(0, kMasterNodePrefix.size()) != kMasterNodePrefix) {
    return std::nullopt;
  }
  std::string_view digits = name.substr(kMasterNodePrefix.size());
  uint64_t seq = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
    return std::nullopt;
  }
  return seq;
}

std::optional<Endpoint> master_endpoint(const mesos::MasterInfo& info) {
  if (info.address && valid_port(info.address->port)) {
    const auto& a = *info.address;
    auto port = static_cast<uint16_t>(a.port);
    if (a.ip && !a.ip->empty()) {
      return Endpoint{*a.ip, port};
    }
    if (a.hostname && !a.hostname->empty()) {
      return Endpoint{*a.hostname, port};
    }
  }
  if (!valid_port(info.port)) {
    return std::nullopt;
  }
  auto port = static_cast<uint16_t>(info.port);
  if (info.hostname && !info.hostname->empty()) {
    return Endpoint{*info.hostname, port};
  }
  if (info.ip != 0) {
    // s_addr read natively on a little-endian master (reference §16).
    uint32_t ip = info.ip;
    return Endpoint{std::to_string(ip & 0xff) + "." + std::to_string((ip >> 8) & 0xff) + "." +
                        std::to_string((ip >> 16) & 0xff) + "." + std::to_string(ip >> 24),
                    port};
  }
  return std::nullopt;
}

struct MasterDetector::State : std::enable_shared_from_this<State> {
  State(asio::any_io_executor executor, ZkClient* client, std::string znode, milliseconds retry)
      : ex(std::move(executor)),
        zk(client),
        time(client != nullptr ? client->time() : real_time()),
        path(std::move(znode)),
        retry_interval(retry),
        retry_timer(ex, time) {}

  asio::any_io_executor ex;
  ZkClient* zk = nullptr;  // null in fixed mode and after stop()
  TimeSource& time;        // the client's: a fixed leader waits for nothing
  std::string path;
  milliseconds retry_interval;
  Timer retry_timer;

  std::optional<Endpoint> leader;
  std::vector<Listener> listeners;
  std::list<Timer*> waiters;

  bool refreshing = false;             // a refresh coroutine runs
  bool refresh_again = false;          // something changed while it ran
  bool watch_set = false;              // a child watch is outstanding
  std::set<std::string> reported_bad;  // nodes already logged as undecodable
  std::optional<int> last_error;       // logged once until a read succeeds

  void start();
  void stop();
  void set_leader(std::optional<Endpoint> next);
  void request_refresh();
  void schedule_retry();
  static asio::awaitable<void> refresh_loop(std::shared_ptr<State> self);
  asio::awaitable<Result<std::optional<Endpoint>>> find_leader();
};

void MasterDetector::State::start() {
  zk->on_session_state([weak = weak_from_this()](ZkSessionState s) {
    // Watches do not survive an expired session; read the children again.
    if (auto self = weak.lock(); self && s == ZkSessionState::kConnected) {
      self->request_refresh();
    }
  });
  request_refresh();
}

void MasterDetector::State::stop() {
  zk = nullptr;
  retry_timer.cancel();
  for (auto* w : waiters) {
    w->cancel();
  }
}

void MasterDetector::State::set_leader(std::optional<Endpoint> next) {
  if (same(leader, next)) {
    return;
  }
  logger("master-detector")
      ->info("leading master {} -> {} (znode '{}')", describe(leader), describe(next), path);
  leader = std::move(next);
  if (leader) {
    for (auto* w : waiters) {
      w->cancel();
    }
  }
  auto copy = listeners;  // a listener may add another
  for (auto& listener : copy) {
    listener(leader);
  }
}

void MasterDetector::State::request_refresh() {
  if (zk == nullptr) {
    return;
  }
  if (refreshing) {
    refresh_again = true;
    return;
  }
  refreshing = true;
  asio::co_spawn(ex, refresh_loop(shared_from_this()), asio::detached);
}

void MasterDetector::State::schedule_retry() {
  retry_timer.expires_after(retry_interval);
  retry_timer.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (auto self = weak.lock(); self && !ec) {
      self->request_refresh();
    }
  });
}

asio::awaitable<void> MasterDetector::State::refresh_loop(std::shared_ptr<State> self) {
  // Bounded: changes arriving while a pass runs are folded into one more pass.
  do {
    self->refresh_again = false;
    if (self->zk == nullptr) {
      break;
    }
    auto found = co_await self->find_leader();
    if (self->zk == nullptr) {
      break;
    }
    if (found) {
      self->last_error.reset();
      self->set_leader(*found);
    } else {
      // Retried every interval; the same failure is logged once.
      if (self->last_error != found.error().code) {
        logger("master-detector")
            ->warn("reading masters under '{}' failed: {}; retrying every {} ms", self->path,
                   found.error().message, self->retry_interval.count());
      }
      self->last_error = found.error().code;
      if (found.error().code == ZNONODE) {
        self->set_leader(std::nullopt);  // nobody registered (yet)
      }
      self->schedule_retry();
    }
  } while (self->refresh_again);
  self->refreshing = false;
}

asio::awaitable<Result<std::optional<Endpoint>>> MasterDetector::State::find_leader() {
  // At most one child watch is outstanding. The flag is set before asking:
  // the watch may fire before this coroutine resumes with the answer.
  std::function<void()> on_change;
  bool asked_watch = !watch_set;
  if (asked_watch) {
    watch_set = true;
    on_change = [weak = weak_from_this()] {
      if (auto s = weak.lock()) {
        s->watch_set = false;
        s->request_refresh();
      }
    };
  }
  auto kids = co_await zk->children(path, std::move(on_change));
  if (!kids) {
    if (asked_watch) {
      watch_set = false;  // a failed request registers no watch
    }
    co_return kids.error();
  }
  std::vector<std::pair<uint64_t, std::string>> candidates;
  for (auto& name : *kids) {
    if (auto seq = master_node_sequence(name)) {
      candidates.emplace_back(*seq, name);
    }
  }
  std::sort(candidates.begin(), candidates.end());
  std::erase_if(reported_bad, [&](const std::string& name) {
    return std::find(kids->begin(), kids->end(), name) == kids->end();
  });
  for (const auto& [seq, name] : candidates) {
    if (zk == nullptr) {
      co_return std::optional<Endpoint>();
    }
    // A named local: GCC 12 destroys temporaries of a ?: inside a co_await
    // expression twice.
    std::string node = (path == "/" ? "" : path) + "/" + name;
    auto data = co_await zk->get(node);
    if (!data) {
      co_return data.error();
    }
    if (!*data) {
      continue;  // deleted meanwhile; the watch brings the next pass
    }
    auto info = mesos::decode_master_info(**data);
    std::optional<Endpoint> endpoint = info ? master_endpoint(*info) : std::nullopt;
    if (endpoint) {
      co_return endpoint;
    }
    if (reported_bad.insert(name).second) {
      logger("master-detector")
          ->warn("ignoring master node '{}/{}': {}", path, name,
                 info ? "it names no address" : info.error().message);
    }
  }
  co_return std::optional<Endpoint>();
}

// ------------------------------------------------------------------ API

MasterDetector::MasterDetector(asio::any_io_executor ex, Endpoint leader)
    : state_(std::make_shared<State>(std::move(ex), nullptr, "", milliseconds(0))) {
  state_->leader = std::move(leader);
}

MasterDetector::MasterDetector(asio::any_io_executor ex, ZkClient& zk, std::string path,
                               milliseconds retry_interval)
    : state_(std::make_shared<State>(std::move(ex), &zk, std::move(path), retry_interval)) {
  state_->start();
}

Result<std::unique_ptr<MasterDetector>> MasterDetector::from_spec(asio::any_io_executor ex,
                                                                  std::string_view spec,
                                                                  milliseconds zk_session_timeout,
                                                                  TimeSource& time) {
  if (spec.substr(0, 5) != "zk://") {
    auto endpoint = parse_endpoint(spec);
    if (!endpoint) {
      return make_error("master '" + std::string(spec) + "': " + endpoint.error().message);
    }
    return std::make_unique<MasterDetector>(std::move(ex), *endpoint);
  }
  auto url = parse_zk_url(spec, false);
  if (!url) {
    return url.error();
  }
  auto zk = std::make_unique<ZkClient>(ex, url->servers, zk_session_timeout, ZkAccess{}, time);
  auto detector = std::make_unique<MasterDetector>(ex, *zk, url->path);
  detector->owned_zk_ = std::move(zk);
  return detector;
}

MasterDetector::~MasterDetector() {
  // Running coroutines keep the state alive but no longer touch the client.
  state_->stop();
}

std::optional<Endpoint> MasterDetector::leader() const {
  return state_->leader;
}

asio::awaitable<std::optional<Endpoint>> MasterDetector::current_leader(milliseconds wait) {
  auto state = state_;
  const auto deadline = state->time.now() + wait;
  while (!state->leader && state->zk != nullptr && state->time.now() < deadline) {
    Timer timer(state->ex, state->time);
    timer.expires_at(deadline);
    state->waiters.push_back(&timer);
    auto it = std::prev(state->waiters.end());
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    state->waiters.erase(it);
  }
  co_return state->leader;
}

void MasterDetector::on_leader_change(Listener listener) {
  state_->listeners.push_back(std::move(listener));
}

}  // namespace etcdmesos::io
