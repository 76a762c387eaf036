#!/usr/bin/env python3
"""compare.py - one table of two scenarios.sh runs, with the A / B ratios.

    tools/bench/compare.py [--names Cairn,Swift] [--json OUT] DIR_A DIR_B

DIR_A and DIR_B hold <scenario>.json files written by scenarios.sh against
two endpoints (e.g. Cairn and Swift, in the same `make bench` run). For each
scenario present in both, prints ok/s, MB/s, p50 and p99 of each side and the
ratio A / B (for latencies B / A, so that > 1 always means A is better), plus
the errors of each side. --json writes the same as a JSON list.

Exit status: 0, or 2 when a directory holds no scenario JSON.
Standard library only.
"""
import argparse
import json
import os
import sys

ORDER = ["put-4k", "get-4k", "head-4k", "delete-4k", "put-64m", "get-64m"]


def load(d):
    out = {}
    if not os.path.isdir(d):
        return out
    for n in sorted(os.listdir(d)):
        if not n.endswith(".json"):
            continue
        try:
            with open(os.path.join(d, n)) as f:
                j = json.load(f)
        except (OSError, ValueError):
            continue
        m = j.get("phases", {}).get("measure")
        if j.get("tool") != "cairn-bench" or not m:
            continue
        t = m["ops"]["total"]
        out[n[:-5]] = {
            "ops_per_s": t["ops_per_s"], "mb_per_s": t["mb_per_s"],
            "p50_ms": t["latency_ms"]["p50"], "p99_ms": t["latency_ms"]["p99"],
            "errors": j.get("errors", 0), "loadavg": m.get("loadavg_start"),
        }
    return out


def ratio(a, b):
    return round(a / b, 2) if a and b else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir_a")
    ap.add_argument("dir_b")
    ap.add_argument("--names", default="A,B", help="column names, e.g. Cairn,Swift")
    ap.add_argument("--json", help="also write the rows as JSON to this file")
    args = ap.parse_args()
    na, nb = (args.names.split(",") + ["B"])[:2]
    a, b = load(args.dir_a), load(args.dir_b)
    for d, got in ((args.dir_a, a), (args.dir_b, b)):
        if not got:
            print("compare.py: no cairn-bench scenario JSON in %s" % d, file=sys.stderr)
            return 2
    names = [n for n in ORDER if n in a and n in b] + \
        sorted(n for n in a if n in b and n not in ORDER)
    rows = []
    for n in names:
        x, y = a[n], b[n]
        rows.append({
            "scenario": n, na: x, nb: y,
            "ratio": {
                "ops_per_s": ratio(x["ops_per_s"], y["ops_per_s"]),
                "mb_per_s": ratio(x["mb_per_s"], y["mb_per_s"]),
                "p50": ratio(y["p50_ms"], x["p50_ms"]),
                "p99": ratio(y["p99_ms"], x["p99_ms"]),
            },
        })
    w = max(len(na), len(nb)) + 5  # "<name> op/s"
    hdr = "%-10s | %*s %*s %7s | %*s %*s %7s | %*s %*s %7s | %*s %*s %7s | errors"
    print(hdr % ("scenario", w, na + " op/s", w, nb + " op/s", "ratio",
                 w, na + " MB/s", w, nb + " MB/s", "ratio",
                 w, na + " p50", w, nb + " p50", "ratio",
                 w, na + " p99", w, nb + " p99", "ratio"))

    def f(v):
        return "-" if v is None else "%.2f" % v
    for r in rows:
        x, y, q = r[na], r[nb], r["ratio"]
        print("%-10s | %*.1f %*.1f %7s | %*.2f %*.2f %7s | %*.1f %*.1f %7s | %*.1f %*.1f %7s | %d / %d"
              % (r["scenario"], w, x["ops_per_s"], w, y["ops_per_s"], f(q["ops_per_s"]),
                 w, x["mb_per_s"], w, y["mb_per_s"], f(q["mb_per_s"]),
                 w, x["p50_ms"], w, y["p50_ms"], f(q["p50"]),
                 w, x["p99_ms"], w, y["p99_ms"], f(q["p99"]), x["errors"], y["errors"]))
    print("ratios: %s / %s for op/s and MB/s, %s / %s for latencies (> 1: %s is better)"
          % (na, nb, nb, na, na))
    if args.json:
        with open(args.json, "w") as fo:
            json.dump(rows, fo, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
