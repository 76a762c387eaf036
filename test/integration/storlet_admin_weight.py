#!/usr/bin/python3
# tier: full
"""storlet_admin_cpu_weight: how much CPU a running admin-sandbox storlet
(a reseller admin's trusted job: fixity, de-identification) weighs against
one busy thread of the node. The launcher keeps its sandboxes' parent
group at the sum of the running sandboxes' weights, so while an admin
storlet runs on a node whose setting is 800, that node's parent group
weighs 8 threads; a user storlet on the same node weighs one whatever the
setting. Read from the cgroup v1 cpu controller (skipped without it)."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()

SLEEPER = b"#!/bin/sh\nexec 3>&-\ncat >/dev/null\nsleep 3\necho done\n"


def cpu_mount():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            head, _, tail = line.partition(" - ")
            parts = tail.split()
            if len(parts) >= 3 and parts[0] == "cgroup" and \
                    "cpu" in parts[2].split(","):
                return head.split()[4]
    return None


def launchers(node_pid):
    """cairn-sbx-launch children of a daemon."""
    out = []
    for task in os.listdir("/proc/%d/task" % node_pid):
        try:
            with open("/proc/%d/task/%s/children" % (node_pid, task)) as f:
                kids = [int(x) for x in f.read().split()]
        except OSError:
            continue
        for k in kids:
            try:
                with open("/proc/%d/comm" % k) as f:
                    if f.read().strip().startswith("cairn-sbx"):
                        out.append(k)
            except OSError:
                pass
    return out


def shares_path(mnt, lpid):
    with open("/proc/%d/cgroup" % lpid) as f:
        for line in f:
            _, ctls, rel = line.rstrip("\n").split(":", 2)
            if "cpu" in ctls.split(","):
                # its sandboxes' parent is cairn-sbx.<pid> below the group
                # it started in (it may have moved into .../launcher)
                rel = rel.rstrip("/")
                if rel.endswith("/cairn-sbx.%d/launcher" % lpid):
                    rel = os.path.dirname(os.path.dirname(rel))
                return os.path.join(mnt + rel, "cairn-sbx.%d" % lpid,
                                    "cpu.shares")
    return None


mnt = cpu_mount()
if not mnt:
    t.skip("admin cpu weight", "no cgroup v1 cpu controller on this host")
    t.done()
    sys.exit(0)

with Cluster(t) as cl:
    nodes, p = cl.storlet_cluster(
        node_conf={"storlet_admin_cpu_weight": "800"},
        users={"test:tester": "testing .admin",
               "test:operator": "operating .reseller_admin"})
    path, tok = p.auth("test:tester")
    _, optok = p.auth("test:operator")
    p.enable_storlets(path, tok, ("storlet", "data"))
    t.eq(p.deploy(path, optok, "admin.sh", body=SLEEPER, **{
        "X-Object-Meta-Storlet-Sandbox": "admin"}), 201,
        "the reseller admin deploys an admin-sandbox storlet")
    t.eq(p.deploy(path, tok, "user.sh", body=SLEEPER), 201,
         "the account's admin deploys the same code as a user storlet")
    t.eq(p.request("PUT", path + "/data/o", body=b"x" * 1000,
                   headers={"X-Auth-Token": tok})[0], 201, "an object")

    def peak_while(storlet):
        """Highest parent cpu.shares over every node's launchers while a
        GET runs storlet; (status, body, peak)."""
        res = {}

        def get():
            res["r"] = p.request("GET", path + "/data/o", headers={
                "X-Auth-Token": tok, "X-Run-Storlet": storlet}, timeout=60)
        th = threading.Thread(target=get)
        th.start()
        peak = 0
        while th.is_alive():
            for n in nodes:
                for lp in launchers(n.proc.pid):
                    sp = shares_path(mnt, lp)
                    try:
                        with open(sp) as f:
                            peak = max(peak, int(f.read()))
                    except (OSError, TypeError, ValueError):
                        pass
            time.sleep(0.02)
        th.join()
        st, _, body = res["r"]
        return st, body.strip(), peak

    st, body, peak = peak_while("admin.sh")
    t.eq((st, body), (200, b"done"), "the admin storlet ran")
    t.eq(peak, 8192, "while it ran its node's sandboxes weighed 8 threads "
         "(cpu.shares %d)" % peak)
    st, body, peak = peak_while("user.sh")
    t.eq((st, body), (200, b"done"), "the user storlet ran")
    t.eq(peak, 1024, "a user storlet weighs one thread whatever the "
         "setting (cpu.shares %d)" % peak)
t.done()
