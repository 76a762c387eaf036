#!/usr/bin/python3
# tier: full
"""The malicious-storlet catalog (sandbox.md section 5), run for real.

Starts cairn-sbx-launch (with --allow-weaken, the test-only switch) on a
UNIX socket in a temp dir and talks to it the way the engine will: JSON
requests, fds passed with SCM_RIGHTS. Each attack in test/sandbox/attacks/
runs twice:
  contained  under the user-class policy: the attack must be stopped
             (its verdict says blocked, or the sandbox killed it for the
             right reason);
  control    under a policy with the protecting layer removed (weaken bits,
             or a limit set to 0): the same attack must then succeed, which
             proves that the contained run tested something.
Host-side checks back the verdicts up: the TCP/UDP/abstract servers this
script runs see no bytes from contained runs, canary files stay unread and
unwritten, victims of other tenants stay alive, no process of a sandbox's
host uid survives its invocation.

Needs root (user namespaces with arbitrary id maps, cgroups). Cases that
need cgroups are skipped, with the reason, where the launcher has none;
SBX_TEST_NO_CGROUP=1 runs the whole catalog as on such a host (the rlimit
fallbacks then carry the resource cases).
"""
import json
import os
import random
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tap import Tap  # noqa: E402

BUILD = os.environ.get("CAIRN_BUILD", os.path.join(os.getcwd(), "build"))
SRC = os.environ.get("CAIRN_SRC", os.getcwd())
LAUNCHER = os.path.join(BUILD, "cairn-sbx-launch")
ATTACKS = os.path.join(BUILD, "test", "attacks")

# weaken bits (sandbox/sbx.h enum sbx_weaken)
SECCOMP, NETNS, PIDNS, ROOTFS, ROOT, RLIMITS, CGROUP, SCRATCH, IDENTITY, NNP, NESTED, \
    DEATHSIG = [1 << i for i in range(12)]

# A uid range no other test and no host account uses: tenants here are
# BASE + slot, and a process with such a uid can only be one of ours.
BASE = 300000000 + (os.getpid() % 997) * 1100000
SECRET = "cairn-secret-%08x" % random.getrandbits(32)

t = Tap()


def die_skip(why):
    t.skip("sandbox attack catalog", why)
    t.done()


if os.geteuid() != 0:
    die_skip("needs root (user namespaces with id maps, cgroups)")
if not os.path.exists(LAUNCHER):
    die_skip("%s not built" % LAUNCHER)

work = tempfile.mkdtemp(prefix="cairn-sbx-")
os.chmod(work, 0o755)
code = os.path.join(work, "code")
os.mkdir(code)
for name in os.listdir(ATTACKS):
    shutil.copy(os.path.join(ATTACKS, name), os.path.join(code, name))
adir = os.path.join(SRC, "test", "sandbox", "attacks")
for name in os.listdir(adir):
    if name.endswith(".py"):
        shutil.copy(os.path.join(adir, name), os.path.join(code, name))
for name in os.listdir(code):
    os.chmod(os.path.join(code, name), 0o755)
os.chmod(code, 0o755)
canary = os.path.join(work, "canary")
os.mkdir(canary)
os.chmod(canary, 0o755)
with open(os.path.join(canary, "secret.txt"), "w") as f:
    f.write(SECRET + "\n")
os.chmod(os.path.join(canary, "secret.txt"), 0o644)
drop = os.path.join(work, "drop")
os.mkdir(drop)
os.chmod(drop, 0o777)

sock_path = os.path.join(work, "launcher.sock")
env = dict(os.environ, CAIRN_SECRET=SECRET)
log = open(os.path.join(work, "launcher.log"), "w+")
# SBX_TEST_NO_CGROUP=1 runs the catalog as on a host without cgroups
launcher = subprocess.Popen([LAUNCHER, "--socket", sock_path, "--allow-weaken",
                             "--log-level", "info"] +
                            (["--no-cgroup"] if os.environ.get("SBX_TEST_NO_CGROUP") else []),
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env)
started_pids = []   # processes of our uid range we had to kill (controls)


def cleanup():
    if launcher.poll() is None:
        launcher.terminate()
        try:
            launcher.wait(10)
        except subprocess.TimeoutExpired:
            launcher.kill()
            launcher.wait()
    kill_uid_range()
    shutil.rmtree(work, ignore_errors=True)


def procs_of_uid(uid):
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/status" % pid) as f:
                for line in f:
                    if line.startswith("Uid:"):
                        if int(line.split()[1]) == uid:
                            found.append(int(pid))
                        break
        except OSError:
            pass
    return found


def kill_uid_range():
    """Kills leftovers of our own uid range (only control runs leave any)."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/status" % pid) as f:
                uid = next(int(l.split()[1]) for l in f if l.startswith("Uid:"))
        except (OSError, StopIteration):
            continue
        if BASE <= uid < BASE + 1000000:
            try:
                os.kill(int(pid), 9)
            except OSError:
                pass


deadline = time.time() + 10
while not os.path.exists(sock_path) and launcher.poll() is None and time.time() < deadline:
    time.sleep(0.01)
if not os.path.exists(sock_path):
    log.seek(0)
    t.diag(log.read())
    t.ok(False, "launcher started")
    cleanup()
    t.done()


class Client:
    def __init__(self, path=None):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.s.connect(path or sock_path)
        self.next_id = 1

    def call(self, msg, fds=()):
        socket.send_fds(self.s, [json.dumps(msg).encode()], list(fds))

    def recv(self):
        data = self.s.recv(65536)
        if not data:
            raise RuntimeError("launcher hung up")
        return json.loads(data)

    def prewarm(self, policy, count=1):
        self.call({"op": "prewarm", "policy": policy, "count": count, "code_dir": code})
        return self.recv()

    def run(self, path, argv, policy, fds, targets, warm=False, on_start=None, envl=()):
        rid = self.next_id
        self.next_id += 1
        self.call({"op": "run", "id": rid, "policy": policy, "path": path,
                   "argv": argv, "env": list(envl), "code_dir": code,
                   "fd_targets": targets, "warm": warm, "started": True}, fds)
        started = None
        while True:
            m = self.recv()
            if m.get("op") == "started" and m.get("id") == rid:
                started = m
                if on_start:
                    on_start(m)
            elif m.get("op") == "result" and m.get("id") in (rid, 0):
                m["started"] = started
                return m


client = Client()


def policy(tenant=1, weaken=0, **kw):
    p = {"class": "user", "tenant": tenant, "uid_base": BASE, "weaken": weaken}
    p.update(kw)
    return p


class Run:
    """One sandboxed run of an attack, its result and what it printed."""

    def __init__(self, attack, args=(), tenant=1, weaken=0, stdin=None, extra_fds=(),
                 warm=False, cl=None, on_start=None, **kw):
        self.policy = policy(tenant, weaken, **kw)
        # with the host's root kept (control runs), there is no /storlet:
        # the attack is reached by its host path instead
        path = os.path.join(code, attack) if weaken & ROOTFS else "/storlet/" + attack
        argv = [path] + [str(a) for a in args]
        out = tempfile.TemporaryFile(dir=work)
        err = tempfile.TemporaryFile(dir=work)
        fin = stdin if stdin is not None else os.open(os.devnull, os.O_RDONLY)
        fds = [fin, out.fileno(), err.fileno()] + [fd for fd, _ in extra_fds]
        targets = [0, 1, 2] + [tg for _, tg in extra_fds]
        if warm:
            w = (cl or client).prewarm(self.policy)
            if w.get("ready") != 1:
                raise RuntimeError("prewarm failed: %r" % w)
        self.r = (cl or client).run(path, argv, self.policy, fds, targets, warm=warm,
                                    on_start=on_start)
        if stdin is None:
            os.close(fin)
        out.seek(0)
        err.seek(0)
        self.out = out.read()
        self.err = err.read().decode(errors="replace")
        out.close()
        err.close()
        self.verdict = None
        for line in reversed(self.err.splitlines()):
            if line.startswith("{"):
                try:
                    self.verdict = json.loads(line)
                    break
                except ValueError:
                    pass

    @property
    def end(self):
        return self.r.get("end")

    def escaped(self):
        """The attack says it escaped (exit 1 with its verdict line)."""
        return (self.end == "exit" and self.r.get("exit_code") == 1 and
                bool(self.verdict and self.verdict.get("escaped")))

    def blocked(self):
        """The attack ran to its end and says it was stopped."""
        return (self.end == "exit" and self.r.get("exit_code") == 0 and
                self.verdict is not None and self.verdict.get("escaped") is False)

    def why(self):
        return "end=%s exit=%s signal=%s detail=%r verdict=%r" % (
            self.end, self.r.get("exit_code"), self.r.get("signal"),
            self.r.get("detail"), self.verdict and self.verdict.get("detail"))


passed_cases = []


def case(cid, title, contained_ok, contained, control_ok, control):
    """Reports one attack: contained run and control run."""
    a = t.ok(contained_ok, "%s %s: contained" % (cid, title))
    if not a or os.environ.get("TEST_VERBOSE"):
        t.diag("contained: " + contained.why())
    b = t.ok(control_ok, "%s %s: control (protection removed) escapes" % (cid, title))
    if not b or os.environ.get("TEST_VERBOSE"):
        t.diag("control:   " + control.why())
    if a and b:
        passed_cases.append(cid)


# ------------------------------------------------------------ host servers

class Sink:
    """TCP, UDP and abstract-unix servers on the host; remembers bytes."""

    def __init__(self):
        self.got = []
        self.lock = threading.Lock()
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(8)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.abstract_name = "cairn-sbx-test-%d-%x" % (os.getpid(), random.getrandbits(32))
        self.unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.unix.bind("\0" + self.abstract_name)
        self.unix.listen(8)
        for fn in (self._accept_loop(self.tcp), self._accept_loop(self.unix),
                   self._udp_loop):
            threading.Thread(target=fn, daemon=True).start()

    def _accept_loop(self, srv):
        def loop():
            while True:
                try:
                    c, _ = srv.accept()
                except OSError:
                    return
                c.settimeout(5)
                try:
                    data = c.recv(4096)
                except OSError:
                    data = b""
                c.close()
                with self.lock:
                    self.got.append(data.decode(errors="replace"))
        return loop

    def _udp_loop(self):
        while True:
            try:
                data, _ = self.udp.recvfrom(4096)
            except OSError:
                return
            with self.lock:
                self.got.append(data.decode(errors="replace"))

    def saw(self, token, wait=0.0):
        end = time.time() + wait
        while True:
            with self.lock:
                if any(token in g for g in self.got):
                    return True
            if time.time() >= end:
                return False
            time.sleep(0.02)


def storlet_running(init_pid, comm, wait=20):
    """Polls until the sandbox whose init is init_pid runs its storlet: a
    child of init has exec'd comm, so the sandbox is set up (ids, filters)
    and the storlet is what an attacker would meet. The launcher's
    "started" comes earlier, while the child may still be setting up."""
    end = time.time() + wait
    while time.time() < end:
        try:
            with open("/proc/%d/task/%d/children" % (init_pid, init_pid)) as f:
                for kid in f.read().split():
                    with open("/proc/%s/comm" % kid) as c:
                        if c.read().strip() == comm:
                            return True
        except OSError:
            pass
        time.sleep(0.01)
    return False


def token():
    return "tok-%016x" % random.getrandbits(64)


def no_procs_of(uid, wait):
    end = time.time() + wait
    while procs_of_uid(uid):
        if time.time() >= end:
            return False
        time.sleep(0.02)
    return True


def parent_weight_file():
    """The cpu weight file of the launcher's parent group, or None."""
    try:
        with open("/proc/%d/cgroup" % launcher.pid) as f:
            lines = f.read().splitlines()
        with open("/proc/self/mountinfo") as f:
            mounts = f.read().splitlines()
    except OSError:
        return None
    for line in mounts:
        head, _, tail = line.partition(" - ")
        fstype, _, opts = (tail.split() + ["", "", ""])[:3]
        mnt = head.split()[4]
        if fstype == "cgroup" and "cpu" in opts.split(","):
            for cl in lines:
                _, ctls, rel = cl.split(":", 2)
                if "cpu" in ctls.split(","):
                    return os.path.join(mnt + rel.rstrip("/"),
                                        "cairn-sbx.%d" % launcher.pid, "cpu.shares")
        if fstype == "cgroup2":
            for cl in lines:
                if cl.startswith("0::") and cl.endswith("/launcher"):
                    return os.path.join(mnt + os.path.dirname(cl[3:]), "cpu.weight")
    return None


def parent_weight_case():
    """The launcher's parent group weighs the sum of the running sandboxes'
    weights (at least the default): each storlet weighs what its policy says
    against the host's threads, however many run at once."""
    path = parent_weight_file()
    if not path or not os.path.exists(path):
        t.skip("parent group cpu weight", "no cpu controller for the launcher's group")
        return
    v1 = path.endswith("cpu.shares")
    one, dflt = (1536, 1024) if v1 else (150, 100)

    def read():
        with open(path) as f:
            return int(f.read())

    def wait_for(want):
        end = time.time() + 20
        while read() != want and time.time() < end:
            time.sleep(0.01)
        return read()
    runs = []
    for i in range(3):
        rd, wr = os.pipe()
        ev = threading.Event()
        res = {}
        cl = Client()
        th = threading.Thread(target=lambda cl=cl, rd=rd, ev=ev, res=res, tn=60 + i: res.update(
            r=Run("sleeper", tenant=tn, stdin=rd, cl=cl, cpu_weight=150,
                  on_start=lambda m: ev.set())))
        th.start()
        runs.append((rd, wr, ev, res, cl, th))
    for rd, wr, ev, res, cl, th in runs:
        ev.wait(20)
    seen = [wait_for(3 * one)]
    for rd, wr, ev, res, cl, th in runs:
        os.close(wr)
        th.join(30)
        os.close(rd)
        cl.s.close()
        seen.append(wait_for(max(dflt, one * (3 - len(seen)))))
    ok = all(res.get("r") is not None and res["r"].blocked() for _, _, _, res, _, _ in runs)
    t.eq(seen, [3 * one, 2 * one, one, dflt],
         "the parent group weighs the running sandboxes' sum (3, 2, 1, none "
         "running at cpu_weight 150; %s)" % os.path.basename(path))
    t.ok(ok, "the weighed sandboxes ran to their end")


# ------------------------------------------------------------ the catalog

def main():
    sink = Sink()
    probe = Run("caps")
    if probe.end not in ("exit",):
        t.ok(False, "a sandbox can be started at all")
        t.diag(probe.why())
        log.seek(0)
        t.diag(log.read()[-3000:])
        return
    cg = (probe.r.get("started") or {}).get("cgroup", "none")
    t.diag("launcher cgroup mode: %s; uid base %d" % (cg, BASE))

    # --- item 3: real storlets work inside the user sandbox -------------
    rd, wr = os.pipe()
    os.write(wr, b"hello storlet\n")
    os.close(wr)
    r = Run("upper.py", stdin=rd)
    os.close(rd)
    t.eq((r.end, r.out), ("exit", b"HELLO STORLET\n"),
         "a python3 storlet runs in the user sandbox (read-only /usr, no network)")
    if r.end != "exit":
        t.diag(r.why() + " stderr: " + r.err[-800:])
    r = Run("sleeper")
    t.eq((r.end, r.r.get("exit_code")), ("exit", 0), "a native ELF storlet runs")
    r = Run("read_path", ["/etc/passwd"], warm=True)
    t.ok(r.r.get("warm") and r.escaped() and b"storlet:x:1000" in r.out,
         "a warm sandbox runs a storlet and sees the sandbox's own /etc")

    need_cg = cg != "none"

    # --- A01 fork bomb / thread bomb ------------------------------------
    if need_cg:
        c = Run("fork_bomb", [400], tenant=11)
        k = Run("fork_bomb", [400], tenant=11, weaken=CGROUP | RLIMITS)
        case("A01a", "fork bomb stops at pids.max", c.blocked(), c, k.escaped(), k)
        c = Run("thread_bomb", [300], tenant=11)
        k = Run("thread_bomb", [300], tenant=11, weaken=CGROUP | RLIMITS)
        case("A01b", "thread bomb stops at pids.max", c.blocked(), c, k.escaped(), k)
    else:
        t.skip("A01 fork/thread bomb", "no cgroup pids controller")
    # the rlimit fallback alone (no cgroup) also caps it, per user namespace
    c = Run("fork_bomb", [400], tenant=12, weaken=CGROUP)
    k = Run("fork_bomb", [400], tenant=12, weaken=CGROUP | RLIMITS)
    case("A01c", "fork bomb without cgroups stops at RLIMIT_NPROC", c.blocked(), c,
         k.escaped(), k)

    # --- A02 memory --------------------------------------------------------
    if need_cg:
        c = Run("memory_hog", [512], tenant=13)
        k = Run("memory_hog", [512], tenant=13, weaken=CGROUP)
        case("A02a", "memory hog is OOM-killed inside its own cgroup",
             c.end == "oom", c, k.escaped(), k)
    else:
        t.skip("A02a memory cgroup", "no cgroup memory controller")
    c = Run("memory_hog", [512], tenant=13, weaken=CGROUP, as_bytes=256 << 20)
    k = Run("memory_hog", [512], tenant=13, weaken=CGROUP | RLIMITS, as_bytes=256 << 20)
    case("A02b", "memory hog without cgroups stops at RLIMIT_AS", c.blocked(), c,
         k.escaped(), k)

    # --- A03 CPU -----------------------------------------------------------
    c = Run("cpu_spin", ["cpu", 2], tenant=14, wall_ms=400, cpu_pct=0, idle_ms=0)
    k = Run("cpu_spin", ["cpu", 2], tenant=14, wall_ms=0, cpu_pct=0, idle_ms=0)
    case("A03a", "infinite loop is killed at the wall-clock deadline",
         c.end == "timeout", c, k.escaped(), k)
    c = Run("cpu_spin", ["cpu", 3], tenant=14, cpu_seconds=1, cpu_pct=0, wall_ms=0,
            idle_ms=0)
    k = Run("cpu_spin", ["cpu", 3], tenant=14, cpu_seconds=1, cpu_pct=0, wall_ms=0,
            idle_ms=0, weaken=RLIMITS)
    case("A03b", "CPU hog is killed by RLIMIT_CPU", c.end == "cpu_limit", c,
         k.escaped(), k)
    if need_cg:
        # 8 threads against a 2% quota; the attack "wins" above 3% of a CPU,
        # more than the quota lets through (the kernel holds the contained
        # run to 2.0%: 2 ms a 100 ms period, 2.1% at most over the 2 s
        # window). The control needs the CPU to be there: all sandboxes of
        # the launcher share one group, which the host's scheduler weighs
        # like one task (or one session) per running sandbox of default
        # weight, however many threads each holds, so the lone control run
        # gets about 2/(n+1) CPUs beside n busy tasks or sessions.
        # Bars of 15% (5% quota) and 6% failed at n of about 12 and 30
        # (14.8% and 5.7% seen, the latter with two suites, CPU hogs and an
        # asan build at once); 3% holds to about 60, and the contained run
        # is throttled (checked) as long as the group gets 2%.
        c = Run("cpu_spin", ["wall", 2, 8, 3], tenant=15, cpu_pct=2, idle_ms=0)
        k = Run("cpu_spin", ["wall", 2, 8, 3], tenant=15, cpu_pct=0, idle_ms=0)
        case("A03c", "8 spinning threads get no more than their CPU quota (others "
             "are not starved)", c.blocked() and c.r.get("cpu_throttled", 0) > 0, c,
             k.escaped(), k)
    else:
        t.skip("A03c cpu quota", "no cgroup cpu controller")
    parent_weight_case()

    # --- A04 idle, A05 output ---------------------------------------------
    c = Run("idle", [2], tenant=16, idle_ms=300)
    k = Run("idle", [2], tenant=16, idle_ms=0)
    case("A04", "storlet that never writes is killed at the no-output timeout",
         c.end == "idle", c, k.escaped(), k)
    c = Run("huge_output", [8], tenant=16, output_max=1 << 20)
    k = Run("huge_output", [8], tenant=16, output_max=0)
    case("A05", "huge output is cut at the output cap, exactly",
         c.end == "output_cap" and len(c.out) == 1 << 20 and c.r["output_bytes"] == 1 << 20,
         c, k.escaped() and len(k.out) == 8 << 20, k)

    # a slow reader is not the storlet's silence: 1 MiB written at once into
    # a pipe its reader only starts draining 1 s (> idle_ms) after the first
    # bytes came
    def slow_reader_run():
        prd, pwr = os.pipe()
        chunks = []

        def slow_reader():
            # the second of silence counts from the full pipe, not from the
            # run's start
            select.select([prd], [], [], 60)
            time.sleep(1.0)
            while True:
                b = os.read(prd, 65536)
                if not b:
                    break
                chunks.append(b)
        th = threading.Thread(target=slow_reader)
        th.start()
        dn = os.open(os.devnull, os.O_RDWR)
        res = client.run("/storlet/huge_output", ["/storlet/huge_output", "1"],
                         policy(16, idle_ms=300, output_max=0), [dn, pwr, dn],
                         [0, 1, 2])
        os.close(pwr)
        os.close(dn)
        th.join(30)
        os.close(prd)
        return res, sum(len(c) for c in chunks)

    for _ in range(5):
        res, got = slow_reader_run()
        # The no-output clock runs from the exec: a storlet the host did not
        # get to its first write within idle_ms is rightly killed as idle
        # (A04's case), and that run says nothing of slow readers (seen at
        # load 20+: end=idle, 0 bytes). A slow-reader bug kills after the
        # first 64 KiB went out, which is never retried.
        if not (res.get("end") == "idle" and got == 0):
            break
        t.diag("the storlet wrote nothing within idle_ms of its start; again")
    t.ok(res.get("end") == "exit" and got == 1 << 20,
         "a slow reader of the output does not count as the storlet being idle "
         "(end=%s, %d bytes)" % (res.get("end"), got))

    # --- A06 scratch -------------------------------------------------------
    c = Run("disk_fill", ["bytes", 96], tenant=17)
    k = Run("disk_fill", ["bytes", 96], tenant=17, weaken=SCRATCH)
    case("A06a", "filling scratch ends with ENOSPC at its size", c.blocked(), c,
         k.escaped(), k)
    c = Run("disk_fill", ["inodes", 6000], tenant=17)
    k = Run("disk_fill", ["inodes", 6000], tenant=17, weaken=SCRATCH)
    case("A06b", "inode exhaustion of scratch ends at nr_inodes", c.blocked(), c,
         k.escaped(), k)
    c = Run("disk_fill", ["bigfile", 16], tenant=17, fsize_bytes=8 << 20)
    k = Run("disk_fill", ["bigfile", 16], tenant=17, fsize_bytes=8 << 20, weaken=RLIMITS)
    case("A06c", "one huge file stops at RLIMIT_FSIZE", c.blocked(), c, k.escaped(), k)

    # --- A07/A08 network ---------------------------------------------------
    port = sink.tcp.getsockname()[1]
    uport = sink.udp.getsockname()[1]
    tc, tk = token(), token()
    c = Run("net", ["tcp", port, tc], tenant=18)
    k = Run("net", ["tcp", port, tk], tenant=18, weaken=SECCOMP | NETNS)
    case("A07a", "TCP connect to the host's 127.0.0.1 is refused by seccomp",
         c.blocked() and not sink.saw(tc), c, k.escaped() and sink.saw(tk, 5), k)
    tc, tk = token(), token()
    c = Run("net", ["tcp", port, tc], tenant=18, weaken=SECCOMP)
    k = Run("net", ["tcp", port, tk], tenant=18, weaken=SECCOMP | NETNS)
    case("A07b", "without seccomp, the empty net namespace still has no route",
         c.blocked() and "unreachable" in c.verdict.get("detail", "") and not sink.saw(tc),
         c, k.escaped() and sink.saw(tk, 5), k)
    tc, tk = token(), token()
    c = Run("net", ["abstract", sink.abstract_name, tc], tenant=18)
    k = Run("net", ["abstract", sink.abstract_name, tk], tenant=18, weaken=NETNS)
    case("A07c", "the host's abstract unix sockets are out of reach",
         c.blocked() and not sink.saw(tc), c, k.escaped() and sink.saw(tk, 5), k)
    tc, tk = token(), token()
    c = Run("net", ["udp", uport, tc], tenant=18)
    k = Run("net", ["udp", uport, tk], tenant=18, weaken=SECCOMP | NETNS)
    case("A08", "UDP exfiltration (DNS-style) to the host is blocked",
         c.blocked() and not sink.saw(tc, 0.2), c, k.escaped() and sink.saw(tk, 5), k)
    tc, tk = token(), token()
    c = Run("net_py.py", [port, tc], tenant=18)
    k = Run("net_py.py", [port, tk], tenant=18, weaken=SECCOMP | NETNS)
    case("A07d", "a python3 storlet cannot open a TCP connection",
         c.blocked() and not sink.saw(tc), c, k.escaped() and sink.saw(tk, 5), k)

    # --- A07e another tenant's abstract unix sockets -----------------------
    # Sandboxes of one tenant share that tenant's empty network namespace
    # (made once by the launcher, sandbox.md); abstract socket names are
    # per network namespace, so another tenant's sandbox must not reach
    # them. The control is the same tenant, which does (a channel between
    # one tenant's own concurrent invocations, threat-model.md).
    def abstract_between(vtenant, atenant):
        name = "cairn-a07e-%d-%x" % (os.getpid(), random.getrandbits(32))
        tok = token()
        rd, wr = os.pipe()
        got = {}
        ev = threading.Event()
        vc = Client()

        def on_start(m):
            got["pid"] = m["pid"]
            ev.set()
        th = threading.Thread(target=lambda: got.update(run=Run(
            "abstract_listen", [name], tenant=vtenant, stdin=rd, cl=vc,
            on_start=on_start)))
        th.start()
        ev.wait(20)
        # the victim listens once its name shows in its namespace's table
        bound = False
        end = time.time() + 20
        while not bound and time.time() < end:
            try:
                with open("/proc/%d/task/%d/children" % (got["pid"], got["pid"])) as f:
                    for kid in f.read().split():
                        with open("/proc/%s/net/unix" % kid) as u:
                            bound = bound or ("@" + name) in u.read()
            except (OSError, KeyError):
                pass
            if not bound:
                time.sleep(0.01)
        a = Run("net", ["abstract", name, tok], tenant=atenant)
        os.close(wr)
        th.join(30)
        os.close(rd)
        vc.s.close()
        v = got.get("run")
        return a, bound, v is not None and tok.encode() in v.out

    a, bound, recv = abstract_between(46, 47)
    ok_c = bound and a.blocked() and not recv
    t.ok(ok_c, "A07e another tenant's abstract unix socket is out of reach: contained")
    if not ok_c:
        t.diag("bound=%s received=%s %s" % (bound, recv, a.why()))
    k, kbound, krecv = abstract_between(46, 46)
    ok_k = kbound and k.escaped() and krecv
    t.ok(ok_k, "A07e another tenant's abstract unix socket is out of reach: control "
         "(the same tenant's sandbox reaches it)")
    if not ok_k:
        t.diag("bound=%s received=%s %s" % (kbound, krecv, k.why()))
    if ok_c and ok_k:
        passed_cases.append("A07e")

    # --- A09-A11 filesystem ------------------------------------------------
    secret = os.path.join(canary, "secret.txt")
    paths = [secret, "/etc/shadow", "/root/.bashrc", "/home", "/srv/node", "/var/log"]
    c = Run("read_path", paths, tenant=19)
    k = Run("read_path", paths, tenant=19, weaken=ROOTFS)
    case("A09", "host files (shadow, /root, canary) are not in the sandbox",
         c.blocked() and SECRET.encode() not in c.out, c,
         k.escaped() and SECRET.encode() in k.out, k)
    c = Run("root_listing", tenant=19)
    k = Run("root_listing", tenant=19, weaken=ROOTFS)
    case("A10", "/ holds only the sandbox image (no /home, /srv, /var, /root)",
         c.blocked(), c, k.escaped(), k)
    dirs = [drop, "/", "/usr", "/etc", "/dev", "/proc", "/usr/lib"]
    c = Run("write_path", dirs, tenant=19)
    dropped = os.path.exists(os.path.join(drop, "pwned-by-storlet"))
    k = Run("write_path", dirs, tenant=19, weaken=ROOTFS)
    case("A11", "nothing outside scratch is writable (ro root, ro binds)",
         c.blocked() and not dropped, c,
         k.escaped() and os.path.exists(os.path.join(drop, "pwned-by-storlet")), k)
    c = Run("scratch_exec", tenant=19)
    k = Run("scratch_exec", tenant=19, weaken=SCRATCH)
    case("A12", "a binary dropped into scratch cannot be executed (noexec)",
         c.blocked(), c, k.escaped(), k)

    # --- A13 privileges ----------------------------------------------------
    c = Run("caps", ["status"], tenant=20)
    k = Run("caps", ["status"], tenant=20, weaken=ROOT)
    case("A13a", "no capabilities at all (effective, permitted, bounding)",
         c.blocked(), c, k.escaped(), k)
    c = Run("caps", ["setuid"], tenant=20)
    k = Run("caps", ["setuid"], tenant=20, weaken=ROOT | SECCOMP)
    case("A13b", "setuid(0) is a policy violation", c.end == "seccomp", c,
         k.escaped(), k)

    # --- A14 ptrace --------------------------------------------------------
    c = Run("ptrace", ["attach"], tenant=21)
    k = Run("ptrace", ["attach"], tenant=21, weaken=SECCOMP)
    case("A14a", "ptrace is a policy violation", c.end == "seccomp", c, k.escaped(), k)
    c = Run("ptrace", ["vmread"], tenant=21)
    k = Run("ptrace", ["vmread"], tenant=21, weaken=SECCOMP)
    case("A14b", "process_vm_readv is a policy violation", c.end == "seccomp", c,
         k.escaped(), k)

    # --- A15 signals to other tenants -------------------------------------
    def victim_and_attacker(vweaken, aweaken, mode):
        """Starts a sleeper of tenant 31, attacks it from tenant 30, ends it."""
        rd, wr = os.pipe()
        got = {}
        started = threading.Event()
        vc = Client()

        def on_start(m):
            got["pid"] = m["pid"]
            started.set()

        def run_victim():
            got["run"] = Run("sleeper", tenant=31, weaken=vweaken, stdin=rd, cl=vc,
                             on_start=on_start)
        th = threading.Thread(target=run_victim)
        th.start()
        started.wait(20)
        # kill(-1) only reaches processes that already have the victim's
        # uid: attack once the sleeper runs, not at "started"
        if not storlet_running(got.get("pid", 0), "sleeper"):
            t.diag("victim of tenant 31 not seen running (init pid %s)" % got.get("pid"))
        args = ["pid", got.get("pid", 0)] if mode == "pid" else ["all"]
        a = Run("kill", args, tenant=30, weaken=aweaken)
        os.close(wr)
        th.join(30)
        os.close(rd)
        vc.s.close()
        v = got.get("run")
        alive = v is not None and v.end == "exit" and v.r.get("exit_code") == 0
        return a, v, alive

    a, v, alive = victim_and_attacker(0, 0, "pid")
    ka, kv, kalive = victim_and_attacker(PIDNS | IDENTITY, PIDNS | IDENTITY, "pid")
    case("A15a", "another tenant's storlet cannot be signalled (pid namespace)",
         a.blocked() and alive, a, ka.escaped() and not kalive, ka)
    a, v, alive = victim_and_attacker(0, PIDNS, "pid")
    case("A15b", "even seeing its pid, another tenant's uid refuses the signal",
         a.blocked() and "not permitted" in a.verdict.get("detail", "") and alive, a,
         ka.escaped() and not kalive, ka)
    a, v, alive = victim_and_attacker(0, 0, "all")
    ka, kv, kalive = victim_and_attacker(PIDNS | IDENTITY, PIDNS | IDENTITY, "all")
    case("A15c", "kill(-1, SIGKILL) reaches only the sandbox itself", alive, a,
         not kalive, ka)

    # --- A10b another tenant's scratch ------------------------------------
    def read_other_scratch(vweaken, aweaken):
        """Tenant 43 holds a secret in its scratch; tenant 42 tries to read
        it through /proc/<host pid>/root of the holder's storlet."""
        secret2 = token()
        rd, wr = os.pipe()
        got = {}
        ev = threading.Event()
        vc = Client()

        def on_start(m):
            got["pid"] = m["pid"]
            ev.set()
        th = threading.Thread(target=lambda: got.update(run=Run(
            "holder", [secret2], tenant=43, weaken=vweaken, stdin=rd, cl=vc,
            on_start=on_start)))
        th.start()
        ev.wait(20)
        kid = None
        end = time.time() + 20
        while kid is None and time.time() < end:
            try:
                with open("/proc/%d/task/%d/children" % (got["pid"], got["pid"])) as f:
                    kids = f.read().split()
                if kids and os.path.exists("/proc/%s/root/tmp/secret.txt" % kids[0]):
                    kid = int(kids[0])
            except (OSError, KeyError):
                pass
            if kid is None:
                time.sleep(0.01)
        path = "/proc/%s/root/tmp/secret.txt" % kid
        a = Run("read_path", [path], tenant=42, weaken=aweaken)
        # the control: the path is real, root on the host reads the secret
        try:
            with open(path, "rb") as f:
                host_read = f.read() == secret2.encode()
        except OSError:
            host_read = False
        os.close(wr)
        th.join(30)
        os.close(rd)
        vc.s.close()
        return a, secret2.encode() in a.out, host_read

    # Three layers stand between a storlet and another tenant's scratch: the
    # pid namespace (the pid is not there), the uid (not ours), and the user
    # namespace (ptrace-mode access to a process of another user namespace
    # needs CAP_SYS_PTRACE in it). Each run removes one more; the control is
    # the host reading the same path.
    for cid, w, title in (
            ("A10b", 0, "another tenant's scratch is out of sight (pid namespace)"),
            ("A10c", PIDNS, "with its pid visible, the other tenant's uid keeps "
                            "its scratch unreadable"),
            ("A10d", PIDNS | IDENTITY, "even with the same uid, another user "
                                       "namespace keeps its scratch unreadable")):
        a, leaked, host_read = read_other_scratch(w, w)
        ok_c = a.blocked() and not leaked
        t.ok(ok_c, "%s %s: contained" % (cid, title))
        if not ok_c:
            t.diag(a.why())
        t.ok(host_read, "%s %s: control (the host reads the secret by that path)" %
             (cid, title))
        if ok_c and host_read:
            passed_cases.append(cid)

    # --- A16 namespaces and mounts -----------------------------------------
    c = Run("userns", ["unshare"], tenant=22)
    k = Run("userns", ["unshare"], tenant=22, weaken=SECCOMP | NESTED)
    case("A16a", "unshare(CLONE_NEWUSER) is a policy violation", c.end == "seccomp", c,
         k.escaped(), k)
    c = Run("userns", ["unshare"], tenant=22, weaken=SECCOMP)
    case("A16b", "without seccomp, nested user namespaces are still capped at 0",
         c.blocked() and "No space" in c.verdict.get("detail", ""), c, k.escaped(), k)
    c = Run("userns", ["clone"], tenant=22)
    k = Run("userns", ["clone"], tenant=22, weaken=SECCOMP | NESTED)
    case("A16c", "clone(CLONE_NEWUSER) is a policy violation", c.end == "seccomp", c,
         k.escaped(), k)
    for cid, mode in (("A16d", "mount"), ("A16e", "chroot"), ("A16f", "setns")):
        c = Run("mount_games", [mode], tenant=22)
        k = Run("mount_games", [mode], tenant=22, weaken=SECCOMP | ROOT)
        case(cid, "%s is a policy violation" % mode, c.end == "seccomp", c,
             k.escaped(), k)

    # --- A17 /proc, A21 fds, A25 outliving, A27 env, A28 dev, A31 cgroupfs --
    c = Run("proc_leaks", tenant=23)
    k = Run("proc_leaks", tenant=23, weaken=PIDNS)
    case("A17", "/proc shows only the sandbox's pids, no host-wide files",
         c.blocked(), c, k.escaped(), k)

    # a running sandbox keeps launcher-side fds open while the probe runs
    rd, wr = os.pipe()
    vc = Client()
    holder = threading.Thread(target=lambda: Run("sleeper", tenant=24, stdin=rd, cl=vc))
    holder.start()
    c = Run("fd_leak", ["secret.txt"], tenant=24)
    dfd = os.open(canary, os.O_RDONLY | os.O_DIRECTORY)
    k = Run("fd_leak", ["secret.txt"], tenant=24, extra_fds=[(dfd, 5)])
    os.close(dfd)
    os.close(wr)
    holder.join(30)
    os.close(rd)
    vc.s.close()
    case("A21", "no descriptor leaks in beyond those passed (a leaked dir fd "
         "would open host files)", c.blocked(), c,
         k.escaped() and SECRET.encode() in k.out, k)

    uid = BASE + 25
    c = Run("outlive", [30], tenant=25)
    c_gone = no_procs_of(uid, 10)
    k = Run("outlive", [30], tenant=25, weaken=PIDNS | CGROUP)
    k_left = procs_of_uid(uid)
    for pid in k_left:
        try:
            os.kill(pid, 9)
        except OSError:
            pass
    case("A25", "a daemonized grandchild dies with the invocation",
         c.end == "exit" and c_gone, c, bool(k_left), k)

    c = Run("env_snoop.py", ["CAIRN_SECRET"], tenant=26)
    direct = subprocess.run(["/usr/bin/python3", os.path.join(code, "env_snoop.py"),
                             "CAIRN_SECRET"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    t.ok(c.blocked(), "A27 environment holds no launcher secrets: contained")
    if not c.blocked():
        t.diag(c.why())
    t.ok(direct.returncode == 1, "A27 environment holds no launcher secrets: control "
         "(the same script outside the sandbox) finds the secret")
    if c.blocked() and direct.returncode == 1:
        passed_cases.append("A27")

    c = Run("devices", ["mknod"], tenant=27)
    k = Run("devices", ["mknod"], tenant=27, weaken=ROOTFS)
    case("A28", "no host device nodes; mknod is a policy violation",
         c.end == "seccomp", c, k.escaped(), k)
    c = Run("cgroupfs", tenant=27)
    k = Run("cgroupfs", tenant=27, weaken=ROOTFS)
    case("A31", "no cgroupfs to raise limits or leave the group", c.blocked(), c,
         k.escaped(), k)

    # --- A26 nothing survives into the next invocation ---------------------
    tok = token()
    w = Run("persist", ["write", tok], tenant=34)
    same = Run("persist", ["read", tok], tenant=34)
    other = Run("persist", ["read", tok], tenant=35)
    k1 = Run("persist", ["write", tok], tenant=34, weaken=ROOTFS)
    k2 = Run("persist", ["read", tok], tenant=34, weaken=ROOTFS)
    try:
        os.unlink("/tmp/cairn-persist")
    except OSError:
        pass
    case("A26", "files and SysV shm left behind are gone for the next invocation "
         "(same or other tenant)", w.blocked() and same.blocked() and other.blocked(),
         same, k1.blocked() and k2.escaped(), k2)

    # --- A32 the launcher dies: its sandboxes die with it ------------------
    def launcher_dies(weaken):
        path2 = os.path.join(work, "launcher-%d.sock" % weaken)
        l2 = subprocess.Popen([LAUNCHER, "--socket", path2, "--allow-weaken"],
                              stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        end = time.time() + 10
        while not os.path.exists(path2) and time.time() < end:
            time.sleep(0.01)
        cl2 = Client(path2)
        rd, wr = os.pipe()
        pol = policy(36, weaken)
        out = os.open(os.devnull, os.O_WRONLY)
        cl2.call({"op": "run", "id": 1, "policy": pol, "path": "/storlet/sleeper",
                  "argv": ["/storlet/sleeper"], "env": [], "code_dir": code,
                  "fd_targets": [0, 1, 2], "started": True}, [rd, out, out])
        m = cl2.recv()
        os.close(out)
        pid = m.get("pid", 0)
        # wait until the storlet runs, then kill -9 the launcher. (Init
        # forks the storlet's process before the exec order reaches it,
        # so "init has a child", as this waited for, can be a sandbox
        # still being set up; the control then failed once in 12 loaded
        # runs: nothing of the tenant's uid was left.)
        if not storlet_running(pid, "sleeper"):
            t.diag("A32: the sleeper of init pid %s not seen running" % pid)
        l2.kill()
        l2.wait()
        gone = no_procs_of(BASE + 36, 10)
        kill_uid_range()
        os.close(rd)
        os.close(wr)
        cl2.s.close()
        return gone

    gone = launcher_dies(0)
    kept = not launcher_dies(DEATHSIG)
    t.ok(gone, "A32 killing the launcher kills its sandboxes: contained")
    t.ok(kept, "A32 killing the launcher kills its sandboxes: control (no parent-death "
         "signal) leaves the sandbox running")
    if gone and kept:
        passed_cases.append("A32")

    # --- A33 admission: a launcher runs at most --max sandboxes ------------
    def flood(maxn):
        """Starts maxn sleepers on a launcher with --max maxn (or the default
        when maxn is None), then one more; returns that one's run."""
        path3 = os.path.join(work, "launcher-max-%s.sock" % maxn)
        argv = [LAUNCHER, "--socket", path3]
        if maxn:
            argv += ["--max", str(maxn)]
        l3 = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        end = time.time() + 10
        while not os.path.exists(path3) and time.time() < end:
            time.sleep(0.01)
        rd, wr = os.pipe()
        holders = []
        for i in range(2):
            cl = Client(path3)
            ev = threading.Event()
            th = threading.Thread(target=lambda cl=cl, ev=ev: Run(
                "sleeper", tenant=37, stdin=rd, cl=cl, on_start=lambda m: ev.set()))
            th.start()
            ev.wait(20)
            holders.append((cl, th))
        extra = Run("sleeper", tenant=38, cl=Client(path3))
        os.close(wr)
        for cl, th in holders:
            th.join(30)
            cl.s.close()
        os.close(rd)
        l3.terminate()
        l3.wait()
        return extra

    c = flood(2)
    k = flood(None)
    case("A33", "a flood of invocations is refused beyond the launcher's cap",
         c.end == "error" and "busy" in (c.r.get("detail") or ""), c,
         k.end == "exit", k)

    # --- A24 protocol abuse: the launcher rejects, survives, leaks nothing --
    def nfds_of(pid):
        return len(os.listdir("/proc/%d/fd" % pid))

    # stop the warm pool of the earlier warm test from refilling, so the
    # launcher's fd count only changes if something leaks
    client.prewarm(policy(), 0)
    before = nfds_of(launcher.pid)
    ab = Client()
    bad_msgs = [
        (b"{not json", []),
        (b"[]", []),
        (json.dumps({"op": "nope"}).encode(), []),
        (json.dumps({"op": "run", "id": 1}).encode(), []),
        (json.dumps({"op": "run", "id": 2, "policy": {"tenant": -1}, "path": "/x"}).encode(), []),
        (json.dumps({"op": "run", "id": 3, "policy": {"bogus": 1}, "path": "/x"}).encode(), []),
        (json.dumps({"op": "run", "id": 4, "policy": {}, "path": "relative"}).encode(), []),
        (json.dumps({"op": "run", "id": 5, "policy": {}, "path": "/x",
                     "fd_targets": [1, 1]}).encode(), [0, 0]),
        (json.dumps({"op": "run", "id": 6, "policy": {}, "path": "/x",
                     "fd_targets": [9]}).encode(), [0]),
        (json.dumps({"op": "run", "id": 7, "policy": {}, "path": "/x",
                     "fd_targets": [0]}).encode(), [0, 0, 0]),
        (b"x" * 70000, []),
        (json.dumps({"op": "run", "id": 8, "policy": {}, "path": "/x",
                     "fd_targets": list(range(10))}).encode(), [0] * 10),
        (json.dumps({"op": "prewarm", "policy": {}, "count": 1000}).encode(), []),
    ]
    answers = []
    for data, fds in bad_msgs:
        try:
            socket.send_fds(ab.s, [data], fds)
            answers.append(ab.recv())
        except OSError as e:
            answers.append({"end": "send failed: %s" % e})
    errors = [a for a in answers if a.get("end") == "error" or a.get("op") == "error"]
    t.eq(len(errors), len(bad_msgs), "A24 every malformed request gets an error answer")
    ab.s.close()
    r = Run("sleeper")
    t.ok(launcher.poll() is None and r.end == "exit",
         "A24 the launcher still serves after the abuse")
    end = time.time() + 5
    while nfds_of(launcher.pid) > before and time.time() < end:
        time.sleep(0.02)
    if not t.ok(nfds_of(launcher.pid) <= before,
                "A24 no descriptor leaked into the launcher (%d before, %d after)" %
                (before, nfds_of(launcher.pid))):
        fdd = "/proc/%d/fd" % launcher.pid
        t.diag(" ".join("%s->%s" % (f, os.readlink(os.path.join(fdd, f)))
                        for f in sorted(os.listdir(fdd), key=int)))

    # --- hostile syscalls: killed by seccomp, reach the kernel without it --
    hostile = ["keyctl", "add_key", "request_key", "bpf", "perf_event_open",
               "io_uring_setup", "userfaultfd", "ptrace", "process_vm_writev",
               "kexec_load", "init_module", "finit_module", "delete_module",
               "open_by_handle_at", "name_to_handle_at", "iopl", "ioperm",
               "modify_ldt", "swapon", "reboot", "acct", "clock_settime", "adjtimex",
               "syslog", "fanotify_init", "sethostname", "setns", "unshare", "mount",
               "umount2", "pivot_root", "chroot", "fsopen", "open_tree", "mknod",
               "pidfd_getfd", "kcmp", "personality", "clone_newns", "int80", "x32"]
    bad = []
    for name in hostile:
        c = Run("try_syscall", [name], tenant=28)
        k = Run("try_syscall", [name], tenant=28, weaken=SECCOMP)
        # killed, or (for calls with a legitimate use, e.g. personality)
        # refused with EPERM where the unfiltered call does something else
        contained = c.end == "seccomp" or (
            c.end == "exit" and c.r["exit_code"] == 1 and k.r.get("exit_code") != 1)
        if not (contained and k.end == "exit"):
            bad.append("%s: contained %s / control %s" % (name, c.why(), k.why()))
    t.ok(not bad, "A16/A18/A19/A20/A30 %d hostile syscalls kill the storlet and, "
         "without the filter, reach the kernel" % len(hostile))
    for b in bad:
        t.diag(b)
    c = Run("try_syscall", ["clone3"], tenant=28)
    k = Run("try_syscall", ["clone3"], tenant=28, weaken=SECCOMP)
    t.ok(c.end == "exit" and c.r["exit_code"] == 38 and k.end == "exit" and
         k.r["exit_code"] != 38,
         "clone3 (flags out of the filter's sight) fails with ENOSYS so libc falls back")

    # --- the node keeps serving other tenants during attacks ---------------
    if need_cg:
        holder_res = {}
        bomb = threading.Thread(
            target=lambda: holder_res.update(r=Run("cpu_spin", ["wall", 2, 8, 1000],
                                                   tenant=32, cl=Client())))
        bomb.start()
        r = Run("caps", ["status"], tenant=33)
        bomb.join(60)
        t.ok(r.blocked() and holder_res.get("r") is not None,
             "another tenant's storlet runs to completion while a CPU hog runs")

    if need_cg:
        holder_res = {}
        bomb = threading.Thread(
            target=lambda: holder_res.update(r=Run("fork_bomb", [400, 3], tenant=50,
                                                   cl=Client())))
        bomb.start()
        end = time.time() + 20
        while len(procs_of_uid(BASE + 50)) < 60 and time.time() < end:
            time.sleep(0.02)
        held = len(procs_of_uid(BASE + 50))
        r = Run("caps", ["status"], tenant=51)
        bomb.join(60)
        t.ok(held >= 60 and r.blocked() and holder_res.get("r") is not None and
             holder_res["r"].blocked(),
             "another tenant's storlet runs while a fork bomb holds its pids "
             "(%d processes)" % held)

    # --- tenants never share an identity: the uid of each sandbox ----------
    seen = {}
    for tenant in (40, 41):
        rd, wr = os.pipe()
        got = {}
        ev = threading.Event()
        vc = Client()

        def on_start(m, got=got, ev=ev):
            got["pid"] = m["pid"]
            ev.set()
        th = threading.Thread(target=lambda vc=vc, rd=rd, tenant=tenant: Run(
            "sleeper", tenant=tenant, stdin=rd, cl=vc, on_start=on_start))
        th.start()
        ev.wait(20)
        seen[tenant] = None
        end = time.time() + 20
        while seen[tenant] is None and time.time() < end and "pid" in got:
            # the storlet is the child of the sandbox's init
            try:
                with open("/proc/%d/task/%d/children" % (got["pid"], got["pid"])) as f:
                    kids = f.read().split()
                if kids:
                    with open("/proc/%s/status" % kids[0]) as f:
                        seen[tenant] = next(int(l.split()[1]) for l in f
                                            if l.startswith("Uid:"))
            except (OSError, StopIteration):
                pass
            if seen[tenant] is None:
                time.sleep(0.01)
        os.close(wr)
        th.join(30)
        os.close(rd)
        vc.s.close()
    t.eq(seen, {40: BASE + 40, 41: BASE + 41},
         "each tenant's sandbox runs under its own host uid")


try:
    main()
finally:
    cleanup()
    t.diag("attack cases contained with a working control: %d (%s)" %
           (len(passed_cases), " ".join(passed_cases)))
    rest = log.read() if not log.closed else ""
    log.seek(0)
    errs = [l for l in log.read().splitlines() if " ERR " in l]
    t.ok(not errs, "launcher logged no ERR lines")
    for e in errs[:10]:
        t.diag(e)
    log.close()
t.done()
