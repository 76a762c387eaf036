#!/usr/bin/env python3
# tier: quick
"""cairn-ring-builder through its command line, as an operator uses it.

Checks the output shapes and exit codes of swift-ring-builder 2.30 (0 ok,
1 warning, 2 error), that every rejected input leaves the builder file
byte-identical, and the placement properties: weight-proportional spread,
zone dispersion, min_part_hours, minimal movement on add. Assignments are
read from the builder file (JSON, base64 little-endian uint16 rows).
"""
import base64
import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ.get("CAIRN_SRC", "."), "test", "lib"))
from tap import Tap  # noqa: E402

BIN = os.path.join(os.environ.get("CAIRN_BUILD", "build"), "cairn-ring-builder")
t = Tap()
top = tempfile.mkdtemp(prefix="rb-cli-")


def rb(builder, *args, stdin=None):
    p = subprocess.run([BIN, builder] + [str(a) for a in args],
                       input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True)
    return p.returncode, p.stdout, p.stderr


def md5(path):
    with open(path, "rb") as f:
        return hashlib.md5(f.read()).hexdigest()


def table(builder):
    """replica rows of the builder as lists of device ids."""
    with open(builder) as f:
        doc = json.load(f)
    rows = []
    for r in doc["replica2part2dev"] or []:
        raw = base64.b64decode(r)
        rows.append(list(struct.unpack("<%dH" % (len(raw) // 2), raw)))
    return rows


def parts_of(rows):
    """per partition, the list of device ids (replica order)."""
    return [list(col) for col in zip(*rows)]


def summary_devices(builder):
    """id -> (weight, partitions) from the default output."""
    _, out, _ = rb(builder)
    devs = {}
    seen = False
    for line in out.splitlines():
        if line.startswith("Devices:"):
            seen = True
            continue
        if seen and line.strip() and line.split()[0].isdigit():
            f = line.split()
            devs[int(f[0])] = (float(f[6]), int(f[7]))
    return devs


def new_dir(name):
    d = os.path.join(top, name)
    os.mkdir(d)
    return os.path.join(d, "object.builder")


def rejected(builder, args, name, want_err=None):
    """args must fail with exit 2, one line on stderr, builder unchanged."""
    before = md5(builder) if os.path.exists(builder) else None
    rc, out, err = rb(builder, *args)
    t.eq(rc, 2, "%s: exit 2" % name)
    lines = [l for l in err.splitlines() if l.strip()]
    t.ok(len(lines) == 1, "%s: one line on stderr" % name) or t.diag(err)
    if want_err:
        t.ok(re.search(want_err, err), "%s: reason says %r" % (name, want_err)) \
            or t.diag(err)
    after = md5(builder) if os.path.exists(builder) else None
    t.eq(after, before, "%s: builder file byte-identical" % name)


def sequence():
    b = new_dir("seq")
    d = os.path.dirname(b)
    rc, out, err = rb(b, "create", 8, 3, 1)
    t.ok(rc == 0 and out == "" and err == "", "create: exit 0, silent")
    t.ok(os.path.exists(b), "create writes the builder")
    t.eq(len(os.listdir(os.path.join(d, "backups"))), 1,
         "create keeps a backup copy")
    rc, out, _ = rb(b, "add", "r1z1-127.0.0.1:6200/sdb1", 100,
                    "r1z2-127.0.0.2:6200R10.0.0.2:6300/sdb2_fast disk", 100)
    t.eq(rc, 0, "add (device strings): exit 0")
    t.eq(out.splitlines(), [
        'Device d0r1z1-127.0.0.1:6200R127.0.0.1:6200/sdb1_"" with 100.0 '
        'weight got id 0',
        'Device d1r1z2-127.0.0.2:6200R10.0.0.2:6300/sdb2_"fast disk" with '
        '100.0 weight got id 1'], "add prints Swift's line per device")
    rc, out, err = rb(b, "add", "z3-127.0.0.3:6200/sdb3", "100.5")
    t.eq(rc, 0, "add without region: exit 0")
    t.ok("WARNING: No region specified for z3-127.0.0.3:6200/sdb3. "
         "Defaulting to region 1." in err, "add without region warns")
    rc, out, _ = rb(b, "add", "--region", 1, "--zone", 4, "--ip", "127.0.0.4",
                    "--port", 6200, "--device", "sdb4", "--weight", 100,
                    "--meta", "m4")
    t.eq((rc, out.strip()), (0, 'Device d3r1z4-127.0.0.4:6200R127.0.0.4:6200/'
                             'sdb4_"m4" with 100.0 weight got id 3'),
         "add with long options")
    rb(b, "add", "r1z5-127.0.0.5:6200/sdb5", 100)

    rc, out, _ = rb(b)
    lines = out.splitlines()
    t.eq(rc, 0, "summary: exit 0")
    t.ok(re.match(r"^.*object\.builder, build version 5, id [0-9a-f]{32}$",
                  lines[0]), "summary: build version and id") or t.diag(lines[0])
    t.eq(lines[1], "256 partitions, 3.000000 replicas, 1 regions, 5 zones, "
         "5 devices, 100.00 balance, 0.00 dispersion", "summary: counts line")
    t.eq(lines[2], "The minimum number of hours before a partition can be "
         "reassigned is 1 (0:00:00 remaining)", "summary: min_part_hours line")
    t.eq(lines[3], "The overload factor is 0.00% (0.000000)",
         "summary: overload line")
    t.ok(lines[4].endswith("object.ring not found, probably it hasn't been "
                           "written yet"), "summary: no ring file yet")
    t.eq(lines[5], "Devices:   id region zone ip address:port replication "
         "ip:port  name weight partitions balance flags meta",
         "summary: device table header")
    t.eq(lines[7], "            1      1    2  127.0.0.2:6200       "
         "10.0.0.2:6300  sdb2 100.00          0 -100.00       fast disk",
         "summary: device row")

    rc, out, _ = rb(b, "rebalance", "--seed", 1)
    t.eq(rc, 0, "first rebalance: exit 0")
    t.ok(re.match(r"^Reassigned 768 \(300\.00%\) partitions\. Balance is now "
                  r"[\d.]+\.  Dispersion is now 0\.00$", out.splitlines()[0]),
         "first rebalance: Reassigned line") or t.diag(out)
    t.ok(os.path.exists(os.path.join(d, "object.ring")),
         "rebalance writes object.ring beside the builder")
    bk = os.listdir(os.path.join(d, "backups"))
    # (copies made in the same second share a name, as in Swift)
    t.ok(any(n.endswith(".object.ring") for n in bk) and
         any(n.endswith(".object.builder") for n in bk),
         "rebalance keeps backups of ring and builder") or t.diag(bk)
    rc, out, _ = rb(b)
    t.ok(re.search(r"Ring file .*object\.ring is up-to-date", out),
         "summary: ring file up-to-date")
    t.eq(rb(b, "validate"), (0, "", ""), "validate: silent, exit 0")
    rc, out, _ = rb(b, "search", "z2")
    t.eq(rc, 0, "search: exit 0")
    t.eq(out.splitlines()[0], "Devices:    id  region  zone      ip address  "
         "port  replication ip  replication port      name weight partitions "
         "balance meta", "search: header")
    t.ok(re.match(r"^\s+1\s+1\s+2\s+127\.0\.0\.2\s+6200\s+10\.0\.0\.2\s+6300"
                  r"\s+sdb2 100\.00\s+\d+\s+-?[\d.]+ fast disk$",
                  out.splitlines()[1]), "search: device row")
    rc, out, _ = rb(b, "search", "--ip", "127.0.0.4")
    t.ok(rc == 0 and "sdb4" in out and "sdb1" not in out,
         "search with --ip option")
    rc, out, _ = rb(b, "list_parts", "d1")
    lines = out.splitlines()
    t.ok(rc == 0 and lines[0] == "Partition   Matches" and
         all(re.match(r"^\s+\d+\s+1$", l) for l in lines[1:]),
         "list_parts: header and one match per partition")
    t.eq(len(lines) - 1, sum(1 for p in parts_of(table(b)) if 1 in p),
         "list_parts lists every partition of the device")

    rc, out, _ = rb(b, "rebalance")
    t.eq(rc, 1, "rebalance within min_part_hours: exit 1")
    t.ok(out.startswith("No partitions could be reassigned.\nThe time between "
                        "rebalances must be at least min_part_hours: 1 hours"),
         "rebalance within min_part_hours: Swift's message") or t.diag(out)

    rc, out, _ = rb(b, "set_weight", "d0", 200, "--yes")
    t.eq((rc, out.strip()), (0, 'd0r1z1-127.0.0.1:6200R127.0.0.1:6200/sdb1_"" '
                             'weight set to 200.0'), "set_weight")
    before = table(b)
    rb(b, "pretend_min_part_hours_passed")
    rc, out, _ = rb(b, "rebalance", "--seed", 2)
    t.ok(rc in (0, 1) and out.startswith("Reassigned"),
         "rebalance after set_weight") or t.diag(out)
    after = table(b)
    moved_per_part = [sum(1 for r in range(3) if before[r][p] != after[r][p])
                      for p in range(256)]
    t.ok(max(moved_per_part) <= 1,
         "set_weight rebalance moves at most one replica per partition")
    t.ok(sum(1 for p in parts_of(after) if 0 in p) >
         sum(1 for p in parts_of(before) if 0 in p),
         "the heavier device gained partitions")

    rc, out, _ = rb(b, "remove", "d1", "--yes")
    t.eq((rc, out.strip()), (0, 'd1r1z2-127.0.0.2:6200R10.0.0.2:6300/sdb2_'
                             '"fast disk" marked for removal and will be '
                             'removed next rebalance.'), "remove")
    rc, out, _ = rb(b)
    t.ok(re.search(r"\n\s+1\s+1\s+2 .* 0\.00\s+\d+\s+999\.99   DEL fast disk",
                   out), "summary flags the device DEL with 0 weight") \
        or t.diag(out)
    # min_part_hours has not passed, yet the removed device is emptied
    rc, out, _ = rb(b, "rebalance", "--seed", 3)
    t.ok(rc in (0, 1) and out.startswith("Reassigned"),
         "rebalance after remove (min_part_hours not passed)") or t.diag(out)
    rows = table(b)
    t.ok(all(1 not in r for r in rows), "no partition left on the removed device")
    rc, out, _ = rb(b)
    t.ok(rc == 0 and "4 devices" in out and "sdb2" not in out,
         "summary no longer lists the removed device")
    t.eq(rb(b, "validate")[0], 0, "validate after remove")
    rc, out, _ = rb(b, "add", "r1z2-127.0.0.2:6200/sdb9", 100)
    t.ok(rc == 0 and "got id 1" in out, "a new device reuses the freed id")

    rc, out, _ = rb(b, "set_overload", "10%")
    t.eq((rc, out), (0, "The overload factor is now 10.00% (0.100000)\n"
                     "The change will take effect after the next rebalance.\n"),
         "set_overload 10%")
    rc, out, _ = rb(b, "set_overload", 2)
    t.eq(rc, 1, "set_overload above 100% without %: exit 1 (warning)")
    rc, out, _ = rb(b, "set_overload", 0.1)
    t.eq(rc, 0, "set_overload 0.1")
    rc, out, _ = rb(b, "set_replicas", "2.5")
    t.eq((rc, out), (0, "The replica count is now 2.500000.\nThe change will "
                     "take effect after the next rebalance.\n"), "set_replicas")
    rc, out, _ = rb(b, "set_min_part_hours", 0)
    t.eq((rc, out), (0, "The minimum number of hours before a partition can be "
                     "reassigned is now set to 0\n"), "set_min_part_hours")
    rc, out, _ = rb(b, "rebalance", "--seed", 4)
    rows = table(b)
    t.ok(rc in (0, 1) and len(rows) == 3 and len(rows[2]) == 128,
         "fractional replicas: last row covers half the partitions")
    rc, out, _ = rb(b, "set_info", "d3", "127.0.0.9:6201/sdb7_new meta", "--yes")
    t.eq((rc, out.strip()), (0, 'Device d3r1z4-127.0.0.4:6200R127.0.0.4:6200/'
                             'sdb4_"m4" is now d3r1z4-127.0.0.9:6201R127.0.0.4:'
                             '6200/sdb7_"new meta"'), "set_info")
    rc, out, _ = rb(b)
    t.ok("is obsolete" in out, "summary: ring file obsolete after set_info")
    rc, out, err = rb(b, "write_ring")
    t.eq((rc, out, err), (0, "", ""), "write_ring")
    t.ok("is up-to-date" in rb(b)[1], "summary: up-to-date after write_ring")
    rc, out, _ = rb(b, "dispersion", "-v")
    lines = out.splitlines()
    t.ok(rc in (0, 1) and lines[0].startswith("Dispersion is ") and
         lines[1].startswith("Required overload is ") and
         any(re.match(r"^Tier\s+Parts\s+%\s+Max\s+0\s+1\s+2\s+3$", l)
             for l in lines), "dispersion -v: report shape") or t.diag(out)
    # the .ring name as first argument maps to the builder
    rc, out, _ = rb(os.path.join(d, "object.ring"))
    t.ok(rc == 0 and out.startswith("Note: using ") and
         "as builder file" in out, "a .ring argument names the builder")


def bad_inputs():
    b = new_dir("bad")
    rb(b, "create", 6, 3, 1)
    rb(b, "add", "r1z1-127.0.0.1:6200/sdb1", 100, "r1z2-127.0.0.2:6200/sdb2",
       100, "r1z3-127.0.0.3:6200/sdb3", 100)
    rejected(b, ["add", "r1z1-127.0.0.1/sdb1", 100], "device string without "
             "port", "port")
    rejected(b, ["add", "r1x1-127.0.0.1:6200/sdb1", 100], "device string "
             "without zone", "Invalid add value")
    rejected(b, ["add", "r1z1-300.0.0.1:6200/sdb9", 100], "device string with "
             "bad ip", "ip")
    rejected(b, ["add", "r1z1-127.0.0.1:6200/", 100], "device string without "
             "device name", "device name")
    rejected(b, ["add", "r1z1-127.0.0.1:99999/sdb9", 100], "port out of range",
             "port")
    rejected(b, ["add", "r1z1-127.0.0.1:6200/sdb1", 100], "duplicate "
             "ip:port/device", "already uses 127.0.0.1:6200/sdb1")
    rejected(b, ["add", "r1z4-127.0.0.9:6200/sdb9", 100,
                 "r1z4-127.0.0.9:6200/sdb9", 100],
             "duplicate within one add", "already uses")
    rejected(b, ["add", "r1z4-127.0.0.9:6200/sdb9", -5], "negative weight",
             "weight")
    rejected(b, ["add", "--region", 1, "--zone", 4, "--ip", "127.0.0.9",
                 "--port", 6200, "--device", "sdb9", "--weight", -5],
             "negative weight (long options)", "weight")
    rejected(b, ["add", "--region", 1, "--zone", 4, "--ip", "127.0.0.9",
                 "--port", 6200, "--weight", 5], "long options without "
             "--device", "device")
    rejected(b, ["add", "r1z4-127.0.0.9:6200/sdb9", "heavy"], "weight not a "
             "number", "weight")
    rejected(b, ["set_weight", "d0", -1, "--yes"], "set_weight negative",
             "weight")
    rejected(b, ["set_weight", "d9", 100], "set_weight matching nothing",
             "matched 0 devices")
    rejected(b, ["search", "q1"], "malformed search value", "search-value")
    rejected(b, ["frobnicate"], "unknown command", "Unknown command: frobnicate")
    rejected(b, ["create", 0, 3, 1], "create over an existing builder with "
             "part power 0", "part_power")
    rejected(b, ["list_parts", "d0"], "list_parts before rebalance",
             "rebalance")
    rejected(b, ["write_ring"], "write_ring before rebalance", "rebalance")
    rejected(b, ["set_overload", "-3"], "negative overload", "non-negative")
    rejected(b, ["set_replicas", "0.5"], "replicas below 1", "at least 1")
    rejected(b, ["rebalance", "--bogus"], "unknown rebalance option", "option")

    for pp in ("0", "33", "abc", "-1"):
        nb = os.path.join(top, "bad", "pp%s.builder" % pp)
        rc, out, err = rb(nb, "create", pp, 3, 1)
        t.ok(rc == 2 and len(err.strip().splitlines()) == 1 and
             "part_power" in err and not os.path.exists(nb),
             "create with part power %s: exit 2, one line, nothing written"
             % pp) or t.diag(err)

    missing = os.path.join(top, "bad", "missing.builder")
    rc, out, err = rb(missing, "add", "r1z1-127.0.0.1:6200/sdb1", 100)
    t.ok(rc == 2 and "does not exist" in err and
         len(err.strip().splitlines()) == 1 and not os.path.exists(missing),
         "missing builder: exit 2, one line, not created")
    rc, _, err = rb(missing)
    t.ok(rc == 2 and "does not exist" in err, "missing builder: summary exit 2")

    # corruption: a changed digit, a truncated file, not JSON at all
    with open(b) as f:
        text = f.read()
    cases = [("changed weight", text.replace('"weight": 100.0',
                                             '"weight": 900.0', 1)),
             ("truncated", text[:len(text) // 2]),
             ("garbage", "\x00\x01 not a builder\n")]
    for name, content in cases:
        cb = os.path.join(top, "bad", "corrupt.builder")
        with open(cb, "w") as f:
            f.write(content)
        rejected(cb, [], "corrupt builder (%s): summary" % name, "invalid")
        rejected(cb, ["add", "r1z9-127.0.0.9:6200/sdb9", 1],
                 "corrupt builder (%s): add" % name, "invalid")
        rejected(cb, ["rebalance"], "corrupt builder (%s): rebalance" % name,
                 "invalid")


def weight_spread():
    b = new_dir("weights")
    rb(b, "create", 10, 3, 1)
    weights = [100, 100, 200, 200, 300, 300, 150, 250]
    args = []
    for i, w in enumerate(weights):
        args += ["r1z%d-10.0.0.%d:6200/sda" % (i + 1, i + 1), w]
    rb(b, "add", *args)
    rc, out, _ = rb(b, "rebalance", "--seed", 5)
    t.eq(rc, 0, "weighted rebalance: exit 0")
    devs = summary_devices(b)
    total = sum(weights)
    worst = max(abs(parts - 3 * 1024 * w / total) / (3 * 1024 * w / total)
                for w, parts in devs.values())
    t.ok(worst < 0.01, "partitions follow weights within 1%% (worst %.4f)"
         % worst)


def zone_dispersion():
    b = new_dir("zones")
    rb(b, "create", 10, 3, 1)
    args = []
    for z in range(1, 5):
        for s in range(2):
            for dev in ("sda", "sdb"):
                args += ["r1z%d-10.0.%d.%d:6200/%s" % (z, z, s, dev),
                         100 + 50 * s]
    rb(b, "add", *args)
    rc, out, _ = rb(b, "rebalance", "--seed", 6)
    t.ok(rc == 0 and "Dispersion is now 0.00" in out, "zones: dispersion 0.00")
    with open(b) as f:
        zone_of = {d["id"]: d["zone"] for d in json.load(f)["devs"] if d}
    parts = parts_of(table(b))
    t.ok(all(len({zone_of[d] for d in p}) == 3 for p in parts),
         "every partition has its 3 replicas in 3 different zones")
    # two regions: each region holds at least one replica of each partition
    b2 = new_dir("regions")
    rb(b2, "create", 8, 3, 1)
    args = []
    for r in (1, 2):
        for z in (1, 2):
            args += ["r%dz%d-10.%d.%d.1:6200/sda" % (r, z, r, z), 100]
    rb(b2, "add", *args)
    rb(b2, "rebalance", "--seed", 7)
    with open(b2) as f:
        region_of = {d["id"]: d["region"] for d in json.load(f)["devs"] if d}
    t.ok(all(len({region_of[d] for d in p}) == 2 for p in parts_of(table(b2))),
         "with two regions every partition is in both")


def min_part_hours():
    b = new_dir("mph")
    rb(b, "create", 9, 3, 24)
    args = []
    for z in range(1, 6):
        args += ["r1z%d-10.0.0.%d:6200/sda" % (z, z), 100]
    rb(b, "add", *args)
    rb(b, "rebalance", "--seed", 8)
    rb(b, "add", "r1z6-10.0.0.6:6200/sda", 100)
    before_sum = md5(b)
    rc, out, _ = rb(b, "rebalance", "--seed", 9)
    t.eq(rc, 1, "min_part_hours 24: rebalance right after is refused (exit 1)")
    t.ok("24 hours (23:59:" in out or "24 hours (1 day" in out,
         "message gives min_part_hours and the time remaining") or t.diag(out)
    t.eq(md5(b), before_sum, "refused rebalance leaves the builder unchanged")
    before = table(b)
    rb(b, "pretend_min_part_hours_passed")
    rc, out, _ = rb(b, "rebalance", "--seed", 9)
    t.ok(rc in (0, 1) and out.startswith("Reassigned"),
         "after pretend_min_part_hours_passed the rebalance runs")
    after = table(b)
    moved = [sum(1 for r in range(3) if before[r][p] != after[r][p])
             for p in range(512)]
    t.ok(max(moved) == 1, "no partition moved more than one replica")
    t.ok(sum(moved) > 0, "partitions did move")


def minimal_movement():
    b = new_dir("move")
    rb(b, "create", 10, 3, 1)
    args = []
    for z in range(1, 5):
        for s in range(2):
            args += ["r1z%d-10.0.%d.%d:6200/sda" % (z, z, s), 100]
    rb(b, "add", *args)
    rb(b, "rebalance", "--seed", 10)
    before = table(b)
    rb(b, "pretend_min_part_hours_passed")
    # two more servers in existing zones: 10 devices of equal weight
    rb(b, "add", "r1z1-10.0.1.9:6200/sda", 100, "r1z3-10.0.3.9:6200/sda", 100)
    rc, out, _ = rb(b, "rebalance", "--seed", 11)
    after = table(b)
    changed = [(r, p) for r in range(3) for p in range(1024)
               if before[r][p] != after[r][p]]
    ideal = 3 * 1024 * 2 // 10
    m = re.match(r"Reassigned (\d+) ", out)
    t.ok(m and int(m.group(1)) == len(changed), "Reassigned counts changed "
         "slots") or t.diag(out)
    t.ok(len(changed) <= ideal + ideal // 50, "adding 2 of 10 devices moves "
         "%d part-replicas (ideal %d)" % (len(changed), ideal))
    t.ok(all(after[r][p] in (8, 9) for r, p in changed),
         "every moved replica went to a new device")


def seed_and_overload():
    rings = []
    for name in ("det1", "det2"):
        b = new_dir(name)
        rb(b, "create", 8, 3, 1)
        rb(b, "add", "r1z1-10.0.0.1:6200/a", 200, "r1z1-10.0.0.2:6200/b", 200,
           "r1z2-10.0.0.3:6200/c", 100, "r1z3-10.0.0.4:6200/d", 100)
        rc, out, _ = rb(b, "rebalance", "--seed", 42)
        with open(os.path.join(os.path.dirname(b), "object.ring"), "rb") as f:
            rings.append(f.read())
        rings.append(out)
    t.ok(rings[0] == rings[2], "same builder and seed give the same ring file")
    # zone 1 weighs half the cluster: weights win at overload 0 ...
    t.ok(rings[1].startswith("Reassigned 768 (300.00%) partitions. Balance is "
                             "now 0.00.  Dispersion is now 33.33"),
         "overload 0: weights obeyed, dispersion 33.33") or t.diag(rings[1])
    rc, out, _ = rb(b, "dispersion")
    t.ok(rc == 1 and "Required overload is 100.000000%" in out and
         "Worst tier is 50.000000 (r1z1)" in out,
         "dispersion report: required overload and worst tier") or t.diag(out)
    # ... and dispersion wins once the overload allows it
    rb(b, "set_overload", "100%")
    rb(b, "pretend_min_part_hours_passed")
    rc, out, _ = rb(b, "rebalance", "--seed", 43)
    t.ok(out.startswith("Reassigned 256 (100.00%) partitions. Balance is now "
                        "100.00.  Dispersion is now 0.00"),
         "overload 100%: one replica per zone") or t.diag(out)
    rb(b, "pretend_min_part_hours_passed")
    rc, out, _ = rb(b, "rebalance", "--seed", 44)
    t.eq((rc, out), (1, "No partitions could be reassigned.\nThere is no need "
                     "to do so at this time\n"), "a settled ring: nothing to do")


try:
    if not os.access(BIN, os.X_OK):
        t.ok(False, "cairn-ring-builder is built at %s" % BIN)
    else:
        sequence()
        bad_inputs()
        weight_spread()
        zone_dispersion()
        min_part_hours()
        minimal_movement()
        seed_and_overload()
finally:
    shutil.rmtree(top, ignore_errors=True)
t.done()
