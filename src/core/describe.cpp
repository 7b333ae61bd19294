// One readable line per event and effect, for logs and golden scenario
// output. Stable wording: scenario tests compare these lines verbatim.
#include "core/rng.hpp"
#include "core/scheduler_core.hpp"
#include "core/types.hpp"

#include <charconv>
#include <type_traits>

namespace etcdmesos::core {

namespace {

std::string number(double value) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  return ec == std::errc{} ? std::string(buf, end) : std::string("?");
}

std::string seconds(Millis d) {
  return number(static_cast<double>(d.count()) / 1000.0) + "s";
}

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) {
      out += sep;
    }
    out += item;
  }
  return out;
}

std::string ports(const std::vector<PortRange>& ranges) {
  std::vector<std::string> parts;
  for (const auto& r : ranges) {
    parts.push_back(r.begin == r.end ? std::to_string(r.begin)
                                     : std::to_string(r.begin) + "-" + std::to_string(r.end));
  }
  return parts.empty() ? "none" : join(parts, ",");
}

std::string offer(const OfferView& o) {
  return o.offer_id + " agent " + o.agent_id + " (" + o.hostname + ") cpus=" + number(o.cpus) +
         " mem=" + number(o.mem_mb) + " disk=" + number(o.disk_mb) + " ports=" + ports(o.ports);
}

std::string etcd_id(uint64_t id) {
  return to_hex(id, 16);
}

std::string event_line(const Subscribed& e) {
  return "subscribed framework " + e.framework_id;
}
std::string event_line(const Disconnected&) {
  return "disconnected";
}
std::string event_line(const OffersReceived& e) {
  std::vector<std::string> parts;
  for (const auto& o : e.offers) {
    parts.push_back(offer(o));
  }
  return "offers " + std::to_string(e.offers.size()) + (parts.empty() ? "" : ": ") +
         join(parts, "; ");
}
std::string event_line(const OfferRescinded& e) {
  return "rescind offer " + e.offer_id;
}
std::string event_line(const ReseedReport& e);

std::string event_line(const StatusUpdate& e) {
  std::string line =
      "status " + e.task_id + " " + std::string(to_string(e.state)) + " agent " + e.agent_id;
  if (e.uuid) {
    line += " uuid=" + bytes_to_hex(*e.uuid, 16);
  }
  if (!e.reason.empty()) {
    line += " reason=" + e.reason;
  }
  if (!e.message.empty()) {
    line += " message=\"" + e.message + "\"";
  }
  if (e.reseed) {
    line += "; " + event_line(*e.reseed);
  }
  return line;
}
std::string event_line(const AgentLost& e) {
  return "agent lost " + e.agent_id;
}
std::string event_line(const HealthChecked& e) {
  const auto& r = e.result;
  std::string line = "health check " + std::to_string(e.check_id) + ": ";
  line += r.healthy ? "healthy" : "unhealthy (" + r.reason + ")";
  std::vector<std::string> names;
  for (const auto& m : r.membership) {
    names.push_back(m.name.empty() ? etcd_id(m.id) + "(unstarted)" : m.name);
  }
  return line + " membership=[" + join(names, ",") + "]";
}
std::string event_line(const MemberAdded& e) {
  return e.ok ? "member added " + e.name + " id=" + etcd_id(e.etcd_id)
              : "member add " + e.name + " failed: " + e.error;
}
std::string event_line(const MemberRemoved& e) {
  return e.ok ? "member removed id=" + etcd_id(e.etcd_id)
              : "member remove id=" + etcd_id(e.etcd_id) + " failed: " + e.error;
}

std::string event_line(const MemberStatuses& e) {
  std::vector<std::string> parts;
  for (const auto& m : e.members) {
    parts.push_back(m.reachable ? m.name + " raft_index=" + std::to_string(m.raft_index)
                                : m.name + " unreachable");
  }
  return "member statuses " + std::to_string(e.query_id) + ": " + join(parts, ", ");
}
std::string event_line(const ReseedReport& e) {
  return "reseed " + std::to_string(e.reseed_id) + " " + to_string(e.action) + " report from " +
         e.task_id + ": " + (e.ok ? "ok" : "failed") +
         (e.message.empty() ? "" : " (" + e.message + ")") +
         (e.data_untouched ? ", data untouched" : "") +
         (e.ok && e.action == ReseedAction::kFence
              ? ", stopped at raft index " + std::to_string(e.raft_index)
              : "");
}
std::string event_line(const OperatorReseed& e) {
  return e.skip_silent ? "operator requests a reseed, skipping silent members"
                       : "operator requests a reseed";
}
std::string event_line(const OperatorUnlock&) {
  return "operator unlocks";
}
std::string event_line(const OperatorRestore& e) {
  return "operator restores from " + e.uri;
}

std::string event_line(const OperatorResize& e) {
  return "operator sets the cluster size to " + std::to_string(e.size);
}

std::string event_line(const ClusterSizePersisted& e) {
  return e.ok ? "cluster size " + std::to_string(e.size) + " persisted"
              : "persisting cluster size " + std::to_string(e.size) + " failed: " + e.error;
}

std::string event_line(const Recovered& e) {
  std::vector<std::string> names;
  for (const auto& m : e.members) {
    names.push_back(m.name + "(" + m.task_id + "@" + m.agent_id + ")");
  }
  return "recovered framework " + (e.framework_id.empty() ? "(none)" : e.framework_id) +
         " members=[" + join(names, ",") + "]" +
         (e.cluster_size ? " cluster size " + std::to_string(*e.cluster_size) : "");
}
std::string event_line(const FrameworkIdPersisted& e) {
  return e.ok ? "framework id " + e.framework_id + " persisted"
              : "persisting framework id " + e.framework_id + " failed: " + e.error;
}
std::string event_line(const TaskPersisted& e) {
  const std::string what = (e.removed ? "forgetting task " : "persisting task ") + e.task_id;
  return e.ok ? what + " done" : what + " failed: " + e.error;
}
std::string event_line(const HealthObserved& e) {
  std::vector<std::string> names;
  for (const auto& m : e.observations.members) {
    names.push_back(m.name + (m.before.reachable ? "" : "(unreachable)"));
  }
  return "health observed " + std::to_string(e.check_id) + ": " + join(names, ",") +
         (e.observations.probe_ok ? " probe ok" : " probe failed: " + e.observations.probe_error);
}
std::string event_line(const LeadershipChanged& e) {
  return std::string(e.leading ? "leading" : "not leading") + ", ZooKeeper session " +
         to_string(e.session);
}
std::string event_line(const FrameworkError& e) {
  return "the master sent ERROR: " + e.message;
}
std::string event_line(const StoreCleared& e) {
  return e.ok ? "persisted state deleted" : "deleting the persisted state failed: " + e.error;
}
std::string event_line(const SpaceStepDone& e) {
  return "space recovery " + std::to_string(e.id) + " step " +
         (e.ok ? std::string("done") : "failed: " + e.error);
}
std::string event_line(const OperatorBackup&) {
  return "operator requested a backup";
}
std::string event_line(const BackupDone& e) {
  return "backup " + std::to_string(e.id) + " " +
         (e.ok ? "written: " + e.file + " (revision " + std::to_string(e.revision) + ", " +
                     std::to_string(e.size_bytes) + " bytes)"
               : "failed: " + e.error);
}
std::string event_line(const CertificateRequested& e) {
  std::vector<std::string> names = e.ip_sans;
  names.insert(names.end(), e.dns_sans.begin(), e.dns_sans.end());
  return "certificate request " + std::to_string(e.request_id) + " for task " + e.task_id +
         " from executor " + e.executor_id + " on agent " + e.agent_id + ": CN=" + e.common_name +
         " SAN=" + join(names, ",") + (e.problem.empty() ? "" : " unreadable: " + e.problem);
}

std::string effect_line(const LaunchMember& e) {
  const auto& m = e.spec.member;
  return "launch " + m.name + " on agent " + m.agent_id + " (" + m.host + ") offer " + e.offer_id +
         " peer=" + std::to_string(m.peer_port) + " client=" + std::to_string(m.client_port) +
         " state=" + e.spec.cluster_state + " task=" + m.task_id +
         " initial_cluster=" + e.spec.initial_cluster +
         (e.spec.restore_uri.empty() ? "" : " restore=" + e.spec.restore_uri);
}
std::string effect_line(const DeclineOffer& e) {
  return "decline offer " + e.offer_id + " refuse=" + number(e.refuse_seconds) + "s";
}
std::string effect_line(const KillTask& e) {
  return "kill task " + e.task_id + " on agent " + e.agent_id;
}
std::string effect_line(const Acknowledge& e) {
  return "acknowledge " + e.task_id + " uuid=" + bytes_to_hex(e.uuid, 16);
}
std::string effect_line(const Reconcile& e) {
  if (e.tasks.empty()) {
    return "reconcile all (implicit)";
  }
  std::vector<std::string> parts;
  for (const auto& [task, agent] : e.tasks) {
    parts.push_back(task + "@" + agent);
  }
  return "reconcile " + join(parts, ",");
}
std::string effect_line(const CheckHealth& e) {
  std::vector<std::string> names;
  for (const auto& m : e.members) {
    names.push_back(m.name);
  }
  return "check health " + std::to_string(e.check_id) + ": " + join(names, ",");
}
std::string effect_line(const AddEtcdMember& e) {
  return "add etcd member " + e.name + " peer=" + e.peer_url + " via " + join(e.client_urls, ",");
}
std::string effect_line(const RemoveEtcdMember& e) {
  return "remove etcd member id=" + etcd_id(e.etcd_id) + " via " + join(e.client_urls, ",");
}

std::string effect_line(const QueryMemberStatus& e) {
  std::vector<std::string> names;
  for (const auto& m : e.members) {
    names.push_back(m.name);
  }
  return "query member status " + std::to_string(e.query_id) + ": " + join(names, ",");
}
std::string effect_line(const ReseedOrder& e) {
  return "reseed " + std::to_string(e.reseed_id) + ": order " + to_string(e.action) + " to " +
         e.task_id + " on agent " + e.agent_id +
         (e.action != ReseedAction::kFence ? ""
          : e.lease <= kFenceRelease       ? " (release: the lease ends now)"
                                           : " (lease " + describe_duration(e.lease) + ")");
}

std::string effect_line(const PersistFrameworkId& e) {
  return "persist framework id " + e.framework_id;
}
std::string effect_line(const PersistClusterSize& e) {
  return "persist cluster size " + std::to_string(e.size);
}
std::string effect_line(const PersistTask& e) {
  return "persist task " + e.member.task_id + " (" + e.member.name + ") on agent " +
         e.member.agent_id + (e.member.state == TaskState::kRunning ? "" : " before its launch");
}
std::string effect_line(const ForgetTask& e) {
  return "forget task " + e.task_id;
}
std::string effect_line(const ReviveOffers&) {
  return "revive offers";
}
std::string effect_line(const ClearStore&) {
  return "delete the persisted state";
}
std::string effect_line(const StopSubscribing&) {
  return "stop subscribing to Mesos";
}
std::string effect_line(const ExitScheduler& e) {
  return "exit: " + e.reason;
}
std::string effect_line(const IssueCertificate& e) {
  return "issue a certificate (request " + std::to_string(e.request_id) + ") to task " + e.task_id +
         ", valid " + seconds(e.validity);
}
std::string effect_line(const RefuseCertificate& e) {
  return "refuse certificate request " + std::to_string(e.request_id) + " for task " + e.task_id +
         ": " + e.reason;
}
std::string effect_line(const TakeBackup& e) {
  return "take backup " + std::to_string(e.id) + " (" + e.why + ") via " + join(e.client_urls, ",");
}
std::string effect_line(const RecoverSpace& e) {
  const std::string head = "space recovery " + std::to_string(e.id) + ": ";
  switch (e.step) {
    case RecoverSpace::Step::kCompact:
      return head + "compact the history via " + join(e.client_urls, ",");
    case RecoverSpace::Step::kDefragment:
      return head + "defragment " + e.member + " at " + join(e.client_urls, ",");
    case RecoverSpace::Step::kDisarm: {
      std::string ids;
      for (auto id : e.alarm_members) {
        ids += (ids.empty() ? "" : ",") + std::to_string(id);
      }
      return head + "disarm NOSPACE on " + ids;
    }
  }
  return head + "?";
}

}  // namespace

const char* to_string(ZkSession session) {
  switch (session) {
    case ZkSession::kConnected:
      return "connected";
    case ZkSession::kConnectionLost:
      return "connection lost";
    case ZkSession::kExpired:
      return "expired";
  }
  return "?";
}

std::string describe(const Event& event) {
  return std::visit([](const auto& e) { return event_line(e); }, event);
}

std::string describe(const Effect& effect) {
  return std::visit([](const auto& e) { return effect_line(e); }, effect);
}

std::string describe_duration(Millis d) {
  return seconds(d);
}

}  // namespace etcdmesos::core
