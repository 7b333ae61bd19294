#include "core/offer_match.hpp"

#include <algorithm>

namespace etcdmesos::core {

namespace {

constexpr uint64_t kLowestPort = 1;
constexpr uint64_t kHighestPort = 65535;

bool has_scalars(const OfferView& offer, const Config& config) {
  return offer.cpus >= config.task_cpus + config.executor_cpus &&
         offer.mem_mb >= config.task_mem_mb + config.executor_mem_mb &&
         offer.disk_mb >= config.task_disk_mb;
}

}  // namespace

std::optional<PortPair> pick_two_ports(const std::vector<PortRange>& ranges) {
  // The two lowest ports overall are among the two lowest of each range, so
  // collecting those is enough and never walks a huge range.
  std::set<uint64_t> candidates;
  for (const auto& r : ranges) {
    const uint64_t begin = std::max(r.begin, kLowestPort);
    const uint64_t end = std::min(r.end, kHighestPort);
    for (uint64_t p = begin; p <= end && p < begin + 2; ++p) {
      candidates.insert(p);
    }
  }
  if (candidates.size() < 2) {
    return std::nullopt;
  }
  auto it = candidates.begin();
  PortPair pair;
  pair.peer = static_cast<uint32_t>(*it++);
  pair.client = static_cast<uint32_t>(*it);
  return pair;
}

std::optional<Placement> placement_for(const OfferView& offer, const Config& config) {
  // Without an agent id or a hostname the member could neither be launched
  // nor advertise itself.
  if (offer.agent_id.empty() || offer.hostname.empty() || !has_scalars(offer, config)) {
    return std::nullopt;
  }
  auto ports = pick_two_ports(offer.ports);
  if (!ports) {
    return std::nullopt;
  }
  return Placement{offer.offer_id, offer.agent_id, offer.hostname, *ports};
}

std::optional<OfferChoice> choose_offer(const std::vector<OfferView>& offers, const Config& config,
                                        const std::set<std::string>& excluded_agents,
                                        const std::set<std::string>& avoided_agents) {
  for (const bool take_avoided : {false, true}) {
    for (std::size_t i = 0; i < offers.size(); ++i) {
      if (excluded_agents.contains(offers[i].agent_id) ||
          avoided_agents.contains(offers[i].agent_id) != take_avoided) {
        continue;
      }
      if (auto placement = placement_for(offers[i], config)) {
        return OfferChoice{i, std::move(*placement)};
      }
    }
  }
  return std::nullopt;
}

}  // namespace etcdmesos::core
