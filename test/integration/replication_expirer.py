#!/usr/bin/python3
# tier: quick
"""The expirer removes an expired object on every replica.

(f) An object PUT with X-Delete-At a second or two ahead reads as absent
    once that time has passed; one expirer pass on every node leaves a
    tombstone (timestamped at X-Delete-At, the same on each replica)
    alone on every primary and drops the container listing row; an object
    without X-Delete-At is untouched.
"""
import glob
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster, wait_for  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()


def files_of(node, dev, h):
    out = []
    for d in glob.glob(os.path.join(node.devroot, dev, "objects", "*",
                                    h[-3:], h)):
        out += sorted(os.listdir(d))
    return out


with Cluster(t) as cl:
    nodes = cl.storage_cluster()
    p = cl.proxy()
    path, tok = p.auth()
    acct = path.split("/")[-1]
    H = {"X-Auth-Token": tok}
    t.eq(p.request("PUT", path + "/c", headers=H)[0], 201, "container")
    at = int(time.time()) + 2
    hh = dict(H)
    hh["X-Delete-At"] = str(at)
    t.eq(p.request("PUT", path + "/c/doomed", body=b"bye", headers=hh)[0],
         201, "PUT with X-Delete-At")
    t.eq(p.request("PUT", path + "/c/kept", body=b"stay", headers=H)[0],
         201, "PUT without")

    # nothing to do before the time
    st = [n.run_once("expire") for n in nodes]
    t.eq(sum(s["expired"] for s in st), 0, "nothing expires early")

    wait_for(lambda: p.request("GET", path + "/c/doomed", headers=H)[0] ==
             404, timeout=30, what="X-Delete-At to pass")
    st = [n.run_once("expire") for n in nodes]
    t.eq(sum(s["expired"] for s in st), 3, "three replicas expired")
    t.eq(sum(s["failures"] for s in st), 0, "container rows dropped "
         "without failures")
    part, prim, hand = cl.locate(acct, "c", "doomed")
    h = cl.hash_of(acct, "c", "doomed")
    t.eq([files_of(n, d, h) for n, d in prim],
         [["%d.00000.ts" % at]] * 3,
         "a tombstone at X-Delete-At alone on every primary")
    part, prim, hand = cl.locate(acct, "c", "kept")
    h = cl.hash_of(acct, "c", "kept")
    t.ok(all(any(f.endswith(".data") for f in files_of(n, d, h))
             for n, d in prim), "the other object is untouched")
    st, _, body = p.request("GET", path + "/c?format=json", headers=H)
    t.eq([o["name"] for o in json.loads(body)], ["kept"],
         "the listing no longer shows the expired object")
    # Each container replica reports its new totals to the account about a
    # second (account_update_interval) after the expirer changed them, on
    # its own timer: until every account replica has the report, a pass
    # rightly pushes the newer account row. Wait for the roll-up first.
    apart, aprim, _ = cl.locate(acct, ring="account")

    def account_rows(n, d):
        st, _, body = n.acct("GET", "/%s/%d/%s?format=json" % (d, apart, acct))
        return ([(c["name"], c["count"], c["bytes"]) for c in json.loads(body)]
                if st == 200 else None)
    wait_for(lambda: all(account_rows(n, d) == [("c", 1, 4)] for n, d in aprim),
             30, "the account replicas to count the expired object out")
    t.eq(sum(n.run_once("replicate")["pushed"] for n in nodes), 0,
         "replicas agree: replication has nothing to push")

t.done()
