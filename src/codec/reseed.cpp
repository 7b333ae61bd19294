#include "codec/reseed.hpp"

#include <charconv>

namespace etcdmesos {

namespace {

std::optional<uint64_t> parse_id(std::string_view text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

const std::string* find_label(const Labels& labels, std::string_view key) {
  for (const auto& [k, v] : labels) {
    if (k == key) {
      return &v;
    }
  }
  return nullptr;
}

}  // namespace

std::optional<ReseedAction> reseed_action_from(std::string_view name) {
  if (name == "fence") {
    return ReseedAction::kFence;
  }
  if (name == "seed") {
    return ReseedAction::kSeed;
  }
  return std::nullopt;
}

std::string encode_reseed_order(const ReseedOrderText& order) {
  std::string text = std::string(kReseedOrderPrefix) + " action=" + to_string(order.action) +
                     " id=" + std::to_string(order.reseed_id);
  if (order.action == ReseedAction::kFence) {
    text += " lease-ms=" + std::to_string(order.lease_ms);
  }
  return text;
}

std::optional<ReseedOrderText> decode_reseed_order(std::string_view text) {
  const std::string head = std::string(kReseedOrderPrefix) + " action=";
  if (!text.starts_with(head)) {
    return std::nullopt;
  }
  text.remove_prefix(head.size());
  const auto space = text.find(' ');
  if (space == std::string_view::npos) {
    return std::nullopt;
  }
  const auto action = reseed_action_from(text.substr(0, space));
  text.remove_prefix(space + 1);
  if (!action || !text.starts_with("id=")) {
    return std::nullopt;
  }
  text.remove_prefix(3);
  const auto space_after_id = text.find(' ');
  const auto id = parse_id(text.substr(0, space_after_id));
  if (!id) {
    return std::nullopt;
  }
  if (*action != ReseedAction::kFence) {
    return space_after_id == std::string_view::npos ? std::optional(ReseedOrderText{*action, *id})
                                                    : std::nullopt;
  }
  // A fence must say how long it holds: an executor never keeps etcd
  // stopped for good on the word of a scheduler that may be gone.
  if (space_after_id == std::string_view::npos) {
    return std::nullopt;
  }
  text.remove_prefix(space_after_id + 1);
  constexpr std::string_view kLease = "lease-ms=";
  if (!text.starts_with(kLease)) {
    return std::nullopt;
  }
  const auto lease = parse_id(text.substr(kLease.size()));
  if (!lease || *lease == 0) {
    return std::nullopt;
  }
  return ReseedOrderText{*action, *id, *lease};
}

Labels reseed_report_labels(const ReseedOrderText& order, bool ok, bool data_untouched,
                            uint64_t raft_index) {
  Labels labels{{std::string(kLabelReseedId), std::to_string(order.reseed_id)},
                {std::string(kLabelReseedAction), to_string(order.action)},
                {std::string(kLabelReseedResult), ok ? "ok" : "failed"}};
  if (!ok && data_untouched) {
    labels.emplace_back(std::string(kLabelReseedData), std::string(kReseedDataUntouched));
  }
  if (ok && order.action == ReseedAction::kFence) {
    labels.emplace_back(std::string(kLabelRaftIndex), std::to_string(raft_index));
  }
  return labels;
}

std::optional<ReseedReportText> reseed_report_from(const std::string& task_id, const Labels& labels,
                                                   const std::string& message) {
  const auto* id = find_label(labels, kLabelReseedId);
  const auto* action = find_label(labels, kLabelReseedAction);
  const auto* result = find_label(labels, kLabelReseedResult);
  const auto* data = find_label(labels, kLabelReseedData);
  const auto* index = find_label(labels, kLabelRaftIndex);
  if (id == nullptr || action == nullptr || result == nullptr) {
    return std::nullopt;
  }
  const auto parsed_id = parse_id(*id);
  const auto parsed_action = reseed_action_from(*action);
  if (!parsed_id || !parsed_action || (*result != "ok" && *result != "failed")) {
    return std::nullopt;
  }
  const bool ok = *result == "ok";
  // A value this version does not know could claim anything: a seed kept
  // by mistake would let two one-member clusters serve. Refuse it whole.
  if (data != nullptr && (ok || *data != kReseedDataUntouched)) {
    return std::nullopt;
  }
  // A fence that held without saying what the stopped data holds could
  // not be ranked: refused, and so is an index on any other answer.
  const bool fenced = ok && *parsed_action == ReseedAction::kFence;
  const auto parsed_index = index ? parse_id(*index) : std::nullopt;
  if ((index != nullptr) != fenced || (index != nullptr && !parsed_index)) {
    return std::nullopt;
  }
  ReseedReportText report{task_id, *parsed_id, *parsed_action, ok, message};
  report.data_untouched = data != nullptr;
  report.raft_index = parsed_index.value_or(0);
  return report;
}

}  // namespace etcdmesos
