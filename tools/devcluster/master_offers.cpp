// Master: the allocator (offers, refuse filters, suppression) and ACCEPT /
// DECLINE with task validation.
#include "master.hpp"

#include "common/log.hpp"
#include "util.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace etcdmesos::devcluster {

namespace asio = boost::asio;

namespace {

auto log() {
  return etcdmesos::logger("master");
}

// Mesos' rules for task, executor and framework ids (reference §1).
std::optional<std::string> invalid_id(const std::string& kind, const std::string& id) {
  if (id.empty() || id.size() > 255 || id == "." || id == "..") {
    return kind + " '" + id + "' is invalid: must be 1-255 characters and not '.' or '..'";
  }
  for (unsigned char c : id) {
    if (c == '/' || c == '\\' || c < 0x20 || c == 0x7f) {
      return kind + " '" + id + "' contains invalid characters";
    }
  }
  return std::nullopt;
}

constexpr double kMaxRefuseSeconds = 365.0 * 24 * 3600;

}  // namespace

// ------------------------------------------------------------ allocation

void Master::allocate_soon() {
  if (allocation_posted_) {
    return;
  }
  allocation_posted_ = true;
  asio::post(ex_, [this] {
    allocation_posted_ = false;
    allocate();
  });
}

asio::awaitable<void> Master::allocation_loop() {
  // Periodic passes as Mesos' --allocation_interval: refuse filters expire
  // on them, no timer per filter is needed.
  asio::steady_timer timer(ex_);
  while (true) {
    timer.expires_after(options_.allocation_interval);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec || retired_) {
      co_return;
    }
    allocate();
  }
}

ResourceBag Master::free_resources(const std::string& agent_id) const {
  const AgentRecord* record = find_agent(agent_id);
  ResourceBag free = record->agent->total();
  for (const auto& [id, framework] : frameworks_) {
    for (const auto& [task_id, task] : framework->tasks) {
      if (task.agent_id == agent_id && !mesos::is_terminal(task.state)) {
        free -= task.resources;
      }
    }
    for (const auto& [key, executor] : framework->executors) {
      if (key.first == agent_id) {
        free -= executor.resources;
      }
    }
  }
  for (const auto& [id, offer] : offers_) {
    if (offer.agent_id == agent_id) {
      free -= offer.resources;
    }
  }
  return free;
}

Master::Framework* Master::pick_framework(const std::string& agent_id, const ResourceBag& free) {
  if (frameworks_.empty()) {
    return nullptr;
  }
  auto now = Clock::now();
  std::vector<Framework*> order;
  for (auto& [id, framework] : frameworks_) {
    order.push_back(framework.get());
  }
  // Round robin, so that with several frameworks each gets agents in turn.
  for (std::size_t i = 0; i < order.size(); ++i) {
    Framework* framework = order[(round_robin_ + i) % order.size()];
    if (!framework->connected()) {
      continue;
    }
    auto roles = framework->roles();
    bool all_suppressed = std::all_of(roles.begin(), roles.end(), [&](const std::string& r) {
      return framework->suppressed_roles.contains(r);
    });
    if (all_suppressed) {
      continue;
    }
    if (auto f = framework->filters.find(agent_id); f != framework->filters.end()) {
      if (f->second.until <= now) {
        framework->filters.erase(f);
      } else if (f->second.refused.contains(free)) {
        continue;  // refused these resources (or more) recently
      }
    }
    round_robin_ = (round_robin_ + i + 1) % order.size();
    return framework;
  }
  return nullptr;
}

void Master::allocate() {
  std::map<std::string, std::vector<mesos::Offer>> batches;
  for (const auto& agent_id : agent_order_) {
    AgentRecord& record = agents_.at(agent_id);
    if (!record.active || record.offer_id || !record.agent->running()) {
      continue;
    }
    ResourceBag free = free_resources(agent_id);
    if (!free.allocatable()) {
      continue;
    }
    Framework* framework = pick_framework(agent_id, free);
    if (framework == nullptr) {
      continue;
    }
    Offer offer;
    offer.id = info_.id + "-O" + std::to_string(next_offer_++);
    offer.framework_id = framework->id;
    offer.agent_id = agent_id;
    offer.resources = free;
    if (framework->multi_role()) {
      for (const auto& role : framework->roles()) {
        if (!framework->suppressed_roles.contains(role)) {
          offer.allocation_role = role;
          break;
        }
      }
    }
    record.offer_id = offer.id;
    batches[framework->id].push_back(make_offer_message(offer, *framework));
    log()->debug("offer '{}' of agent '{}' to framework '{}': {}", offer.id, agent_id,
                 framework->id, free.describe());
    offers_.emplace(offer.id, std::move(offer));
  }
  for (auto& [framework_id, offers] : batches) {
    mesos::Event event = mesos::EventOffers{std::move(offers)};
    send(*find_framework(framework_id), event);
  }
}

mesos::Offer Master::make_offer_message(const Offer& offer, const Framework& framework) const {
  const AgentRecord* record = find_agent(offer.agent_id);
  mesos::Offer m;
  m.id = offer.id;
  m.framework_id = offer.framework_id;
  m.agent_id = offer.agent_id;
  m.hostname = record->agent->ip();
  m.url_address = mesos::Address{record->agent->ip(), record->agent->ip(), record->agent->port()};
  m.resources = offer.resources.to_mesos(offer.allocation_role);
  for (const auto& [key, executor] : framework.executors) {
    if (key.first == offer.agent_id) {
      m.executor_ids.push_back(key.second);
    }
  }
  m.allocation_role = offer.allocation_role;
  return m;
}

void Master::remove_offer(const std::string& offer_id) {
  auto it = offers_.find(offer_id);
  if (it == offers_.end()) {
    return;
  }
  if (AgentRecord* record = find_agent(it->second.agent_id);
      record && record->offer_id == offer_id) {
    record->offer_id.reset();
  }
  offers_.erase(it);
}

void Master::rescind_offers_of_agent(const std::string& agent_id) {
  std::vector<std::string> ids;
  for (const auto& [id, offer] : offers_) {
    if (offer.agent_id == agent_id) {
      ids.push_back(id);
    }
  }
  for (const auto& id : ids) {
    if (Framework* framework = find_framework(offers_.at(id).framework_id)) {
      mesos::Event event = mesos::EventRescind{id};
      send(*framework, event);
    }
    remove_offer(id);
  }
}

void Master::recover_offers_of_framework(Framework& framework) {
  std::vector<std::string> ids;
  for (const auto& [id, offer] : offers_) {
    if (offer.framework_id == framework.id) {
      ids.push_back(id);
    }
  }
  for (const auto& id : ids) {
    remove_offer(id);
  }
  if (!ids.empty()) {
    allocate_soon();
  }
}

void Master::add_filter(Framework& framework, const std::string& agent_id,
                        const ResourceBag& refused, const std::optional<mesos::Filters>& filters) {
  double seconds = kDefaultRefuseSeconds;
  if (filters && filters->refuse_seconds) {
    seconds = *filters->refuse_seconds;
  }
  if (!(seconds >= 0)) {
    seconds = kDefaultRefuseSeconds;  // negative or NaN: Mesos uses the default
  }
  seconds = std::min(seconds, kMaxRefuseSeconds);
  if (seconds == 0 || refused.empty()) {
    return;
  }
  auto until = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  auto [it, inserted] = framework.filters.try_emplace(agent_id, RefuseFilter{refused, until});
  if (!inserted) {
    it->second.refused += refused;
    it->second.until = std::max(it->second.until, until);
  }
}

// ------------------------------------------------------------ ACCEPT / DECLINE

void Master::decline(Framework& framework, const std::vector<std::string>& offer_ids,
                     const std::optional<mesos::Filters>& filters) {
  for (const auto& id : offer_ids) {
    auto it = offers_.find(id);
    if (it == offers_.end() || it->second.framework_id != framework.id) {
      continue;  // unknown or already used: nothing to give back
    }
    Offer offer = it->second;
    remove_offer(id);
    add_filter(framework, offer.agent_id, offer.resources, filters);
  }
  allocate_soon();
}

void Master::accept(Framework& framework, const mesos::CallAccept& call) {
  std::optional<std::string> invalid;
  std::vector<Offer> taken;
  if (call.offer_ids.empty()) {
    invalid = "No offers specified";
  }
  for (const auto& id : call.offer_ids) {
    auto it = offers_.find(id);
    if (it == offers_.end() || it->second.framework_id != framework.id) {
      invalid = invalid.value_or("Offer " + id + " is no longer valid");
      continue;
    }
    taken.push_back(it->second);
    remove_offer(id);
  }
  for (const auto& offer : taken) {
    if (!invalid && offer.agent_id != taken.front().agent_id) {
      invalid = "Aggregated offers must belong to one single agent";
    }
  }
  if (invalid) {
    // The valid offers' resources come back without a filter.
    for (const auto& op : call.operations) {
      for (const auto& task : op.launch_tasks) {
        mesos::TaskStatus status;
        status.task_id = task.task_id;
        status.state = for_framework(framework, mesos::TaskState::kDropped);
        status.source = "SOURCE_MASTER";
        status.reason = "REASON_INVALID_OFFERS";
        status.message = "Task launched with invalid offers: " + *invalid;
        status.agent_id = task.agent_id;
        status.timestamp = wall_clock_seconds();
        mesos::Event event = mesos::EventUpdate{std::move(status)};
        send(framework, event);
      }
    }
    allocate_soon();
    return;
  }

  const std::string agent_id = taken.front().agent_id;
  const std::optional<std::string> role = taken.front().allocation_role;
  ResourceBag remaining;
  for (const auto& offer : taken) {
    remaining += offer.resources;
  }
  for (const auto& op : call.operations) {
    if (op.type != "LAUNCH") {
      // Without an operation id Mesos drops invalid operations silently.
      log()->warn("framework '{}': operation {} is not supported by mesos-devcluster; dropped",
                  framework.id, op.type);
      continue;
    }
    for (const auto& task : op.launch_tasks) {
      auto plan = plan_launch(framework, task, agent_id, remaining);
      if (!plan) {
        mesos::TaskStatus status;
        status.task_id = task.task_id;
        status.state = mesos::TaskState::kError;
        status.source = "SOURCE_MASTER";
        status.reason = "REASON_TASK_INVALID";
        status.message = plan.error().message;
        status.agent_id = task.agent_id;
        if (task.executor) {
          status.executor_id = task.executor->executor_id;
        }
        status.timestamp = wall_clock_seconds();
        mesos::Event event = mesos::EventUpdate{std::move(status)};
        log()->info("framework '{}': task '{}' refused: {}", framework.id, task.task_id,
                    plan.error().message);
        send(framework, event);
        continue;
      }
      remaining -= plan->total();
      launch_task(framework, task, agent_id, role, *plan);
    }
  }
  add_filter(framework, agent_id, remaining, call.filters);
  allocate_soon();
}

Result<Master::LaunchPlan> Master::plan_launch(const Framework& framework,
                                               const mesos::TaskInfo& task,
                                               const std::string& agent_id,
                                               const ResourceBag& remaining) const {
  if (auto bad = invalid_id("Task ID", task.task_id)) {
    return make_error(*bad);
  }
  if (framework.tasks.contains(task.task_id) ||
      framework.unreachable_tasks.contains(task.task_id)) {
    return make_error("Task has duplicate ID: " + task.task_id);
  }
  if (task.agent_id != agent_id) {
    return make_error("Task uses invalid agent: " + task.agent_id);
  }
  if (task.executor.has_value() == task.command.has_value()) {
    return make_error(
        "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present");
  }
  if (!task.executor) {
    return make_error(
        "mesos-devcluster runs only tasks with a custom executor (TaskInfo.executor); command "
        "tasks are not supported");
  }
  const mesos::ExecutorInfo& executor = *task.executor;
  if (auto bad = invalid_id("Executor ID", executor.executor_id)) {
    return make_error(*bad);
  }
  if (executor.type && *executor.type != "CUSTOM") {
    return make_error("Executor of type " + *executor.type +
                      " is not supported by mesos-devcluster (LAUNCH needs CUSTOM)");
  }
  if (!executor.command || !executor.command->value) {
    return make_error("Executor '" + executor.executor_id + "' has no command value");
  }
  if (executor.framework_id && *executor.framework_id != framework.id) {
    return make_error("ExecutorInfo has an invalid FrameworkID (Actual: " + *executor.framework_id +
                      " vs Expected: " + framework.id + ")");
  }
  auto task_resources = ResourceBag::from_mesos(task.resources);
  if (!task_resources) {
    return make_error("Task uses invalid resources: " + task_resources.error().message);
  }
  LaunchPlan plan;
  plan.task = *task_resources;
  auto running = framework.executors.find({agent_id, executor.executor_id});
  if (running != framework.executors.end()) {
    mesos::ExecutorInfo normalized = executor;
    normalized.framework_id = framework.id;
    if (!(running->second.info == normalized)) {
      return make_error(
          "ExecutorInfo is not compatible with ExecutorInfo of the running executor '" +
          executor.executor_id + "'");
    }
  } else {
    auto executor_resources = ResourceBag::from_mesos(executor.resources);
    if (!executor_resources) {
      return make_error("Executor uses invalid resources: " + executor_resources.error().message);
    }
    plan.new_executor = *executor_resources;
  }
  if (!remaining.contains(plan.total())) {
    return make_error("Task uses more resources " + plan.total().describe() + " than available " +
                      remaining.describe());
  }
  return plan;
}

void Master::launch_task(Framework& framework, mesos::TaskInfo task, const std::string& agent_id,
                         const std::optional<std::string>& role, const LaunchPlan& plan) {
  task.executor->framework_id = framework.id;
  if (plan.new_executor) {
    framework.executors[{agent_id, task.executor->executor_id}] =
        Executor{*task.executor, *plan.new_executor};
  }
  Task record;
  record.info = task;
  record.info.data.reset();
  record.framework_id = framework.id;
  record.agent_id = agent_id;
  record.executor_id = task.executor->executor_id;
  record.role = role;
  record.resources = plan.task;
  framework.tasks[task.task_id] = std::move(record);
  log()->info("framework '{}': launching task '{}' with executor '{}' on agent '{}'", framework.id,
              task.task_id, task.executor->executor_id, agent_id);
  // Recorded first: the agent may report on the task before this returns.
  agents_.at(agent_id).agent->launch(framework.info, std::move(task));
}

}  // namespace etcdmesos::devcluster
