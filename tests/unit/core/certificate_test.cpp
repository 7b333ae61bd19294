// Certificate requests (scheduler_core_tls.cpp, issue 13): the core signs
// only a request that is the member's own, sent by its own executor on its
// agent and naming nothing but the member's name and host.
#include "core_harness.hpp"

#include <gtest/gtest.h>

namespace etcdmesos::core::testing {
namespace {

Config tls_config() {
  Config c = test_config();
  c.tls = true;
  c.certificate_validity = std::chrono::hours(24 * 7);
  return c;
}

// The request member `m`'s own executor would send.
CertificateRequested own_request(const Member& m, uint64_t request_id = 7) {
  CertificateRequested r;
  r.agent_id = m.agent_id;
  r.executor_id = executor_id_for(m.task_id);
  r.task_id = m.task_id;
  r.request_id = request_id;
  r.common_name = m.name;
  r.ip_sans = {m.host};
  r.csr_pem = "-----BEGIN CERTIFICATE REQUEST-----\n...";
  return r;
}

std::string refused(Harness& h, const CertificateRequested& r) {
  auto out = h.step(r);
  EXPECT_EQ(count<IssueCertificate>(out), 0u);
  auto refusals = only<RefuseCertificate>(out);
  if (refusals.size() != 1) {
    ADD_FAILURE() << "expected one refusal, got " << refusals.size();
    return "";
  }
  EXPECT_EQ(refusals[0].task_id, r.task_id);
  EXPECT_EQ(refusals[0].request_id, r.request_id);
  EXPECT_EQ(refusals[0].agent_id, r.agent_id) << "the answer goes to whoever asked";
  EXPECT_EQ(refusals[0].executor_id, r.executor_id);
  return refusals[0].reason;
}

TEST(Certificates, TheMembersOwnRequestIsSignedForTheConfiguredValidity) {
  Harness h(tls_config());
  h.bring_up(3);
  const auto m = h.core.members()[1];
  auto out = h.step(own_request(m));
  auto issued = only<IssueCertificate>(out);
  ASSERT_EQ(issued.size(), 1u);
  EXPECT_EQ(issued[0], (IssueCertificate{m.agent_id, executor_id_for(m.task_id), m.task_id, 7,
                                         own_request(m).csr_pem, std::chrono::hours(24 * 7)}));
  EXPECT_EQ(count<RefuseCertificate>(out), 0u);
}

TEST(Certificates, AMemberStillStartingMayAskItsExecutorAsksBeforeEtcdRuns) {
  Harness h(tls_config());
  h.step(Subscribed{"fw-1"});
  h.step(OffersReceived{{offer("o1", 1), offer("o2", 2), offer("o3", 3)}});
  ASSERT_FALSE(h.core.members().empty());
  const auto m = h.core.members()[0];
  ASSERT_NE(m.state, TaskState::kRunning);
  EXPECT_TRUE(m.client_url().starts_with("https://")) << "a member of a scheduler with a CA";
  EXPECT_EQ(count<IssueCertificate>(h.step(own_request(m))), 1u);
}

TEST(Certificates, WithoutACANothingIsSigned) {
  Harness h(test_config());
  h.bring_up(3);
  const auto reason = refused(h, own_request(h.core.members()[0]));
  EXPECT_NE(reason.find("no CA"), std::string::npos) << reason;
}

TEST(Certificates, ARequestTheShellCouldNotReadIsRefusedWithItsReason) {
  Harness h(tls_config());
  h.bring_up(3);
  auto r = own_request(h.core.members()[0]);
  r.problem = "the request's signature does not verify";
  EXPECT_EQ(refused(h, r), r.problem);
}

TEST(Certificates, AnotherExecutorOrAgentCannotAskForAMember) {
  Harness h(tls_config());
  h.bring_up(3);
  const auto members = h.core.members();
  // The executor of member 2 asks in the name of member 1's task.
  auto r = own_request(members[0]);
  r.executor_id = executor_id_for(members[1].task_id);
  r.agent_id = members[1].agent_id;
  EXPECT_NE(refused(h, r).find("not from the task's own executor"), std::string::npos);
  // The right executor ID, but from another agent (a framework cannot
  // choose the agent Mesos names).
  r = own_request(members[0]);
  r.agent_id = members[2].agent_id;
  EXPECT_NE(refused(h, r).find("not from the task's own executor"), std::string::npos);
}

TEST(Certificates, UnknownAndEndedTasksAreRefused) {
  Harness h(tls_config());
  h.bring_up(3);
  auto r = own_request(h.core.members()[0]);
  r.task_id = "etcd-9-nope";
  r.executor_id = executor_id_for(r.task_id);
  EXPECT_NE(refused(h, r).find("no running member"), std::string::npos);

  const auto gone = h.core.members()[2];
  h.step(status(gone.task_id, gone.agent_id, TaskState::kFailed, "u-gone"));
  EXPECT_NE(refused(h, own_request(gone)).find("no running member"), std::string::npos);
}

TEST(Certificates, ANameOrAddressThatIsNotTheMembersOwnIsRefused) {
  Harness h(tls_config());
  h.bring_up(3);
  const auto members = h.core.members();
  const auto& m = members[0];

  auto r = own_request(m);
  r.common_name = members[1].name;
  EXPECT_NE(refused(h, r).find("the member is '" + m.name + "'"), std::string::npos);

  r = own_request(m);
  r.ip_sans.push_back(members[1].host);  // also another member's host
  EXPECT_NE(refused(h, r).find("'" + members[1].host + "'"), std::string::npos);

  r = own_request(m);
  r.ip_sans.clear();
  r.dns_sans = {"scheduler.example"};
  EXPECT_NE(refused(h, r).find("scheduler.example"), std::string::npos);

  r = own_request(m);
  r.ip_sans.clear();
  EXPECT_NE(refused(h, r).find("names no address"), std::string::npos);

  // A member on a loopback address also names 127.0.0.1 (its peer
  // connections come from there); one on another address may not.
  EXPECT_EQ(certificate_names_for("127.0.0.3"),
            (std::vector<std::string>{"127.0.0.3", "127.0.0.1"}));
  EXPECT_EQ(certificate_names_for("127.0.0.1"), std::vector<std::string>{"127.0.0.1"});
  EXPECT_EQ(certificate_names_for("10.0.0.5"), std::vector<std::string>{"10.0.0.5"});
  EXPECT_EQ(certificate_names_for("127.example"), std::vector<std::string>{"127.example"});
  EXPECT_EQ(certificate_names_for("127.0.0.300"), std::vector<std::string>{"127.0.0.300"});
  r = own_request(m);
  r.ip_sans.push_back("127.0.0.1");
  ASSERT_TRUE(m.host.starts_with("127."));
  EXPECT_EQ(count<IssueCertificate>(h.step(r)), 1u);
  Config remote = tls_config();
  Member far = m;
  far.host = "10.0.0.5";
  r = own_request(far);
  r.ip_sans.push_back("127.0.0.1");
  EXPECT_TRUE(certificate_refusal(remote, {far}, r).has_value());
  EXPECT_FALSE(certificate_refusal(remote, {far}, own_request(far)).has_value());

  // The member's host as a DNS name is its own too (agents named by host name).
  r = own_request(m);
  r.ip_sans.clear();
  r.dns_sans = {m.host};
  EXPECT_EQ(count<IssueCertificate>(h.step(r)), 1u);
}

}  // namespace
}  // namespace etcdmesos::core::testing
