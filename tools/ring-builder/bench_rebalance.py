#!/usr/bin/env python3
"""Rebalance speed: cairn-ring-builder against swift-ring-builder.

Not a test; run by hand (Swift at part power 20 takes many minutes):

    /usr/bin/python3 tools/ring-builder/bench_rebalance.py [--powers 18,20]
        [--devices 1000] [--build build] [--skip-swift-above 20]

For each part power: create a builder with 3 replicas, add the devices
(2 regions x 5 zones x 20 servers x 5 devices of mixed weights for 1000),
then time the first `rebalance` (placing every replica) and, after
pretend_min_part_hours_passed and a reweight of 5% of the devices, a second
`rebalance`. Wall-clock and CPU seconds of the whole command (load,
rebalance, write ring and builder) are reported per tool, with the ratios
swift/cairn (CPU is the steadier number on a shared machine).
Standard library only.
"""
import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time


def layout(n):
    devs = []
    weights = [100, 150, 200, 300, 400]
    i = 0
    while len(devs) < n:
        region = 1 + (i // 500) % 2
        zone = 1 + (i // 100) % 5
        server = 1 + (i // 5) % 20
        dev = i % 5
        ip = "10.%d.%d.%d" % (region, zone, server + 10 * (i // 1000))
        devs.append(("r%dz%d-%s:6200/d%d" % (region, zone, ip, dev),
                     weights[(dev + server) % 5]))
        i += 1
    return devs


def cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(argv0, builder, *args, ok=(0, 1)):
    """(wall seconds, CPU seconds of the child, stdout)"""
    start, cpu0 = time.time(), cpu()
    p = subprocess.run([argv0, builder] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True)
    secs, cpus = time.time() - start, cpu() - cpu0
    if p.returncode not in ok:
        sys.exit("%s %s: exit %d\n%s%s" % (argv0, " ".join(args[:3]),
                                           p.returncode, p.stdout, p.stderr))
    return (secs, cpus), p.stdout


def bench(argv0, workdir, power, ndev):
    builder = os.path.join(workdir, "object.builder")
    run(argv0, builder, "create", str(power), "3", "1", ok=(0,))
    args = []
    for d, w in layout(ndev):
        args += [d, str(w)]
    run(argv0, builder, "add", *args, ok=(0,))
    first, out1 = run(argv0, builder, "rebalance", "--seed", "7")
    run(argv0, builder, "pretend_min_part_hours_passed", ok=(0,))
    for d, _ in layout(ndev)[::20]:
        search = d.split("-", 1)[1]
        run(argv0, builder, "set_weight", search, "250", "--yes", ok=(0,))
    second, out2 = run(argv0, builder, "rebalance", "--seed", "8")
    return first, second, out1.splitlines()[0], out2.splitlines()[0]


def main():
    src = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.environ.get(
        "CAIRN_BUILD", os.path.join(src, "build")))
    ap.add_argument("--swift", default=shutil.which("swift-ring-builder") or
                    "/usr/bin/swift-ring-builder")
    ap.add_argument("--powers", default="18,20")
    ap.add_argument("--devices", type=int, default=1000)
    ap.add_argument("--skip-swift-above", type=int, default=32,
                    help="do not run Swift above this part power")
    a = ap.parse_args()
    ours = os.path.join(a.build, "cairn-ring-builder")
    top = tempfile.mkdtemp(prefix="rb-bench-")
    try:
        for power in [int(x) for x in a.powers.split(",")]:
            res = {}
            for name, argv0 in (("cairn", ours), ("swift", a.swift)):
                if name == "swift" and power > a.skip_swift_above:
                    continue
                d = os.path.join(top, "%s-%d" % (name, power))
                os.mkdir(d)
                res[name] = bench(argv0, d, power, a.devices)
                first, second, l1, l2 = res[name]
                print("pp %d, %d devices, %s: first rebalance %.2f s wall "
                      "(%.2f s CPU), second %.2f s wall (%.2f s CPU)" % (
                          power, a.devices, name, first[0], first[1],
                          second[0], second[1]))
                print("    %s\n    %s" % (l1, l2))
                sys.stdout.flush()
                shutil.rmtree(d)
            if "swift" in res:
                s, c = res["swift"], res["cairn"]
                print("pp %d ratio swift/cairn: first %.1fx wall, %.1fx CPU; "
                      "second %.1fx wall, %.1fx CPU" % (
                          power, s[0][0] / c[0][0], s[0][1] / c[0][1],
                          s[1][0] / c[1][0], s[1][1] / c[1][1]))
            sys.stdout.flush()
    finally:
        shutil.rmtree(top)


if __name__ == "__main__":
    main()
