#!/usr/bin/python3
# tier: quick
"""cairn-proxy dynamic large objects: a manifest (X-Object-Manifest:
container/prefix) reads as the concatenation of its segments, with the
quoted MD5-of-ETags ETag, Range (one and several), 416, HEAD, and
?multipart-manifest=get for the manifest itself; a bad manifest value is
refused; the segment container's ACL applies to other users. Also the real
swift CLI: upload --segment-size (DLO unless told --use-slo) and download
with its MD5 check."""
import hashlib
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()


def md5(b):
    return hashlib.md5(b).hexdigest()


with Cluster(t) as cl:
    cl.storage_cluster()
    p = cl.proxy()
    path, tok = p.auth()
    _, tok2 = p.auth("test2:tester2")
    H = {"X-Auth-Token": tok}

    def req(m, u, body=None, headers=None, token=tok):
        hh = {"X-Auth-Token": token} if token else {}
        hh.update(headers or {})
        return p.request(m, u, body=body, headers=hh)

    req("PUT", path + "/c")
    req("PUT", path + "/segs")
    segs = [os.urandom(n) for n in (70000, 1, 100000, 33333)]
    for i, s in enumerate(segs):
        req("PUT", path + "/segs/big/%08d" % i, body=s)
    req("PUT", path + "/segs/other", body=b"not a segment")
    # A DLO reads the segment container's listing: under load a replica
    # lacked a row for a while and the GET below missed a segment.
    cl.wait_listed(path.split("/")[-1], "segs", len(segs) + 1)
    whole = b"".join(segs)
    st, _, _ = req("PUT", path + "/c/big", body=b"",
                   headers={"X-Object-Manifest": "segs/big/"})
    t.eq(st, 201, "manifest PUT answers 201")
    st, h, got = req("GET", path + "/c/big")
    t.eq(st, 200, "manifest GET answers 200")
    t.ok(got == whole, "with the segments concatenated")
    t.eq(h.get("content-length"), str(len(whole)), "Content-Length is the sum")
    etag = md5("".join(md5(s) for s in segs).encode())
    t.eq(h.get("etag"), '"%s"' % etag, "ETag is the quoted MD5 of the ETags")
    t.eq(h.get("x-object-manifest"), "segs/big/", "X-Object-Manifest shown")
    st, h, got = req("HEAD", path + "/c/big")
    t.eq((st, h.get("content-length"), got), (200, str(len(whole)), b""),
         "HEAD gives the total length")
    st, h, got = req("GET", path + "/c/big",
                     headers={"Range": "bytes=69990-70020"})
    t.eq((st, got, h.get("content-range")),
         (206, whole[69990:70021], "bytes 69990-70020/%d" % len(whole)),
         "a range across segments")
    st, h, got = req("GET", path + "/c/big", headers={"Range": "bytes=-5"})
    t.eq((st, got), (206, whole[-5:]), "a suffix range")
    st, h, got = req("GET", path + "/c/big",
                     headers={"Range": "bytes=0-1,170000-170002"})
    t.eq(st, 206, "several ranges answer 206")
    t.ok(h.get("content-type", "").startswith("multipart/byteranges"),
         "as multipart/byteranges")
    t.ok(whole[0:2] in got and whole[170000:170003] in got and
         len(got) == int(h.get("content-length")), "with the right parts")
    st, h, _ = req("GET", path + "/c/big",
                   headers={"Range": "bytes=%d-" % (len(whole) + 10)})
    t.eq((st, h.get("content-range")), (416, "bytes */%d" % len(whole)),
         "an unsatisfiable range answers 416 with the total")
    st, h, got = req("GET", path + "/c/big?multipart-manifest=get")
    t.eq((st, got), (200, b""), "?multipart-manifest=get gives the manifest")
    # An SLO manifest over DLO segments (test/integration/proxy_slo.py
    # covers static large objects)
    slo = json.dumps([{"path": "/segs/big/00000000", "etag": md5(segs[0]),
                       "size_bytes": len(segs[0])}]).encode()
    st, _, _ = req("PUT", path + "/c/slo?multipart-manifest=put", body=slo)
    t.eq(st, 201, "an SLO manifest PUT answers 201")
    st, _, got = req("GET", path + "/c/slo")
    t.eq((st, got), (200, segs[0]), "and reads as its segment")
    st, _, got = req("PUT", path + "/c/slo?multipart-manifest=putx", body=b"x")
    st, _, got = req("GET", path + "/c/slo")
    t.eq((st, got), (200, b"x"), "(another parameter is no manifest PUT)")
    # Conditionals are checked against the assembled object's ETag
    qe = '"%s"' % etag
    st, h, got = req("GET", path + "/c/big", headers={"If-Match": qe})
    t.ok(st == 200 and got == whole, "If-Match with the assembled ETag: 200")
    st, h, got = req("GET", path + "/c/big", headers={"If-Match": '"x"'})
    t.eq((st, got, h.get("etag")), (412, b"", qe),
         "If-Match with another ETag: 412")
    st, h, got = req("GET", path + "/c/big", headers={"If-None-Match": qe})
    t.eq((st, got, h.get("etag")), (304, b"", qe),
         "If-None-Match with the assembled ETag: 304")
    st, h, got = req("HEAD", path + "/c/big", headers={"If-None-Match": qe})
    t.eq(st, 304, "a HEAD too")
    st, h, got = req("GET", path + "/c/big",
                     headers={"If-None-Match": '"%s"' % md5(b"")})
    t.ok(st == 200 and got == whole,
         "the manifest's own ETag does not match the object")
    st, h, got = req("GET", path + "/c/big", headers={
        "If-Match": qe, "Range": "bytes=1-3"})
    t.eq((st, got), (206, whole[1:4]), "If-Match with a Range: 206")
    st, h, got = req("GET", path + "/c/big?multipart-manifest=get",
                     headers={"If-None-Match": '"%s"' % md5(b"")})
    t.eq(st, 304, "?multipart-manifest=get: the manifest's ETag")
    # A manifest with a body of its own: a Range is on the assembled
    # object, not on the manifest's bytes (the node must not apply it).
    st, _, _ = req("PUT", path + "/c/bodied", body=b"manifest bytes",
                   headers={"X-Object-Manifest": "segs/big/"})
    st, h, got = req("GET", path + "/c/bodied",
                     headers={"Range": "bytes=2-9"})
    t.eq((st, got), (206, whole[2:10]),
         "a manifest with a body: the Range applies to the segments")
    st, h, got = req("GET", path + "/c/bodied?multipart-manifest=get",
                     headers={"Range": "bytes=2-9"})
    t.eq((st, got), (206, b"nifest b"),
         "and with ?multipart-manifest=get to the manifest's own bytes")
    st, _, b = req("PUT", path + "/c/bad", body=b"",
                   headers={"X-Object-Manifest": "nocontainer"})
    t.eq((st, b), (400, b"X-Object-Manifest must be in the format "
                        b"container/prefix"), "a bad manifest answers 400")
    # other users: the segment container's ACL decides
    req("POST", path + "/c", headers={"X-Container-Read": "test2"})
    st, _, _ = req("GET", path + "/c/big", token=tok2)
    t.eq(st, 403, "a reader of the manifest's container only: 403")
    req("POST", path + "/segs", headers={"X-Container-Read": "test2"})
    st, _, got = req("GET", path + "/c/big", token=tok2)
    t.ok(st == 200 and got == whole, "with read access to both: the data")
    # a missing segment container is an empty object
    req("PUT", path + "/c/empty", body=b"",
        headers={"X-Object-Manifest": "nosuch/x"})
    st, h, got = req("GET", path + "/c/empty")
    t.eq((st, got, h.get("content-length")), (200, b"", "0"),
         "a manifest over nothing reads empty")

    # the swift CLI: segmented upload and download
    env = dict(os.environ, ST_AUTH="http://%s:%d/auth/v1.0" % (p.ip, p.port),
               ST_USER="test:tester", ST_KEY="testing")
    work = os.path.join(cl.dir, "cli")
    os.makedirs(work)
    data = os.urandom(300000)
    with open(os.path.join(work, "f.bin"), "wb") as f:
        f.write(data)
    r = subprocess.run(["/usr/bin/python3", "/usr/bin/swift", "upload", "cli",
                        "f.bin", "--segment-size", "65536"], env=env,
                       cwd=work, capture_output=True, text=True)
    t.eq(r.returncode, 0, "swift upload --segment-size succeeds")
    os.remove(os.path.join(work, "f.bin"))
    r = subprocess.run(["/usr/bin/python3", "/usr/bin/swift", "download",
                        "cli", "f.bin"], env=env, cwd=work,
                       capture_output=True, text=True)
    t.eq(r.returncode, 0, "swift download of it succeeds")
    with open(os.path.join(work, "f.bin"), "rb") as f:
        t.ok(f.read() == data, "and writes the original bytes")
    st, h, _ = req("HEAD", path + "/cli/f.bin")
    t.ok(h.get("x-object-manifest", "").startswith("cli_segments/"),
         "it was stored as a DLO")

t.done()
