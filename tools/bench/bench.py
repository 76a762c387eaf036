#!/usr/bin/python3
"""bench.py - `make bench`: Cairn and the real Swift side by side, one table.

    tools/bench/bench.py [--build DIR] [--out DIR] [-d 20s] [--no-swift]
                         [--no-xfs] [--scenarios put-4k,...]

What one run does, in this order:
 1. Makes build/bench/<UTC timestamp>/ (--out) and, when run as root with
    mkfs.xfs at hand (and not --no-xfs), a sparse XFS image there,
    loop-mounted as the Cairn cluster's state dir, so that Cairn's devices
    sit on the same kind of file system as the Swift anchor's (a loop-mounted
    XFS image). Otherwise Cairn's devices are on whatever holds build/, and
    the output says so.
 2. Starts a Cairn cluster with tools/devcluster (4 objectd, 3 replicas, a
    proxy with 2 workers = this machine's cores) in its own state dir and on
    its own ports (proxy 28080, objectd 26200-26202 unless busy), so a
    running `make run` cluster is neither used nor disturbed.
 3. Makes sure the real Swift (the swift-saio anchor: $SWIFT_SAIO, or
    shared/anchors/swift-saio found above the repository) answers; if it is
    installed but down, starts it with the anchor's start.sh (and stops it
    with stop.sh at the end). Without the anchor, Cairn runs alone.
 4. Measures the machine's ceilings on the file system of Cairn's devices:
    fsync'ed sequential write (dd bs=1M conv=fsync, what a 64 MiB PUT does),
    4 KiB synchronous writes per second (dd bs=4k oflag=dsync: the rate of
    small durable writes), one core's MD5 rate (hashlib over OpenSSL), and a
    64 MiB GET straight from one cairn-objectd (4 curl clients, one hop).
 5. Runs scenarios.sh against Cairn, then against Swift, sampling the summed
    VmRSS of the proxy processes (master and workers) from /proc every
    100 ms during the 64 MiB scenarios.
 6. Prints one table: every figure for both, the Cairn / Swift ratio (for
    latency Swift / Cairn: > 1 is better for Cairn), the goal and whether it
    holds; writes it and summary.json next to the scenarios' JSON.
 7. Stops what it started, by pid (devcluster stop, the anchor's stop.sh
    only if this run started it), unmounts and deletes the image.

Not a test: it prints figures, nothing fails on speed. Standard library only.
"""
import argparse
import hashlib
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
SCEN = ["put-4k", "get-4k", "head-4k", "delete-4k", "put-64m", "get-64m"]
SWIFT_AUTH = ("http://127.0.0.1:18080/auth/v1.0", "test:tester", "testing")


def log(msg):
    print("bench: %s" % msg, file=sys.stderr, flush=True)


def port_free(port):
    for i in range(1, 5):
        s = socket.socket()
        try:
            s.bind(("127.0.0.%d" % i, port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def pick_ports():
    for base in range(28080, 29080, 100):
        ports = (base, base - 1880, base - 1879, base - 1878)
        if all(port_free(p) for p in ports):
            return ports
    sys.exit("bench: no free ports for the Cairn cluster")


def find_anchor():
    if os.environ.get("SWIFT_SAIO"):
        return os.environ["SWIFT_SAIO"]
    d = REPO
    for _ in range(4):
        d = os.path.dirname(d)
        cand = os.path.join(d, "shared", "anchors", "swift-saio")
        if os.path.isfile(os.path.join(cand, "start.sh")):
            return cand
    return None


def healthy(url_host, port):
    try:
        c = http.client.HTTPConnection(url_host, port, timeout=3)
        c.request("GET", "/healthcheck")
        ok = c.getresponse().status == 200
        c.close()
        return ok
    except OSError:
        return False


def sh(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


# ---- ceilings -------------------------------------------------------------

def dd_rate(path, bs, count, flag):
    f = os.path.join(path, "dd.tmp")
    r = sh(["dd", "if=/dev/zero", "of=" + f, "bs=" + bs, "count=%d" % count,
            flag])
    try:
        os.unlink(f)
    except OSError:
        pass
    m = re.search(r"(\d+) bytes .* copied, ([\d.]+) s", r.stderr)
    if not m:
        return None, None
    nbytes, secs = int(m.group(1)), float(m.group(2))
    return nbytes / secs / 1e6, count / secs


def md5_rate():
    buf = os.urandom(64 << 20)
    t0 = time.monotonic()
    n = 0
    while time.monotonic() - t0 < 2:
        hashlib.md5(buf).digest()
        n += len(buf)
    return n / (time.monotonic() - t0) / 1e6


def direct_get(ip, port, dev, secs, clients=4):
    """MB/s of 64 MiB GETs straight from one cairn-objectd (backend API)."""
    path = "/%s/0/AUTH_benchdirect/c/o64m" % dev
    size = 64 << 20
    c = http.client.HTTPConnection(ip, port, timeout=120)
    c.putrequest("PUT", path)
    c.putheader("X-Timestamp", "%016.05f" % time.time())
    c.putheader("Content-Type", "application/octet-stream")
    c.putheader("Content-Length", str(size))
    c.endheaders()
    chunk = os.urandom(1 << 20)
    for _ in range(size >> 20):
        c.send(chunk)
    r = c.getresponse()
    r.read()
    c.close()
    if r.status != 201:
        log("direct PUT to objectd answered %d" % r.status)
        return None
    url = "http://%s:%d%s" % (ip, port, path)
    total = [0]
    lock = threading.Lock()
    end = time.monotonic() + secs

    def loop():
        while time.monotonic() < end:
            p = sh(["curl", "-s", "-o", "/dev/null", "-w", "%{size_download}",
                    url])
            if p.returncode == 0:
                with lock:
                    total[0] += int(p.stdout or 0)
    t0 = time.monotonic()
    ts = [threading.Thread(target=loop) for _ in range(clients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    el = time.monotonic() - t0
    c = http.client.HTTPConnection(ip, port, timeout=30)
    c.request("DELETE", path, headers={"X-Timestamp": "%016.05f" % time.time()})
    c.getresponse().read()
    return total[0] / el / 1e6


# ---- proxy RSS --------------------------------------------------------------

def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
            ppid = int(st[st.rindex(")") + 2:].split()[1])
        except (OSError, ValueError):
            continue
        if ppid == pid:
            out.append(int(d))
    return out


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssSampler(threading.Thread):
    """Max over time of the summed VmRSS of a proxy master and its workers."""

    def __init__(self, master):
        super().__init__(daemon=True)
        self.master, self.max_kb, self.stop_ev = master, 0, threading.Event()

    def run(self):
        while not self.stop_ev.wait(0.1):
            pids = [self.master] + children(self.master)
            self.max_kb = max(self.max_kb, sum(rss_kb(p) for p in pids))


def read_pid(path):
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


# ---- scenarios ---------------------------------------------------------------

def run_scenarios(name, outdir, dur, only, endpoint, proxy_pid, bench):
    d = os.path.join(outdir, name)
    os.makedirs(d, exist_ok=True)
    small = [s for s in only if not s.endswith("64m")]
    big = [s for s in only if s.endswith("64m")]
    env = dict(os.environ, CAIRN_BENCH=bench)
    base = [os.path.join(HERE, "scenarios.sh"), "-o", d, "-d", dur]
    rc = 0
    if small:
        log("%s: %s" % (name, ",".join(small)))
        rc |= subprocess.call(base + ["-s", ",".join(small), "--"] + endpoint,
                              env=env, stdout=subprocess.DEVNULL)
    rss = None
    if big:
        log("%s: %s" % (name, ",".join(big)))
        s = RssSampler(proxy_pid) if proxy_pid else None
        if s:
            s.start()
        rc |= subprocess.call(base + ["-s", ",".join(big), "--"] + endpoint,
                              env=env, stdout=subprocess.DEVNULL)
        if s:
            s.stop_ev.set()
            s.join()
            rss = s.max_kb / 1024.0
    res = {}
    for sc in only:
        try:
            with open(os.path.join(d, sc + ".json")) as f:
                j = json.load(f)
            t = j["phases"]["measure"]["ops"]["total"]
            res[sc] = {"ops_per_s": t["ops_per_s"], "mb_per_s": t["mb_per_s"],
                       "p50_ms": t["latency_ms"]["p50"],
                       "p99_ms": t["latency_ms"]["p99"],
                       "errors": j.get("errors", 0),
                       "loadavg": j["phases"]["measure"].get("loadavg_start")}
        except (OSError, ValueError, KeyError):
            pass
    return res, rss, rc


# ---- the table ---------------------------------------------------------------

def fmt(v, nd=1):
    if v is None:
        return "-"
    return ("%." + str(nd) + "f") % v


def table(cairn, swift, crss, srss, ceil):
    rows = []

    def g(d, sc, k):
        return d.get(sc, {}).get(k) if d else None

    def add(what, a, b, better, goal, holds, nd=1):
        if a is not None and b:
            r = a / b if better == "higher" else (b / a if a else None)
        else:
            r = None
        rows.append({"figure": what, "cairn": a, "swift": b, "ratio": r,
                     "goal": goal, "holds": holds(a, r) if a is not None
                     else None, "nd": nd})

    def ratio_at_least(x):
        return lambda a, r: None if r is None else r >= x

    add("4 KiB PUT ops/s", g(cairn, "put-4k", "ops_per_s"),
        g(swift, "put-4k", "ops_per_s"), "higher", ">= 12x Swift",
        ratio_at_least(12))
    add("4 KiB GET ops/s", g(cairn, "get-4k", "ops_per_s"),
        g(swift, "get-4k", "ops_per_s"), "higher", ">= 10x Swift",
        ratio_at_least(10))
    add("4 KiB HEAD ops/s", g(cairn, "head-4k", "ops_per_s"),
        g(swift, "head-4k", "ops_per_s"), "higher", ">= 10x Swift",
        ratio_at_least(10))
    add("4 KiB DELETE ops/s", g(cairn, "delete-4k", "ops_per_s"),
        g(swift, "delete-4k", "ops_per_s"), "higher", ">= 10x Swift",
        ratio_at_least(10))
    add("4 KiB GET p99 ms", g(cairn, "get-4k", "p99_ms"),
        g(swift, "get-4k", "p99_ms"), "lower", "<= 1/5 of Swift's",
        ratio_at_least(5), 2)
    fs = ceil.get("fsync_write_mb_s")
    put_goal = 0.9 * fs / 3 if fs else None
    add("64 MiB PUT MB/s", g(cairn, "put-64m", "mb_per_s"),
        g(swift, "put-64m", "mb_per_s"), "higher",
        ">= %s MB/s (90%% of fsync'ed dd / 3)" % fmt(put_goal),
        lambda a, r: None if put_goal is None else a >= put_goal)
    dg = ceil.get("direct_get_mb_s")
    add("64 MiB GET MB/s", g(cairn, "get-64m", "mb_per_s"),
        g(swift, "get-64m", "mb_per_s"), "higher",
        ">= 3x Swift and >= %s MB/s (60%% of direct)" %
        fmt(0.6 * dg if dg else None),
        lambda a, r: None if r is None or dg is None
        else (r >= 3 and a >= 0.6 * dg))
    add("proxy RSS MB, 32 x 64 MiB", crss, srss, "lower", "<= 64 MB",
        lambda a, r: a <= 64)
    lines = ["%-28s %10s %10s %8s  %-44s %s" % (
        "figure", "Cairn", "Swift", "ratio", "goal", "holds")]
    for r in rows:
        h = {True: "yes", False: "NO", None: "?"}[r["holds"]]
        lines.append("%-28s %10s %10s %8s  %-44s %s" % (
            r["figure"], fmt(r["cairn"], r["nd"]), fmt(r["swift"], r["nd"]),
            fmt(r["ratio"], 2) + ("x" if r["ratio"] is not None else ""),
            r["goal"], h))
    for r in rows:
        del r["nd"]
    return lines, rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--out")
    ap.add_argument("-d", "--duration", default="20s")
    ap.add_argument("--direct-secs", type=float, default=10)
    ap.add_argument("--no-swift", action="store_true")
    ap.add_argument("--no-xfs", action="store_true")
    ap.add_argument("--scenarios", default=",".join(SCEN))
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    bench = os.path.join(build, "cairn-bench")
    only = [s for s in args.scenarios.split(",") if s]
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out = os.path.abspath(args.out or os.path.join(build, "bench", stamp))
    os.makedirs(out, exist_ok=True)
    state = os.path.join(out, "cairn-state")
    img = os.path.join(out, "cairn-xfs.img")
    mounted = started_swift = cluster_up = False
    anchor = None
    setup = {"started": stamp, "cpus": os.cpu_count(), "duration": args.duration}
    pp, op, cp, acp = pick_ports()
    dc = [sys.executable, os.path.join(REPO, "tools", "devcluster",
                                       "devcluster.py"),
          "--build", build, "--state-dir", state, "--proxy-port", str(pp),
          "--object-port", str(op), "--container-port", str(cp),
          "--account-port", str(acp)]
    try:
        os.makedirs(state, exist_ok=True)
        if (not args.no_xfs and os.geteuid() == 0 and shutil.which("mkfs.xfs")):
            with open(img, "wb") as f:
                f.truncate(16 << 30)
            if (sh(["mkfs.xfs", "-q", img]).returncode == 0 and
                    sh(["mount", "-o", "loop", img, state]).returncode == 0):
                mounted = True
        setup["cairn_fs"] = ("XFS on a loop-mounted sparse image (as Swift's)"
                             if mounted else "the file system of " + out +
                             " (not XFS on a loop device as Swift's)")
        log("Cairn's devices: " + setup["cairn_fs"])
        r = subprocess.run(dc + ["start"], stdout=subprocess.DEVNULL)
        if r.returncode != 0:
            sys.exit("bench: devcluster start failed (logs in %s)" % state)
        cluster_up = True
        setup["cairn"] = ("tools/devcluster: 4 cairn-objectd (1 worker, 32 disk "
                          "threads), 3 replicas, cairn-proxy with 2 workers, "
                          "proxy port %d" % pp)
        # Swift.
        swift = None
        if not args.no_swift:
            anchor = find_anchor()
            if anchor is None:
                log("the swift-saio anchor is not set up: Cairn alone")
                setup["swift"] = "not set up (Cairn alone)"
            else:
                if not healthy("127.0.0.1", 18080):
                    log("starting Swift with the anchor's start.sh")
                    sh([os.path.join(anchor, "start.sh")], cwd=anchor)
                    started_swift = True
                if healthy("127.0.0.1", 18080):
                    swift = True
                    conf = {}
                    try:
                        with open("/etc/swift-anchor/proxy-server.conf") as f:
                            for line in f:
                                m = re.match(r"\s*(workers|eventlet_debug)\s*=\s*(\S+)", line)
                                if m and m.group(1) not in conf:
                                    conf[m.group(1)] = m.group(2)
                    except OSError:
                        pass
                    setup["swift"] = ("swift-saio anchor (Swift 2.30.1): 4 nodes, "
                                      "3 replicas, proxy workers = %s, "
                                      "eventlet_debug = %s, 1 worker per "
                                      "storage server, devices on a "
                                      "loop-mounted XFS image" %
                                      (conf.get("workers", "?"),
                                       conf.get("eventlet_debug", "?")))
                else:
                    log("Swift did not come up: Cairn alone")
                    setup["swift"] = "did not come up (Cairn alone)"
        # Ceilings.
        log("ceilings")
        ceil = {}
        ceil["fsync_write_mb_s"], _ = dd_rate(state, "1M", 512, "conv=fsync")
        _, ceil["dsync_4k_writes_s"] = dd_rate(state, "4k", 1000, "oflag=dsync")
        ceil["md5_mb_s_one_core"] = md5_rate()
        ceil["direct_get_mb_s"] = direct_get("127.0.0.1", op, "d1",
                                             args.direct_secs)
        log("ceilings: %s" % json.dumps(ceil))
        # Scenarios.
        endpoint = ["-A", "http://127.0.0.1:%d/auth/v1.0" % pp,
                    "-U", "test:tester", "-K", "testing"]
        cpid = read_pid(os.path.join(state, "pid", "proxy.pid"))
        cres, crss, _ = run_scenarios("cairn", out, args.duration, only,
                                      endpoint, cpid, bench)
        sres, srss = {}, None
        if swift:
            spid = read_pid("/run/swift-anchor/proxy.pid")
            sres, srss, _ = run_scenarios(
                "swift", out, args.duration, only,
                ["-A", SWIFT_AUTH[0], "-U", SWIFT_AUTH[1], "-K", SWIFT_AUTH[2]],
                spid, bench)
        lines, rows = table(cres, sres, crss, srss, ceil)
        head = ["make bench %s, %d CPUs, %s per scenario, concurrency 32" % (
            stamp, os.cpu_count(), args.duration),
            "Cairn: " + setup["cairn"], "Cairn's devices: " + setup["cairn_fs"],
            "Swift: " + setup.get("swift", "not run"),
            "ceilings: fsync'ed dd %s MB/s; 4 KiB dsync writes %s/s; MD5 "
            "%s MB/s on one core; direct objectd 64 MiB GET %s MB/s "
            "(4 clients)" % (fmt(ceil["fsync_write_mb_s"]),
                             fmt(ceil["dsync_4k_writes_s"], 0),
                             fmt(ceil["md5_mb_s_one_core"], 0),
                             fmt(ceil["direct_get_mb_s"])),
            "loadavg at the start of each Cairn / Swift scenario: " + ", ".join(
                "%s %s/%s" % (s, (cres.get(s) or {}).get("loadavg", "?"),
                              (sres.get(s) or {}).get("loadavg", "?"))
                for s in only),
            "errors Cairn/Swift: " + ", ".join(
                "%s %s/%s" % (s, (cres.get(s) or {}).get("errors", "-"),
                              (sres.get(s) or {}).get("errors", "-"))
                for s in only), ""]
        text = "\n".join(head + lines) + "\n"
        print(text, end="")
        with open(os.path.join(out, "table.txt"), "w") as f:
            f.write(text)
        with open(os.path.join(out, "summary.json"), "w") as f:
            json.dump({"setup": setup, "ceilings": ceil, "cairn": cres,
                       "swift": sres, "proxy_rss_mb": {"cairn": crss,
                                                       "swift": srss},
                       "rows": rows}, f, indent=1)
        log("kept in %s" % out)
    finally:
        if cluster_up:
            subprocess.call(dc + ["stop"], stdout=subprocess.DEVNULL)
        if started_swift and anchor:
            sh([os.path.join(anchor, "stop.sh")], cwd=anchor)
        if mounted:
            # Keep the cluster's logs: the image goes.
            try:
                shutil.copytree(os.path.join(state, "log"),
                                os.path.join(out, "cairn-log"),
                                dirs_exist_ok=True)
            except OSError:
                pass
            if sh(["umount", state]).returncode != 0:
                time.sleep(1)
                sh(["umount", state])
        if os.path.exists(img):
            os.unlink(img)


if __name__ == "__main__":
    main()
