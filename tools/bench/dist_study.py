#!/usr/bin/python3
"""The Distributed study of issue 7 (not a test: it prints a table).

  dist_study.py [--objects 100] [--mib 16] [--reps 2] [--concurrency 8]
                [--out FILE]

Two jobs over N objects of M MiB each (text, so that both make sense),
each done two ways:

  dist    one POST with X-Storlet-Distributed: 1; the split runs on the
          object node holding each object, only its small output travels
          to the proxy, the merge runs on the proxy:
            fixity     split fixity (md5,sha256), merge partlist
            wordcount  split wordcount.py, merge wcmerge.py
  client  the client GETs every object (the same concurrency, threads)
          and computes the same thing itself (hashlib; the wc counts in
          Python, as wordcount.py counts them).

Each row gives the wall time, the bytes the client received, and the
bytes the object servers sent (to the proxy: summed from their access
log lines). The two ways' answers are compared object by object (digests)
and in total (word counts): a difference stops the study. Starts its own
3-node cluster on loopback (test/lib/cluster.py), one replica per object;
the whole data set (N x M MiB) is deleted with the cluster at the end.
Standard library only.
"""
import argparse
import concurrent.futures
import hashlib
import http.client
import json
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
SPACE = b" \t\n\v\f\r"


def base_text():
    """4 MiB of words and lines, fixed."""
    words = [(b"w%x" % (i * 2654435761 % 99991)) * (1 + i % 3)
             for i in range(5000)]
    out, i = [], 0
    size = 0
    while size < 4 * MiB:
        line = b" ".join(words[(i * 7 + k) % len(words)]
                         for k in range(3 + i % 11)) + b"\n"
        out.append(line)
        size += len(line)
        i += 1
    return b"".join(out)[:4 * MiB]


class Body:
    """Object i: a header line, then the base text rotated by i, to n
    bytes, generated while sent."""

    def __init__(self, base, i, n):
        rot = (i * 40009) % len(base)
        self.block = b"object %d\n" % i + base[rot:] + base[:rot]
        self.left = n
        self.at = 0

    def read(self, size=-1):
        if self.left <= 0:
            return b""
        k = min(self.left, len(self.block) - self.at, MiB)
        out = self.block[self.at:self.at + k]
        self.at = (self.at + k) % len(self.block)
        self.left -= k
        return out


def conn(p):
    return http.client.HTTPConnection(p.ip, p.port, timeout=900)


def put(p, url, tok, body, n):
    c = conn(p)
    try:
        c.request("PUT", url, body=body, headers={
            "X-Auth-Token": tok, "Content-Length": str(n)})
        r = c.getresponse()
        r.read()
        return r.status
    finally:
        c.close()


def wc(chunks):
    lines = words = nbytes = cont = 0
    in_word = False
    for b in chunks:
        nbytes += len(b)
        lines += b.count(b"\n")
        cont += sum(b.count(bytes([x])) for x in range(0x80, 0xc0)) \
            if max(b, default=0) >= 0x80 else 0
        n = len(b.split())
        if in_word and b[0] not in SPACE:
            n -= 1
        words += n
        in_word = b[-1] not in SPACE
    return {"bytes": nbytes, "chars": nbytes - cont, "lines": lines,
            "words": words}


def client_one(p, url, tok, job):
    """GET one object and compute locally; returns (result, bytes)."""
    c = conn(p)
    try:
        c.request("GET", url, headers={"X-Auth-Token": tok})
        r = c.getresponse()
        if r.status != 200:
            raise SystemExit("client GET %s: %d" % (url, r.status))
        got = 0
        if job == "fixity":
            md5, sha = hashlib.md5(), hashlib.sha256()
            while True:
                b = r.read(1 << 20)
                if not b:
                    break
                got += len(b)
                md5.update(b)
                sha.update(b)
            return {"md5": md5.hexdigest(), "sha256": sha.hexdigest()}, got

        def chunks():
            nonlocal got
            while True:
                b = r.read(1 << 16)
                if not b:
                    return
                got += len(b)
                yield b
        return wc(chunks()), got
    finally:
        c.close()


def run_client(p, path, tok, names, job, conc):
    with concurrent.futures.ThreadPoolExecutor(conc) as ex:
        res = list(ex.map(lambda n: client_one(p, "%s/data/%s" % (path, n),
                                               tok, job), names))
    got = sum(g for _, g in res)
    if job == "fixity":
        return {"data/" + n: r for n, (r, _) in zip(names, res)}, got
    tot = dict.fromkeys(("bytes", "chars", "lines", "words"), 0)
    for r, _ in res:
        for k in tot:
            tot[k] += r[k]
    return tot, got


def run_dist(p, path, tok, job, conc):
    if job == "fixity":
        doc = {"resources": {"container": "data"},
               "split": {"storlet": "fixity",
                         "parameters": {"algorithms": "md5,sha256"}},
               "merge": {"storlet": "partlist"}, "concurrency": conc}
    else:
        doc = {"resources": {"container": "data"},
               "split": {"storlet": "wordcount.py"},
               "merge": {"storlet": "wcmerge.py",
                         "parameters": {"per_object": "false"}},
               "concurrency": conc}
    body = json.dumps(doc).encode()
    c = conn(p)
    try:
        c.request("POST", path, body=body, headers={
            "X-Auth-Token": tok, "X-Storlet-Distributed": "1",
            "Content-Type": "application/json"})
        r = c.getresponse()
        out = r.read()
        if r.status != 200:
            raise SystemExit("Distributed %s: %d %r\n%s" % (
                job, r.status, out[:500], p.read_log()[-3000:]))
    finally:
        c.close()
    res = json.loads(out)
    got = len(out)
    if job == "fixity":
        return {o["object"]: {"md5": o["output"]["md5"],
                              "sha256": o["output"]["sha256"]}
                for o in res["objects"]}, got
    return {k: res[k] for k in ("bytes", "chars", "lines", "words")}, got


def node_sent(nodes, marks):
    """Bytes the object servers sent since marks (their log sizes)."""
    total = 0
    for n, m in zip(nodes, marks):
        with open(n.log, "rb") as f:
            f.seek(m)
            text = f.read().decode(errors="replace")
        for mt in ACCESS.finditer(text):
            total += int(mt.group(4))
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--objects", type=int, default=100)
    ap.add_argument("--mib", type=int, default=16)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--out")
    a = ap.parse_args()
    with Cluster() as cl:
        # a 16 MiB word count in Python may take several seconds on a
        # busy 2-CPU machine: generous per-storlet limits
        nodes, p = cl.storlet_cluster(
            warm="2", object_replicas=1,
            conf={"storlet_wall_timeout": "300", "storlet_idle_timeout": "120"},
            proxy_conf={"log_level": "notice"})
        path, tok = p.auth("test:tester")
        p.enable_storlets(path, tok, ("storlet", "data"))
        for name in ("fixity", "partlist"):
            st = p.deploy(path, tok, name, metadata="yes")
            assert st == 201, (name, st)
        for name in ("wordcount", "wcmerge"):
            with open(os.path.join(SRC, "storlets", name, name + ".py"),
                      "rb") as f:
                st = p.deploy(path, tok, name + ".py", body=f.read(),
                              lang="python", main=name + ".main",
                              metadata="yes")
            assert st == 201, (name, st)

        base = base_text()
        names = ["o%03d.txt" % i for i in range(a.objects)]
        n = a.mib * MiB
        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(4) as ex:
            sts = list(ex.map(lambda i: put(p, "%s/data/%s" % (path, names[i]),
                                            tok, Body(base, i, n), n),
                              range(a.objects)))
        assert all(s == 201 for s in sts), sts
        print("stored %d x %d MiB in %.1f s" % (a.objects, a.mib,
                                                time.monotonic() - t0),
              flush=True)

        rows = []
        for job in ("fixity", "wordcount"):
            # warm-up: the storlets' code into every cache, sandboxes warm
            run_dist(p, path, tok, job, a.concurrency)
            ref = None
            for how in ("dist", "client"):
                ts, cb, nb = [], [], []
                for _ in range(a.reps):
                    marks = [os.path.getsize(x.log) for x in nodes]
                    t1 = time.monotonic()
                    if how == "dist":
                        res, got = run_dist(p, path, tok, job, a.concurrency)
                    else:
                        res, got = run_client(p, path, tok, names, job,
                                              a.concurrency)
                    dt = time.monotonic() - t1
                    ref = ref or res
                    if res != ref:
                        raise SystemExit("%s %s: the answers differ" %
                                         (job, how))
                    ts.append(dt)
                    cb.append(got)
                    nb.append(node_sent(nodes, marks))
                    print("%-9s %-6s %.2f s client %d B nodes %d B" %
                          (job, how, dt, got, nb[-1]), flush=True)
                rows.append((job, how, statistics.median(ts), min(ts),
                             max(ts), statistics.median(cb),
                             statistics.median(nb)))
        table = ["| job | how | median s | min-max s | bytes to client | "
                 "bytes from object servers |", "|---|---|---|---|---|---|"]
        for r in rows:
            table.append("| %s | %s | %.2f | %.2f-%.2f | %d | %d |" % r)
        print("\n".join(table))
        if a.out:
            with open(a.out, "w") as f:
                f.write("\n".join(table) + "\n")
    print("cluster and data removed", flush=True)


if __name__ == "__main__":
    main()
