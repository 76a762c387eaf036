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
from cluster import BUILD, Cluster  # noqa: E402
from tap import Tap  # noqa: E402

SRC = os.environ.get("CAIRN_SRC") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")
SILENT_S = 62

t = Tap()

SLOW = b"#!/bin/sh\nexec 3>&-\nn=$(wc -c)\nsleep %d\necho $n\n" % SILENT_S

with Cluster(t) as cl:
    os.chmod(cl.dir, 0o755)   # the sandbox opens code dirs below it
    sdk = os.path.join(SRC, "storlets", "sdk", "cairn_storlet.py")

    def conf(name):
        return {"storlets": "true",
                "storlet_cache_dir": os.path.join(cl.dir, name + "-cache"),
                "storlet_sdk": sdk, "storlet_warm": "1",
                "storlet_wall_timeout": "90", "storlet_idle_timeout": "90"}

    nodes = []
    for i, ip in enumerate(("127.0.0.1", "127.0.0.2", "127.0.0.3")):
        nodes.append(cl.objectd(devices=["d%d" % (i + 1)], ip=ip,
                                conf=conf("node%d" % i)))
    for kind, port in (("account", "aport"), ("container", "cport"),
                       ("object", "port")):
        cl.build_ring(kind, 6, 3, [(n.ip, getattr(n, port), n.devices[0])
                                   for n in nodes])
    p = cl.proxy(conf={"DEFAULT": conf("proxy")})
    path, tok = p.auth("test:tester")

    def req(m, u, body=None, headers=None):
        h = {"X-Auth-Token": tok}
        h.update(headers or {})
        return p.request(m, u, body=body, headers=h, timeout=200)

    req("POST", path, headers={"X-Account-Meta-Storlet-Enabled": "True"})
    req("PUT", path + "/storlet")
    native = {"X-Object-Meta-Storlet-Language": "native",
              "X-Object-Meta-Storlet-Interface-Version": "1.0",
              "X-Object-Meta-Storlet-Object-Metadata": "no"}
    st, _, _ = req("PUT", path + "/storlet/slow.sh", body=SLOW,
                   headers=dict(native, **{"X-Object-Meta-Storlet-Main":
                                           "slow.sh"}))
    t.eq(st, 201, "deploy a storlet silent for %d s" % SILENT_S)
    for name in ("partlist", "concat"):
        with open(os.path.join(BUILD, "storlets", name), "rb") as f:
            st, _, _ = req("PUT", path + "/storlet/" + name, body=f.read(),
                           headers=dict(native, **{
                               "X-Object-Meta-Storlet-Main": name}))
        t.eq(st, 201, "deploy %s" % name)
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
