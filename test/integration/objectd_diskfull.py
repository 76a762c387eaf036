#!/usr/bin/python3
# tier: quick
"""cairn-objectd on a full disk: the device is a 1 MiB tmpfs mounted in a
private mount namespace (unshare -r -m, so no privilege and nothing left
behind). A PUT that cannot fit answers 507 and leaves no temp file, whether
the length is known up front (refused before the body) or not (chunked,
refused while writing); the node keeps serving what fits."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster, wait_for  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()

probe = subprocess.run(["unshare", "-r", "-m", "true"], capture_output=True)
if probe.returncode != 0:
    t.skip("disk full", "unshare -r -m is not allowed here")
    t.done()

with Cluster(t) as cl:
    n = cl.objectd(devices=["sda1"], start=False)
    dev = os.path.join(n.devroot, "sda1")
    n.start(wrap=["unshare", "-r", "-m", "sh", "-c",
                  'mount -t tmpfs -o size=1m tmpfs "%s" && exec "$0" "$@"'
                  % dev])
    tmp = os.path.join("/proc", str(n.proc.pid), "root") + dev + "/tmp"

    def tmp_files():
        try:
            return os.listdir(tmp)
        except FileNotFoundError:
            return []

    st, _, _ = n.obj("PUT", "/sda1/0/a/c/big", body=b"x" * (2 << 20),
                     headers={"X-Timestamp": cl.ts(), "Content-Type": "t/t"})
    t.eq(st, 507, "PUT larger than the disk, length known: 507")
    c = n.conn()
    c.putrequest("PUT", "/sda1/0/a/c/chunky")
    c.putheader("X-Timestamp", cl.ts())
    c.putheader("Content-Type", "t/t")
    c.putheader("Transfer-Encoding", "chunked")
    c.endheaders()
    status = None
    try:
        for _ in range(64):
            piece = b"y" * 65536
            c.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        c.send(b"0\r\n\r\n")
    except OSError:
        pass  # the node answered and closed while we were still sending
    try:
        r = c.getresponse()
        status = r.status
    except OSError:
        pass
    c.close()
    t.eq(status, 507, "chunked PUT that fills the disk: 507")
    wait_for(lambda: tmp_files() == [], 20, "temp files removed")
    t.ok(True, "no temp file left on the full disk")
    for name in ("big", "chunky"):
        st, _, _ = n.obj("GET", "/sda1/0/a/c/" + name)
        t.eq(st, 404, "nothing visible of %s" % name)
    st, _, _ = n.obj("PUT", "/sda1/0/a/c/small", body=b"z" * 1000,
                     headers={"X-Timestamp": cl.ts(), "Content-Type": "t/t"})
    t.eq(st, 201, "a PUT that fits still works")
    st, _, got = n.obj("GET", "/sda1/0/a/c/small")
    t.eq((st, got), (200, b"z" * 1000), "and reads back")
    t.ok(os.path.isdir(tmp) and os.path.isdir(tmp[:-4] + "/objects"),
         "the checks above looked into the node's tmpfs")

t.done()
