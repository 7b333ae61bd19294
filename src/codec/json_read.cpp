#include "codec/json_read.hpp"

#include "codec/mesos.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

namespace etcdmesos::codec {

namespace {

// Nesting deeper than any message we read; bounds the parser's stack use.
constexpr std::size_t kMaxJsonDepth = 64;

const char* kind_name(json::kind kind) {
  switch (kind) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "an unknown value";
}

void fail_type(JsonReader& r, std::string_view key, std::string_view expected,
               const json::value& got) {
  r.fail(key, std::string("expected ") + std::string(expected) + ", got " + kind_name(got.kind()));
}

const json::object& empty_object() {
  static const json::object empty;
  return empty;
}

// Whole-string decimal parse; from_chars already rejects '+', blanks and hex
// digits, and reports values out of range for T.
template <class T>
std::optional<T> parse_decimal(std::string_view text) {
  if (text.empty()) {
    return std::nullopt;
  }
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

template <class T>
std::optional<T> integral_from_double(double d) {
  // Bounds as doubles: the max of a 64-bit type is not exactly representable,
  // so compare against 2^N with '<'.
  constexpr double kUpper = static_cast<double>(std::numeric_limits<T>::max() / 2 + 1) * 2.0;
  constexpr double kLower = static_cast<double>(std::numeric_limits<T>::min());
  if (!std::isfinite(d) || std::trunc(d) != d || d < kLower || d >= kUpper) {
    return std::nullopt;
  }
  return static_cast<T>(d);
}

template <class T>
std::optional<T> to_integral(const json::value& v) {
  if (const auto* i = v.if_int64()) {
    if (std::in_range<T>(*i)) {
      return static_cast<T>(*i);
    }
    return std::nullopt;
  }
  if (const auto* u = v.if_uint64()) {
    if (std::in_range<T>(*u)) {
      return static_cast<T>(*u);
    }
    return std::nullopt;
  }
  if (const auto* d = v.if_double()) {
    return integral_from_double<T>(*d);
  }
  if (const auto* s = v.if_string()) {
    return parse_decimal<T>(*s);
  }
  return std::nullopt;
}

template <class T>
std::optional<T> opt_integral(JsonReader& r, const json::object& o, std::string_view key) {
  const json::value* v = find(o, key);
  if (v == nullptr) {
    return std::nullopt;
  }
  auto value = to_integral<T>(*v);
  if (!value) {
    if (v->is_number() || v->is_string()) {
      r.fail(key, "not an integer in range: " + json::serialize(*v).substr(0, 64));
    } else {
      fail_type(r, key, "an integer", *v);
    }
  }
  return value;
}

std::optional<double> double_from_string(std::string_view text) {
  if (text == "Infinity") {
    return std::numeric_limits<double>::infinity();
  }
  if (text == "-Infinity") {
    return -std::numeric_limits<double>::infinity();
  }
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
      !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

Result<json::object> parse_object(std::string_view text, std::size_t max_bytes,
                                  std::string_view what, json::storage_ptr storage) {
  if (text.size() > max_bytes) {
    return make_error(std::string(what) + ": " + std::to_string(text.size()) +
                      " bytes exceed the limit of " + std::to_string(max_bytes));
  }
  json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  boost::system::error_code ec;
  json::value value = json::parse(text, ec, std::move(storage), options);
  if (ec) {
    return make_error(std::string(what) + ": invalid JSON: " + ec.message());
  }
  if (!value.is_object()) {
    return make_error(std::string(what) + ": expected a JSON object, got " +
                      kind_name(value.kind()));
  }
  return std::move(value.get_object());
}

JsonReader::Scope JsonReader::enter(std::string_view key) {
  path_.emplace_back(key);
  return Scope(*this);
}

JsonReader::Scope JsonReader::enter_index(std::size_t index) {
  path_.push_back("[" + std::to_string(index) + "]");
  return Scope(*this);
}

void JsonReader::fail(std::string_view key, std::string_view problem) {
  if (error_) {
    return;
  }
  std::string where;
  for (const auto& part : path_) {
    if (!where.empty() && part.front() != '[') {
      where += '.';
    }
    where += part;
  }
  if (!key.empty()) {
    if (!where.empty()) {
      where += '.';
    }
    where += key;
  }
  error_ = make_error(what_ + ": " + (where.empty() ? "" : where + ": ") + std::string(problem));
}

Error JsonReader::error() const {
  return error_.value_or(make_error(what_ + ": no error"));
}

const json::value* find(const json::object& object, std::string_view key) {
  const json::value* v = object.if_contains(key);
  return (v == nullptr || v->is_null()) ? nullptr : v;
}

bool has(const json::object& object, std::string_view key) {
  return find(object, key) != nullptr;
}

const json::object* opt_object(JsonReader& r, const json::object& o, std::string_view key) {
  const json::value* v = find(o, key);
  if (v == nullptr) {
    return nullptr;
  }
  if (!v->is_object()) {
    fail_type(r, key, "an object", *v);
    return nullptr;
  }
  return &v->get_object();
}

const json::object& req_object(JsonReader& r, const json::object& o, std::string_view key) {
  if (!has(o, key)) {
    r.fail(key, "missing required object");
    return empty_object();
  }
  const json::object* object = opt_object(r, o, key);
  return object != nullptr ? *object : empty_object();
}

const json::object& as_object(JsonReader& r, const json::value& v) {
  if (!v.is_object()) {
    fail_type(r, "", "an object", v);
    return empty_object();
  }
  return v.get_object();
}

const json::array* opt_array(JsonReader& r, const json::object& o, std::string_view key) {
  const json::value* v = find(o, key);
  if (v == nullptr) {
    return nullptr;
  }
  if (!v->is_array()) {
    fail_type(r, key, "an array", *v);
    return nullptr;
  }
  return &v->get_array();
}

std::optional<std::string> opt_string(JsonReader& r, const json::object& o, std::string_view key) {
  const json::value* v = find(o, key);
  if (v == nullptr) {
    return std::nullopt;
  }
  if (!v->is_string()) {
    fail_type(r, key, "a string", *v);
    return std::nullopt;
  }
  return std::string(v->get_string());
}

std::string req_string(JsonReader& r, const json::object& o, std::string_view key) {
  if (!has(o, key)) {
    r.fail(key, "missing required string");
    return {};
  }
  return opt_string(r, o, key).value_or("");
}

std::optional<bool> opt_bool(JsonReader& r, const json::object& o, std::string_view key) {
  const json::value* v = find(o, key);
  if (v == nullptr) {
    return std::nullopt;
  }
  if (!v->is_bool()) {
    fail_type(r, key, "a boolean", *v);
    return std::nullopt;
  }
  return v->get_bool();
}

std::optional<int64_t> opt_int64(JsonReader& r, const json::object& o, std::string_view key) {
  return opt_integral<int64_t>(r, o, key);
}
std::optional<uint64_t> opt_uint64(JsonReader& r, const json::object& o, std::string_view key) {
  return opt_integral<uint64_t>(r, o, key);
}
std::optional<int32_t> opt_int32(JsonReader& r, const json::object& o, std::string_view key) {
  return opt_integral<int32_t>(r, o, key);
}
std::optional<uint32_t> opt_uint32(JsonReader& r, const json::object& o, std::string_view key) {
  return opt_integral<uint32_t>(r, o, key);
}

uint64_t req_uint64(JsonReader& r, const json::object& o, std::string_view key) {
  if (!has(o, key)) {
    r.fail(key, "missing required integer");
    return 0;
  }
  return opt_uint64(r, o, key).value_or(0);
}

uint32_t req_uint32(JsonReader& r, const json::object& o, std::string_view key) {
  if (!has(o, key)) {
    r.fail(key, "missing required integer");
    return 0;
  }
  return opt_uint32(r, o, key).value_or(0);
}

std::optional<double> opt_double(JsonReader& r, const json::object& o, std::string_view key) {
  const json::value* v = find(o, key);
  if (v == nullptr) {
    return std::nullopt;
  }
  if (v->is_number()) {
    return v->to_number<double>();
  }
  if (const auto* s = v->if_string()) {
    if (auto value = double_from_string(*s)) {
      return value;
    }
    r.fail(key, "not a number: " + std::string(s->subview().substr(0, 64)));
    return std::nullopt;
  }
  fail_type(r, key, "a number", *v);
  return std::nullopt;
}

double req_double(JsonReader& r, const json::object& o, std::string_view key) {
  if (!has(o, key)) {
    r.fail(key, "missing required number");
    return 0;
  }
  return opt_double(r, o, key).value_or(0);
}

std::optional<std::string> opt_bytes(JsonReader& r, const json::object& o, std::string_view key) {
  auto text = opt_string(r, o, key);
  if (!text) {
    return std::nullopt;
  }
  auto raw = mesos::base64_decode(*text);
  if (!raw) {
    r.fail(key, raw.error().message);
    return std::nullopt;
  }
  return std::move(*raw);
}

std::string req_bytes(JsonReader& r, const json::object& o, std::string_view key) {
  if (!has(o, key)) {
    r.fail(key, "missing required bytes");
    return {};
  }
  return opt_bytes(r, o, key).value_or("");
}

std::vector<std::string> string_array(JsonReader& r, const json::object& o, std::string_view key) {
  return read_array<std::string>(r, o, key, [&r](const json::value& v) {
    if (!v.is_string()) {
      fail_type(r, "", "a string", v);
      return std::string();
    }
    return std::string(v.get_string());
  });
}

json::value number(double value) {
  // Boost would print infinities as a number no parser accepts back; the
  // protobuf JSON rules spell them as strings.
  if (std::isinf(value)) {
    return value > 0 ? "Infinity" : "-Infinity";
  }
  constexpr double kExactIntegers = 9007199254740992.0;  // 2^53
  if (std::isfinite(value) && std::trunc(value) == value && std::fabs(value) < kExactIntegers &&
      !(value == 0 && std::signbit(value))) {
    return static_cast<int64_t>(value);
  }
  return value;
}

std::string serialize(const json::value& value) {
  return json::serialize(value);
}

}  // namespace etcdmesos::codec
