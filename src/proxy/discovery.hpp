// Pure discovery of a cluster's client endpoints for etcd-mesos-proxy: from
// the Mesos master's legacy /state JSON (reference mesos §17) or from the
// scheduler's GET /members, plus the set arithmetic the proxy needs to
// decide when to re-point its gateway. No I/O, no clocks.
//
// Errors: input that is not the expected JSON, a framework that is not
// registered or is ambiguous, are Error values whose `code` is a
// DiscoveryError, never exceptions. A single task that cannot be read (no
// host, no port) does not spoil the rest: it is skipped and named in
// Discovery::skipped so the caller can log why a member is missing.
#pragma once

#include "common/error.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace etcdmesos::proxy {

// Error::code values produced here.
enum DiscoveryError : int {
  kMalformed = 1,           // not JSON, or not the shape of /state or /members
  kNoFramework = 2,         // no registered framework has that name (and id)
  kAmbiguousFramework = 3,  // several active frameworks share the name
};

// Upper bounds on what is parsed. /state of a large Mesos cluster can be tens
// of MB; /members is small.
inline constexpr std::size_t kMaxStateBytes = 64 * 1024 * 1024;
inline constexpr std::size_t kMaxMembersBytes = 1024 * 1024;

struct MemberEndpoint {
  std::string name;  // member (task or DiscoveryInfo) name, for logs
  std::string host;  // agent hostname or IP
  uint16_t client_port = 0;
  std::string address() const { return host + ":" + std::to_string(client_port); }
  bool operator==(const MemberEndpoint&) const = default;
};

struct Discovery {
  std::string framework_id;             // "" when read from /members
  std::vector<MemberEndpoint> members;  // running members, in input order
  std::vector<std::string> skipped;     // "<task>: <why>" for running tasks left out
};

// Which framework to follow. Mesos does not make names unique, so `id`
// (when set) pins one framework.
struct FrameworkSelector {
  std::string name;
  std::string id;  // "" = any framework with that name
};

// Members of the selected framework in a master's /state body: its
// TASK_RUNNING tasks; host = hostname of the slaves[] entry whose id is the
// task's slave_id (else the host in that entry's pid); client port = the
// task's discovery port named "client", else the second port of its "ports"
// resource (the scheduler reserves [peer, client] in ascending order).
// Frameworks in completed_frameworks[] are ignored. When several frameworks
// match, only the active ones count; more than one active is an error.
Result<Discovery> members_from_master_state(std::string_view body,
                                            const FrameworkSelector& selector);

// Members in the scheduler's GET /members body (an array of objects with
// name, client_url and state): those in TASK_RUNNING.
Result<Discovery> members_from_scheduler(std::string_view body);

// "1".."65535" exactly (no sign, blanks or suffix), else nullopt.
std::optional<uint16_t> parse_port(std::string_view digits);

// The ports of a /state "ports" resource text such as "[31000-31001, 31005-31005]",
// in order. Error for anything else.
Result<std::vector<uint32_t>> parse_port_ranges(std::string_view text);

// "host:port" of every member, sorted and without duplicates: the form the
// gateway is given and that changes are detected on.
using EndpointSet = std::vector<std::string>;
EndpointSet endpoint_set(const std::vector<MemberEndpoint>& members);

struct EndpointDiff {
  EndpointSet added;
  EndpointSet removed;
  bool empty() const { return added.empty() && removed.empty(); }
};
// Both sets must be sorted (as endpoint_set returns them).
EndpointDiff diff(const EndpointSet& before, const EndpointSet& after);
// "+h1:1 +h2:2 -h3:3", for logs.
std::string describe(const EndpointDiff& d);
std::string join(const EndpointSet& set, std::string_view separator = ",");

// The endpoints last served, kept in <data-dir> so that a restarted proxy can
// serve at once while the master is unreachable. JSON
// {"framework":"<name>","endpoints":["h:p",...]}. decode returns an error for
// malformed text and for a file written for another framework.
std::string encode_saved_endpoints(const std::string& framework, const EndpointSet& endpoints);
Result<EndpointSet> decode_saved_endpoints(std::string_view text, const std::string& framework);

}  // namespace etcdmesos::proxy
