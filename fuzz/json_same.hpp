// Comparing two encodings of the same message when doubles may have moved by
// a rounding step. Boost.JSON 1.81 (Debian 12) parses numbers with more than
// about 15 significant digits without correct rounding (the precise mode came
// in 1.83): "1795535661.5870958" read, written as the shortest text that
// names that double, and read again can come back one ulp away. A round trip
// is therefore exact except for such doubles, which must agree to within
// kRelativeRounding; everything else (strings, integers, structure) exactly.
#pragma once

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cmath>
#include <string_view>

namespace fuzz {

inline constexpr double kRelativeRounding = 1e-15;

inline bool same_json(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_double() || b.is_double()) {
    if (!a.is_number() || !b.is_number()) {
      return false;
    }
    const double x = a.to_number<double>();
    const double y = b.to_number<double>();
    return x == y || std::fabs(x - y) <= kRelativeRounding * std::max(std::fabs(x), std::fabs(y));
  }
  if (a.kind() != b.kind()) {
    return false;
  }
  if (a.is_object()) {
    const auto& x = a.get_object();
    const auto& y = b.get_object();
    return x.size() == y.size() && std::all_of(x.begin(), x.end(), [&](const auto& entry) {
             const auto* other = y.if_contains(entry.key());
             return other != nullptr && same_json(entry.value(), *other);
           });
  }
  if (a.is_array()) {
    const auto& x = a.get_array();
    const auto& y = b.get_array();
    return x.size() == y.size() && std::equal(x.begin(), x.end(), y.begin(), same_json);
  }
  return a == b;
}

// Both texts parse, and they agree up to the rounding of doubles.
inline bool same_json_text(std::string_view a, std::string_view b) {
  boost::system::error_code ea;
  boost::system::error_code eb;
  const auto x = boost::json::parse(a, ea);
  const auto y = boost::json::parse(b, eb);
  return !ea && !eb && same_json(x, y);
}

}  // namespace fuzz
