// The resources the dev cluster knows: cpus, mem, disk (scalars) and ports
// (ranges), all unreserved (role "*"). Value type; pure.
#pragma once

#include "codec/mesos.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <vector>

namespace etcdmesos::devcluster {

class ResourceBag {
 public:
  double cpus = 0;
  double mem = 0;
  double disk = 0;

  // Sorted, non-overlapping, non-adjacent ranges.
  const std::vector<mesos::Range>& ports() const { return ports_; }
  void set_ports(std::vector<mesos::Range> ranges);

  // Error text when a resource is not one this cluster can offer (unknown
  // name or type, reserved, negative).
  static Result<ResourceBag> from_mesos(const std::vector<mesos::Resource>& resources);
  // cpus, mem, disk, ports; zero scalars and empty ranges left out. With
  // `allocation_role`, every resource carries allocation_info.
  std::vector<mesos::Resource> to_mesos(const std::optional<std::string>& allocation_role) const;

  bool empty() const;
  bool contains(const ResourceBag& other) const;
  ResourceBag& operator+=(const ResourceBag& other);
  ResourceBag& operator-=(const ResourceBag& other);  // clamps at zero
  friend ResourceBag operator+(ResourceBag a, const ResourceBag& b) { return a += b; }
  friend ResourceBag operator-(ResourceBag a, const ResourceBag& b) { return a -= b; }
  bool operator==(const ResourceBag&) const = default;

  // Enough for an offer: Mesos' default minimum allocatable resources.
  bool allocatable() const { return cpus >= 0.01 || mem >= 32; }

  // "[31000-31004, 31006-31999]" as in /state.
  std::string ports_text() const;
  // {"cpus":..,"mem":..,"disk":..,"gpus":0.0,"ports":"[..]"} as in /state.
  boost::json::object to_state_json() const;
  // "cpus:1; mem:128; disk:0; ports:[31000-31001]" for messages.
  std::string describe() const;

 private:
  std::vector<mesos::Range> ports_;
};

}  // namespace etcdmesos::devcluster
