// Pure discovery: /state shaped as a Mesos 1.12 master writes it (reference
// mesos §17), the scheduler's /members, endpoint sets and their diff, and
// the saved endpoint file — including malformed and hostile input.
#include "proxy/discovery.hpp"

#include <gtest/gtest.h>

#include <string>

namespace etcdmesos::proxy {
namespace {

const std::string kM = "726721b8-6553-4280-b7cb-030ab89405ac";

// A task as /state shows it: legacy shape, ports as a range string,
// DiscoveryInfo as the scheduler sets it (client first, then peer).
std::string task_json(const std::string& name, const std::string& slave, uint32_t peer,
                      uint32_t client, const std::string& state = "TASK_RUNNING") {
  const std::string id = name + "-3f2a";
  return R"({"id":")" + id + R"(","name":")" + name + R"(","framework_id":")" + kM +
         R"(-0000","executor_id":"executor-)" + id + R"(","slave_id":")" + slave +
         R"(","state":")" + state +
         R"(","resources":{"disk":0.0,"mem":256.0,"gpus":0.0,"cpus":1.0,"ports":"[)" +
         std::to_string(peer) + "-" + std::to_string(client) + R"(]"},"role":"*",)" +
         R"("statuses":[{"state":")" + state +
         R"(","timestamp":1795535579.080528,"container_status":{"container_id":{"value":"c1"},)" +
         R"("network_infos":[{"ip_addresses":[{"protocol":"IPv4","ip_address":"127.0.0.1"}]}]}}],)" +
         R"("labels":[{"key":"cluster","value":"etcd"},{"key":"member","value":")" + name +
         R"("}],"discovery":{"visibility":"FRAMEWORK","name":")" + name +
         R"(","ports":{"ports":[{"number":)" + std::to_string(client) +
         R"(,"name":"client","protocol":"tcp"},{"number":)" + std::to_string(peer) +
         R"(,"name":"peer","protocol":"tcp"}]}}})";
}

std::string slave_json(const std::string& id, const std::string& ip) {
  return R"({"id":")" + id + R"(","hostname":")" + ip + R"(","port":5051,"pid":"slave(1)@)" + ip +
         R"(:5051","attributes":{},"resources":{"disk":10240.0,"mem":4096.0,"gpus":0.0,)" +
         R"("cpus":4.0,"ports":"[31000-31999]"},"active":true,"deactivated":false,)" +
         R"("version":"1.12.0","capabilities":["MULTI_ROLE"]})";
}

std::string framework_json(const std::string& id, const std::string& name, const std::string& tasks,
                           bool active = true) {
  return R"({"id":")" + id + R"(","name":")" + name +
         R"(","user":"root","principal":"","hostname":"127.0.0.1","webui_url":"",)" +
         R"("roles":["*"],"capabilities":["MULTI_ROLE"],"active":)" + (active ? "true" : "false") +
         R"(,"connected":true,"recovered":false,"failover_timeout":604800.0,"checkpoint":true,)" +
         R"("registered_time":1795535500.1,"resources":{},"used_resources":{},)" +
         R"("offered_resources":{},"tasks":[)" + tasks +
         R"(],"unreachable_tasks":[],"completed_tasks":[],"offers":[],"executors":[]})";
}

std::string state_json(const std::string& slaves, const std::string& frameworks,
                       const std::string& completed = "") {
  return R"({"version":"1.12.0","id":")" + kM + R"(","pid":"master@127.0.0.1:5050",)" +
         R"("hostname":"127.0.0.1","leader":"master@127.0.0.1:5050","leader_info":{"id":")" + kM +
         R"(","pid":"master@127.0.0.1:5050","port":5050,"hostname":"127.0.0.1"},)" +
         R"("start_time":1795535400.0,"elected_time":1795535400.5,"activated_slaves":3.0,)" +
         R"("deactivated_slaves":0.0,"unreachable_slaves":0.0,"flags":{},"slaves":[)" + slaves +
         R"(],"frameworks":[)" + frameworks + R"(],"completed_frameworks":[)" + completed +
         R"(],"unregistered_frameworks":[],"orphan_tasks":[]})";
}

std::string three_member_state() {
  const std::string slaves = slave_json(kM + "-S0", "127.0.5.2") + "," +
                             slave_json(kM + "-S1", "127.0.5.3") + "," +
                             slave_json(kM + "-S2", "127.0.5.4");
  const std::string tasks = task_json("etcd-1", kM + "-S0", 31000, 31001) + "," +
                            task_json("etcd-2", kM + "-S1", 31000, 31001) + "," +
                            task_json("etcd-3", kM + "-S2", 31010, 31011);
  return state_json(slaves, framework_json(kM + "-0000", "etcd", tasks));
}

const FrameworkSelector kEtcd{"etcd", ""};

// ------------------------------------------------------------ /state

TEST(MembersFromMasterState, RunningTasksGiveAgentHostnameAndDiscoveryClientPort) {
  auto d = members_from_master_state(three_member_state(), kEtcd);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->framework_id, kM + "-0000");
  ASSERT_EQ(d->members.size(), 3u);
  EXPECT_EQ(d->members[0], (MemberEndpoint{"etcd-1", "127.0.5.2", 31001}));
  EXPECT_EQ(d->members[1], (MemberEndpoint{"etcd-2", "127.0.5.3", 31001}));
  EXPECT_EQ(d->members[2], (MemberEndpoint{"etcd-3", "127.0.5.4", 31011}));
  EXPECT_TRUE(d->skipped.empty());
}

TEST(MembersFromMasterState, TasksNotRunningAreLeftOutSilently) {
  const std::string tasks = task_json("etcd-1", "S0", 31000, 31001) + "," +
                            task_json("etcd-2", "S0", 31002, 31003, "TASK_STAGING") + "," +
                            task_json("etcd-3", "S0", 31004, 31005, "TASK_KILLING");
  auto d = members_from_master_state(
      state_json(slave_json("S0", "10.0.0.5"), framework_json("F", "etcd", tasks)), kEtcd);
  ASSERT_TRUE(d) << d.error().message;
  ASSERT_EQ(d->members.size(), 1u);
  EXPECT_EQ(d->members[0].address(), "10.0.0.5:31001");
  EXPECT_TRUE(d->skipped.empty());
}

TEST(MembersFromMasterState, WithoutDiscoveryTheSecondPortOfTheResourceIsTheClientPort) {
  // A task without DiscoveryInfo (an older scheduler): ports "[peer-client]".
  std::string task = R"({"id":"t1","name":"etcd-1","slave_id":"S0","state":"TASK_RUNNING",)"
                     R"("resources":{"cpus":1.0,"ports":"[31007-31007, 31020-31020]"}})";
  auto d = members_from_master_state(
      state_json(slave_json("S0", "10.0.0.5"), framework_json("F", "etcd", task)), kEtcd);
  ASSERT_TRUE(d) << d.error().message;
  ASSERT_EQ(d->members.size(), 1u);
  EXPECT_EQ(d->members[0].address(), "10.0.0.5:31020");
}

TEST(MembersFromMasterState, HostFallsBackToTheAgentPid) {
  std::string slave = R"({"id":"S0","pid":"slave(1)@10.1.2.3:5051"})";
  auto d = members_from_master_state(
      state_json(slave, framework_json("F", "etcd", task_json("etcd-1", "S0", 31000, 31001))),
      kEtcd);
  ASSERT_TRUE(d) << d.error().message;
  ASSERT_EQ(d->members.size(), 1u);
  EXPECT_EQ(d->members[0].host, "10.1.2.3");
}

TEST(MembersFromMasterState, TaskOnAnAgentMissingFromSlavesIsSkippedWithAReason) {
  // An unreachable agent vanishes from slaves[] (reference mesos §17).
  const std::string tasks =
      task_json("etcd-1", "S0", 31000, 31001) + "," + task_json("etcd-2", "S9", 31000, 31001);
  auto d = members_from_master_state(
      state_json(slave_json("S0", "10.0.0.5"), framework_json("F", "etcd", tasks)), kEtcd);
  ASSERT_TRUE(d) << d.error().message;
  ASSERT_EQ(d->members.size(), 1u);
  ASSERT_EQ(d->skipped.size(), 1u);
  EXPECT_NE(d->skipped[0].find("etcd-2-3f2a"), std::string::npos) << d->skipped[0];
  EXPECT_NE(d->skipped[0].find("S9"), std::string::npos) << d->skipped[0];
}

TEST(MembersFromMasterState, TaskWithoutAnyClientPortIsSkipped) {
  std::string task = R"({"id":"t1","name":"etcd-1","slave_id":"S0","state":"TASK_RUNNING",)"
                     R"("resources":{"cpus":1.0,"ports":"[31000-31000]"},)"
                     R"("discovery":{"visibility":"FRAMEWORK","name":"etcd-1",)"
                     R"("ports":{"ports":[{"number":31000,"name":"peer","protocol":"tcp"}]}}})";
  auto d = members_from_master_state(
      state_json(slave_json("S0", "10.0.0.5"), framework_json("F", "etcd", task)), kEtcd);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_TRUE(d->members.empty());
  ASSERT_EQ(d->skipped.size(), 1u);
  EXPECT_NE(d->skipped[0].find("no client port"), std::string::npos) << d->skipped[0];
}

TEST(MembersFromMasterState, BadFieldsInOneTaskSpoilOnlyThatTask) {
  const std::string bad =
      R"({"id":"t9","name":"etcd-9","slave_id":7,"state":"TASK_RUNNING"})";  // slave_id a number
  const std::string bad_port =
      R"({"id":"t8","slave_id":"S0","state":"TASK_RUNNING","discovery":{"name":"etcd-8",)"
      R"("ports":{"ports":[{"number":99999,"name":"client"}]}}})";
  const std::string tasks =
      task_json("etcd-1", "S0", 31000, 31001) + "," + bad + "," + bad_port + ",17,null";
  auto d = members_from_master_state(
      state_json(slave_json("S0", "10.0.0.5"), framework_json("F", "etcd", tasks)), kEtcd);
  ASSERT_TRUE(d) << d.error().message;
  ASSERT_EQ(d->members.size(), 1u);
  EXPECT_EQ(d->skipped.size(), 4u);
}

TEST(MembersFromMasterState, FrameworkWithNoRunningTaskGivesNoMembers) {
  auto d = members_from_master_state(
      state_json(slave_json("S0", "10.0.0.5"), framework_json("F", "etcd", "")), kEtcd);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_TRUE(d->members.empty());
  EXPECT_EQ(d->framework_id, "F");
}

TEST(MembersFromMasterState, UnknownFrameworkIsNoFramework) {
  auto d = members_from_master_state(three_member_state(), FrameworkSelector{"other", ""});
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, kNoFramework);
  EXPECT_NE(d.error().message.find("'other'"), std::string::npos) << d.error().message;
}

TEST(MembersFromMasterState, CompletedFrameworksAreIgnored) {
  auto state = state_json(slave_json("S0", "10.0.0.5"), "",
                          framework_json("F", "etcd", task_json("etcd-1", "S0", 1, 2)));
  auto d = members_from_master_state(state, kEtcd);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, kNoFramework);
}

TEST(MembersFromMasterState, AnInactiveFrameworkStillServes) {
  // Its scheduler is failing over; the members keep running under Mesos.
  auto d = members_from_master_state(
      state_json(slave_json("S0", "10.0.0.5"),
                 framework_json("F", "etcd", task_json("etcd-1", "S0", 31000, 31001), false)),
      kEtcd);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->members.size(), 1u);
}

TEST(MembersFromMasterState, SeveralFrameworksWithTheNamePreferTheOnlyActiveOne) {
  const std::string frameworks =
      framework_json("OLD", "etcd", task_json("etcd-1", "S0", 31000, 31001), false) + "," +
      framework_json("NEW", "etcd", task_json("etcd-7", "S0", 31100, 31101), true);
  auto d = members_from_master_state(state_json(slave_json("S0", "10.0.0.5"), frameworks), kEtcd);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->framework_id, "NEW");
  ASSERT_EQ(d->members.size(), 1u);
  EXPECT_EQ(d->members[0].client_port, 31101);
}

TEST(MembersFromMasterState, TwoActiveFrameworksWithTheNameAreAmbiguousUnlessAnIdIsGiven) {
  const std::string frameworks =
      framework_json("A", "etcd", task_json("etcd-1", "S0", 31000, 31001)) + "," +
      framework_json("B", "etcd", task_json("etcd-1", "S0", 31100, 31101));
  const std::string state = state_json(slave_json("S0", "10.0.0.5"), frameworks);
  auto d = members_from_master_state(state, kEtcd);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, kAmbiguousFramework);
  EXPECT_NE(d.error().message.find("A, B"), std::string::npos) << d.error().message;

  auto pinned = members_from_master_state(state, FrameworkSelector{"etcd", "B"});
  ASSERT_TRUE(pinned) << pinned.error().message;
  ASSERT_EQ(pinned->members.size(), 1u);
  EXPECT_EQ(pinned->members[0].client_port, 31101);
}

TEST(MembersFromMasterState, MalformedInputIsAnErrorNeverACrash) {
  for (const std::string body :
       {"", "not json", "[]", "{}", R"({"frameworks":{}})", R"({"frameworks":"x"})",
        "{\"frameworks\":[", R"({"frameworks":[1,"a",null,[]]})",
        R"({"frameworks":[{"name":"etcd","tasks":"nope"}],"slaves":7})"}) {
    auto d = members_from_master_state(body, kEtcd);
    if (d) {
      // Shapes that name no usable framework or task still give no members.
      EXPECT_TRUE(d->members.empty()) << body;
    } else {
      EXPECT_TRUE(d.error().code == kMalformed || d.error().code == kNoFramework) << body;
    }
  }
  EXPECT_EQ(members_from_master_state("not json", kEtcd).error().code, kMalformed);
  EXPECT_EQ(members_from_master_state("{}", kEtcd).error().code, kMalformed);
}

TEST(MembersFromMasterState, EveryTruncationOfARealStateIsHandled) {
  const std::string state = three_member_state();
  for (std::size_t n = 0; n < state.size(); n += 7) {
    auto d = members_from_master_state(state.substr(0, n), kEtcd);
    EXPECT_FALSE(d) << n;
  }
}

TEST(MembersFromMasterState, DeeplyNestedInputIsRejected) {
  std::string deep = R"({"frameworks":)" + std::string(10000, '[') + std::string(10000, ']') + "}";
  auto d = members_from_master_state(deep, kEtcd);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, kMalformed);
}

// ------------------------------------------------------------ ports text

TEST(ParsePortRanges, ReadsMesosRangeText) {
  EXPECT_EQ(*parse_port_ranges("[31005-31006]"), (std::vector<uint32_t>{31005, 31006}));
  EXPECT_EQ(*parse_port_ranges("[31000-31000, 31005-31005]"),
            (std::vector<uint32_t>{31000, 31005}));
  EXPECT_TRUE(parse_port_ranges("[]")->empty());
  for (const char* bad : {"", "[", "31005-31006", "[31006-31005]", "[a-b]", "[1-2,]", "[1-70000]",
                          "[1-2 3-4]", "[1-65535]", "[-1-2]"}) {
    EXPECT_FALSE(parse_port_ranges(bad)) << bad;
  }
}

// ------------------------------------------------------------ /members

TEST(MembersFromScheduler, RunningMembersWithTheirClientUrl) {
  const std::string body =
      R"([{"name":"etcd-1","host":"127.0.5.2","peer_port":31000,"client_port":31001,)"
      R"("peer_url":"http://127.0.5.2:31000","client_url":"http://127.0.5.2:31001",)"
      R"("agent_id":"S0","task_id":"etcd-1-3f2a","state":"TASK_RUNNING"},)"
      R"({"name":"etcd-2","client_url":"http://127.0.5.3:31001","state":"TASK_STAGING"},)"
      R"({"name":"etcd-3","client_url":"https://127.0.5.4:31001","state":"TASK_RUNNING"},)"
      R"({"name":"etcd-4","client_url":"http://[::1]:31001","state":"TASK_RUNNING"},)"
      R"({"name":"etcd-5","client_url":"ftp://127.0.5.6:31001","state":"TASK_RUNNING"}])";
  auto d = members_from_scheduler(body);
  ASSERT_TRUE(d) << d.error().message;
  ASSERT_EQ(d->members.size(), 3u);
  EXPECT_EQ(d->members[0], (MemberEndpoint{"etcd-1", "127.0.5.2", 31001}));
  // A member serving TLS (a scheduler with a CA) is forwarded to as well:
  // the gateway passes TCP, the client speaks TLS with the member.
  EXPECT_EQ(d->members[1], (MemberEndpoint{"etcd-3", "127.0.5.4", 31001}));
  EXPECT_EQ(d->members[2].address(), "[::1]:31001");
  ASSERT_EQ(d->skipped.size(), 1u);
  EXPECT_NE(d->skipped[0].find("etcd-5"), std::string::npos);
}

TEST(MembersFromScheduler, MalformedInputIsAnError) {
  for (const char* body : {"", "{}", "nope", "[", "{\"members\":[]}"}) {
    auto d = members_from_scheduler(body);
    ASSERT_FALSE(d) << body;
    EXPECT_EQ(d.error().code, kMalformed);
  }
  auto odd = members_from_scheduler(R"([1,null,{"state":"TASK_RUNNING"},{"client_url":7}])");
  ASSERT_TRUE(odd);
  EXPECT_TRUE(odd->members.empty());
  EXPECT_EQ(odd->skipped.size(), 3u);
  EXPECT_FALSE(members_from_scheduler(std::string(kMaxMembersBytes + 1, ' ')));
}

// ------------------------------------------------------------ sets and diffs

TEST(EndpointSet, SortedAndUnique) {
  std::vector<MemberEndpoint> members{{"b", "h2", 2}, {"a", "h1", 1}, {"c", "h2", 2}};
  EXPECT_EQ(endpoint_set(members), (EndpointSet{"h1:1", "h2:2"}));
}

TEST(EndpointDiff, AddedAndRemoved) {
  auto d = diff({"a:1", "b:1", "c:1"}, {"a:1", "c:1", "d:1"});
  EXPECT_EQ(d.added, (EndpointSet{"d:1"}));
  EXPECT_EQ(d.removed, (EndpointSet{"b:1"}));
  EXPECT_EQ(describe(d), "+d:1 -b:1");
  EXPECT_TRUE(diff({"a:1"}, {"a:1"}).empty());
  EXPECT_EQ(describe(diff({}, {})), "no change");
  EXPECT_EQ(diff({}, {"a:1"}).added, (EndpointSet{"a:1"}));
}

// ------------------------------------------------------------ saved endpoints

TEST(SavedEndpoints, RoundTripForTheSameFramework) {
  const EndpointSet set{"10.0.0.5:31001", "10.0.0.6:31001"};
  auto text = encode_saved_endpoints("etcd", set);
  auto back = decode_saved_endpoints(text, "etcd");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, set);
}

TEST(SavedEndpoints, AnotherFrameworksOrGarbageIsRefused) {
  auto text = encode_saved_endpoints("etcd", {"10.0.0.5:31001"});
  EXPECT_FALSE(decode_saved_endpoints(text, "other"));
  for (const char* bad :
       {"", "[]", "{}", R"({"framework":"etcd"})", R"({"framework":"etcd","endpoints":[1]})",
        R"({"framework":"etcd","endpoints":["nohostport"]})",
        R"({"framework":"etcd","endpoints":["h:99999"]})"}) {
    EXPECT_FALSE(decode_saved_endpoints(bad, "etcd")) << bad;
  }
}

}  // namespace
}  // namespace etcdmesos::proxy
