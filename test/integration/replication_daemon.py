#!/usr/bin/python3
# tier: quick
"""The background daemons on their timers, with nobody asking.

Nodes run the replicator and the auditor every fraction of a second:
objects uploaded while a primary was down reach it once it is back, and a
replica with a flipped byte is quarantined by the auditor and repaired by
the replicator, with no --*-once call. The nodes shut down cleanly while
their passes run.
"""
import glob
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster, wait_for  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()

with Cluster(t) as cl:
    nodes = cl.storage_cluster(conf={"replicator_interval": "0.2",
                                     "auditor_interval": "0.2",
                                     "auditor_bytes_per_second": "0"})
    p = cl.proxy()
    path, tok = p.auth()
    acct = path.split("/")[-1]
    H = {"X-Auth-Token": tok}
    # 202 is right too: a node's 0.2 s replicator may push the new DB to a
    # peer before the proxy's PUT reaches it, and that peer answers "already
    # there" (Swift's best_response then picks 202 as well).
    t.ok(p.request("PUT", path + "/c", headers=H)[0] in (201, 202),
         "container")
    down = nodes[1]
    down.stop()
    cl.expect_log(r"127\.0\.0\.2")
    cl.expect_log(r"quarantin")
    names = ["d%02d" % i for i in range(12)]
    bodies = {o: os.urandom(700 + i) for i, o in enumerate(names)}
    t.ok(all(p.request("PUT", path + "/c/" + o, body=bodies[o],
                       headers=H)[0] == 201 for o in names),
         "uploads with a node down")
    down.start()

    def on_primaries(o):
        part, prim, hand = cl.locate(acct, "c", o)
        for n, d in prim:
            st, _, body = n.request("GET", "/%s/%d/%s/c/%s" % (d, part, acct,
                                                               o))
            if st != 200 or body != bodies[o]:
                return False
        h = cl.hash_of(acct, "c", o)
        return not any(glob.glob(os.path.join(n.devroot, d, "objects", "*",
                                              h[-3:], h)) for n, d in hand)

    wait_for(lambda: all(on_primaries(o) for o in names), timeout=60,
             what="the replicator timers to move handoff data home")
    t.ok(True, "every object reached its primaries and left the handoffs")

    o = names[0]
    part, prim, _ = cl.locate(acct, "c", o)
    victim, vdev = prim[2]
    h = cl.hash_of(acct, "c", o)
    data = glob.glob(os.path.join(victim.devroot, vdev, "objects", "*",
                                  h[-3:], h, "*.data"))[0]
    with open(data, "r+b") as f:
        f.seek(-1, os.SEEK_END)
        b = f.read(1)
        f.seek(-1, os.SEEK_END)
        f.write(bytes([b[0] ^ 1]))
    qdir = os.path.join(victim.devroot, vdev, "quarantined", "objects")
    wait_for(lambda: glob.glob(os.path.join(qdir, h + "*")), timeout=60,
             what="the auditor timer to quarantine the rot")
    t.ok(True, "the auditor quarantined the flipped byte on its own")
    wait_for(lambda: on_primaries(o), timeout=60,
             what="the replicator timer to repair the replica")
    t.ok(True, "the replicator restored the replica on its own")

t.done()
