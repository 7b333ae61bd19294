#include "scheduler/convert.hpp"

#include "codec/task_data.hpp"
#include "core/scheduler_core.hpp"

#include <gtest/gtest.h>

#include <type_traits>

namespace etcdmesos::scheduler {
namespace {

mesos::Offer offer_with(std::vector<mesos::Resource> resources) {
  mesos::Offer o;
  o.id = "o1";
  o.agent_id = "a1";
  o.hostname = "127.0.0.2";
  o.resources = std::move(resources);
  return o;
}

TEST(Convert, OfferViewSumsUsableResourcesAndKeepsEveryPortRange) {
  auto reserved_elsewhere = mesos::scalar_resource("cpus", 8);
  reserved_elsewhere.reserved = true;
  reserved_elsewhere.role = "other";
  auto view = to_offer_view(
      offer_with({mesos::scalar_resource("cpus", 2), mesos::scalar_resource("mem", 1024),
                  mesos::scalar_resource("disk", 500), reserved_elsewhere,
                  mesos::ranges_resource("ports", {{31000, 31000}, {31005, 31010}})}),
      "*");
  EXPECT_EQ(view.offer_id, "o1");
  EXPECT_EQ(view.agent_id, "a1");
  EXPECT_EQ(view.hostname, "127.0.0.2");
  EXPECT_DOUBLE_EQ(view.cpus, 2);
  EXPECT_DOUBLE_EQ(view.mem_mb, 1024);
  EXPECT_DOUBLE_EQ(view.disk_mb, 500);
  ASSERT_EQ(view.ports.size(), 2u);
  EXPECT_EQ(view.ports[1], (core::PortRange{31005, 31010}));
}

TEST(Convert, OfferViewCountsResourcesReservedForOurRole) {
  auto ours = mesos::scalar_resource("mem", 256);
  ours.reserved = true;
  ours.role = "etcd";
  auto view = to_offer_view(offer_with({ours}), "etcd");
  EXPECT_DOUBLE_EQ(view.mem_mb, 256);
}

TEST(Convert, TaskInfoCarriesResourcesExecutorDataAndDiscovery) {
  core::LaunchSpec spec;
  spec.member = core::Member{"etcd-2", "etcd-2-ab12", "a1", "127.0.0.3", 31000, 31007};
  spec.initial_cluster = "etcd-1=http://127.0.0.2:31000,etcd-2=http://127.0.0.3:31000";
  spec.cluster_state = "existing";
  spec.cluster_token = "etcd-tok";
  core::Config config;
  config.task_cpus = 0.5;
  config.task_mem_mb = 128;
  config.task_disk_mb = 64;
  ExecutorTemplate t{"http://s:1/etcd-mesos-executor", "http://s:1/etcd", "http://s:1/etcdctl",
                     "etcd"};
  auto task = make_task_info(spec, config, t);

  EXPECT_EQ(task.task_id, "etcd-2-ab12");
  EXPECT_EQ(task.agent_id, "a1");
  EXPECT_EQ(task.name, "etcd-2");
  ASSERT_EQ(task.resources.size(), 4u);
  EXPECT_EQ(task.resources[2].name, "ports");
  // Ports 31000 and 31007 are not adjacent: two single-port ranges.
  EXPECT_EQ(task.resources[2].ranges.size(), 2u);

  ASSERT_TRUE(task.executor);
  EXPECT_EQ(task.executor->executor_id, executor_id_for("etcd-2-ab12"));
  ASSERT_TRUE(task.executor->command);
  // The shell the agent runs the command in is replaced by the executor, so
  // the PID an agent records (and the dev cluster's /control/agents shows) is
  // the executor's: killing it kills the executor, not a shell around it.
  ASSERT_TRUE(task.executor->command->value);
  EXPECT_TRUE(task.executor->command->shell);
  EXPECT_TRUE(task.executor->command->value->starts_with("exec ./etcd-mesos-executor "))
      << *task.executor->command->value;
  EXPECT_EQ(task.executor->command->uris.size(), 3u);
  for (const auto& uri : task.executor->command->uris) {
    EXPECT_TRUE(uri.executable);
    EXPECT_FALSE(uri.extract);
    // Fetched once per agent (the URL names the content, so never stale).
    EXPECT_TRUE(uri.cache);
  }

  ASSERT_TRUE(task.data);
  auto data = decode_member_task_data(*task.data);
  ASSERT_TRUE(data) << data.error().message;
  EXPECT_EQ(data->name, "etcd-2");
  EXPECT_EQ(data->host, "127.0.0.3");
  EXPECT_EQ(data->peer_port, 31000u);
  EXPECT_EQ(data->client_port, 31007u);
  EXPECT_EQ(data->cluster_state, "existing");
  EXPECT_EQ(data->initial_cluster, spec.initial_cluster);

  ASSERT_TRUE(task.discovery);
  ASSERT_EQ(task.discovery->ports.size(), 2u);
  EXPECT_EQ(task.discovery->ports[0].name, "client");
  EXPECT_EQ(task.discovery->ports[0].number, 31007u);
}

// A static bootstrap (issue 12): every member's task carries the one initial
// cluster naming all of them, state new and the one token, so that each
// executor starts its etcd into the same new cluster.
TEST(Convert, EveryTaskOfAStaticBootstrapCarriesTheWholeInitialCluster) {
  core::Config config;
  config.cluster_size = 3;
  core::SchedulerCore core(config, 7);
  core.step(core::Subscribed{"fw-1"}, core::Millis{0});
  core::OffersReceived offers;
  for (int i = 1; i <= 3; ++i) {
    core::OfferView o;
    o.offer_id = "o" + std::to_string(i);
    o.agent_id = "a" + std::to_string(i);
    o.hostname = "10.0.0." + std::to_string(i);
    o.cpus = 4;
    o.mem_mb = 4096;
    o.disk_mb = 4096;
    o.ports = {{31000, 31009}};
    offers.offers.push_back(o);
  }
  ExecutorTemplate t{"http://s:1/etcd-mesos-executor", "http://s:1/etcd", "http://s:1/etcdctl",
                     "etcd"};
  std::vector<std::string> names;
  for (const auto& effect : core.step(offers, core::Millis{1})) {
    const auto* launch = std::get_if<core::LaunchMember>(&effect);
    if (launch == nullptr) {
      continue;
    }
    auto task = make_task_info(launch->spec, config, t);
    ASSERT_TRUE(task.data);
    auto data = decode_member_task_data(*task.data);
    ASSERT_TRUE(data) << data.error().message;
    EXPECT_EQ(data->cluster_state, "new");
    EXPECT_EQ(data->initial_cluster,
              "etcd-1=http://10.0.0.1:31000,etcd-2=http://10.0.0.2:31000,"
              "etcd-3=http://10.0.0.3:31000");
    EXPECT_EQ(data->cluster_token, core.cluster_token());
    names.push_back(data->name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"etcd-1", "etcd-2", "etcd-3"}));
}

TEST(Convert, AdjacentPortsBecomeOneRange) {
  core::LaunchSpec spec;
  spec.member = core::Member{"etcd-1", "t", "a", "h", 31001, 31000};
  auto task = make_task_info(spec, core::Config{}, ExecutorTemplate{});
  ASSERT_EQ(task.resources[2].ranges.size(), 1u);
  EXPECT_EQ(task.resources[2].ranges[0], (mesos::Range{31000, 31001}));
}

// The codec and the core share one enum (common/task_state.hpp): a status
// update's state goes to the core unconverted.
TEST(Convert, EveryMesosTaskStateIsTheCoreStateOfTheSameName) {
  static_assert(std::is_same_v<mesos::TaskState, core::TaskState>);
  for (auto s : {mesos::TaskState::kStaging, mesos::TaskState::kRunning, mesos::TaskState::kLost,
                 mesos::TaskState::kGoneByOperator, mesos::TaskState::kUnknown}) {
    EXPECT_EQ(std::string(core::to_string(s)), std::string(mesos::to_string(s)));
  }
}

TEST(Convert, DeclinesBecomeOneCallPerRefuseDuration) {
  std::vector<core::Effect> effects;
  effects.push_back(core::DeclineOffer{"o1", 1});
  effects.push_back(core::KillTask{"t", "a"});
  effects.push_back(core::DeclineOffer{"o2", 5});
  effects.push_back(core::DeclineOffer{"o3", 1});
  auto calls = batch_declines(effects);
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0], (mesos::CallDecline{{"o1", "o3"}, mesos::Filters{1.0}}));
  EXPECT_EQ(calls[1], (mesos::CallDecline{{"o2"}, mesos::Filters{5.0}}));
  EXPECT_TRUE(batch_declines({core::KillTask{"t", "a"}}).empty());
}

TEST(Convert, AHugeOffersEventIsDeclinedInBoundedCalls) {
  std::vector<core::Effect> effects;
  for (std::size_t i = 0; i < kMaxOffersPerDecline + 1; ++i) {
    effects.push_back(core::DeclineOffer{"o" + std::to_string(i), 1});
  }
  auto calls = batch_declines(effects);
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].offer_ids.size(), kMaxOffersPerDecline);
  EXPECT_EQ(calls[1].offer_ids,
            std::vector<std::string>{"o" + std::to_string(kMaxOffersPerDecline)});
}

TEST(Convert, ARestoringMemberFetchesItsSnapshotUncachedUnderAFixedName) {
  core::LaunchSpec spec;
  spec.member = core::Member{"etcd-4", "etcd-4-ab12", "a1", "127.0.0.3", 31000, 31001};
  spec.initial_cluster = "etcd-4=http://127.0.0.3:31000";
  spec.cluster_state = "new";
  spec.cluster_token = "etcd-tok";
  spec.restore_uri = "file:///backups/s.db";
  ExecutorTemplate t{"http://s:1/etcd-mesos-executor", "http://s:1/etcd", "http://s:1/etcdctl",
                     "etcd"};
  auto task = make_task_info(spec, core::Config{}, t);
  ASSERT_TRUE(task.executor && task.executor->command);
  const auto& uris = task.executor->command->uris;
  ASSERT_EQ(uris.size(), 4u);
  EXPECT_EQ(uris[3].value, "file:///backups/s.db");
  EXPECT_FALSE(uris[3].cache);
  EXPECT_FALSE(uris[3].extract);
  EXPECT_FALSE(uris[3].executable);
  EXPECT_EQ(uris[3].output_file, std::optional<std::string>(kRestoreFileName));
  ASSERT_TRUE(task.data);
  auto data = decode_member_task_data(*task.data);
  ASSERT_TRUE(data) << data.error().message;
  EXPECT_EQ(data->restore_file, kRestoreFileName);

  spec.restore_uri.clear();
  auto plain = make_task_info(spec, core::Config{}, t);
  EXPECT_EQ(plain.executor->command->uris.size(), 3u);
  EXPECT_TRUE(decode_member_task_data(*plain.data)->restore_file.empty());
}

}  // namespace
}  // namespace etcdmesos::scheduler
