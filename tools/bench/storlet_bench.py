#!/usr/bin/python3
"""Storlet overhead for issue 6 (not a test: it prints figures).

  storlet_bench.py [--small-seconds S] [--big-count N] [--warm N]
                   [--concurrency C] [--cpu-count N] [--no-python]
  storlet_bench.py --against OTHER_BUILD [--pairs N] [--warm N]

Starts a 3-node cluster on loopback with storlets on (warm sandboxes kept
per storlet version), deploys the identity storlet (native, C) and the
same in Python, and runs cairn-bench on the same objects each time: plain
GETs, then GETs with X-Run-Storlet: identity (the object node runs it),
then (4 KiB only) X-Run-Storlet: identity.py:

1. 4 KiB objects, one request at a time: added latency at p50 (goal: at
   most 2 ms with warm workers, native);
2. 64 MiB objects, one request at a time: throughput (goal: at most 10%
   less).

cairn-bench's table is printed for each run, then a summary with the
added p50/p99, the throughput loss, and the CPU time the object nodes
(object servers, launchers, sandboxes) spend per GET, counted over
--cpu-count GETs of one object made one at a time after the cairn-bench
runs: on a shared, loaded machine latency mostly measures the other
tenants, CPU per GET much less so. --against runs this build's cluster
and another build's side by side and alternates 4 KiB GETs between them,
so that both see the same load: the way to compare two builds on a
shared host. That CPU is also shown split between
the object servers, their launchers and the sandboxes (whose teardown
after the exit, and the kernel's work for them in its own threads, are
not all in it). Standard library only; daemons from
$CAIRN_BUILD (default ./build).
"""
import argparse
import hashlib
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "test", "lib"))
import cluster  # noqa: E402
from cluster import Cluster, BUILD  # noqa: E402

SRC = os.environ.get("CAIRN_SRC") or os.path.join(HERE, "..", "..")

PY_IDENTITY = b"""def main(s):
    for chunk in iter(lambda: s.input.read(65536), b""):
        s.write(chunk)
"""


def node_cpu_split(nodes):
    """CPU time (user + system, ms) used so far by the object servers, their
    launchers and every sandbox the launchers have reaped, as a dict
    {"objectd", "launcher", "sandboxes"}: a figure that a busy machine
    inflates far less than it inflates latency."""
    tck = os.sysconf("SC_CLK_TCK")
    split = {"objectd": 0, "launcher": 0, "sandboxes": 0}
    for n in nodes:
        pids = [(n.proc.pid, False)]
        try:
            with open("/proc/%d/task/%d/children" % (n.proc.pid, n.proc.pid)) as f:
                pids += [(int(x), True) for x in f.read().split()]
        except OSError:
            pass
        for pid, with_children in pids:
            try:
                with open("/proc/%d/stat" % pid) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            own = int(fields[11]) + int(fields[12])
            if with_children:
                split["launcher"] += own
                split["sandboxes"] += int(fields[13]) + int(fields[14])
            else:
                split["objectd"] += own
    return {k: v * 1000.0 / tck for k, v in split.items()}


def node_cpu_ms(nodes):
    return sum(node_cpu_split(nodes).values())


def cpu_per_get(p, nodes, path, headers, count, want, split=None):
    """Node CPU (ms) per GET of path, over count GETs one at a time on one
    connection; checks each body against want. split, a dict, receives
    the same per GET for the object servers, launchers and sandboxes."""
    conn = http.client.HTTPConnection(p.ip, p.port, timeout=300)
    s0 = node_cpu_split(nodes)
    c0 = sum(s0.values())
    for _ in range(count):
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        h = hashlib.md5()
        for chunk in iter(lambda: r.read(1 << 20), b""):
            h.update(chunk)
        if r.status != 200 or h.hexdigest() != want:
            raise SystemExit("GET %s for the CPU count: %d" % (path, r.status))
    s1 = node_cpu_split(nodes)
    used = sum(s1.values()) - c0
    conn.close()
    if split is not None:
        for k in s1:
            split[k] = (s1[k] - s0[k]) / count
    return used / count


def bench(p, args, label, tmp):
    out = os.path.join(tmp, label + ".json")
    cmd = [os.path.join(BUILD, "cairn-bench"), "-A",
           "http://%s:%d/auth/v1.0" % (p.ip, p.port), "-U", "test:tester",
           "-K", "testing", "-q", "--json", out, "--label", label] + args
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    print("## %s\n%s" % (label, r.stdout), flush=True)
    if r.returncode != 0:
        print(r.stderr)
        raise SystemExit("cairn-bench failed")
    with open(out) as f:
        return json.load(f)


def get_stats(j):
    """The GET figures of cairn-bench's --json output (measure phase)."""
    ops = j.get("phases", {}).get("measure", {}).get("ops", {})
    return ops.get("get") or ops.get("GET") or {}


def pick(st, what):
    """One figure of the GET stats: p50/p99 in ms, or MB/s; "?" if absent."""
    v = st.get("mb_per_s") if what == "mbps" else st.get("latency_ms", {}).get(what)
    return round(v, 3) if isinstance(v, (int, float)) else "?"


def diff(st, plain, what):
    a, b = pick(st, what), pick(plain, what)
    return round(a - b, 3) if "?" not in (a, b) else "?"


def loss(st, plain):
    a, b = pick(st, "mbps"), pick(plain, "mbps")
    if "?" in (a, b) or not b:
        return "?"
    return "%+.1f%%" % ((a - b) / b * 100)


def req(p, method, path, headers):
    st, _, _ = p.request(method, path, headers=headers)
    return st


def deploy(cl, warm, build):
    """A 3-node cluster of `build`'s daemons in cl with storlets on and the
    native identity storlet deployed; returns (proxy, account path, auth
    headers, object nodes)."""
    cluster.BUILD = build
    os.chmod(cl.dir, 0o755)
    sdk = os.path.join(SRC, "storlets", "sdk", "cairn_storlet.py")

    def conf(name):
        return {"storlets": "true", "storlet_warm": str(warm),
                "storlet_cache_dir": os.path.join(cl.dir, name + "-cache"),
                "storlet_sdk": sdk, "log_level": "notice"}
    ips = ("127.0.0.1", "127.0.0.2", "127.0.0.3")
    nodes = [cl.objectd(devices=["d%d" % (i + 1)], ip=ip, conf=conf("node%d" % i))
             for i, ip in enumerate(ips)]
    for kind, port in (("account", "aport"), ("container", "cport"),
                       ("object", "port")):
        cl.build_ring(kind, 6, 3, [(n.ip, getattr(n, port), n.devices[0])
                                   for n in nodes])
    p = cl.proxy(conf={"DEFAULT": conf("proxy")})
    path, tok = p.auth("test:tester")
    h = {"X-Auth-Token": tok}
    p.request("POST", path, headers=dict(
        h, **{"X-Account-Meta-Storlet-Enabled": "True"}))
    p.request("PUT", path + "/storlet", headers=h)
    with open(os.path.join(build, "storlets", "identity"), "rb") as f:
        st, _, _ = p.request("PUT", path + "/storlet/identity",
                             body=f.read(), headers=dict(h, **{
                                 "X-Object-Meta-Storlet-Language": "native",
                                 "X-Object-Meta-Storlet-Interface-Version": "1.0",
                                 "X-Object-Meta-Storlet-Object-Metadata": "no",
                                 "X-Object-Meta-Storlet-Main": "identity"}))
    assert st == 201, st
    return p, path, h, nodes


def paired(a):
    """--against: two clusters, this build's and another's, side by side;
    4 KiB GETs (plain and identity) alternate between them one at a time,
    so both see the same host load at the same moments: on a shared host
    the difference of the two is far steadier than two runs one after
    the other."""
    builds = [("this", BUILD), ("against", os.path.abspath(a.against))]
    with Cluster() as c1, Cluster() as c2:
        sides = []
        for (name, build), cl in zip(builds, (c1, c2)):
            p, path, h, nodes = deploy(cl, a.warm, build)
            p.request("PUT", path + "/pair", headers=h)
            body = os.urandom(4096)
            st, _, _ = p.request("PUT", path + "/pair/o", body=body, headers=h)
            assert st == 201, st
            conn = http.client.HTTPConnection(p.ip, p.port, timeout=60)
            sides.append((name, conn, path + "/pair/o", h, body, nodes))

        def get(side, storlet):
            _, conn, opath, h, body, _ = side
            hh = dict(h, **{"X-Run-Storlet": "identity"}) if storlet else h
            t0 = time.perf_counter()
            conn.request("GET", opath, headers=hh)
            r = conn.getresponse()
            got = r.read()
            dt = (time.perf_counter() - t0) * 1000
            if r.status != 200 or got != body:
                raise SystemExit("GET %s: %d" % (opath, r.status))
            return dt

        for side in sides:              # code fetch, warm pool
            for _ in range(10):
                get(side, True)
        lat = {(n, k): [] for n, *_ in sides for k in ("plain", "identity")}
        cpu0 = [node_cpu_split(sd[5]) for sd in sides]
        for i in range(a.pairs):
            order = sides if i % 2 == 0 else sides[::-1]
            for side in order:
                lat[(side[0], "plain")].append(get(side, False))
            for side in order:
                lat[(side[0], "identity")].append(get(side, True))
        cpu1 = [node_cpu_split(sd[5]) for sd in sides]
        with open("/proc/loadavg") as f:
            load = " ".join(f.read().split()[:3])
        print("## paired: %d GETs of 4 KiB each, alternating; load average %s"
              % (a.pairs, load))
        for k, (side, c0, c1_) in enumerate(zip(sides, cpu0, cpu1)):
            name = side[0]
            pl = sorted(lat[(name, "plain")])
            ident = sorted(lat[(name, "identity")])
            q = lambda v, f: v[min(len(v) - 1, int(len(v) * f))]
            per = {x: (c1_[x] - c0[x]) / a.pairs for x in c0}
            print("%-8s %s\n         plain p50 %.3f ms  identity p50 %.3f ms p90 %.3f ms"
                  "  added p50 %.3f ms  node CPU per plain+identity pair %.2f ms "
                  "(objectd %.2f, launchers %.2f, sandboxes %.2f)" % (
                      name, builds[k][1], q(pl, .5), q(ident, .5), q(ident, .9),
                      q(ident, .5) - q(pl, .5), sum(per.values()), per["objectd"],
                      per["launcher"], per["sandboxes"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--small-seconds", default="20s")
    ap.add_argument("--big-count", type=int, default=12)
    ap.add_argument("--warm", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=1)
    ap.add_argument("--cpu-count", type=int, default=200,
                    help="GETs of 4 KiB per CPU count (64 MiB: a hundredth)")
    ap.add_argument("--no-python", action="store_true",
                    help="skip the Python identity storlet")
    ap.add_argument("--against", metavar="BUILD",
                    help="paired mode: this build against another build "
                         "directory, 4 KiB GETs alternating between them")
    ap.add_argument("--pairs", type=int, default=1000,
                    help="paired mode: GETs of each kind per build")
    a = ap.parse_args()
    if a.against:
        return paired(a)
    with Cluster() as cl, tempfile.TemporaryDirectory() as tmp:
        p, path, h, nodes = deploy(cl, a.warm, BUILD)
        st, _, _ = p.request("PUT", path + "/storlet/identity.py",
                             body=PY_IDENTITY, headers=dict(h, **{
                                 "X-Object-Meta-Storlet-Language": "python",
                                 "X-Object-Meta-Storlet-Interface-Version": "1.0",
                                 "X-Object-Meta-Storlet-Object-Metadata": "no",
                                 "X-Object-Meta-Storlet-Main": "identity.main"}))
        assert st == 201, st
        c = str(a.concurrency)
        res = {}
        for size, extra in (("4k", ["-d", a.small_seconds, "-p", "200"]),
                            ("64m", ["-n", str(a.big_count), "-p", "2"])):
            prefix = "sb-" + size
            base = ["-m", "get", "-s", size, "-c", c, "--container-prefix",
                    prefix] + extra
            # warm the storlet path once (code fetch, warm pool)
            bench(p, ["-m", "get", "-s", size, "-c", "1", "-n", "5", "-p", "2",
                      "--container-prefix", prefix + "w", "--cleanup", "-H",
                      "X-Run-Storlet: identity"], "warmup-" + size, tmp)
            runs = [("plain", bench(p, base + ["--cleanup"], "plain-" + size, tmp)),
                    ("identity", bench(p, base + ["--cleanup", "-H",
                                                  "X-Run-Storlet: identity"],
                                       "identity-" + size, tmp))]
            if size == "4k" and not a.no_python:
                bench(p, ["-m", "get", "-s", size, "-c", "1", "-n", "5", "-p", "2",
                          "--container-prefix", prefix + "wp", "--cleanup", "-H",
                          "X-Run-Storlet: identity.py"], "warmup-py-" + size, tmp)
                runs.append(("identity.py", bench(
                    p, base + ["--cleanup", "-H", "X-Run-Storlet: identity.py"],
                    "identity-py-" + size, tmp)))
            res[size] = runs
        # node CPU per GET, outside cairn-bench (whose runs include their
        # prepopulate and cleanup): one object, GETs one at a time
        cpu, splits = {}, {}
        req(p, "PUT", path + "/sb-cpu", h)
        for size, nbytes, count in (("4k", 4096, a.cpu_count),
                                    ("64m", 64 << 20, max(2, a.cpu_count // 100))):
            body = os.urandom(1 << 20) * (nbytes >> 20) if nbytes >= 1 << 20 \
                else os.urandom(nbytes)
            opath = path + "/sb-cpu/" + size
            st, _, _ = p.request("PUT", opath, body=body, headers=h)
            assert st == 201, st
            want = hashlib.md5(body).hexdigest()
            for name in ("plain", "identity", "identity.py"):
                if name == "identity.py" and (size != "4k" or a.no_python):
                    continue
                hh = dict(h) if name == "plain" else dict(h, **{"X-Run-Storlet": name})
                cpu_per_get(p, nodes, opath, hh, 2, want)   # warm
                sp = {}
                cpu[(size, name)] = cpu_per_get(p, nodes, opath, hh, count, want, sp)
                splits[(size, name)] = sp
            p.request("DELETE", opath, headers=h)
        p.request("DELETE", path + "/sb-cpu", headers=h)
        print("## summary")
        for size, runs in res.items():
            plain = get_stats(runs[0][1])
            for name, j in runs:
                st = get_stats(j)
                c = cpu.get((size, name))
                line = "%-4s %-12s p50 %s ms  p99 %s ms  MB/s %s  node CPU/GET %s ms" % (
                    size, name, pick(st, "p50"), pick(st, "p99"), pick(st, "mbps"),
                    "%.2f" % c if c is not None else "?")
                if name != "plain":
                    line += "  | added p50 %s ms, p99 %s ms, throughput %s" % (
                        diff(st, plain, "p50"), diff(st, plain, "p99"),
                        loss(st, plain))
                print(line)
        print("## node CPU per GET (ms): object servers / launchers / sandboxes")
        for (size, name), sp in splits.items():
            print("%-4s %-12s %.2f / %.2f / %.2f" % (
                size, name, sp["objectd"], sp["launcher"], sp["sandboxes"]))
        try:
            with open("/proc/loadavg") as f:
                print("## load average at the end: %s" % " ".join(f.read().split()[:3]))
        except OSError:
            pass


if __name__ == "__main__":
    main()
