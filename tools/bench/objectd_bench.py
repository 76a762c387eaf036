#!/usr/bin/python3
"""Measurements of cairn-objectd for issue 3 (not a test: it prints figures).

  objectd_bench.py [--swift HOST:PORT/DEVICE] [--skip-big] [--procs N]
                   [--count N] [--size BYTES]

1. Small-object PUT and GET per second against cairn-objectd and, when
   --swift is given (e.g. 127.0.0.1:16210/sdb1, the swift-saio anchor's
   object server of node 1), against Swift's own object server, driven the
   same way in the same run: N client processes, each with one keep-alive
   connection, sequential requests of --size bytes on the backend API.
   The ratio cairn/swift is printed.
2. Small-GET latency (p50/p99 of 500 sequential GETs) on an idle node and
   while one 1 GiB PUT is being written and fsynced on the same node.
3. RSS of the node (VmRSS, sampled every 100 ms) while a 4 GiB object is
   streamed in and then out: before, max during PUT, max during GET.

Both servers get the same requests (X-Timestamp, Content-Type, no
container updates). cairn-objectd runs from $CAIRN_BUILD (default ./build)
with the configured workers (--workers, default 1, as the anchor's
object server) on a temp dir on the root file system; the anchor's devices
are on a loop-mounted XFS image, which the figures should be read with.
Standard library only.
"""
import argparse
import http.client
import multiprocessing as mp
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "test", "lib"))
from cluster import Cluster  # noqa: E402


def ts():
    return "%016.05f" % time.time()


def worker(args):
    host, port, dev, op, pid, count, size, q = args
    body = os.urandom(size)
    c = http.client.HTTPConnection(host, port, timeout=60)
    ok = 0
    for i in range(count):
        path = "/%s/%d/AUTH_bench/c%d/o%d" % (dev, i % 1024, pid, i)
        if op == "PUT":
            c.request("PUT", path, body=body, headers={
                "X-Timestamp": ts(), "Content-Type": "application/octet-stream"})
        elif op == "DELETE":
            c.request("DELETE", path, headers={"X-Timestamp": ts()})
        else:
            c.request("GET", path)
        r = c.getresponse()
        r.read()
        if r.status in (200, 201, 204):
            ok += 1
    c.close()
    q.put(ok)


def rate(host, port, dev, op, procs, count, size):
    q = mp.Queue()
    ps = [mp.Process(target=worker, args=((host, port, dev, op, p, count,
                                           size, q),)) for p in range(procs)]
    t0 = time.monotonic()
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    dt = time.monotonic() - t0
    ok = sum(q.get() for _ in ps)
    return ok / dt, ok, procs * count


def latencies(host, port, path, n=500):
    c = http.client.HTTPConnection(host, port, timeout=60)
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        out.append(time.perf_counter() - t0)
    c.close()
    out.sort()
    return out[len(out) // 2] * 1000, out[int(len(out) * 0.99)] * 1000


def big_put(host, port, path, size, done, chunk=1 << 20):
    block = os.urandom(chunk)
    c = http.client.HTTPConnection(host, port, timeout=600)
    c.putrequest("PUT", path)
    c.putheader("X-Timestamp", ts())
    c.putheader("Content-Type", "application/octet-stream")
    c.putheader("Content-Length", str(size))
    c.endheaders()
    sent = 0
    while sent < size:
        n = min(chunk, size - sent)
        c.send(block[:n])
        sent += n
    r = c.getresponse()
    r.read()
    c.close()
    done.append(r.status)


def big_get(host, port, path):
    c = http.client.HTTPConnection(host, port, timeout=600)
    c.request("GET", path)
    r = c.getresponse()
    n = 0
    while True:
        d = r.read(1 << 20)
        if not d:
            break
        n += len(d)
    c.close()
    return r.status, n


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Sampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.max, self.stop_ev = pid, 0, threading.Event()

    def run(self):
        while not self.stop_ev.is_set():
            self.max = max(self.max, rss_kb(self.pid))
            time.sleep(0.1)

    def stop(self):
        self.stop_ev.set()
        self.join()
        return self.max


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--swift", help="HOST:PORT/DEVICE of a Swift object server")
    ap.add_argument("--procs", type=int, default=4)
    ap.add_argument("--count", type=int, default=500)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--skip-big", action="store_true")
    a = ap.parse_args()

    with Cluster(None) as cl:
        n = cl.objectd(devices=["sda1"], conf={
            "workers": a.workers, "disk_threads": 32, "log_level": "warning"})
        print("cairn-objectd pid %d, workers %d, devices %s" % (
            n.proc.pid, a.workers, n.devroot))

        # 1. small-object rates, the same driver against both
        res = {}
        targets = [("cairn", n.ip, n.port, "sda1")]
        if a.swift:
            hp, dev = a.swift.split("/", 1)
            h, p = hp.rsplit(":", 1)
            targets.append(("swift", h, int(p), dev))
        for name, h, p, dev in targets:
            put = rate(h, p, dev, "PUT", a.procs, a.count, a.size)
            get = rate(h, p, dev, "GET", a.procs, a.count, a.size)
            # clean up (the anchor is shared): DELETE what was PUT
            rate(h, p, dev, "DELETE", a.procs, a.count, a.size)
            res[name] = (put[0], get[0])
            print("%-6s %d x %d B: PUT %.0f/s (%d/%d ok)  GET %.0f/s (%d/%d ok)"
                  % (name, a.procs * a.count, a.size, put[0], put[1], put[2],
                     get[0], get[1], get[2]))
        if "swift" in res:
            print("ratio cairn/swift: PUT %.2f  GET %.2f" % (
                res["cairn"][0] / res["swift"][0],
                res["cairn"][1] / res["swift"][1]))
        if a.skip_big:
            return

        # 2. small GETs with and without a 1 GiB PUT being written
        small = "/sda1/1/AUTH_bench/lat/small"
        c = http.client.HTTPConnection(n.ip, n.port)
        c.request("PUT", small, body=os.urandom(4096), headers={
            "X-Timestamp": ts(), "Content-Type": "t/t"})
        c.getresponse().read()
        c.close()
        idle = latencies(n.ip, n.port, small)
        done = []
        th = threading.Thread(target=big_put, args=(
            n.ip, n.port, "/sda1/2/AUTH_bench/lat/big", 1 << 30, done))
        th.start()
        time.sleep(0.5)  # let the big PUT get going (a measurement, not a test)
        busy = latencies(n.ip, n.port, small)
        still = th.is_alive()
        th.join()
        print("small GET idle: p50 %.2f ms p99 %.2f ms" % idle)
        print("small GET during 1 GiB PUT: p50 %.2f ms p99 %.2f ms "
              "(PUT %s, still running at the end of the sample: %s)"
              % (busy + (done, still)))
        c = http.client.HTTPConnection(n.ip, n.port)
        c.request("DELETE", "/sda1/2/AUTH_bench/lat/big",
                  headers={"X-Timestamp": ts()})
        c.getresponse().read()
        c.close()

        # 3. RSS while 4 GiB go in and out
        before = rss_kb(n.proc.pid)
        s = Sampler(n.proc.pid)
        s.start()
        done = []
        t0 = time.monotonic()
        big_put(n.ip, n.port, "/sda1/3/AUTH_bench/rss/big", 4 << 30, done)
        put_s = time.monotonic() - t0
        put_max = s.stop()
        s = Sampler(n.proc.pid)
        s.start()
        t0 = time.monotonic()
        st, got = big_get(n.ip, n.port, "/sda1/3/AUTH_bench/rss/big")
        get_s = time.monotonic() - t0
        get_max = s.stop()
        print("RSS: before %d KiB, max during 4 GiB PUT %d KiB (status %s, "
              "%.0f MiB/s), max during GET %d KiB (status %d, %d bytes, "
              "%.0f MiB/s)" % (before, put_max, done, 4096 / put_s, get_max,
                               st, got, 4096 / get_s))
        c = http.client.HTTPConnection(n.ip, n.port)
        c.request("DELETE", "/sda1/3/AUTH_bench/rss/big",
                  headers={"X-Timestamp": ts()})
        c.getresponse().read()
        c.close()


if __name__ == "__main__":
    main()
