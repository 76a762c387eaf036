#!/usr/bin/python3
"""The fixity study of issue 6 (not a test: it prints a table).

  fixity_study.py [--sizes 1,16,256] [--reps 3] [--out FILE]

Where should an object's digests be computed? For each object size (MiB)
it times, a few repetitions each, the same work (MD5 and SHA-256 of the
whole object) done three ways:

  node    GET with X-Run-Storlet: fixity, run on the object node: only
          the JSON digests leave the node;
  proxy   the same with X-Storlet-Run-On-Proxy: the body travels to the
          proxy, the digests to the client;
  client  a plain GET, hashed by the client (Python hashlib);

first on an idle cluster, then with a background load: cairn-bench running
4 KiB GETs at concurrency 8 against the same cluster throughout. Each
method's digests are checked against the others (same object, same
answer). Starts its own 3-node cluster on loopback (test/lib/cluster.py),
one replica per object so the largest size stays within a few hundred MB
of disk. Prints a Markdown table of the median and min/max wall time (s)
and the throughput of the median (MiB/s). Standard library only.
"""
import argparse
import hashlib
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "test", "lib"))
from cluster import Cluster, BUILD, wait_for  # noqa: E402

SRC = os.environ.get("CAIRN_SRC") or os.path.join(HERE, "..", "..")
MiB = 1 << 20


class Body:
    """A deterministic body of n bytes, generated while sent."""

    def __init__(self, n, seed):
        self.left = n
        self.block = hashlib.sha512(b"%d" % seed).digest() * (MiB // 64)

    def read(self, size=-1):
        if self.left <= 0:
            return b""
        k = min(self.left, len(self.block))
        self.left -= k
        return self.block[:k]


def get(p, url, headers, sink):
    c = http.client.HTTPConnection(p.ip, p.port, timeout=600)
    try:
        c.request("GET", url, headers=headers)
        r = c.getresponse()
        n = 0
        while True:
            b = r.read(1 << 18)
            if not b:
                break
            n += len(b)
            sink(b)
        return r.status, {k.lower(): v for k, v in r.getheaders()}
    finally:
        c.close()


def one(p, url, tok, how):
    h = {"X-Auth-Token": tok}
    t0 = time.monotonic()
    if how == "client":
        md5, sha = hashlib.md5(), hashlib.sha256()

        def sink(b):
            md5.update(b)
            sha.update(b)
        st, _ = get(p, url, h, sink)
        res = {"md5": md5.hexdigest(), "sha256": sha.hexdigest()}
    else:
        h["X-Run-Storlet"] = "fixity"
        h["X-Storlet-Parameter-1"] = "algorithms:md5,sha256"
        if how == "proxy":
            h["X-Storlet-Run-On-Proxy"] = ""
        out = []
        st, _ = get(p, url, h, out.append)
        res = json.loads(b"".join(out)) if st == 200 else {}
    dt = time.monotonic() - t0
    if st != 200:
        return dt, st
    return dt, (res.get("md5"), res.get("sha256"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1,16,256")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out")
    a = ap.parse_args()
    sizes = [int(x) for x in a.sizes.split(",")]
    with Cluster() as cl:
        os.chmod(cl.dir, 0o755)
        sdk = os.path.join(SRC, "storlets", "sdk", "cairn_storlet.py")

        def conf(name):
            return {"storlets": "true", "storlet_warm": "2",
                    "storlet_cache_dir": os.path.join(cl.dir, name + "-cache"),
                    "storlet_sdk": sdk, "log_level": "notice"}
        nodes = [cl.objectd(devices=["d%d" % (i + 1)], ip=ip,
                            conf=conf("node%d" % i))
                 for i, ip in enumerate(("127.0.0.1", "127.0.0.2",
                                         "127.0.0.3"))]
        for kind, port, rep in (("account", "aport", 3),
                                ("container", "cport", 3),
                                ("object", "port", 1)):
            cl.build_ring(kind, 6, rep, [(n.ip, getattr(n, port),
                                          n.devices[0]) for n in nodes])
        p = cl.proxy(conf={"DEFAULT": conf("proxy")})
        path, tok = p.auth("test:tester")
        h = {"X-Auth-Token": tok}
        p.request("POST", path, headers=dict(
            h, **{"X-Account-Meta-Storlet-Enabled": "True"}))
        for c in ("storlet", "fix"):
            p.request("PUT", path + "/" + c, headers=h)
        with open(os.path.join(BUILD, "storlets", "fixity"), "rb") as f:
            st, _, _ = p.request("PUT", path + "/storlet/fixity",
                                 body=f.read(), headers=dict(h, **{
                                     "X-Object-Meta-Storlet-Language": "native",
                                     "X-Object-Meta-Storlet-Interface-Version": "1.0",
                                     "X-Object-Meta-Storlet-Object-Metadata": "yes",
                                     "X-Object-Meta-Storlet-Main": "fixity"}))
        assert st == 201, st
        for s in sizes:
            c = http.client.HTTPConnection(p.ip, p.port, timeout=600)
            c.request("PUT", "%s/fix/o%d" % (path, s), body=Body(s * MiB, s),
                      headers=dict(h, **{"Content-Length": str(s * MiB)}))
            r = c.getresponse()
            r.read()
            c.close()
            assert r.status == 201, r.status
        rows = []
        for load in ("idle", "4 KiB GETs c=8"):
            bg = None
            if load != "idle":
                bg = subprocess.Popen(
                    [os.path.join(BUILD, "cairn-bench"), "-A",
                     "http://%s:%d/auth/v1.0" % (p.ip, p.port), "-U",
                     "test:tester", "-K", "testing", "-q", "-m", "get", "-s",
                     "4k", "-c", "8", "-p", "200", "-d", "30m",
                     "--container-prefix", "bg", "--cleanup"],
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                    text=True)

                def filled():
                    st, hd, _ = p.request("HEAD", path + "/bg-0", headers=h)
                    return st // 100 == 2 and int(
                        hd.get("x-container-object-count", 0)) >= 200
                wait_for(filled, timeout=120, what="background prepopulation")
            try:
                for s in sizes:
                    url = "%s/fix/o%d" % (path, s)
                    one(p, url, tok, "node")   # warm: code fetch, pool
                    if s <= 16:
                        one(p, url, tok, "proxy")
                    ref = None
                    for how in ("node", "proxy", "client"):
                        ts = []
                        for _ in range(a.reps):
                            dt, dig = one(p, url, tok, how)
                            if isinstance(dig, int):   # an HTTP failure
                                break
                            ref = ref or dig
                            if dig != ref:
                                raise SystemExit("%s digests differ: %r %r"
                                                 % (how, dig, ref))
                            ts.append(dt)
                        if isinstance(dig, int):
                            rows.append((load, s, how, "HTTP %d" % dig))
                            print(rows[-1], flush=True)
                            print("".join(ln + "\n" for ln in
                                          p.read_log().splitlines()
                                          if "ERR" in ln or "storlet" in ln)
                                  [-2000:], flush=True)
                            continue
                        med = statistics.median(ts)
                        rows.append((load, s, how, med, min(ts), max(ts),
                                     s / med))
                        print("%-15s %4d MiB %-6s median %.3fs (%.3f-%.3f)"
                              " %.0f MiB/s" % rows[-1], flush=True)
            finally:
                if bg:
                    bg.send_signal(signal.SIGINT)
                    out, _ = bg.communicate(timeout=300)
                    print("background load:\n" + out, flush=True)
        table = ["| load | size | where | median s | min-max s | MiB/s |",
                 "|---|---|---|---|---|---|"]
        for r in rows:
            if len(r) == 4:
                table.append("| %s | %d MiB | %s | %s | | |" % r)
            else:
                table.append("| %s | %d MiB | %s | %.3f | %.3f-%.3f | %.0f |"
                             % r)
        print("\n".join(table))
        if a.out:
            with open(a.out, "w") as f:
                f.write("\n".join(table) + "\n")


if __name__ == "__main__":
    main()
