"""Parses a Prometheus text exposition with Prometheus' own Python client
(Debian's python3-prometheus-client) and prints it as JSON for the tests:
[{"family", "type", "help", "samples": [{"name", "labels", "value"}]}].
Exits non-zero (with the parser's error) when the text does not parse."""
import json
import math
import sys

from prometheus_client.parser import text_string_to_metric_families


def value(v):
    return v if math.isfinite(v) else str(v)


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        text = f.read()
    out = []
    for family in text_string_to_metric_families(text):
        out.append({
            "family": family.name,
            "type": family.type,
            "help": family.documentation,
            "samples": [{"name": s.name, "labels": s.labels, "value": value(s.value)}
                        for s in family.samples],
        })
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
