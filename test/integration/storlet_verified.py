#!/usr/bin/python3
# tier: quick
"""The object node trusts the proxy's check of the storlet (X-Backend-
Storlet-Verified, docs/internals/engine.md "Getting the code"): it makes no
HEAD of the storlet through the proxy, yet a caller who may not read the
storlet is refused while the node's code cache and the proxy's facts cache
hold it for another caller, a client cannot forge the proxy's word, and a
re-uploaded storlet runs its new code once the proxy's facts expire."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster, storlet_headers, wait_for  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()


def script(out):
    return b"#!/bin/sh\nexec 3>&-\nprintf '%s'\n" % out


with Cluster(t) as cl:
    # one worker: its facts cache surely holds tester's check when
    # tester3 asks
    _, p = cl.storlet_cluster(workers=1)
    path, tok = p.auth("test:tester")
    _, tok3 = p.auth("test:tester3")
    req = p.requester(tok)
    p.enable_storlets(path, tok, ("storlet", "data"))
    st, _, _ = req("PUT", path + "/storlet/ver.sh", body=script(b"v1"),
                   headers=storlet_headers("ver.sh"))
    t.eq(st, 201, "deploy ver.sh (v1)")
    req("PUT", path + "/data/o", body=b"input")
    req("POST", path + "/data", headers={"X-Container-Read": "test:tester3"})

    def run(token=tok, extra=None):
        h = {"X-Run-Storlet": "ver.sh"}
        h.update(extra or {})
        return req("GET", path + "/data/o", headers=h, token=token)

    txns = []
    for i in range(3):
        st, h, b = run()
        t.eq((st, b), (200, b"v1"), "run %d of ver.sh answers v1" % (i + 1))
        t.ok(h.get("x-storlet-executed-on"), "it ran on an object node")
        txns.append(h.get("x-trans-id", ""))

    # A node's own HEAD of the storlet carries the request's transaction id
    # (X-Trans-Id-Extra): the proxy's log would show it.
    log = p.read_log()
    node_heads = [x for x in txns if x and re.search(
        r"txn=tx[0-9a-f]+-[0-9a-f]+-%s.* HEAD /v1/AUTH_test/storlet/ver\.sh " %
        re.escape(x[:23]), log)]
    t.eq(node_heads, [], "no node asked the proxy for the storlet's HEAD")

    # tester3 may read the data, not the storlet; the proxy's facts for
    # tester and the nodes' code caches hold ver.sh
    st, _, b = run(token=tok3)
    t.ok(st == 401 and b"Failed to verify access" in b,
         "a caller who may not read the storlet: 401 (%d)" % st)
    forged = json.dumps([{"ETag": "x", **storlet_headers("ver.sh")}])
    st, _, _ = run(token=tok3, extra={"X-Backend-Storlet-Verified": forged})
    t.eq(st, 401, "a client's X-Backend-Storlet-Verified is not the proxy's")
    st, _, b = run()
    t.eq((st, b), (200, b"v1"), "the reader of the storlet still runs it")

    # re-upload: the new code runs once the proxy's facts (10 s) expire
    st, _, _ = req("PUT", path + "/storlet/ver.sh", body=script(b"v2"),
                   headers=storlet_headers("ver.sh"))
    t.eq(st, 201, "re-deploy ver.sh (v2)")
    seen = set()

    def new_code():
        st, _, b = run()
        seen.add((st, b))
        return b == b"v2"
    t.ok(wait_for(new_code, 60, "the new version"), "v2 runs after the window")
    t.ok(seen <= {(200, b"v1"), (200, b"v2")},
         "meanwhile every run answered v1 or v2: %r" % sorted(seen))
    st, _, b = run()
    t.eq((st, b), (200, b"v2"), "and keeps running v2")

t.done()
