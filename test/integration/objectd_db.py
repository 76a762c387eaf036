#!/usr/bin/python3
# tier: quick
"""cairn-objectd, container and account roles: PUT/POST/HEAD/GET/DELETE,
object rows, container reports, listings checked against expected output,
and the statuses Swift's container and account servers give."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()

with Cluster(t) as cl:
    n = cl.objectd(devices=["sdb1"], conf={"db_fsync": "false"})
    A = "/sdb1/3/acct"
    C = A + "/cont"

    # ---- account
    st, _, _ = n.acct("PUT", A, headers={"X-Timestamp": cl.ts(),
                                         "X-Account-Meta-Owner": "me"})
    t.eq(st, 201, "account PUT: 201")
    st, _, _ = n.acct("PUT", A, headers={"X-Timestamp": cl.ts()})
    t.eq(st, 202, "account PUT again: 202")
    st, h, _ = n.acct("HEAD", A)
    t.eq((st, h.get("x-account-container-count"), h.get("x-account-meta-owner")),
         (204, "0", "me"), "account HEAD: 204 with counts and metadata")
    st, _, _ = n.acct("HEAD", "/sdb1/3/nobody")
    t.eq(st, 404, "HEAD of a missing account: 404")
    st, _, _ = n.acct("PUT", A, headers={})
    t.eq(st, 400, "account PUT without X-Timestamp: 400")

    # ---- container
    st, _, _ = n.cont("PUT", C, headers=dict(
        {"X-Timestamp": cl.ts(), "X-Container-Meta-Color": "red"},
        **n.acct_target("sdb1", 3)))
    t.eq(st, 201, "container PUT: 201")
    st, _, _ = n.cont("PUT", C, headers={"X-Timestamp": cl.ts()})
    t.eq(st, 202, "container PUT again: 202")
    st, h, _ = n.cont("HEAD", C)
    t.eq((st, h.get("x-container-object-count"), h.get("x-container-meta-color")),
         (204, "0", "red"), "container HEAD: 204, count 0, metadata")
    t.ok("x-backend-put-timestamp" in h and "x-backend-delete-timestamp" in h,
         "container HEAD carries the X-Backend timestamps")
    st, _, body = n.acct("GET", A + "?format=json")
    t.eq((st, [c["name"] for c in json.loads(body or b"[]")]), (200, ["cont"]),
         "the container PUT reported itself to the account")

    # ---- rows
    rows = [("a/1", 10, "text/plain"), ("a/2", 20, "text/plain"),
            ("b", 30, "image/png"), ("c;d", 5, "text/x"), ("\u00e9t\u00e9", 1,
                                                        "t/t")]
    stamps = {}
    for name, size, ct in rows:
        ts = cl.ts()
        stamps[name] = ts
        from urllib.parse import quote  # noqa: E402
        st, _, _ = n.cont("PUT", C + "/" + quote(name), headers={
            "X-Timestamp": ts, "X-Size": str(size), "X-Content-Type": ct,
            "X-Etag": "%032x" % size})
        t.eq(st, 201, "object row PUT %r: 201" % name)
    st, h, _ = n.cont("HEAD", C)
    t.eq((h.get("x-container-object-count"), h.get("x-container-bytes-used")),
         ("5", "66"), "counts and bytes follow the rows")

    import datetime  # noqa: E402

    def iso(ts):
        d = datetime.datetime.fromtimestamp(float(ts), datetime.timezone.utc)
        return d.strftime("%Y-%m-%dT%H:%M:%S.%f")

    want = [{"name": nm, "bytes": sz, "content_type": ct, "hash": "%032x" % sz,
             "last_modified": iso(stamps[nm])} for nm, sz, ct in sorted(rows)]
    st, h, body = n.cont("GET", C + "?format=json")
    t.eq(st, 200, "listing: 200")
    t.eq(h.get("content-type"), "application/json; charset=utf-8",
         "json Content-Type")
    t.eq(json.loads(body), want, "json listing equals the expected entries")
    st, h, body = n.cont("GET", C)
    t.eq((st, body.decode()), (200, "".join(r[0] + "\n" for r in sorted(rows))),
         "plain listing")
    st, _, body = n.cont("GET", C + "?format=json&prefix=a/")
    t.eq([e["name"] for e in json.loads(body)], ["a/1", "a/2"], "prefix")
    st, _, body = n.cont("GET", C + "?format=json&delimiter=/")
    t.eq([e.get("name") or e.get("subdir") for e in json.loads(body)],
         ["a/", "b", "c;d", "\u00e9t\u00e9"], "delimiter gives subdir entries")
    st, _, body = n.cont("GET", C + "?marker=a/2&end_marker=c")
    t.eq(body, b"b\n", "marker and end_marker")
    st, _, body = n.cont("GET", C + "?limit=2&reverse=on")
    t.eq(body.decode(), "\u00e9t\u00e9\nc;d\n", "reverse with limit")
    st, _, body = n.cont("GET", C + "?limit=10001")
    t.eq(st, 412, "limit above 10000: 412")
    st, h, body = n.cont("GET", C + "?format=xml&prefix=b")
    t.ok(st == 200 and h.get("content-type") == "application/xml; charset=utf-8"
         and body.startswith(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                             b"<container name=\"cont\"><object><name>b</name>"),
         "xml listing")
    st, _, body = n.cont("GET", C + "?prefix=zzz")
    t.eq((st, body), (204, b""), "empty plain listing: 204")
    st, _, body = n.cont("GET", C + "?format=json&prefix=zzz")
    t.eq((st, body), (200, b"[]"), "empty json listing: 200 []")

    # ---- a newer row replaces, an older one does not
    st, _, _ = n.cont("PUT", C + "/b", headers={
        "X-Timestamp": cl.ts(), "X-Size": "31", "X-Content-Type": "image/png",
        "X-Etag": "e" * 32})
    st, _, _ = n.cont("PUT", C + "/b", headers={
        "X-Timestamp": "1000000000.00000", "X-Size": "99",
        "X-Content-Type": "old/old", "X-Etag": "0" * 32})
    st, _, body = n.cont("GET", C + "?format=json&prefix=b")
    t.eq(json.loads(body)[0]["bytes"], 31, "newest row timestamp wins")

    # ---- account roll-up of the totals
    from cluster import wait_for  # noqa: E402
    wait_for(lambda: n.acct("HEAD", A)[1].get("x-account-object-count") == "5",
             20, "account totals")
    st, h, _ = n.acct("HEAD", A)
    t.eq((h.get("x-account-object-count"), h.get("x-account-bytes-used")),
         ("5", "67"), "container totals rolled up to the account")
    st, _, body = n.acct("GET", A + "?format=json")
    e = json.loads(body)[0]
    t.eq((e["name"], e["count"], e["bytes"]), ("cont", 5, 67),
         "account listing shows the container's totals")

    # ---- POST
    st, _, _ = n.cont("POST", C, headers={"X-Timestamp": cl.ts(),
                                          "X-Container-Meta-Color": "",
                                          "X-Container-Meta-Size": "L"})
    t.eq(st, 204, "container POST: 204")
    st, h, _ = n.cont("HEAD", C)
    t.ok(h.get("x-container-meta-size") == "L" and
         "x-container-meta-color" not in h, "POST sets and removes metadata")
    st, _, _ = n.cont("POST", A + "/none", headers={"X-Timestamp": cl.ts()})
    t.eq(st, 404, "POST on a missing container: 404")
    st, _, _ = n.acct("POST", A, headers={"X-Timestamp": cl.ts(),
                                          "X-Account-Meta-Owner": "you"})
    t.eq(st, 204, "account POST: 204")

    # ---- DELETE
    st, _, _ = n.cont("DELETE", C, headers={"X-Timestamp": cl.ts()})
    t.eq(st, 409, "DELETE of a non-empty container: 409")
    for name, _, _ in rows:
        st, _, _ = n.cont("DELETE", C + "/" + quote(name),
                          headers={"X-Timestamp": cl.ts()})
        t.eq(st, 204, "object row DELETE %r: 204" % name)
    st, _, _ = n.cont("DELETE", C, headers=dict({"X-Timestamp": cl.ts()},
                                               **n.acct_target("sdb1", 3)))
    t.eq(st, 204, "DELETE of the empty container: 204")
    st, h, _ = n.cont("HEAD", C)
    t.ok(st == 404 and "x-backend-delete-timestamp" in h,
         "HEAD of a deleted container: 404 with X-Backend timestamps")
    st, _, _ = n.cont("DELETE", C, headers={"X-Timestamp": cl.ts()})
    t.eq(st, 404, "DELETE of a deleted container: 404")
    st, _, _ = n.cont("PUT", A + "/none/o", headers={
        "X-Timestamp": cl.ts(), "X-Size": "1", "X-Content-Type": "t/t",
        "X-Etag": "0" * 32})
    t.eq(st, 404, "object row for a missing container: 404")
    wait_for(lambda: n.acct("GET", A + "?format=json")[2] == b"[]", 20,
             "account forgets the container")
    t.ok(True, "the deleted container left the account listing")
    st, _, _ = n.acct("DELETE", A, headers={"X-Timestamp": cl.ts()})
    t.eq(st, 204, "account DELETE: 204")
    st, h, _ = n.acct("HEAD", A)
    t.eq((st, h.get("x-account-status")), (404, "Deleted"),
         "deleted account: 404 with X-Account-Status")
    st, _, _ = n.cont("PUT", "/sdb1/4/ghost/c", headers=dict(
        {"X-Timestamp": cl.ts()}, **n.acct_target("sdb1", 4)))
    t.eq(st, 404, "container PUT whose account answers 404: 404, as Swift")
    cl.expect_log(r"failed: .*saved for the updater")
    st, _, _ = n.cont("GET", "/sdb1/3")
    t.eq(st, 400, "container role with a short path: 400")
    st, _, _ = n.cont("GET", "/sdz1/3/a/c")
    t.eq(st, 507, "container on a missing device: 507")

t.done()
