// What the scheduler and the executor say to each other about a reseed.
//
// The order travels as a framework message (scheduler MESSAGE call -> master
// -> executor MESSAGE event) whose data is one line of text:
//   "etcd-mesos/reseed action=<backup|seed> id=<reseed id>"
// Only the scheduler can send it: the agent delivers framework messages from
// the framework's own scheduler only.
// The answer is a TASK_RUNNING status update (reliable, acknowledged) with
// three labels: kLabelReseedId, kLabelReseedAction and kLabelReseedResult
// ("ok" or "failed"); its message says what happened. A failed answer may
// carry a fourth, kLabelReseedData = "untouched": the executor did not
// change etcd's data for this order and etcd runs (or restarts) as the
// member it was, never with --force-new-cluster. Executors before it never
// send the label, so its absence claims nothing (the scheduler assumes the
// seed may serve as a one-member cluster). An ok fence carries a fifth,
// kLabelRaftIndex: the commit index of the stopped member's data.
// Pure: no I/O. Decoding is strict and never throws. The shells turn an
// answer into the core's ReseedReport; the core never reads labels.
#pragma once

#include "common/reseed_action.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace etcdmesos {

inline constexpr std::string_view kReseedOrderPrefix = "etcd-mesos/reseed";
inline constexpr std::string_view kLabelReseedId = "etcd-mesos.reseed-id";
inline constexpr std::string_view kLabelReseedAction = "etcd-mesos.reseed-action";
inline constexpr std::string_view kLabelReseedResult = "etcd-mesos.reseed-result";
inline constexpr std::string_view kLabelReseedData = "etcd-mesos.reseed-data";
inline constexpr std::string_view kReseedDataUntouched = "untouched";
inline constexpr std::string_view kLabelRaftIndex = "etcd-mesos.raft-index";

struct ReseedOrderText {
  ReseedAction action = ReseedAction::kSeed;
  uint64_t reseed_id = 0;
  uint64_t lease_ms = 0;  // a fence's lease (positive); 0 for a seed
  bool operator==(const ReseedOrderText&) const = default;
};

std::string encode_reseed_order(const ReseedOrderText& order);
// nullopt for anything that is not exactly an order of this version.
std::optional<ReseedOrderText> decode_reseed_order(std::string_view text);

std::optional<ReseedAction> reseed_action_from(std::string_view name);

// A status update's labels, as key/value pairs.
using Labels = std::vector<std::pair<std::string, std::string>>;

// An executor's answer as its update says it (the update's task and message
// included); what the core's ReseedReport is made from.
struct ReseedReportText {
  std::string task_id;
  uint64_t reseed_id = 0;
  ReseedAction action = ReseedAction::kSeed;
  bool ok = false;
  std::string message;
  bool data_untouched = false;  // a failed answer only
  uint64_t raft_index = 0;      // an ok fence only
  bool operator==(const ReseedReportText&) const = default;
};

// The labels of an executor's answer. data_untouched is only said on a
// failure (an "ok" answer changed the data by definition): it is ignored
// when ok. raft_index is said on an ok fence only.
Labels reseed_report_labels(const ReseedOrderText& order, bool ok, bool data_untouched = false,
                            uint64_t raft_index = 0);
// The answer carried by a status update's labels; nullopt when the update
// is not one (no or malformed reseed labels, including a kLabelReseedData
// of another value or on an "ok" answer, and an ok fence without a
// kLabelRaftIndex).
std::optional<ReseedReportText> reseed_report_from(const std::string& task_id, const Labels& labels,
                                                   const std::string& message);

}  // namespace etcdmesos
