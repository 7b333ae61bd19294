// MesosSchedulerClient against fake masters built from HttpServer: the test
// decides what each master answers and writes to each event stream, byte by
// byte if it wants. The leader-change tests follow a real ZooKeeper.
#include "io/mesos_scheduler_client.hpp"

#include "codec/recordio.hpp"
#include "io/master_detector.hpp"
#include "io_test_util.hpp"
#include "support/zookeeper_server.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <set>

namespace etcdmesos::io {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using etcdmesos::testing::AsyncQueue;
using etcdmesos::testing::run_coro;
using etcdmesos::testing::run_until;
using etcdmesos::testing::ZooKeeperServer;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

std::string record(const mesos::Event& event) {
  return recordio::encode(mesos::encode(event));
}

mesos::Event subscribed_event(const std::string& framework_id, double heartbeat_s = 15) {
  return mesos::EventSubscribed{framework_id, heartbeat_s, std::nullopt};
}

mesos::Event heartbeat_event() {
  return mesos::EventHeartbeat{};
}

mesos::Event offers_event() {
  mesos::Offer offer;
  offer.id = "offer-1";
  offer.framework_id = "fw-1";
  offer.agent_id = "agent-1";
  offer.hostname = "127.0.0.1";
  offer.resources = {mesos::scalar_resource("cpus", 2)};
  return mesos::EventOffers{{offer}};
}

mesos::Event error_event(const std::string& message) {
  return mesos::EventError{message};
}

mesos::Call decline_call(const std::string& offer_id = "offer-1") {
  return mesos::Call{std::nullopt, mesos::CallDecline{{offer_id}, mesos::Filters{5}}};
}

// The offer a DECLINE the master received names, "" for anything else.
std::string declined_offer(const Request& req) {
  auto call = mesos::decode_call(req.body());
  const auto* decline = call ? std::get_if<mesos::CallDecline>(&call->payload) : nullptr;
  if (decline == nullptr || decline->offer_ids.empty()) {
    return "";
  }
  return decline->offer_ids[0];
}

// A master that answers SUBSCRIBE with a stream fed by the test, or with
// scripted answers (307, 503) first, and records every request.
class FakeMaster {
 public:
  struct Subscription {
    explicit Subscription(asio::any_io_executor ex) : outbox(ex) {}
    Request request;
    mesos::Call call;
    uint16_t remote_port = 0;
    AsyncQueue<std::string> outbox;  // bytes to write, one chunk each
    bool ended = false;
  };
  struct Answer {
    http::status status;
    std::string location;  // for 307
    std::string body = "No leader elected";
  };

  explicit FakeMaster(asio::io_context& ioc)
      : release_calls(ioc.get_executor()),
        ioc_(ioc),
        server_(ioc.get_executor(), [this](HttpExchange& ex) { return handle(ex); }) {
    at = server_.listen({"127.0.0.1", 0}).value();
  }
  ~FakeMaster() {
    for (auto& sub : subscriptions) {
      sub->outbox.close();
    }
    release_calls.close();
    server_.stop();
  }

  void stop() { server_.stop(); }
  Subscription& sub(std::size_t i) { return *subscriptions.at(i); }

  Endpoint at;
  std::deque<Answer> scripted;  // answers for the next SUBSCRIBEs, before streaming
  std::vector<Clock::time_point> subscribe_times;
  std::vector<std::shared_ptr<Subscription>> subscriptions;
  std::vector<Request> calls;
  std::vector<uint16_t> call_ports;
  http::status call_status = http::status::accepted;
  // When set, each call waits for a token before it is answered.
  bool hold_calls = false;
  AsyncQueue<int> release_calls;
  // The call (counted from 1) after whose answer the connection is closed
  // without a word, as a server does after an idle timeout.
  std::size_t drop_connection_after_call = 0;
  int dropped_connections = 0;

  // Connections that carried calls, told apart by their client port.
  std::size_t call_connections() const {
    return std::set<uint16_t>(call_ports.begin(), call_ports.end()).size();
  }
  std::vector<std::string> declined() const {
    std::vector<std::string> offers;
    for (const auto& req : calls) {
      offers.push_back(declined_offer(req));
    }
    return offers;
  }

 private:
  awaitable<void> handle(HttpExchange& ex) {
    auto call = mesos::decode_call(ex.request().body());
    if (!call) {
      co_await ex.respond(make_response(ex.request(), http::status::bad_request,
                                        call.error().message, "text/plain"));
      co_return;
    }
    if (!std::holds_alternative<mesos::CallSubscribe>(call->payload)) {
      co_await answer_call(ex);
      co_return;
    }
    subscribe_times.push_back(Clock::now());
    if (!scripted.empty()) {
      auto answer = scripted.front();
      scripted.pop_front();
      auto res =
          make_response(ex.request(), answer.status, answer.body,
                        answer.status == http::status::ok ? "application/json" : "text/plain");
      if (!answer.location.empty()) {
        res.set(http::field::location, answer.location);
      }
      co_await ex.respond(std::move(res));
      co_return;
    }
    co_await stream(ex, *call);
  }

  awaitable<void> answer_call(HttpExchange& ex) {
    calls.push_back(ex.request());
    call_ports.push_back(ex.remote().port);
    if (hold_calls) {
      co_await release_calls.pop();
    }
    co_await ex.respond(make_response(ex.request(), call_status,
                                      call_status == http::status::accepted ? "" : "Bad call\n",
                                      "text/plain"));
    if (calls.size() == drop_connection_after_call) {
      ex.abort();
      ++dropped_connections;
    }
  }

  awaitable<void> stream(HttpExchange& ex, mesos::Call call) {
    auto sub = std::make_shared<Subscription>(ioc_.get_executor());
    sub->request = ex.request();
    sub->call = std::move(call);
    sub->remote_port = ex.remote().port;
    subscriptions.push_back(sub);
    auto header = make_response(ex.request(), http::status::ok, "");
    header.set("Mesos-Stream-Id", "stream-" + std::to_string(subscriptions.size()));
    header.set(http::field::content_type, "application/json");
    if (co_await ex.start_stream(std::move(header))) {
      while (auto chunk = co_await sub->outbox.pop()) {
        if (!co_await ex.write_chunk(*chunk)) {
          break;
        }
      }
      co_await ex.finish_stream();
    }
    sub->ended = true;
  }

  asio::io_context& ioc_;
  HttpServer server_;
};

class MesosSchedulerClientTest : public ::testing::Test {
 protected:
  MesosSchedulerClientTest() : master_(ioc_) {
    config_.framework_info.user = "etcd";
    config_.framework_info.name = "etcd-test";
    config_.framework_info.roles = {"etcd"};
    config_.framework_info.capabilities = {"MULTI_ROLE"};
    config_.backoff_initial = milliseconds(20);
    config_.backoff_max = milliseconds(200);
    config_.request_timeout = milliseconds(2000);
    config_.random = &random_;
    use_master(master_.at);
  }

  // find_master answers with whatever master_at_ holds at the time.
  void use_master(Endpoint at) {
    master_at_ = at;
    config_.find_master = [this](milliseconds) -> awaitable<std::optional<Endpoint>> {
      ++find_master_calls_;
      co_return master_at_;
    };
  }

  MesosSchedulerClient& start() {
    MesosSchedulerClient::Callbacks callbacks;
    callbacks.on_event = [this](const mesos::Event& e) {
      events_.push_back(e);
      if (on_event_) {
        on_event_(e);
      }
    };
    callbacks.on_disconnected = [this](const std::string& reason) {
      disconnects_.push_back(reason);
    };
    client_ = std::make_unique<MesosSchedulerClient>(ioc_.get_executor(), config_, callbacks);
    client_->start();
    return *client_;
  }

  bool wait_for(const std::function<bool()>& condition) {
    return run_until(ioc_, condition, milliseconds(10000));
  }

  // Starts the client and completes the first subscription.
  void subscribe(FakeMaster& master, double heartbeat_s = 15) {
    if (!client_) {
      start();
    }
    const std::size_t before = master.subscriptions.size();
    ASSERT_TRUE(wait_for([&] { return master.subscriptions.size() > before; }));
    master.subscriptions.back()->outbox.push(record(subscribed_event("fw-1", heartbeat_s)));
    ASSERT_TRUE(wait_for([&] { return client_->state_name() == "SUBSCRIBED"; }));
  }

  SeededRandom random_{7};
  FakeTimeSource fake_;  // for the tests that set config_.time to it
  asio::io_context ioc_;
  FakeMaster master_;
  MesosSchedulerClient::Config config_;
  std::unique_ptr<MesosSchedulerClient> client_;
  std::vector<mesos::Event> events_;
  std::vector<std::string> disconnects_;
  std::function<void(const mesos::Event&)> on_event_;
  int find_master_calls_ = 0;
  Endpoint master_at_;
};

TEST_F(MesosSchedulerClientTest, SubscribesAndReadsEventsSplitAcrossChunks) {
  auto& client = start();
  ASSERT_TRUE(wait_for([&] { return master_.subscriptions.size() == 1; }));
  EXPECT_EQ(client.state_name(), "SUBSCRIBING");
  const auto& req = master_.sub(0).request;
  EXPECT_EQ(req.target(), "/api/v1/scheduler");
  EXPECT_EQ(req[http::field::content_type], "application/json");
  EXPECT_EQ(req[http::field::accept], "application/json");
  EXPECT_EQ(req.count("Mesos-Stream-Id"), 0u);
  EXPECT_EQ(req.count(http::field::authorization), 0u);
  EXPECT_FALSE(master_.sub(0).call.framework_id.has_value());
  EXPECT_FALSE(
      std::get<mesos::CallSubscribe>(master_.sub(0).call.payload).framework_info.id.has_value());

  // Three records cut into pieces that ignore record boundaries.
  std::string bytes =
      record(subscribed_event("fw-1")) + record(heartbeat_event()) + record(offers_event());
  for (std::size_t i = 0; i < bytes.size(); i += 7) {
    master_.sub(0).outbox.push(bytes.substr(i, 7));
  }
  ASSERT_TRUE(wait_for([&] { return events_.size() == 3; }));
  EXPECT_EQ(events_[0], subscribed_event("fw-1"));
  EXPECT_EQ(mesos::type_name(events_[1]), "HEARTBEAT");
  EXPECT_EQ(events_[2], offers_event());
  EXPECT_EQ(client.state_name(), "SUBSCRIBED");
  EXPECT_EQ(client.framework_id(), "fw-1");
  EXPECT_TRUE(disconnects_.empty());
}

TEST_F(MesosSchedulerClientTest, CallsCarryStreamIdAndFrameworkIdOnTheirOwnConnection) {
  auto& client = start();
  client.send(decline_call("before-subscribed"));  // dropped: not subscribed
  EXPECT_EQ(client.queued_calls(), 0u);

  subscribe(master_);
  client.send(decline_call());
  ASSERT_TRUE(wait_for([&] { return master_.calls.size() == 1; }));
  const auto& req = master_.calls[0];
  EXPECT_EQ(req["Mesos-Stream-Id"], "stream-1");
  EXPECT_EQ(req[http::field::content_type], "application/json");
  auto call = mesos::decode_call(req.body());
  ASSERT_TRUE(call);
  EXPECT_EQ(call->framework_id, "fw-1");
  EXPECT_EQ(call->payload, decline_call().payload);
  EXPECT_NE(master_.call_ports[0], master_.sub(0).remote_port);
  EXPECT_FALSE(master_.sub(0).ended);

  // A refused call is logged; the next one still goes out on the same
  // connection.
  master_.call_status = http::status::bad_request;
  client.send(decline_call("refused"));
  client.send(decline_call("after"));
  ASSERT_TRUE(wait_for([&] { return master_.calls.size() == 3; }));
  EXPECT_EQ(master_.declined(), (std::vector<std::string>{"offer-1", "refused", "after"}));
  EXPECT_EQ(master_.call_connections(), 1u);
  client.send(
      mesos::Call{std::nullopt, mesos::CallSubscribe{}});  // the client's own business: dropped
  EXPECT_EQ(client.queued_calls(), 0u);
}

// Issue 11: every call went out on a connection of its own, so calls sent in
// one order could reach the master in another.
TEST_F(MesosSchedulerClientTest, CallsArriveInOrderOverOneConnection) {
  subscribe(master_);
  std::vector<std::string> sent;
  for (int i = 0; i < 40; ++i) {
    sent.push_back("offer-" + std::to_string(i));
    client_->send(decline_call(sent.back()));
  }
  ASSERT_TRUE(wait_for([&] { return master_.calls.size() == sent.size(); }));
  EXPECT_EQ(master_.declined(), sent);
  EXPECT_EQ(master_.call_connections(), 1u);
  EXPECT_NE(master_.call_ports[0], master_.sub(0).remote_port);
}

TEST_F(MesosSchedulerClientTest, ABrokenCallConnectionIsOpenedAgainInOrder) {
  master_.drop_connection_after_call = 2;
  subscribe(master_);
  client_->send(decline_call("a"));
  client_->send(decline_call("b"));
  ASSERT_TRUE(wait_for([&] { return master_.dropped_connections == 1; }));
  client_->send(decline_call("c"));
  client_->send(decline_call("d"));
  ASSERT_TRUE(wait_for([&] { return master_.calls.size() == 4; }));
  EXPECT_EQ(master_.declined(), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(master_.call_connections(), 2u);
  EXPECT_EQ(master_.call_ports[2], master_.call_ports[3]);
  EXPECT_EQ(master_.subscriptions.size(), 1u);  // the subscription is untouched
}

TEST_F(MesosSchedulerClientTest, TheQueueIsBounded) {
  config_.max_queued_calls = 3;
  master_.hold_calls = true;
  subscribe(master_);
  client_->send(decline_call("in-flight"));
  ASSERT_TRUE(wait_for([&] { return master_.calls.size() == 1; }));
  for (int i = 0; i < 5; ++i) {
    client_->send(decline_call("queued-" + std::to_string(i)));
  }
  EXPECT_EQ(client_->queued_calls(), 3u);  // the newest two were dropped
  for (int i = 0; i < 4; ++i) {
    master_.release_calls.push(1);
  }
  ASSERT_TRUE(wait_for([&] { return master_.calls.size() == 4 && client_->queued_calls() == 0; }));
  EXPECT_EQ(master_.declined(),
            (std::vector<std::string>{"in-flight", "queued-0", "queued-1", "queued-2"}));
}

// Calls queued under one subscription carry its stream id, which the master
// refuses once it ended: they are dropped, never sent under the next one.
TEST_F(MesosSchedulerClientTest, CallsOfAnEndedSubscriptionAreDropped) {
  master_.hold_calls = true;
  subscribe(master_);
  client_->send(decline_call("in-flight"));
  ASSERT_TRUE(wait_for([&] { return master_.calls.size() == 1; }));
  client_->send(decline_call("stale-1"));
  client_->send(decline_call("stale-2"));
  ASSERT_EQ(client_->queued_calls(), 2u);

  master_.sub(0).outbox.close();  // the subscription ends
  ASSERT_TRUE(wait_for([&] { return disconnects_.size() == 1; }));
  EXPECT_EQ(client_->queued_calls(), 0u);
  master_.hold_calls = false;
  master_.release_calls.push(1);  // the old in-flight call is answered late
  subscribe(master_);
  client_->send(decline_call("fresh"));
  ASSERT_TRUE(wait_for([&] { return declined_offer(master_.calls.back()) == "fresh"; }));
  // Calls go out in order: had the stale ones been kept, they would have
  // reached the master before "fresh".
  EXPECT_EQ(master_.declined(), (std::vector<std::string>{"in-flight", "fresh"}));
  EXPECT_EQ(master_.calls.back()["Mesos-Stream-Id"], "stream-2");
  EXPECT_NE(master_.call_ports[0], master_.call_ports[1]);  // a connection per subscription
}

TEST_F(MesosSchedulerClientTest, FollowsARedirectToTheLeader) {
  FakeMaster leader(ioc_);
  master_.scripted.push_back({http::status::temporary_redirect,
                              "//" + leader.at.to_string() + "/master/api/v1/scheduler"});
  auto& client = start();
  subscribe(leader);
  EXPECT_EQ(master_.subscriptions.size(), 0u);
  EXPECT_EQ(leader.sub(0).request.target(), "/master/api/v1/scheduler");
  ASSERT_TRUE(client.master());
  EXPECT_EQ(client.master()->to_string(), leader.at.to_string());
  client.send(decline_call());
  ASSERT_TRUE(wait_for([&] { return leader.calls.size() == 1; }));
  EXPECT_EQ(leader.calls[0].target(), "/master/api/v1/scheduler");
}

TEST_F(MesosSchedulerClientTest, GivesUpAfterTooManyRedirects) {
  // Two masters that keep pointing at each other.
  FakeMaster other(ioc_);
  for (int i = 0; i < 2; ++i) {
    master_.scripted.push_back({http::status::temporary_redirect, "//" + other.at.to_string()});
    other.scripted.push_back({http::status::temporary_redirect, "//" + master_.at.to_string()});
  }
  config_.max_redirects = 2;
  // The first attempt follows two redirects and gives up on the third; the
  // second attempt (asking for the leader again) gets the stream.
  subscribe(master_);
  EXPECT_EQ(master_.subscribe_times.size(), 3u);
  EXPECT_EQ(other.subscribe_times.size(), 1u);
  EXPECT_EQ(find_master_calls_, 2);
}

// A restarted master answers 307 to itself until it is elected, then 503
// while it recovers: that is "no leader yet", asked again (ZooKeeper too)
// every no_leader_retry rather than counted as redirects and backed off
// (issue 10: the scheduler was subscribed 12 s after a master restart).
TEST_F(MesosSchedulerClientTest, AMasterWithoutALeaderYetIsAskedAgainPromptly) {
  for (int i = 0; i < 4; ++i) {
    master_.scripted.push_back({http::status::temporary_redirect,
                                "//" + master_.at.to_string() + "/master/api/v1/scheduler"});
  }
  master_.scripted.push_back(
      {http::status::service_unavailable, "", "Master has not finished recovery"});
  config_.max_redirects = 1;
  config_.no_leader_retry = milliseconds(20);
  config_.backoff_initial = milliseconds(30000);  // a backoff would not end within the test
  config_.backoff_max = milliseconds(30000);
  subscribe(master_);
  ASSERT_EQ(master_.subscribe_times.size(), 6u);
  EXPECT_EQ(find_master_calls_, 6);
  for (std::size_t i = 1; i < master_.subscribe_times.size(); ++i) {
    EXPECT_GE(master_.subscribe_times[i] - master_.subscribe_times[i - 1], milliseconds(20));
  }
  EXPECT_TRUE(disconnects_.empty());
}

// Past no_leader_wait the usual backoff applies again.
TEST_F(MesosSchedulerClientTest, AMasterWithoutALeaderForTooLongIsBackedOffFrom) {
  for (int i = 0; i < 12; ++i) {
    master_.scripted.push_back({http::status::service_unavailable, "", "No leader elected"});
  }
  config_.no_leader_retry = milliseconds(10);
  config_.no_leader_wait = milliseconds(60);
  config_.backoff_initial = milliseconds(400);
  config_.backoff_max = milliseconds(400);
  subscribe(master_);
  ASSERT_EQ(master_.subscribe_times.size(), 13u);
  EXPECT_GE(master_.subscribe_times[1] - master_.subscribe_times[0], milliseconds(10));
  // The last delays are backoffs, drawn from [200, 400] ms.
  EXPECT_GE(master_.subscribe_times[12] - master_.subscribe_times[11], milliseconds(200));
}

TEST_F(MesosSchedulerClientTest, MissedHeartbeatsCauseAResubscribeWithTheFrameworkId) {
  subscribe(master_, 0.05);  // watchdog: 5 x 50 ms
  ASSERT_TRUE(wait_for([&] { return master_.subscriptions.size() == 2; }));
  ASSERT_EQ(disconnects_.size(), 1u);
  EXPECT_NE(disconnects_[0].find("heartbeat"), std::string::npos) << disconnects_[0];
  const auto& again = master_.sub(1).call;
  EXPECT_EQ(again.framework_id, "fw-1");
  EXPECT_EQ(std::get<mesos::CallSubscribe>(again.payload).framework_info.id, "fw-1");
  EXPECT_EQ(std::get<mesos::CallSubscribe>(again.payload).framework_info.name, "etcd-test");
  EXPECT_EQ(master_.sub(1).request.count("Mesos-Stream-Id"), 0u);
}

TEST_F(MesosSchedulerClientTest, HeartbeatsKeepTheSubscription) {
  subscribe(master_, 0.05);
  // 20 heartbeats, one every 40 ms, each sent only after the previous one
  // was delivered: together longer than the 250 ms watchdog.
  for (int i = 0; i < 20; ++i) {
    const std::size_t before = events_.size();
    asio::steady_timer pace(ioc_, milliseconds(40));
    bool paced = false;
    pace.async_wait([&](auto) { paced = true; });
    ASSERT_TRUE(wait_for([&] { return paced; }));
    master_.sub(0).outbox.push(record(heartbeat_event()));
    ASSERT_TRUE(wait_for([&] { return events_.size() > before; }));
  }
  EXPECT_EQ(master_.subscriptions.size(), 1u);
  EXPECT_TRUE(disconnects_.empty());
}

// Issue 11: the client's own timing runs on the injected clock. Under a
// fake one, the heartbeat watchdog and the re-subscribe backoff wait exactly
// as long as the clock is moved, however much real time passes.
TEST_F(MesosSchedulerClientTest, UnderAFakeClockTheWatchdogAndTheBackoffWaitForTheClock) {
  FakeTimeSource& fake = fake_;
  config_.time = &fake;
  config_.backoff_initial = seconds(10);
  config_.backoff_max = seconds(60);
  auto advance = [&](std::chrono::milliseconds d) {
    fake.advance(d, [&] {
      ioc_.restart();
      ioc_.poll();
    });
  };
  auto real_pause = [&] {
    run_until(
        ioc_, [] { return false; }, milliseconds(300));
  };

  subscribe(master_, 15);  // watchdog: 5 x 15 s of the fake clock
  real_pause();
  advance(seconds(74));
  real_pause();
  EXPECT_EQ(client_->state_name(), "SUBSCRIBED");
  EXPECT_TRUE(disconnects_.empty());

  advance(seconds(1));
  ASSERT_TRUE(wait_for([&] { return disconnects_.size() == 1; }));
  EXPECT_NE(disconnects_[0].find("no event (not even a heartbeat) for 75000 ms"), std::string::npos)
      << disconnects_[0];

  // The first backoff is drawn from [5 s, 10 s] of the fake clock.
  real_pause();
  advance(milliseconds(4900));
  real_pause();
  EXPECT_EQ(master_.subscriptions.size(), 1u) << "re-subscribed before the backoff ended";
  advance(milliseconds(5100));
  ASSERT_TRUE(wait_for([&] { return master_.subscriptions.size() == 2; }));
  EXPECT_EQ(master_.sub(1).call.framework_id, "fw-1");
}

// The jitter comes from the injected generator: two clients with equal
// seeds back off equally, and the waits vary within [d/2, d].
TEST_F(MesosSchedulerClientTest, TheBackoffJitterComesFromTheInjectedGenerator) {
  FakeTimeSource& fake = fake_;
  config_.time = &fake;
  config_.backoff_initial = seconds(8);
  config_.backoff_max = seconds(8);
  master_at_ = Endpoint{"127.0.0.1", etcdmesos::testing::free_port()};  // nobody listens
  // The fake time of each retry, to 100 ms: the client waits on its backoff
  // when it is disconnected with one timer on the fake clock.
  auto retry_times = [&](uint64_t seed) {
    SeededRandom random(seed);
    config_.random = &random;
    start();
    std::vector<int64_t> at;
    const auto begin = fake.now();
    for (int retry = 0; retry < 4; ++retry) {
      if (!run_until(
              ioc_,
              [&] { return client_->state_name() == "DISCONNECTED" && fake.pending_timers() == 1; },
              milliseconds(10000))) {
        break;
      }
      while (fake.pending_timers() == 1) {
        fake.advance(milliseconds(100));
      }
      at.push_back(std::chrono::duration_cast<milliseconds>(fake.now() - begin).count());
    }
    client_->stop();
    client_.reset();
    config_.random = &random_;
    return at;
  };
  const auto first = retry_times(99);
  const auto again = retry_times(99);
  ASSERT_EQ(first.size(), 4u);
  EXPECT_EQ(first, again);
  std::vector<int64_t> gaps{first[0]};
  for (std::size_t i = 1; i < first.size(); ++i) {
    gaps.push_back(first[i] - first[i - 1]);
  }
  for (auto gap : gaps) {
    EXPECT_GE(gap, 4000);
    EXPECT_LE(gap, 8100);
  }
  EXPECT_NE(retry_times(100), first) << "another seed, other waits";
  EXPECT_FALSE(std::all_of(gaps.begin(), gaps.end(), [&](int64_t g) { return g == gaps[0]; }))
      << "no jitter";
}

TEST_F(MesosSchedulerClientTest, PresetFrameworkIdIsUsedOnTheFirstSubscribe) {
  config_.framework_info.id = "fw-old";
  start();
  ASSERT_TRUE(wait_for([&] { return master_.subscriptions.size() == 1; }));
  EXPECT_EQ(master_.sub(0).call.framework_id, "fw-old");
  EXPECT_EQ(std::get<mesos::CallSubscribe>(master_.sub(0).call.payload).framework_info.id,
            "fw-old");
}

TEST_F(MesosSchedulerClientTest, SendsBasicAuthOnEveryRequest) {
  config_.principal = "etcd-fw";
  config_.secret = "s3cret";
  auto& client = start();
  subscribe(master_);
  EXPECT_EQ(master_.sub(0).request[http::field::authorization], "Basic ZXRjZC1mdzpzM2NyZXQ=");
  client.send(decline_call());
  ASSERT_TRUE(wait_for([&] { return master_.calls.size() == 1; }));
  EXPECT_EQ(master_.calls[0][http::field::authorization], "Basic ZXRjZC1mdzpzM2NyZXQ=");
}

// Credentials go only to a master that was configured or detected: a 307 to
// another host is not followed with them; the leader is looked for again, and
// once the detector names that master the client subscribes to it.
TEST_F(MesosSchedulerClientTest, CredentialsAreNotSentToAMasterOnlyARedirectNamed) {
  config_.principal = "etcd-fw";
  config_.secret = "s3cret";
  config_.no_leader_retry = milliseconds(20);
  FakeMaster other(ioc_);
  for (int i = 0; i < 50; ++i) {
    master_.scripted.push_back({http::status::temporary_redirect,
                                "//" + other.at.to_string() + "/master/api/v1/scheduler"});
  }
  start();
  ASSERT_TRUE(wait_for([&] { return master_.subscribe_times.size() >= 3; }));
  EXPECT_TRUE(other.subscribe_times.empty());
  EXPECT_GE(find_master_calls_, 3);
  use_master(other.at);  // ZooKeeper now names it
  subscribe(other);
  EXPECT_EQ(other.sub(0).request[http::field::authorization], "Basic ZXRjZC1mdzpzM2NyZXQ=");
}

TEST_F(MesosSchedulerClientTest, WithoutCredentialsARedirectIsFollowed) {
  FakeMaster other(ioc_);
  master_.scripted.push_back({http::status::temporary_redirect, "//" + other.at.to_string()});
  subscribe(other);
  EXPECT_EQ(find_master_calls_, 1);
}

TEST_F(MesosSchedulerClientTest, RetriesAfterAnErrorWithGrowingBackoff) {
  master_.scripted.push_back({http::status::internal_server_error, ""});
  master_.scripted.push_back({http::status::internal_server_error, ""});
  subscribe(master_);
  ASSERT_EQ(master_.subscribe_times.size(), 3u);
  EXPECT_EQ(find_master_calls_, 3);
  // Delays are drawn from [d/2, d] with d = 20 ms, then 40 ms.
  EXPECT_GE(master_.subscribe_times[1] - master_.subscribe_times[0], milliseconds(10));
  EXPECT_GE(master_.subscribe_times[2] - master_.subscribe_times[1], milliseconds(20));
  EXPECT_TRUE(disconnects_.empty()) << "never subscribed, so never disconnected";
}

// A removed framework's SUBSCRIBE is answered 200 with one ERROR event and
// no Mesos-Stream-Id (reference §13); the scheduler must hear that ERROR.
TEST_F(MesosSchedulerClientTest, ARefusedSubscriptionWithoutStreamIdDeliversItsError) {
  master_.scripted.push_back(
      {http::status::ok, "",
       recordio::encode(R"({"type":"ERROR","error":{"message":"Framework has been removed"}})")});
  start();
  ASSERT_TRUE(wait_for([&] { return !events_.empty(); }));
  EXPECT_EQ(mesos::type_name(events_[0]), "ERROR");
  EXPECT_EQ(std::get<mesos::EventError>(events_[0]).message, "Framework has been removed");
  EXPECT_NE(client_->state_name(), "SUBSCRIBED");
}

TEST_F(MesosSchedulerClientTest, AnyOtherEventWithoutStreamIdIsRefused) {
  master_.scripted.push_back({http::status::ok, "", record(subscribed_event("fw-1", 15))});
  start();
  ASSERT_TRUE(wait_for([&] { return master_.subscriptions.size() == 1; }));
  EXPECT_TRUE(events_.empty()) << "a SUBSCRIBED without a stream id is not believed";
}

TEST_F(MesosSchedulerClientTest, MalformedRecordDropsTheConnectionAndResubscribes) {
  subscribe(master_);
  master_.sub(0).outbox.push("12x\n{}");
  ASSERT_TRUE(wait_for([&] { return master_.subscriptions.size() == 2; }));
  ASSERT_EQ(disconnects_.size(), 1u);
  EXPECT_NE(disconnects_[0].find("malformed"), std::string::npos) << disconnects_[0];

  // A record with a valid frame but no valid event in it.
  master_.sub(1).outbox.push(recordio::encode("{\"type\": 5}"));
  ASSERT_TRUE(wait_for([&] { return master_.subscriptions.size() == 3; }));
  EXPECT_EQ(events_.size(), 1u);  // only the first SUBSCRIBED
}

TEST_F(MesosSchedulerClientTest, StreamEndNotifiesAndResubscribes) {
  subscribe(master_);
  master_.sub(0).outbox.close();
  ASSERT_TRUE(wait_for([&] { return master_.subscriptions.size() == 2; }));
  ASSERT_EQ(disconnects_.size(), 1u);
  EXPECT_NE(disconnects_[0].find("ended the event stream"), std::string::npos);
  EXPECT_EQ(master_.sub(1).call.framework_id, "fw-1");
}

TEST_F(MesosSchedulerClientTest, LostMasterHostIsRetried) {
  subscribe(master_);
  master_.stop();  // the host vanishes: stream cut, new connections refused
  ASSERT_TRUE(wait_for([&] { return disconnects_.size() == 1; }));
  EXPECT_EQ(client_->state_name() == "SUBSCRIBED", false);
  // A new leader appears; the client finds it on its next attempt.
  FakeMaster next(ioc_);
  master_at_ = next.at;
  subscribe(next);
  EXPECT_EQ(next.sub(0).call.framework_id, "fw-1");
  client_->send(decline_call());
  ASSERT_TRUE(wait_for([&] { return next.calls.size() == 1; }));
  EXPECT_EQ(master_.calls.size(), 0u);
}

TEST_F(MesosSchedulerClientTest, ErrorEventIsDeliveredAndStopEndsTheClient) {
  on_event_ = [this](const mesos::Event& e) {
    if (std::holds_alternative<mesos::EventError>(e)) {
      client_->stop();
    }
  };
  start();
  ASSERT_TRUE(wait_for([&] { return master_.subscriptions.size() == 1; }));
  master_.sub(0).outbox.push(record(error_event("Framework has been removed")));
  ASSERT_TRUE(wait_for([&] { return events_.size() == 1; }));
  EXPECT_EQ(std::get<mesos::EventError>(events_[0]).message, "Framework has been removed");
  EXPECT_EQ(client_->state_name(), "DISCONNECTED");
  // Run the loop a while: no new SUBSCRIBE, no callback.
  asio::steady_timer quiet(ioc_, milliseconds(300));
  bool done = false;
  quiet.async_wait([&](auto) { done = true; });
  ASSERT_TRUE(wait_for([&] { return done; }));
  EXPECT_EQ(master_.subscriptions.size(), 1u);
  EXPECT_TRUE(disconnects_.empty());
}

TEST_F(MesosSchedulerClientTest, ErrorAfterSubscribedEndsTheSubscription) {
  subscribe(master_);
  master_.sub(0).outbox.push(record(error_event("Framework failed over")));
  ASSERT_TRUE(wait_for([&] { return master_.subscriptions.size() == 2; }));
  ASSERT_EQ(events_.size(), 2u);
  EXPECT_EQ(mesos::type_name(events_[1]), "ERROR");
  ASSERT_EQ(disconnects_.size(), 1u);
  EXPECT_NE(disconnects_[0].find("Framework failed over"), std::string::npos);
}

TEST_F(MesosSchedulerClientTest, StopClosesTheStreamWithoutCallbacks) {
  subscribe(master_);
  client_->stop();
  EXPECT_EQ(client_->state_name(), "DISCONNECTED");
  // The master notices the closed connection when a write fails (the first
  // write after the peer left may still succeed): keep writing heartbeats.
  ASSERT_TRUE(wait_for([&] {
    if (master_.sub(0).outbox.size() == 0) {
      master_.sub(0).outbox.push(record(heartbeat_event()));
    }
    return master_.sub(0).ended;
  }));
  EXPECT_EQ(events_.size(), 1u);
  EXPECT_TRUE(disconnects_.empty());
  client_->send(decline_call());
  EXPECT_EQ(client_->queued_calls(), 0u);
}

TEST_F(MesosSchedulerClientTest, NoMasterKnownIsRetried) {
  int asked = 0;
  config_.find_master = [&](milliseconds) -> awaitable<std::optional<Endpoint>> {
    ++asked;
    co_return asked < 3 ? std::nullopt : std::optional<Endpoint>(master_.at);
  };
  subscribe(master_);
  EXPECT_EQ(asked, 3);
}

// ------------------------------------------------- following the leader in ZooKeeper

// The client follows a MasterDetector on a real ZooKeeper, where the test
// registers fake masters as Mesos masters do.
class MesosSchedulerClientLeaderTest : public MesosSchedulerClientTest {
 protected:
  static void SetUpTestSuite() { zk_server_ = new ZooKeeperServer(); }
  static void TearDownTestSuite() {
    delete zk_server_;
    zk_server_ = nullptr;
  }

  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::string("/") + info->name() + "/mesos";
    masters_zk_ =
        std::make_unique<ZkClient>(ioc_.get_executor(), zk_server_->connect_string(), seconds(10));
    ASSERT_TRUE(run_coro(ioc_, masters_zk_->wait_connected(seconds(10)), seconds(15)));
    ASSERT_TRUE(run_coro(ioc_, masters_zk_->ensure_path(path_)));
    auto detector = MasterDetector::from_spec(ioc_.get_executor(), zk_server_->url(path_));
    ASSERT_TRUE(detector) << detector.error().message;
    detector_ = std::move(*detector);
    config_.find_master = [this](milliseconds wait) -> awaitable<std::optional<Endpoint>> {
      ++find_master_calls_;
      co_return co_await detector_->current_leader(wait);
    };
    config_.watch_master = [this](std::function<void(std::optional<Endpoint>)> listener) {
      detector_->on_leader_change(std::move(listener));
    };
  }

  void TearDown() override {
    if (client_) {
      client_->stop();
    }
  }

  // Registers a master as Mesos does: an ephemeral sequential json.info_
  // node; returns its path.
  std::string register_master(const Endpoint& at) {
    mesos::MasterInfo info;
    info.id = "master-" + at.to_string();
    info.port = at.port;
    info.address = mesos::Address{std::nullopt, at.host, at.port};
    auto created =
        run_coro(ioc_, masters_zk_->create(path_ + "/json.info_", mesos::encode(info), true, true));
    EXPECT_TRUE(created) << created.error().message;
    return created ? *created : std::string();
  }

  static ZooKeeperServer* zk_server_;
  std::string path_;
  std::unique_ptr<ZkClient> masters_zk_;  // the "masters" writing their nodes
  std::unique_ptr<MasterDetector> detector_;
};

ZooKeeperServer* MesosSchedulerClientLeaderTest::zk_server_ = nullptr;

// Issue 11: a new leader was noticed only when the old master's stream broke
// or its heartbeats were missed; a deposed master that stays up kept the
// framework on it.
TEST_F(MesosSchedulerClientLeaderTest, ANewLeaderEndsTheSubscriptionAtOnce) {
  FakeMaster next(ioc_);
  const std::string first = register_master(master_.at);
  register_master(next.at);
  subscribe(master_);
  ASSERT_EQ(master_.subscriptions.size(), 1u);

  const auto moved_at = Clock::now();
  ASSERT_TRUE(run_coro(ioc_, masters_zk_->remove(first)));
  ASSERT_TRUE(wait_for([&] { return next.subscriptions.size() == 1; }));
  EXPECT_LT(next.subscribe_times[0] - moved_at, seconds(1));
  ASSERT_EQ(disconnects_.size(), 1u);
  EXPECT_NE(disconnects_[0].find("leading master is now " + next.at.to_string()), std::string::npos)
      << disconnects_[0];
  EXPECT_EQ(next.sub(0).call.framework_id, "fw-1");
  EXPECT_EQ(master_.subscriptions.size(), 1u);
  next.sub(0).outbox.push(record(subscribed_event("fw-1")));
  ASSERT_TRUE(wait_for([&] { return client_->state_name() == "SUBSCRIBED"; }));
  EXPECT_EQ(client_->master(), next.at);
}

}  // namespace
}  // namespace etcdmesos::io
