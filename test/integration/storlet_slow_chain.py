#!/usr/bin/python3
# tier: full
"""A storlet chain on an object node may consume its whole input before it
writes its first byte (a fixity or a count over a large object). The proxy
must wait for it as long as a storlet may run, not just node_timeout:
otherwise it gives up on a node that is working, runs the chain again on
the next replica, and finally answers an error. Here the proxy's
node_timeout is 2 s and the storlet writes nothing for 5 s after reading
its input; the GET must still answer the storlet's output, having run it
exactly once."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster, storlet_headers  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()

SLOW = b"#!/bin/sh\nexec 3>&-\nn=$(wc -c)\nsleep 5\necho $n\n"

with Cluster(t) as cl:
    nodes, p = cl.storlet_cluster(app_conf={"node_timeout": "2"})
    path, tok = p.auth("test:tester")
    req = p.requester(tok, timeout=120)
    p.enable_storlets(path, tok, ("storlet",))
    st, _, _ = req("PUT", path + "/storlet/slow.sh", body=SLOW,
                   headers=storlet_headers("slow.sh"))
    t.eq(st, 201, "deploy a storlet that is silent for 5 s")
    req("PUT", path + "/data")
    body = b"x" * 100000
    st, _, _ = req("PUT", path + "/data/big", body=body)
    t.eq(st, 201, "store the input")

    st, h, b = req("GET", path + "/data/big",
                   headers={"X-Run-Storlet": "slow.sh"})
    t.eq((st, b.strip()), (200, b"100000"),
         "the proxy waited for the silent storlet on the node (%d %r)"
         % (st, b[:100]))
    t.eq(h.get("x-storlet-sequence-placement"), "object=1, proxy=0",
         "it ran on the object node")
    runs = sum(n.read_log().count("storlet account=AUTH_test storlet=slow.sh ")
               for n in nodes)
    t.eq(runs, 1, "the storlet ran once: no node was given up on")
t.done()
