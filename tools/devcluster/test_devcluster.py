#!/usr/bin/python3
# tier: full
"""tools/devcluster (what `make run` / `make stop` drive): a cluster starts
from nothing, answers the Swift API, a second start is a no-op that exits 0,
stop ends exactly the recorded pids, and data survives a stop and a new
start; as root, storlets are on, AUTH_test is enabled for them and the
deploy/upload/run commands the banner prints work as printed. Ports are picked free (on all four loopback addresses) and the state
dir is a temp dir, so the test never touches a developer's ./run."""
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "test", "lib"))
from tap import Tap  # noqa: E402
from cluster import free_port  # noqa: E402

t = Tap()
BUILD = os.environ.get("CAIRN_BUILD") or os.path.join(HERE, "..", "..", "build")
IPS = ("127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4")


def free_everywhere(n):
    """n ports free on every node address, reserved for this process
    against tests running in parallel (see cluster.free_port)."""
    return [free_port(ips=IPS) for _ in range(n)]


state = tempfile.mkdtemp(prefix="cairn-devcluster-")
pp, op, cp, ap = free_everywhere(4)
base = [sys.executable, os.path.join(HERE, "devcluster.py")]
opts = ["--state-dir", state, "--build", BUILD, "--proxy-port", str(pp),
        "--object-port", str(op), "--container-port", str(cp),
        "--account-port", str(ap)]
url = "http://127.0.0.1:%d" % pp


def dc(cmd):
    r = subprocess.run(base + [cmd] + opts, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, universal_newlines=True)
    return r.returncode, r.stdout


def pids():
    out = {}
    for n in sorted(os.listdir(os.path.join(state, "pid"))):
        with open(os.path.join(state, "pid", n)) as f:
            out[n[:-4]] = int(f.read())
    return out


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in "ZX"
    except OSError:
        return False


def call(method, path, token=None, body=None, headers=None):
    req = urllib.request.Request(url + path, data=body, method=method,
                                 headers=dict(headers or {}))
    if token:
        req.add_header("X-Auth-Token", token)
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, dict(r.headers), r.read()


def auth():
    st, h, _ = call("GET", "/auth/v1.0", headers={
        "X-Auth-User": "test:tester", "X-Auth-Key": "testing"})
    return h["X-Storage-Url"].split(url, 1)[1], h["X-Auth-Token"]


try:
    rc, out = dc("start")
    t.eq(rc, 0, "start exits 0")
    if rc:
        t.diag(out)
    t.ok("%s/auth/v1.0" % url in out, "start prints the auth URL")
    t.ok("test:tester / testing" in out, "start prints the credentials")
    t.ok("swift -A %s/auth/v1.0 -U test:tester -K testing stat" % url in out,
         "start prints the swift stat command line")
    for kind in ("account", "container", "object"):
        t.ok(os.path.exists(os.path.join(state, kind + ".ring")),
             "%s ring built" % kind)
    first = pids()
    t.eq(sorted(first), ["objectd1", "objectd2", "objectd3", "objectd4",
                         "proxy"], "a pid file per daemon")
    t.ok(all(alive(p) for p in first.values()), "every recorded pid runs")
    st, _, b = call("GET", "/healthcheck")
    t.eq((st, b), (200, b"OK"), "the proxy answers /healthcheck")
    info = json.loads(call("GET", "/info")[2])
    t.ok("swift" in info, "/info has the swift section")

    path, tok = auth()
    t.eq(path, "/v1/AUTH_test", "test:tester owns AUTH_test")
    t.eq(call("PUT", path + "/keep", tok)[0] in (201, 202), True,
         "container PUT")
    t.eq(call("PUT", path + "/keep/obj", tok, b"survives",
              {"Content-Type": "text/plain"})[0], 201, "object PUT")

    # storlets: on when root; the banner's commands work as printed
    if os.geteuid() == 0:
        t.ok("storlets:    on" in out, "storlets are on (root)")
        st, h, _ = call("HEAD", path, tok)
        t.eq(h.get("X-Account-Meta-Storlet-Enabled"), "True",
             "AUTH_test is enabled for storlets")
        cmds = {}
        for line in out.splitlines():
            for label in ("deploy one:", "some data:", "run it:"):
                if line.strip().startswith(label):
                    cmds[label] = shlex.split(line.split(label, 1)[1])
        t.eq(sorted(cmds), ["deploy one:", "run it:", "some data:"],
             "the banner says how to deploy, feed and run a storlet")
        ok = True
        for label in ("deploy one:", "some data:"):
            r = subprocess.run(cmds.get(label, ["false"]), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, universal_newlines=True)
            if r.returncode:
                t.diag("%s %s" % (label, r.stdout))
                ok = False
        t.ok(ok, "its deploy and upload commands succeed")
        r = subprocess.run(cmds.get("run it:", ["false"]), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        with open(os.path.join(HERE, "..", "..", "README.md"), "rb") as f:
            want = b"".join(ln for ln in f.readlines() if b"storlet" in ln)
        t.ok(r.returncode == 0 and r.stdout == want and want,
             "its run command prints README.md's lines naming storlets "
             "(%d bytes)" % len(r.stdout))
        if r.returncode:
            t.diag(r.stderr.decode(errors="replace"))
    else:
        t.ok("storlets:    off" in out, "storlets are off when not root, "
             "and the banner says why")

    rc, out = dc("start")
    t.eq(rc, 0, "a second start exits 0")
    t.ok("already running" in out, "and says the cluster is already running")
    t.eq(pids(), first, "and starts nothing new")

    rc, out = dc("stop")
    t.eq(rc, 0, "stop exits 0")
    t.ok(not any(alive(p) for p in first.values()),
         "every started pid has exited when stop returns")
    t.eq(os.listdir(os.path.join(state, "pid")), [], "pid files removed")
    rc, out = dc("stop")
    t.ok(rc == 0 and "nothing running" in out, "stop when stopped is a no-op")
    rc, _ = dc("status")
    t.eq(rc, 3, "status exits 3 when stopped")

    rc, out = dc("start")
    t.eq(rc, 0, "start again")
    rc, _ = dc("status")
    t.eq(rc, 0, "status exits 0 when running")
    path, tok = auth()
    st, _, b = call("GET", path + "/keep/obj", tok)
    t.eq((st, b), (200, b"survives"), "data survives stop and start")
    t.ok(not set(pids().values()) & set(first.values()),
         "the new daemons have new pids")
finally:
    rc, out = dc("stop")
    t.eq(rc, 0, "final stop")
    logs = os.path.join(state, "log")
    bad = []
    for n in sorted(os.listdir(logs)) if os.path.isdir(logs) else []:
        with open(os.path.join(logs, n), errors="replace") as f:
            bad += ["%s: %s" % (n, ln.rstrip()) for ln in f if " ERR " in ln]
    t.eq(bad, [], "no ERR lines in the daemons' logs")
    if os.environ.get("TEST_KEEP"):
        t.diag("TEST_KEEP: kept " + state)
    else:
        shutil.rmtree(state, ignore_errors=True)
t.done()
