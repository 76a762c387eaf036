#!/usr/bin/python3
"""The Sequence study of issue 7 (not a test: it prints a table).

  seq_study.py [--mib 1,16,256] [--reps 3] [--out FILE]

One CSV object of each size (records "name,ssn,diagnosis,age"), and two
three-stage chains run on it two ways:

  chains  identity x3                 output = input: the pipeline's cost
          deid.py -> grep -> wordcount.py
                                      de-identify, keep the "diabetes"
                                      records, count them: a few hundred
                                      bytes of output
  places  node    the whole chain on the object node (the default plan,
                  X-Storlet-Sequence-Placement: object=3, proxy=0)
          proxy   every stage on the proxy (X-Storlet-Run-On-Proxy:
                  object=0, proxy=3)

Each row gives the wall time of the GET (client's view, body read to the
end), the bytes the client received and the bytes moved between the proxy
and the object servers (sent + received, summed from the object servers'
access log lines written during the request: storlet code is cached by a
warm-up run first, so these are the data's bytes). The node's and the
proxy's outputs are compared (MD5) on every run and the placement header
is checked: a difference stops the study. Starts its own 3-node cluster on
loopback (test/lib/cluster.py, one replica per object) and deletes it,
data included, at the end. Standard library only.
"""
import argparse
import hashlib
import http.client
import os
import re
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "test", "lib"))
from cluster import Cluster  # noqa: E402

SRC = os.environ.get("CAIRN_SRC") or os.path.join(HERE, "..", "..")
MiB = 1 << 20
ACCESS = re.compile(r'"(\w+) (\S+)" (\d+) (\d+) (\d+) (\d+)ms')
DIAG = (b"asthma", b"diabetes", b"flu", b"fracture", b"migraine",
        b"hypertension", b"anemia")

CHAINS = (
    ("identity x3", {"X-Run-Storlet": "identity, identity, identity"}),
    ("deid>grep>wordcount", {
        "X-Run-Storlet": "deid.py, grep, wordcount.py",
        "X-Storlet-Stage-1-Parameter-1": "format:csv",
        "X-Storlet-Stage-1-Parameter-2": "fields:name,ssn",
        "X-Storlet-Stage-2-Parameter-1": "pattern:diabetes"}),
)


class Csv:
    """A CSV body of whole records, at most n bytes (self.size of them),
    generated while sent."""

    def __init__(self, n):
        lines = [b"name,ssn,diagnosis,age\n"]
        for i in range(20000):
            lines.append(b"patient %d,%03d-%02d-%04d,%s,%d\n" % (
                i, i % 1000, i % 100, i % 10000, DIAG[(i * 7) % len(DIAG)],
                18 + i % 70))
        self.block = b"".join(lines[1:])
        self.head = lines[0]
        rem = n - len(self.head)
        tail = rem % len(self.block)
        self.size = len(self.head) + rem - tail + \
            self.block.rfind(b"\n", 0, tail) + 1
        self.left = self.size
        self.at = 0

    def read(self, size=-1):
        if self.left <= 0:
            return b""
        if self.head:
            out, self.head = self.head, b""
        else:
            k = min(self.left, len(self.block) - self.at, MiB)
            out = self.block[self.at:self.at + k]
            self.at = (self.at + k) % len(self.block)
        self.left -= len(out)
        return out


def conn(p):
    return http.client.HTTPConnection(p.ip, p.port, timeout=900)


def get(p, url, headers):
    """(status, placement, md5 of the body, body bytes, seconds); the md5
    is the body's first bytes instead when the status is not 200."""
    c = conn(p)
    t0 = time.monotonic()
    try:
        c.request("GET", url, headers=headers)
        r = c.getresponse()
        md5, got, head = hashlib.md5(), 0, b""
        while True:
            b = r.read(1 << 20)
            if not b:
                break
            got += len(b)
            md5.update(b)
            head = head or b[:500]
        dt = time.monotonic() - t0
        return (r.status, r.getheader("X-Storlet-Sequence-Placement"),
                md5.hexdigest() if r.status == 200 else repr(head), got, dt)
    finally:
        c.close()


def node_moved(nodes, marks):
    """Bytes the object servers sent and received since marks."""
    total = 0
    for n, m in zip(nodes, marks):
        with open(n.log, "rb") as f:
            f.seek(m)
            text = f.read().decode(errors="replace")
        for mt in ACCESS.finditer(text):
            total += int(mt.group(4)) + int(mt.group(5))
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mib", default="1,16,256")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out")
    a = ap.parse_args()
    sizes = [int(x) for x in a.mib.split(",")]
    with Cluster() as cl:
        # deid.py over 256 MiB takes a while on a busy 2-CPU machine; a
        # chain ending in wordcount writes nothing until it has read the
        # whole object: the proxy's wait for the node's first byte (its
        # read timeout, 10 s by default) must be longer than that
        nodes, p = cl.storlet_cluster(
            warm="2", object_replicas=1,
            conf={"storlet_wall_timeout": "600", "storlet_idle_timeout": "300"},
            proxy_conf={"log_level": "notice",
                        "recoverable_node_timeout": "600"})
        path, tok = p.auth("test:tester")
        h = {"X-Auth-Token": tok}
        p.enable_storlets(path, tok, ("storlet", "data"))
        for name in ("identity", "grep"):
            st = p.deploy(path, tok, name, metadata="yes")
            assert st == 201, (name, st)
        for name in ("deid", "wordcount"):
            with open(os.path.join(SRC, "storlets", name, name + ".py"),
                      "rb") as f:
                st = p.deploy(path, tok, name + ".py", body=f.read(),
                              lang="python", main=name + ".main",
                              metadata="yes")
            assert st == 201, (name, st)

        rows = []
        for mib in sizes:
            url = "%s/data/records-%d.csv" % (path, mib)
            n = mib * MiB
            c = conn(p)
            body = Csv(n)
            c.request("PUT", url, body=body, headers=dict(
                h, **{"Content-Length": str(body.size),
                      "Content-Type": "text/csv"}))
            r = c.getresponse()
            r.read()
            c.close()
            assert r.status == 201, r.status
            for cname, chain in CHAINS:
                ref = None
                for place in ("node", "proxy"):
                    hd = dict(h, **chain)
                    want = "object=3, proxy=0"
                    if place == "proxy":
                        hd["X-Storlet-Run-On-Proxy"] = ""
                        want = "object=0, proxy=3"
                    w = get(p, url, hd)   # warm-up: code cached, sandboxes warm
                    if w[0] != 200:
                        raise SystemExit("%s %s %d MiB: %d %s" % (
                            cname, place, mib, w[0], w[2]))
                    ts, cb, nb = [], [], []
                    for _ in range(a.reps):
                        marks = [os.path.getsize(x.log) for x in nodes]
                        st, pl, md5, got, dt = get(p, url, hd)
                        if st != 200 or pl != want:
                            raise SystemExit("%s %s %d MiB: %d %s %s" % (
                                cname, place, mib, st, pl, md5))
                        ref = ref or md5
                        if md5 != ref:
                            raise SystemExit("%s %d MiB: node and proxy "
                                             "outputs differ" % (cname, mib))
                        ts.append(dt)
                        cb.append(got)
                        nb.append(node_moved(nodes, marks))
                        print("%4d MiB %-20s %-5s %.3f s client %d B "
                              "proxy<->node %d B" % (mib, cname, place, dt,
                                                     got, nb[-1]), flush=True)
                    rows.append((mib, cname, place, statistics.median(ts),
                                 min(ts), max(ts), statistics.median(cb),
                                 statistics.median(nb)))
            p.request("DELETE", url, headers=h)   # the data goes at once
        table = ["| size | chain | where | median s | min-max s | "
                 "bytes to client | bytes proxy<->node |",
                 "|---|---|---|---|---|---|---|"]
        for r in rows:
            table.append("| %d MiB | %s | %s | %.3f | %.3f-%.3f | %d | %d |"
                         % r)
        print("\n".join(table))
        if a.out:
            with open(a.out, "w") as f:
                f.write("\n".join(table) + "\n")
    print("cluster and data removed", flush=True)


if __name__ == "__main__":
    main()
