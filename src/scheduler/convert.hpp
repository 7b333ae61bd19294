// Conversions between the Mesos codec structs and the core's types. Pure.
#pragma once

#include "codec/mesos.hpp"
#include "core/scheduler_core.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace etcdmesos::scheduler {

// Sums the resources of `offer` that this framework may use: unreserved ones
// and those reserved for `role`.
core::OfferView to_offer_view(const mesos::Offer& offer, const std::string& role);

// Where agents fetch the programs from, and what the executor itself costs.
struct ExecutorTemplate {
  std::string executor_url;
  std::string etcd_url;
  std::string etcdctl_url;
  std::string framework_name;
  double executor_cpus = 0.1;
  double executor_mem_mb = 32;
  // Passed to the executor as -etcd-restart-attempts.
  int etcd_restart_attempts = 3;
  // Written into every member's task data (MemberTaskData); empty/0: etcd's
  // defaults.
  std::string auto_compaction_mode{};
  std::string auto_compaction_retention{};
  uint64_t quota_backend_bytes = 0;
};

// The Mesos task that runs one member: its resources (cpus, mem, disk and the
// two ports), the custom executor fetched from the artifact server, the
// member's start parameters in `data`, and discovery info naming the ports.
// A restoring member (spec.restore_uri) also fetches its snapshot into the
// sandbox, uncached and unextracted, as kRestoreFileName.
// The name a restoring member's snapshot gets in its sandbox (the fetcher's
// output_file; the task data's restore_file).
inline constexpr const char* kRestoreFileName = "etcd-restore.snapshot";

mesos::TaskInfo make_task_info(const core::LaunchSpec& spec, const core::Config& config,
                               const ExecutorTemplate& executor);

// The executor id used for a member task: the core's, which also checks that
// a certificate request came from the member's own executor.
using core::executor_id_for;

// Most offer ids in one DECLINE call (a bound on the call's size: 10,000 ids
// are about 600 KB of JSON).
inline constexpr std::size_t kMaxOffersPerDecline = 10000;

// The DeclineOffer effects among `effects` as DECLINE calls: one per refuse
// duration (in the order each first appears), each with at most
// kMaxOffersPerDecline ids. A Mesos DECLINE takes a list of offers, so an
// OFFERS event with thousands of unusable offers costs one call, not one
// call (and one round trip to the master) per offer.
std::vector<mesos::CallDecline> batch_declines(const std::vector<core::Effect>& effects);

}  // namespace etcdmesos::scheduler
