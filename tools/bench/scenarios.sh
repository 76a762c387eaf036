#!/bin/sh
# scenarios.sh - run issue 5's standard benchmark scenarios against ONE Swift
# API endpoint with cairn-bench, one JSON (and SVG) per scenario.
#
#   tools/bench/scenarios.sh [-o DIR] [-d DURATION] [-c N] [-C N] [-s LIST] -- ENDPOINT...
#
#   ENDPOINT...   cairn-bench endpoint options, e.g.
#                 -A http://127.0.0.1:8080/auth/v1.0 -U test:tester -K testing
#                 or --os-storage-url URL --os-auth-token TOKEN
#   -o DIR        where <scenario>.json / .svg / .txt go (default: bench-out)
#   -d DURATION   measured time per scenario (default: 20s)
#   -c N          concurrency (default: 32, as in the issue's goals table)
#   -C N          concurrency of the 64 MiB scenarios (default: as -c)
#   -s LIST       comma-separated subset of the scenarios (default: all)
#
# Scenarios (name: what):
#   put-4k     4 KiB PUT
#   get-4k     4 KiB GET over 500 prepopulated objects (also gives the p99)
#   head-4k    4 KiB HEAD over 500 prepopulated objects
#   delete-4k  4 KiB DELETE of objects PUT for 1.5 x DURATION beforehand
#              (ends early if they run out; ops/s stays valid)
#   put-64m    64 MiB PUT
#   get-64m    64 MiB GET over 8 prepopulated objects
# Each scenario uses its own containers (cairn-bench-<scenario>-N) and cleans
# up after itself. The orchestration (make bench) calls this once per
# endpoint and compares the JSONs; the last lines printed are a summary.
#
# Environment: CAIRN_BENCH (the binary; default build/cairn-bench beside this
# repository's tools/), BENCH_EXTRA (more cairn-bench options for every run).
# Exit status: 0 if every scenario exited 0, else 1 (2 on bad arguments).
set -u

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bench=${CAIRN_BENCH:-$repo/build/cairn-bench}
out=bench-out
dur=20s
conc=32
bigconc=
only=all

usage() { sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
    case $1 in
    -o) out=$2; shift 2 ;;
    -d) dur=$2; shift 2 ;;
    -c) conc=$2; shift 2 ;;
    -C) bigconc=$2; shift 2 ;;
    -s) only=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    *) echo "scenarios.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done
[ $# -gt 0 ] || { echo "scenarios.sh: no endpoint options after -- (see --help)" >&2; exit 2; }
[ -x "$bench" ] || { echo "scenarios.sh: $bench is not built (make)" >&2; exit 2; }
mkdir -p "$out" || exit 2
bigconc=${bigconc:-$conc}

# Prepopulating DELETE for 1.5x the measured time: seconds from "20s"-like input.
prepop_del=$(python3 -c "
import re,sys
m=re.fullmatch(r'([0-9.]+)(ms|s|m|h)?', sys.argv[1])
if not m: sys.exit(1)
v=float(m.group(1))*{'ms':1e-3,'s':1,None:1,'m':60,'h':3600}[m.group(2)]
print('%dms' % (v*1500))" "$dur") || { echo "scenarios.sh: bad -d '$dur'" >&2; exit 2; }

want() { [ "$only" = all ] || case ",$only," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

status=0

# POSIX sh has no arrays: the endpoint options stay in "$@", so each scenario
# is spelled out with them appended.
one() {
    name=$1; shift
    want "$name" || return 0
    echo "== $name ($(date -u +%H:%M:%S))" >&2
    # shellcheck disable=SC2086
    "$bench" --container-prefix "cairn-bench-$name" --cleanup --label "$name" \
        --json "$out/$name.json" --svg "$out/$name.svg" ${BENCH_EXTRA:-} "$@" \
        >"$out/$name.txt"
    rc=$?
    cat "$out/$name.txt"
    [ $rc -eq 0 ] || { echo "scenarios.sh: $name exited $rc" >&2; status=1; }
}

one put-4k    --mix put    --size 4k  -c "$conc" -d "$dur" "$@"
one get-4k    --mix get    --size 4k  -c "$conc" -d "$dur" -p 500 "$@"
one head-4k   --mix head   --size 4k  -c "$conc" -d "$dur" -p 500 "$@"
one delete-4k --mix delete --size 4k  -c "$conc" -d "$dur" -p "$prepop_del" "$@"
one put-64m   --mix put    --size 64m -c "$bigconc" -d "$dur" "$@"
one get-64m   --mix get    --size 64m -c "$bigconc" -d "$dur" -p 8 "$@"

python3 - "$out" <<'EOF'
import json, os, sys
out = sys.argv[1]
print("%-10s %10s %9s %9s %9s %8s" % ("scenario", "ok/s", "MB/s", "p50 ms", "p99 ms", "errors"))
for name in ("put-4k", "get-4k", "head-4k", "delete-4k", "put-64m", "get-64m"):
    p = os.path.join(out, name + ".json")
    if not os.path.exists(p):
        continue
    j = json.load(open(p))
    m = j["phases"].get("measure")
    if not m:
        print("%-10s (no measured phase)" % name)
        continue
    t = m["ops"]["total"]
    print("%-10s %10.1f %9.2f %9.2f %9.2f %8d" % (name, t["ops_per_s"], t["mb_per_s"],
          t["latency_ms"]["p50"], t["latency_ms"]["p99"], j["errors"]))
EOF
exit $status
