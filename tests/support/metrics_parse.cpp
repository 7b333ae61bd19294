#include "support/metrics_parse.hpp"

#include "support/processes.hpp"

#include <boost/json.hpp>

#include <sys/wait.h>
#include <atomic>
#include <cmath>
#include <fstream>

namespace etcdmesos::testing {

namespace json = boost::json;

const ParsedFamily* ParsedMetrics::family(const std::string& name) const {
  for (const auto& f : families) {
    if (f.name == name) {
      return &f;
    }
  }
  return nullptr;
}

std::vector<MetricSample> ParsedMetrics::samples(const std::string& name) const {
  std::vector<MetricSample> out;
  for (const auto& f : families) {
    for (const auto& s : f.samples) {
      if (s.name == name) {
        out.push_back(s);
      }
    }
  }
  return out;
}

std::optional<double> ParsedMetrics::value(const std::string& name,
                                           const MetricLabels& labels) const {
  std::optional<double> found;
  for (const auto& s : samples(name)) {
    bool match = true;
    for (const auto& [k, v] : labels) {
      auto it = s.labels.find(k);
      match = match && it != s.labels.end() && it->second == v;
    }
    if (!match) {
      continue;
    }
    if (found) {
      return std::nullopt;
    }
    found = s.value;
  }
  return found;
}

namespace {

double number(const json::value& v) {
  if (v.is_string()) {
    const std::string s(v.as_string());
    return s == "nan" ? std::nan("") : (s[0] == '-' ? -HUGE_VAL : HUGE_VAL);
  }
  return v.to_number<double>();
}

ParsedMetrics from_json(const json::value& doc) {
  ParsedMetrics out;
  for (const auto& f : doc.as_array()) {
    const auto& fo = f.as_object();
    ParsedFamily family;
    family.name = fo.at("family").as_string();
    family.type = fo.at("type").as_string();
    family.help = fo.at("help").as_string();
    for (const auto& s : fo.at("samples").as_array()) {
      const auto& so = s.as_object();
      MetricSample sample;
      sample.name = so.at("name").as_string();
      for (const auto& [k, v] : so.at("labels").as_object()) {
        sample.labels[std::string(k)] = v.as_string();
      }
      sample.value = number(so.at("value"));
      family.samples.push_back(std::move(sample));
    }
    out.families.push_back(std::move(family));
  }
  return out;
}

}  // namespace

ParsedMetrics parse_metrics(const std::string& text, const std::filesystem::path& dir) {
  static std::atomic<int> counter{0};
  const int n = counter++;
  const auto input = dir / ("metrics-" + std::to_string(n) + ".txt");
  std::ofstream(input, std::ios::binary) << text;
  ChildProcess run(
      {"/usr/bin/python3", std::string(ETCDMESOS_SOURCE_DIR) + "/tests/support/parse_metrics.py",
       input.string()},
      dir / ("parse-metrics-" + std::to_string(n)));
  const auto status = run.wait(std::chrono::seconds(30));
  ParsedMetrics out;
  if (!status || !WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    out.error =
        "the Prometheus parser refused the text (or is missing: apt-get install "
        "python3-prometheus-client): " +
        run.stderr_text();
    return out;
  }
  boost::system::error_code ec;
  const auto doc = json::parse(run.stdout_text(), ec);
  if (ec || !doc.is_array()) {
    out.error = "the parser's output is not a JSON list: " + run.stdout_text();
    return out;
  }
  return from_json(doc);
}

}  // namespace etcdmesos::testing
