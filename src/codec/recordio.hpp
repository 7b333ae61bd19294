// RecordIO framing of Mesos streaming responses (reference §4):
// "<decimal length>\n<length bytes>" repeated; chunk boundaries are unrelated
// to record boundaries.
//
// RecordIoDecoder is incremental: feed() it bytes as they arrive and it
// returns every record completed so far. A malformed length (not digits, no
// digits, leading garbage, zero, longer than 20 digits) or a record larger
// than the configured bound is an error, and once failed the decoder stays
// failed (every later feed() returns the same error). Not thread-safe.
#pragma once

#include "common/error.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace etcdmesos::recordio {

std::string encode(std::string_view record);

class Decoder {
 public:
  explicit Decoder(std::size_t max_record_bytes);

  Result<std::vector<std::string>> feed(std::string_view bytes);

  bool failed() const { return failed_.has_value(); }
  // Bytes held for a record that is not complete yet.
  std::size_t buffered() const { return buffer_.size(); }

 private:
  std::size_t max_record_bytes_;
  std::string buffer_;
  std::optional<Error> failed_;
};

}  // namespace etcdmesos::recordio
