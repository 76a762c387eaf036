#!/usr/bin/python3
# tier: quick
"""The storlet launcher of a daemon (docs/internals/sandbox.md, Processes):
the cairn-sbx-launch program found next to the daemon's binary, started by
a fork and an exec (so every sandbox it clones copies its small address
space, not the daemon's), serving the socket it inherited, one thread;
and it dies with its daemon (PR_SET_PDEATHSIG survives the exec), even
when the daemon is killed with SIGKILL."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster, BUILD, wait_for  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def exe(pid):
    try:
        return os.readlink("/proc/%d/exe" % pid)
    except OSError:
        return ""


def status(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return line.split(None, 1)[1].strip()
    except OSError:
        pass
    return None


def gone(pid):
    st = status(pid, "State")
    return st is None or st.startswith("Z")


with Cluster(t) as cl:
    want = os.path.realpath(os.path.join(BUILD, "cairn-sbx-launch"))
    n = cl.objectd(conf={"storlets": "true",
                         "storlet_cache_dir": os.path.join(cl.dir, "cache")})
    kids = wait_for(lambda: [k for k in children(n.proc.pid) if exe(k) == want],
                    what="the daemon's launcher child")
    t.ok(len(kids) == 1, "one child of the daemon runs %s" % want)
    pid = kids[0]
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        argv = f.read().split(b"\0")
    t.ok(b"--listen-fd" in argv, "it serves an inherited socket: %r" % argv)
    t.ok(status(pid, "Threads") == "1", "the launcher has one thread")
    others = [k for k in children(n.proc.pid) if k != pid]
    t.ok(not [k for k in others if exe(k) == exe(n.proc.pid)],
         "no fork of the daemon's image stays beside it")
    n.kill9()
    try:
        wait_for(lambda: gone(pid), timeout=30,
                 what="the launcher to die with its daemon")
        died = True
    except TimeoutError:
        died = False
    t.ok(died, "the launcher died with its SIGKILLed daemon")
t.done()
