#!/usr/bin/python3
"""The fixity study of issue 6 (not a test: it prints a table).

  fixity_study.py [--sizes 1,16,256] [--reps N] [--out FILE]
                  [--client-link RATE[,DELAY]] [--sandbox admin|user]
                  [--admin-weight W]

Where should an object's digests be computed? For each object size (MiB)
it times the same work (MD5 and SHA-256 of the whole object) done three
ways, which take turns (node, proxy, client, node, ...) so that a load
drifting over a size's minutes meets each alike; 15 turns at 1 MiB, 7 at
16 MiB and 3 above unless --reps says otherwise:

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
of disk. Prints a Markdown table of the median and min/max wall time (s),
the throughput of the median (MiB/s), the median CPU time of the work
itself ("work CPU": the storlet's, cpu_us of the accounting line of the
node or proxy that ran it, or the client's, its process CPU for download
and hashing) and, idle only, the median CPU time the whole cluster (proxy,
object servers, launchers, sandboxes, storlets) spent on one request
("cluster CPU", from a cgroup v1 cpuacct group the cluster runs in; "-"
where there is none, or under the background load, whose work it would
include). Wall times on a shared machine measure its scheduler as much as
the work; the CPU columns do not. Standard library only.

--sandbox says how fixity is deployed. admin (the default, the paper's
setting: fixity is a trusted storlet an operator installs) uploads it with
X-Object-Meta-Storlet-Sandbox: admin, as a reseller admin (a tempauth user
in the .reseller_admin group, which only such a user may do), so it runs in
the admin sandbox (class admin: 200 % of a CPU at most); user uploads it as
the account's own admin, into the user sandbox (50 % of a CPU at most).
--admin-weight W sets the daemons' storlet_admin_cpu_weight (1..10000;
100, one busy thread, when not given): how much a running admin storlet
weighs against the node's own threads. The output says which were used.

By default the client sits on loopback, where downloading costs it almost
nothing. --client-link RATE[,DELAY] (e.g. 1gbit or 1gbit,0.1ms; tc syntax)
puts the client side, the measured client and the background load alike,
in a network namespace of its own joined to the host by a veth pair whose
two ends are shaped by tc (tbf at RATE in each direction, plus a netem
delay each way if DELAY is given and the kernel has netem). The proxy
listens on the veth's host address; the cluster's own traffic (proxy to
object nodes) stays on loopback, so only what crosses to the client pays
the link, as if the proxy's front network were RATE. The background load
shares the link with the measured client because a real proxy's front
link is shared by all its clients. Needs root and iproute2; the namespace
and links are removed on every exit (also Ctrl-C, SIGTERM, errors), and a
run killed with SIGKILL leaves them to the next run, which removes those
of dead runs first.
"""
import argparse
import hashlib
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "test", "lib"))

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


def get(host, port, url, headers, sink):
    c = http.client.HTTPConnection(host, port, timeout=600)
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


def one(host, port, url, tok, how):
    """One request the client's way: (wall s, (md5, sha256) or the HTTP
    status of a failure, transaction id, client CPU s)."""
    h = {"X-Auth-Token": tok}
    c0 = time.process_time()
    t0 = time.monotonic()
    if how == "client":
        md5, sha = hashlib.md5(), hashlib.sha256()

        def sink(b):
            md5.update(b)
            sha.update(b)
        st, hd = get(host, port, url, h, sink)
        res = {"md5": md5.hexdigest(), "sha256": sha.hexdigest()}
    else:
        h["X-Run-Storlet"] = "fixity"
        h["X-Storlet-Parameter-1"] = "algorithms:md5,sha256"
        if how == "proxy":
            h["X-Storlet-Run-On-Proxy"] = ""
        out = []
        st, hd = get(host, port, url, h, out.append)
        res = json.loads(b"".join(out)) if st == 200 else {}
    dt = time.monotonic() - t0
    cpu = time.process_time() - c0
    txn = hd.get("x-trans-id", "")
    if st != 200:
        return dt, st, txn, cpu
    return dt, (res.get("md5"), res.get("sha256")), txn, cpu


def ms(sec):
    return "-" if sec is None else "%.1f" % (sec * 1e3)


def worker(host, port):
    """--worker: the client side inside the link's namespace. Reads one
    JSON [url, token, how] per line, answers with one()'s result."""
    for line in sys.stdin:
        url, tok, how = json.loads(line)
        print(json.dumps(one(host, port, url, tok, how)), flush=True)


class Client:
    """Runs one() here, or in a worker process inside a ClientLink's
    namespace (timed there, so the pipe to it costs nothing measured)."""

    def __init__(self, host, port, link=None):
        self.host, self.port, self.proc = host, port, None
        if link:
            self.proc = subprocess.Popen(
                link.wrap([sys.executable, os.path.abspath(__file__),
                           "--worker", host, str(port)]),
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def one(self, url, tok, how):
        if not self.proc:
            return one(self.host, self.port, url, tok, how)
        self.proc.stdin.write(json.dumps([url, tok, how]) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit("the client worker died (status %s)"
                             % self.proc.wait())
        dt, dig, txn, cpu = json.loads(line)
        return dt, tuple(dig) if isinstance(dig, list) else dig, txn, cpu

    def close(self):
        if self.proc:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


def ip(*args, check=True):
    r = subprocess.run(["ip"] + list(args), capture_output=True, text=True)
    if check and r.returncode:
        raise SystemExit("ip %s: %s" % (" ".join(args), r.stderr.strip()))
    return r.stdout


def tc(ns, *args):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + ["tc"] + list(args)
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        why = r.stderr.strip()
        if "netem" in args and "unknown" in why:
            why += " (this kernel has no netem qdisc: give RATE alone)"
        raise SystemExit("%s: %s" % (" ".join(cmd), why))
    return r.stdout


class ClientLink:
    """The client side's network namespace: a veth pair from the host
    (host_ip) to the namespace (ns_ip), each end's egress shaped to
    RATE by tbf (behind a netem delay if DELAY is given). Names carry
    our pid, so a run never touches another run's link."""

    PREFIX = "cfix"

    def __init__(self, spec):
        parts = spec.split(",")
        if len(parts) > 2 or not parts[0]:
            raise SystemExit("--client-link: RATE[,DELAY], e.g. 1gbit,0.1ms")
        self.rate = parts[0]
        self.delay = parts[1] if len(parts) > 1 else None
        pid = os.getpid()
        self.ns = "%s%d" % (self.PREFIX, pid)
        self.host_if, self.ns_if = self.ns + "h", self.ns + "c"
        self.made = False

    def describe(self):
        return "%s each way (tbf, burst %s, queue %s)%s" % (
            self.rate, self.BURST, self.QUEUE,
            ", netem delay %s each way" % self.delay if self.delay
            else ", no added delay")

    # tbf's bucket must hold a whole GSO packet (64 KiB) or tbf cuts it
    # up; its queue is what a switch port would buffer. 10 ms at 1 Gbit
    # kept a 256 MiB TCP download at ~930 Mbit/s without drops here.
    BURST, QUEUE = "128kb", "10ms"

    @classmethod
    def remove_stale(cls):
        """Removes the namespaces and links of runs that died by SIGKILL."""
        for name in ip("netns", "list").split():
            m = re.fullmatch(cls.PREFIX + r"(\d+)", name)
            if not m:
                continue
            try:
                os.kill(int(m.group(1)), 0)
                continue            # its run is alive
            except ProcessLookupError:
                pass
            except PermissionError:
                continue
            ip("netns", "del", name, check=False)
            ip("link", "del", name + "h", check=False)

    def __enter__(self):
        self.remove_stale()
        used = ip("-4", "-o", "addr")
        k = next((k for k in range(256) if " 10.250.%d." % k not in used),
                 None)
        if k is None:
            raise SystemExit("--client-link: no free 10.250.k.0/30 subnet")
        self.host_ip, self.ns_ip = "10.250.%d.1" % k, "10.250.%d.2" % k
        self.made = True
        try:
            ip("netns", "add", self.ns)
            ip("link", "add", self.host_if, "type", "veth", "peer", "name",
               self.ns_if)
            ip("link", "set", self.ns_if, "netns", self.ns)
            ip("addr", "add", self.host_ip + "/30", "dev", self.host_if)
            ip("link", "set", self.host_if, "up")
            ip("-n", self.ns, "addr", "add", self.ns_ip + "/30", "dev",
               self.ns_if)
            ip("-n", self.ns, "link", "set", self.ns_if, "up")
            ip("-n", self.ns, "link", "set", "lo", "up")
            for ns, dev in ((None, self.host_if), (self.ns, self.ns_if)):
                parent = ["root"]
                if self.delay:
                    tc(ns, "qdisc", "add", "dev", dev, "root", "handle", "1:",
                       "netem", "delay", self.delay)
                    parent = ["parent", "1:1"]
                tc(ns, "qdisc", "add", "dev", dev, *parent, "handle", "10:",
                   "tbf", "rate", self.rate, "burst", self.BURST,
                   "latency", self.QUEUE)
        except BaseException:
            self.close()
            raise
        return self

    def wrap(self, argv):
        return ["ip", "netns", "exec", self.ns] + argv

    def stats(self):
        """tc's counters of both ends (sent, dropped, overlimits)."""
        out = []
        for ns, dev in ((None, self.host_if), (self.ns, self.ns_if)):
            try:
                for ln in tc(ns, "-s", "qdisc", "show", "dev", dev
                             ).splitlines():
                    if "Sent" in ln:
                        out.append("%s: %s" % (dev, ln.strip()))
            except SystemExit as e:
                out.append("%s: %s" % (dev, e))
        return "\n".join(out)

    def close(self):
        # The namespace goes once no process is left in it (callers stop
        # theirs first); deleting either veth end deletes the pair.
        if self.made:
            self.made = False
            ip("netns", "del", self.ns, check=False)
            ip("link", "del", self.host_if, check=False)

    def __exit__(self, *exc):
        self.close()


class CpuGroup:
    """A cgroup v1 cpuacct group holding the cluster's processes (and all
    they fork: launchers, sandboxes, storlets; the sandbox moves storlets
    between cpu, memory and pids groups but never cpuacct), so usage()
    is the whole cluster's CPU in ns, dead children included. We join it
    before starting the cluster and leave once it runs, so the client and
    the background load are not in it. Without a writable cpuacct
    hierarchy (cgroup v2 only, not root) it is simply absent (ok False)."""

    ROOT = "/sys/fs/cgroup/cpuacct"
    PREFIX = "cfix"

    def __init__(self):
        self.path = os.path.join(self.ROOT, "%s%d" % (self.PREFIX,
                                                      os.getpid()))
        self.ok = False
        self.home = None

    def __enter__(self):
        if not os.access(os.path.join(self.ROOT, "cgroup.procs"), os.W_OK):
            return self
        for name in os.listdir(self.ROOT):     # those of SIGKILLed runs
            m = re.fullmatch(self.PREFIX + r"(\d+)", name)
            if m and not os.path.exists("/proc/" + m.group(1)):
                try:
                    os.rmdir(os.path.join(self.ROOT, name))
                except OSError:
                    pass
        with open("/proc/self/cgroup") as f:
            for ln in f:
                _, ctl, rel = ln.rstrip("\n").split(":", 2)
                if "cpuacct" in ctl.split(","):
                    self.home = os.path.join(self.ROOT, rel.lstrip("/"))
        if not self.home:
            return self
        os.mkdir(self.path)
        self.ok = True
        try:
            self._move(self.path)
        except BaseException:
            self.close()
            raise
        return self

    def _move(self, group):
        with open(os.path.join(group, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))

    def leave(self):
        """Back to our own group; the processes we started stay."""
        if self.ok:
            self._move(self.home)

    def usage(self):
        if not self.ok:
            return None
        with open(os.path.join(self.path, "cpuacct.usage")) as f:
            return int(f.read())

    def close(self):
        if not self.ok:
            return
        self.leave()
        self.ok = False
        # The cluster is stopped by now; a sandbox may take a moment to go.
        for _ in range(100):
            try:
                os.rmdir(self.path)
                return
            except OSError:
                time.sleep(0.1)
        print("warning: could not remove %s" % self.path, file=sys.stderr)

    def __exit__(self, *exc):
        self.close()


def reps_for(a, size):
    """Small objects vary most from one request to the next (a scheduler
    slice is a large part of their time) and cost least: more of them."""
    if a.reps:
        return a.reps
    return 15 if size <= 1 else 7 if size <= 16 else 3


def storlet_cpu(logs, txns):
    """Median storlet CPU (s) of the runs whose transaction ids are txns,
    from the accounting lines in logs; None if none is found."""
    want = set(txns)
    found = []
    for ln in logs.splitlines():
        m = re.search(r"\bstorlet account=.* cpu_us=(\d+) .* txn=(\S+)", ln)
        if m and m.group(2) in want:
            found.append(int(m.group(1)) / 1e6)
    return statistics.median(found) if found else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1,16,256")
    ap.add_argument("--reps", type=int,
                    help="repetitions of each way per size (default: 15 up "
                    "to 1 MiB, 7 up to 16 MiB, 3 above)")
    ap.add_argument("--out")
    ap.add_argument("--client-link", metavar="RATE[,DELAY]",
                    help="the client side behind a shaped veth link, "
                    "e.g. 1gbit or 1gbit,0.1ms (root, iproute2)")
    ap.add_argument("--sandbox", choices=("admin", "user"), default="admin",
                    help="deploy fixity as an admin (trusted, reseller-admin "
                    "installed) or a user storlet (default admin)")
    ap.add_argument("--admin-weight", type=int, metavar="W",
                    help="the daemons' storlet_admin_cpu_weight (default: "
                    "theirs, 100)")
    ap.add_argument("--worker", nargs=2, metavar=("HOST", "PORT"),
                    help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        return worker(a.worker[0], int(a.worker[1]))
    sizes = [int(x) for x in a.sizes.split(",")]

    def stop(signo, frame):
        raise SystemExit(128 + signo)
    # SIGTERM and SIGHUP unwind like Ctrl-C does, through every cleanup.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    link = ClientLink(a.client_link) if a.client_link else None
    if link:
        with link:
            study(a, sizes, link)
    else:
        study(a, sizes, None)


def study(a, sizes, link):
    from cluster import Cluster, BUILD, wait_for
    with CpuGroup() as cg, Cluster() as cl:
        os.chmod(cl.dir, 0o755)
        sdk = os.path.join(SRC, "storlets", "sdk", "cairn_storlet.py")

        def conf(name):
            c = {"storlets": "true", "storlet_warm": "2",
                 "storlet_cache_dir": os.path.join(cl.dir, name + "-cache"),
                 "storlet_sdk": sdk, "log_level": "notice"}
            if a.admin_weight:
                c["storlet_admin_cpu_weight"] = str(a.admin_weight)
            return c
        nodes = [cl.objectd(devices=["d%d" % (i + 1)], ip=ip,
                            conf=conf("node%d" % i))
                 for i, ip in enumerate(("127.0.0.1", "127.0.0.2",
                                         "127.0.0.3"))]
        for kind, port, rep in (("account", "aport", 3),
                                ("container", "cport", 3),
                                ("object", "port", 1)):
            cl.build_ring(kind, 6, rep, [(n.ip, getattr(n, port),
                                          n.devices[0]) for n in nodes])
        # With a client link the proxy listens on the veth's host address:
        # the client reaches it across the link, we (setup) over loopback.
        # test:operator is the reseller admin who installs a trusted storlet
        p = cl.proxy(ip=link.host_ip if link else "127.0.0.1",
                     conf={"DEFAULT": conf("proxy")},
                     users={"test:tester": "testing .admin",
                            "test:operator": "operating .reseller_admin"})
        cg.leave()
        where = ("client link: " + link.describe()) if link else \
            "client on loopback"
        where += "; fixity in the %s sandbox" % a.sandbox
        if a.sandbox == "admin":
            where += ", storlet_admin_cpu_weight %s" % (
                a.admin_weight or "default (100)")
        print(where, flush=True)
        path, tok = p.auth("test:tester")
        h = {"X-Auth-Token": tok}
        up = dict(h)
        meta = {}
        if a.sandbox == "admin":
            up["X-Auth-Token"] = p.auth("test:operator")[1]
            meta["X-Object-Meta-Storlet-Sandbox"] = "admin"
        p.request("POST", path, headers=dict(
            h, **{"X-Account-Meta-Storlet-Enabled": "True"}))
        for c in ("storlet", "fix"):
            p.request("PUT", path + "/" + c, headers=h)
        with open(os.path.join(BUILD, "storlets", "fixity"), "rb") as f:
            st, _, body = p.request("PUT", path + "/storlet/fixity",
                                    body=f.read(), headers=dict(up, **meta, **{
                                        "X-Object-Meta-Storlet-Language": "native",
                                        "X-Object-Meta-Storlet-Interface-Version": "1.0",
                                        "X-Object-Meta-Storlet-Object-Metadata": "yes",
                                        "X-Object-Meta-Storlet-Main": "fixity"}))
        if st != 201:
            raise SystemExit("uploading fixity (%s sandbox): HTTP %d %r"
                             % (a.sandbox, st, body[:200]))
        for s in sizes:
            c = http.client.HTTPConnection(p.ip, p.port, timeout=600)
            c.request("PUT", "%s/fix/o%d" % (path, s), body=Body(s * MiB, s),
                      headers=dict(h, **{"Content-Length": str(s * MiB)}))
            r = c.getresponse()
            r.read()
            c.close()
            assert r.status == 201, r.status
        rows = []
        loadavg = []
        for load in ("idle", "4 KiB GETs c=8"):
            bg = None
            client = None
            try:
                if load != "idle":
                    bg = subprocess.Popen(
                        (link.wrap if link else list)(
                            [os.path.join(BUILD, "cairn-bench"), "-A",
                             "http://%s:%d/auth/v1.0" % (p.ip, p.port), "-U",
                             "test:tester", "-K", "testing", "-q", "-m",
                             "get", "-s", "4k", "-c", "8", "-p", "200", "-d",
                             "30m", "--container-prefix", "bg",
                             "--cleanup"]),
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                        text=True)

                    def filled():
                        if bg.poll() is not None:
                            raise SystemExit("background load exited:\n"
                                             + bg.stdout.read())
                        st, hd, _ = p.request("HEAD", path + "/bg-0",
                                              headers=h)
                        return st // 100 == 2 and int(
                            hd.get("x-container-object-count", 0)) >= 200
                    wait_for(filled, timeout=120,
                             what="background prepopulation")
                client = Client(p.ip, p.port, link)
                for s in sizes:
                    url = "%s/fix/o%d" % (path, s)
                    client.one(url, tok, "node")   # warm: code fetch, pool
                    if s <= 16:
                        client.one(url, tok, "proxy")
                    ref = None
                    ways = ("node", "proxy", "client")
                    got = {how: ([], [], [], []) for how in ways}
                    failed = {}
                    # The ways take turns, so that a load that drifts
                    # over the minutes of a size meets all three alike.
                    for _ in range(reps_for(a, s)):
                        for how in ways:
                            if how in failed:
                                continue
                            ts, txns, cpus, ccpus = got[how]
                            u0 = cg.usage()
                            dt, dig, txn, cpu = client.one(url, tok, how)
                            if u0 is not None:
                                ccpus.append((cg.usage() - u0) / 1e9)
                            if isinstance(dig, int):   # an HTTP failure
                                failed[how] = dig
                                continue
                            ref = ref or dig
                            if dig != ref:
                                raise SystemExit("%s digests differ: %r %r"
                                                 % (how, dig, ref))
                            ts.append(dt)
                            txns.append(txn)
                            cpus.append(cpu)
                    for how in ways:
                        ts, txns, cpus, ccpus = got[how]
                        if how in failed:
                            rows.append((load, s, how, "HTTP %d" % failed[how]))
                            print(rows[-1], flush=True)
                            print("".join(ln + "\n" for ln in
                                          p.read_log().splitlines()
                                          if "ERR" in ln or "storlet" in ln)
                                  [-2000:], flush=True)
                            continue
                        if how == "client":
                            cpu = statistics.median(cpus)
                        else:
                            logs = p.read_log() if how == "proxy" else \
                                "".join(n.read_log() for n in nodes)
                            cpu = storlet_cpu(logs, txns)
                        # The cluster's CPU per request means something
                        # only while nothing else runs in it.
                        ccpu = statistics.median(ccpus) \
                            if ccpus and not bg else None
                        med = statistics.median(ts)
                        rows.append((load, s, how, med, min(ts), max(ts),
                                     s / med, ms(cpu), ms(ccpu)))
                        print("%-15s %4d MiB %-6s median %.3fs (%.3f-%.3f)"
                              " %.0f MiB/s, CPU %s ms, cluster CPU %s ms"
                              % rows[-1], flush=True)
                with open("/proc/loadavg") as f:
                    loadavg.append("%s: %s" % (load, " ".join(
                        f.read().split()[:3])))
            finally:
                if client:
                    client.close()
                if bg:
                    bg.send_signal(signal.SIGINT)
                    try:
                        out, _ = bg.communicate(timeout=300)
                    except subprocess.TimeoutExpired:
                        bg.kill()
                        out, _ = bg.communicate()
                    print("background load:\n" + out, flush=True)
        table = ["| load | size | where | median s | min-max s | MiB/s "
                 "| work CPU ms | cluster CPU ms |",
                 "|---|---|---|---|---|---|---|---|"]
        for r in rows:
            if len(r) == 4:
                table.append("| %s | %d MiB | %s | %s | | | | |" % r)
            else:
                table.append("| %s | %d MiB | %s | %.3f | %.3f-%.3f | %.0f "
                             "| %s | %s |" % r)
        notes = [where, "load average (1, 5, 15 min) at the end of each "
                 "half: " + "; ".join(loadavg)]
        if link:
            notes.append("link counters:\n" + link.stats())
        print("\n".join(table + [""] + notes))
        if a.out:
            with open(a.out, "w") as f:
                f.write("\n".join(table + [""] + notes) + "\n")


if __name__ == "__main__":
    main()
