#!/usr/bin/python3
# tier: quick
"""cairn-objectd, object role: every verb and the statuses Swift's object
server gives, ranges, conditionals, metadata, X-Delete-At, stale writes.
Starts one real cairn-objectd on 127.0.0.1 and speaks HTTP to it."""
import hashlib
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()


def md5(b):
    return hashlib.md5(b).hexdigest()


with Cluster(t) as cl:
    n = cl.objectd(devices=["sda1"])
    P = "/sda1/7/a/c/o"
    body = os.urandom(100000)
    ts1 = cl.ts()

    # ---- PUT
    st, h, _ = n.obj("PUT", P, body=body, headers={
        "X-Timestamp": ts1, "Content-Type": "application/x-test",
        "X-Object-Meta-Color": "blue", "Content-Disposition": "inline",
        "X-Unknown": "dropped"})
    t.eq(st, 201, "PUT answers 201")
    t.eq(h.get("etag"), '"%s"' % md5(body), "PUT answers the body's MD5 as ETag")

    # ---- GET / HEAD
    st, h, got = n.obj("GET", P)
    t.eq(st, 200, "GET answers 200")
    t.ok(got == body, "GET returns the bytes that were PUT")
    t.eq(h.get("content-type"), "application/x-test", "Content-Type kept")
    t.eq(h.get("x-object-meta-color"), "blue", "user metadata kept")
    t.eq(h.get("content-disposition"), "inline", "allowed header kept")
    t.ok("x-unknown" not in h, "other headers are not kept")
    t.eq(h.get("x-timestamp"), ts1, "X-Timestamp is the PUT's")
    t.eq(h.get("x-backend-timestamp"), ts1, "X-Backend-Timestamp")
    t.eq(h.get("content-length"), str(len(body)), "Content-Length")
    t.ok(h.get("last-modified", "").endswith("GMT"), "Last-Modified")
    st, h, got = n.obj("HEAD", P)
    t.eq((st, got, h.get("content-length")), (200, b"", str(len(body))),
         "HEAD: 200, no body, the GET's length")

    # ---- ranges
    st, h, got = n.obj("GET", P, headers={"Range": "bytes=10-19"})
    t.eq((st, got), (206, body[10:20]), "single range: 206 with the bytes")
    t.eq(h.get("content-range"), "bytes 10-19/%d" % len(body), "Content-Range")
    st, h, got = n.obj("GET", P, headers={"Range": "bytes=-5"})
    t.eq((st, got), (206, body[-5:]), "suffix range")
    st, h, got = n.obj("GET", P, headers={"Range": "bytes=5-9,50-59"})
    t.eq(st, 206, "multi range: 206")
    ct = h.get("content-type", "")
    t.ok(ct.startswith("multipart/byteranges;boundary="), "multipart type")
    t.eq(h.get("content-length"), str(len(got)), "exact multipart length")
    bnd = ct.split("=", 1)[1].encode()
    parts = got.split(b"--" + bnd)
    t.eq(len(parts), 4, "two parts and the closing line")
    t.ok(parts[1].endswith(b"\r\n\r\n" + body[5:10] + b"\r\n") and
         b"Content-Range: bytes 5-9/100000" in parts[1], "first part")
    t.ok(parts[2].endswith(b"\r\n\r\n" + body[50:60] + b"\r\n"), "second part")
    t.eq(parts[3], b"--", "closing boundary")
    st, h, _ = n.obj("GET", P, headers={"Range": "bytes=200000-"})
    t.eq((st, h.get("content-range")), (416, "bytes */100000"),
         "unsatisfiable range: 416")
    st, _, got = n.obj("GET", P, headers={"Range": "bytes=x-y"})
    t.eq((st, len(got)), (200, len(body)), "bad Range is ignored")
    # X-Backend-Ignore-Range-If-Metadata-Present (Swift's): the Range is
    # dropped when the object carries one of the listed metadata names
    IR = "X-Backend-Ignore-Range-If-Metadata-Present"
    st, h, got = n.obj("GET", P, headers={
        "Range": "bytes=200000-", IR: "X-Static-Large-Object, "
        "x-object-meta-COLOR"})
    t.ok(st == 200 and got == body and "content-range" not in h,
         "a listed metadata name present: the whole object, 200")
    st, h, got = n.obj("GET", P, headers={
        "Range": "bytes=10-19", IR: "X-Object-Manifest,X-Static-Large-Object"})
    t.eq((st, got), (206, body[10:20]),
         "no listed name present: the Range applies")
    st, _, _ = n.obj("GET", P, headers={"Range": "bytes=200000-",
                                        IR: "X-Object-Manifest"})
    t.eq(st, 416, "and an unsatisfiable one still answers 416")

    # ---- conditionals
    et = md5(body)
    st, _, _ = n.obj("GET", P, headers={"If-None-Match": '"%s"' % et})
    t.eq(st, 304, "If-None-Match with the ETag: 304")
    st, _, _ = n.obj("GET", P, headers={"If-Match": '"nope"'})
    t.eq(st, 412, "If-Match with another ETag: 412")
    st, _, _ = n.obj("GET", P, headers={"If-Match": et})
    t.eq(st, 200, "If-Match with the ETag: 200")
    st, _, _ = n.obj("HEAD", P, headers={
        "If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"})
    t.eq(st, 304, "If-Modified-Since in the future: 304")
    st, _, _ = n.obj("GET", P, headers={
        "If-Unmodified-Since": "Thu, 01 Jan 1970 00:00:01 GMT"})
    t.eq(st, 412, "If-Unmodified-Since in the past: 412")
    st, _, _ = n.obj("PUT", P, body=b"x", headers={
        "X-Timestamp": cl.ts(), "Content-Type": "t/t", "If-None-Match": "*"})
    t.eq(st, 412, "PUT If-None-Match: * on an existing object: 412")
    st, _, _ = n.obj("GET", "/sda1/7/a/c/missing", headers={"If-Match": "*"})
    t.eq(st, 412, "If-Match: * on a missing object: 412")

    # ---- stale writes
    st, h, _ = n.obj("PUT", P, body=b"old", headers={
        "X-Timestamp": "%016.05f" % (float(ts1) - 10), "Content-Type": "t/t"})
    t.eq((st, h.get("x-backend-timestamp")), (409, ts1),
         "older PUT: 409 with the stored X-Backend-Timestamp")
    st, _, _ = n.obj("PUT", P, body=b"same", headers={
        "X-Timestamp": ts1, "Content-Type": "t/t"})
    t.eq(st, 409, "PUT with the same timestamp: 409")
    st, _, got = n.obj("GET", P)
    t.ok(got == body, "refused PUTs changed nothing")

    # ---- 422
    st, _, _ = n.obj("PUT", "/sda1/7/a/c/bad", body=b"abc", headers={
        "X-Timestamp": cl.ts(), "Content-Type": "t/t", "ETag": md5(b"abd")})
    t.eq(st, 422, "ETag mismatch: 422")
    st, _, _ = n.obj("HEAD", "/sda1/7/a/c/bad")
    t.eq(st, 404, "nothing stored after 422")

    # ---- chunked PUT and an empty object
    c = n.conn()
    c.putrequest("PUT", "/sda1/7/a/c/chunked")
    c.putheader("X-Timestamp", cl.ts())
    c.putheader("Content-Type", "t/t")
    c.putheader("Transfer-Encoding", "chunked")
    c.endheaders()
    for piece in (b"hello ", b"chunked ", b"world"):
        c.send(b"%x\r\n%s\r\n" % (len(piece), piece))
    c.send(b"0\r\n\r\n")
    r = c.getresponse()
    r.read()
    c.close()
    t.eq(r.status, 201, "chunked PUT: 201")
    st, _, got = n.obj("GET", "/sda1/7/a/c/chunked")
    t.eq(got, b"hello chunked world", "chunked body stored")
    st, h, got = n.obj("PUT", "/sda1/7/a/c/empty", body=b"", headers={
        "X-Timestamp": cl.ts(), "Content-Type": "t/t"})
    t.eq(st, 201, "empty PUT: 201")
    st, h, got = n.obj("GET", "/sda1/7/a/c/empty")
    t.eq((st, got, h.get("etag")), (200, b"", '"%s"' % md5(b"")),
         "empty object reads back")

    # ---- POST
    ts2 = cl.ts()
    st, _, _ = n.obj("POST", P, headers={"X-Timestamp": ts2,
                                         "X-Object-Meta-Shape": "round"})
    t.eq(st, 202, "POST: 202")
    st, h, got = n.obj("GET", P)
    t.ok(h.get("x-object-meta-shape") == "round" and
         "x-object-meta-color" not in h, "POST replaces user metadata")
    t.eq(h.get("content-type"), "application/x-test",
         "POST without Content-Type keeps it")
    t.eq(h.get("x-timestamp"), ts2, "X-Timestamp is the POST's")
    t.ok(got == body, "POST does not touch the body")
    st, _, _ = n.obj("POST", P, headers={"X-Timestamp": ts1})
    t.eq(st, 409, "older POST: 409")
    st, _, _ = n.obj("POST", "/sda1/7/a/c/missing",
                     headers={"X-Timestamp": cl.ts()})
    t.eq(st, 404, "POST on a missing object: 404")

    # ---- X-Delete-At
    now = int(time.time())
    st, _, _ = n.obj("PUT", "/sda1/7/a/c/exp", body=b"soon", headers={
        "X-Timestamp": cl.ts(), "Content-Type": "t/t",
        "X-Delete-At": str(now + 2)})
    t.eq(st, 201, "PUT with X-Delete-At: 201")
    st, h, _ = n.obj("HEAD", "/sda1/7/a/c/exp")
    t.eq((st, h.get("x-delete-at")), (200, str(now + 2)),
         "X-Delete-At is returned")
    from cluster import wait_for  # noqa: E402
    wait_for(lambda: n.obj("GET", "/sda1/7/a/c/exp")[0] == 404, 10,
             "expiry")
    t.ok(True, "an expired object reads as 404")
    st, _, _ = n.obj("PUT", "/sda1/7/a/c/past", body=b"x", headers={
        "X-Timestamp": cl.ts(), "Content-Type": "t/t",
        "X-Delete-At": str(now - 100)})
    t.eq(st, 400, "X-Delete-At in the past: 400")

    # ---- DELETE
    ts3 = cl.ts()
    st, h, _ = n.obj("DELETE", P, headers={"X-Timestamp": ts3})
    t.eq((st, h.get("x-backend-timestamp")), (204, ts3), "DELETE: 204")
    st, h, _ = n.obj("GET", P)
    t.eq((st, h.get("x-backend-timestamp")), (404, ts3),
         "GET after DELETE: 404 with the tombstone's timestamp")
    st, _, _ = n.obj("DELETE", P, headers={"X-Timestamp": cl.ts()})
    t.eq(st, 404, "DELETE of a deleted object: 404")
    st, _, _ = n.obj("PUT", P, body=b"x", headers={"X-Timestamp": ts3,
                                                   "Content-Type": "t/t"})
    t.eq(st, 409, "PUT at the tombstone's timestamp: 409")
    st, _, _ = n.obj("PUT", P, body=b"again", headers={
        "X-Timestamp": cl.ts(), "Content-Type": "t/t"})
    t.eq(st, 201, "newer PUT over a tombstone: 201")
    st, _, _ = n.obj("DELETE", P, headers={"X-Timestamp": ts1})
    t.eq(st, 409, "older DELETE: 409")

    # ---- bad requests
    st, _, _ = n.obj("PUT", "/sda1/7/a/c/nots", body=b"x",
                     headers={"Content-Type": "t/t"})
    t.eq(st, 400, "PUT without X-Timestamp: 400")
    st, _, _ = n.obj("PUT", "/sda1/7/a/c/badts", body=b"x",
                     headers={"Content-Type": "t/t", "X-Timestamp": "yesterday"})
    t.eq(st, 400, "PUT with a bad X-Timestamp: 400")
    st, _, _ = n.obj("PUT", "/sda1/7/a/c/noct", body=b"x",
                     headers={"X-Timestamp": cl.ts()})
    t.eq(st, 400, "PUT without Content-Type: 400")
    st, _, _ = n.obj("GET", "/sda1/7/a/c")
    t.eq(st, 400, "object path without object: 400")
    st, _, _ = n.obj("GET", "/sda1/x/a/c/o")
    t.eq(st, 400, "non-numeric partition: 400")
    st, _, _ = n.obj("GET", "/sdz9/7/a/c/o")
    t.eq(st, 507, "unknown device: 507")
    st, _, _ = n.obj("PUT", "/sdz9/7/a/c/o", body=b"x",
                     headers={"X-Timestamp": cl.ts(), "Content-Type": "t/t"})
    t.eq(st, 507, "PUT to an unknown device: 507")
    st, h, _ = n.obj("PATCH", P)
    t.eq(st, 405, "unknown method: 405")
    st, _, _ = n.obj("GET", "/sda1/7/a/c/%FF")
    t.eq(st, 412, "invalid UTF-8 in the path: 412")
    st, _, _ = n.obj("PUT", "/sda1/7/a/c/big", body=b"x", headers={
        "X-Timestamp": cl.ts(), "Content-Type": "t/t",
        "X-Object-Meta-" + "k" * 200: "v"})
    t.eq(st, 400, "metadata name too long: 400")

    # ---- a corrupt body is quarantined and never served whole
    cb = os.urandom(200000)
    st, _, _ = n.obj("PUT", "/sda1/7/a/c/rot", body=cb, headers={
        "X-Timestamp": cl.ts(), "Content-Type": "t/t"})
    import glob  # noqa: E402
    data = glob.glob(os.path.join(n.devroot, "sda1", "objects", "7", "*", "*",
                                  "*.data"))
    rot = [d for d in data if os.path.getsize(d) > 200000]
    t.eq(len(rot), 1, "the object's .data file is on disk")
    with open(rot[0], "r+b") as f:
        f.seek(-1, os.SEEK_END)
        last = f.read(1)
        f.seek(-1, os.SEEK_END)
        f.write(bytes([last[0] ^ 0xff]))
    st, h, got = n.obj("HEAD", "/sda1/7/a/c/rot")
    t.eq(st, 200, "HEAD does not read the body: 200")
    import http.client  # noqa: E402
    c = n.conn()
    c.request("GET", "/sda1/7/a/c/rot")
    r = c.getresponse()
    try:
        got = r.read()
        short = len(got) < len(cb)
    except http.client.IncompleteRead as e:
        short = len(e.partial) < len(cb)
    c.close()
    t.ok(r.status == 200 and short,
         "GET of the corrupt object ends short (connection closed)")
    st, _, _ = n.obj("GET", "/sda1/7/a/c/rot")
    t.eq(st, 404, "afterwards the object is gone (quarantined): 404")
    q = glob.glob(os.path.join(n.devroot, "sda1", "quarantined", "objects",
                               "*"))
    t.eq(len(q), 1, "its directory is under quarantined/objects")
    cl.expect_log(r"GET /a/c/rot: read failed")

    # nothing was left in tmp/
    tmp = os.path.join(n.devroot, "sda1", "tmp")
    t.eq(os.listdir(tmp) if os.path.isdir(tmp) else [], [],
         "no temp files left behind")

t.done()
