#include "resources.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace etcdmesos::devcluster {

namespace {

// Mesos keeps scalars in fixed point with three decimals.
double round3(double v) {
  return std::max(0.0, std::round(v * 1000.0) / 1000.0);
}

std::vector<mesos::Range> normalize(std::vector<mesos::Range> ranges) {
  std::sort(ranges.begin(), ranges.end(),
            [](const mesos::Range& a, const mesos::Range& b) { return a.begin < b.begin; });
  std::vector<mesos::Range> out;
  for (const auto& r : ranges) {
    if (r.begin > r.end) {
      continue;
    }
    if (!out.empty() && r.begin <= out.back().end + 1) {
      out.back().end = std::max(out.back().end, r.end);
    } else {
      out.push_back(r);
    }
  }
  return out;
}

bool range_covered(const std::vector<mesos::Range>& have, const mesos::Range& want) {
  return std::any_of(have.begin(), have.end(), [&](const mesos::Range& r) {
    return r.begin <= want.begin && want.end <= r.end;
  });
}

std::vector<mesos::Range> subtract_ranges(const std::vector<mesos::Range>& from,
                                          const std::vector<mesos::Range>& remove) {
  std::vector<mesos::Range> out = from;
  for (const auto& cut : remove) {
    std::vector<mesos::Range> next;
    for (const auto& r : out) {
      if (cut.end < r.begin || cut.begin > r.end) {
        next.push_back(r);
        continue;
      }
      if (cut.begin > r.begin) {
        next.push_back({r.begin, cut.begin - 1});
      }
      if (cut.end < r.end) {
        next.push_back({cut.end + 1, r.end});
      }
    }
    out = std::move(next);
  }
  return out;
}

}  // namespace

void ResourceBag::set_ports(std::vector<mesos::Range> ranges) {
  ports_ = normalize(ranges);
}

Result<ResourceBag> ResourceBag::from_mesos(const std::vector<mesos::Resource>& resources) {
  ResourceBag bag;
  std::vector<mesos::Range> ports;
  for (const auto& r : resources) {
    if (r.reserved || (r.role && *r.role != "*")) {
      return make_error("reserved resource '" + r.name + "' is not offered by mesos-devcluster");
    }
    bool scalar = r.type == mesos::Resource::Type::kScalar;
    if (scalar && (r.scalar < 0 || !std::isfinite(r.scalar))) {
      return make_error("resource '" + r.name + "' has an invalid value");
    }
    if (r.name == "cpus" && scalar) {
      bag.cpus += r.scalar;
    } else if (r.name == "mem" && scalar) {
      bag.mem += r.scalar;
    } else if (r.name == "disk" && scalar) {
      bag.disk += r.scalar;
    } else if (r.name == "ports" && r.type == mesos::Resource::Type::kRanges) {
      ports.insert(ports.end(), r.ranges.begin(), r.ranges.end());
    } else {
      return make_error("resource '" + r.name +
                        "' of this type is not offered by mesos-devcluster");
    }
  }
  bag.cpus = round3(bag.cpus);
  bag.mem = round3(bag.mem);
  bag.disk = round3(bag.disk);
  bag.set_ports(std::move(ports));
  return bag;
}

std::vector<mesos::Resource> ResourceBag::to_mesos(
    const std::optional<std::string>& allocation_role) const {
  std::vector<mesos::Resource> out;
  auto add = [&](mesos::Resource r) {
    r.role = "*";
    r.allocation_role = allocation_role;
    out.push_back(std::move(r));
  };
  if (cpus > 0) {
    add(mesos::scalar_resource("cpus", cpus));
  }
  if (mem > 0) {
    add(mesos::scalar_resource("mem", mem));
  }
  if (disk > 0) {
    add(mesos::scalar_resource("disk", disk));
  }
  if (!ports_.empty()) {
    add(mesos::ranges_resource("ports", ports_));
  }
  return out;
}

bool ResourceBag::empty() const {
  return cpus <= 0 && mem <= 0 && disk <= 0 && ports_.empty();
}

bool ResourceBag::contains(const ResourceBag& other) const {
  constexpr double kEpsilon = 0.0005;
  if (other.cpus > cpus + kEpsilon || other.mem > mem + kEpsilon || other.disk > disk + kEpsilon) {
    return false;
  }
  return std::all_of(other.ports_.begin(), other.ports_.end(),
                     [&](const mesos::Range& r) { return range_covered(ports_, r); });
}

ResourceBag& ResourceBag::operator+=(const ResourceBag& other) {
  cpus = round3(cpus + other.cpus);
  mem = round3(mem + other.mem);
  disk = round3(disk + other.disk);
  auto ranges = ports_;
  ranges.insert(ranges.end(), other.ports_.begin(), other.ports_.end());
  ports_ = normalize(std::move(ranges));
  return *this;
}

ResourceBag& ResourceBag::operator-=(const ResourceBag& other) {
  cpus = round3(cpus - other.cpus);
  mem = round3(mem - other.mem);
  disk = round3(disk - other.disk);
  ports_ = subtract_ranges(ports_, other.ports_);
  return *this;
}

std::string ResourceBag::ports_text() const {
  std::string out = "[";
  for (std::size_t i = 0; i < ports_.size(); ++i) {
    if (i > 0) {
      out += ", ";
    }
    out += std::to_string(ports_[i].begin) + "-" + std::to_string(ports_[i].end);
  }
  return out + "]";
}

boost::json::object ResourceBag::to_state_json() const {
  boost::json::object o;
  o["disk"] = disk;
  o["mem"] = mem;
  o["gpus"] = 0.0;
  o["cpus"] = cpus;
  if (!ports_.empty()) {
    o["ports"] = ports_text();
  }
  return o;
}

std::string ResourceBag::describe() const {
  std::ostringstream out;
  out << "cpus:" << cpus << "; mem:" << mem << "; disk:" << disk << "; ports:" << ports_text();
  return out.str();
}

}  // namespace etcdmesos::devcluster
