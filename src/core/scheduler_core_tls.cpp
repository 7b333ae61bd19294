// Certificate requests (issue 13, TLS): whether a member's executor gets
// its certificate signed. The key never leaves the member's agent; what the
// scheduler must make sure of is that a certificate it signs can only speak
// for the member that asked, from where that member runs.
#include "core/scheduler_core.hpp"

#include <algorithm>

namespace etcdmesos::core {

namespace {

// "127.a.b.c": an IPv4 loopback address (dotted quad, each part 0..255).
bool is_ipv4_loopback(const std::string& host) {
  int parts = 0;
  std::size_t start = 0;
  while (start <= host.size()) {
    const auto dot = std::min(host.find('.', start), host.size());
    const auto part = host.substr(start, dot - start);
    if (part.empty() || part.size() > 3 ||
        part.find_first_not_of("0123456789") != std::string::npos || std::stoi(part) > 255 ||
        (parts == 0 && part != "127")) {
      return false;
    }
    ++parts;
    start = dot + 1;
  }
  return parts == 4;
}

}  // namespace

std::vector<std::string> certificate_names_for(const std::string& host) {
  if (is_ipv4_loopback(host) && host != "127.0.0.1") {
    return {host, "127.0.0.1"};
  }
  return {host};
}

std::optional<std::string> certificate_refusal(const Config& config,
                                               const std::vector<Member>& members,
                                               const CertificateRequested& request) {
  if (!config.tls) {
    return "this scheduler has no CA (-etcd-ca-cert-file): it signs no certificate";
  }
  if (!request.problem.empty()) {
    return request.problem;
  }
  auto member = std::find_if(members.begin(), members.end(),
                             [&](const Member& m) { return m.task_id == request.task_id; });
  if (member == members.end() || means_member_lost(member->state)) {
    return "task '" + request.task_id + "' is no running member of this framework";
  }
  if (request.executor_id != executor_id_for(member->task_id) ||
      request.agent_id != member->agent_id) {
    return "the request for task '" + request.task_id + "' came from executor '" +
           request.executor_id + "' on agent '" + request.agent_id +
           "', not from the task's own executor on agent '" + member->agent_id + "'";
  }
  if (request.common_name != member->name) {
    return "the request names '" + request.common_name + "', the member is '" + member->name + "'";
  }
  if (request.ip_sans.empty() && request.dns_sans.empty()) {
    return "the request names no address; the member's is '" + member->host + "'";
  }
  const auto allowed = certificate_names_for(member->host);
  for (const auto* names : {&request.ip_sans, &request.dns_sans}) {
    for (const auto& name : *names) {
      if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
        return "the request names the address '" + name + "'; the member's is '" + member->host +
               "'";
      }
    }
  }
  return std::nullopt;
}

void SchedulerCore::on(const CertificateRequested& e, Millis, Effects& out) {
  if (auto reason = certificate_refusal(config_, members_, e)) {
    out.push_back(
        RefuseCertificate{e.agent_id, e.executor_id, e.task_id, e.request_id, std::move(*reason)});
    return;
  }
  out.push_back(IssueCertificate{e.agent_id, e.executor_id, e.task_id, e.request_id, e.csr_pem,
                                 config_.certificate_validity});
}

}  // namespace etcdmesos::core
