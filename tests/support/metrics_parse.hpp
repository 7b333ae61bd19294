// GET /metrics as Prometheus reads it: the text is parsed by Prometheus' own
// Python client (/usr/bin/python3 with Debian's python3-prometheus-client;
// tests/support/parse_metrics.py), not by a parser of ours, so that a test
// shows the exposition is valid for Prometheus. Blocking; runs one process.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace etcdmesos::testing {

using MetricLabels = std::map<std::string, std::string>;

struct MetricSample {
  std::string name;
  MetricLabels labels;
  double value = 0;
};

struct ParsedFamily {
  std::string name;  // as the parser names it (a counter's without "_total")
  std::string type;  // "counter", "gauge", "histogram", ...
  std::string help;
  std::vector<MetricSample> samples;
};

struct ParsedMetrics {
  std::vector<ParsedFamily> families;
  std::string error;  // why the text did not parse (families empty)

  bool ok() const { return error.empty(); }
  const ParsedFamily* family(const std::string& name) const;
  // Every sample named `name` (in any family).
  std::vector<MetricSample> samples(const std::string& name) const;
  // The value of the sample named `name` whose labels include `labels`;
  // nullopt when there is none or more than one.
  std::optional<double> value(const std::string& name, const MetricLabels& labels = {}) const;
};

// Writes `text` under `dir` and parses it; ParsedMetrics::error says why not.
ParsedMetrics parse_metrics(const std::string& text, const std::filesystem::path& dir);

}  // namespace etcdmesos::testing
