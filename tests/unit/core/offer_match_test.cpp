#include "core/offer_match.hpp"
#include "core_harness.hpp"

#include <gtest/gtest.h>

namespace etcdmesos::core::testing {
namespace {

TEST(PickTwoPorts, TakesTheTwoLowestOfOneRange) {
  EXPECT_EQ(pick_two_ports({{31000, 32000}}), (PortPair{31000, 31001}));
}

TEST(PickTwoPorts, TakesPortsFromNonContiguousUnsortedRanges) {
  EXPECT_EQ(pick_two_ports({{40000, 40010}, {31005, 31005}, {31001, 31001}}),
            (PortPair{31001, 31005}));
}

TEST(PickTwoPorts, OverlappingRangesDoNotYieldTheSamePortTwice) {
  EXPECT_EQ(pick_two_ports({{31000, 31000}, {31000, 31000}}), std::nullopt);
  EXPECT_EQ(pick_two_ports({{31000, 31005}, {31000, 31001}}), (PortPair{31000, 31001}));
}

TEST(PickTwoPorts, NeedsTwoUsablePorts) {
  EXPECT_EQ(pick_two_ports({}), std::nullopt);
  EXPECT_EQ(pick_two_ports({{31000, 31000}}), std::nullopt);
  EXPECT_EQ(pick_two_ports({{31001, 31000}}), std::nullopt);  // inverted range
}

TEST(PickTwoPorts, IgnoresPortsOutsideTheValidRange) {
  EXPECT_EQ(pick_two_ports({{0, 1}}), std::nullopt);
  EXPECT_EQ(pick_two_ports({{65535, 70000}}), std::nullopt);
  EXPECT_EQ(pick_two_ports({{65534, 1ULL << 40}}), (PortPair{65534, 65535}));
  EXPECT_EQ(pick_two_ports({{0, 5}}), (PortPair{1, 2}));
}

TEST(PlacementFor, NeedsEveryScalarAndTwoPorts) {
  const Config c = test_config();
  OfferView o = offer("o1", 1);
  auto p = placement_for(o, c);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(*p, (Placement{"o1", "a1", "127.0.0.2", {31000, 31001}}));

  auto without = [&](auto mutate) {
    OfferView copy = o;
    mutate(copy);
    return placement_for(copy, c).has_value();
  };
  EXPECT_FALSE(without([](OfferView& v) { v.cpus = 0.5; }));
  EXPECT_FALSE(without([](OfferView& v) { v.mem_mb = 255; }));
  EXPECT_FALSE(without([](OfferView& v) { v.disk_mb = 1000; }));
  EXPECT_FALSE(without([](OfferView& v) { v.ports = {{31000, 31000}}; }));
  EXPECT_FALSE(without([](OfferView& v) { v.hostname.clear(); }));
  EXPECT_FALSE(without([](OfferView& v) { v.agent_id.clear(); }));
  EXPECT_TRUE(without([](OfferView& v) {
    v.cpus = 1;
    v.mem_mb = 256;
    v.disk_mb = 1024;
  }));
}

TEST(PlacementFor, CountsTheExecutorsResources) {
  Config c = test_config();
  c.executor_cpus = 0.1;
  c.executor_mem_mb = 32;
  OfferView o = offer("o1", 1);
  o.cpus = 1;
  EXPECT_FALSE(placement_for(o, c).has_value());
  o.cpus = 1.1;
  o.mem_mb = 256 + 31;
  EXPECT_FALSE(placement_for(o, c).has_value());
  o.mem_mb = 256 + 32;
  EXPECT_TRUE(placement_for(o, c).has_value());
}

TEST(ChooseOffer, SkipsExcludedAgentsAndMisfits) {
  const Config c = test_config();
  OfferView small = offer("o1", 1);
  small.mem_mb = 1;
  auto choice = choose_offer({small, offer("o2", 2), offer("o3", 3)}, c, {"a2"});
  ASSERT_TRUE(choice.has_value());
  EXPECT_EQ(choice->index, 2u);
  EXPECT_EQ(choice->placement.offer_id, "o3");
  EXPECT_FALSE(choose_offer({small}, c, {}).has_value());
}

TEST(CoreOffers, OneAgentNeverGetsTwoMembers) {
  Harness h;
  h.step(Subscribed{"fw-1"});
  // Two offers of the same agent: only one is used.
  auto fx = h.offers({offer("o1", 1), offer("o2", 1)});
  EXPECT_EQ(count<LaunchMember>(fx), 1u);
  EXPECT_EQ(only<DeclineOffer>(fx), (std::vector<DeclineOffer>{{"o2", 5}}));
  h.report(h.core.members()[0], TaskState::kRunning);
  h.tick_until_check();
  h.answer_check(true);
  // The agent that hosts etcd-1 is skipped while another one fits.
  fx = h.offers({offer("o3", 1)});
  EXPECT_EQ(count<AddEtcdMember>(fx), 0u);
  EXPECT_EQ(count<DeclineOffer>(fx), 1u);
  fx = h.offers({offer("o4", 1), offer("o5", 2)});
  auto adds = only<AddEtcdMember>(fx);
  ASSERT_EQ(adds.size(), 1u);
  EXPECT_EQ(adds[0].peer_url, "http://127.0.0.3:31000");
  EXPECT_EQ(only<DeclineOffer>(fx), (std::vector<DeclineOffer>{{"o4", 5}}));
}

TEST(CoreOffers, SeveralMembersPerAgentWhenAllowed) {
  Config c = test_config();
  c.single_instance_per_agent = false;
  Harness h(c);
  h.step(Subscribed{"fw-1"});
  h.offers({offer("o1", 1, {{31000, 31001}})});
  h.report(h.core.members()[0], TaskState::kRunning);
  h.tick_until_check();
  h.answer_check(true);
  EXPECT_EQ(count<AddEtcdMember>(h.offers({offer("o2", 1, {{31002, 31003}})})), 1u);
}

TEST(CoreOffers, PortsComeFromNonContiguousRanges) {
  Harness h;
  h.step(Subscribed{"fw-1"});
  auto fx = h.offers({offer("o1", 1, {{40000, 40100}, {31007, 31007}, {31003, 31003}})});
  auto launches = only<LaunchMember>(fx);
  ASSERT_EQ(launches.size(), 1u);
  EXPECT_EQ(launches[0].spec.member.peer_port, 31003u);
  EXPECT_EQ(launches[0].spec.member.client_port, 31007u);
  EXPECT_EQ(launches[0].spec.initial_cluster, "etcd-1=http://127.0.0.2:31003");
}

TEST(CoreOffers, OffersThatDoNotFitAreDeclined) {
  Harness h;
  h.step(Subscribed{"fw-1"});
  OfferView small = offer("o1", 1);
  small.cpus = 0.5;
  auto fx = h.offers({small});
  EXPECT_EQ(count<LaunchMember>(fx), 0u);
  EXPECT_EQ(only<DeclineOffer>(fx), (std::vector<DeclineOffer>{{"o1", 5}}));
  EXPECT_NE(h.core.plan_reason().find("no offer fits"), std::string::npos);
}

}  // namespace
}  // namespace etcdmesos::core::testing
