// Shared helpers of the JSON codecs (Mesos, etcd, task data): bounded
// parsing, and a reader that records the first problem found instead of
// throwing, so that decoders read straight through a message and never let
// an exception or a crash out on bad peer input.
//
// Readers take the enclosing object and a key. A missing key and an explicit
// `null` both mean "absent". A value of the wrong JSON type is an error even
// for optional fields. After the first error every reader still returns a
// harmless default, and the caller checks JsonReader::ok() once at the end.
#pragma once

#include "common/error.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace etcdmesos::codec {

namespace json = boost::json;

// Parses `text` (at most max_bytes long) and requires an object at the top.
// The document lives in `storage` (default: the heap); a caller that reads it
// once and drops it passes an arena (json::monotonic_resource), which must
// outlive the object returned.
Result<json::object> parse_object(std::string_view text, std::size_t max_bytes,
                                  std::string_view what, json::storage_ptr storage = {});

class JsonReader {
 public:
  // Names the part of the message being read, for error messages like
  // "update.status.uuid: expected a string". Pops itself when destroyed.
  class [[nodiscard]] Scope {
   public:
    explicit Scope(JsonReader& reader) : reader_(reader) {}
    ~Scope() { reader_.path_.pop_back(); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    JsonReader& reader_;
  };

  explicit JsonReader(std::string what) : what_(std::move(what)) {}

  Scope enter(std::string_view key);
  Scope enter_index(std::size_t index);

  // Records `problem` at `key` below the current path, unless an error was
  // recorded already (the first one explains the most).
  void fail(std::string_view key, std::string_view problem);
  bool ok() const { return !error_.has_value(); }
  Error error() const;

 private:
  std::string what_;
  std::vector<std::string> path_;
  std::optional<Error> error_;
};

// The value at `key`, or nullptr when the key is missing or null.
const json::value* find(const json::object& object, std::string_view key);
bool has(const json::object& object, std::string_view key);

// Objects. The required form returns an empty object after failing.
const json::object* opt_object(JsonReader& r, const json::object& o, std::string_view key);
const json::object& req_object(JsonReader& r, const json::object& o, std::string_view key);
const json::object& as_object(JsonReader& r, const json::value& v);
const json::array* opt_array(JsonReader& r, const json::object& o, std::string_view key);

std::optional<std::string> opt_string(JsonReader& r, const json::object& o, std::string_view key);
std::string req_string(JsonReader& r, const json::object& o, std::string_view key);
std::optional<bool> opt_bool(JsonReader& r, const json::object& o, std::string_view key);

// Integers: a JSON number (integral, in range) or a string of decimal digits
// (a leading '-' for the signed types). Hex, blanks, '+' and fractions fail.
std::optional<int64_t> opt_int64(JsonReader& r, const json::object& o, std::string_view key);
std::optional<uint64_t> opt_uint64(JsonReader& r, const json::object& o, std::string_view key);
std::optional<int32_t> opt_int32(JsonReader& r, const json::object& o, std::string_view key);
std::optional<uint32_t> opt_uint32(JsonReader& r, const json::object& o, std::string_view key);
uint64_t req_uint64(JsonReader& r, const json::object& o, std::string_view key);
uint32_t req_uint32(JsonReader& r, const json::object& o, std::string_view key);

// Doubles: a JSON number, a numeric string, or "Infinity"/"-Infinity".
std::optional<double> opt_double(JsonReader& r, const json::object& o, std::string_view key);
double req_double(JsonReader& r, const json::object& o, std::string_view key);

// Standard base64 (see mesos::base64_decode) decoded to raw bytes.
std::optional<std::string> opt_bytes(JsonReader& r, const json::object& o, std::string_view key);
std::string req_bytes(JsonReader& r, const json::object& o, std::string_view key);

// Array of strings.
std::vector<std::string> string_array(JsonReader& r, const json::object& o, std::string_view key);

// Reads each element of the array at `key` with `read(const json::value&)`,
// which returns one T. A missing or null array gives an empty vector.
template <class T, class Read>
std::vector<T> read_array(JsonReader& r, const json::object& o, std::string_view key, Read read) {
  std::vector<T> out;
  const json::array* array = opt_array(r, o, key);
  if (array == nullptr) {
    return out;
  }
  auto scope = r.enter(key);
  out.reserve(array->size());
  for (std::size_t i = 0; i < array->size() && r.ok(); ++i) {
    auto element = r.enter_index(i);
    out.push_back(read((*array)[i]));
  }
  return out;
}

// Writing: doubles with an integral value (below 2^53) are written as JSON
// integers ("15", not Boost's "1.5E1"); both parse as the same double.
json::value number(double value);
std::string serialize(const json::value& value);

}  // namespace etcdmesos::codec
