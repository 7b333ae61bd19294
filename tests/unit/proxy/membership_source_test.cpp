// MasterStateSource and SchedulerMembersSource against fake masters and
// schedulers built from io::HttpServer on loopback: success, a non-leading
// master's 307, error answers, garbage, and nothing listening.
#include "proxy/membership_source.hpp"

#include "support/processes.hpp"
#include "unit/io/io_test_util.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>

namespace etcdmesos::proxy {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using etcdmesos::testing::run_coro;
using io::HttpExchange;
using io::http::status;
using std::chrono::milliseconds;

constexpr milliseconds kTimeout{3000};

const std::string kState =
    R"({"slaves":[{"id":"S0","hostname":"10.0.0.5","pid":"slave(1)@10.0.0.5:5051"}],)"
    R"("frameworks":[{"id":"F-0000","name":"etcd","active":true,"tasks":[)"
    R"({"id":"etcd-1-ab","name":"etcd-1","slave_id":"S0","state":"TASK_RUNNING",)"
    R"("resources":{"ports":"[31000-31001]"},"discovery":{"visibility":"FRAMEWORK",)"
    R"("name":"etcd-1","ports":{"ports":[{"number":31001,"name":"client","protocol":"tcp"},)"
    R"({"number":31000,"name":"peer","protocol":"tcp"}]}}}]}]})";

class SourceTest : public ::testing::Test {
 protected:
  // A server that answers every request with `answer(target)`.
  io::Endpoint serve(std::function<io::Response(const io::Request&)> answer) {
    auto server = std::make_unique<io::HttpServer>(
        ioc_.get_executor(), [this, answer](HttpExchange& ex) -> awaitable<void> {
          ++requests_;
          targets_.push_back(std::string(ex.request().target()));
          co_await ex.respond(answer(ex.request()));
        });
    auto bound = server->listen(io::Endpoint{"127.0.0.1", 0});
    EXPECT_TRUE(bound) << bound.error().message;
    servers_.push_back(std::move(server));
    return *bound;
  }

  Result<Discovery> fetch_from_master(io::Endpoint master,
                                      FrameworkSelector selector = {"etcd", ""}) {
    io::MasterDetector detector(ioc_.get_executor(), master);
    MasterStateSource source(ioc_.get_executor(), detector, master.to_string(), selector, kTimeout);
    return run_coro(ioc_, source.fetch());
  }

  asio::io_context ioc_;
  std::vector<std::unique_ptr<io::HttpServer>> servers_;
  int requests_ = 0;
  std::vector<std::string> targets_;
};

TEST_F(SourceTest, ReadsTheMastersStateOnce) {
  auto master =
      serve([](const io::Request& req) { return io::make_response(req, status::ok, kState); });
  auto d = fetch_from_master(master);
  ASSERT_TRUE(d) << d.error().message;
  ASSERT_EQ(d->members.size(), 1u);
  EXPECT_EQ(d->members[0].address(), "10.0.0.5:31001");
  EXPECT_EQ(requests_, 1);
  EXPECT_EQ(targets_, (std::vector<std::string>{"/master/state"}));
}

TEST_F(SourceTest, FollowsOneRedirectFromANonLeadingMaster) {
  auto leader =
      serve([](const io::Request& req) { return io::make_response(req, status::ok, kState); });
  auto follower = serve([leader](const io::Request& req) {
    auto res = io::make_response(req, status::temporary_redirect, "");
    res.set(io::http::field::location, "//" + leader.to_string() + "/master/state");
    return res;
  });
  auto d = fetch_from_master(follower);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->members.size(), 1u);
  EXPECT_EQ(requests_, 2);
}

TEST_F(SourceTest, ARedirectLoopIsAnErrorNotAHang) {
  io::Endpoint self;
  self = serve([&self](const io::Request& req) {
    auto res = io::make_response(req, status::temporary_redirect, "");
    res.set(io::http::field::location, "//" + self.to_string() + "/master/state");
    return res;
  });
  auto d = fetch_from_master(self);
  ASSERT_FALSE(d);
  EXPECT_EQ(requests_, 2);
  EXPECT_NE(d.error().message.find("307"), std::string::npos) << d.error().message;
}

TEST_F(SourceTest, ErrorAnswersAndGarbageAreErrorsThatSayWhere) {
  auto failing = serve([](const io::Request& req) {
    return io::make_response(req, status::service_unavailable, "Master is not ready");
  });
  auto d = fetch_from_master(failing);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, 503);
  EXPECT_NE(d.error().message.find(failing.to_string()), std::string::npos) << d.error().message;
  EXPECT_NE(d.error().message.find("Master is not ready"), std::string::npos);

  auto garbage = serve(
      [](const io::Request& req) { return io::make_response(req, status::ok, "<html>hi</html>"); });
  auto g = fetch_from_master(garbage);
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code, kMalformed);
}

TEST_F(SourceTest, UnknownFrameworkIsReported) {
  auto master =
      serve([](const io::Request& req) { return io::make_response(req, status::ok, kState); });
  auto d = fetch_from_master(master, FrameworkSelector{"nope", ""});
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, kNoFramework);
}

TEST_F(SourceTest, NothingListeningIsAnError) {
  io::Endpoint closed{"127.0.0.1", etcdmesos::testing::free_port()};
  auto d = fetch_from_master(closed);
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find(closed.to_string()), std::string::npos) << d.error().message;
}

TEST_F(SourceTest, ReadsTheSchedulersMembers) {
  auto scheduler = serve([](const io::Request& req) {
    return io::make_response(
        req, status::ok,
        R"([{"name":"etcd-1","client_url":"http://10.0.0.5:31001","state":"TASK_RUNNING"}])");
  });
  auto source = SchedulerMembersSource::from_url(
      ioc_.get_executor(), "http://" + scheduler.to_string() + "/members", kTimeout);
  ASSERT_TRUE(source) << source.error().message;
  auto d = run_coro(ioc_, (*source)->fetch());
  ASSERT_TRUE(d) << d.error().message;
  ASSERT_EQ(d->members.size(), 1u);
  EXPECT_EQ(d->members[0].address(), "10.0.0.5:31001");
  EXPECT_EQ(targets_, (std::vector<std::string>{"/members"}));
}

TEST_F(SourceTest, SchedulerErrorsAreErrors) {
  auto scheduler =
      serve([](const io::Request& req) { return io::make_response(req, status::not_found, "no"); });
  auto source = SchedulerMembersSource::from_url(
      ioc_.get_executor(), "http://" + scheduler.to_string() + "/members", kTimeout);
  ASSERT_TRUE(source);
  auto d = run_coro(ioc_, (*source)->fetch());
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, 404);
  for (const char* bad : {"https://h:1/members", "h:1/members", "http://h:99999/members", ""}) {
    EXPECT_FALSE(SchedulerMembersSource::from_url(ioc_.get_executor(), bad, kTimeout)) << bad;
  }
}

TEST(EndpointFromLocation, MesosStyleAndAbsolute) {
  EXPECT_EQ(endpoint_from_location("//10.0.0.1:5050/master/state")->to_string(), "10.0.0.1:5050");
  EXPECT_EQ(endpoint_from_location("http://m2:5050/master/state")->to_string(), "m2:5050");
  EXPECT_EQ(endpoint_from_location("//m3:5050")->to_string(), "m3:5050");
  for (const char* bad : {"", "/master/state", "//nohost/x", "https://m:1/"}) {
    EXPECT_FALSE(endpoint_from_location(bad)) << bad;
  }
}

}  // namespace
}  // namespace etcdmesos::proxy
