// GatewaySupervisor with the real `etcd gateway` in front of real
// single-member etcd clusters: it serves the JSON API, re-points when told,
// comes back after being killed, and stops cleanly.
#include "proxy/gateway_supervisor.hpp"

#include "support/etcd_server.hpp"
#include "support/processes.hpp"
#include "unit/io/io_test_util.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <csignal>
#include <string>

namespace etcdmesos::proxy {
namespace {

using namespace std::chrono_literals;
using etcdmesos::testing::EtcdCluster;
using etcdmesos::testing::free_port;
using etcdmesos::testing::run_coro;
using etcdmesos::testing::run_until;

// base64("who") and the values "a"/"b".
constexpr const char* kWho = "d2hv";

void put_who(EtcdCluster& cluster, const std::string& value_b64) {
  auto put =
      cluster.post(0, "/v3/kv/put",
                   std::string(R"({"key":")") + kWho + R"(","value":")" + value_b64 + "\"}", 5s);
  ASSERT_TRUE(put && put->status == 200) << (put ? put->body : "no answer");
}

// The value of "who" read through the gateway's JSON API, "" on no answer.
std::string who_through(uint16_t port) {
  auto answer = etcdmesos::testing::http_post(port, "/v3/kv/range",
                                              std::string(R"({"key":")") + kWho + "\"}", 1s);
  if (!answer || answer->status != 200) {
    return "";
  }
  boost::system::error_code ec;
  auto parsed = boost::json::parse(answer->body, ec);
  if (ec || !parsed.is_object()) {
    return "";
  }
  const auto* kvs = parsed.as_object().if_contains("kvs");
  if (kvs == nullptr || !kvs->is_array() || kvs->as_array().empty()) {
    return "";
  }
  return std::string(kvs->as_array()[0].at("value").as_string());
}

std::string endpoint_of(EtcdCluster& cluster) {
  return "127.0.0.1:" + std::to_string(cluster.client_port(0));
}

class GatewaySupervisorTest : public ::testing::Test {
 protected:
  GatewaySupervisorTest() : port_(free_port()) {}

  GatewaySettings settings(std::string etcd_bin = "/usr/bin/etcd") {
    GatewaySettings s;
    s.command = GatewayCommand{std::move(etcd_bin), "127.0.0.1:" + std::to_string(port_), 500ms};
    s.min_backoff = 100ms;
    s.max_backoff = 400ms;
    return s;
  }

  void stop(GatewaySupervisor& gateway) { run_coro(ioc_, gateway.shutdown()); }

  boost::asio::io_context ioc_;
  uint16_t port_;
};

TEST_F(GatewaySupervisorTest, ServesTheJsonApiAndRepointsWhenTheEndpointsChange) {
  EtcdCluster a(1);
  EtcdCluster b(1);
  put_who(a, "YQ==");
  put_who(b, "Yg==");

  GatewaySupervisor gateway(ioc_.get_executor(), settings());
  gateway.start();
  gateway.set_endpoints({endpoint_of(a)});
  ASSERT_TRUE(run_until(
      ioc_, [&] { return who_through(port_) == "YQ=="; }, 15s));
  EXPECT_EQ(gateway.serving(), EndpointSet{endpoint_of(a)});

  gateway.set_endpoints({endpoint_of(b)});
  ASSERT_TRUE(run_until(
      ioc_, [&] { return who_through(port_) == "Yg=="; }, 15s));
  EXPECT_EQ(gateway.serving(), EndpointSet{endpoint_of(b)});
  EXPECT_EQ(gateway.starts(), 2u);

  // The same set again, or an empty one, changes nothing.
  gateway.set_endpoints({endpoint_of(b)});
  gateway.set_endpoints({});
  run_until(
      ioc_, [] { return false; }, 300ms);
  EXPECT_EQ(gateway.starts(), 2u);
  EXPECT_EQ(who_through(port_), "Yg==");
  stop(gateway);
}

TEST_F(GatewaySupervisorTest, StartsAGatewayThatDiedAgain) {
  EtcdCluster a(1);
  put_who(a, "YQ==");
  GatewaySupervisor gateway(ioc_.get_executor(), settings());
  gateway.start();
  gateway.set_endpoints({endpoint_of(a)});
  ASSERT_TRUE(run_until(
      ioc_, [&] { return who_through(port_) == "YQ=="; }, 15s));
  const pid_t first = *gateway.pid();

  ::kill(first, SIGKILL);  // our own child
  ASSERT_TRUE(run_until(
      ioc_,
      [&] { return gateway.pid() && *gateway.pid() != first && who_through(port_) == "YQ=="; },
      15s));
  EXPECT_EQ(gateway.starts(), 2u);
  stop(gateway);
}

TEST_F(GatewaySupervisorTest, ShutdownStopsTheGatewayAndFreesThePort) {
  EtcdCluster a(1);
  put_who(a, "YQ==");
  GatewaySupervisor gateway(ioc_.get_executor(), settings());
  gateway.start();
  gateway.set_endpoints({endpoint_of(a)});
  ASSERT_TRUE(run_until(
      ioc_, [&] { return who_through(port_) == "YQ=="; }, 15s));
  const pid_t pid = *gateway.pid();
  stop(gateway);
  EXPECT_FALSE(gateway.pid());
  EXPECT_NE(::kill(pid, 0), 0);  // reaped: no such process
  EXPECT_EQ(who_through(port_), "");
}

TEST_F(GatewaySupervisorTest, AProgramThatCannotStartIsRetriedWithoutCrashing) {
  GatewaySupervisor gateway(ioc_.get_executor(), settings("/nonexistent/etcd"));
  gateway.start();
  gateway.set_endpoints({"127.0.0.1:1"});
  run_until(
      ioc_, [] { return false; }, 700ms);  // several backoff rounds
  EXPECT_EQ(gateway.starts(), 0u);
  EXPECT_FALSE(gateway.pid());
  stop(gateway);
}

TEST_F(GatewaySupervisorTest, NothingRunsUntilTheFirstEndpoints) {
  GatewaySupervisor gateway(ioc_.get_executor(), settings());
  gateway.start();
  run_until(
      ioc_, [] { return false; }, 200ms);
  EXPECT_EQ(gateway.starts(), 0u);
  stop(gateway);
}

}  // namespace
}  // namespace etcdmesos::proxy
