#include "proxy/discovery.hpp"

#include "codec/json_read.hpp"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <charconv>
#include <iterator>
#include <map>
#include <optional>

namespace etcdmesos::proxy {

namespace json = boost::json;
using codec::JsonReader;

namespace {

constexpr std::string_view kRunning = "TASK_RUNNING";

std::string string_or_empty(const json::object& o, std::string_view key) {
  const json::value* v = codec::find(o, key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

bool valid_port(uint64_t port) {
  return port >= 1 && port <= 65535;
}

// "slave(1)@10.0.0.5:5051" -> "10.0.0.5".
std::string host_from_pid(std::string_view pid) {
  auto at = pid.find('@');
  auto colon = pid.rfind(':');
  if (at == std::string_view::npos || colon == std::string_view::npos || colon <= at + 1) {
    return {};
  }
  return std::string(pid.substr(at + 1, colon - at - 1));
}

// Agent id -> host, from slaves[]. Entries without an id or a host are left
// out; their tasks are then skipped with a reason.
std::map<std::string, std::string> agent_hosts(const json::object& state) {
  std::map<std::string, std::string> hosts;
  const json::value* slaves = codec::find(state, "slaves");
  if (slaves == nullptr || !slaves->is_array()) {
    return hosts;
  }
  for (const auto& entry : slaves->get_array()) {
    if (!entry.is_object()) {
      continue;
    }
    const auto& slave = entry.get_object();
    std::string id = string_or_empty(slave, "id");
    std::string host = string_or_empty(slave, "hostname");
    if (host.empty()) {
      host = host_from_pid(string_or_empty(slave, "pid"));
    }
    if (!id.empty() && !host.empty()) {
      hosts.emplace(std::move(id), std::move(host));
    }
  }
  return hosts;
}

// The port of the discovery port named "client", if any.
std::optional<uint32_t> discovery_client_port(JsonReader& r, const json::object& task) {
  const json::object* discovery = codec::opt_object(r, task, "discovery");
  if (discovery == nullptr) {
    return std::nullopt;
  }
  auto in_discovery = r.enter("discovery");
  const json::object* ports = codec::opt_object(r, *discovery, "ports");
  if (ports == nullptr) {
    return std::nullopt;
  }
  auto in_ports = r.enter("ports");
  std::optional<uint32_t> client;
  codec::read_array<int>(r, *ports, "ports", [&](const json::value& v) {
    const auto& port = codec::as_object(r, v);
    if (codec::opt_string(r, port, "name") == "client" && !client) {
      client = codec::req_uint32(r, port, "number");
    }
    return 0;
  });
  return client;
}

// The second port of the task's "ports" resource ("[peer-client]").
std::optional<uint32_t> resource_client_port(JsonReader& r, const json::object& task) {
  const json::object* resources = codec::opt_object(r, task, "resources");
  if (resources == nullptr) {
    return std::nullopt;
  }
  auto in_resources = r.enter("resources");
  auto text = codec::opt_string(r, *resources, "ports");
  if (!text) {
    return std::nullopt;
  }
  auto ports = parse_port_ranges(*text);
  if (!ports) {
    r.fail("ports", ports.error().message);
    return std::nullopt;
  }
  if (ports->size() < 2) {
    return std::nullopt;
  }
  return (*ports)[1];
}

// One running task -> a member, or the reason it cannot be used.
Result<MemberEndpoint> task_member(const json::object& task,
                                   const std::map<std::string, std::string>& hosts) {
  JsonReader r("task");
  MemberEndpoint m;
  m.name = string_or_empty(task, "name");
  if (const json::object* d = codec::opt_object(r, task, "discovery")) {
    if (auto name = codec::opt_string(r, *d, "name"); name && !name->empty()) {
      m.name = *name;
    }
  }
  std::string slave_id = codec::req_string(r, task, "slave_id");
  auto port = discovery_client_port(r, task);
  if (!port && r.ok()) {
    port = resource_client_port(r, task);
  }
  if (!r.ok()) {
    return r.error();
  }
  auto host = hosts.find(slave_id);
  if (host == hosts.end()) {
    return make_error("agent " + slave_id + " is not in slaves[] (unreachable or removed)");
  }
  if (!port || !valid_port(*port)) {
    return make_error(
        "no client port (no discovery port named \"client\", no second port in "
        "its ports resource)");
  }
  m.host = host->second;
  m.client_port = static_cast<uint16_t>(*port);
  return m;
}

std::string task_label(const json::object& task) {
  std::string id = string_or_empty(task, "id");
  return id.empty() ? string_or_empty(task, "name") : id;
}

void collect_running(const json::object& framework, const std::map<std::string, std::string>& hosts,
                     Discovery& out) {
  const json::value* tasks = codec::find(framework, "tasks");
  if (tasks == nullptr || !tasks->is_array()) {
    return;
  }
  for (const auto& entry : tasks->get_array()) {
    if (!entry.is_object()) {
      out.skipped.push_back("(a task that is not a JSON object)");
      continue;
    }
    const auto& task = entry.get_object();
    if (string_or_empty(task, "state") != kRunning) {
      continue;
    }
    auto member = task_member(task, hosts);
    if (member) {
      out.members.push_back(std::move(*member));
    } else {
      out.skipped.push_back(task_label(task) + ": " + member.error().message);
    }
  }
}

std::string selector_text(const FrameworkSelector& s) {
  std::string text = "framework '" + s.name + "'";
  if (!s.id.empty()) {
    text += " with id " + s.id;
  }
  return text;
}

Result<const json::object*> select_framework(const json::array& frameworks,
                                             const FrameworkSelector& selector) {
  std::vector<const json::object*> named;
  for (const auto& entry : frameworks) {
    if (!entry.is_object()) {
      continue;
    }
    const auto& f = entry.get_object();
    if (string_or_empty(f, "name") == selector.name &&
        (selector.id.empty() || string_or_empty(f, "id") == selector.id)) {
      named.push_back(&f);
    }
  }
  if (named.empty()) {
    return make_error("no " + selector_text(selector) + " is registered with the master",
                      kNoFramework);
  }
  if (named.size() == 1) {
    // Also when inactive: while its scheduler fails over, members keep running.
    return named.front();
  }
  std::vector<const json::object*> active;
  std::string ids;
  for (const auto* f : named) {
    const json::value* a = codec::find(*f, "active");
    if (a != nullptr && a->is_bool() && a->get_bool()) {
      active.push_back(f);
    }
    ids += (ids.empty() ? "" : ", ") + string_or_empty(*f, "id");
  }
  if (active.size() == 1) {
    return active.front();
  }
  return make_error(std::to_string(named.size()) + " frameworks named '" + selector.name +
                        "' are registered (" + ids + "); choose one with -framework-id",
                    kAmbiguousFramework);
}

// host:port out of "http(s)://host:port[/...]". The gateway forwards TCP,
// so a member serving TLS is reached the same way (clients then speak TLS
// with it end to end).
Result<MemberEndpoint> endpoint_from_url(std::string_view text) {
  auto url = boost::urls::parse_uri(text);
  if (!url || (url->scheme() != "http" && url->scheme() != "https") || url->host().empty() ||
      !url->has_port()) {
    return make_error("client_url '" + std::string(text) + "' is not http(s)://host:port");
  }
  const auto port = parse_port(url->port());
  if (!port) {
    return make_error("client_url '" + std::string(text) + "' has no valid port");
  }
  MemberEndpoint m;
  m.host = std::string(url->host());
  m.client_port = *port;
  return m;
}

bool looks_like_host_port(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return false;
  }
  return parse_port(text.substr(colon + 1)).has_value();
}

}  // namespace

Result<Discovery> members_from_master_state(std::string_view body,
                                            const FrameworkSelector& selector) {
  auto root = codec::parse_object(body, kMaxStateBytes, "master /state");
  if (!root) {
    return make_error(root.error().message, kMalformed);
  }
  const json::value* frameworks = codec::find(*root, "frameworks");
  if (frameworks == nullptr || !frameworks->is_array()) {
    return make_error("master /state has no frameworks[] array", kMalformed);
  }
  auto framework = select_framework(frameworks->get_array(), selector);
  if (!framework) {
    return framework.error();
  }
  Discovery out;
  out.framework_id = string_or_empty(**framework, "id");
  collect_running(**framework, agent_hosts(*root), out);
  return out;
}

Result<Discovery> members_from_scheduler(std::string_view body) {
  if (body.size() > kMaxMembersBytes) {
    return make_error("scheduler /members: " + std::to_string(body.size()) +
                          " bytes exceed the limit of " + std::to_string(kMaxMembersBytes),
                      kMalformed);
  }
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 16;
  json::value root = json::parse(body, ec, json::storage_ptr(), options);
  if (ec || !root.is_array()) {
    return make_error("scheduler /members: expected a JSON array of members", kMalformed);
  }
  Discovery out;
  for (const auto& entry : root.get_array()) {
    if (!entry.is_object()) {
      out.skipped.push_back("(a member that is not a JSON object)");
      continue;
    }
    const auto& member = entry.get_object();
    if (string_or_empty(member, "state") != kRunning) {
      continue;
    }
    std::string name = string_or_empty(member, "name");
    auto endpoint = endpoint_from_url(string_or_empty(member, "client_url"));
    if (!endpoint) {
      out.skipped.push_back(name + ": " + endpoint.error().message);
      continue;
    }
    endpoint->name = std::move(name);
    out.members.push_back(std::move(*endpoint));
  }
  return out;
}

std::optional<uint16_t> parse_port(std::string_view digits) {
  uint32_t port = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
      !valid_port(port)) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(port);
}

Result<std::vector<uint32_t>> parse_port_ranges(std::string_view text) {
  auto bad = [&] { return make_error("ports '" + std::string(text) + "' is not [a-b, c-d, ...]"); };
  if (text.size() < 2 || text.front() != '[' || text.back() != ']') {
    return bad();
  }
  // A range list is short; bound the expansion so "[1-65535]" cannot
  // allocate a large vector.
  constexpr std::size_t kMaxPorts = 1024;
  std::vector<uint32_t> ports;
  std::string_view rest = text.substr(1, text.size() - 2);
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view range = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    while (!range.empty() && range.front() == ' ') {
      range.remove_prefix(1);
    }
    auto dash = range.find('-');
    if (dash == std::string_view::npos) {
      return bad();
    }
    uint32_t begin = 0;
    uint32_t end = 0;
    auto a = std::from_chars(range.data(), range.data() + dash, begin);
    auto b = std::from_chars(range.data() + dash + 1, range.data() + range.size(), end);
    if (a.ec != std::errc() || a.ptr != range.data() + dash || b.ec != std::errc() ||
        b.ptr != range.data() + range.size() || begin > end || end > 65535 ||
        ports.size() + (end - begin) >= kMaxPorts) {
      return bad();
    }
    for (uint32_t p = begin; p <= end; ++p) {
      ports.push_back(p);
    }
    if (comma != std::string_view::npos && rest.empty()) {
      return bad();
    }
  }
  return ports;
}

EndpointSet endpoint_set(const std::vector<MemberEndpoint>& members) {
  EndpointSet set;
  set.reserve(members.size());
  for (const auto& m : members) {
    set.push_back(m.address());
  }
  std::sort(set.begin(), set.end());
  set.erase(std::unique(set.begin(), set.end()), set.end());
  return set;
}

EndpointDiff diff(const EndpointSet& before, const EndpointSet& after) {
  EndpointDiff d;
  std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                      std::back_inserter(d.added));
  std::set_difference(before.begin(), before.end(), after.begin(), after.end(),
                      std::back_inserter(d.removed));
  return d;
}

std::string describe(const EndpointDiff& d) {
  std::string out;
  for (const auto& e : d.added) {
    out += (out.empty() ? "+" : " +") + e;
  }
  for (const auto& e : d.removed) {
    out += (out.empty() ? "-" : " -") + e;
  }
  return out.empty() ? "no change" : out;
}

std::string join(const EndpointSet& set, std::string_view separator) {
  std::string out;
  for (const auto& e : set) {
    if (!out.empty()) {
      out += separator;
    }
    out += e;
  }
  return out;
}

std::string encode_saved_endpoints(const std::string& framework, const EndpointSet& endpoints) {
  json::array list;
  for (const auto& e : endpoints) {
    list.emplace_back(e);
  }
  return json::serialize(json::object{{"framework", framework}, {"endpoints", std::move(list)}});
}

Result<EndpointSet> decode_saved_endpoints(std::string_view text, const std::string& framework) {
  auto root = codec::parse_object(text, kMaxMembersBytes, "saved endpoints");
  if (!root) {
    return make_error(root.error().message, kMalformed);
  }
  if (codec::find(*root, "endpoints") == nullptr) {
    return make_error("saved endpoints: no endpoints array", kMalformed);
  }
  JsonReader r("saved endpoints");
  std::string saved_for = codec::req_string(r, *root, "framework");
  EndpointSet endpoints = codec::string_array(r, *root, "endpoints");
  if (!r.ok()) {
    return make_error(r.error().message, kMalformed);
  }
  if (saved_for != framework) {
    return make_error(
        "saved endpoints are for framework '" + saved_for + "', not '" + framework + "'",
        kNoFramework);
  }
  for (const auto& e : endpoints) {
    if (!looks_like_host_port(e)) {
      return make_error("saved endpoints: '" + e + "' is not host:port", kMalformed);
    }
  }
  std::sort(endpoints.begin(), endpoints.end());
  endpoints.erase(std::unique(endpoints.begin(), endpoints.end()), endpoints.end());
  return endpoints;
}

}  // namespace etcdmesos::proxy
