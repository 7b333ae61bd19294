// Master: GET /state in the legacy (v0) JSON shape of reference §17.
#include "master.hpp"

#include "util.hpp"

#include <boost/json/parse.hpp>

namespace etcdmesos::devcluster {

namespace json = boost::json;

namespace {

json::array labels_json(const std::vector<mesos::Label>& labels) {
  json::array out;
  for (const auto& label : labels) {
    out.push_back(json::object{{"key", label.key}, {"value", label.value}});
  }
  return out;
}

json::object discovery_json(const mesos::DiscoveryInfo& discovery) {
  json::object out;
  out["visibility"] = discovery.visibility;
  auto optional = [&](const char* key, const std::optional<std::string>& value) {
    if (value) {
      out[key] = *value;
    }
  };
  optional("name", discovery.name);
  optional("environment", discovery.environment);
  optional("location", discovery.location);
  optional("version", discovery.version);
  if (!discovery.ports.empty()) {
    json::array ports;
    for (const auto& port : discovery.ports) {
      json::object p{{"number", port.number}};
      if (port.name) {
        p["name"] = *port.name;
      }
      if (port.protocol) {
        p["protocol"] = *port.protocol;
      }
      ports.push_back(std::move(p));
    }
    out["ports"] = json::object{{"ports", std::move(ports)}};
  }
  if (!discovery.labels.empty()) {
    out["labels"] = json::object{{"labels", labels_json(discovery.labels)}};
  }
  return out;
}

json::object status_json(const mesos::TaskStatus& status) {
  json::object out;
  out["state"] = mesos::to_string(status.state);
  out["timestamp"] = status.timestamp.value_or(0);
  if (!status.labels.empty()) {
    out["labels"] = labels_json(status.labels);
  }
  if (status.container_ip) {
    json::object address{{"protocol", "IPv4"}, {"ip_address", *status.container_ip}};
    json::object network{{"ip_addresses", json::array{std::move(address)}}};
    out["container_status"] = json::object{{"network_infos", json::array{std::move(network)}}};
  }
  if (status.healthy) {
    out["healthy"] = *status.healthy;
  }
  return out;
}

}  // namespace

json::object Master::task_json(const Task& task) const {
  json::object out;
  out["id"] = task.info.task_id;
  out["name"] = task.info.name;
  out["framework_id"] = task.framework_id;
  out["executor_id"] = task.executor_id;
  out["slave_id"] = task.agent_id;
  out["state"] = mesos::to_string(task.state);
  out["resources"] = task.resources.to_state_json();
  out["role"] = task.role.value_or("*");
  json::array statuses;
  for (const auto& status : task.statuses) {
    statuses.push_back(status_json(status));
  }
  out["statuses"] = std::move(statuses);
  if (!task.info.labels.empty()) {
    out["labels"] = labels_json(task.info.labels);
  }
  if (task.info.discovery) {
    out["discovery"] = discovery_json(*task.info.discovery);
  }
  return out;
}

json::object Master::framework_json(const Framework& framework, bool active) const {
  const auto& info = framework.info;
  json::object out;
  out["id"] = framework.id;
  out["name"] = info.name;
  out["user"] = info.user;
  if (info.principal) {
    out["principal"] = *info.principal;
  }
  out["hostname"] = info.hostname.value_or("");
  out["webui_url"] = info.webui_url.value_or("");
  if (framework.multi_role()) {
    out["roles"] = json::array(info.roles.begin(), info.roles.end());
  } else {
    out["role"] = "*";
  }
  out["capabilities"] = json::array(info.capabilities.begin(), info.capabilities.end());
  bool connected = active && framework.connected();
  out["active"] = connected;
  out["connected"] = connected;
  out["recovered"] = false;
  out["failover_timeout"] = info.failover_timeout;
  out["checkpoint"] = info.checkpoint;
  out["registered_time"] = framework.registered_time;
  if (framework.reregistered_time) {
    out["reregistered_time"] = *framework.reregistered_time;
  }
  out["unregistered_time"] = framework.unregistered_time.value_or(0);
  if (!info.labels.empty()) {
    out["labels"] = labels_json(info.labels);
  }

  ResourceBag used;
  json::array tasks, unreachable, completed, offers, executors;
  for (const auto& [id, task] : framework.tasks) {
    if (!mesos::is_terminal(task.state)) {
      used += task.resources;
    }
    tasks.push_back(task_json(task));
  }
  if (framework.partition_aware()) {
    for (const auto& [id, task] : framework.unreachable_tasks) {
      unreachable.push_back(task_json(task));
    }
  }
  for (const auto& task : framework.completed_tasks) {
    completed.push_back(task_json(task));
  }
  for (const auto& [key, executor] : framework.executors) {
    used += executor.resources;
    json::object e{{"executor_id", key.second},
                   {"name", executor.info.name.value_or("")},
                   {"framework_id", framework.id},
                   {"slave_id", key.first},
                   {"resources", executor.resources.to_state_json()}};
    executors.push_back(std::move(e));
  }
  ResourceBag offered;
  for (const auto& [id, offer] : offers_) {
    if (offer.framework_id == framework.id) {
      offered += offer.resources;
      offers.push_back(json::object{{"id", offer.id},
                                    {"framework_id", offer.framework_id},
                                    {"slave_id", offer.agent_id},
                                    {"resources", offer.resources.to_state_json()}});
    }
  }
  out["resources"] = (used + offered).to_state_json();
  out["used_resources"] = used.to_state_json();
  out["offered_resources"] = offered.to_state_json();
  out["tasks"] = std::move(tasks);
  out["unreachable_tasks"] = std::move(unreachable);
  out["completed_tasks"] = std::move(completed);
  out["offers"] = std::move(offers);
  out["executors"] = std::move(executors);
  return out;
}

json::object Master::agent_json(const AgentRecord& record) const {
  const Agent& agent = *record.agent;
  ResourceBag used;
  ResourceBag offered;
  for (const auto& [id, framework] : frameworks_) {
    for (const auto& [task_id, task] : framework->tasks) {
      if (task.agent_id == agent.id() && !mesos::is_terminal(task.state)) {
        used += task.resources;
      }
    }
    for (const auto& [key, executor] : framework->executors) {
      if (key.first == agent.id()) {
        used += executor.resources;
      }
    }
  }
  for (const auto& [id, offer] : offers_) {
    if (offer.agent_id == agent.id()) {
      offered += offer.resources;
    }
  }
  json::object out;
  out["id"] = agent.id();
  out["hostname"] = agent.ip();
  out["port"] = agent.port();
  out["pid"] = agent.pid();
  out["attributes"] = json::object{};
  out["resources"] = agent.total().to_state_json();
  out["used_resources"] = used.to_state_json();
  out["offered_resources"] = offered.to_state_json();
  out["unreserved_resources"] = agent.total().to_state_json();
  out["reserved_resources"] = json::object{};
  out["active"] = record.active;
  out["deactivated"] = !record.active;
  out["version"] = "1.12.0";
  out["capabilities"] = json::array{"MULTI_ROLE", "HIERARCHICAL_ROLE", "RESERVATION_REFINEMENT"};
  out["registered_time"] = record.registered_time;
  if (record.reregistered_time) {
    out["reregistered_time"] = *record.reregistered_time;
  }
  return out;
}

json::object Master::state_json() const {
  json::object out;
  out["version"] = "1.12.0";
  out["id"] = info_.id;
  out["pid"] = pid_;
  out["hostname"] = info_.hostname.value_or("");
  out["leader"] = pid_;
  boost::system::error_code ec;
  auto leader_info = json::parse(mesos::encode(info_), ec);
  out["leader_info"] = ec ? json::value(json::object{}) : leader_info;
  out["start_time"] = start_time_;
  out["elected_time"] = start_time_;
  json::array slaves;
  double activated = 0, deactivated = 0, unreachable = 0;
  for (const auto& agent_id : agent_order_) {
    const AgentRecord& record = agents_.at(agent_id);
    if (record.removed) {
      ++unreachable;  // an unreachable agent vanishes from slaves[]
      continue;
    }
    (record.active ? activated : deactivated) += 1;
    slaves.push_back(agent_json(record));
  }
  out["activated_slaves"] = activated;
  out["deactivated_slaves"] = deactivated;
  out["unreachable_slaves"] = unreachable;
  out["flags"] =
      json::object{{"heartbeat_interval", format_mesos_duration(options_.heartbeat_interval)},
                   {"allocation_interval", format_mesos_duration(options_.allocation_interval)},
                   {"agent_removal_delay", format_mesos_duration(options_.agent_removal_delay)},
                   {"work_dir", options_.work_dir},
                   {"zk", options_.zk}};
  out["slaves"] = std::move(slaves);
  json::array frameworks, completed;
  for (const auto& [id, framework] : frameworks_) {
    frameworks.push_back(framework_json(*framework, true));
  }
  for (const auto& framework : completed_frameworks_) {
    completed.push_back(framework_json(*framework, false));
  }
  out["frameworks"] = std::move(frameworks);
  out["completed_frameworks"] = std::move(completed);
  out["unregistered_frameworks"] = json::array{};
  out["orphan_tasks"] = json::array{};
  return out;
}

}  // namespace etcdmesos::devcluster
