// Offer matching: does a Mesos offer hold enough for one member, and which two
// ports does the member take. Pure functions over OfferView; no state.
#pragma once

#include "core/types.hpp"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace etcdmesos::core {

struct PortPair {
  uint32_t peer = 0;
  uint32_t client = 0;
  bool operator==(const PortPair&) const = default;
};

// Where a new member would run if it took this offer.
struct Placement {
  std::string offer_id;
  std::string agent_id;
  std::string host;
  PortPair ports;
  bool operator==(const Placement&) const = default;
};

// The two lowest usable ports of the ranges (any ranges, not necessarily
// contiguous; overlapping or unsorted ranges are fine). Ports outside
// 1..65535 are ignored: the master is a peer and may send nonsense.
std::optional<PortPair> pick_two_ports(const std::vector<PortRange>& ranges);

// Whether `offer` has the scalar resources of one member (task plus executor)
// and two free ports; returns where the member would run.
std::optional<Placement> placement_for(const OfferView& offer, const Config& config);

// The first offer (in arrival order, for determinism) that fits and whose
// agent is not in `excluded_agents`, preferring agents not in
// `avoided_agents` (where a member failed lately: another agent takes the
// member if one offers, that one only if none does); returns its index.
struct OfferChoice {
  std::size_t index = 0;
  Placement placement;
};
std::optional<OfferChoice> choose_offer(const std::vector<OfferView>& offers, const Config& config,
                                        const std::set<std::string>& excluded_agents,
                                        const std::set<std::string>& avoided_agents = {});

}  // namespace etcdmesos::core
