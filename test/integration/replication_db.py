#!/usr/bin/python3
# tier: quick
"""Container and account databases converge through replication.

(d) Three container replicas that diverged (each missing rows the others
    have, one holding a newer deletion, one newer metadata) list the same
    objects, counts and metadata after one replication round; a replica
    that never heard of a container gets the whole of it (more rows than
    one batch); account replicas with different container rows converge
    too. A handoff's copies of a container and an account reach the
    primaries and are then removed from the handoff.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()

with Cluster(t) as cl:
    # no fsync: the 1100 rows below are about listings, not durability
    nodes = cl.storage_cluster(conf={"db_fsync": "false"})
    A, C = "AUTH_rep", "box"
    apart, aprim, _ = cl.locate(A, ring="account")
    cpart, cprim, chand = cl.locate(A, C, ring="container")

    def cpath(dev, c=C):
        return "/%s/%d/%s/%s" % (dev, cpart if c == C else
                                 cl.locate(A, c, ring="container")[0], A, c)

    for n, d in aprim:
        t.eq(n.acct("PUT", "/%s/%d/%s" % (d, apart, A),
                    headers={"X-Timestamp": cl.ts()})[0], 201,
             "account on %s" % n.name)
    create_ts = cl.ts()
    for n, d in cprim:
        t.eq(n.cont("PUT", cpath(d), headers={"X-Timestamp": create_ts})[0],
             201, "container on %s" % n.name)

    def row(n, d, name, size=3, c=C):
        return n.cont("PUT", cpath(d, c) + "/" + name, headers={
            "X-Timestamp": cl.ts(), "X-Size": str(size),
            "X-Content-Type": "text/plain", "X-Etag": "%032x" % size})[0]

    (n1, d1), (n2, d2), (n3, d3) = cprim
    t.eq(row(n1, d1, "only1"), 201, "a row on replica 1 only")
    t.eq(row(n2, d2, "only2", 5), 201, "a row on replica 2 only")
    t.eq(row(n3, d3, "only3", 7), 201, "a row on replica 3 only")
    t.eq(row(n2, d2, "gone"), 201, "a row on replica 2")
    t.eq(n3.cont("DELETE", cpath(d3) + "/gone",
                 headers={"X-Timestamp": cl.ts()})[0], 204,
         "its newer deletion on replica 3")
    t.eq(n1.cont("POST", cpath(d1), headers={
        "X-Timestamp": cl.ts(), "X-Container-Meta-Color": "green"})[0], 204,
        "newer metadata on replica 1")

    # a container only replica 1 knows, with more rows than one batch
    big = "big"
    bpart, bprim, _ = cl.locate(A, big, ring="container")
    bn, bd = bprim[0]
    t.eq(bn.cont("PUT", cpath(bd, big), headers={"X-Timestamp": cl.ts()})[0],
         201, "container 'big' on one replica")
    names = ["r%04d" % i for i in range(1100)]
    t.ok(all(row(bn, bd, x, 1, c=big) == 201 for x in names),
         "1100 rows on it")

    # account rows: a container report on one account replica only
    an, ad = aprim[0]
    t.eq(an.acct("PUT", "/%s/%d/%s/reported" % (ad, apart, A), headers={
        "X-Put-Timestamp": cl.ts(), "X-Delete-Timestamp": "0",
        "X-Object-Count": "4", "X-Bytes-Used": "40",
        "X-Timestamp": cl.ts()})[0], 201, "a container row on one account "
         "replica")

    # handoff copies (written while a primary was down): a container with
    # rows only there, and an account; once every primary has them they go
    hc = "moved"
    _, hprim, hhand = cl.locate(A, hc, ring="container")
    hn, hd = hhand[0]
    t.eq(hn.cont("PUT", cpath(hd, hc), headers={"X-Timestamp": cl.ts()})[0],
         201, "container 'moved' on a handoff only")
    t.ok(all(row(hn, hd, x, 2, c=hc) == 201 for x in ("h1", "h2")),
         "two rows on the handoff")
    ahn, ahd = cl.locate(A, ring="account")[2][0]
    t.eq(ahn.acct("PUT", "/%s/%d/%s" % (ahd, apart, A),
                  headers={"X-Timestamp": cl.ts()})[0], 201,
         "the account on a handoff")

    removed = 0
    for r in range(3):
        passes = [n.run_once("replicate") for n in nodes]
        removed += sum(p["removed"] for p in passes)
        pushed = sum(p["pushed"] for p in passes)
        if pushed == 0:
            break
    t.eq(pushed, 0, "replication converged (%d rounds)" % (r + 1))

    def listing(n, path, port):
        st, h, body = n.request("GET", path + "?format=json", port=port)
        return st, [o["name"] for o in json.loads(body or b"[]")], h

    for n, d in cprim:
        st, got, h = listing(n, cpath(d), n.cport)
        t.eq((st, got), (200, ["only1", "only2", "only3"]),
             "%s lists the union, without the deleted row" % n.name)
        t.eq((h.get("x-container-object-count"),
              h.get("x-container-bytes-used"),
              h.get("x-container-meta-color")), ("3", "15", "green"),
             "%s: counts and metadata agree" % n.name)
    for n, d in bprim:
        st, h, _ = n.cont("HEAD", cpath(d, big))
        t.eq((st, h.get("x-container-object-count")), (204, "1100"),
             "%s has all of 'big'" % n.name)
    for n, d in hprim:
        st, got, _ = listing(n, cpath(d, hc), n.cport)
        t.eq((st, got), (200, ["h1", "h2"]),
             "%s has the handoff's rows of 'moved'" % n.name)
    t.eq(hn.cont("HEAD", cpath(hd, hc))[0], 404,
         "the handoff copy of 'moved' is gone")
    t.eq(ahn.acct("HEAD", "/%s/%d/%s" % (ahd, apart, A))[0], 404,
         "the handoff copy of the account is gone")
    t.ok(removed >= 2, "the passes counted the removals (%d)" % removed)
    for n, d in aprim:
        st, got, _ = listing(n, "/%s/%d/%s" % (d, apart, A), n.aport)
        t.eq((st, got), (200, ["reported"]),
             "account replica on %s lists the container" % n.name)

t.done()
