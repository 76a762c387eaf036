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
from cluster import Cluster, SRC  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()

CSV = (b"id,name,ssn,diagnosis\r\n"
       b"1,Alice Smith,123-45-6789,flu\r\n"
       b"2,Bob Jones,987-65-4321,asthma\r\n")
SECRETS = (b"Alice", b"Bob", b"123-45-6789", b"987-65-4321")


def leaks(body):
    return any(s in body for s in SECRETS)


with Cluster(t) as cl:
    # object nodes without storlets (their default)
    _, p = cl.storlet_cluster(node_storlets=False, warm="0",
                              users={"test:tester": "testing .admin",
                                     "test:res": "resing researcher"})
    path, tok = p.auth("test:tester")
    _, rtok = p.auth("test:res")
    req = p.requester(tok)
    t.eq(p.enable_storlets(path, tok, ("storlet", "dependency", "records")),
         204, "enable the account for storlets")
    with open(os.path.join(SRC, "storlets", "deid", "deid.py"), "rb") as f:
        st = p.deploy(path, tok, "deid.py", body=f.read(), lang="python",
                      main="deid.main")
    t.eq(st, 201, "deploy deid.py")
    st = p.deploy(path, tok, "shoutpx",
                  body=b"#!/bin/sh\nexec 3>&-\nexec tr a-z A-Z\n", **{
                      "X-Object-Meta-Storlet-Run-On": "proxy"})
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
