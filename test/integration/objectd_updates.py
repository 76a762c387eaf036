#!/usr/bin/python3
# tier: quick
"""cairn-objectd container updates: an object PUT/DELETE on one node lands
in the listing of another node acting as container server; with the
container node stopped the updates are saved as async pendings, and after
it restarts the updater delivers them until the listing converges. The
container's totals roll up to the account."""
import glob
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster, wait_for  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()

with Cluster(t) as cl:
    cl.expect_log(r"failed: .*saved for the updater")
    # A PUT answers once its container updates are in, or after
    # container_update_timeout (default 1 s) with them still going on; an
    # update with no progress for node_timeout (3 s) is saved for later. A
    # loaded machine can take that long: the checks below read the listing
    # and the update connections right after each answer, so the node
    # waits for the updates however long they take.
    objn = cl.objectd(devices=["sda1"], ip="127.0.0.1",
                      conf={"updater_interval": "0.2",
                            "container_update_timeout": "120",
                            "node_timeout": "120"})
    contn = cl.objectd(devices=["sdc1"], ip="127.0.0.2",
                       conf={"db_fsync": "false"})
    A, C = "/sdc1/1/acc", "/sdc1/2/acc/box"
    st, _, _ = contn.acct("PUT", A, headers={"X-Timestamp": cl.ts()})
    t.eq(st, 201, "account created on the container node")
    st, _, _ = contn.cont("PUT", C, headers=dict({"X-Timestamp": cl.ts()},
                                                 **contn.acct_target("sdc1", 1)))
    t.eq(st, 201, "container created, naming its account")
    upd = contn.cont_target("sdc1", 2)

    def listing():
        st, _, body = contn.cont("GET", C + "?format=json")
        return {e["name"]: e for e in json.loads(body)} if st == 200 else None

    # ---- a PUT updates the container replica before it answers
    body = b"x" * 1234
    st, h, _ = objn.obj("PUT", "/sda1/9/acc/box/one", body=body, headers=dict(
        {"X-Timestamp": cl.ts(), "Content-Type": "text/plain"}, **upd))
    t.eq(st, 201, "object PUT with X-Container-* headers: 201")
    e = (listing() or {}).get("one")
    t.ok(e is not None and e["bytes"] == 1234 and e["content_type"] ==
         "text/plain" and '"%s"' % e["hash"] == h.get("etag"),
         "the row landed with size, type and etag")

    # ---- DELETE removes the row
    st, _, _ = objn.obj("DELETE", "/sda1/9/acc/box/one",
                        headers=dict({"X-Timestamp": cl.ts()}, **upd))
    t.eq(st, 204, "object DELETE: 204")
    lst = listing()
    t.ok(lst is not None and "one" not in lst, "the row is gone")

    # ---- a POST that changes Content-Type updates the row's type only
    objn.obj("PUT", "/sda1/9/acc/box/typed", body=b"abc", headers=dict(
        {"X-Timestamp": cl.ts(), "Content-Type": "text/plain"}, **upd))
    st, _, _ = objn.obj("POST", "/sda1/9/acc/box/typed", headers=dict(
        {"X-Timestamp": cl.ts(), "Content-Type": "image/gif"}, **upd))
    t.eq(st, 202, "object POST with X-Container-*: 202")
    e = (listing() or {}).get("typed") or {}
    t.eq((e.get("content_type"), e.get("bytes")), ("image/gif", 3),
         "the POST's Content-Type reached the row, size kept")
    st, _, _ = objn.obj("DELETE", "/sda1/9/acc/box/typed",
                        headers=dict({"X-Timestamp": cl.ts()}, **upd))

    # ---- the row updates above went over kept-alive connections: fewer
    # client ports than updates in the container node's access log (the
    # object node has 2 workers, each with its own idle connections)
    # (a request's access line is written after its answer went out: poll)
    def rows_logged():
        return re.findall(r'127\.0\.0\.1:(\d+) "(?:PUT|DELETE) '
                          r'/sdc1/2/acc/box/', contn.read_log())
    wait_for(lambda: len(rows_logged()) >= 5, 20, "5 row updates logged")
    rows = rows_logged()
    t.ok(len(rows) == 5 and len(set(rows)) <= 2,
         "5 row updates over at most 2 connections: %s" % rows)

    # ---- account totals follow
    objn.obj("PUT", "/sda1/9/acc/box/two", body=b"12345", headers=dict(
        {"X-Timestamp": cl.ts(), "Content-Type": "t/t"}, **upd))
    wait_for(lambda: contn.acct("HEAD", A)[1].get("x-account-bytes-used") == "5",
             20, "account roll-up")
    t.ok(True, "container totals reached the account")

    # ---- retry path: the container node is down during writes
    contn.stop()
    names = ["r%02d" % i for i in range(10)]
    codes = []
    for nm in names:
        st, _, _ = objn.obj("PUT", "/sda1/9/acc/box/" + nm, body=nm.encode(),
                            headers=dict({"X-Timestamp": cl.ts(),
                                          "Content-Type": "t/t"}, **upd))
        codes.append(st)
    t.eq(codes, [201] * len(names),
         "PUTs succeed while the container node is down")
    pend = glob.glob(os.path.join(objn.devroot, "sda1", "async_pending",
                                  "*", "*"))
    t.ok(len(pend) >= len(names), "failed updates saved as async pendings "
         "(%d files)" % len(pend))
    contn.start()
    wait_for(lambda: set(names) <= set((listing() or {}).keys()), 30,
             "listing converges")
    t.ok(True, "after the restart the listing converges")
    wait_for(lambda: not glob.glob(os.path.join(
        objn.devroot, "sda1", "async_pending", "*", "*")), 30,
        "async pendings removed")
    t.ok(True, "delivered async pendings are removed")

    def recon():
        st, _, rj = objn.obj("GET", "/recon")
        return json.loads(rj) if st == 200 else {}
    # the counter moves right after the file is gone: poll
    wait_for(lambda: recon().get("async_pending_delivered", 0) >= len(names),
             20, "recon counts")
    rc = recon()
    t.ok(rc["async_pending_saved"] >= len(names),
         "/recon counts the saved and delivered updates: %s" % rc)
    wait_for(lambda: contn.acct("HEAD", A)[1].get("x-account-object-count")
             == str(1 + len(names)), 20, "account count")
    t.ok(True, "account count converges too")

    # ---- malformed update headers: the PUT still works, no update
    st, _, _ = objn.obj("PUT", "/sda1/9/acc/box/lone", body=b"x", headers={
        "X-Timestamp": cl.ts(), "Content-Type": "t/t",
        "X-Container-Host": "127.0.0.2:1,127.0.0.2:2",
        "X-Container-Device": "sdc1", "X-Container-Partition": "2"})
    t.eq(st, 201, "unequal X-Container-* lists: PUT 201 without update")
    cl.expect_log(r"container update headers do not match")

t.done()
