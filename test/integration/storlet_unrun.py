#!/usr/bin/python3
# tier: quick
"""A storlet the proxy asks an object node to run must have run there.

The proxy has storlets on, the object nodes do not (storlets = false, the
objectd default, as on a node not yet configured or being upgraded): a
node then ignores X-Backend-Storlet-Chain and answers the plain object.
The proxy must never take that for the storlet's output: not for a
mandatory read rule (the researcher would read the record it must only
see de-identified), not for a client's own X-Run-Storlet run wholly on the
node (relayed), nor for a chain whose prefix the node was to run. Each is
answered 503 and the bytes of the object never reach the client; the
owner's plain GET still works."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster  # noqa: E402
from tap import Tap  # noqa: E402

SRC = os.environ.get("CAIRN_SRC") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")

t = Tap()

CSV = (b"id,name,ssn,diagnosis\r\n"
       b"1,Alice Smith,123-45-6789,flu\r\n"
       b"2,Bob Jones,987-65-4321,asthma\r\n")
SECRETS = (b"Alice", b"Bob", b"123-45-6789", b"987-65-4321")


def leaks(body):
    return any(s in body for s in SECRETS)


def storlet(lang, main, **extra):
    h = {"X-Object-Meta-Storlet-Language": lang,
         "X-Object-Meta-Storlet-Interface-Version": "1.0",
         "X-Object-Meta-Storlet-Object-Metadata": "no",
         "X-Object-Meta-Storlet-Main": main}
    h.update(extra)
    return h


with Cluster(t) as cl:
    os.chmod(cl.dir, 0o755)   # the sandbox opens code dirs below it
    sdk = os.path.join(SRC, "storlets", "sdk", "cairn_storlet.py")
    # object nodes without storlets (their default)
    nodes = [cl.objectd(devices=["d%d" % (i + 1)], ip=ip)
             for i, ip in enumerate(("127.0.0.1", "127.0.0.2", "127.0.0.3"))]
    for kind, port in (("account", "aport"), ("container", "cport"),
                       ("object", "port")):
        cl.build_ring(kind, 6, 3, [(n.ip, getattr(n, port), n.devices[0])
                                   for n in nodes])
    p = cl.proxy(users={"test:tester": "testing .admin",
                        "test:res": "resing researcher"},
                 conf={"DEFAULT": {
                     "storlets": "true", "storlet_warm": "0",
                     "storlet_cache_dir": os.path.join(cl.dir, "px-cache"),
                     "storlet_sdk": sdk}})
    path, tok = p.auth("test:tester")
    _, rtok = p.auth("test:res")

    def req(m, u, body=None, headers=None, token=tok):
        h = {"X-Auth-Token": token}
        h.update(headers or {})
        return p.request(m, u, body=body, headers=h)

    st, _, _ = req("POST", path,
                   headers={"X-Account-Meta-Storlet-Enabled": "True"})
    t.eq(st, 204, "enable the account for storlets")
    for c in ("storlet", "dependency", "records"):
        req("PUT", path + "/" + c)
    with open(os.path.join(SRC, "storlets", "deid", "deid.py"), "rb") as f:
        st, _, _ = req("PUT", path + "/storlet/deid.py", body=f.read(),
                       headers=storlet("python", "deid.main"))
    t.eq(st, 201, "deploy deid.py")
    st, _, _ = req("PUT", path + "/storlet/shoutpx",
                   body=b"#!/bin/sh\nexec 3>&-\nexec tr a-z A-Z\n",
                   headers=storlet("native", "shoutpx", **{
                       "X-Object-Meta-Storlet-Run-On": "proxy"}))
    t.eq(st, 201, "deploy shoutpx (runs on the proxy)")
    req("POST", path + "/storlet",
        headers={"X-Container-Read": "researcher"})
    req("POST", path + "/records",
        headers={"X-Container-Read": "researcher"})
    st, _, _ = req("PUT", path + "/records/p.csv", body=CSV,
                   headers={"Content-Type": "text/csv"})
    t.eq(st, 201, "store a record")
    rule = {"id": "deid-researchers", "mandatory": True,
            "match": {"groups": ["researcher"]},
            "action": {"storlet": "deid.py",
                       "parameters": {"fields": "name,ssn", "mode": "mask"}}}
    st, _, _ = req("POST", path + "/records",
                   headers={"X-Storlet-Rules": json.dumps({"rules": [rule]})})
    t.eq(st, 204, "a mandatory de-identification rule for researchers")

    st, _, b = req("GET", path + "/records/p.csv", token=rtok)
    t.ok(st == 503 and not leaks(b),
         "a mandatory read rule no node could run: 503, nothing of the "
         "record (%d %r)" % (st, b[:60]))
    st, _, b = req("GET", path + "/records/p.csv",
                   headers={"X-Run-Storlet": "deid.py",
                            "X-Storlet-Parameter-1": "fields:name,ssn"})
    t.ok(st == 503 and not leaks(b),
         "X-Run-Storlet the node ignored is not answered as its output "
         "(%d %r)" % (st, b[:60]))
    st, _, b = req("GET", path + "/records/p.csv",
                   headers={"X-Run-Storlet": "deid.py, shoutpx",
                            "X-Storlet-Stage-1-Parameter-1":
                                "fields:name,ssn"})
    t.ok(st == 503 and not leaks(b) and b"ALICE" not in b,
         "a chain whose node prefix did not run is not fed the plain "
         "object (%d %r)" % (st, b[:60]))
    st, _, b = req("GET", path + "/records/p.csv")
    t.eq((st, b), (200, CSV), "the owner's plain GET still works")

t.done()
