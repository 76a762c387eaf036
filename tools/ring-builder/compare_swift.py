#!/usr/bin/env python3
"""Side by side: cairn-ring-builder against swift-ring-builder on one input.

Not a test (slow: Swift takes tens of seconds per rebalance); run by hand:

    /usr/bin/python3 tools/ring-builder/compare_swift.py [--seeds 1,2,3]
        [--build build] [--swift swift-ring-builder] [--part-power 14]

The cluster: 2 regions x 4 zones x 6 servers x 4 devices (192 devices) of
mixed weights, part power 14, 3 replicas, min_part_hours 1. Steps, each
followed by a rebalance (pretend_min_part_hours_passed before every
rebalance but the first):

  1. initial placement
  2. +10% devices: 20 new devices on 5 new servers
  3. a reweight: 12 devices up by half, 12 down by a quarter
  4. a further rebalance (the remaining moves of step 3)

For each tool and step it prints the partitions reassigned (Swift's count:
part-replicas whose device changed), balance and dispersion, and the total
moved. Lower is better everywhere. Standard library only.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

REASSIGNED = re.compile(r"Reassigned (\d+) \(([\d.]+)%\) partitions\. "
                        r"Balance is now ([\d.]+)\.  Dispersion is now ([\d.]+)")


def devices():
    """(add-value, weight) for the 192-device cluster."""
    out = []
    weights = [100, 200, 300, 400]
    for region in (1, 2):
        for zone in range(1, 5):
            for server in range(1, 7):
                ip = "10.%d.%d.%d" % (region, zone, server)
                for dev in range(4):
                    # mixed: the weight pattern shifts with the server
                    w = weights[(dev + server) % 4]
                    out.append(("r%dz%d-%s:6200/sd%s" % (region, zone, ip,
                                                        "abcd"[dev]), w))
    return out


def new_devices():
    """20 more devices: 5 new servers of 4 devices in different zones."""
    out = []
    spots = [(1, 1), (1, 3), (2, 2), (2, 4), (1, 2)]
    for i, (region, zone) in enumerate(spots):
        ip = "10.%d.%d.%d" % (region, zone, 50 + i)
        for dev in range(4):
            out.append(("r%dz%d-%s:6200/sd%s" % (region, zone, ip, "abcd"[dev]),
                        [150, 250, 300, 350][dev]))
    return out


def reweights():
    up = ["10.1.1.1", "10.1.2.2", "10.2.3.3"]
    down = ["10.2.1.4", "10.1.4.5", "10.2.2.6"]
    cmds = []
    for ip in up:
        for dev in "abcd":
            cmds.append(("%s/sd%s" % (ip, dev), 1.5))
    for ip in down:
        for dev in "abcd":
            cmds.append(("%s/sd%s" % (ip, dev), 0.75))
    return cmds


class Tool:
    def __init__(self, name, argv0, workdir):
        self.name = name
        self.argv0 = argv0
        self.dir = workdir
        self.builder = os.path.join(workdir, "object.builder")
        self.seconds = 0.0

    def run(self, *args, ok=(0,)):
        start = time.time()
        p = subprocess.run([self.argv0, self.builder] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True)
        self.seconds += time.time() - start
        if p.returncode not in ok:
            sys.exit("%s %s: exit %d\n%s%s" % (self.name, " ".join(args),
                                               p.returncode, p.stdout, p.stderr))
        return p

    def weight_of(self, search):
        p = self.run("search", search)
        line = p.stdout.splitlines()[1].split()
        return float(line[8])

    def rebalance(self, seed):
        p = self.run("rebalance", "--seed", str(seed), ok=(0, 1))
        m = REASSIGNED.search(p.stdout)
        if not m:
            return 0, None, None
        return int(m.group(1)), float(m.group(3)), float(m.group(4))


def scenario(tool, seed, part_power):
    rows = []
    tool.run("create", str(part_power), "3", "1")
    args = []
    for dev, w in devices():
        args += [dev, str(w)]
    tool.run("add", *args)
    rows.append(("initial",) + tool.rebalance(seed))

    tool.run("pretend_min_part_hours_passed")
    args = []
    for dev, w in new_devices():
        args += [dev, str(w)]
    tool.run("add", *args)
    rows.append(("+10% devices",) + tool.rebalance(seed + 1))

    tool.run("pretend_min_part_hours_passed")
    for search, factor in reweights():
        w = tool.weight_of(search)
        tool.run("set_weight", search, "%g" % (w * factor), "--yes")
    rows.append(("reweight",) + tool.rebalance(seed + 2))

    tool.run("pretend_min_part_hours_passed")
    rows.append(("settle",) + tool.rebalance(seed + 3))
    return rows


def ideal_moves(part_power):
    """Part-replicas the new devices must receive after step 2."""
    parts = 2 ** part_power * 3
    old = sum(w for _, w in devices())
    new = sum(w for _, w in new_devices())
    return int(parts * new / (old + new))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    src = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    ap.add_argument("--build", default=os.environ.get(
        "CAIRN_BUILD", os.path.join(src, "build")))
    ap.add_argument("--swift", default=shutil.which("swift-ring-builder") or
                    "/usr/bin/swift-ring-builder")
    ap.add_argument("--seeds", default="1")
    ap.add_argument("--part-power", type=int, default=14)
    ap.add_argument("--only", choices=("cairn", "swift"),
                    help="run one tool only")
    a = ap.parse_args()
    ours_bin = os.path.join(a.build, "cairn-ring-builder")
    seeds = [int(s) for s in a.seeds.split(",")]
    totals = {"cairn": [], "swift": []}
    top = tempfile.mkdtemp(prefix="rb-compare-")
    try:
        for seed in seeds:
            print("seed %d, part power %d, 192 devices -> 212" %
                  (seed, a.part_power))
            print("%-14s %-6s %10s %9s %11s" % ("step", "tool", "moved",
                                                "balance", "dispersion"))
            results = {}
            tools = [("cairn", ours_bin), ("swift", a.swift)]
            tools = [x for x in tools if not a.only or x[0] == a.only]
            for name, argv0 in tools:
                d = os.path.join(top, "%s-%d" % (name, seed))
                os.mkdir(d)
                tool = Tool(name, argv0, d)
                results[name] = (scenario(tool, seed, a.part_power), tool.seconds)
            names = [x[0] for x in tools]
            for i in range(len(results[names[0]][0])):
                for name in names:
                    step, moved, bal, disp = results[name][0][i]
                    print("%-14s %-6s %10d %9s %11s" % (
                        step, name, moved,
                        "-" if bal is None else "%.2f" % bal,
                        "-" if disp is None else "%.2f" % disp))
            for name in names:
                rows, secs = results[name]
                moved = sum(r[1] for r in rows[1:])
                final_bal = [r[2] for r in rows if r[2] is not None][-1]
                final_disp = [r[3] for r in rows if r[3] is not None][-1]
                totals[name].append((moved, final_bal, final_disp))
                print("%s: moved after initial %d, final balance %.2f, "
                      "final dispersion %.2f, %.1f s in the tool" %
                      (name, moved, final_bal, final_disp, secs))
            print("ideal moves for the +10%% step: %d" % ideal_moves(a.part_power))
            print()
        if len(seeds) > 1:
            for name in names:
                t = totals[name]
                print("%s mean over %d seeds: moved %.1f, balance %.2f, "
                      "dispersion %.2f" % (
                          name, len(t), sum(x[0] for x in t) / len(t),
                          sum(x[1] for x in t) / len(t),
                          sum(x[2] for x in t) / len(t)))
    finally:
        shutil.rmtree(top)


if __name__ == "__main__":
    main()
