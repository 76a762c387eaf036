#!/usr/bin/env python3
# tier: full
"""cairn-get-nodes against an independent reading of the ring format and,
when Swift is installed, against swift-get-nodes itself.

The ring is written here from docs/ring-format.md by a second, independent
writer (Python, standard library), which checks the document as much as the
tool. The same placement is also written as a Swift v1 .ring.gz (gzip of
"R1NG", version, JSON, uint16 rows), so that the real swift-get-nodes, given
a swift.conf with the same secrets, must print the same partition, hash,
primaries, handoffs and curl lines. Finally a ring made by
cairn-ring-builder (create, add, rebalance) is looked up end to end.
"""
import gzip
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ.get("CAIRN_SRC", "."), "test", "lib"))
from tap import Tap  # noqa: E402

BUILD = os.environ.get("CAIRN_BUILD", "build")
TOOL = os.path.join(BUILD, "cairn-get-nodes")
PREFIX, SUFFIX = "pre fix", "suf"
PART_POWER, ROWS = 8, 3


def devices():
    devs = []
    for i in range(14):
        region = 1 + i % 2
        zone = 1 + (i // 2) % 3
        ip = "10.%d.%d.%d" % (region, zone, i % 4) if i != 13 else "fd00::13"
        devs.append(dict(id=i, region=region, zone=zone, ip=ip,
                         port=6200 + i, replication_ip=ip,
                         replication_port=6300 + i, device="sd%c" % (97 + i),
                         weight=100.0 + i, meta="m%d" % i))
    devs[5] = None  # a removed device
    return devs


def rows():
    parts = 1 << PART_POWER
    live = [i for i, d in enumerate(devices()) if d]
    out = []
    for r in range(ROWS):
        n = parts if r < ROWS - 1 else parts // 2 + 1
        out.append([live[(p * 5 + r * 3 + (p >> 3)) % len(live)]
                    for p in range(n)])
    return out


def cairn_ring_bytes(devs, table, version=7):
    """docs/ring-format.md, version 1."""
    n = len(devs)
    body = struct.pack("<%dI" % len(table), *[len(r) for r in table])
    for i, d in enumerate(devs):
        if d is None:
            body += b"\0" * 480
            continue
        rec = struct.pack("<IIIIHHId", 1, i, d["region"], d["zone"],
                          d["port"], d["replication_port"], 0, d["weight"])
        for key, size in (("ip", 64), ("replication_ip", 64),
                          ("device", 64), ("meta", 256)):
            rec += d[key].encode().ljust(size, b"\0")
        assert len(rec) == 480
        body += rec
    for r in table:
        body += struct.pack("<%dH" % len(r), *r)
    total = 64 + len(body) + 32
    hdr = b"CAIRNRNG" + struct.pack("<IIIIII", 1, 64, PART_POWER, len(table),
                                    n, 480)
    hdr += struct.pack("<QQ", version, total) + b"\0" * 16
    data = hdr + body
    return data + hashlib.sha256(data).digest()


def swift_ring_bytes(devs, table):
    """Swift's v1 .ring.gz (swift-internals.md section 3)."""
    meta = json.dumps({"byteorder": sys.byteorder, "devs": devs,
                       "part_shift": 32 - PART_POWER,
                       "replica_count": len(table), "version": 7},
                      sort_keys=True).encode()
    raw = b"R1NG" + struct.pack(">HI", 1, len(meta)) + meta
    for r in table:
        raw += struct.pack("=%dH" % len(r), *r)
    return gzip.compress(raw, mtime=0)


def run(args):
    p = subprocess.run([TOOL] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def main():
    t = Tap()
    tmp = tempfile.mkdtemp(prefix="test_get_nodes.")
    try:
        devs, table = devices(), rows()
        names = {"object": ("AUTH_test", "photos", "2026/cat 1.jpg"),
                 "container": ("AUTH_test", "photos"),
                 "account": ("AUTH_\u00e9t\u00e9",)}
        for kind in names:
            with open(os.path.join(tmp, kind + ".ring"), "wb") as f:
                f.write(cairn_ring_bytes(devs, table))
        obj = os.path.join(tmp, "object.ring")
        secrets = ["--hash-prefix", PREFIX, "--hash-suffix", SUFFIX]

        # Partition and hash as Swift's formula gives them (computed here).
        a, c, o = names["object"]
        digest = hashlib.md5(("%s/%s/%s/%s%s" % (PREFIX, a, c, o, SUFFIX))
                             .encode()).digest()
        part = struct.unpack(">I", digest[:4])[0] >> (32 - PART_POWER)
        rc, out, err = run(secrets + [obj, a, c, o])
        t.eq(rc, 0, "object lookup exits 0")
        t.ok("Partition\t%d\n" % part in out, "partition is Swift's")
        t.ok("Hash     \t%s\n" % digest.hex() in out, "hash is Swift's")
        servers = [ln for ln in out.splitlines()
                   if ln.startswith("Server:Port Device")]
        want = []
        for r in table:
            if part < len(r) and r[part] not in want:
                want.append(r[part])
        prim = ["Server:Port Device\t%s:%d %s" % (devs[i]["ip"],
                devs[i]["port"], devs[i]["device"]) for i in want]
        t.eq(servers[:len(want)], prim, "primaries in row order")
        hand = servers[len(want):]
        t.eq(len(hand), len(want), "as many handoffs as primaries")
        t.ok(all(h.endswith("\t [Handoff]") for h in hand), "handoffs marked")
        t.ok(not set(h[:-11] for h in hand) & set(prim), "no primary handed off")
        ssh = [ln for ln in out.splitlines() if ln.startswith("ssh ")]
        t.ok(len(ssh) == 2 * len(want) and all(
            "/objects/%d/%s/%s\"" % (part, digest.hex()[-3:], digest.hex())
            in ln for ln in ssh), "ssh lines name the object's directory")

        rc, out_all, _ = run(secrets + ["-a", obj, "%s/%s/%s" % (a, c, o)])
        hand_all = [ln for ln in out_all.splitlines() if ln.endswith("[Handoff]")
                    and ln.startswith("Server")]
        assigned = {d for r in table for d in r}
        t.ok(len(hand_all) <= len(assigned) - len(want) and
             len(hand_all) >= len(hand) and hand_all[:len(hand)] == hand,
             "-a lists all handoffs, starting with the same ones")
        t.eq(len(set(hand_all)), len(hand_all), "-a: no handoff twice")

        quoted = "%s/%s/%s" % (a, c, o.replace(" ", "%20"))
        rc, out_q, _ = run(secrets + ["-Q", obj, quoted])
        t.eq(out_q, out, "-Q unquotes the names")

        conf = os.path.join(tmp, "cairn.conf")
        with open(conf, "w") as f:
            f.write("[swift-hash]\nswift_hash_path_prefix = %s\n"
                    "swift_hash_path_suffix = %s\n" % (PREFIX, SUFFIX))
        rc, out_c, _ = run(["--swift-conf", conf, obj, a, c, o])
        t.eq((rc, out_c), (0, out), "--swift-conf gives the same answer")

        rc, out_p, _ = run(["-p", str(part), obj])
        t.eq(rc, 0, "-p works without secrets")
        t.ok("Partition\t%d\nHash     \tNone\n" % part in out_p, "-p: no hash")

        # Bad input: exit 2 and one line saying why.
        bad = os.path.join(tmp, "bad.ring")
        data = bytearray(cairn_ring_bytes(devs, table))
        data[1000] ^= 1
        with open(bad, "wb") as f:
            f.write(data)
        for args, why in (([], "no ring file"),
                          ([obj, a, c, o], "need --swift-conf"),
                          (secrets + [bad, a], "checksum mismatch"),
                          (secrets + [os.path.join(tmp, "nope.ring"), a],
                           "cannot open"),
                          (secrets + [obj, a, c, o, "x"], "too many"),
                          (["-p", "x", obj], "not a number"),
                          (["-p", "100000", obj], "outside the ring"),
                          (secrets + [obj], "no target"),
                          (["--swift-conf", os.path.join(tmp, "no.conf"), obj,
                            a], "no.conf")):
            rc, out_b, err_b = run(args)
            t.ok(rc == 2 and why in err_b and err_b.count("\n") == 1,
                 "exit 2 with one line: %s" % why)
            if rc != 2 or why not in err_b:
                t.diag("rc %d stderr %r" % (rc, err_b))

        # A ring made by cairn-ring-builder, the way operators make them.
        builder = os.path.join(BUILD, "cairn-ring-builder")
        if not os.access(builder, os.X_OK):
            t.skip("ring from cairn-ring-builder", "builder not built")
        else:
            bdir = os.path.join(tmp, "built")
            os.mkdir(bdir)
            bfile = os.path.join(bdir, "object.builder")
            cmds = [["create", "8", "3", "1"]]
            for i in range(6):
                cmds.append(["add", "r%dz%d-127.0.%d.%d:62%02d/sd%c" %
                             (1 + i % 2, 1 + i % 3, i % 2, i, i, 98 + i),
                             "100"])
            cmds.append(["rebalance", "--seed", "1"])
            for cmd in cmds:
                subprocess.run([builder, bfile] + cmd, check=True,
                               stdout=subprocess.DEVNULL,
                               stdin=subprocess.DEVNULL)
            rc, out_b, err_b = run(secrets + ["-a", os.path.join(
                bdir, "object.ring"), a, c, o])
            t.eq(rc, 0, "builder's ring: lookup exits 0")
            t.ok("Partition\t%d\n" % part in out_b,
                 "builder's ring: Swift's partition")
            lines = [ln for ln in out_b.splitlines()
                     if ln.startswith("Server:Port")]
            prim_b = [ln for ln in lines if not ln.endswith("[Handoff]")]
            hand_b = [ln[:-11] for ln in lines if ln.endswith("[Handoff]")]
            t.ok(len(prim_b) == 3 and len(set(prim_b)) == 3,
                 "builder's ring: three distinct primaries")
            t.ok(len(hand_b) == 3 and not set(hand_b) & set(prim_b),
                 "builder's ring: the other three devices are the handoffs")

        # The same ring as Swift's .ring.gz, and swift-get-nodes itself.
        swift_tool = shutil.which("swift-get-nodes")
        if not swift_tool or not os.path.exists("/usr/bin/python3"):
            t.skip("swift-get-nodes agrees", "swift-get-nodes not installed")
        else:
            swift_dir = os.path.join(tmp, "swift")
            os.mkdir(swift_dir)
            with open(os.path.join(swift_dir, "swift.conf"), "w") as f:
                f.write("[swift-hash]\nswift_hash_path_prefix = %s\n"
                        "swift_hash_path_suffix = %s\n"
                        "[storage-policy:0]\nname = gold\ndefault = yes\n"
                        % (PREFIX, SUFFIX))
            swift_devs = [dict(d) if d else None for d in devs]
            for kind, args in sorted(names.items()):
                gz = os.path.join(swift_dir, kind + ".ring.gz")
                with open(gz, "wb") as f:
                    f.write(swift_ring_bytes(swift_devs, table))
                for extra in ([], ["-a"]):
                    sp = subprocess.run(
                        ["/usr/bin/python3", swift_tool, "-d", swift_dir] +
                        extra + [gz] + list(args), stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
                    rc, mine, _ = run(secrets + extra +
                                      [os.path.join(tmp, kind + ".ring")] +
                                      list(args))
                    theirs = sp.stdout.decode()
                    if kind != "object":
                        # Swift prints ssh lines for accounts and containers
                        # too; Cairn keeps those in RocksDB, so it does not.
                        theirs = theirs.split("\n\nUse your own")[0]
                    t.eq(mine, theirs, "%s %s: same output as swift-get-nodes"
                         % (kind, " ".join(extra)))
        t.done()
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
