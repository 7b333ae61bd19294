#include "codec/recordio.hpp"

#include <cstdint>
#include <string>

namespace etcdmesos::recordio {

namespace {

// 2^64 - 1 has 20 digits; anything longer cannot be a valid length.
constexpr std::size_t kMaxLengthDigits = 20;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Parses the decimal length line (without its '\n').
Result<std::size_t> parse_length(std::string_view text, std::size_t max_record_bytes) {
  if (text.empty()) {
    return make_error("recordio: empty record length");
  }
  if (text.size() > kMaxLengthDigits) {
    return make_error("recordio: record length has more than 20 digits");
  }
  uint64_t length = 0;
  for (char c : text) {
    if (!is_digit(c)) {
      return make_error("recordio: record length is not a decimal number");
    }
    const auto digit = static_cast<uint64_t>(c - '0');
    if (length > (UINT64_MAX - digit) / 10) {
      return make_error("recordio: record length overflows 64 bits");
    }
    length = length * 10 + digit;
  }
  if (length == 0) {
    return make_error("recordio: zero record length");
  }
  if (length > max_record_bytes) {
    return make_error("recordio: record of " + std::to_string(length) +
                      " bytes exceeds the limit of " + std::to_string(max_record_bytes));
  }
  return static_cast<std::size_t>(length);
}

// Rejects garbage while the length line is still incomplete, so that a peer
// sending no '\n' cannot make us buffer without bound.
std::optional<Error> check_partial_length(std::string_view text) {
  if (text.size() > kMaxLengthDigits) {
    return make_error("recordio: record length has more than 20 digits");
  }
  for (char c : text) {
    if (!is_digit(c)) {
      return make_error("recordio: record length is not a decimal number");
    }
  }
  return std::nullopt;
}

}  // namespace

std::string encode(std::string_view record) {
  std::string out = std::to_string(record.size());
  out += '\n';
  out += record;
  return out;
}

Decoder::Decoder(std::size_t max_record_bytes) : max_record_bytes_(max_record_bytes) {}

Result<std::vector<std::string>> Decoder::feed(std::string_view bytes) {
  if (failed_) {
    return *failed_;
  }
  buffer_.append(bytes);
  std::vector<std::string> records;
  std::size_t pos = 0;  // start of the first unconsumed byte
  for (;;) {
    const std::string_view rest = std::string_view(buffer_).substr(pos);
    const std::size_t newline = rest.find('\n');
    if (newline == std::string_view::npos) {
      if (auto error = check_partial_length(rest)) {
        failed_ = *error;
        buffer_.clear();
        return *failed_;
      }
      break;
    }
    auto length = parse_length(rest.substr(0, newline), max_record_bytes_);
    if (!length) {
      failed_ = length.error();
      buffer_.clear();
      return *failed_;
    }
    if (rest.size() - newline - 1 < *length) {
      break;  // the record's bytes have not all arrived yet
    }
    records.emplace_back(rest.substr(newline + 1, *length));
    pos += newline + 1 + *length;
  }
  buffer_.erase(0, pos);
  return records;
}

}  // namespace etcdmesos::recordio
