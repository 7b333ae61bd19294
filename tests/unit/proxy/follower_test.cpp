// MembershipFollower with a scripted MembershipSource and a real gateway
// (the gateway starts even when its endpoints are dead, which is all these
// tests need): changes re-point it, problems never take endpoints away, one
// read at a time, and saved endpoints are served after a restart.
#include "proxy/follower.hpp"

#include "support/processes.hpp"
#include "unit/io/io_test_util.hpp"

#include <gtest/gtest.h>
#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <fstream>

namespace etcdmesos::proxy {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using etcdmesos::testing::free_port;
using etcdmesos::testing::run_coro;
using etcdmesos::testing::run_until;
using etcdmesos::testing::TempDir;

Discovery members(std::vector<std::string> addresses) {
  Discovery d;
  d.framework_id = "F-0000";
  for (const auto& a : addresses) {
    auto colon = a.rfind(':');
    d.members.push_back(MemberEndpoint{"m", a.substr(0, colon),
                                       static_cast<uint16_t>(std::stoi(a.substr(colon + 1)))});
  }
  return d;
}

// Answers with the scripted results in order, then repeats the last one.
// Each fetch takes `delay`, and the source records how many overlapped.
class ScriptedSource : public MembershipSource {
 public:
  ScriptedSource(asio::any_io_executor ex, std::deque<Result<Discovery>> script,
                 std::chrono::milliseconds delay = 0ms)
      : ex_(ex), script_(std::move(script)), delay_(delay) {}

  asio::awaitable<Result<Discovery>> fetch() override {
    ++in_flight_;
    max_in_flight_ = std::max(max_in_flight_, in_flight_);
    if (delay_.count() > 0) {
      asio::steady_timer timer(ex_, delay_);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    --in_flight_;
    ++fetches_;
    Result<Discovery> next = script_.front();
    if (script_.size() > 1) {
      script_.pop_front();
    }
    co_return next;
  }
  std::string describe() const override { return "a scripted source"; }

  int fetches_ = 0;
  int in_flight_ = 0;
  int max_in_flight_ = 0;

 private:
  asio::any_io_executor ex_;
  std::deque<Result<Discovery>> script_;
  std::chrono::milliseconds delay_;
};

class FollowerTest : public ::testing::Test {
 protected:
  GatewaySettings settings() {
    GatewaySettings s;
    s.command = GatewayCommand{"/usr/bin/etcd", "127.0.0.1:" + std::to_string(free_port()), 1s};
    s.min_backoff = 100ms;
    return s;
  }
  void stop(MembershipFollower& follower, GatewaySupervisor& gateway) {
    follower.stop();
    run_coro(ioc_, gateway.shutdown());
  }

  asio::io_context ioc_;
};

TEST_F(FollowerTest, ChangesRepointTheGatewayAndProblemsKeepTheEndpoints) {
  ScriptedSource source(
      ioc_.get_executor(),
      {make_error("no leading Mesos master is known"),
       members({}),  // framework there, no member running yet
       members({"127.0.0.1:1", "127.0.0.1:2"}),
       members({"127.0.0.1:2", "127.0.0.1:1"}),  // same set, other order
       make_error("connect refused"), members({}), members({"127.0.0.1:1", "127.0.0.1:3"})});
  GatewaySupervisor gateway(ioc_.get_executor(), settings());
  MembershipFollower follower(ioc_.get_executor(), FollowerConfig{"etcd", 20ms, {}}, source,
                              gateway);
  gateway.start();
  follower.start();

  ASSERT_TRUE(run_until(
      ioc_, [&] { return source.fetches_ >= 3; }, 5s));
  EXPECT_EQ(follower.endpoints(), (EndpointSet{"127.0.0.1:1", "127.0.0.1:2"}));
  ASSERT_TRUE(run_until(
      ioc_, [&] { return source.fetches_ >= 6; }, 5s));
  // Errors and an empty membership left the endpoints alone.
  EXPECT_EQ(follower.endpoints(), (EndpointSet{"127.0.0.1:1", "127.0.0.1:2"}));
  ASSERT_TRUE(run_until(
      ioc_,
      [&] {
        return gateway.serving() == EndpointSet{"127.0.0.1:1", "127.0.0.1:3"};
      },
      10s));
  EXPECT_EQ(gateway.starts(), 2u);  // once per distinct set
  stop(follower, gateway);
}

TEST_F(FollowerTest, NeverMoreThanOneReadInFlight) {
  ScriptedSource source(ioc_.get_executor(), {members({"127.0.0.1:1"})}, 50ms);
  GatewaySupervisor gateway(ioc_.get_executor(), settings());
  MembershipFollower follower(ioc_.get_executor(), FollowerConfig{"etcd", 1ms, {}}, source,
                              gateway);
  gateway.start();
  follower.start();
  ASSERT_TRUE(run_until(
      ioc_, [&] { return source.fetches_ >= 5; }, 5s));
  EXPECT_EQ(source.max_in_flight_, 1);
  stop(follower, gateway);
}

TEST_F(FollowerTest, SavedEndpointsAreServedUntilTheFirstRead) {
  TempDir dir("etcd-mesos-proxy-test");
  {
    ScriptedSource source(ioc_.get_executor(), {members({"127.0.0.1:7", "127.0.0.1:8"})});
    GatewaySupervisor gateway(ioc_.get_executor(), settings());
    MembershipFollower follower(ioc_.get_executor(), FollowerConfig{"etcd", 20ms, dir.path()},
                                source, gateway);
    gateway.start();
    follower.start();
    ASSERT_TRUE(run_until(
        ioc_, [&] { return source.fetches_ >= 1; }, 5s));
    stop(follower, gateway);
  }
  std::ifstream saved(MembershipFollower::saved_endpoints_path(dir.path()));
  std::string text((std::istreambuf_iterator<char>(saved)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("127.0.0.1:7"), std::string::npos) << text;

  // Restarted while the master cannot be reached: serves what was saved.
  ScriptedSource failing(ioc_.get_executor(), {make_error("connect refused")});
  GatewaySupervisor gateway(ioc_.get_executor(), settings());
  MembershipFollower follower(ioc_.get_executor(), FollowerConfig{"etcd", 20ms, dir.path()},
                              failing, gateway);
  gateway.start();
  follower.start();
  ASSERT_TRUE(run_until(
      ioc_,
      [&] {
        return gateway.serving() == EndpointSet{"127.0.0.1:7", "127.0.0.1:8"};
      },
      10s));
  ASSERT_TRUE(run_until(
      ioc_, [&] { return failing.fetches_ >= 3; }, 5s));
  EXPECT_EQ(gateway.serving(), (EndpointSet{"127.0.0.1:7", "127.0.0.1:8"}));
  stop(follower, gateway);

  // Saved for another framework: ignored.
  ScriptedSource other_source(ioc_.get_executor(), {make_error("connect refused")});
  GatewaySupervisor other_gateway(ioc_.get_executor(), settings());
  MembershipFollower other(ioc_.get_executor(), FollowerConfig{"other", 20ms, dir.path()},
                           other_source, other_gateway);
  other_gateway.start();
  other.start();
  ASSERT_TRUE(run_until(
      ioc_, [&] { return other_source.fetches_ >= 2; }, 5s));
  EXPECT_TRUE(other.endpoints().empty());
  EXPECT_EQ(other_gateway.starts(), 0u);
  stop(other, other_gateway);
}

}  // namespace
}  // namespace etcdmesos::proxy
