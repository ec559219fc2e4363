#!/usr/bin/env python3
"""Reads Prometheus text exposition on stdin and prints it back as JSON, as parsed by the
official client library's parser (Debian: python3-prometheus-client): a list of families,
each {"name", "type", "samples": [{"name", "labels", "value"}]}. Exits non-zero if the
parser rejects the text, so the test sees the parser's own error."""
import json
import math
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    families = []
    for family in text_string_to_metric_families(sys.stdin.read()):
        samples = []
        for s in family.samples:
            # JSON has no infinity; no sample of ours should be one.
            value = s.value if math.isfinite(s.value) else str(s.value)
            samples.append({"name": s.name, "labels": s.labels, "value": value})
        families.append({"name": family.name, "type": family.type, "samples": samples})
    json.dump(families, sys.stdout)


if __name__ == "__main__":
    main()
