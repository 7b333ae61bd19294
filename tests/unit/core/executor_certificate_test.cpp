// The executor's certificate rules (core/executor_core.hpp, issue 13): with
// TLS, etcd starts only once the member's certificate is in place; an
// unanswered request is sent again, a refusal or a long silence fails the
// task, and the certificate is renewed at two thirds of its lifetime without
// touching etcd.
#include "core/executor_core.hpp"
#include "core_harness.hpp"

#include <gtest/gtest.h>

namespace etcdmesos::core {
namespace {

using namespace std::chrono_literals;
using Effects = std::vector<ExecutorEffect>;

class ExecutorCertificateTest : public ::testing::Test {
 protected:
  ExecutorCertificateTest() : core_(config()) {}

  static ExecutorConfig config() {
    ExecutorConfig c;
    c.certificate_retry = 5s;
    c.certificate_wait = 60s;
    return c;
  }

  Effects step(const ExecutorEvent& e) { return core_.step(e, now_); }
  Effects advance(Millis by) {
    now_ += by;
    return core_.tick(now_);
  }
  Effects launch_tls() {
    return step(TaskLaunched{"t1", std::nullopt, TaskLaunched::Member{"m0", "h:2379", true}, ""});
  }
  // The certificate of `request` granted, valid 30 days from now.
  Effects grant(uint64_t request, Millis lifetime = 720h, std::optional<Millis> remaining = {}) {
    return step(CertificateAnswered{request, true, "", lifetime, remaining.value_or(lifetime)});
  }

  ExecutorCore core_;
  Millis now_{0};
};

TEST_F(ExecutorCertificateTest, EtcdStartsOnlyOnceTheCertificateIsInPlace) {
  const auto launched = launch_tls();
  EXPECT_TRUE(testing::only<SpawnEtcd>(launched).empty()) << "no etcd without its certificate";
  const auto asked = testing::only<RequestCertificate>(launched);
  ASSERT_EQ(asked.size(), 1u);
  const auto starting = testing::only<SendUpdate>(launched);
  ASSERT_EQ(starting.size(), 1u);
  EXPECT_EQ(starting[0].state, TaskState::kStarting);
  EXPECT_NE(starting[0].message.find("certificate"), std::string::npos);

  const auto granted = grant(asked[0].request_id);
  ASSERT_EQ(testing::only<SpawnEtcd>(granted).size(), 1u);
  EXPECT_FALSE(testing::only<SpawnEtcd>(granted)[0].force_new_cluster);
}

TEST_F(ExecutorCertificateTest, WithoutTlsEtcdStartsAtOnceAndNoCertificateIsAsked) {
  const auto launched =
      step(TaskLaunched{"t1", std::nullopt, TaskLaunched::Member{"m0", "h:2379", false}, ""});
  EXPECT_EQ(testing::only<SpawnEtcd>(launched).size(), 1u);
  EXPECT_TRUE(testing::only<RequestCertificate>(launched).empty());
  for (int i = 0; i < 30; ++i) {
    EXPECT_TRUE(testing::only<RequestCertificate>(advance(10s)).empty());
  }
}

TEST_F(ExecutorCertificateTest, AnUnansweredRequestIsSentAgainAndALateAnswerForAnotherIsIgnored) {
  const auto id = testing::only<RequestCertificate>(launch_tls()).at(0).request_id;
  EXPECT_EQ(core_.next_deadline(), now_ + 5s);
  EXPECT_TRUE(testing::only<RequestCertificate>(advance(4s)).empty());
  const auto again = testing::only<RequestCertificate>(advance(1s));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].request_id, id) << "the same request, sent again";
  EXPECT_TRUE(testing::only<SpawnEtcd>(grant(id + 100)).empty())
      << "an answer to no request is ignored";
  EXPECT_EQ(testing::only<SpawnEtcd>(grant(id)).size(), 1u);
  EXPECT_TRUE(testing::only<SpawnEtcd>(grant(id)).empty()) << "a duplicate answer starts nothing";
}

TEST_F(ExecutorCertificateTest, ARefusalFailsTheTaskWithTheSchedulersReason) {
  const auto id = testing::only<RequestCertificate>(launch_tls()).at(0).request_id;
  const auto refused = step(CertificateAnswered{id, false, "the request names '10.0.0.9'", {}, {}});
  EXPECT_TRUE(testing::only<SpawnEtcd>(refused).empty());
  const auto updates = testing::only<SendUpdate>(refused);
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].state, TaskState::kFailed);
  EXPECT_TRUE(updates[0].terminal);
  EXPECT_NE(updates[0].message.find("10.0.0.9"), std::string::npos) << updates[0].message;
}

TEST_F(ExecutorCertificateTest, NoAnswerWithinTheWaitFailsTheTask) {
  launch_tls();
  Effects out;
  for (int i = 0; i < 11 && testing::only<SendUpdate>(out).empty(); ++i) {
    out = advance(5s);
  }
  EXPECT_TRUE(testing::only<SendUpdate>(out).empty()) << "not before the wait is over";
  out = advance(5s);
  const auto updates = testing::only<SendUpdate>(out);
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].state, TaskState::kFailed);
  EXPECT_NE(updates[0].message.find("no certificate"), std::string::npos) << updates[0].message;
  EXPECT_TRUE(testing::only<SpawnEtcd>(out).empty());
}

TEST_F(ExecutorCertificateTest, AKillWhileWaitingEndsTheTaskWithoutStartingEtcd) {
  const auto id = testing::only<RequestCertificate>(launch_tls()).at(0).request_id;
  const auto killed = step(KillRequested{"t1", std::nullopt});
  const auto updates = testing::only<SendUpdate>(killed);
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].state, TaskState::kKilled);
  EXPECT_TRUE(testing::only<SpawnEtcd>(grant(id)).empty())
      << "a grant after the kill starts nothing";
  EXPECT_TRUE(testing::only<RequestCertificate>(advance(10s)).empty());
}

TEST_F(ExecutorCertificateTest, RenewedAtTwoThirdsOfItsLifetimeWithoutTouchingEtcd) {
  const auto id = testing::only<RequestCertificate>(launch_tls()).at(0).request_id;
  grant(id, 30h);
  step(EtcdServing{core_.generation(), 42, 10});
  ASSERT_EQ(core_.phase(), ExecutorPhase::kRunning);
  EXPECT_EQ(core_.next_deadline(), now_ + 20h);
  EXPECT_TRUE(testing::only<RequestCertificate>(advance(20h - 1s)).empty());
  const auto renew = advance(1s);
  const auto asked = testing::only<RequestCertificate>(renew);
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_NE(asked[0].request_id, id) << "a new request";
  const auto renewed = grant(asked[0].request_id, 30h);
  EXPECT_TRUE(testing::only<SpawnEtcd>(renewed).empty());
  EXPECT_TRUE(testing::only<SignalEtcd>(renewed).empty()) << "etcd reads the new files itself";
  EXPECT_TRUE(testing::only<SendUpdate>(renewed).empty());
  EXPECT_EQ(core_.next_deadline(), now_ + 20h);
}

TEST_F(ExecutorCertificateTest, ACertificateWithLessThanAThirdLeftIsRenewedHalfwayToItsEnd) {
  const auto id = testing::only<RequestCertificate>(launch_tls()).at(0).request_id;
  // 24 h left of 31 days (a long wait, or a short validity whose five
  // minutes of backdating count in its lifetime): renewed in 12 h.
  grant(id, 744h, 24h);
  EXPECT_EQ(core_.next_deadline(), now_ + 12h);
  step(EtcdServing{core_.generation(), 42, 10});
  const auto asked = testing::only<RequestCertificate>(advance(12h));
  ASSERT_EQ(asked.size(), 1u);
  // A one-minute certificate backdated by five: renewed after 30 s, not in a
  // loop.
  grant(asked[0].request_id, 6min, 1min);
  EXPECT_EQ(core_.next_deadline(), now_ + 30s);
}

TEST_F(ExecutorCertificateTest, AFailedRenewalKeepsEtcdRunningAndIsTriedAgain) {
  const auto id = testing::only<RequestCertificate>(launch_tls()).at(0).request_id;
  grant(id, 30h);
  step(EtcdServing{core_.generation(), 42, 10});
  const auto asked = testing::only<RequestCertificate>(advance(20h)).at(0).request_id;
  const auto failed = step(CertificateAnswered{asked, false, "scheduler away", {}, {}});
  EXPECT_TRUE(testing::only<SendUpdate>(failed).empty()) << "the task goes on";
  EXPECT_TRUE(testing::only<SignalEtcd>(failed).empty());
  EXPECT_EQ(core_.phase(), ExecutorPhase::kRunning);
  EXPECT_EQ(testing::only<RequestCertificate>(advance(5s)).size(), 1u) << "asked again";
  // A renewal that gets no answer at all is sent again for ever, never
  // failing the running task.
  for (int i = 0; i < 40; ++i) {
    const auto out = advance(5s);
    EXPECT_TRUE(testing::only<SendUpdate>(out).empty());
  }
  EXPECT_EQ(core_.phase(), ExecutorPhase::kRunning);
}

}  // namespace
}  // namespace etcdmesos::core
