// The web page's server side: the page and its files served from the
// binary with their headers, the fields of GET /health the page draws, and
// the bounded records of checks and events behind them.
#include "scheduler/web_page.hpp"
#include "scheduler/admin_server.hpp"
#include "scheduler/recent.hpp"
#include "scheduler/web_files.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <string>

namespace etcdmesos::scheduler {
namespace {

namespace json = boost::json;
namespace http = io::http;

io::Request request(const std::string& target, http::verb verb = http::verb::get) {
  return io::make_request(verb, target, io::Endpoint{"127.0.0.1", 23400});
}

TEST(RecentLog, KeepsTheNewestUpToItsCapacityOldestFirst) {
  RecentLog<int> log(3);
  EXPECT_TRUE(log.items().empty());
  for (int i = 1; i <= 5; ++i) {
    log.push(i);
  }
  EXPECT_EQ(log.size(), 3u);
  EXPECT_EQ(log.items(), (std::vector<int>{3, 4, 5}));
  log.push(6);
  EXPECT_EQ(log.items(), (std::vector<int>{4, 5, 6}));
}

TEST(RecentLog, ACapacityOfZeroKeepsNothing) {
  RecentLog<int> log(0);
  log.push(1);
  EXPECT_EQ(log.size(), 0u);
}

TEST(RecentLog, TheSchedulersLogsAreBoundedAsDocumented) {
  RecentLog<CheckRecord> checks(kRecentChecks);
  RecentLog<EventRecord> events(kRecentEvents);
  for (int i = 0; i < 1000; ++i) {
    checks.push(CheckRecord{static_cast<double>(i), i % 2 == 0, "r", 0.1});
    events.push(EventRecord{static_cast<double>(i), "info", "e" + std::to_string(i)});
  }
  ASSERT_EQ(checks.size(), 60u);
  ASSERT_EQ(events.size(), 50u);
  EXPECT_EQ(checks.items().front().unix_time, 940);
  EXPECT_EQ(events.items().back().text, "e999");
}

TEST(ClipText, ShortTextIsKeptAndLongTextIsCutWithAnEllipsis) {
  EXPECT_EQ(clip_text("launch etcd-4", 512), "launch etcd-4");
  const std::string cut = clip_text(std::string(1000, 'x'), 20);
  EXPECT_EQ(cut, std::string(17, 'x') + "...");
  EXPECT_EQ(clip_text(std::string(600, 'y')).size(), kRecentTextLimit);
}

TEST(ClipText, NeverCutsInsideAUtf8Character) {
  // "é" is two bytes (0xC3 0xA9): a cut after 9 bytes would split the fifth.
  std::string text;
  for (int i = 0; i < 10; ++i) {
    text += "\xC3\xA9";
  }
  const std::string cut = clip_text(text, 12);
  EXPECT_EQ(cut, "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9...");
}

TEST(WebPage, TheFilesAreBuiltIn) {
  for (const char* name : {"index.html", "page.js", "page.css"}) {
    auto file = embedded_web_file(name);
    ASSERT_TRUE(file) << name;
    EXPECT_GT(file->size(), 500u) << name;
  }
  EXPECT_FALSE(embedded_web_file("missing.html"));
}

TEST(WebPage, GetSlashServesThePageWithAStrictPolicy) {
  for (const char* target : {"/", "/index.html", "/?from=mesos"}) {
    auto res = AdminServer::route(request(target), {});
    ASSERT_EQ(res.result(), http::status::ok) << target;
    EXPECT_EQ(res[http::field::content_type], "text/html; charset=utf-8");
    EXPECT_EQ(res["Content-Security-Policy"], kWebPageCsp);
    EXPECT_EQ(res["X-Content-Type-Options"], "nosniff");
    EXPECT_EQ(res[http::field::cache_control], "no-cache");
    EXPECT_EQ(res.body(), std::string(*embedded_web_file("index.html")));
  }
  // The policy lets nothing in from elsewhere and runs no inline script.
  EXPECT_NE(kWebPageCsp.find("default-src 'none'"), std::string_view::npos);
  EXPECT_NE(kWebPageCsp.find("script-src 'self';"), std::string_view::npos);
  EXPECT_EQ(kWebPageCsp.find("unsafe-inline"), std::string_view::npos);
  EXPECT_EQ(kWebPageCsp.find("http"), std::string_view::npos);
}

TEST(WebPage, TheScriptAndStyleAreServedWithTheirTypes) {
  auto js = AdminServer::route(request("/ui/page.js"), {});
  ASSERT_EQ(js.result(), http::status::ok);
  EXPECT_EQ(js[http::field::content_type], "text/javascript; charset=utf-8");
  EXPECT_EQ(js["X-Content-Type-Options"], "nosniff");
  auto css = AdminServer::route(request("/ui/page.css"), {});
  ASSERT_EQ(css.result(), http::status::ok);
  EXPECT_EQ(css[http::field::content_type], "text/css; charset=utf-8");
  EXPECT_EQ(AdminServer::route(request("/ui/other.js"), {}).result(), http::status::not_found);
}

TEST(WebPage, ThePageLoadsNothingFromTheInternetAndHasNoInlineCode) {
  const std::string html(*embedded_web_file("index.html"));
  EXPECT_NE(html.find(R"(<script src="/ui/page.js")"), std::string::npos);
  EXPECT_NE(html.find(R"(<link rel="stylesheet" href="/ui/page.css">)"), std::string::npos);
  EXPECT_NE(html.find(R"(name="viewport")"), std::string::npos);
  // Every script has a src (no inline code the policy would block), and no
  // src or href leaves this server.
  std::size_t scripts = 0;
  for (auto at = html.find("<script"); at != std::string::npos; at = html.find("<script", at + 1)) {
    ++scripts;
    EXPECT_EQ(html.compare(at, 13, "<script src=\""), 0) << html.substr(at, 40);
  }
  EXPECT_EQ(scripts, 1u);
  EXPECT_EQ(html.find("style="), std::string::npos);
  for (const char* outside : {"src=\"http", "href=\"http", "src=\"//", "href=\"//"}) {
    EXPECT_EQ(html.find(outside), std::string::npos) << outside;
  }
  const std::string css(*embedded_web_file("page.css"));
  EXPECT_EQ(css.find("@import"), std::string::npos);
  EXPECT_EQ(css.find("url("), std::string::npos);
  // Nothing is stored in the browser.
  const std::string js(*embedded_web_file("page.js"));
  for (const char* store : {"localStorage", "sessionStorage", "document.cookie", "indexedDB"}) {
    EXPECT_EQ(js.find(store), std::string::npos) << store;
  }
}

TEST(WebPage, OnlyGetIsAnswered) {
  for (auto verb : {http::verb::post, http::verb::put, http::verb::delete_}) {
    auto res = AdminServer::route(request("/", verb), {});
    EXPECT_EQ(res.result(), http::status::method_not_allowed);
    EXPECT_EQ(res[http::field::allow], "GET");
  }
  EXPECT_EQ(AdminServer::route(request("/ui/page.js", http::verb::post), {}).result(),
            http::status::method_not_allowed);
}

TEST(WebPage, AStandbyServesThePageWhichThenReadsWhoLeads) {
  AdminSnapshot s;
  s.role = "standby";
  s.leader = "10.0.0.5:23400";
  EXPECT_EQ(AdminServer::route(request("/"), s).result(), http::status::ok);
  auto health = AdminServer::route(request("/health"), s);
  EXPECT_EQ(health.result(), http::status::service_unavailable);
  EXPECT_EQ(json::parse(health.body()).at("leader").as_string(), "10.0.0.5:23400");
}

AdminSnapshot checked_cluster() {
  AdminSnapshot s;
  s.members = {core::Member{"etcd-1", "etcd-1-aa", "S0", "127.0.0.2", 31000, 31001,
                            core::TaskState::kRunning},
               core::Member{"etcd-2", "etcd-2-bb", "S1", "127.0.0.3", 31002, 31003,
                            core::TaskState::kStarting}};
  s.cluster_size = 3;
  core::HealthResult h;
  h.healthy = true;
  core::MemberHealth leader{"etcd-1", true, 7, 42, 2, ""};
  leader.member_id = 7;
  leader.db_size_bytes = 20480;
  core::MemberHealth follower{"etcd-2", true, 7, 41, 2, ""};
  follower.member_id = 9;
  follower.db_size_bytes = 16384;
  h.members = {leader, follower};
  s.health = h;
  s.checks = {CheckRecord{1700000000.5, false, "no leader: etcd-2 reports none", 0.25},
              CheckRecord{1700000001.5, true, "", 0.03}};
  s.events = {EventRecord{1700000000.0, "info", "launch etcd-2 on 127.0.0.3"},
              EventRecord{1700000002.0, "warning", "state: 'normal' -> 'partitioned'"}};
  return s;
}

TEST(WebPage, HealthHasWhatThePageDraws) {
  auto res = AdminServer::route(request("/health"), checked_cluster());
  ASSERT_EQ(res.result(), http::status::ok);
  auto health = json::parse(res.body()).as_object();
  // Per member of the check: the leader flag and the database size.
  auto members = health.at("members").as_array();
  ASSERT_EQ(members.size(), 2u);
  EXPECT_TRUE(members[0].at("is_leader").as_bool());
  EXPECT_EQ(members[0].at("db_size").to_number<int64_t>(), 20480);
  EXPECT_FALSE(members[1].at("is_leader").as_bool());
  EXPECT_EQ(members[1].at("db_size").to_number<int64_t>(), 16384);
  // The fields other readers use are still there, unchanged.
  EXPECT_EQ(members[0].at("leader").as_string(), "7");
  EXPECT_EQ(members[0].at("raft_index").to_number<int64_t>(), 42);
  EXPECT_TRUE(health.at("healthy").as_bool());
  // The members the scheduler runs, as GET /members has them.
  auto tasks = health.at("tasks").as_array();
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks[1].at("name").as_string(), "etcd-2");
  EXPECT_EQ(tasks[1].at("agent_id").as_string(), "S1");
  EXPECT_EQ(tasks[1].at("host").as_string(), "127.0.0.3");
  EXPECT_EQ(tasks[1].at("state").as_string(), "TASK_STARTING");
  EXPECT_EQ(health.at("scheduler").at("cluster_size").to_number<int64_t>(), 3);
  // The timeline and the events, oldest first.
  auto checks = health.at("checks").as_array();
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_FALSE(checks[0].at("healthy").as_bool());
  EXPECT_EQ(checks[0].at("reason").as_string(), "no leader: etcd-2 reports none");
  EXPECT_DOUBLE_EQ(checks[0].at("time").as_double(), 1700000000.5);
  EXPECT_DOUBLE_EQ(checks[0].at("duration_seconds").as_double(), 0.25);
  auto events = health.at("events").as_array();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].at("level").as_string(), "warning");
  EXPECT_EQ(events[1].at("text").as_string(), "state: 'normal' -> 'partitioned'");
}

TEST(WebPage, HealthBeforeTheFirstCheckStillHasTheTasksAndEvents) {
  auto s = checked_cluster();
  s.health.reset();
  auto health = json::parse(AdminServer::route(request("/health"), s).body()).as_object();
  EXPECT_EQ(health.at("reason").as_string(), "no health check has completed yet");
  EXPECT_EQ(health.at("tasks").as_array().size(), 2u);
  EXPECT_EQ(health.at("checks").as_array().size(), 2u);
  EXPECT_EQ(health.at("events").as_array().size(), 2u);
}

TEST(WebPage, AMemberThatDoesNotKnowItsIdIsNotTheLeader) {
  auto s = checked_cluster();
  s.health->members[0].member_id = 0;
  s.health->members[0].leader = 0;
  auto health = json::parse(AdminServer::route(request("/health"), s).body()).as_object();
  EXPECT_FALSE(health.at("members").as_array()[0].at("is_leader").as_bool());
}

}  // namespace
}  // namespace etcdmesos::scheduler
