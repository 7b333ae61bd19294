#include "scheduler/admin_server.hpp"

#include "../io/io_test_util.hpp"

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>

#include <vector>

namespace etcdmesos::scheduler {
namespace {

namespace json = boost::json;
namespace http = io::http;

io::Request get(const std::string& target, http::verb verb = http::verb::get) {
  return io::make_request(verb, target, io::Endpoint{"127.0.0.1", 23400});
}

AdminSnapshot two_members(bool healthy) {
  AdminSnapshot s;
  s.members = {core::Member{"etcd-1", "etcd-1-aa", "S0", "127.0.0.2", 31000, 31001,
                            core::TaskState::kRunning},
               core::Member{"etcd-2", "etcd-2-bb", "S1", "127.0.0.3", 31002, 31003,
                            core::TaskState::kStarting}};
  s.stats.running_servers = 1;
  s.stats.launched_servers = 2;
  s.stats.healthy = healthy;
  core::HealthResult h;
  h.healthy = healthy;
  h.reason = healthy ? "" : "no leader";
  h.members = {core::MemberHealth{"etcd-1", true, 7, 42, 2, ""},
               core::MemberHealth{"etcd-2", false, 0, 0, 0, "timed out"}};
  s.health = h;
  return s;
}

TEST(AdminServer, AStandbyAnswersEveryRequestWithWhoLeads) {
  auto s = two_members(true);
  s.role = "standby";
  s.leader = "10.0.0.5:23400";
  for (const char* target : {"/members", "/stats", "/healthz", "/health"}) {
    auto res = AdminServer::route(get(target), s);
    EXPECT_EQ(res.result(), http::status::service_unavailable) << target;
    auto body = json::parse(res.body()).as_object();
    EXPECT_EQ(body.at("role").as_string(), "standby");
    EXPECT_EQ(body.at("leader").as_string(), "10.0.0.5:23400");
  }
  auto reseed = AdminServer::route(get("/reseed", http::verb::post), s);
  EXPECT_EQ(reseed.result(), http::status::service_unavailable);
}

TEST(AdminServer, HealthSaysTheRoleAndTheReconcileGate) {
  auto s = two_members(true);
  s.reconcile = "waiting for Mesos to answer about 1 of 3 persisted task(s)";
  s.persistence = "ok";
  auto res = AdminServer::route(get("/health"), s);
  auto scheduler = json::parse(res.body()).as_object().at("scheduler").as_object();
  EXPECT_EQ(scheduler.at("role").as_string(), "leader");
  EXPECT_EQ(scheduler.at("reconcile").as_string(), s.reconcile);
  EXPECT_EQ(scheduler.at("persistence").as_string(), "ok");
}

// Issue 13: a full backend is shown with its alarm and the reason.
TEST(AdminServer, HealthListsEtcdsAlarms) {
  auto s = two_members(false);
  s.health->reason = "NOSPACE alarm on etcd-1: a backend reached its quota";
  s.health->alarms = {core::MemberAlarm{11046527456118344142ull, "NOSPACE"}};
  auto health = json::parse(AdminServer::route(get("/health"), s).body()).as_object();
  ASSERT_EQ(health.at("alarms").as_array().size(), 1u);
  EXPECT_EQ(health.at("alarms").as_array()[0].at("alarm").as_string(), "NOSPACE");
  EXPECT_EQ(health.at("alarms").as_array()[0].at("member_id").as_string(), "11046527456118344142");
  auto healthz = AdminServer::route(get("/healthz"), s);
  EXPECT_EQ(healthz.result(), http::status::service_unavailable);
  EXPECT_NE(healthz.body().find("NOSPACE alarm on etcd-1"), std::string::npos) << healthz.body();
  auto fine = json::parse(AdminServer::route(get("/health"), two_members(true)).body());
  EXPECT_TRUE(fine.at("alarms").as_array().empty());
  // And in the metrics: how many members hold one.
  auto stats = json::parse(AdminServer::route(get("/stats"), s).body()).as_object();
  EXPECT_EQ(stats.at("nospace_alarms").as_int64(), 1);
  auto no_alarm = json::parse(AdminServer::route(get("/stats"), two_members(true)).body());
  EXPECT_EQ(no_alarm.at("nospace_alarms").as_int64(), 0);
}

TEST(AdminServer, MembersListsEveryFieldClientsNeed) {
  auto res = AdminServer::route(get("/members"), two_members(true));
  ASSERT_EQ(res.result(), http::status::ok);
  auto members = json::parse(res.body()).as_array();
  ASSERT_EQ(members.size(), 2u);
  const auto& m = members[0].as_object();
  EXPECT_EQ(m.at("name").as_string(), "etcd-1");
  EXPECT_EQ(m.at("host").as_string(), "127.0.0.2");
  EXPECT_EQ(m.at("peer_port").as_int64(), 31000);
  EXPECT_EQ(m.at("client_port").as_int64(), 31001);
  EXPECT_EQ(m.at("client_url").as_string(), "http://127.0.0.2:31001");
  EXPECT_EQ(m.at("peer_url").as_string(), "http://127.0.0.2:31000");
  EXPECT_EQ(m.at("agent_id").as_string(), "S0");
  EXPECT_EQ(m.at("task_id").as_string(), "etcd-1-aa");
  EXPECT_EQ(m.at("state").as_string(), "TASK_RUNNING");
}

TEST(AdminServer, StatsHasEveryCounter) {
  auto res = AdminServer::route(get("/stats"), two_members(true));
  auto stats = json::parse(res.body()).as_object();
  for (const char* key : {"running_servers", "launched_servers", "failed_servers",
                          "cluster_livelocks", "cluster_reseeds", "healthy"}) {
    EXPECT_TRUE(stats.contains(key)) << key;
  }
  EXPECT_EQ(stats.at("launched_servers").as_int64(), 2);
  EXPECT_EQ(stats.at("healthy").as_int64(), 1);
}

TEST(AdminServer, HealthzFollowsTheLastCheck) {
  EXPECT_EQ(AdminServer::route(get("/healthz"), two_members(true)).result(), http::status::ok);
  auto bad = AdminServer::route(get("/healthz"), two_members(false));
  EXPECT_EQ(bad.result(), http::status::service_unavailable);
  EXPECT_NE(bad.body().find("no leader"), std::string::npos);
  auto none = AdminServer::route(get("/healthz"), AdminSnapshot{});
  EXPECT_EQ(none.result(), http::status::service_unavailable);
}

TEST(AdminServer, HealthGivesThePerMemberBreakdown) {
  auto res = AdminServer::route(get("/health"), two_members(false));
  auto health = json::parse(res.body()).as_object();
  EXPECT_FALSE(health.at("healthy").as_bool());
  EXPECT_EQ(health.at("reason").as_string(), "no leader");
  auto members = health.at("members").as_array();
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members[0].at("raft_index").as_int64(), 42);
  EXPECT_EQ(members[1].at("error").as_string(), "timed out");
}

TEST(AdminServer, UnknownPathsAndMethodsAreClientErrors) {
  EXPECT_EQ(AdminServer::route(get("/nope"), {}).result(), http::status::not_found);
  auto post = AdminServer::route(get("/members", http::verb::post), {});
  EXPECT_EQ(post.result(), http::status::method_not_allowed);
  EXPECT_EQ(post[http::field::allow], "GET");
  EXPECT_EQ(AdminServer::route(get("/stats?x=1"), {}).result(), http::status::ok);
}

TEST(AdminServer, ReseedTakesSkipSilentAndRefusesAnyOtherParameter) {
  auto s = two_members(false);
  std::vector<AdminRequest> seen;
  AdminActionHandler act = [&](const AdminRequest& r) {
    seen.push_back(r);
    return AdminActionResult{true, "reseed started"};
  };
  auto post = [&](const std::string& target) {
    return AdminServer::route(get(target, http::verb::post), s, act);
  };
  EXPECT_EQ(post("/reseed").result(), http::status::accepted);
  EXPECT_EQ(post("/reseed?skip-silent=true").result(), http::status::accepted);
  EXPECT_EQ(post("/reseed?skip-silent=false").result(), http::status::accepted);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_FALSE(seen[0].skip_silent);
  EXPECT_TRUE(seen[1].skip_silent);
  EXPECT_FALSE(seen[2].skip_silent);
  for (const char* bad : {"/reseed?skip-silent=yes", "/reseed?skip-silent", "/reseed?force=true",
                          "/unlock?skip-silent=true"}) {
    auto res = post(bad);
    EXPECT_EQ(res.result(), http::status::bad_request) << bad;
  }
  EXPECT_EQ(seen.size(), 3u);  // refused requests never reach the scheduler
}

TEST(AdminServer, RestoreNeedsAUriAndResizeAnOddSizeUpToNine) {
  auto s = two_members(true);
  std::vector<AdminRequest> seen;
  AdminActionHandler act = [&](const AdminRequest& r) {
    seen.push_back(r);
    return AdminActionResult{true, "ok"};
  };
  auto post = [&](const std::string& target) {
    return AdminServer::route(get(target, http::verb::post), s, act).result();
  };
  EXPECT_EQ(post("/restore?uri=file%3A%2F%2F%2Fbackups%2Fa%20b.db"), http::status::accepted);
  EXPECT_EQ(post("/cluster-size?size=5"), http::status::accepted);
  EXPECT_EQ(post("/cluster-size?size=1"), http::status::accepted);
  EXPECT_EQ(post("/backup"), http::status::accepted);
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].action, AdminAction::kRestore);
  EXPECT_EQ(seen[0].uri, "file:///backups/a b.db");
  EXPECT_EQ(seen[1].action, AdminAction::kResize);
  EXPECT_EQ(seen[1].size, 5u);
  EXPECT_EQ(seen[2].size, 1u);
  EXPECT_EQ(seen[3].action, AdminAction::kBackup);
  for (const char* bad :
       {"/restore", "/restore?uri=", "/restore?url=file:///a", "/cluster-size",
        "/cluster-size?size=4", "/cluster-size?size=11", "/cluster-size?size=0",
        "/cluster-size?size=-3", "/cluster-size?size=3x", "/cluster-size?size=3&size=x",
        "/backup?now=1", "/unlock?uri=file:///a"}) {
    EXPECT_EQ(post(bad), http::status::bad_request) << bad;
  }
  EXPECT_EQ(seen.size(), 4u);
  auto res = AdminServer::route(get("/cluster-size"), s, act);
  EXPECT_EQ(res.result(), http::status::method_not_allowed);
}

// A web page elsewhere must not be able to make a browser reseed or unlock.
TEST(AdminServer, MutatingRequestsFromAnotherSiteAreRefused) {
  auto s = two_members(false);
  int acted = 0;
  AdminActionHandler act = [&](const AdminRequest&) {
    ++acted;
    return AdminActionResult{true, "reseed started"};
  };
  auto post = [&](const std::string& host, const std::string& origin,
                  const std::string& secret = {}, const std::string& bearer = {}) {
    auto req = get("/reseed", http::verb::post);
    req.set(http::field::host, host);
    if (!origin.empty()) {
      req.set(http::field::origin, origin);
    }
    if (!bearer.empty()) {
      req.set(http::field::authorization, "Bearer " + bearer);
    }
    return AdminServer::route(req, s, act, secret).result();
  };
  // From the operator's shell (no Origin), by address or localhost.
  EXPECT_EQ(post("127.0.0.1:23400", ""), http::status::accepted);
  EXPECT_EQ(post("localhost:23400", ""), http::status::accepted);
  EXPECT_EQ(post("[::1]:23400", ""), http::status::accepted);
  // A page served by this server itself.
  EXPECT_EQ(post("127.0.0.1:23400", "http://127.0.0.1:23400"), http::status::accepted);
  EXPECT_EQ(acted, 4);
  // A page of another site, and one whose origin cannot be read.
  EXPECT_EQ(post("127.0.0.1:23400", "http://evil.example"), http::status::forbidden);
  EXPECT_EQ(post("127.0.0.1:23400", "http://127.0.0.1:8080"), http::status::forbidden);
  EXPECT_EQ(post("127.0.0.1:23400", "null"), http::status::forbidden);
  // Without a secret, a name could be a rebinding of the attacker's own.
  EXPECT_EQ(post("evil.example:23400", ""), http::status::forbidden);
  EXPECT_EQ(post("evil.example:23400", "http://evil.example:23400"), http::status::forbidden);
  EXPECT_EQ(post("", ""), http::status::forbidden);
  EXPECT_EQ(acted, 4);
  // With a secret a name is fine (a page does not know the token), but a
  // foreign Origin is still refused, and the token is still needed.
  EXPECT_EQ(post("sched.example:23400", "", "s3", "s3"), http::status::accepted);
  EXPECT_EQ(post("sched.example:23400", "", "s3", "wrong"), http::status::unauthorized);
  EXPECT_EQ(post("sched.example:23400", "http://evil.example", "s3", "s3"),
            http::status::forbidden);
  EXPECT_EQ(acted, 5);
  // Reading stays open to monitoring from anywhere.
  auto read = get("/health");
  read.set(http::field::host, "monitor.example:23400");
  read.set(http::field::origin, "http://grafana.example");
  EXPECT_EQ(AdminServer::route(read, s, act).result(), http::status::ok);
}

TEST(AdminServer, APartitionedSchedulerSaysSoOnHealthzAndHealth) {
  auto s = two_members(false);
  s.partitioned = true;
  s.partition_reason = "etcd-2 do not answer the scheduler but Mesos reports their tasks running";
  auto healthz = AdminServer::route(get("/healthz"), s);
  EXPECT_EQ(healthz.result(), http::status::service_unavailable);
  EXPECT_TRUE(healthz.body().starts_with("partitioned: ")) << healthz.body();
  EXPECT_NE(healthz.body().find(s.partition_reason), std::string::npos);
  auto scheduler =
      json::parse(AdminServer::route(get("/health"), s).body()).as_object().at("scheduler");
  EXPECT_TRUE(scheduler.as_object().at("partitioned").as_bool());
  EXPECT_EQ(scheduler.as_object().at("partition_reason").as_string(), s.partition_reason);
}

TEST(AdminServer, TheTwoLocksAreToldApart) {
  auto s = two_members(false);
  s.locked = true;
  s.lock_reason = "reseed 2 failed on every candidate";
  auto halted = AdminServer::route(get("/healthz"), s);
  EXPECT_TRUE(halted.body().starts_with("locked: reseed 2")) << halted.body();
  EXPECT_EQ(json::parse(AdminServer::route(get("/health"), s).body())
                .at_pointer("/scheduler/lock")
                .as_string(),
            "reseeds halted");
  s.total_loss = true;
  auto total = AdminServer::route(get("/healthz"), s);
  EXPECT_TRUE(total.body().starts_with("locked after a total loss: ")) << total.body();
}

// Issue 13: one host holding idle sockets (a misbehaving client, or
// someone's attempt to lock operators out) leaves /healthz reachable from
// others, and a request body no endpoint needs is refused.
TEST(AdminServer, IdleConnectionsFromOneHostDoNotLockOutMonitoring) {
  boost::asio::io_context io;
  AdminServer admin(
      io.get_executor(), [] { return two_members(true); }, {}, "");
  auto bound = admin.listen({"127.0.0.1", 0});
  ASSERT_TRUE(bound) << bound.error().message;
  using tcp = boost::asio::ip::tcp;
  std::vector<tcp::socket> hog;
  // More than the total: without the cap per address, nobody else gets in.
  for (std::size_t i = 0; i < kAdminMaxConnections + 8; ++i) {
    tcp::socket socket(io);
    socket.open(tcp::v4());
    socket.bind(tcp::endpoint(boost::asio::ip::make_address("127.0.0.2"), 0));
    socket.connect(tcp::endpoint(boost::asio::ip::make_address(bound->host), bound->port));
    hog.push_back(std::move(socket));
  }
  etcdmesos::testing::run_until(
      io, [] { return false; }, std::chrono::milliseconds(300));

  auto healthz = etcdmesos::testing::run_coro(
      io, io::http_request(io.get_executor(), *bound,
                           io::make_request(http::verb::get, "/healthz", *bound),
                           std::chrono::seconds(5)));
  ASSERT_TRUE(healthz) << healthz.error().message;
  EXPECT_EQ(healthz->result(), http::status::ok);

  auto big = etcdmesos::testing::run_coro(
      io, io::http_request(io.get_executor(), *bound,
                           io::make_request(http::verb::post, "/unlock", *bound,
                                            std::string(kAdminBodyLimit + 1, 'x')),
                           std::chrono::seconds(5)));
  ASSERT_TRUE(big) << big.error().message;
  EXPECT_EQ(big->result(), http::status::payload_too_large);
  admin.stop();
}

}  // namespace
}  // namespace etcdmesos::scheduler
