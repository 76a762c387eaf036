#!/usr/bin/python3
# tier: quick
"""cairn-proxy static large objects (Swift's SLO) on a real cluster: the
manifest PUT (?multipart-manifest=put) with every check Swift makes
(parse errors as "Index N: ..." lines, segment problems found by HEAD as
"Errors:" pairs, the limits as 413, a client ETag as 422, X-Copy-From as
405), what is stored (the JSON list, X-Static-Large-Object, swift_bytes in
the listing), GET/HEAD of the assembled object (length, quoted MD5-of-ETags
ETag, X-Manifest-Etag, conditionals), Range (one, suffix, several, 416),
ranged segments, ?multipart-manifest=get (and format=raw), nested SLOs and
Swift's depth limit, segments in another container read with the caller's
rights, a segment changed or missing (409 before the first byte, a cut
response after it, never a short 200), DELETE ?multipart-manifest=delete,
COPY (the assembled body; with ?multipart-manifest=get an SLO over the same
segments), a storlet over an SLO (run on the proxy over the assembled
body), segments under a mandatory storlet rule, /info, and the real swift
CLI: upload --use-slo --segment-size, stat, download with its MD5 check,
upload from stdin (always SLO), delete (segments too)."""
import base64
import hashlib
import http.client
import json
import os
import socket
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster, BUILD  # noqa: E402
from tap import Tap  # noqa: E402

SRC = os.environ.get("CAIRN_SRC") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")

t = Tap()

NATIVE = {"X-Object-Meta-Storlet-Language": "native",
          "X-Object-Meta-Storlet-Interface-Version": "1.0",
          "X-Object-Meta-Storlet-Object-Metadata": "yes"}
UPPER = b"#!/bin/sh\nexec 3>&-\nexec tr a-z A-Z\n"


def md5(b):
    if isinstance(b, str):
        b = b.encode()
    return hashlib.md5(b).hexdigest()


with Cluster(t) as cl:
    os.chmod(cl.dir, 0o755)   # the sandbox opens code dirs below it
    sdk = os.path.join(SRC, "storlets", "sdk", "cairn_storlet.py")

    def sconf(name):
        return {"storlets": "true",
                "storlet_cache_dir": os.path.join(cl.dir, name + "-cache"),
                "storlet_sdk": sdk, "storlet_warm": "1"}

    nodes = []
    for i, ip in enumerate(("127.0.0.1", "127.0.0.2", "127.0.0.3")):
        nodes.append(cl.objectd(devices=["d%d" % (i + 1)], ip=ip,
                                conf=sconf("node%d" % i)))
    for kind, port in (("account", "aport"), ("container", "cport"),
                       ("object", "port")):
        cl.build_ring(kind, 6, 3, [(n.ip, getattr(n, port), n.devices[0])
                                   for n in nodes])
    p = cl.proxy(users={"test:tester": "testing .admin",
                        "test2:tester2": "testing2 .admin",
                        "test:res": "resing researcher"},
                 conf={"DEFAULT": sconf("proxy"),
                       "app": {"max_manifest_segments": "12",
                                            "max_manifest_size": "4096"}})
    path, tok = p.auth("test:tester")
    _, tok2 = p.auth("test2:tester2")
    _, rtok = p.auth("test:res")
    acct = path.rsplit("/", 1)[1]

    def req(m, u, body=None, headers=None, token=tok):
        hh = {"X-Auth-Token": token} if token else {}
        hh.update(headers or {})
        return p.request(m, u, body=body, headers=hh)

    def raw_get(u, token=tok, headers=None):
        """(status, bytes read, complete?) of a GET read to its end."""
        c = http.client.HTTPConnection(p.ip, p.port, timeout=30)
        try:
            hh = {"X-Auth-Token": token}
            hh.update(headers or {})
            c.request("GET", u, headers=hh)
            r = c.getresponse()
            try:
                return r.status, r.read(), True
            except http.client.IncompleteRead as e:
                return r.status, e.partial, False
        finally:
            c.close()

    def put_manifest(name, segs, headers=None, query="multipart-manifest=put"):
        return req("PUT", path + "/" + name + "?" + query,
                   body=json.dumps(segs).encode(), headers=headers)

    st, _, info = req("GET", "/info", token=None)
    slo_info = json.loads(info).get("slo")
    t.eq(slo_info, {"max_manifest_segments": 12, "max_manifest_size": 4096,
                    "min_segment_size": 1}, "/info names slo with its limits")

    for c in ("c", "segs", "other"):
        req("PUT", path + "/" + c)
    sizes = (70000, 1, 100000, 33333)
    segs = [os.urandom(n) for n in sizes]
    for i, s in enumerate(segs):
        st, _, _ = req("PUT", path + "/segs/s%d" % i, body=s)
    whole = b"".join(segs)
    man = [{"path": "/segs/s%d" % i, "etag": md5(s), "size_bytes": len(s)}
           for i, s in enumerate(segs)]
    slo_etag = md5("".join(md5(s) for s in segs))

    # ---- the manifest PUT and what it stores
    st, h, _ = put_manifest("c/big", man, {"Content-Type": "text/plain",
                                           "X-Object-Meta-Color": "blue"})
    t.eq((st, h.get("etag")), (201, '"%s"' % slo_etag),
         "manifest PUT: 201 with the quoted SLO ETag")
    st, h, b = req("GET", path + "/c/big")
    t.ok(st == 200 and b == whole, "GET assembles the segments (%d, %d bytes)"
         % (st, len(b)))
    t.eq((h.get("content-length"), h.get("etag"), h.get("x-static-large-object"),
          h.get("content-type"), h.get("x-object-meta-color")),
         (str(len(whole)), '"%s"' % slo_etag, "True", "text/plain", "blue"),
         "with the total length, the SLO ETag, the marker, type and metadata")
    st, mh, mb = req("GET", path + "/c/big?multipart-manifest=get")
    stored = json.loads(mb)
    t.eq((st, mh.get("content-type"), mh.get("etag")),
         (200, "application/json; charset=utf-8", md5(mb)),
         "?multipart-manifest=get: the stored JSON, its own MD5 as ETag")
    t.eq([(e["name"], e["hash"], e["bytes"], e["content_type"]) for e in stored],
         [("/segs/s%d" % i, md5(s), len(s), "application/octet-stream")
          for i, s in enumerate(segs)], "one entry per segment, as Swift stores it")
    t.ok(all(len(e["last_modified"]) == 26 and "sub_slo" not in e and
             "range" not in e for e in stored), "last_modified in Swift's form")
    t.eq(h.get("x-manifest-etag"), md5(mb), "X-Manifest-Etag names the manifest")
    st, rh, rb = req("GET", path + "/c/big?multipart-manifest=get&format=raw")
    t.eq((st, json.loads(rb)), (200, man),
         "format=raw gives the list as it was PUT")
    st, h, b = req("HEAD", path + "/c/big")
    t.eq((st, h.get("content-length"), h.get("etag"), b),
         (200, str(len(whole)), '"%s"' % slo_etag, b""), "HEAD: the same facts")
    st, _, lst = req("GET", path + "/c?format=json")
    ent = [e for e in json.loads(lst) if e["name"] == "big"][0]
    t.eq((ent["bytes"], ent["content_type"]), (len(whole), "text/plain"),
         "the listing shows the assembled size")

    st, _, _ = req("POST", path + "/c/big", headers={"X-Object-Meta-Color": "red"})
    st2, h, b = req("GET", path + "/c/big")
    t.ok(st == 202 and b == whole and h.get("x-object-meta-color") == "red" and
         h.get("x-static-large-object") == "True",
         "a POST changes the metadata and keeps it an SLO")
    st, _, _ = req("POST", path + "/c/big", headers={"X-Static-Large-Object": "False"})
    t.eq(st, 400, "a POST may not set X-Static-Large-Object")

    # ---- ranges and conditionals
    st, h, b = req("GET", path + "/c/big", headers={"Range": "bytes=69990-70020"})
    t.eq((st, b, h.get("content-range")),
         (206, whole[69990:70021], "bytes 69990-70020/%d" % len(whole)),
         "a range across segments")
    st, h, b = req("GET", path + "/c/big", headers={"Range": "bytes=-40000"})
    t.eq((st, b), (206, whole[-40000:]), "a suffix range")
    st, h, b = req("GET", path + "/c/big", headers={"Range": "bytes=70000-70000"})
    t.eq((st, b), (206, whole[70000:70001]), "the one-byte segment alone")
    st, h, b = req("GET", path + "/c/big",
                   headers={"Range": "bytes=0-1,170000-170002"})
    t.ok(st == 206 and h.get("content-type", "").startswith("multipart/byteranges")
         and whole[0:2] in b and whole[170000:170003] in b and
         len(b) == int(h.get("content-length")), "several ranges: multipart")
    st, h, _ = req("GET", path + "/c/big",
                   headers={"Range": "bytes=%d-" % (len(whole) + 5)})
    t.eq((st, h.get("content-range")), (416, "bytes */%d" % len(whole)),
         "an unsatisfiable range: 416 with the total")
    st, _, b = req("GET", path + "/c/big", headers={"If-None-Match": '"%s"' % slo_etag})
    t.eq((st, b), (304, b""), "If-None-Match with the SLO ETag: 304")
    st, _, _ = req("HEAD", path + "/c/big", headers={"If-None-Match": '"%s"' % slo_etag})
    st2, h, _ = req("HEAD", path + "/c/big", headers={"If-Match": '"%s"' % slo_etag})
    t.eq((st, st2, h.get("content-length")), (304, 200, str(len(whole))),
         "a HEAD too (answered from the stored SLO sysmeta)")
    st, _, b = req("GET", path + "/c/big", headers={"If-Match": '"%s"' % slo_etag,
                                                   "Range": "bytes=5-9"})
    t.eq((st, b), (206, whole[5:10]), "If-Match with the SLO ETag and a Range: 206")
    st, _, _ = req("GET", path + "/c/big", headers={"If-Match": '"%s"' % md5(mb)})
    t.eq(st, 412, "the manifest's own ETag is not the object's: 412")

    # ---- ranged segments
    rman = [{"path": "/segs/s0", "range": "10-19"},
            {"path": "/segs/s2", "range": "-7"},
            {"path": "/segs/s3", "range": "33000-"},
            {"path": "/segs/s1", "range": "0-0"}]
    st, h, _ = put_manifest("c/ranged", rman)
    r_etag = md5("%s:10-19;%s:99993-99999;%s:33000-33332;%s" % (
        md5(segs[0]), md5(segs[2]), md5(segs[3]), md5(segs[1])))
    t.eq((st, h.get("etag")), (201, '"%s"' % r_etag),
         "ranged segments: the ETag covers hash:range; (a whole-object range dropped)")
    want = segs[0][10:20] + segs[2][-7:] + segs[3][33000:] + segs[1]
    st, h, b = req("GET", path + "/c/ranged")
    t.eq((st, b, h.get("etag")), (200, want, '"%s"' % r_etag), "and read back")
    st, _, b = req("GET", path + "/c/ranged", headers={"Range": "bytes=8-12"})
    t.eq((st, b), (206, want[8:13]), "a range over ranged segments")
    st, _, mb2 = req("GET", path + "/c/ranged?multipart-manifest=get")
    t.eq([e.get("range") for e in json.loads(mb2)],
         ["10-19", "99993-99999", "33000-33332", None],
         "ranges stored normalised")

    # ---- inline data segments
    dman = [{"data": base64.b64encode(b"head-").decode()}, {"path": "/segs/s1"},
            {"data": base64.b64encode(b"-tail").decode()}]
    st, h, _ = put_manifest("c/inline", dman)
    d_etag = md5(md5(b"head-") + md5(segs[1]) + md5(b"-tail"))
    t.eq((st, h.get("etag")), (201, '"%s"' % d_etag),
         "inline data segments: their MD5s enter the SLO ETag")
    dwhole = b"head-" + segs[1] + b"-tail"
    st, _, b = req("GET", path + "/c/inline")
    t.eq((st, b), (200, dwhole), "and their bytes the object")
    st, _, b = req("GET", path + "/c/inline", headers={"Range": "bytes=3-7"})
    t.eq((st, b), (206, dwhole[3:8]), "a range across data and a segment")
    _, _, b = req("GET", path + "/c/inline?multipart-manifest=get&format=raw")
    t.eq([e.get("data") for e in json.loads(b)], ["aGVhZC0=", None, "LXRhaWw="],
         "kept in the manifest")

    # ---- every error of the manifest PUT
    def put_err(body, q="multipart-manifest=put", headers=None):
        return req("PUT", path + "/c/bad?" + q, body=body, headers=headers)

    st, h, b = put_err(b"{not json")
    t.eq((st, b), (400, b"Manifest must be valid JSON.\n"), "invalid JSON: 400")
    st, h, b = put_err(b'{"path": "/segs/s0"}')
    t.eq((st, b), (400, b"Manifest must be a list.\n"), "not a list: 400")
    bad = [5,
           {"etag": "x"},
           {"path": "/segs/s0", "zeta": 1, "alpha": 2},
           {"path": 7},
           {"path": "/segs/s0", "etag": 5},
           {"path": "/segsonly"},
           {"path": "/segs/s0", "size_bytes": "many"},
           {"path": "/segs/s0", "size_bytes": 0},
           {"path": "/c/bad"},
           {"path": "/segs/s0", "range": "9-3"},
           {"path": "/segs/s0", "range": "1-2,4-5"},
           {"path": "/segs/s0", "size_bytes": 10, "range": "20-30"},
           {"data": "a*b="},
           {"data": ""},
           {"data": "aGk=", "path": "/segs/s0"}]
    st, h, b = put_err(json.dumps(bad).encode())
    want_lines = [
        "Index 0: not a JSON object",
        "Index 1: expected keys to include one of 'data' or 'path'",
        'Index 2: extraneous keys "alpha", "zeta"',
        'Index 3: "path" must be a string',
        'Index 4: "etag" must be a string or null (if provided)',
        "Index 5: path does not refer to an object. Path must be of the form "
        "/container/object.",
        "Index 6: invalid size_bytes",
        "Index 7: too small; each segment must be at least 1 byte.",
        "Index 8: manifest must not include itself as a segment",
        "Index 9: invalid range",
        "Index 10: multiple ranges (only one allowed)",
        "Index 11: unsatisfiable range",
        "Index 12: data must be valid base64",
        "Index 13: too small; each segment must be at least 1 byte.",
        'Index 14: extraneous keys "path"']
    t.eq((st, h.get("content-type"), b.decode().splitlines()),
         (400, "text/plain", want_lines), "each malformed entry named by index")
    odd = [{"path": "/segs/s0", "range": "1-2,"},
           {"path": "/segs/s0", "range": "bytes=1-2"},
           {"path": "/segs/s0", "range": "1--2"},
           {"data": "LXRhaWw"},
           {"path": "/segs/s0", "range": "-0", "size_bytes": 5}]
    st, _, b = put_err(json.dumps(odd).encode())
    t.eq((st, b.decode().splitlines()),
         (400, ["Index 0: invalid range", "Index 1: invalid range",
                "Index 2: invalid range", "Index 3: data must be valid base64",
                "Index 4: unsatisfiable range"]),
         "ranges and base64 judged as swob and strict_b64decode do")
    lax = [{"path": "/segs/s0", "size_bytes": " 70000 "},
           {"path": "/segs/s2", "range": " 1 - 2"},
           {"data": "=aGk="},
           {"path": "/segs/s3", "size_bytes": 33333.7}]
    st, _, _ = put_manifest("c/lax", lax)
    _, _, b = req("GET", path + "/c/lax")
    t.eq((st, b), (201, segs[0] + segs[2][1:3] + b"hi" + segs[3]),
         "and what Python's int() and Swift accept is accepted")
    req("PUT", path + "/segs/empty", body=b"")
    probs = [{"path": "/segs/nosuch"},
             {"path": "/segs/s0", "etag": md5(b"x")},
             {"path": "/segs/s1", "size_bytes": 2},
             {"path": "/segs/s2", "range": "200000-"},
             {"path": "/segs/empty"},
             {"path": "/segs/s0"}]
    st, h, b = put_err(json.dumps(probs).encode())
    t.eq((st, b.decode().splitlines()),
         (400, ["Errors:", "/segs/nosuch, 404 Not Found",
                "/segs/s0, Etag Mismatch", "/segs/s1, Size Mismatch",
                "/segs/s2, Unsatisfiable Range",
                "/segs/empty, Too small; each segment must be at least 1 byte."]),
         "segment problems found by HEAD: 400 listing them")
    st, h, b = put_err(json.dumps(probs[:2]).encode(),
                       headers={"Accept": "application/json"})
    t.eq((st, h.get("content-type"), json.loads(b)),
         (400, "application/json",
          {"Errors": [["/segs/nosuch", "404 Not Found"],
                      ["/segs/s0", "Etag Mismatch"]]}),
         "as JSON when asked")
    st, _, b = put_err(json.dumps([{"data": "aGk="}]).encode())
    t.eq((st, b), (400, b"Inline data segments require at least one "
                        b"object-backed segment.\n"), "inline data alone: 400")
    st, _, b = put_err(json.dumps([{"path": "/segs/s1"}] * 13).encode())
    t.eq((st, b), (413, b"Number of object-backed segments must be <= 12"),
         "more segments than max_manifest_segments: 413")
    st, _, b = put_err(b"[" + b" " * 5000 + b"]")
    t.eq((st, b), (413, b"Manifest File > 4096 bytes"),
         "a body over max_manifest_size: 413")
    wide = "\u00e9" * 140
    req("PUT", path + "/other/" + urllib.parse.quote(wide), body=b"w")
    st, _, b = put_err(json.dumps([{"path": "/other/" + wide}] * 12,
                                  ensure_ascii=False).encode())
    t.eq((st, b), (413, b"Stored manifest would be > 8192 bytes"),
         "a list whose stored form could not be read back: 413")
    st, _, _ = put_err(json.dumps(man).encode(), headers={"ETag": md5(b"x")})
    t.eq(st, 422, "a client ETag that is not the SLO ETag: 422")
    st, _, b = put_err(b"", headers={"X-Copy-From": "c/big"})
    t.eq((st, b), (405, b"Multipart Manifest PUTs cannot be COPY requests"),
         "with X-Copy-From: 405")
    sk = socket.create_connection((p.ip, p.port), timeout=30)
    sk.sendall(("PUT %s/c/bad?multipart-manifest=put HTTP/1.1\r\nHost: x\r\n"
                "X-Auth-Token: %s\r\nConnection: close\r\n\r\n"
                % (path, tok)).encode())
    got = b""
    while True:
        chunk = sk.recv(65536)
        if not chunk:
            break
        got += chunk
    sk.close()
    t.ok(got.startswith(b"HTTP/1.1 411"), "without a body length: 411 (%r)"
         % got[:20])
    st, _, _ = req("HEAD", path + "/c/bad")
    t.eq(st, 404, "and none of them stored anything")
    st, _, _ = put_err(json.dumps(man).encode(), headers={"ETag": slo_etag})
    t.eq(st, 201, "the right client ETag is accepted")
    st, _, b = req("PUT", path + "/c/plain", body=b"x",
                   headers={"X-Static-Large-Object": "True"})
    t.eq(st, 400, "X-Static-Large-Object on a plain PUT: 400")
    st, _, _ = put_manifest("c/empty-last", [{"path": "/segs/s1"},
                                             {"path": "/segs/empty"}])
    t.eq(st, 201, "an empty last segment is allowed")

    # ---- nested SLOs and the depth limit
    st, _, _ = put_manifest("c/nest", [{"path": "/segs/s1"}, {"path": "/c/ranged"},
                                       {"path": "/c/big"}])
    t.eq(st, 201, "a manifest whose segments are SLOs")
    st, _, nb = req("GET", path + "/c/nest?multipart-manifest=get")
    t.eq([e.get("sub_slo", False) for e in json.loads(nb)], [False, True, True],
         "sub_slo marks them")
    t.eq([e["hash"] for e in json.loads(nb)][1:], [r_etag, slo_etag],
         "with their SLO ETags as hashes")
    nwhole = segs[1] + want + whole
    st, _, b = req("GET", path + "/c/nest")
    t.ok(st == 200 and b == nwhole, "nested SLOs read as one object (%d, %d bytes)"
         % (st, len(b)))
    st, _, b = req("GET", path + "/c/nest", headers={"Range": "bytes=40-69999"})
    t.eq((st, b), (206, nwhole[40:70000]), "a range across nesting levels")
    prev = "/segs/s1"
    for lvl in range(11):
        put_manifest("c/lvl%d" % lvl, [{"path": prev}])
        prev = "/c/lvl%d" % lvl
    st, _, b = req("GET", path + "/c/lvl9")
    t.eq((st, b), (200, segs[1]), "ten manifests inside one another: read")
    st, _, b = req("GET", path + "/c/lvl10")
    t.eq(st, 409, "eleven: 409 (Swift's depth limit)")

    # ---- other users: the segments' container decides
    req("POST", path + "/c", headers={"X-Container-Read": "test2",
                                      "X-Container-Write": "test2"})
    st, _, _ = req("GET", path + "/c/big", token=tok2)
    t.eq(st, 409, "a reader of the manifest only: 409, no byte of a segment")
    st, _, b = req("PUT", path + "/c/by2?multipart-manifest=put",
                   body=json.dumps(man[:1]).encode(), token=tok2)
    t.eq((st, b.decode().splitlines()), (400, ["Errors:", "/segs/s0, 403 Forbidden"]),
         "a manifest PUT HEADs segments with the caller's rights")
    req("POST", path + "/segs", headers={"X-Container-Read": "test2"})
    st, _, b = req("GET", path + "/c/big", token=tok2)
    t.ok(st == 200 and b == whole, "with read access to the segments too: the data")
    req("POST", path + "/segs", headers={"X-Container-Read": ""})

    # ---- a segment changed or gone
    for i in range(3):
        req("PUT", path + "/other/m%d" % i, body=segs[i])
    mman = [{"path": "/other/m%d" % i} for i in range(3)]
    put_manifest("c/moving", mman)
    # each change is waited for on every replica: a PUT or DELETE is
    # answered with one replica possibly still old, and a GET served by it
    # would be a whole, unchanged object
    req("PUT", path + "/other/m1", body=b"Z")
    cl.wait_replicas(acct, "other", "m1", md5(b"Z"))
    st, b, complete = raw_get(path + "/c/moving")
    t.ok(st == 200 and not complete and len(b) < 70002,
         "a later segment changed: the response is cut (%d, %d bytes, complete=%s)"
         % (st, len(b), complete))
    req("PUT", path + "/other/m1", body=segs[1])
    cl.wait_replicas(acct, "other", "m1", md5(segs[1]))
    put_manifest("c/moving", mman)
    req("DELETE", path + "/other/m2")
    cl.wait_replicas(acct, "other", "m2")
    st, b, complete = raw_get(path + "/c/moving")
    t.ok(st == 200 and not complete, "a later segment deleted: cut too (%d, %d)"
         % (st, len(b)))
    req("PUT", path + "/other/m0", body=b"changed")
    cl.wait_replicas(acct, "other", "m0", md5(b"changed"))
    st, _, _ = req("GET", path + "/c/moving")
    t.eq(st, 409, "the first segment changed: 409 before any byte")

    # ---- COPY
    st, _, _ = req("COPY", path + "/c/big", headers={"Destination": "c/flat"})
    st2, h, b = req("GET", path + "/c/flat")
    t.ok(st == 201 and st2 == 200 and b == whole and
         "x-static-large-object" not in h and h.get("etag") == md5(whole),
         "COPY of an SLO stores the assembled bytes as a plain object")
    st, _, _ = req("PUT", path + "/c/flat2", headers={"X-Copy-From": "c/big"})
    _, h, b = req("GET", path + "/c/flat2")
    t.ok(st == 201 and b == whole, "so does PUT with X-Copy-From")
    st, _, _ = req("COPY", path + "/c/big?multipart-manifest=get",
                   headers={"Destination": "c/twin"})
    _, h, b = req("GET", path + "/c/twin")
    _, _, tb = req("GET", path + "/c/twin?multipart-manifest=get")
    t.ok(st == 201 and b == whole and h.get("etag") == '"%s"' % slo_etag and
         json.loads(tb) == stored,
         "COPY ?multipart-manifest=get: another SLO over the same segments")

    # ---- DELETE
    for i in range(2):
        req("PUT", path + "/other/d%d" % i, body=b"seg%d" % i)
    put_manifest("other/dsub", [{"path": "/other/d1"}])
    put_manifest("c/del", [{"path": "/other/d0"}, {"data": "eHl6"},
                           {"path": "/other/dsub"}])
    st, _, _ = req("DELETE", path + "/c/twin")
    _, _, b = req("GET", path + "/c/big")
    t.ok(st == 204 and b == whole, "a plain DELETE removes only the manifest")
    st, h, b = req("DELETE", path + "/c/del?multipart-manifest=delete")
    t.eq((st, h.get("content-type"), b.decode().splitlines()),
         (200, "text/plain", ["Number Deleted: 4", "Number Not Found: 0",
                              "Response Body: ", "Response Status: 200 OK",
                              "Errors:"]),
         "?multipart-manifest=delete: segments, the nested one's, the manifests "
         "(inline data is no object)")
    gone = [req("HEAD", path + x)[0] for x in
            ("/other/d0", "/other/d1", "/other/dsub", "/c/del")]
    t.eq(gone, [404] * 4, "all of them gone")
    st, h, b = req("DELETE", path + "/c/flat?multipart-manifest=delete",
                   headers={"Accept": "application/json"})
    t.eq((st, json.loads(b)),
         (200, {"Number Deleted": 0, "Number Not Found": 0, "Response Body": "",
                "Response Status": "400 Bad Request",
                "Errors": [["/c/flat", "Not an SLO manifest"]]}),
         "of a plain object: a 400 report, nothing deleted")
    st, _, _ = req("HEAD", path + "/c/flat")
    t.eq(st, 200, "(it is still there)")
    req("PUT", path + "/other/w0", body=b"w0")
    put_manifest("c/forbidden", [{"path": "/other/w0"}])
    st, _, b = req("DELETE", path + "/c/forbidden?multipart-manifest=delete", token=tok2)
    t.eq((st, b.decode().splitlines()),
         (200, ["Number Deleted: 1", "Number Not Found: 0", "Response Body: ",
                "Response Status: 400 Bad Request", "Errors:",
                "/other/w0, 403 Forbidden"]),
         "a caller who may delete the manifest but not its segments: each "
         "refused one reported")
    t.eq([req("HEAD", path + x)[0] for x in ("/other/w0", "/c/forbidden")],
         [200, 404], "the manifest is deleted all the same, as Swift's bulk "
         "delete goes on")
    st, _, b = req("DELETE", path + "/c/nosuch?multipart-manifest=delete")
    t.ok(st == 200 and b"Number Not Found: 1" in b, "of nothing: Not Found 1")

    # ---- storlets over an SLO: on the proxy, over the assembled body
    st, _, _ = req("POST", path, headers={"X-Account-Meta-Storlet-Enabled": "True"})
    req("PUT", path + "/storlet")
    req("PUT", path + "/dependency")
    with open(os.path.join(BUILD, "storlets", "identity"), "rb") as f:
        req("PUT", path + "/storlet/identity", body=f.read(),
            headers=dict(NATIVE, **{"X-Object-Meta-Storlet-Main": "identity"}))
    req("PUT", path + "/dependency/upper.sh", body=UPPER,
        headers={"X-Object-Meta-Storlet-Dependency-Version": "1",
                 "X-Object-Meta-Storlet-Dependency-Permissions": "0755"})
    st, _, _ = req("PUT", path + "/storlet/shout", body=b"script",
                   headers=dict(NATIVE, **{"X-Object-Meta-Storlet-Main": "upper.sh",
                                           "X-Object-Meta-Storlet-Dependency":
                                           "upper.sh"}))
    t.eq(st, 201, "deploy a storlet")
    text = [(b"line %05d alpha\n" % i) for i in range(6000)]
    tw = b"".join(text)
    for i in range(3):
        req("PUT", path + "/segs/t%d" % i, body=tw[i * 40000:(i + 1) * 40000])
    put_manifest("c/text", [{"path": "/segs/t%d" % i} for i in range(3)],
                 {"Content-Type": "text/plain"})
    st, h, b = req("GET", path + "/c/text", headers={"X-Run-Storlet": "shout"})
    t.ok(st == 200 and b == tw.upper(),
         "a storlet GET of an SLO transforms the assembled body (%d, %d bytes)"
         % (st, len(b)))
    t.eq(h.get("x-storlet-sequence-placement"), "object=0, proxy=1",
         "it ran on the proxy, never over the manifest on a node")
    st, _, b = req("GET", path + "/c/text", headers={"X-Run-Storlet": "identity, shout"})
    t.ok(st == 200 and b == tw.upper(), "a chain too")
    st, _, _ = req("COPY", path + "/c/text", headers={"Destination": "c/loud",
                                                     "X-Run-Storlet": "shout"})
    _, h, b = req("GET", path + "/c/loud")
    t.ok(st == 201 and b == tw.upper() and "x-static-large-object" not in h,
         "a COPY through a storlet stores the transformed assembled body")
    part, prim, _ = cl.locate(acct, "c", "text")
    node, dev = prim[0]
    st, h, _ = node.request("GET", "/%s/%d/%s/c/text" % (dev, part, acct),
                            headers={"X-Backend-Storlet-Chain":
                                     json.dumps([{"storlet": "identity"}]),
                                     "X-Backend-Storlet-Token": tok,
                                     "X-Backend-Storlet-Proxy":
                                     "%s:%d" % (p.ip, p.port)})
    t.eq((st, h.get("x-backend-storlet-manifest")), (422, "1"),
         "the object node refuses a chain over an SLO manifest (422)")

    # ---- segments under a mandatory storlet rule for the caller
    rule = {"rules": [{"id": "shout-researchers", "mandatory": True,
                       "match": {"groups": ["researcher"]},
                       "action": {"storlet": "shout"}}]}
    req("PUT", path + "/vault")
    for c in ("vault", "c", "storlet", "dependency"):
        req("POST", path + "/" + c, headers={"X-Container-Read": "test2,researcher"})
    st, _, _ = req("POST", path + "/vault", headers={"X-Storlet-Rules": json.dumps(rule)})
    t.eq(st, 204, "a mandatory read rule on the segments' container")
    req("PUT", path + "/vault/v0", body=b"secret alpha\n")
    put_manifest("c/vaulted", [{"path": "/vault/v0"}])
    st, _, b = req("GET", path + "/c/vaulted", token=rtok)
    t.ok(st == 403 and b"secret" not in b and b"vault" not in b,
         "a ruled caller never gets the raw segments (%d %r)" % (st, b[:60]))
    st, _, b = req("GET", path + "/c/vaulted")
    t.eq((st, b), (200, b"secret alpha\n"), "the owner reads them")
    req("PUT", path + "/ruled")
    req("POST", path + "/ruled", headers={"X-Container-Read": "researcher",
                                          "X-Storlet-Rules": json.dumps(rule)})
    req("POST", path + "/segs", headers={"X-Container-Read": "researcher"})
    put_manifest("ruled/text", [{"path": "/segs/t%d" % i} for i in range(3)])
    st, h, b = req("GET", path + "/ruled/text", token=rtok)
    t.ok(st == 200 and b == tw.upper() and
         h.get("x-storlet-sequence-placement") == "object=0, proxy=1",
         "an SLO under a mandatory rule: the rule's storlet runs over the "
         "assembled body on the proxy (%d, %d bytes)" % (st, len(b)))
    st, h, b = req("GET", path + "/ruled/text?multipart-manifest=get", token=rtok)
    t.eq(st, 403, "and its manifest is not shown to the ruled caller")

    # ---- the swift CLI
    env = dict(os.environ, ST_AUTH="http://%s:%d/auth/v1.0" % (p.ip, p.port),
               ST_USER="test:tester", ST_KEY="testing")
    work = os.path.join(cl.dir, "cli")
    os.makedirs(work)
    data = os.urandom(300000)
    with open(os.path.join(work, "f.bin"), "wb") as f:
        f.write(data)
    swift = ["/usr/bin/python3", "/usr/bin/swift"]
    r = subprocess.run(swift + ["upload", "cli", "f.bin", "--use-slo",
                                "--segment-size", "65536"],
                       env=env, cwd=work, capture_output=True, text=True)
    t.eq(r.returncode, 0, "swift upload --use-slo --segment-size succeeds (%s)"
         % r.stderr.strip()[:200])
    st, h, _ = req("HEAD", path + "/cli/f.bin")
    t.eq((h.get("x-static-large-object"), h.get("content-length")),
         ("True", str(len(data))), "stored as an SLO of the file's length")
    r = subprocess.run(swift + ["stat", "cli", "f.bin"], env=env, cwd=work,
                       capture_output=True, text=True)
    t.ok(r.returncode == 0 and "Content Length: %d" % len(data) in r.stdout,
         "swift stat shows the assembled length")
    os.remove(os.path.join(work, "f.bin"))
    r = subprocess.run(swift + ["download", "cli", "f.bin"], env=env, cwd=work,
                       capture_output=True, text=True)
    t.eq(r.returncode, 0, "swift download passes its checksum check (%s)"
         % r.stderr.strip()[:200])
    with open(os.path.join(work, "f.bin"), "rb") as f:
        t.ok(f.read() == data, "and writes the original bytes")
    r = subprocess.run(swift + ["upload", "cli", "-", "--object-name", "piped",
                                "--segment-size", "100000"],
                       env=env, cwd=work, input=data, capture_output=True)
    st, h, b = req("GET", path + "/cli/piped")
    t.ok(r.returncode == 0 and h.get("x-static-large-object") == "True" and
         b == data, "an upload from stdin (always SLO) reads back (%d)" % r.returncode)
    r = subprocess.run(swift + ["upload", "cli", "f.bin", "--use-slo",
                                "--segment-size", "100000"],
                       env=env, cwd=work, capture_output=True, text=True)
    _, _, lst = req("GET", path + "/cli_segments")
    names = [n for n in lst.decode().split() if n.startswith("f.bin/")]
    t.ok(r.returncode == 0 and len(names) == 3 and
         all("/100000/" in n for n in names),
         "uploading it again replaces the old segments (%s)" % names)
    r = subprocess.run(swift + ["download", "cli", "f.bin", "-o", "-"], env=env,
                       cwd=work, capture_output=True)
    t.ok(r.returncode == 0 and r.stdout == data, "and downloads the same bytes")
    r = subprocess.run(swift + ["upload", "cli", "f.bin", "--use-slo", "--skip-identical",
                                "--segment-size", "100000"],
                       env=env, cwd=work, capture_output=True, text=True)
    _, _, lst2 = req("GET", path + "/cli_segments")
    t.ok(r.returncode == 0 and lst2 == lst,
         "upload --skip-identical reads the manifest and uploads nothing")
    r = subprocess.run(swift + ["download", "cli", "f.bin", "--skip-identical"],
                       env=env, cwd=work, capture_output=True, text=True)
    t.eq(r.returncode, 0, "download --skip-identical of an SLO")
    r = subprocess.run(swift + ["delete", "cli", "f.bin"], env=env, cwd=work,
                       capture_output=True, text=True)
    _, _, lst = req("GET", path + "/cli_segments")
    t.ok(r.returncode == 0 and b"f.bin" not in lst,
         "swift delete removes the manifest and its segments")
    st, _, _ = req("HEAD", path + "/cli/f.bin")
    t.eq(st, 404, "(the manifest is gone)")

t.done()
