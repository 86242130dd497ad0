#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""gotest_diff.py PLAIN.json TRACED.json - the tests whose outcome differs
between two `go test -json` runs (pass, fail or skip), one "PKG TEST PLAIN
TRACED" line each; a package whose own result differs has TEST "-".
Exit 0 always; the caller decides."""
import json
import sys


def outcomes(path):
    out = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if ev.get("Action") in ("pass", "fail", "skip"):
                # subtests are judged through their parent
                test = ev.get("Test") or "-"
                if "/" in test:
                    continue
                out[(ev.get("Package", "?"), test)] = ev["Action"]
    return out


def main():
    a, b = outcomes(sys.argv[1]), outcomes(sys.argv[2])
    for key in sorted(set(a) | set(b)):
        pa, pb = a.get(key, "absent"), b.get(key, "absent")
        if pa != pb:
            print(key[0], key[1], pa, pb)
    print("compared %d tests" % len(set(a) | set(b)), file=sys.stderr)


if __name__ == "__main__":
    main()
