#!/usr/bin/python3
# tier: quick
"""The object replicator and auditor on a 4-node, 3-replica cluster.

(a) With one primary stopped, uploads land on a handoff; after the node
    comes back and every node runs one replication pass (until a pass
    pushes nothing), each object is on all three primaries, byte for byte,
    and gone from the handoff.
(b) A replica's .data with a flipped byte is quarantined by the auditor;
    replication restores it byte-identical.
(c) A DELETE while a primary is down: after replication the tombstone is
    on every primary (the old data nowhere) and the handoff holds nothing.
"""
import glob
import hashlib
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()


def md5(b):
    return hashlib.md5(b).hexdigest()


def hash_dirs(node, dev, h):
    return glob.glob(os.path.join(node.devroot, dev, "objects", "*", h[-3:],
                                  h))


def files_of(node, dev, h):
    out = []
    for d in hash_dirs(node, dev, h):
        out += sorted(os.listdir(d))
    return out


def replicate_all(cl, nodes, rounds=4):
    """Runs a replication pass on every node, repeated until a round pushes
    and removes nothing (converged); returns the number of rounds."""
    for r in range(1, rounds + 1):
        moved = 0
        for n in nodes:
            st = n.run_once("replicate")
            moved += st["pushed"] + st["removed"]
        if moved == 0:
            return r
    return rounds + 1


def backend_get(node, dev, part, a, c, o):
    return node.request("GET", "/%s/%d/%s/%s/%s" % (dev, part, a, c, o))


with Cluster(t) as cl:
    nodes = cl.storage_cluster()
    p = cl.proxy()
    path, tok = p.auth()
    acct = path.split("/")[-1]
    H = {"X-Auth-Token": tok}

    def req(m, u, body=None, headers=None):
        hh = dict(H)
        hh.update(headers or {})
        return p.request(m, u, body=body, headers=hh)

    t.eq(req("PUT", path + "/c")[0], 201, "container created")

    # ---- (a) handoff data moves home
    down = nodes[2]
    names = ["obj%02d" % i for i in range(24)]
    mine = [o for o in names if down in [n for n, _ in
                                         cl.locate(acct, "c", o)[1]]]
    t.ok(len(mine) >= 3, "some objects have the stopped node as primary "
         "(%d)" % len(mine))
    down.stop()
    cl.expect_log(r"127\.0\.0\.3")  # proxy and updates notice it is down
    bodies = {}
    for o in names:
        bodies[o] = os.urandom(1000 + 37 * len(bodies))
        st = req("PUT", path + "/c/" + o, body=bodies[o],
                 headers={"X-Object-Meta-Color": "blue"})[0]
        if st != 201:
            t.diag("PUT %s: %d" % (o, st))
    t.ok(all(req("HEAD", path + "/c/" + o)[0] == 200 for o in names),
         "every upload readable with a node down")
    on_handoff = 0
    for o in mine:
        part, prim, hand = cl.locate(acct, "c", o)
        h = cl.hash_of(acct, "c", o)
        on_handoff += sum(1 for n, d in hand if hash_dirs(n, d, h))
    t.eq(on_handoff, len(mine), "each object of the stopped node went to "
         "one handoff")
    down.start()
    rounds = replicate_all(cl, nodes)
    t.ok(rounds <= 4, "replication converges (%d rounds)" % rounds)
    good = 0
    stray = 0
    for o in names:
        part, prim, hand = cl.locate(acct, "c", o)
        h = cl.hash_of(acct, "c", o)
        ok = True
        for n, d in prim:
            st, hd, body = backend_get(n, d, part, acct, "c", o)
            if st != 200 or body != bodies[o] or \
                    hd.get("x-object-meta-color") != "blue":
                ok = False
                t.diag("%s on %s/%s: %d" % (o, n.name, d, st))
        good += ok
        stray += sum(1 for n, d in hand if hash_dirs(n, d, h))
    t.eq(good, len(names), "every object on all three primaries, byte for "
         "byte, metadata too")
    t.eq(stray, 0, "nothing left on handoffs")

    # ---- (b) bit rot: auditor quarantines, replicator repairs
    o = names[0]
    part, prim, hand = cl.locate(acct, "c", o)
    h = cl.hash_of(acct, "c", o)
    victim, vdev = prim[1]
    data = [f for f in files_of(victim, vdev, h) if f.endswith(".data")]
    t.eq(len(data), 1, "the replica has one .data")
    dpath = os.path.join(hash_dirs(victim, vdev, h)[0], data[0])
    with open(dpath, "r+b") as f:
        f.seek(-10, os.SEEK_END)
        b = f.read(1)
        f.seek(-10, os.SEEK_END)
        f.write(bytes([b[0] ^ 0xff]))
    cl.expect_log(r"quarantin")
    st = victim.run_once("audit")
    t.eq(st["quarantined"], 1, "the auditor quarantines the flipped byte")
    t.ok(st["checked"] >= 10, "the auditor read the node's objects (%d)" %
         st["checked"])
    t.eq(backend_get(victim, vdev, part, acct, "c", o)[0], 404,
         "the quarantined replica is gone")
    t.ok(glob.glob(os.path.join(victim.devroot, vdev, "quarantined",
                                "objects", h + "*")), "it is in quarantined/")
    replicate_all(cl, nodes)
    st, hd, body = backend_get(victim, vdev, part, acct, "c", o)
    t.eq((st, md5(body)), (200, md5(bodies[o])),
         "replication restored the replica")
    with open(os.path.join(hash_dirs(victim, vdev, h)[0], data[0]), "rb") as f:
        restored = f.read()
    other, odev = prim[0]
    with open(os.path.join(hash_dirs(other, odev, h)[0], data[0]), "rb") as f:
        t.ok(restored == f.read(), "the restored .data is byte-identical to "
             "another replica's")
    t.eq(victim.run_once("audit")["quarantined"], 0,
         "a second audit finds nothing")

    # ---- (c) a DELETE while a primary is down: the tombstone wins
    dels = [x for x in names[1:] if down in [n for n, _ in
                                            cl.locate(acct, "c", x)[1]]][:3]
    down.stop()
    for x in dels:
        st = req("DELETE", path + "/c/" + x)[0]
        t.eq(st, 204, "DELETE %s with a primary down" % x)
    down.start()
    for x in dels:
        part, prim, hand = cl.locate(acct, "c", x)
        h = cl.hash_of(acct, "c", x)
        ddev = [d for n, d in prim if n is down][0]
        t.ok(any(f.endswith(".data") for f in files_of(down, ddev, h)),
             "%s: the restarted node still has the old data" % x)
    replicate_all(cl, nodes)
    for x in dels:
        part, prim, hand = cl.locate(acct, "c", x)
        h = cl.hash_of(acct, "c", x)
        kinds = [[f.rsplit(".", 1)[1] for f in files_of(n, d, h)]
                 for n, d in prim]
        t.eq(kinds, [["ts"]] * 3, "%s: a tombstone alone on every primary"
             % x)
        t.eq(sum(len(files_of(n, d, h)) for n, d in hand), 0,
             "%s: nothing on handoffs" % x)
        t.eq(req("GET", path + "/c/" + x)[0], 404, "%s: GET 404" % x)

t.done()
