#!/usr/bin/python3
# tier: full
"""The malicious-storlet catalog at the product level (docs/threat-model.md,
"On a running node"): hostile storlets deployed through the proxy by two
tenants of a real cluster and run by its object node, while that node keeps
serving.

test/sandbox/run_attacks.py drives the launcher directly and proves each
protecting layer with a control run that switches that layer off (weaken
bits). This script does not repeat those controls; it checks what a tenant
can do through the product:
  - each attack (CPU hog, fork bomb, memory hog, scratch fill, fd
    exhaustion, output flood, never-ending silence) is held in its hostile
    state (test/sandbox/attacks/node_attack.c: it shows a pipe on fd 10
    and blocks on it until this script writes a byte), which proves it is
    alive; meanwhile plain PUTs and GETs of both tenants and the other
    tenant's identity storlet answer the right bytes from the same node;
    the attack is then released and must end contained: the right status,
    or abnormal end, and the node's accounting line names the right end;
    afterwards no process of the tenant's sandbox identity is left;
  - each has a control at this level: the same storlet on the proxy,
    whose configuration raises the limit that stopped it on the node (wall
    clock, idle time, output cap), gets through; where the limit is the
    sandbox's own (processes, memory, scratch, descriptors) a harmless
    run of the same storlet doing the same thing within the limit works;
  - another tenant's storlet, held alive on the node with its secret in its
    scratch and a listening abstract socket, cannot be signalled, ptraced,
    read through /proc or connected to by the attacker, who also cannot
    reach the node's ports, the launcher's socket, the .data files, the
    configurations, the rings, the slot table or the host's /proc; the
    same actions on its own things work (so the probes are real), and the
    host canaries (a file, a TCP listener, an abstract socket in the host's
    namespace) see nothing;
  - what the daemons themselves spend on a tenant's storlets stays bounded
    and never hurts the other tenant: failing storlets do not make the
    proxy error-limit the node; a log flood, an error-frame flood and bad
    output metadata end at once (the daemon reads those channels on its
    own CPU); a storlet larger than the node's code cache does not run
    there; one tenant holds at most 32 sandboxes of the node (more answer
    503) and its warm sandboxes, however many storlet versions it runs,
    never refuse the other tenant's run; storlets are the host OOM
    killer's first choice.
Needs root (the sandbox does)."""
import hashlib
import http.client
import os
import re
import secrets
import socket
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster, BUILD, free_port, wait_for  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
ATTACK = os.path.join(BUILD, "test", "attacks", "node_attack")
if os.geteuid() != 0:
    t.skip("storlet attacks on a node", "needs root (the sandbox does)")
    t.done()
if not os.path.exists(ATTACK):
    t.skip("storlet attacks on a node", "%s not built" % ATTACK)
    t.done()

CACHE = 4 << 20   # the node's storlet_cache_size
TENANT_RUNS = 8    # the node's storlet_tenant_max (the proxy keeps 32)
# The node stops storlets early; the proxy, where the controls run, lets
# them run long and write much. Timeouts are events here, never thresholds:
# a held attack waits for this script, and the idle limit only has to be
# longer than one round of serve() on a loaded machine.
NODE_LIMITS = {"storlet_wall_timeout": "20", "storlet_idle_timeout": "15",
               "storlet_output_max": str(1 << 20),
               "storlet_cache_size": str(CACHE),
               "storlet_tenant_max": str(TENANT_RUNS)}
PROXY_LIMITS = {"storlet_wall_timeout": "300", "storlet_idle_timeout": "300",
                "storlet_output_max": str(64 << 20)}
PIDS_MAX, NOFILE, SCRATCH_MIB = 64, 64, 64   # the user sandbox's defaults
ERRL = 2      # the proxy's error_suppression_limit: few errors limit a node
LAUNCHER_MAX = 256   # the launcher's default --max


# ---- /proc helpers -------------------------------------------------------

def stat_fields(pid):
    """Fields of /proc/pid/stat after the command name, or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    return s[s.rindex(")") + 2:].split()


def start_time(pid):
    f = stat_fields(pid)
    return f[19] if f else None


def cpu_ticks(pid):
    f = stat_fields(pid)
    return int(f[11]) + int(f[12]) if f else 0


def uid_of(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("Uid:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read()
    except OSError:
        return b""


def all_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def descendants(root):
    kids = {}
    for pid in all_pids():
        f = stat_fields(pid)
        if f:
            kids.setdefault(int(f[1]), []).append(pid)
    out, todo = [], [root]
    while todo:
        for k in kids.get(todo.pop(), []):
            out.append(k)
            todo.append(k)
    return out


def sandboxed(daemon, uid=None):
    """Processes below the daemon (its launcher's sandboxes) that run under
    a sandbox identity (not root), or under uid."""
    return [p for p in descendants(daemon.proc.pid)
            if uid_of(p) not in (None, 0) and (uid is None or uid_of(p) == uid)]


def alive(pid, start):
    return start is not None and start_time(pid) == start


def find_held(daemon, mode, bg):
    """The pid of the node_attack in mode, below daemon, once it holds (fd
    10 is its gate pipe); raises when bg, its request, ended first."""
    def held():
        if not bg.is_alive():
            raise RuntimeError("%s on %s ended before it held: %r" % (
                mode, daemon.name, bg.get()[:3]))
        for pid in sandboxed(daemon):
            if not cmdline(pid).startswith(b"/storlet/node_attack\0%s\0" %
                                           mode.encode()):
                continue
            try:
                if os.readlink("/proc/%d/fd/10" % pid).startswith("pipe:"):
                    return pid
            except OSError:
                pass
        return None
    return wait_for(held, 120, "%s held on %s" % (mode, daemon.name))


def release(pid):
    fd = os.open("/proc/%d/fd/10" % pid, os.O_WRONLY)
    try:
        os.write(fd, b"g")
    finally:
        os.close(fd)


class Bg(threading.Thread):
    """One request in a thread; result is (status, headers, body, whole)
    or the exception."""

    def __init__(self, p, method, path, headers):
        super().__init__(daemon=True)
        self.args = (p, method, path, headers)
        self.result = None
        self.start()

    def run(self):
        p, method, path, headers = self.args
        c = http.client.HTTPConnection(p.ip, p.port, timeout=600)
        try:
            c.request(method, path, headers=headers)
            r = c.getresponse()
            hdrs = {k.lower(): v for k, v in r.getheaders()}
            try:
                self.result = (r.status, hdrs, r.read(), True)
            except http.client.IncompleteRead as e:
                self.result = (r.status, hdrs, e.partial, False)
        except Exception as e:       # reported by the caller
            self.result = e
        finally:
            c.close()

    def get(self):
        self.join(600)
        if isinstance(self.result, Exception) or self.result is None:
            return (None, {}, repr(self.result).encode(), False)
        return self.result


def acct_line(daemon, txn):
    """The fields of the daemon's accounting line for txn (waits for it)."""
    def line():
        for ln in daemon.read_log().splitlines():
            if "storlet account=" in ln and "txn=%s " % txn in ln:
                return ln
        return None
    ln = wait_for(line, 60, "the accounting line of %s" % txn)
    head, _, reason = ln.partition(" reason=")
    f = dict(kv.split("=", 1) for kv in head.split() if "=" in kv)
    f["reason"] = reason
    return f


with Cluster(t) as cl:
    (node,), p = cl.storlet_cluster(
        ips=("127.0.0.1",), part_power=4, warm="0",
        node_conf=NODE_LIMITS, proxy_conf=PROXY_LIMITS,
        app_conf={"error_suppression_limit": str(ERRL)})
    pathA, tokA = p.auth("test:tester")
    pathB, tokB = p.auth("test2:tester2")
    reqA, reqB = p.requester(tokA, timeout=120), p.requester(tokB, timeout=120)
    # every storlet failure here is on purpose
    cl.expect_log(r"storlet ")

    with open(ATTACK, "rb") as f:
        elf = f.read()
    for path, tok in ((pathA, tokA), (pathB, tokB)):
        p.enable_storlets(path, tok, ("storlet", "dependency", "data"))
        p.request("PUT", path + "/dependency/node_attack", body=elf, headers={
            "X-Auth-Token": tok,
            "X-Object-Meta-Storlet-Dependency-Version": "1",
            "X-Object-Meta-Storlet-Dependency-Permissions": "0755"})
    t.eq(p.deploy(pathB, tokB, "identity"), 201, "tenant B deploys identity")

    def deploy(path, tok, name, args):
        body = ("#!/bin/sh\nexec 3>&-\nexec /storlet/node_attack %s\n" %
                args).encode()
        return p.deploy(path, tok, name, body=body, **{
            "X-Object-Meta-Storlet-Dependency": "node_attack"})

    SECRET_B = "tenant-b-object-%s" % secrets.token_hex(12)
    blobB = os.urandom(200000)
    inA = b"attacker input\n"
    reqB("PUT", pathB + "/data/secret", body=SECRET_B.encode() * 50)
    reqB("PUT", pathB + "/data/blob", body=blobB)
    reqA("PUT", pathA + "/data/in", body=inA)

    # ---- the node keeps serving
    rounds = [0]

    def serve():
        """Both tenants' plain PUT and GET and B's identity storlet, on the
        only object node, answer the right bytes; returns what went wrong."""
        rounds[0] += 1
        bad = []
        body = os.urandom(65536)
        name = "/data/serve-%d" % rounds[0]
        st, h, _ = reqB("PUT", pathB + name, body=body)
        if st != 201 or h.get("etag") != hashlib.md5(body).hexdigest():
            bad.append("B PUT %s: %s" % (name, st))
        st, _, b = reqB("GET", pathB + name)
        if (st, b) != (200, body):
            bad.append("B GET %s: %s, %d bytes" % (name, st, len(b)))
        st, _, b = reqB("GET", pathB + "/data/blob")
        if (st, b) != (200, blobB):
            bad.append("B GET blob: %s" % st)
        st, h, b = reqB("GET", pathB + "/data/blob",
                        headers={"X-Run-Storlet": "identity"})
        if (st, b) != (200, blobB) or not h.get(
                "x-storlet-executed-on", "").startswith(node.ip + ":"):
            bad.append("B identity storlet GET: %s %r" % (
                st, h.get("x-storlet-executed-on")))
        st, _, b = reqA("PUT", pathA + name, body=body)
        if st != 201:
            bad.append("A PUT %s: %s" % (name, st))
        st, _, b = reqA("GET", pathA + "/data/in")
        if (st, b) != (200, inA):
            bad.append("A GET in: %s" % st)
        return bad

    t.eq(serve(), [], "the node serves both tenants before any attack")

    # ---- failing storlets are the tenant's failures, not the node's: the
    # proxy must not error-limit the node (for every tenant) because one
    # tenant's storlets keep answering 500
    p.deploy(pathA, tokA, "fail", body=b"#!/bin/sh\nexec 3>&-\nexit 1\n")
    sts = [reqA("GET", pathA + "/data/in",
                headers={"X-Run-Storlet": "fail"})[0]
           for _ in range(6 * ERRL + 6)]
    t.eq(set(sts), {500}, "tenant A's failing storlet answers 500, %d times"
         % len(sts))
    t.eq(serve(), [], "the node still serves both tenants after them")
    t.ok("error limited" not in p.read_log(),
         "the proxy did not error-limit the node for a storlet's failures")

    def run(tenant, storlet, on_proxy=False):
        path, tok = (pathA, tokA) if tenant == "A" else (pathB, tokB)
        obj = "/data/in" if tenant == "A" else "/data/blob"
        h = {"X-Auth-Token": tok, "X-Run-Storlet": storlet}
        if on_proxy:
            h["X-Storlet-Run-On-Proxy"] = ""
        return Bg(p, "GET", path + obj, h)

    uids = {}

    def held_checks(what, daemon, mode, tenant, bg):
        """Finds the held attack (started by bg), records its tenant's uid
        and its processes, runs serve() and checks the attack outlived
        it."""
        pid = find_held(daemon, mode, bg)
        start = start_time(pid)
        uid = uid_of(pid)
        uids.setdefault(tenant, uid)
        t.eq(uid, uids[tenant], "%s runs under tenant %s's sandbox identity "
             "(host uid %s)" % (what, tenant, uid))
        procs = [(q, start_time(q)) for q in sandboxed(daemon, uid)]
        bad = serve()
        t.eq(bad, [], "while %s is held, the node serves both tenants, "
             "B's storlet included" % what)
        t.ok(alive(pid, start), "%s was alive through those requests" % what)
        return pid, start, procs

    def no_survivors(what, daemon, procs, uid):
        def gone():
            return not any(alive(q, s) for q, s in procs) and \
                not sandboxed(daemon, uid)
        try:
            wait_for(gone, 60, "the sandbox of %s gone" % what)
            ok = True
        except TimeoutError:
            ok = False
        t.ok(ok, "no process of %s (host uid %s) is left" % (what, uid))

    def txn(r):
        return r[1].get("x-trans-id", "")

    # ---- the channels the daemon reads itself (log, fd 3): their cost is
    # the daemon's CPU, outside the sandbox's quota, so each is bounded and
    # a flood ends the run at once instead of at a timeout
    FRAME = b"import os, json, struct\n" \
            b"def frame(o):\n" \
            b"    d = json.dumps(o).encode()\n" \
            b"    return struct.pack('>I', len(d)) + d\n"
    chans = {
        "logflood": (b"#!/bin/sh\nexec 3>&-\nexec yes " + b"A" * 70 +
                     b" >&2\n", b"log larger than 16 MiB"),
        "errflood": (b"#!/usr/bin/python3\n" + FRAME +
                     b"f = frame({'type': 'error', 'reason': 'x' * 1000})\n"
                     b"while True:\n    os.write(3, f)\n",
                     b"a second error frame"),
        "bigmeta": (b"#!/usr/bin/python3\n" + FRAME +
                    b"m = {'K%04d' % i: 'v' * 50 for i in range(1000)}\n"
                    b"os.write(3, frame({'type': 'metadata', 'metadata': m}))\n"
                    b"os.close(3)\nos.write(1, b'body')\n",
                    b"output metadata of 1000 keys and 55000 bytes"),
        "ctlmeta": (b"#!/usr/bin/python3\n" + FRAME +
                    b"m = {'Note': 'a\\x01b'}\n"
                    b"os.write(3, frame({'type': 'metadata', 'metadata': m}))\n"
                    b"os.close(3)\nos.write(1, b'body')\n",
                    b"bad output metadata 'Note'"),
    }
    for name, (body, why) in chans.items():
        p.deploy(pathA, tokA, name, body=body)
        r = run("A", name).get()
        f = acct_line(node, txn(r))
        # the floods never end by themselves: the engine killed them; the
        # bad metadata writers may exit before the kill lands
        ends = ("error",) if name.endswith("flood") else ("error", "exit")
        t.ok(r[0] == 500 and why in r[2] and f.get("end") in ends,
             "%s ends at once, before output: %s %r (end=%s)" % (
                 name, r[0], r[2][:100], f.get("end")))
    p.deploy(pathA, tokA, "chan-ok", body=b"#!/usr/bin/python3\n" + FRAME +
             b"m = {'K%02d' % i: 'v' * 40 for i in range(90)}\n"
             b"os.write(3, frame({'type': 'metadata', 'metadata': m}))\n"
             b"os.close(3)\n"
             b"os.write(2, b'log line\\n' * 100000)\n"
             b"os.write(1, b'body')\n")
    r = run("A", "chan-ok").get()
    t.ok(r[0] == 200 and r[2] == b"body" and
         r[1].get("x-object-meta-k89") == "v" * 40,
         "control: 90 keys of metadata and a 900 KB log are fine (%s)" % r[0])
    t.eq(serve(), [], "the node serves both tenants after them")

    # ---- huge code: the node's code cache is bounded, so a storlet that
    # can never fit it does not run there,
    # rather than fill the cache's disk; control: the proxy's cache is large
    huge = b"#!/bin/sh\nexec 3>&-\nexec cat\n#" + b"h" * CACHE + b"\n"
    p.deploy(pathA, tokA, "huge", body=huge)
    r = run("A", "huge").get()
    t.ok(r[0] == 500 and b"larger than this node's storlet_cache_size"
         in r[2], "a storlet larger than the node's code cache does not "
         "run there: %s %r" % (r[0], r[2][:100]))
    big = [os.path.join(d, f) for d, _, fs in
           os.walk(os.path.join(cl.dir, "node0-cache")) for f in fs
           if os.path.getsize(os.path.join(d, f)) > CACHE // 2]
    t.eq(big, [], "and nothing of it is left in the node's cache")
    r = run("A", "huge", on_proxy=True).get()
    t.eq((r[0], r[2]), (200, inA), "control: it runs on the proxy, whose "
         "cache is large enough")

    # ---- CPU hog: spins in 4 threads and keeps writing, so only the wall
    # clock ends it; control: the proxy, whose wall limit is larger
    deploy(pathA, tokA, "cpu", "cpu 4")
    bn, bp = run("A", "cpu"), run("A", "cpu", on_proxy=True)
    pid, start, procs = held_checks("the CPU hog", node, "cpu", "A", bn)
    c0 = cpu_ticks(pid)
    try:
        wait_for(lambda: cpu_ticks(pid) > c0 + 20, 60, "the hog spinning")
        spinning = True
    except TimeoutError:
        spinning = False
    t.ok(spinning, "the CPU hog burns CPU while held")
    quota = None
    try:
        with open("/proc/%d/cgroup" % pid) as f:
            for line in f:
                _, ctl, cg = line.strip().split(":", 2)
                if "cpu" in ctl.split(","):
                    d = "/sys/fs/cgroup/%s%s" % (ctl, cg)
                    with open(d + "/cpu.cfs_quota_us") as q, \
                            open(d + "/cpu.cfs_period_us") as pr:
                        quota = (int(q.read()), int(pr.read()))
    except OSError:
        pass
    if quota is None:
        t.skip("the CPU hog's cgroup has a CPU quota", "no cpu cgroup here")
    else:
        t.ok(0 < quota[0] <= quota[1] // 2,
             "the CPU hog's cgroup caps it at half a CPU (%d/%d us)" % quota)
    ppid_ = find_held(p, "cpu", bp)
    pstart = start_time(ppid_)
    release(pid)
    release(ppid_)
    r = bn.get()
    t.ok(r[0] == 200 and not r[3] and r[2].startswith(b"x"),
         "the CPU hog on the node is cut off: 200 with an abnormal end "
         "(%s, %d bytes)" % (r[0], len(r[2])))
    f = acct_line(node, txn(r))
    t.eq(f.get("end"), "timeout", "the node ended it at the wall clock")
    no_survivors("the CPU hog", node, procs, uids["A"])
    t.ok(alive(ppid_, pstart), "control: the same hog on the proxy (wall "
         "limit raised) is still running after the node's was killed")
    release(ppid_)
    r = bp.get()
    t.ok(r[0] == 200 and r[3] and r[2].endswith(b"released\n"),
         "control: and ends normally when released")

    # ---- never-ending silence: killed when idle; control on the proxy
    deploy(pathA, tokA, "silence", "silence")
    bn, bp = run("A", "silence"), run("A", "silence", on_proxy=True)
    pid, start, procs = held_checks("the silent storlet", node, "silence",
                                     "A", bn)
    ppid_ = find_held(p, "silence", bp)
    pstart = start_time(ppid_)
    r = bn.get()
    t.ok(r[0] == 500 and b"timed out" in r[2],
         "the silent storlet on the node ends in 500: %r" % r[2][:120])
    t.eq(acct_line(node, txn(r)).get("end"), "idle",
         "the node ended it for making no progress")
    no_survivors("the silent storlet", node, procs, uids["A"])
    t.ok(alive(ppid_, pstart), "control: the same storlet on the proxy "
         "(idle limit raised) is still waiting")
    release(ppid_)
    r = bp.get()
    t.eq((r[0], r[2]), (200, b"done\n"),
         "control: and answers when released")

    # ---- output flood: cut at the node's cap; control on the proxy
    deploy(pathA, tokA, "flood", "flood 4096 1")
    bn, bp = run("A", "flood"), run("A", "flood", on_proxy=True)
    pid, start, procs = held_checks("the output flood", node, "flood", "A",
                                     bn)
    ppid_ = find_held(p, "flood", bp)
    release(pid)
    r = bn.get()
    t.ok(r[0] == 200 and not r[3] and len(r[2]) <= 1 << 20,
         "the flood from the node is cut at the cap: abnormal end after "
         "%d bytes" % len(r[2]))
    t.eq(acct_line(node, txn(r)).get("end"), "output_cap",
         "the node ended it at the output cap")
    no_survivors("the output flood", node, procs, uids["A"])
    release(ppid_)
    r = bp.get()
    t.ok(r[0] == 200 and r[3] and r[2] == b"\x5a" * (4096 << 10),
         "control: on the proxy (cap raised) all 4 MiB arrive")

    # ---- the sandbox's own limits: fork bomb, memory, scratch, fds
    def limit_case(what, mode, args, check_held, expect, control_args,
                   control_expect):
        deploy(pathA, tokA, mode, "%s %s 1" % (mode, args))
        b = run("A", mode)
        pid, start, procs = held_checks(what, node, mode, "A", b)
        ok, why = check_held(pid, procs)
        t.ok(ok, "while held, %s is at the sandbox's limit: %s" % (what, why))
        release(pid)
        r = b.get()
        t.ok(expect(r), "%s ends contained: %s %r" % (what, r[0], r[2][:120]))
        if r[0] == 200:
            f = acct_line(node, txn(r))
            t.diag("accounting: end=%s exit=%s" % (f.get("end"), f.get("exit")))
        no_survivors(what, node, procs, uids["A"])
        deploy(pathA, tokA, mode + "-ok", "%s %s 0" % (mode, control_args))
        r = run("A", mode + "-ok").get()
        t.eq((r[0], r[2]), (200, control_expect.encode()),
             "control: %s within the limit works" % mode)

    def forks_held(pid, procs):
        n = len(procs)
        return 32 <= n <= PIDS_MAX, "%d processes of its tenant" % n

    limit_case("the fork bomb", "fork", "100000", forks_held,
               lambda r: r[0] == 200 and re.match(
                   rb"forks (\d+) of 100000: Resource temporarily unavailable",
                   r[2]) is not None and
               int(r[2].split()[1]) < PIDS_MAX,
               "20", "forks 20 of 20: all\n")

    def rss_mib(pid):
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) // 1024
        return 0

    def oom_adj(pid):
        with open("/proc/%d/oom_score_adj" % pid) as f:
            return int(f.read())

    def mem_held(pid, procs):
        # each sandbox's memory limit does not bound all of them together:
        # on host memory pressure the kernel's OOM killer must take the
        # storlets, never the daemon
        adj = [oom_adj(q) for q, _ in procs]
        return (rss_mib(pid) >= 128 and set(adj) == {1000} and
                oom_adj(node.proc.pid) < 1000,
                "%d MiB resident; oom_score_adj %s, the node's %d" % (
                    rss_mib(pid), sorted(set(adj)), oom_adj(node.proc.pid)))

    limit_case("the memory hog", "mem", "128", mem_held,
               lambda r: (r[0] == 500 and b"oom" in r[2]) or
               (r[0] == 200 and re.match(rb"mem \d+ MiB, then mmap", r[2])),
               "64", "mem 64 MiB: all\n")

    def scratch_held(pid, _):
        s = os.statvfs("/proc/%d/root/tmp" % pid)
        size = s.f_blocks * s.f_frsize
        return (size <= SCRATCH_MIB << 20 and s.f_bfree * s.f_frsize < 1 << 20,
                "scratch %d MiB, %d KiB free" % (size >> 20,
                                                 s.f_bfree * s.f_frsize >> 10))

    limit_case("the scratch filler", "disk", "1024", scratch_held,
               lambda r: r[0] == 200 and re.match(
                   rb"disk (\d+) of 1024 MiB: (No space left on device|"
                   rb"File too large)", r[2]) is not None,
               "8", "disk 8 of 8 MiB: all\n")

    def fds_held(pid, _):
        n = len(os.listdir("/proc/%d/fd" % pid))
        return n <= NOFILE, "%d descriptors open" % n

    limit_case("the descriptor hog", "fds", "100000", fds_held,
               lambda r: r[0] == 200 and re.match(
                   rb"fds \d+ of 100000: Too many open files", r[2])
               is not None,
               "20", "fds 20 of 20: all\n")

    # ---- another tenant, held on the node, is probed by tenant A
    VSECRET = "victim-scratch-%s" % secrets.token_hex(12)
    VNAME = "cairn-victim-%s" % secrets.token_hex(6)
    deploy(pathB, tokB, "victim", "victim %s %s" % (VSECRET, VNAME))
    bv = run("B", "victim")
    vpid = find_held(node, "victim", bv)
    vstart = start_time(vpid)
    uids["B"] = uid_of(vpid)
    t.ok(uids["B"] not in (None, 0, uids["A"]),
         "the two tenants' storlets run under different host uids (%s, %s)" %
         (uids["A"], uids["B"]))
    with open("/proc/%d/root/tmp/secret.txt" % vpid) as f:
        t.eq(f.read(), VSECRET, "control: the victim's secret is in its "
             "scratch, readable through /proc/<pid>/root by the host")

    # host canaries: a file, a TCP listener, an abstract socket of the same
    # name in the host's network namespace
    CANARY = "host-canary-%s" % secrets.token_hex(12)
    canary = os.path.join(cl.dir, "canary.txt")
    with open(canary, "w") as f:
        f.write(CANARY)
    os.chmod(canary, 0o644)
    tcp = socket.socket()
    tcp_port = free_port()
    tcp.bind(("127.0.0.1", tcp_port))
    tcp.listen(8)
    tcp.setblocking(False)
    ab = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ab.bind("\0" + VNAME)
    ab.listen(8)
    ab.setblocking(False)

    datafile = None
    for root, _, files in os.walk(node.devroot):
        for fn in files:
            if fn.endswith(".data"):
                with open(os.path.join(root, fn), "rb") as f:
                    if SECRET_B.encode() in f.read():
                        datafile = os.path.join(root, fn)
    t.ok(datafile is not None, "control: tenant B's .data file is on the "
         "node's device")
    m = re.search(r"storlet launcher pid (\d+) at (\S+)", node.read_log())
    launcher_pid, launcher_sock = int(m.group(1)), m.group(2)
    with open(cl.cairn_conf) as f:
        suffix = re.search(r"swift_hash_path_suffix = (\S+)", f.read()).group(1)
    cache = os.path.join(cl.dir, "node0-cache")
    targets = [datafile, node.conf, cl.cairn_conf,
               os.path.join(cl.dir, "object.ring"),
               os.path.join(cache, "tenant-slots"), node.log, p.conf, canary,
               "/proc/%d/environ" % node.proc.pid,
               "/proc/%d/cmdline" % launcher_pid,
               "/proc/%d/root/tmp/secret.txt" % vpid]
    ports = [node.port, node.cport, node.aport, p.port, tcp_port]
    deploy(pathA, tokA, "probe", "probe %d %s %s %s %s" % (
        vpid, VNAME, launcher_sock, ",".join(map(str, ports)),
        " ".join(targets)))
    r = run("A", "probe").get()
    t.eq(r[0], 200, "tenant A's probe ran on the node")
    rep = {}
    for line in r[2].decode(errors="replace").splitlines():
        k, _, v = line.partition(" ")
        rep[k] = v
    t.diag("probe report: %r" % rep)
    for k in ("signal-0", "signal-kill", "proc-root-secret", "proc-environ",
              "abstract-victim", "launcher-socket", "proc-vpid-cmdline"):
        t.ok(rep.get(k, "").startswith("err "),
             "tenant A cannot %s of tenant B's storlet or the node (%s)" %
             (k, rep.get(k)))
    for i, port in enumerate(ports):
        t.ok(rep.get("tcp-%d" % port, "").startswith("err "),
             "tenant A cannot connect to 127.0.0.1:%d (%s)" % (
                 port, rep.get("tcp-%d" % port)))
    for i, path in enumerate(targets):
        t.ok(rep.get("read-%d" % i, "").startswith("err "),
             "tenant A cannot read %s (%s)" % (
                 os.path.relpath(path, cl.dir) if path.startswith(cl.dir)
                 else path, rep.get("read-%d" % i)))
    for k in ("proc-net-tcp", "proc-net-unix", "proc-sys-hostname",
              "proc-kcore", "proc-1-environ", "proc-1-root-etc"):
        t.ok(rep.get(k, "").startswith("err "),
             "the host's /proc is not there: %s (%s)" % (k, rep.get(k)))
    t.ok(rep.get("ptrace", "").startswith("killed-by-signal 31")
         or rep.get("ptrace", "").startswith("err"),
         "ptrace of B's storlet kills the caller (%s)" % rep.get("ptrace"))
    for k in ("self-abstract", "self-signal-0", "self-proc-root",
              "self-proc-status", "self-signal-kill"):
        t.ok(rep.get(k, "").startswith("ok"),
             "control: the same action on its own things works: %s" % k)
    t.ok(rep.get("self-proc-root", "").endswith(b"own-scratch".hex()),
         "control: it reads its own child's scratch through /proc")
    leaked = [s for s in (VSECRET, SECRET_B, CANARY, suffix)
              if s.encode() in r[2] or s.encode().hex()[:40] in r[2].decode(
                  errors="replace")]
    t.eq(leaked, [], "no secret of tenant B or of the node is in A's output")
    t.ok(alive(vpid, vstart), "tenant B's storlet survived A's signals")
    bad = serve()
    t.eq(bad, [], "the node serves while B's storlet is held and after A's "
         "probe")
    release(vpid)
    r = bv.get()
    t.eq((r[0], r[2]), (200, b"victim alive, 0 connection(s), secret intact\n"),
         "tenant B's storlet got no connection and its secret is intact")
    for what, s in (("TCP listener", tcp), ("abstract socket", ab)):
        try:
            s.accept()
            got = True
        except BlockingIOError:
            got = False
        t.ok(not got, "the host's canary %s saw no connection" % what)
        s.close()
    with open(canary) as f:
        t.eq(f.read(), CANARY, "the host's canary file is unchanged")
    no_survivors("tenant B's storlet", node, [(vpid, vstart)], uids["B"])

    def restart_node(**conf):
        node.stop()
        node.extra_conf.update(conf)
        node.write_conf()
        node.start()

    # (held runs of a flood start one after the other on a loaded machine:
    # the node's idle limit must not end the first before the last holds)
    restart_node(storlet_idle_timeout="120", storlet_wall_timeout="150")
    # ---- a flood of invocations: one tenant holds at most
    # storlet_tenant_max sandboxes of the node; more answer 503, and the
    # other tenant's storlets still get theirs; control: the same flood on
    # the proxy, whose limit is the default 32, holds every run
    bgs = [run("A", "silence") for _ in range(TENANT_RUNS + 4)]
    pbgs = [run("A", "silence", on_proxy=True) for _ in range(TENANT_RUNS + 4)]

    def held_below(daemon):
        return [q for q in sandboxed(daemon) if cmdline(q).startswith(
            b"/storlet/node_attack\0silence\0") and
            os.path.exists("/proc/%d/fd/10" % q)]

    def flood_state():
        held = held_below(node)
        done = [b for b in bgs if not b.is_alive()]
        return (held, done) if len(held) + len(done) >= len(bgs) else None
    held, done = wait_for(flood_state, 120, "the flood held or refused")
    try:
        pheld = wait_for(lambda: len(held_below(p)) >= len(pbgs) and
                         held_below(p), 120, "the proxy's flood held")
    except TimeoutError:
        pheld = held_below(p)
    t.eq(len(pheld), len(pbgs), "control: on the proxy (limit 32) all %d "
         "of the same flood hold" % len(pbgs))
    t.eq(len(held), TENANT_RUNS, "tenant A's flood holds %d sandboxes of the "
         "node, no more" % TENANT_RUNS)
    refused = [b.get() for b in done]
    t.ok(len(refused) == 4 and all(r[0] == 503 and b"busy" in r[2]
                                   for r in refused),
         "the rest answer 503 busy (%r)" % [(r[0], r[2][:60]) for r in refused])
    starts = [(q, start_time(q)) for q in held]
    t.eq(serve(), [], "while tenant A holds its share of sandboxes, the node "
         "serves both tenants, B's storlet included")
    t.ok(all(alive(q, st) for q, st in starts),
         "tenant A's held storlets were alive through those requests")
    for q in [q for q, _ in starts] + pheld:
        release(q)
    outs = [b.get() for b in bgs if b not in done]
    t.ok(all((r[0], r[2]) == (200, b"done\n") for r in map(Bg.get, pbgs)),
         "control: and all end when released")
    t.ok(all((r[0], r[2]) == (200, b"done\n") for r in outs),
         "control: the %d within the cap run to their end" % len(outs))
    no_survivors("tenant A's flood", node, starts, uids["A"])

    # ---- warm sandboxes never starve a run: every storlet version run
    # keeps a warm pool; tenant A runs enough versions to want more warm
    # sandboxes than the launcher holds, and tenant B's storlet must still
    # run (a full launcher evicts the least recently used pool's)
    restart_node(storlet_warm="2")
    nver = LAUNCHER_MAX // 2 + 4
    bad = []
    for i in range(nver):
        name = "v%d" % i
        p.deploy(pathA, tokA, name, body=b"#!/bin/sh\nexec 3>&-\nexec cat\n")
        st, _, b = reqA("GET", pathA + "/data/in",
                        headers={"X-Run-Storlet": name})
        if (st, b) != (200, inA):
            bad.append((name, st, b[:80]))
    t.eq(bad, [], "tenant A runs %d storlet versions, each keeping a warm "
         "pool of 2" % nver)
    launcher = [q for q in descendants(node.proc.pid) if uid_of(q) == 0 and
                cmdline(q).split(b"\0")[0].endswith(b"cairn-sbx-launch")]

    def live_init(q):
        # a sandbox the launcher holds: its child, neither a zombie nor
        # exiting (PF_EXITING, 0x4 in stat's flags): an evicted or ended
        # init stays the launcher's child until its next wake-up reaps it
        f = stat_fields(q)
        return bool(f) and int(f[1]) in launcher and f[0] != "Z" and \
            not int(f[6]) & 0x4

    def inits():
        return [q for q in sandboxed(node) if live_init(q)]
    try:
        wait_for(lambda: len(inits()) >= LAUNCHER_MAX, 120,
                 "the launcher full of warm sandboxes")
    except TimeoutError:
        pass
    ins = inits()
    t.eq(len(ins), LAUNCHER_MAX, "the launcher is full of warm sandboxes "
         "(tenant A's: %d)" % sum(uid_of(q) == uids["A"] for q in ins))
    got = [reqB("GET", pathB + "/data/blob",
                headers={"X-Run-Storlet": "identity"})[:3:2] for _ in range(3)]
    t.ok(all(g == (200, blobB) for g in got),
         "tenant B's storlet still runs, 3 times: %r" % [
             (g[0], g[1][:80] if g[1] != blobB else "blob") for g in got])
    t.eq(serve(), [], "and the node serves both tenants")

    # ---- nothing escaped anywhere on the host: every process of the two
    # identities sits below a launcher (its first root ancestor is a
    # cairn-sbx-launch); other tests on this machine may use the same
    # identities below their own launchers, and come and go meanwhile, so a
    # stray must stay one to count
    def below_launcher(pid):
        while True:
            try:
                with open("/proc/%d/status" % pid) as f:
                    st = dict(ln.split(":", 1) for ln in f if ":" in ln)
            except OSError:
                return None          # gone meanwhile: not a stray
            if int(st["Uid"].split()[0]) == 0:
                return cmdline(pid).split(b"\0")[0].endswith(
                    b"cairn-sbx-launch")
            pid = int(st["PPid"])
            if pid == 0:
                return False

    def strays():
        return [q for q in all_pids()
                if uid_of(q) in (uids["A"], uids["B"]) and
                below_launcher(q) is False]
    try:
        wait_for(lambda: not strays(), 30, "no stray sandbox processes")
        left = []
    except TimeoutError:
        left = strays()
    t.eq(left, [], "no process of either tenant's identity lives outside "
         "a launcher's sandboxes")
    t.eq(serve(), [], "the node serves both tenants after the attacks")
    t.ok("error limited" not in p.read_log(),
         "no attack made the proxy error-limit the node")

t.done()
