#!/usr/bin/python3
# tier: quick
"""cairn-proxy in front of four cairn-objectd (127.0.0.1-4, three replicas):
auth v1.0, every verb on accounts, containers and objects, listings,
metadata, COPY and X-Copy-From, Range, conditionals, Content-Type guessing,
X-Delete-After, trans-ids, /info and /healthcheck."""
import hashlib
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
TXN = re.compile(r"^tx[0-9a-f]{21}-[0-9a-f]{10}$")


def md5(b):
    return hashlib.md5(b).hexdigest()


with Cluster(t) as cl:
    cl.storage_cluster()
    p = cl.proxy()

    # ---- /healthcheck, /info
    st, h, b = p.request("GET", "/healthcheck")
    t.eq((st, b), (200, b"OK"), "/healthcheck answers 200 OK")
    t.ok(TXN.match(h.get("x-trans-id", "")), "X-Trans-Id has Swift's shape")
    t.eq(h.get("x-openstack-request-id"), h.get("x-trans-id"),
         "X-Openstack-Request-Id equals X-Trans-Id")
    st, h, b = p.request("GET", "/info")
    info = json.loads(b)
    t.eq(st, 200, "/info answers 200 without a token")
    t.eq(info["swift"]["max_file_size"], 5368709122,
         "/info publishes cairn.conf's constraints")
    t.eq(info["swift"]["container_listing_limit"], 10000,
         "/info has the listing limit")

    # ---- auth
    st, h, _ = p.request("GET", "/auth/v1.0", headers={
        "X-Auth-User": "test:tester", "X-Auth-Key": "testing"})
    t.eq(st, 200, "auth with the right key answers 200")
    t.ok(h.get("x-auth-token", "").startswith("AUTH_tk"), "token issued")
    t.eq(h.get("x-storage-token"), h.get("x-auth-token"),
         "X-Storage-Token is the token too")
    t.eq(h.get("x-storage-url"), "http://%s:%d/v1/AUTH_test" % (p.ip, p.port),
         "X-Storage-Url names the account")
    t.ok(int(h.get("x-auth-token-expires", "0")) > 80000,
         "X-Auth-Token-Expires is about a day")
    st, h, _ = p.request("GET", "/auth/v1.0/", headers={
        "X-Storage-User": "test:tester", "X-Storage-Pass": "testing"})
    t.eq(st, 200, "X-Storage-User/-Pass on /auth/v1.0/ works too")
    st, h, _ = p.request("GET", "/auth/v1.0", headers={
        "X-Auth-User": "test:tester", "X-Auth-Key": "wrong"})
    t.eq(st, 401, "a wrong key answers 401")
    t.eq(h.get("www-authenticate"), 'Swift realm="unknown"',
         "with tempauth's realm")
    path, tok = p.auth()
    H = {"X-Auth-Token": tok}

    def req(m, u, body=None, headers=None):
        hh = dict(H)
        hh.update(headers or {})
        return p.request(m, u, body=body, headers=hh)

    st, _, _ = p.request("GET", path)
    t.eq(st, 401, "no token answers 401")
    st, _, _ = p.request("GET", path, headers={"X-Auth-Token": tok + "x"})
    t.eq(st, 401, "a bad token answers 401")
    st, _, _ = p.request("GET", "/v1/AUTH_test2", headers=H)
    t.eq(st, 403, "another account with a valid token answers 403")

    # ---- account (autocreate: a new account reads as empty)
    st, h, _ = req("HEAD", path)
    t.eq(st, 200, "HEAD of a new account answers 200 (as Swift's autocreate)")
    t.eq(h.get("x-account-container-count"), "0", "with zero containers")
    st, h, b = req("GET", path + "?format=json")
    t.eq((st, b), (200, b"[]"), "JSON listing of a new account is []")
    st, h, b = req("GET", path)
    t.eq((st, h.get("vary")), (204, "Accept"), "plain listing of it is a 204")
    st, h, b = req("GET", path + "?format=xml")
    t.eq(b, b'<?xml version="1.0" encoding="UTF-8"?>\n'
         b'<account name="AUTH_test">\n</account>', "XML listing of it")

    st, _, _ = req("POST", path, headers={"X-Account-Meta-Color": "red"})
    t.eq(st, 204, "account POST creates the account (autocreate): 204")
    st, h, _ = req("HEAD", path)
    t.eq((st, h.get("x-account-meta-color")), (204, "red"),
         "the account now exists with its metadata")
    st, _, _ = req("POST", path, headers={"X-Remove-Account-Meta-Color": "x",
                                          "X-Account-Meta-Size": "big"})
    st, h, _ = req("HEAD", path)
    t.eq((h.get("x-account-meta-color"), h.get("x-account-meta-size")),
         (None, "big"), "account POST merges and removes metadata")

    # ---- containers
    st, _, _ = req("PUT", path + "/c1", headers={"X-Container-Meta-Color":
                                                 "red"})
    t.eq(st, 201, "container PUT answers 201")
    st, _, _ = req("PUT", path + "/c1")
    t.eq(st, 202, "container PUT again answers 202")
    st, h, _ = req("HEAD", path + "/c1")
    t.eq(st, 204, "container HEAD answers 204")
    t.eq(h.get("x-container-meta-color"), "red", "container metadata kept")
    t.eq(h.get("x-container-object-count"), "0", "no objects yet")
    t.ok(h.get("content-type", "").startswith("text/plain"),
         "container HEAD has a listing Content-Type")
    st, _, _ = req("POST", path + "/c1", headers={
        "X-Container-Meta-Size": "big", "X-Remove-Container-Meta-Color": "x"})
    t.eq(st, 204, "container POST answers 204")
    st, h, _ = req("HEAD", path + "/c1")
    t.eq((h.get("x-container-meta-size"), h.get("x-container-meta-color")),
         ("big", None), "POST merged and removed metadata")
    st, _, _ = req("POST", path + "/nosuch")
    t.eq(st, 404, "POST to a missing container answers 404")
    st, _, _ = req("HEAD", path + "/nosuch")
    t.eq(st, 404, "HEAD of a missing container answers 404")
    st, _, b = req("PUT", path + "/cp", headers={"X-Storage-Policy": "gold"})
    t.eq((st, b), (400, b"Invalid X-Storage-Policy 'gold'"),
         "an unknown storage policy answers 400")
    st, h, _ = req("PUT", path + "/cp", headers={"X-Storage-Policy":
                                                 "policy-0"})
    t.eq(st, 201, "the one policy is accepted by name")
    st, h, _ = req("HEAD", path + "/cp")
    t.eq(h.get("x-storage-policy"), "Policy-0", "HEAD names the policy")
    req("DELETE", path + "/cp")
    st, _, _ = req("PUT", path + "/" + "x" * 257)
    t.eq(st, 400, "a container name over 256 answers 400")

    # ---- objects
    body = os.urandom(200000)
    st, h, _ = req("PUT", path + "/c1/dir/photo.jpg", body=body,
                   headers={"X-Object-Meta-Mtime": "1795251665.042291"})
    t.eq(st, 201, "object PUT answers 201")
    t.eq(h.get("etag"), md5(body), "PUT answers the unquoted MD5")
    t.ok(h.get("last-modified"), "PUT answers Last-Modified")
    st, h, got = req("GET", path + "/c1/dir/photo.jpg")
    t.eq(st, 200, "object GET answers 200")
    t.ok(got == body, "GET returns the bytes")
    t.eq(h.get("content-type"), "image/jpeg", "Content-Type guessed from name")
    t.eq(h.get("etag"), md5(body), "GET ETag unquoted")
    t.eq(h.get("x-object-meta-mtime"), "1795251665.042291",
         "metadata round-trips byte for byte")
    t.eq(h.get("content-length"), str(len(body)), "Content-Length")
    t.eq(h.get("accept-ranges"), "bytes", "Accept-Ranges")
    st, h, got = req("HEAD", path + "/c1/dir/photo.jpg")
    t.eq((st, got, h.get("content-length")), (200, b"", str(len(body))),
         "HEAD gives the length and no body")
    st, h, _ = req("PUT", path + "/c1/typed", body=b"x",
                   headers={"Content-Type": "text/x-mine"})
    st, h, _ = req("HEAD", path + "/c1/typed")
    t.eq(h.get("content-type"), "text/x-mine", "a sent Content-Type is kept")
    st, h, _ = req("PUT", path + "/c1/bad-etag", body=b"abc",
                   headers={"ETag": md5(b"abd")})
    t.eq(st, 422, "a wrong ETag answers 422")
    st, _, _ = req("HEAD", path + "/c1/bad-etag")
    t.eq(st, 404, "and nothing was stored")
    st, _, _ = req("PUT", path + "/nosuch/o", body=b"x")
    t.eq(st, 404, "PUT into a missing container answers 404")

    # chunked upload
    c = p.conn()
    c.putrequest("PUT", path + "/c1/chunked")
    c.putheader("X-Auth-Token", tok)
    c.putheader("Transfer-Encoding", "chunked")
    c.endheaders()
    for piece in (b"a" * 70000, b"b" * 5, b"c" * 100000):
        c.send(b"%x\r\n%s\r\n" % (len(piece), piece))
    c.send(b"0\r\n\r\n")
    r = c.getresponse()
    r.read()
    c.close()
    want = b"a" * 70000 + b"b" * 5 + b"c" * 100000
    t.eq((r.status, r.getheader("etag")), (201, md5(want)),
         "chunked PUT answers 201 with the MD5")
    st, _, got = req("GET", path + "/c1/chunked")
    t.ok(got == want, "chunked upload reads back")

    # ranges and conditionals
    st, h, got = req("GET", path + "/c1/dir/photo.jpg",
                     headers={"Range": "bytes=10-19"})
    t.eq((st, got, h.get("content-range")),
         (206, body[10:20], "bytes 10-19/%d" % len(body)), "single range")
    st, h, got = req("GET", path + "/c1/dir/photo.jpg",
                     headers={"Range": "bytes=0-0,-2"})
    t.eq(st, 206, "multi-range answers 206")
    t.ok(h.get("content-type", "").startswith("multipart/byteranges"),
         "as multipart/byteranges")
    t.ok(body[-2:] in got and len(got) > 3, "with both parts")
    st, h, _ = req("GET", path + "/c1/dir/photo.jpg",
                   headers={"Range": "bytes=%d-" % (len(body) + 5)})
    t.eq(st, 416, "unsatisfiable range answers 416")
    st, _, _ = req("GET", path + "/c1/dir/photo.jpg",
                   headers={"If-None-Match": md5(body)})
    t.eq(st, 304, "If-None-Match hit answers 304")
    st, _, _ = req("GET", path + "/c1/dir/photo.jpg",
                   headers={"If-Match": "nope"})
    t.eq(st, 412, "If-Match miss answers 412")
    st, _, _ = req("PUT", path + "/c1/dir/photo.jpg", body=b"x",
                   headers={"If-None-Match": "*"})
    t.eq(st, 412, "If-None-Match: * on an existing object answers 412")
    st, _, _ = req("PUT", path + "/c1/x", body=b"x",
                   headers={"If-None-Match": "abc"})
    t.eq(st, 400, "If-None-Match other than * on PUT answers 400")

    # POST replaces metadata
    st, _, _ = req("POST", path + "/c1/dir/photo.jpg",
                   headers={"X-Object-Meta-New": "1"})
    t.eq(st, 202, "object POST answers 202")
    st, h, _ = req("HEAD", path + "/c1/dir/photo.jpg")
    t.eq((h.get("x-object-meta-new"), h.get("x-object-meta-mtime")),
         ("1", None), "POST replaced the user metadata")
    st, _, _ = req("POST", path + "/c1/nosuch", headers={})
    t.eq(st, 404, "POST to a missing object answers 404")

    # COPY and X-Copy-From
    st, h, _ = req("COPY", path + "/c1/dir/photo.jpg",
                   headers={"Destination": "/c1/copy1",
                            "X-Object-Meta-Extra": "e"})
    t.eq(st, 201, "COPY answers 201")
    t.eq(h.get("x-copied-from"), "c1/dir/photo.jpg", "X-Copied-From")
    st, h, got = req("GET", path + "/c1/copy1")
    t.ok(got == body, "the copy has the bytes")
    t.eq((h.get("x-object-meta-new"), h.get("x-object-meta-extra"),
          h.get("content-type")), ("1", "e", "image/jpeg"),
         "source metadata overlaid by the request's")
    st, _, _ = req("PUT", path + "/c1/copy2", body=b"",
                   headers={"X-Copy-From": "c1/dir/photo.jpg"})
    t.eq(st, 201, "PUT with X-Copy-From answers 201")
    st, _, got = req("GET", path + "/c1/copy2")
    t.ok(got == body, "X-Copy-From copied the bytes")
    st, _, _ = req("COPY", path + "/c1/dir/photo.jpg",
                   headers={"Destination": "nocontainerslash"})
    t.eq(st, 412, "a malformed Destination answers 412")
    st, _, _ = req("COPY", path + "/c1/nosuch",
                   headers={"Destination": "c1/z"})
    t.eq(st, 404, "COPY of a missing source answers 404")

    # X-Delete-After
    st, _, _ = req("PUT", path + "/c1/exp", body=b"x",
                   headers={"X-Delete-After": "1000"})
    st, h, _ = req("HEAD", path + "/c1/exp")
    t.ok(h.get("x-delete-at", "").isdigit(), "X-Delete-After becomes "
         "X-Delete-At")
    st, _, b = req("PUT", path + "/c1/exp", body=b"x",
                   headers={"X-Delete-After": "soon"})
    t.eq((st, b), (400, b"Non-integer X-Delete-After"),
         "a bad X-Delete-After answers 400")
    st, _, b = req("PUT", path + "/c1/exp", body=b"x",
                   headers={"X-Delete-At": "1000"})
    t.eq((st, b), (400, b"X-Delete-At in past"), "a past X-Delete-At: 400")

    # ---- listings
    st, h, b = req("GET", path + "/c1?format=json")
    names = [o["name"] for o in json.loads(b)]
    t.eq(names, sorted(["chunked", "copy1", "copy2", "dir/photo.jpg",
                        "exp", "typed"]), "JSON container listing")
    st, _, b = req("GET", path + "/c1?delimiter=/")
    t.eq(b.decode().split("\n")[:3], ["chunked", "copy1", "copy2"],
         "plain listing")
    t.ok("dir/" in b.decode().split("\n"), "delimiter rolls up dir/")
    st, _, b = req("GET", path + "/c1?prefix=dir/&format=json")
    t.eq([o["name"] for o in json.loads(b)], ["dir/photo.jpg"], "prefix")
    st, _, b = req("GET", path + "/c1?marker=typed&format=json")
    t.eq((st, b), (200, b"[]"), "an empty page after the last item")
    st, _, b = req("GET", path + "/c1?limit=10001")
    t.eq(st, 412, "limit over 10000 answers 412")
    st, _, b = req("GET", path + "?format=json")
    t.eq([c["name"] for c in json.loads(b)], ["c1"], "account listing")

    # ---- deletes
    st, _, _ = req("DELETE", path + "/c1")
    t.eq(st, 409, "DELETE of a non-empty container answers 409")
    for o in ("chunked", "copy1", "copy2", "dir/photo.jpg", "exp", "typed"):
        st, _, _ = req("DELETE", path + "/c1/" + o)
        if st != 204:
            break
    t.eq(st, 204, "object DELETE answers 204")
    st, _, _ = req("DELETE", path + "/c1/typed")
    t.eq(st, 404, "DELETE of a missing object answers 404")
    st, _, _ = req("GET", path + "/c1/typed")
    t.eq(st, 404, "GET of a deleted object answers 404")
    st, _, _ = req("DELETE", path + "/c1")
    t.eq(st, 204, "DELETE of the empty container answers 204")
    st, _, _ = req("HEAD", path + "/c1")
    t.eq(st, 404, "and it is gone")

    # ---- methods
    st, h, _ = req("PATCH", path + "/c1")
    t.eq(st, 405, "an unknown method answers 405")
    t.ok("GET" in h.get("allow", ""), "with Allow")
    st, h, _ = req("PUT", path)
    t.eq(st, 405, "account PUT without allow_account_management: 405")
    t.eq(h.get("allow"), "GET, OPTIONS, POST, HEAD", "Allow without PUT")
    st, h, _ = p.request("OPTIONS", path + "/c1/o")
    t.eq((st, h.get("allow")),
         (200, "GET, OPTIONS, DELETE, PUT, POST, HEAD, COPY"),
         "OPTIONS without a token answers 200 with Allow")
    st, h, _ = p.request("OPTIONS", path + "/c1", headers={
        "Origin": "http://example.com"})
    t.eq(st, 401, "a CORS preflight is refused (no CORS metadata support)")

t.done()
