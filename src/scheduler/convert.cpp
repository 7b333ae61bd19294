#include "scheduler/convert.hpp"

#include "codec/task_data.hpp"

#include <algorithm>

namespace etcdmesos::scheduler {

core::OfferView to_offer_view(const mesos::Offer& offer, const std::string& role) {
  core::OfferView view;
  view.offer_id = offer.id;
  view.agent_id = offer.agent_id;
  view.hostname = offer.hostname;
  for (const auto& r : offer.resources) {
    const bool usable = !r.reserved || (r.role && *r.role == role);
    if (!usable) {
      continue;
    }
    if (r.type == mesos::Resource::Type::kScalar) {
      if (r.name == "cpus")
        view.cpus += r.scalar;
      if (r.name == "mem")
        view.mem_mb += r.scalar;
      if (r.name == "disk")
        view.disk_mb += r.scalar;
    } else if (r.type == mesos::Resource::Type::kRanges && r.name == "ports") {
      for (const auto& range : r.ranges) {
        if (range.begin <= range.end) {
          view.ports.push_back({range.begin, range.end});
        }
      }
    }
  }
  return view;
}

std::vector<mesos::CallDecline> batch_declines(const std::vector<core::Effect>& effects) {
  std::vector<mesos::CallDecline> calls;
  // Index in `calls` of the batch still filling up for each refuse duration.
  std::vector<std::pair<double, std::size_t>> open;
  for (const auto& effect : effects) {
    const auto* decline = std::get_if<core::DeclineOffer>(&effect);
    if (decline == nullptr) {
      continue;
    }
    auto it = std::find_if(open.begin(), open.end(),
                           [&](const auto& o) { return o.first == decline->refuse_seconds; });
    if (it == open.end() || calls[it->second].offer_ids.size() >= kMaxOffersPerDecline) {
      calls.push_back(mesos::CallDecline{{}, mesos::Filters{decline->refuse_seconds}});
      if (it == open.end()) {
        open.emplace_back(decline->refuse_seconds, calls.size() - 1);
      } else {
        it->second = calls.size() - 1;
      }
      it = open.end();
    }
    const std::size_t index = it == open.end() ? calls.size() - 1 : it->second;
    calls[index].offer_ids.push_back(decline->offer_id);
  }
  return calls;
}

namespace {

mesos::CommandInfo executor_command(const ExecutorTemplate& t) {
  mesos::CommandInfo command;
  // Fetched into the sandbox, which is the executor's working directory.
  // `exec`: the agent's shell becomes the executor, so the PID the agent
  // records is the executor's own and a signal to it reaches the executor.
  command.value = "exec ./etcd-mesos-executor -etcd-bin=./etcd -etcd-restart-attempts=" +
                  std::to_string(t.etcd_restart_attempts);
  command.shell = true;
  for (const auto& url : {t.executor_url, t.etcd_url, t.etcdctl_url}) {
    mesos::Uri uri;
    uri.value = url;
    uri.executable = true;
    uri.extract = false;
    // Through the agent's fetcher cache: a relaunch on an agent that fetched
    // these before copies them from its cache instead of downloading ~45 MB
    // again. The URL carries the content digest, so a new binary is a new
    // cache entry, never a stale one.
    uri.cache = true;
    command.uris.push_back(uri);
  }
  return command;
}

std::vector<mesos::Range> port_ranges(uint32_t a, uint32_t b) {
  if (a > b)
    std::swap(a, b);
  if (b == a + 1)
    return {{a, b}};
  return {{a, a}, {b, b}};
}

}  // namespace

mesos::TaskInfo make_task_info(const core::LaunchSpec& spec, const core::Config& config,
                               const ExecutorTemplate& executor) {
  const auto& m = spec.member;
  mesos::TaskInfo task;
  task.name = m.name;
  task.task_id = m.task_id;
  task.agent_id = m.agent_id;
  task.resources = {
      mesos::scalar_resource("cpus", config.task_cpus),
      mesos::scalar_resource("mem", config.task_mem_mb),
      mesos::ranges_resource("ports", port_ranges(m.peer_port, m.client_port)),
  };
  if (config.task_disk_mb > 0) {
    task.resources.push_back(mesos::scalar_resource("disk", config.task_disk_mb));
  }

  mesos::ExecutorInfo info;
  info.executor_id = executor_id_for(m.task_id);
  info.type = "CUSTOM";
  info.name = "etcd-mesos executor for " + m.name;
  info.command = executor_command(executor);
  if (!spec.restore_uri.empty()) {
    // Fetched once, for this member alone: never from the agent's cache (a
    // file rewritten at the same path would be restored stale), never
    // extracted (a snapshot is one bolt file), under a fixed name the task
    // data tells the executor.
    mesos::Uri snapshot;
    snapshot.value = spec.restore_uri;
    snapshot.executable = false;
    snapshot.extract = false;
    snapshot.cache = false;
    snapshot.output_file = kRestoreFileName;
    info.command->uris.push_back(std::move(snapshot));
  }
  info.resources = {mesos::scalar_resource("cpus", executor.executor_cpus),
                    mesos::scalar_resource("mem", executor.executor_mem_mb)};
  task.executor = std::move(info);

  MemberTaskData data{m.name,
                      m.host,
                      m.peer_port,
                      m.client_port,
                      spec.initial_cluster,
                      spec.cluster_state,
                      spec.cluster_token,
                      executor.auto_compaction_mode,
                      executor.auto_compaction_retention,
                      executor.quota_backend_bytes,
                      m.tls,
                      spec.restore_uri.empty() ? std::string() : kRestoreFileName};
  task.data = encode(data);
  task.labels = {{"cluster", executor.framework_name}, {"member", m.name}};

  mesos::DiscoveryInfo discovery;
  discovery.visibility = "FRAMEWORK";
  discovery.name = m.name;
  discovery.ports = {{m.client_port, std::string("client"), std::string("tcp")},
                     {m.peer_port, std::string("peer"), std::string("tcp")}};
  task.discovery = std::move(discovery);
  return task;
}

}  // namespace etcdmesos::scheduler
