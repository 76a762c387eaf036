#!/usr/bin/python3
# tier: quick
"""A daemon configured on a port that another daemon already listens on
refuses to start, naming the address: the listeners use SO_REUSEPORT (one
socket per worker thread), which would otherwise let a second
cairn-objectd or cairn-proxy bind the same port and silently take half of
the first one's connections. The first keeps serving."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()

with Cluster(t) as cl:
    nodes = cl.storage_cluster(ips=("127.0.0.1",), replicas=1)
    p = cl.proxy()
    for d in (nodes[0], p):
        # the same configuration file: the same address and ports
        r = subprocess.run(d.command(), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        out = r.stdout.decode(errors="replace")
        port = d.port
        t.ok(r.returncode != 0 and "%s:%d: Address already in use"
             % (d.ip, port) in out,
             "a second %s on %s:%d exits naming the taken address (%d: %s)"
             % (os.path.basename(d.command()[0]), d.ip, port, r.returncode,
                out.strip()[-300:]))
        st, _, _ = d.request("GET", "/healthcheck")
        t.eq(st, 200, "the first %s still answers" %
             os.path.basename(d.command()[0]))
t.done()
