#!/usr/bin/python3
# tier: full
"""A storlet may be silent for longer than a minute: a fixity or a count
over a 10 GB scan reads everything before its first byte, and an operator
raises storlet_wall_timeout for that. Every loopback HTTP client on such a
path must then wait as long as the storlet may run, not the HTTP client's
default of 60 s: the split GETs of a Distributed request (proxy to
itself) and a services "invoke" (object node's engine to the proxy).
Here the storlet reads its input and then writes nothing for 62 s, with
storlet_wall_timeout and storlet_idle_timeout at 90 s; both requests run
at once and must answer the storlet's output."""
import json
import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster  # noqa: E402
from tap import Tap  # noqa: E402

SILENT_S = 62

t = Tap()

SLOW = b"#!/bin/sh\nexec 3>&-\nn=$(wc -c)\nsleep %d\necho $n\n" % SILENT_S

with Cluster(t) as cl:
    nodes, p = cl.storlet_cluster(conf={"storlet_wall_timeout": "90",
                                        "storlet_idle_timeout": "90"})
    path, tok = p.auth("test:tester")

    def req(m, u, body=None, headers=None):
        h = {"X-Auth-Token": tok}
        h.update(headers or {})
        return p.request(m, u, body=body, headers=h, timeout=200)

    p.enable_storlets(path, tok, ("storlet",))
    t.eq(p.deploy(path, tok, "slow.sh", body=SLOW), 201,
         "deploy a storlet silent for %d s" % SILENT_S)
    for name in ("partlist", "concat"):
        t.eq(p.deploy(path, tok, name), 201, "deploy %s" % name)
    req("PUT", path + "/data")
    st, _, _ = req("PUT", path + "/data/big", body=b"x" * 100000)
    t.eq(st, 201, "store the input")

    answers = {}

    def distributed():
        answers["dist"] = req("POST", path, body=json.dumps({
            "resources": {"objects": ["data/big"]}, "split": {"storlet": "slow.sh"},
            "merge": {"storlet": "partlist",
                      "parameters": {"format": "raw"}}}).encode(),
            headers={"X-Storlet-Distributed": "1",
                     "Content-Type": "application/json"})

    def invoke():
        answers["invoke"] = req("GET", path + "/data/big", headers={
            "X-Run-Storlet": "concat",
            "X-Storlet-Parameter-1": "objects:data/big",
            "X-Storlet-Parameter-2": "storlet:slow.sh",
            "X-Storlet-Parameter-3": "skip-input:true"})

    threads = [threading.Thread(target=f) for f in (distributed, invoke)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    st, _, b = answers["dist"]
    t.eq((st, b.strip()), (200, b"100000"),
         "a Distributed split silent for %d s: its output merged (%d %r)"
         % (SILENT_S, st, b[:200]))
    st, _, b = answers["invoke"]
    t.eq((st, b.strip()), (200, b"100000"),
         "a storlet invoked through services, silent for %d s: its output "
         "(%d %r)" % (SILENT_S, st, b[:200]))
t.done()
