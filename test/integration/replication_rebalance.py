#!/usr/bin/python3
# tier: quick
"""A rebalance moves partitions, and the replicator moves their objects.

(e) On a 4-node, 3-replica cluster with objects stored, a fifth node is
    added to the object ring (cairn-ring-builder add + rebalance); after
    replication passes every object is on exactly its new primaries,
    nowhere else, and readable through the proxy.
"""
import glob
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import BUILD, Cluster, wait_for  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()


def holders(cl, h):
    """(node, device) pairs that hold a hash directory for h."""
    out = set()
    for n in cl.nodes:
        for d in n.devices:
            if glob.glob(os.path.join(n.devroot, d, "objects", "*", h[-3:],
                                      h)):
                out.add((n.name, d))
    return out


with Cluster(t) as cl:
    nodes = cl.storage_cluster()
    p = cl.proxy()
    path, tok = p.auth()
    acct = path.split("/")[-1]
    H = {"X-Auth-Token": tok}
    t.eq(p.request("PUT", path + "/c", headers=H)[0], 201, "container")
    names = ["r%02d" % i for i in range(30)]
    bodies = {o: os.urandom(500 + i) for i, o in enumerate(names)}
    t.ok(all(p.request("PUT", path + "/c/" + o, body=bodies[o],
                       headers=H)[0] == 201 for o in names), "30 uploads")
    before = {o: cl.locate(acct, "c", o) for o in names}
    # The proxy answers on a quorum (2 of 3); the third write may still be
    # on its way, and a replication pass then would push it.
    wait_for(lambda: all(len(holders(cl, cl.hash_of(acct, "c", o))) == 3
                         for o in names), 30, "every third replica written")
    # Each container replica gets its rows from the object servers and
    # reports its totals to the account about a second later on its own
    # timer; a pass while the replicas of either differ rightly pushes rows.
    cpart, cprim, _ = cl.locate(acct, "c", ring="container")
    apart, aprim, _ = cl.locate(acct, ring="account")
    nbytes = sum(len(b) for b in bodies.values())

    def dbs_settled():
        for n, d in cprim:
            st, _, body = n.cont("GET", "/%s/%d/%s/c?format=json" %
                                 (d, cpart, acct))
            if st != 200 or len(json.loads(body)) != len(names):
                return False
        for n, d in aprim:
            st, _, body = n.acct("GET", "/%s/%d/%s?format=json" %
                                 (d, apart, acct))
            if st != 200 or [(c["name"], c["count"], c["bytes"]) for c in
                             json.loads(body)] != [("c", len(names), nbytes)]:
                return False
        return True
    wait_for(dbs_settled, 30, "container rows and account totals everywhere")
    # a first pass loads the old ring into every node; nothing to move
    t.eq(sum(n.run_once("replicate")["pushed"] for n in nodes), 0,
         "before the rebalance the replicas agree")

    new = cl.objectd(devices=["d5"], ip="127.0.0.5")
    rb = os.path.join(BUILD, "cairn-ring-builder")
    builder = os.path.join(cl.dir, "object.builder")
    subprocess.check_call([rb, builder, "add", "r1z5-127.0.0.5:%d/d5" %
                           new.port, "100"], stdout=subprocess.DEVNULL)
    subprocess.check_call([rb, builder, "pretend_min_part_hours_passed"],
                          stdout=subprocess.DEVNULL)
    subprocess.call([rb, builder, "rebalance"], stdout=subprocess.DEVNULL)
    after = {o: cl.locate(acct, "c", o) for o in names}
    moved = [o for o in names if
             {(n.name, d) for n, d in before[o][1]} !=
             {(n.name, d) for n, d in after[o][1]}]
    t.ok(len(moved) > 0, "the rebalance moved objects' partitions (%d of "
         "%d)" % (len(moved), len(names)))

    for r in range(4):
        work = 0
        for n in cl.nodes:
            st = n.run_once("replicate")
            work += st["pushed"] + st["removed"]
        if work == 0:
            break
    t.eq(work, 0, "replication converged")
    wrong = []
    for o in names:
        part, prim, hand = after[o]
        want = {(n.name, d) for n, d in prim}
        got = holders(cl, cl.hash_of(acct, "c", o))
        if got != want:
            wrong.append((o, sorted(got), sorted(want)))
    t.eq(wrong, [], "every object on exactly its new primaries")
    t.ok(any(n.name == new.name for o in moved for n, _ in after[o][1]),
         "the new node holds some of them")

    p.stop()
    p.start()
    bad = [o for o in names
           if p.request("GET", path + "/c/" + o, headers=H)[2] != bodies[o]]
    t.eq(bad, [], "every object readable through the proxy")

t.done()
