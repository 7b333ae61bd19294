#include "io/framework_store.hpp"

#include "common/log.hpp"

#include <zookeeper/zookeeper.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <deque>
#include <variant>

namespace etcdmesos::io {

namespace asio = boost::asio;
using persisted::FrameworkIdRecord;
using persisted::SettingsRecord;
using persisted::TaskRecord;

namespace {

auto log() {
  return logger("framework-store");
}

std::string parent_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

enum class RecordKind { kFrameworkId, kSettings, kTask };

// The sequence of the record at `path`, nullopt when its data does not parse.
std::optional<uint64_t> stored_sequence(RecordKind kind, const std::string& data) {
  auto sequence = [](const auto& record) {
    return record ? std::optional(record->sequence) : std::nullopt;
  };
  switch (kind) {
    case RecordKind::kTask:
      return sequence(persisted::decode_task_record(data));
    case RecordKind::kSettings:
      return sequence(persisted::decode_settings_record(data));
    case RecordKind::kFrameworkId:
      break;
  }
  return sequence(persisted::decode_framework_id_record(data));
}

}  // namespace

FrameworkPaths framework_paths(const std::string& chroot, const std::string& framework_name) {
  FrameworkPaths p;
  p.base = (chroot == "/" ? "" : chroot) + "/" + framework_name;
  p.framework_id = p.base + "/framework_id";
  p.settings = p.base + "/settings";
  p.tasks = p.base + "/tasks";
  p.leader = p.base + "/leader";
  return p;
}

Result<PersistLocation> persist_location(std::string_view url, std::string_view framework_name) {
  auto parsed = parse_zk_url(url, true);
  if (!parsed) {
    return make_error("-zk-framework-persist: " + parsed.error().message);
  }
  if (!persisted::valid_node_name(framework_name)) {
    return make_error("-framework-name '" + std::string(framework_name) +
                      "' cannot name a ZooKeeper node (printable ASCII without '/', not . or ..)");
  }
  return PersistLocation{parsed->servers,
                         framework_paths(parsed->path, std::string(framework_name))};
}

// ------------------------------------------------------------------ state

struct FrameworkStore::State : std::enable_shared_from_this<State> {
  struct LoadOp {
    Loaded done;
  };
  struct FrameworkIdOp {
    std::string framework_id;
    Done done;
  };
  struct SettingsOp {
    uint64_t cluster_size = 0;
    Done done;
  };
  struct PutTaskOp {
    TaskRecord record;
    Done done;
  };
  struct RemoveTaskOp {
    std::string task_id;
    Done done;
  };
  struct ClearOp {
    Done done;
  };
  using Op = std::variant<LoadOp, FrameworkIdOp, SettingsOp, PutTaskOp, RemoveTaskOp, ClearOp>;

  State(asio::any_io_executor executor, ZkClient& client, FrameworkPaths p, Limits l)
      : ex(std::move(executor)), zk(&client), paths(std::move(p)), limits(l) {}

  asio::any_io_executor ex;
  ZkClient* zk;  // null once the store is destroyed
  FrameworkPaths paths;
  Limits limits;
  std::deque<Op> queue;
  bool draining = false;
  bool closed = false;
  bool loaded = false;
  uint64_t next_sequence = 1;

  void enqueue(Op op);
  void reject(Op op, const Error& error);
  void fail_queued(const Error& error);
  static asio::awaitable<void> drain(std::shared_ptr<State> self);
  asio::awaitable<void> execute(Op op);
  std::optional<Error> not_ready(bool needs_load) const;

  asio::awaitable<Result<PersistedState>> do_load();
  asio::awaitable<void> load_tasks(PersistedState& state, Result<void>& outcome);
  asio::awaitable<Result<void>> write_record(std::string path, std::string data, uint64_t sequence,
                                             RecordKind kind);
  asio::awaitable<Result<void>> do_clear();
  void raise_sequence(uint64_t seen) { next_sequence = std::max(next_sequence, seen + 1); }
};

void FrameworkStore::State::enqueue(Op op) {
  if (closed) {
    reject(std::move(op), make_error("framework store closed: nothing more is persisted"));
    return;
  }
  if (queue.size() >= limits.max_queued) {
    reject(std::move(op), make_error("framework store: " + std::to_string(queue.size()) +
                                     " operations already queued; refusing more"));
    return;
  }
  queue.push_back(std::move(op));
  if (!draining) {
    draining = true;
    asio::co_spawn(ex, drain(shared_from_this()), asio::detached);
  }
}

// Completes `op` with `error` later on the loop, never inside the caller.
void FrameworkStore::State::reject(Op op, const Error& error) {
  asio::post(ex, [op = std::move(op), error, weak = weak_from_this()]() mutable {
    auto self = weak.lock();
    if (!self || self->zk == nullptr) {
      return;  // the store is gone; so is whoever asked
    }
    std::visit([&](auto& o) { o.done(error); }, op);
  });
}

void FrameworkStore::State::fail_queued(const Error& error) {
  auto waiting = std::move(queue);
  queue.clear();
  for (auto& op : waiting) {
    reject(std::move(op), error);
  }
}

asio::awaitable<void> FrameworkStore::State::drain(std::shared_ptr<State> self) {
  while (!self->queue.empty() && self->zk != nullptr) {
    Op op = std::move(self->queue.front());
    self->queue.pop_front();
    co_await self->execute(std::move(op));
  }
  self->draining = false;
}

std::optional<Error> FrameworkStore::State::not_ready(bool needs_load) const {
  if (zk->state() != ZkSessionState::kConnected) {
    return make_error(
        std::string("cannot persist: the ZooKeeper session is ") + to_string(zk->state()),
        ZCONNECTIONLOSS);
  }
  if (needs_load && !loaded) {
    return make_error("framework store: load() must succeed before anything is written");
  }
  return std::nullopt;
}

// Runs one operation and hands its outcome to its callback, unless the store
// was destroyed meanwhile.
asio::awaitable<void> FrameworkStore::State::execute(Op op) {
  if (auto* load = std::get_if<LoadOp>(&op)) {
    Result<PersistedState> state = make_error("not loaded");
    if (auto error = not_ready(false)) {
      state = *error;
    } else {
      state = co_await do_load();  // not inside ?: (GCC 12 coroutine pitfall)
    }
    if (zk != nullptr) {
      load->done(std::move(state));
    }
    co_return;
  }
  Result<void> outcome;
  if (auto error = not_ready(!std::holds_alternative<ClearOp>(op))) {
    outcome = *error;
  } else if (auto* fw = std::get_if<FrameworkIdOp>(&op)) {
    FrameworkIdRecord record{fw->framework_id, next_sequence++};
    outcome = co_await write_record(paths.framework_id, persisted::encode(record), record.sequence,
                                    RecordKind::kFrameworkId);
  } else if (auto* settings = std::get_if<SettingsOp>(&op)) {
    SettingsRecord record{settings->cluster_size, next_sequence++};
    outcome = co_await write_record(paths.settings, persisted::encode(record), record.sequence,
                                    RecordKind::kSettings);
  } else if (auto* put = std::get_if<PutTaskOp>(&op)) {
    put->record.sequence = next_sequence++;
    outcome = co_await write_record(paths.tasks + "/" + put->record.task_id,
                                    persisted::encode(put->record), put->record.sequence,
                                    RecordKind::kTask);
  } else if (auto* remove = std::get_if<RemoveTaskOp>(&op)) {
    outcome = co_await zk->remove(paths.tasks + "/" + remove->task_id);
  } else {
    outcome = co_await do_clear();
  }
  if (zk == nullptr) {
    co_return;
  }
  if (!outcome) {
    log()->warn("persisting failed: {}", outcome.error().message);
  }
  std::visit(
      [&](auto& o) {
        if constexpr (!std::is_same_v<std::decay_t<decltype(o)>, LoadOp>) {
          o.done(outcome);
        }
      },
      op);
}

// A write refuses to replace a record that carries an equal or higher
// sequence: it was written after this one was issued, by another scheduler
// that loaded what this one wrote (a deposed leader's late write must not
// undo its successor's). A record that does not parse is replaced.
asio::awaitable<Result<void>> FrameworkStore::State::write_record(std::string path,
                                                                  std::string data,
                                                                  uint64_t sequence,
                                                                  RecordKind kind) {
  auto current = co_await zk->get(path);
  if (!current) {
    co_return current.error();
  }
  if (*current) {
    auto stored = stored_sequence(kind, **current);
    if (stored && *stored >= sequence) {
      co_return make_error("stale write to " + path + ": it holds sequence " +
                               std::to_string(*stored) + ", this write has " +
                               std::to_string(sequence) + " (another scheduler wrote it later)",
                           ZBADVERSION);
    }
    if (!stored) {
      log()->warn("replacing unparsable data at '{}'", path);
    }
  }
  if (zk == nullptr) {
    co_return make_error("framework store destroyed", ZCLOSING);
  }
  auto put = co_await zk->put(path, data);
  if (!put && put.error().code == ZNONODE && zk != nullptr) {
    // The parent is missing: first write, or after clear().
    auto ensured = co_await zk->ensure_path(parent_of(path));
    if (!ensured) {
      co_return ensured.error();
    }
    if (zk == nullptr) {
      co_return make_error("framework store destroyed", ZCLOSING);
    }
    put = co_await zk->put(path, data);
  }
  co_return put;
}

asio::awaitable<Result<PersistedState>> FrameworkStore::State::do_load() {
  PersistedState state;
  auto id = co_await zk->get(paths.framework_id);
  if (!id) {
    co_return id.error();
  }
  if (*id) {
    auto record = persisted::decode_framework_id_record(**id);
    if (record) {
      raise_sequence(record->sequence);
      state.framework_id = std::move(*record);
    } else {
      state.bad.push_back({paths.framework_id, record.error().message});
    }
  }
  if (zk == nullptr) {
    co_return make_error("framework store destroyed", ZCLOSING);
  }
  auto settings = co_await zk->get(paths.settings);
  if (!settings) {
    co_return settings.error();
  }
  if (*settings) {
    auto record = persisted::decode_settings_record(**settings);
    if (record) {
      raise_sequence(record->sequence);
      state.settings = *record;
    } else {
      state.bad.push_back({paths.settings, record.error().message});
    }
  }
  Result<void> outcome;
  if (zk == nullptr) {
    co_return make_error("framework store destroyed", ZCLOSING);
  }
  co_await load_tasks(state, outcome);
  if (!outcome) {
    co_return outcome.error();
  }
  for (const auto& bad : state.bad) {
    log()->warn("ignoring persisted record '{}': {}", bad.path, bad.reason);
  }
  log()->info("loaded from '{}': framework id {}, {} task record(s), {} unparsable", paths.base,
              state.framework_id ? "'" + state.framework_id->framework_id + "'" : "(none)",
              state.tasks.size(), state.bad.size());
  loaded = true;
  co_return state;
}

asio::awaitable<void> FrameworkStore::State::load_tasks(PersistedState& state,
                                                        Result<void>& outcome) {
  auto names = co_await zk->children(paths.tasks);
  if (!names) {
    if (names.error().code != ZNONODE) {
      outcome = names.error();
    }
    co_return;  // no tasks node: nothing persisted
  }
  std::sort(names->begin(), names->end());
  for (std::size_t i = 0; i < names->size(); ++i) {
    std::string path = paths.tasks + "/" + (*names)[i];
    if (i >= limits.max_tasks) {
      state.bad.push_back(
          {path, "not read: more than " + std::to_string(limits.max_tasks) + " task records"});
      continue;
    }
    if (zk == nullptr) {
      outcome = make_error("framework store destroyed", ZCLOSING);
      co_return;
    }
    auto data = co_await zk->get(path);
    if (!data) {
      outcome = data.error();
      co_return;
    }
    if (!*data) {
      continue;  // removed meanwhile
    }
    auto record = persisted::decode_task_record(**data);
    if (!record) {
      state.bad.push_back({path, record.error().message});
    } else if (record->task_id != (*names)[i]) {
      state.bad.push_back({path, "names task '" + record->task_id + "'"});
    } else {
      raise_sequence(record->sequence);
      state.tasks.push_back(std::move(*record));
    }
  }
}

asio::awaitable<Result<void>> FrameworkStore::State::do_clear() {
  // Children first: ZooKeeper deletes only empty nodes.
  auto names = co_await zk->children(paths.tasks);
  if (!names && names.error().code != ZNONODE) {
    co_return names.error();
  }
  if (names) {
    for (const auto& name : *names) {
      if (zk == nullptr) {
        co_return make_error("framework store destroyed", ZCLOSING);
      }
      auto removed = co_await zk->remove(paths.tasks + "/" + name);
      if (!removed) {
        co_return removed.error();
      }
    }
  }
  for (const auto* path : {&paths.tasks, &paths.framework_id}) {
    if (zk == nullptr) {
      co_return make_error("framework store destroyed", ZCLOSING);
    }
    auto removed = co_await zk->remove(*path);
    if (!removed) {
      co_return removed.error();  // ZNOTEMPTY: a task was written meanwhile by someone else
    }
  }
  log()->warn("cleared the framework id and every task record under '{}'", paths.base);
  co_return Result<void>{};
}

// ------------------------------------------------------------------ API

FrameworkStore::FrameworkStore(asio::any_io_executor ex, ZkClient& zk, FrameworkPaths paths,
                               Limits limits)
    : state_(std::make_shared<State>(std::move(ex), zk, std::move(paths), limits)) {}

FrameworkStore::FrameworkStore(asio::any_io_executor ex, ZkClient& zk, FrameworkPaths paths)
    : FrameworkStore(std::move(ex), zk, std::move(paths), Limits{}) {}

FrameworkStore::~FrameworkStore() {
  // A running drain keeps the state alive but stops touching the client and
  // calls no callback.
  state_->zk = nullptr;
  state_->closed = true;
  state_->queue.clear();
}

void FrameworkStore::load(Loaded done) {
  state_->enqueue(State::LoadOp{std::move(done)});
}

void FrameworkStore::set_cluster_size(uint64_t cluster_size, Done done) {
  state_->enqueue(State::SettingsOp{cluster_size, std::move(done)});
}

void FrameworkStore::set_framework_id(std::string framework_id, Done done) {
  if (framework_id.empty()) {
    state_->reject(State::FrameworkIdOp{"", std::move(done)},
                   make_error("framework store: empty framework id"));
    return;
  }
  state_->enqueue(State::FrameworkIdOp{std::move(framework_id), std::move(done)});
}

void FrameworkStore::put_task(TaskRecord record, Done done) {
  if (!persisted::valid_node_name(record.task_id)) {
    auto error = make_error("framework store: task id '" + record.task_id.substr(0, 64) +
                            "' cannot be a ZooKeeper node name");
    state_->reject(State::PutTaskOp{std::move(record), std::move(done)}, error);
    return;
  }
  state_->enqueue(State::PutTaskOp{std::move(record), std::move(done)});
}

void FrameworkStore::remove_task(std::string task_id, Done done) {
  if (!persisted::valid_node_name(task_id)) {
    auto error = make_error("framework store: task id '" + task_id.substr(0, 64) +
                            "' cannot be a ZooKeeper node name");
    state_->reject(State::RemoveTaskOp{std::move(task_id), std::move(done)}, error);
    return;
  }
  state_->enqueue(State::RemoveTaskOp{std::move(task_id), std::move(done)});
}

void FrameworkStore::clear(Done done) {
  state_->enqueue(State::ClearOp{std::move(done)});
}

void FrameworkStore::close() {
  if (state_->closed) {
    return;
  }
  state_->closed = true;
  state_->fail_queued(make_error("framework store closed: nothing more is persisted"));
}

bool FrameworkStore::loaded() const {
  return state_->loaded;
}

std::size_t FrameworkStore::queued() const {
  return state_->queue.size();
}

const FrameworkPaths& FrameworkStore::paths() const {
  return state_->paths;
}

}  // namespace etcdmesos::io
