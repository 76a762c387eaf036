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
from cluster import Cluster  # noqa: E402
from tap import Tap  # noqa: E402

SRC = os.environ.get("CAIRN_SRC") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")

t = Tap()

SLOW = b"#!/bin/sh\nexec 3>&-\nn=$(wc -c)\nsleep 5\necho $n\n"

with Cluster(t) as cl:
    os.chmod(cl.dir, 0o755)   # the sandbox opens code dirs below it
    sdk = os.path.join(SRC, "storlets", "sdk", "cairn_storlet.py")

    def conf(name):
        return {"storlets": "true",
                "storlet_cache_dir": os.path.join(cl.dir, name + "-cache"),
                "storlet_sdk": sdk, "storlet_warm": "1"}

    nodes = []
    for i, ip in enumerate(("127.0.0.1", "127.0.0.2", "127.0.0.3")):
        nodes.append(cl.objectd(devices=["d%d" % (i + 1)], ip=ip,
                                conf=conf("node%d" % i)))
    for kind, port in (("account", "aport"), ("container", "cport"),
                       ("object", "port")):
        cl.build_ring(kind, 6, 3, [(n.ip, getattr(n, port), n.devices[0])
                                   for n in nodes])
    p = cl.proxy(conf={"DEFAULT": conf("proxy"),
                       "app": {"node_timeout": "2"}})
    path, tok = p.auth("test:tester")

    def req(m, u, body=None, headers=None):
        h = {"X-Auth-Token": tok}
        h.update(headers or {})
        return p.request(m, u, body=body, headers=h, timeout=120)

    req("POST", path, headers={"X-Account-Meta-Storlet-Enabled": "True"})
    req("PUT", path + "/storlet")
    st, _, _ = req("PUT", path + "/storlet/slow.sh", body=SLOW, headers={
        "X-Object-Meta-Storlet-Language": "native",
        "X-Object-Meta-Storlet-Interface-Version": "1.0",
        "X-Object-Meta-Storlet-Object-Metadata": "no",
        "X-Object-Meta-Storlet-Main": "slow.sh"})
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
