#include "codec/mesos.hpp"

#include "codec/json_read.hpp"

#include <array>
#include <utility>

namespace etcdmesos::mesos {

namespace {

using codec::json::array;
using codec::json::object;
using codec::json::value;
using namespace codec;  // NOLINT(google-build-using-namespace): the reader helpers

// ------------------------------------------------------------ small pieces

object id_object(std::string_view id) {
  return object{{"value", id}};
}

// Mesos IDs are {"value": "..."}; the value itself is required.
std::optional<std::string> opt_id(JsonReader& r, const object& o, std::string_view key) {
  const object* id = opt_object(r, o, key);
  if (id == nullptr) {
    return std::nullopt;
  }
  auto scope = r.enter(key);
  return req_string(r, *id, "value");
}

std::string req_id(JsonReader& r, const object& o, std::string_view key) {
  if (!has(o, key)) {
    r.fail(key, "missing required ID");
    return {};
  }
  return opt_id(r, o, key).value_or("");
}

std::vector<std::string> id_array(JsonReader& r, const object& o, std::string_view key) {
  return read_array<std::string>(
      r, o, key, [&r](const value& v) { return req_string(r, as_object(r, v), "value"); });
}

array id_array_json(const std::vector<std::string>& ids) {
  array out;
  for (const auto& id : ids) {
    out.push_back(id_object(id));
  }
  return out;
}

array string_array_json(const std::vector<std::string>& strings) {
  return array(strings.begin(), strings.end());
}

// Durations are {"nanoseconds": N}; `outer.inner.nanoseconds` when nested.
std::optional<int64_t> opt_nanos(JsonReader& r, const object& o, std::string_view key) {
  const object* duration = opt_object(r, o, key);
  if (duration == nullptr) {
    return std::nullopt;
  }
  auto scope = r.enter(key);
  if (!has(*duration, "nanoseconds")) {
    r.fail("nanoseconds", "missing required integer");
    return std::nullopt;
  }
  return opt_int64(r, *duration, "nanoseconds");
}

object nanos_json(int64_t nanoseconds) {
  return object{{"nanoseconds", nanoseconds}};
}

// kill_policy.grace_period.nanoseconds (TaskInfo, KILL call and event).
std::optional<int64_t> opt_kill_grace(JsonReader& r, const object& o) {
  const object* policy = opt_object(r, o, "kill_policy");
  if (policy == nullptr) {
    return std::nullopt;
  }
  auto scope = r.enter("kill_policy");
  return opt_nanos(r, *policy, "grace_period");
}

object kill_policy_json(int64_t nanoseconds) {
  return object{{"grace_period", nanos_json(nanoseconds)}};
}

// Capabilities are [{"type": NAME}].
std::vector<std::string> capabilities(JsonReader& r, const object& o) {
  return read_array<std::string>(r, o, "capabilities", [&r](const value& v) {
    return req_string(r, as_object(r, v), "type");
  });
}

array capabilities_json(const std::vector<std::string>& names) {
  array out;
  for (const auto& name : names) {
    out.push_back(object{{"type", name}});
  }
  return out;
}

void put_opt(object& o, std::string_view key, const std::optional<std::string>& text) {
  if (text) {
    o[key] = *text;
  }
}

// -------------------------------------------------------------- resources

constexpr std::array<std::pair<Resource::Type, std::string_view>, 4> kResourceTypes{{
    {Resource::Type::kScalar, "SCALAR"},
    {Resource::Type::kRanges, "RANGES"},
    {Resource::Type::kSet, "SET"},
    {Resource::Type::kOther, "TEXT"},
}};

std::string_view resource_type_name(Resource::Type type) {
  for (const auto& [t, name] : kResourceTypes) {
    if (t == type) {
      return name;
    }
  }
  return "TEXT";
}

Resource::Type resource_type(std::string_view name) {
  for (const auto& [t, n] : kResourceTypes) {
    if (n == name) {
      return t;
    }
  }
  return Resource::Type::kOther;
}

Range read_range(JsonReader& r, const value& v) {
  const object& o = as_object(r, v);
  return Range{req_uint64(r, o, "begin"), req_uint64(r, o, "end")};
}

void read_resource_value(JsonReader& r, const object& o, Resource& resource) {
  switch (resource.type) {
    case Resource::Type::kScalar: {
      const object& scalar = req_object(r, o, "scalar");
      auto scope = r.enter("scalar");
      resource.scalar = req_double(r, scalar, "value");
      break;
    }
    case Resource::Type::kRanges: {
      const object& ranges = req_object(r, o, "ranges");
      auto scope = r.enter("ranges");
      resource.ranges =
          read_array<Range>(r, ranges, "range", [&r](const value& v) { return read_range(r, v); });
      break;
    }
    case Resource::Type::kSet: {
      const object& set = req_object(r, o, "set");
      auto scope = r.enter("set");
      resource.set = string_array(r, set, "item");
      break;
    }
    case Resource::Type::kOther:
      break;
  }
}

Resource read_resource(JsonReader& r, const object& o) {
  Resource resource;
  resource.name = req_string(r, o, "name");
  resource.type = resource_type(req_string(r, o, "type"));
  read_resource_value(r, o, resource);
  resource.role = opt_string(r, o, "role");
  if (const object* allocation = opt_object(r, o, "allocation_info")) {
    auto scope = r.enter("allocation_info");
    resource.allocation_role = opt_string(r, *allocation, "role");
  }
  const array* reservations = opt_array(r, o, "reservations");
  resource.reserved = has(o, "reservation") || (reservations != nullptr && !reservations->empty());
  return resource;
}

std::vector<Resource> resources(JsonReader& r, const object& o, std::string_view key) {
  return read_array<Resource>(r, o, key,
                              [&r](const value& v) { return read_resource(r, as_object(r, v)); });
}

object resource_json(const Resource& resource) {
  object o{{"name", resource.name}, {"type", resource_type_name(resource.type)}};
  switch (resource.type) {
    case Resource::Type::kScalar:
      o["scalar"] = object{{"value", number(resource.scalar)}};
      break;
    case Resource::Type::kRanges: {
      array ranges;
      for (const auto& range : resource.ranges) {
        ranges.push_back(object{{"begin", range.begin}, {"end", range.end}});
      }
      o["ranges"] = object{{"range", std::move(ranges)}};
      break;
    }
    case Resource::Type::kSet:
      o["set"] = object{{"item", string_array_json(resource.set)}};
      break;
    case Resource::Type::kOther:
      o["text"] = object{{"value", ""}};
      break;
  }
  put_opt(o, "role", resource.role);
  if (resource.allocation_role) {
    o["allocation_info"] = object{{"role", *resource.allocation_role}};
  }
  return o;
}

array resources_json(const std::vector<Resource>& list) {
  array out;
  for (const auto& resource : list) {
    out.push_back(resource_json(resource));
  }
  return out;
}

// ----------------------------------------------------------------- labels

Label read_label(JsonReader& r, const object& o) {
  return Label{req_string(r, o, "key"), opt_string(r, o, "value").value_or("")};
}

// Labels are wrapped: "labels": {"labels": [{"key", "value"}]}.
std::vector<Label> labels(JsonReader& r, const object& o) {
  const object* wrapper = opt_object(r, o, "labels");
  if (wrapper == nullptr) {
    return {};
  }
  auto scope = r.enter("labels");
  return read_array<Label>(r, *wrapper, "labels",
                           [&r](const value& v) { return read_label(r, as_object(r, v)); });
}

void put_labels(object& o, const std::vector<Label>& list) {
  if (list.empty()) {
    return;
  }
  array out;
  for (const auto& label : list) {
    out.push_back(object{{"key", label.key}, {"value", label.value}});
  }
  o["labels"] = object{{"labels", std::move(out)}};
}

}  // namespace

// ------------------------------------------------------------- task states

bool is_terminal(TaskState state) {
  switch (state) {
    case TaskState::kFinished:
    case TaskState::kFailed:
    case TaskState::kKilled:
    case TaskState::kError:
    case TaskState::kLost:
    case TaskState::kDropped:
    case TaskState::kGone:
    case TaskState::kGoneByOperator:
      return true;
    default:
      return false;
  }
}

Resource scalar_resource(std::string name, double value) {
  Resource resource;
  resource.name = std::move(name);
  resource.type = Resource::Type::kScalar;
  resource.scalar = value;
  return resource;
}

Resource ranges_resource(std::string name, std::vector<Range> ranges) {
  Resource resource;
  resource.name = std::move(name);
  resource.type = Resource::Type::kRanges;
  resource.ranges = std::move(ranges);
  return resource;
}

namespace {

// ---------------------------------------------------------------- command

Uri read_uri(JsonReader& r, const object& o) {
  Uri uri;
  uri.value = req_string(r, o, "value");
  uri.executable = opt_bool(r, o, "executable").value_or(false);
  uri.extract = opt_bool(r, o, "extract").value_or(true);
  uri.cache = opt_bool(r, o, "cache").value_or(false);
  uri.output_file = opt_string(r, o, "output_file");
  return uri;
}

object uri_json(const Uri& uri) {
  object o{{"value", uri.value},
           {"executable", uri.executable},
           {"extract", uri.extract},
           {"cache", uri.cache}};
  put_opt(o, "output_file", uri.output_file);
  return o;
}

EnvironmentVariable read_variable(JsonReader& r, const object& o) {
  return EnvironmentVariable{req_string(r, o, "name"), opt_string(r, o, "value").value_or("")};
}

CommandInfo read_command(JsonReader& r, const object& o) {
  CommandInfo command;
  command.value = opt_string(r, o, "value");
  command.shell = opt_bool(r, o, "shell").value_or(true);
  command.arguments = string_array(r, o, "arguments");
  command.uris =
      read_array<Uri>(r, o, "uris", [&r](const value& v) { return read_uri(r, as_object(r, v)); });
  if (const object* environment = opt_object(r, o, "environment")) {
    auto scope = r.enter("environment");
    command.environment = read_array<EnvironmentVariable>(
        r, *environment, "variables",
        [&r](const value& v) { return read_variable(r, as_object(r, v)); });
  }
  command.user = opt_string(r, o, "user");
  return command;
}

object command_json(const CommandInfo& command) {
  object o;
  put_opt(o, "value", command.value);
  o["shell"] = command.shell;
  if (!command.arguments.empty()) {
    o["arguments"] = string_array_json(command.arguments);
  }
  if (!command.uris.empty()) {
    array uris;
    for (const auto& uri : command.uris) {
      uris.push_back(uri_json(uri));
    }
    o["uris"] = std::move(uris);
  }
  if (!command.environment.empty()) {
    array variables;
    for (const auto& variable : command.environment) {
      variables.push_back(object{{"name", variable.name}, {"value", variable.value}});
    }
    o["environment"] = object{{"variables", std::move(variables)}};
  }
  put_opt(o, "user", command.user);
  return o;
}

std::optional<CommandInfo> opt_command(JsonReader& r, const object& o) {
  const object* command = opt_object(r, o, "command");
  if (command == nullptr) {
    return std::nullopt;
  }
  auto scope = r.enter("command");
  return read_command(r, *command);
}

// --------------------------------------------------------------- executor

ExecutorInfo read_executor_info(JsonReader& r, const object& o) {
  ExecutorInfo executor;
  executor.executor_id = req_id(r, o, "executor_id");
  executor.framework_id = opt_id(r, o, "framework_id");
  executor.type = opt_string(r, o, "type");
  executor.name = opt_string(r, o, "name");
  executor.command = opt_command(r, o);
  executor.resources = resources(r, o, "resources");
  executor.shutdown_grace_period_ns = opt_nanos(r, o, "shutdown_grace_period");
  return executor;
}

object executor_info_json(const ExecutorInfo& executor) {
  object o{{"executor_id", id_object(executor.executor_id)}};
  if (executor.framework_id) {
    o["framework_id"] = id_object(*executor.framework_id);
  }
  put_opt(o, "type", executor.type);
  put_opt(o, "name", executor.name);
  if (executor.command) {
    o["command"] = command_json(*executor.command);
  }
  if (!executor.resources.empty()) {
    o["resources"] = resources_json(executor.resources);
  }
  if (executor.shutdown_grace_period_ns) {
    o["shutdown_grace_period"] = nanos_json(*executor.shutdown_grace_period_ns);
  }
  return o;
}

// -------------------------------------------------------------- discovery

DiscoveryPort read_discovery_port(JsonReader& r, const object& o) {
  DiscoveryPort port;
  port.number = req_uint32(r, o, "number");
  port.name = opt_string(r, o, "name");
  port.protocol = opt_string(r, o, "protocol");
  return port;
}

DiscoveryInfo read_discovery(JsonReader& r, const object& o) {
  DiscoveryInfo discovery;
  discovery.visibility = req_string(r, o, "visibility");
  discovery.name = opt_string(r, o, "name");
  discovery.environment = opt_string(r, o, "environment");
  discovery.location = opt_string(r, o, "location");
  discovery.version = opt_string(r, o, "version");
  if (const object* ports = opt_object(r, o, "ports")) {
    auto scope = r.enter("ports");
    discovery.ports = read_array<DiscoveryPort>(r, *ports, "ports", [&r](const value& v) {
      return read_discovery_port(r, as_object(r, v));
    });
  }
  discovery.labels = labels(r, o);
  return discovery;
}

object discovery_json(const DiscoveryInfo& discovery) {
  object o{{"visibility", discovery.visibility}};
  put_opt(o, "name", discovery.name);
  put_opt(o, "environment", discovery.environment);
  put_opt(o, "location", discovery.location);
  put_opt(o, "version", discovery.version);
  if (!discovery.ports.empty()) {
    array ports;
    for (const auto& port : discovery.ports) {
      object p{{"number", port.number}};
      put_opt(p, "name", port.name);
      put_opt(p, "protocol", port.protocol);
      ports.push_back(std::move(p));
    }
    o["ports"] = object{{"ports", std::move(ports)}};
  }
  put_labels(o, discovery.labels);
  return o;
}

// ------------------------------------------------------------------- task

TaskInfo read_task_info(JsonReader& r, const object& o) {
  TaskInfo task;
  task.name = req_string(r, o, "name");
  task.task_id = req_id(r, o, "task_id");
  task.agent_id = req_id(r, o, "agent_id");
  task.resources = resources(r, o, "resources");
  if (const object* executor = opt_object(r, o, "executor")) {
    auto scope = r.enter("executor");
    task.executor = read_executor_info(r, *executor);
  }
  task.command = opt_command(r, o);
  task.data = opt_bytes(r, o, "data");
  task.labels = labels(r, o);
  if (const object* discovery = opt_object(r, o, "discovery")) {
    auto scope = r.enter("discovery");
    task.discovery = read_discovery(r, *discovery);
  }
  task.kill_grace_period_ns = opt_kill_grace(r, o);
  return task;
}

object task_info_json(const TaskInfo& task) {
  object o{{"name", task.name},
           {"task_id", id_object(task.task_id)},
           {"agent_id", id_object(task.agent_id)},
           {"resources", resources_json(task.resources)}};
  if (task.executor) {
    o["executor"] = executor_info_json(*task.executor);
  }
  if (task.command) {
    o["command"] = command_json(*task.command);
  }
  if (task.data) {
    o["data"] = base64_encode(*task.data);
  }
  put_labels(o, task.labels);
  if (task.discovery) {
    o["discovery"] = discovery_json(*task.discovery);
  }
  if (task.kill_grace_period_ns) {
    o["kill_policy"] = kill_policy_json(*task.kill_grace_period_ns);
  }
  return o;
}

std::vector<TaskInfo> task_infos(JsonReader& r, const object& o, std::string_view key) {
  return read_array<TaskInfo>(r, o, key,
                              [&r](const value& v) { return read_task_info(r, as_object(r, v)); });
}

array task_infos_json(const std::vector<TaskInfo>& tasks) {
  array out;
  for (const auto& task : tasks) {
    out.push_back(task_info_json(task));
  }
  return out;
}

}  // namespace

namespace {

// ----------------------------------------------------------------- status

// The agent reports the container's address as
// container_status.network_infos[].ip_addresses[].ip_address; the first one
// present is the one to advertise.
std::optional<std::string> read_container_ip(JsonReader& r, const object& status) {
  const object* container = opt_object(r, status, "container_status");
  if (container == nullptr) {
    return std::nullopt;
  }
  auto scope = r.enter("container_status");
  std::optional<std::string> ip;
  read_array<bool>(r, *container, "network_infos", [&](const value& info) {
    read_array<bool>(r, as_object(r, info), "ip_addresses", [&](const value& address) {
      auto text = opt_string(r, as_object(r, address), "ip_address");
      if (!ip) {
        ip = std::move(text);
      }
      return true;
    });
    return true;
  });
  return ip;
}

object container_status_json(const std::string& ip) {
  const bool v6 = ip.find(':') != std::string::npos;
  object address{{"protocol", v6 ? "IPv6" : "IPv4"}, {"ip_address", ip}};
  object network{{"ip_addresses", array{std::move(address)}}};
  return object{{"network_infos", array{std::move(network)}}};
}

TaskStatus read_task_status(JsonReader& r, const object& o) {
  TaskStatus status;
  status.task_id = req_id(r, o, "task_id");
  const std::string state = req_string(r, o, "state");
  if (auto parsed = task_state_from_string(state)) {
    status.state = *parsed;
  } else if (r.ok()) {
    r.fail("state", "unknown task state '" + state.substr(0, 64) + "'");
  }
  status.message = opt_string(r, o, "message");
  status.source = opt_string(r, o, "source");
  status.reason = opt_string(r, o, "reason");
  status.data = opt_bytes(r, o, "data");
  status.agent_id = opt_id(r, o, "agent_id");
  status.executor_id = opt_id(r, o, "executor_id");
  status.timestamp = opt_double(r, o, "timestamp");
  status.uuid = opt_bytes(r, o, "uuid");
  status.healthy = opt_bool(r, o, "healthy");
  status.labels = labels(r, o);
  status.container_ip = read_container_ip(r, o);
  return status;
}

object task_status_json(const TaskStatus& status) {
  object o{{"task_id", id_object(status.task_id)}, {"state", to_string(status.state)}};
  put_opt(o, "message", status.message);
  put_opt(o, "source", status.source);
  put_opt(o, "reason", status.reason);
  if (status.data) {
    o["data"] = base64_encode(*status.data);
  }
  if (status.agent_id) {
    o["agent_id"] = id_object(*status.agent_id);
  }
  if (status.executor_id) {
    o["executor_id"] = id_object(*status.executor_id);
  }
  if (status.timestamp) {
    o["timestamp"] = number(*status.timestamp);
  }
  if (status.uuid) {
    o["uuid"] = base64_encode(*status.uuid);
  }
  if (status.healthy) {
    o["healthy"] = *status.healthy;
  }
  put_labels(o, status.labels);
  if (status.container_ip) {
    o["container_status"] = container_status_json(*status.container_ip);
  }
  return o;
}

// {"status": TaskStatus}, the wrapper of UPDATE events and calls.
TaskStatus read_status_wrapper(JsonReader& r, const object& o) {
  const object& status = req_object(r, o, "status");
  auto scope = r.enter("status");
  return read_task_status(r, status);
}

object status_wrapper_json(const TaskStatus& status) {
  return object{{"status", task_status_json(status)}};
}

// ---------------------------------------------------------- master, agent

Address read_address(JsonReader& r, const object& o) {
  Address address;
  address.hostname = opt_string(r, o, "hostname");
  address.ip = opt_string(r, o, "ip");
  address.port = req_uint32(r, o, "port");
  return address;
}

object address_json(const Address& address) {
  object o;
  put_opt(o, "hostname", address.hostname);
  put_opt(o, "ip", address.ip);
  o["port"] = address.port;
  return o;
}

MasterInfo read_master_info(JsonReader& r, const object& o) {
  MasterInfo info;
  info.id = req_string(r, o, "id");
  info.ip = req_uint32(r, o, "ip");
  info.port = req_uint32(r, o, "port");
  info.pid = opt_string(r, o, "pid");
  info.hostname = opt_string(r, o, "hostname");
  info.version = opt_string(r, o, "version");
  if (const object* address = opt_object(r, o, "address")) {
    auto scope = r.enter("address");
    info.address = read_address(r, *address);
  }
  info.capabilities = capabilities(r, o);
  return info;
}

object master_info_json(const MasterInfo& info) {
  object o{{"id", info.id}, {"ip", info.ip}, {"port", info.port}};
  put_opt(o, "pid", info.pid);
  put_opt(o, "hostname", info.hostname);
  put_opt(o, "version", info.version);
  if (info.address) {
    o["address"] = address_json(*info.address);
  }
  if (!info.capabilities.empty()) {
    o["capabilities"] = capabilities_json(info.capabilities);
  }
  return o;
}

FrameworkInfo read_framework_info(JsonReader& r, const object& o) {
  FrameworkInfo info;
  info.user = req_string(r, o, "user");
  info.name = req_string(r, o, "name");
  info.id = opt_id(r, o, "id");
  info.failover_timeout = opt_double(r, o, "failover_timeout").value_or(0);
  info.checkpoint = opt_bool(r, o, "checkpoint").value_or(false);
  info.roles = string_array(r, o, "roles");
  info.hostname = opt_string(r, o, "hostname");
  info.principal = opt_string(r, o, "principal");
  info.webui_url = opt_string(r, o, "webui_url");
  info.capabilities = capabilities(r, o);
  info.labels = labels(r, o);
  return info;
}

object framework_info_json(const FrameworkInfo& info) {
  object o{{"user", info.user}, {"name", info.name}};
  if (info.id) {
    o["id"] = id_object(*info.id);
  }
  o["failover_timeout"] = number(info.failover_timeout);
  o["checkpoint"] = info.checkpoint;
  if (!info.roles.empty()) {
    o["roles"] = string_array_json(info.roles);
  }
  put_opt(o, "hostname", info.hostname);
  put_opt(o, "principal", info.principal);
  put_opt(o, "webui_url", info.webui_url);
  if (!info.capabilities.empty()) {
    o["capabilities"] = capabilities_json(info.capabilities);
  }
  put_labels(o, info.labels);
  return o;
}

AgentInfo read_agent_info(JsonReader& r, const object& o) {
  AgentInfo info;
  info.id = opt_id(r, o, "id").value_or("");
  info.hostname = req_string(r, o, "hostname");
  info.port = opt_uint32(r, o, "port").value_or(5051);
  info.resources = resources(r, o, "resources");
  return info;
}

object agent_info_json(const AgentInfo& info) {
  object o{{"hostname", info.hostname}, {"port", info.port}};
  if (!info.id.empty()) {
    o["id"] = id_object(info.id);
  }
  if (!info.resources.empty()) {
    o["resources"] = resources_json(info.resources);
  }
  return o;
}

// ------------------------------------------------------------------ offer

Offer read_offer(JsonReader& r, const object& o) {
  Offer offer;
  offer.id = req_id(r, o, "id");
  offer.framework_id = req_id(r, o, "framework_id");
  offer.agent_id = req_id(r, o, "agent_id");
  offer.hostname = req_string(r, o, "hostname");
  if (const object* url = opt_object(r, o, "url")) {
    auto scope = r.enter("url");
    const object& address = req_object(r, *url, "address");
    auto address_scope = r.enter("address");
    offer.url_address = read_address(r, address);
  }
  offer.resources = resources(r, o, "resources");
  offer.executor_ids = id_array(r, o, "executor_ids");
  if (const object* allocation = opt_object(r, o, "allocation_info")) {
    auto scope = r.enter("allocation_info");
    offer.allocation_role = opt_string(r, *allocation, "role");
  }
  return offer;
}

object offer_json(const Offer& offer) {
  object o{{"id", id_object(offer.id)},
           {"framework_id", id_object(offer.framework_id)},
           {"agent_id", id_object(offer.agent_id)},
           {"hostname", offer.hostname}};
  if (offer.url_address) {
    o["url"] = object{
        {"scheme", "http"}, {"address", address_json(*offer.url_address)}, {"path", "/slave(1)"}};
  }
  o["resources"] = resources_json(offer.resources);
  if (!offer.executor_ids.empty()) {
    o["executor_ids"] = id_array_json(offer.executor_ids);
  }
  if (offer.allocation_role) {
    o["allocation_info"] = object{{"role", *offer.allocation_role}};
  }
  return o;
}

}  // namespace

namespace {

// ---------------------------------------------------------------- helpers

// Reads the object at `key` with `read(JsonReader&, const object&)`.
template <class Read>
auto opt_message(JsonReader& r, const object& o, std::string_view key, Read read)
    -> std::optional<decltype(read(r, o))> {
  const object* inner = opt_object(r, o, key);
  if (inner == nullptr) {
    return std::nullopt;
  }
  auto scope = r.enter(key);
  return read(r, *inner);
}

template <class Read>
auto req_message(JsonReader& r, const object& o, std::string_view key, Read read) {
  const object& inner = req_object(r, o, key);
  auto scope = r.enter(key);
  return read(r, inner);
}

template <class T, class Read>
Result<T> decode_top(std::string_view text, std::string_view what, Read read) {
  // The document is read once into structs and dropped: in an arena, its
  // thousands of nodes cost no malloc/free each. Without it, allocating and
  // freeing them was more than half of decoding an OFFERS event of 10,000
  // offers (perf, issue 12).
  json::monotonic_resource arena;
  auto parsed = parse_object(text, kMaxMessageBytes, what, &arena);
  if (!parsed) {
    return parsed.error();
  }
  JsonReader r{std::string(what)};
  T out = read(r, *parsed);
  if (!r.ok()) {
    return r.error();
  }
  return out;
}

template <std::size_t N>
bool one_of(std::string_view name, const std::array<std::string_view, N>& names) {
  for (auto n : names) {
    if (n == name) {
      return true;
    }
  }
  return false;
}

// Mesos rejects acknowledgements and executor updates whose uuid is not a
// 16-byte UUID (reference §6, §15).
void check_uuid(JsonReader& r, const std::optional<std::string>& uuid) {
  if (uuid && uuid->size() != 16) {
    r.fail("uuid", "expected 16 bytes, got " + std::to_string(uuid->size()));
  }
}

Filters read_filters(JsonReader& r, const object& o) {
  return Filters{opt_double(r, o, "refuse_seconds")};
}

object filters_json(const Filters& filters) {
  object o;
  if (filters.refuse_seconds) {
    o["refuse_seconds"] = number(*filters.refuse_seconds);
  }
  return o;
}

// -------------------------------------------------------- scheduler calls

Operation read_operation(JsonReader& r, const object& o) {
  Operation operation;
  operation.type = req_string(r, o, "type");
  if (operation.type == "LAUNCH") {
    const object& launch = req_object(r, o, "launch");
    auto scope = r.enter("launch");
    operation.launch_tasks = task_infos(r, launch, "task_infos");
  }
  return operation;
}

object operation_json(const Operation& operation) {
  object o{{"type", operation.type}};
  if (operation.type == "LAUNCH") {
    o["launch"] = object{{"task_infos", task_infos_json(operation.launch_tasks)}};
  }
  return o;
}

CallSubscribe read_call_subscribe(JsonReader& r, const object& o) {
  CallSubscribe subscribe;
  subscribe.framework_info = req_message(r, o, "framework_info", read_framework_info);
  subscribe.suppressed_roles = string_array(r, o, "suppressed_roles");
  return subscribe;
}

CallAccept read_call_accept(JsonReader& r, const object& o) {
  CallAccept accept;
  accept.offer_ids = id_array(r, o, "offer_ids");
  accept.operations = read_array<Operation>(
      r, o, "operations", [&r](const value& v) { return read_operation(r, as_object(r, v)); });
  accept.filters = opt_message(r, o, "filters", read_filters);
  return accept;
}

CallDecline read_call_decline(JsonReader& r, const object& o) {
  return CallDecline{id_array(r, o, "offer_ids"), opt_message(r, o, "filters", read_filters)};
}

CallKill read_call_kill(JsonReader& r, const object& o) {
  CallKill kill;
  kill.task_id = req_id(r, o, "task_id");
  kill.agent_id = opt_id(r, o, "agent_id");
  kill.grace_period_ns = opt_kill_grace(r, o);
  return kill;
}

CallShutdown read_call_shutdown(JsonReader& r, const object& o) {
  return CallShutdown{req_id(r, o, "executor_id"), req_id(r, o, "agent_id")};
}

CallReconcile read_call_reconcile(JsonReader& r, const object& o) {
  CallReconcile reconcile;
  reconcile.tasks = read_array<ReconcileTask>(r, o, "tasks", [&r](const value& v) {
    const object& task = as_object(r, v);
    return ReconcileTask{req_id(r, task, "task_id"), opt_id(r, task, "agent_id")};
  });
  return reconcile;
}

CallAcknowledge read_call_acknowledge(JsonReader& r, const object& o) {
  CallAcknowledge ack;
  ack.agent_id = req_id(r, o, "agent_id");
  ack.task_id = req_id(r, o, "task_id");
  ack.uuid = req_bytes(r, o, "uuid");
  check_uuid(r, ack.uuid);
  return ack;
}

CallMessage read_call_message(JsonReader& r, const object& o) {
  return CallMessage{req_id(r, o, "agent_id"), req_id(r, o, "executor_id"),
                     req_bytes(r, o, "data")};
}

std::vector<std::string> read_roles(JsonReader& r, const object& o) {
  return string_array(r, o, "roles");
}

// Calls whose payload field (the lowercase type name) must be present.
constexpr std::array<std::string_view, 8> kCallsWithPayload = {
    "SUBSCRIBE", "ACCEPT", "DECLINE", "KILL", "SHUTDOWN", "ACKNOWLEDGE", "RECONCILE", "MESSAGE"};
constexpr std::array<std::string_view, 3> kCallsWithoutPayload = {"TEARDOWN", "REVIVE", "SUPPRESS"};

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

void check_call_type(JsonReader& r, const object& o, const std::string& type) {
  if (one_of(type, kCallsWithPayload)) {
    const std::string payload = lowercase(type);
    if (!has(o, payload)) {
      r.fail(payload, "missing, required for a " + type + " call");
    }
  } else if (!one_of(type, kCallsWithoutPayload)) {
    r.fail("type", "unsupported call type '" + type.substr(0, 64) + "'");
  }
}

// Every payload present is read, so a malformed one fails the call whatever
// its type (as Mesos' own parsing does); only the type's own is kept.
Call read_call(JsonReader& r, const object& o) {
  Call call;
  const std::string type = req_string(r, o, "type");
  if (r.ok()) {
    check_call_type(r, o, type);
  }
  call.framework_id = opt_id(r, o, "framework_id");
  const std::string wanted = lowercase(type);
  auto take = [&](std::string_view key, auto read) {
    auto payload = opt_message(r, o, key, read);
    if (payload && key == wanted) {
      call.payload = std::move(*payload);
    }
  };
  take("subscribe", read_call_subscribe);
  take("accept", read_call_accept);
  take("decline", read_call_decline);
  take("kill", read_call_kill);
  take("shutdown", read_call_shutdown);
  take("reconcile", read_call_reconcile);
  take("acknowledge", read_call_acknowledge);
  take("message", read_call_message);
  take("revive", [](JsonReader& rr, const object& oo) { return CallRevive{read_roles(rr, oo)}; });
  take("suppress",
       [](JsonReader& rr, const object& oo) { return CallSuppress{read_roles(rr, oo)}; });
  // The calls whose payload may be absent.
  if (type == "TEARDOWN") {
    call.payload = CallTeardown{};
  } else if (type == "REVIVE" && !std::holds_alternative<CallRevive>(call.payload)) {
    call.payload = CallRevive{};
  } else if (type == "SUPPRESS" && !std::holds_alternative<CallSuppress>(call.payload)) {
    call.payload = CallSuppress{};
  }
  return call;
}

object roles_json(const std::vector<std::string>& roles) {
  object o;
  if (!roles.empty()) {
    o["roles"] = string_array_json(roles);
  }
  return o;
}

object call_subscribe_json(const CallSubscribe& subscribe) {
  object o{{"framework_info", framework_info_json(subscribe.framework_info)}};
  if (!subscribe.suppressed_roles.empty()) {
    o["suppressed_roles"] = string_array_json(subscribe.suppressed_roles);
  }
  return o;
}

object call_accept_json(const CallAccept& accept) {
  array operations;
  for (const auto& operation : accept.operations) {
    operations.push_back(operation_json(operation));
  }
  object o{{"offer_ids", id_array_json(accept.offer_ids)}, {"operations", std::move(operations)}};
  if (accept.filters) {
    o["filters"] = filters_json(*accept.filters);
  }
  return o;
}

object call_decline_json(const CallDecline& decline) {
  object o{{"offer_ids", id_array_json(decline.offer_ids)}};
  if (decline.filters) {
    o["filters"] = filters_json(*decline.filters);
  }
  return o;
}

object call_kill_json(const CallKill& kill) {
  object o{{"task_id", id_object(kill.task_id)}};
  if (kill.agent_id) {
    o["agent_id"] = id_object(*kill.agent_id);
  }
  if (kill.grace_period_ns) {
    o["kill_policy"] = kill_policy_json(*kill.grace_period_ns);
  }
  return o;
}

object call_reconcile_json(const CallReconcile& reconcile) {
  object o;
  if (!reconcile.tasks.empty()) {
    array tasks;
    for (const auto& task : reconcile.tasks) {
      object t{{"task_id", id_object(task.task_id)}};
      if (task.agent_id) {
        t["agent_id"] = id_object(*task.agent_id);
      }
      tasks.push_back(std::move(t));
    }
    o["tasks"] = std::move(tasks);
  }
  return o;  // {} = implicit reconciliation
}

// The payload's field name and JSON; none for a TEARDOWN, and none for a
// REVIVE or SUPPRESS of every role.
std::optional<std::pair<std::string_view, object>> call_payload_json(const CallPayload& payload) {
  using Out = std::optional<std::pair<std::string_view, object>>;
  return std::visit(
      [](const auto& p) -> Out {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, CallSubscribe>) {
          return Out{{"subscribe", call_subscribe_json(p)}};
        } else if constexpr (std::is_same_v<T, CallTeardown>) {
          return std::nullopt;
        } else if constexpr (std::is_same_v<T, CallAccept>) {
          return Out{{"accept", call_accept_json(p)}};
        } else if constexpr (std::is_same_v<T, CallDecline>) {
          return Out{{"decline", call_decline_json(p)}};
        } else if constexpr (std::is_same_v<T, CallRevive>) {
          return p.roles.empty() ? std::nullopt : Out{{"revive", roles_json(p.roles)}};
        } else if constexpr (std::is_same_v<T, CallSuppress>) {
          return p.roles.empty() ? std::nullopt : Out{{"suppress", roles_json(p.roles)}};
        } else if constexpr (std::is_same_v<T, CallKill>) {
          return Out{{"kill", call_kill_json(p)}};
        } else if constexpr (std::is_same_v<T, CallShutdown>) {
          return Out{{"shutdown", object{{"executor_id", id_object(p.executor_id)},
                                         {"agent_id", id_object(p.agent_id)}}}};
        } else if constexpr (std::is_same_v<T, CallAcknowledge>) {
          return Out{{"acknowledge", object{{"agent_id", id_object(p.agent_id)},
                                            {"task_id", id_object(p.task_id)},
                                            {"uuid", base64_encode(p.uuid)}}}};
        } else if constexpr (std::is_same_v<T, CallReconcile>) {
          return Out{{"reconcile", call_reconcile_json(p)}};
        } else {
          static_assert(std::is_same_v<T, CallMessage>);
          return Out{{"message", object{{"agent_id", id_object(p.agent_id)},
                                        {"executor_id", id_object(p.executor_id)},
                                        {"data", base64_encode(p.data)}}}};
        }
      },
      payload);
}

// In the order of CallPayload's alternatives.
constexpr std::array<std::string_view, 11> kCallTypes = {
    "SUBSCRIBE", "TEARDOWN", "ACCEPT",      "DECLINE",   "REVIVE", "SUPPRESS",
    "KILL",      "SHUTDOWN", "ACKNOWLEDGE", "RECONCILE", "MESSAGE"};
static_assert(kCallTypes.size() == std::variant_size_v<CallPayload>);

}  // namespace

std::string_view type_name(const Call& call) {
  return kCallTypes.at(call.payload.index());
}

std::string encode(const Call& call) {
  object o{{"type", type_name(call)}};
  if (call.framework_id) {
    o["framework_id"] = id_object(*call.framework_id);
  }
  if (auto payload = call_payload_json(call.payload)) {
    o[payload->first] = std::move(payload->second);
  }
  return serialize(o);
}

Result<Call> decode_call(std::string_view json) {
  return decode_top<Call>(json, "scheduler call", read_call);
}

namespace {

// ------------------------------------------------------- scheduler events

EventSubscribed read_event_subscribed(JsonReader& r, const object& o) {
  EventSubscribed subscribed;
  subscribed.framework_id = req_id(r, o, "framework_id");
  subscribed.heartbeat_interval_seconds =
      opt_double(r, o, "heartbeat_interval_seconds").value_or(15);
  subscribed.master_info = opt_message(r, o, "master_info", read_master_info);
  return subscribed;
}

std::vector<Offer> read_offers(JsonReader& r, const object& o) {
  return read_array<Offer>(r, o, "offers",
                           [&r](const value& v) { return read_offer(r, as_object(r, v)); });
}

EventMessage read_event_message(JsonReader& r, const object& o) {
  return EventMessage{req_id(r, o, "agent_id"), req_id(r, o, "executor_id"),
                      req_bytes(r, o, "data")};
}

EventFailure read_event_failure(JsonReader& r, const object& o) {
  return EventFailure{opt_id(r, o, "agent_id"), opt_id(r, o, "executor_id"),
                      opt_int32(r, o, "status")};
}

std::string read_error_message(JsonReader& r, const object& o) {
  return req_string(r, o, "message");
}

std::string read_rescind(JsonReader& r, const object& o) {
  return req_id(r, o, "offer_id");
}

// Only the payload that belongs to the type is read; types this project
// does not use (INVERSE_OFFERS, UPDATE_OPERATION_STATUS, ...) keep their name.
Event read_event(JsonReader& r, const object& o) {
  const std::string type = req_string(r, o, "type");
  if (type == "SUBSCRIBED") {
    return req_message(r, o, "subscribed", read_event_subscribed);
  }
  if (type == "OFFERS") {
    return EventOffers{req_message(r, o, "offers", read_offers)};
  }
  if (type == "RESCIND") {
    return EventRescind{req_message(r, o, "rescind", read_rescind)};
  }
  if (type == "UPDATE") {
    return EventUpdate{req_message(r, o, "update", read_status_wrapper)};
  }
  if (type == "MESSAGE") {
    return req_message(r, o, "message", read_event_message);
  }
  if (type == "FAILURE") {
    return req_message(r, o, "failure", read_event_failure);
  }
  if (type == "ERROR") {
    return EventError{req_message(r, o, "error", read_error_message)};
  }
  if (type == "HEARTBEAT") {
    return EventHeartbeat{};
  }
  return EventOther{type};
}

object event_subscribed_json(const EventSubscribed& subscribed) {
  object o{{"framework_id", id_object(subscribed.framework_id)},
           {"heartbeat_interval_seconds", number(subscribed.heartbeat_interval_seconds)}};
  if (subscribed.master_info) {
    o["master_info"] = master_info_json(*subscribed.master_info);
  }
  return o;
}

object event_failure_json(const EventFailure& failure) {
  object o;
  if (failure.agent_id) {
    o["agent_id"] = id_object(*failure.agent_id);
  }
  if (failure.executor_id) {
    o["executor_id"] = id_object(*failure.executor_id);
  }
  if (failure.status) {
    o["status"] = *failure.status;
  }
  return o;
}

// The payload's field name and JSON; none for a HEARTBEAT or another type.
std::optional<std::pair<std::string_view, object>> event_payload_json(const Event& event) {
  using Out = std::optional<std::pair<std::string_view, object>>;
  return std::visit(
      [](const auto& e) -> Out {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, EventSubscribed>) {
          return Out{{"subscribed", event_subscribed_json(e)}};
        } else if constexpr (std::is_same_v<T, EventOffers>) {
          array offers;
          for (const auto& offer : e.offers) {
            offers.push_back(offer_json(offer));
          }
          return Out{{"offers", object{{"offers", std::move(offers)}}}};
        } else if constexpr (std::is_same_v<T, EventRescind>) {
          return Out{{"rescind", object{{"offer_id", id_object(e.offer_id)}}}};
        } else if constexpr (std::is_same_v<T, EventUpdate>) {
          return Out{{"update", status_wrapper_json(e.status)}};
        } else if constexpr (std::is_same_v<T, EventMessage>) {
          return Out{{"message", object{{"agent_id", id_object(e.agent_id)},
                                        {"executor_id", id_object(e.executor_id)},
                                        {"data", base64_encode(e.data)}}}};
        } else if constexpr (std::is_same_v<T, EventFailure>) {
          return Out{{"failure", event_failure_json(e)}};
        } else if constexpr (std::is_same_v<T, EventError>) {
          return Out{{"error", object{{"message", e.message}}}};
        } else {
          static_assert(std::is_same_v<T, EventHeartbeat> || std::is_same_v<T, EventOther>);
          return std::nullopt;
        }
      },
      event);
}

// In the order of Event's alternatives; EventOther names itself.
constexpr std::array<std::string_view, 8> kEventTypes = {
    "SUBSCRIBED", "OFFERS", "RESCIND", "UPDATE", "MESSAGE", "FAILURE", "ERROR", "HEARTBEAT"};
static_assert(kEventTypes.size() + 1 == std::variant_size_v<Event>);

}  // namespace

std::string_view type_name(const Event& event) {
  if (const auto* other = std::get_if<EventOther>(&event)) {
    return other->type;
  }
  return kEventTypes.at(event.index());
}

std::string encode(const Event& event) {
  object o{{"type", type_name(event)}};
  if (auto payload = event_payload_json(event)) {
    o[payload->first] = std::move(payload->second);
  }
  return serialize(o);
}

Result<Event> decode_event(std::string_view json) {
  return decode_top<Event>(json, "scheduler event", read_event);
}

namespace {

// --------------------------------------------------------- executor calls

ExecutorCallSubscribe read_executor_subscribe(JsonReader& r, const object& o) {
  ExecutorCallSubscribe subscribe;
  subscribe.unacknowledged_tasks = task_infos(r, o, "unacknowledged_tasks");
  subscribe.unacknowledged_updates = read_array<TaskStatus>(
      r, o, "unacknowledged_updates",
      [&r](const value& v) { return read_status_wrapper(r, as_object(r, v)); });
  return subscribe;
}

TaskStatus read_executor_update(JsonReader& r, const object& o) {
  TaskStatus status = read_status_wrapper(r, o);
  auto scope = r.enter("status");
  if (!status.uuid) {
    r.fail("uuid", "missing, required in an executor update");
  }
  check_uuid(r, status.uuid);
  return status;
}

std::string read_message_data(JsonReader& r, const object& o) {
  return req_bytes(r, o, "data");
}

// In the order of ExecutorCallPayload's alternatives.
constexpr std::array<std::string_view, 4> kExecutorCallTypes = {"SUBSCRIBE", "UPDATE", "MESSAGE",
                                                                "HEARTBEAT"};
static_assert(kExecutorCallTypes.size() == std::variant_size_v<ExecutorCallPayload>);

ExecutorCall read_executor_call(JsonReader& r, const object& o) {
  ExecutorCall call;
  const std::string type = req_string(r, o, "type");
  if (r.ok() && !one_of(type, kExecutorCallTypes)) {
    r.fail("type", "unsupported executor call type '" + type.substr(0, 64) + "'");
  }
  call.executor_id = req_id(r, o, "executor_id");
  call.framework_id = req_id(r, o, "framework_id");
  if (type == "SUBSCRIBE") {
    call.payload = req_message(r, o, "subscribe", read_executor_subscribe);
  } else if (type == "UPDATE") {
    call.payload = ExecutorCallUpdate{req_message(r, o, "update", read_executor_update)};
  } else if (type == "MESSAGE") {
    call.payload = ExecutorCallMessage{req_message(r, o, "message", read_message_data)};
  } else {
    call.payload = ExecutorCallHeartbeat{};
  }
  return call;
}

object executor_subscribe_json(const ExecutorCallSubscribe& subscribe) {
  object o;
  if (!subscribe.unacknowledged_tasks.empty()) {
    o["unacknowledged_tasks"] = task_infos_json(subscribe.unacknowledged_tasks);
  }
  if (!subscribe.unacknowledged_updates.empty()) {
    array updates;
    for (const auto& status : subscribe.unacknowledged_updates) {
      updates.push_back(status_wrapper_json(status));
    }
    o["unacknowledged_updates"] = std::move(updates);
  }
  return o;
}

}  // namespace

std::string_view type_name(const ExecutorCall& call) {
  return kExecutorCallTypes.at(call.payload.index());
}

std::string encode(const ExecutorCall& call) {
  object o{{"type", type_name(call)},
           {"executor_id", id_object(call.executor_id)},
           {"framework_id", id_object(call.framework_id)}};
  if (const auto* subscribe = std::get_if<ExecutorCallSubscribe>(&call.payload)) {
    o["subscribe"] = executor_subscribe_json(*subscribe);
  } else if (const auto* update = std::get_if<ExecutorCallUpdate>(&call.payload)) {
    o["update"] = status_wrapper_json(update->status);
  } else if (const auto* message = std::get_if<ExecutorCallMessage>(&call.payload)) {
    o["message"] = object{{"data", base64_encode(message->data)}};
  }
  return serialize(o);
}

Result<ExecutorCall> decode_executor_call(std::string_view json) {
  return decode_top<ExecutorCall>(json, "executor call", read_executor_call);
}

namespace {

// -------------------------------------------------------- executor events

ExecutorEventSubscribed read_executor_subscribed(JsonReader& r, const object& o) {
  ExecutorEventSubscribed subscribed;
  subscribed.executor_info = req_message(r, o, "executor_info", read_executor_info);
  subscribed.framework_info = req_message(r, o, "framework_info", read_framework_info);
  subscribed.agent_info = req_message(r, o, "agent_info", read_agent_info);
  subscribed.container_id = opt_id(r, o, "container_id");
  return subscribed;
}

TaskInfo read_launch(JsonReader& r, const object& o) {
  return req_message(r, o, "task", read_task_info);
}

ExecutorEventKill read_executor_kill(JsonReader& r, const object& o) {
  return ExecutorEventKill{req_id(r, o, "task_id"), opt_kill_grace(r, o)};
}

ExecutorEventAcknowledged read_acknowledged(JsonReader& r, const object& o) {
  return ExecutorEventAcknowledged{req_id(r, o, "task_id"), req_bytes(r, o, "uuid")};
}

ExecutorEvent read_executor_event(JsonReader& r, const object& o) {
  const std::string type = req_string(r, o, "type");
  if (type == "SUBSCRIBED") {
    return req_message(r, o, "subscribed", read_executor_subscribed);
  }
  if (type == "LAUNCH") {
    return ExecutorEventLaunch{req_message(r, o, "launch", read_launch)};
  }
  if (type == "KILL") {
    return req_message(r, o, "kill", read_executor_kill);
  }
  if (type == "ACKNOWLEDGED") {
    return req_message(r, o, "acknowledged", read_acknowledged);
  }
  if (type == "MESSAGE") {
    return ExecutorEventMessage{req_message(r, o, "message", read_message_data)};
  }
  if (type == "SHUTDOWN") {
    return ExecutorEventShutdown{};
  }
  if (type == "ERROR") {
    return ExecutorEventError{req_message(r, o, "error", read_error_message)};
  }
  if (type == "HEARTBEAT") {
    return ExecutorEventHeartbeat{};
  }
  return ExecutorEventOther{type};
}

// In the order of ExecutorEvent's alternatives; ExecutorEventOther names
// itself.
constexpr std::array<std::string_view, 8> kExecutorEventTypes = {
    "SUBSCRIBED", "LAUNCH", "KILL", "ACKNOWLEDGED", "MESSAGE", "SHUTDOWN", "ERROR", "HEARTBEAT"};
static_assert(kExecutorEventTypes.size() + 1 == std::variant_size_v<ExecutorEvent>);

object executor_subscribed_json(const ExecutorEventSubscribed& subscribed) {
  object o{{"executor_info", executor_info_json(subscribed.executor_info)},
           {"framework_info", framework_info_json(subscribed.framework_info)},
           {"agent_info", agent_info_json(subscribed.agent_info)}};
  if (subscribed.container_id) {
    o["container_id"] = id_object(*subscribed.container_id);
  }
  return o;
}

}  // namespace

std::string_view type_name(const ExecutorEvent& event) {
  if (const auto* other = std::get_if<ExecutorEventOther>(&event)) {
    return other->type;
  }
  return kExecutorEventTypes.at(event.index());
}

std::string encode(const ExecutorEvent& event) {
  object o{{"type", type_name(event)}};
  if (const auto* subscribed = std::get_if<ExecutorEventSubscribed>(&event)) {
    o["subscribed"] = executor_subscribed_json(*subscribed);
  } else if (const auto* launch = std::get_if<ExecutorEventLaunch>(&event)) {
    o["launch"] = object{{"task", task_info_json(launch->task)}};
  } else if (const auto* kill = std::get_if<ExecutorEventKill>(&event)) {
    object k{{"task_id", id_object(kill->task_id)}};
    if (kill->grace_period_ns) {
      k["kill_policy"] = kill_policy_json(*kill->grace_period_ns);
    }
    o["kill"] = std::move(k);
  } else if (const auto* ack = std::get_if<ExecutorEventAcknowledged>(&event)) {
    o["acknowledged"] =
        object{{"task_id", id_object(ack->task_id)}, {"uuid", base64_encode(ack->uuid)}};
  } else if (const auto* message = std::get_if<ExecutorEventMessage>(&event)) {
    o["message"] = object{{"data", base64_encode(message->data)}};
  } else if (const auto* error = std::get_if<ExecutorEventError>(&event)) {
    o["error"] = object{{"message", error->message}};
  }
  return serialize(o);
}

Result<ExecutorEvent> decode_executor_event(std::string_view json) {
  return decode_top<ExecutorEvent>(json, "executor event", read_executor_event);
}

// ----------------------------------------------------- standalone messages

std::string encode(const MasterInfo& info) {
  return serialize(master_info_json(info));
}

Result<MasterInfo> decode_master_info(std::string_view json) {
  return decode_top<MasterInfo>(json, "master info", read_master_info);
}

std::string encode(const TaskInfo& task) {
  return serialize(task_info_json(task));
}

Result<TaskInfo> decode_task_info(std::string_view json) {
  return decode_top<TaskInfo>(json, "task info", read_task_info);
}

}  // namespace etcdmesos::mesos
