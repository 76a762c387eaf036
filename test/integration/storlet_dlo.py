#!/usr/bin/python3
# tier: quick
"""Storlets on large objects (DLO manifests) on a real cluster
(docs/storlets.md section 2, docs/compound-storlets.md 1.2): a storlet
GET, a chain, X-Storlet-Range, COPY and PUT + X-Copy-From with a storlet
run over the assembled body, never over the manifest's own stored bytes.
The object node refuses to run a chain over a manifest (a backend GET
with X-Backend-Storlet-Chain on one answers 422 and runs nothing), and
the proxy runs the whole chain over a loopback GET of the object, which
assembles it with the caller's rights (the segment container's ACL
applies): X-Storlet-Sequence-Placement: object=0, proxy=<n>, also for a
chain that would otherwise split between node and proxy, and for the
splits of a Distributed request. Storlet rules: a ruled manifest runs
the mandatory stage over the assembled body; segments under a mandatory
rule for the caller are 403, also under a storlet. A stage
that must run on the object node cannot run on a large object (400
naming it). ?multipart-manifest=get with a storlet runs it over the
manifest's own bytes. A plain COPY of a manifest copies the assembled
body, as Swift's copy does (with ?multipart-manifest=get: the manifest).
The real `swift` CLI uploads with --segment-size and downloads through a
storlet, passing its checksum check."""
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

UPPER = b"#!/bin/sh\nexec 3>&-\nexec tr a-z A-Z\n"


def grep(data, word):
    return b"".join(ln for ln in data.splitlines(True) if word in ln)


with Cluster(t) as cl:
    nodes, p = cl.storlet_cluster(users={"test:tester": "testing .admin",
                                         "test2:tester2": "testing2 .admin",
                                         "test:res": "resing researcher"})
    path, tok = p.auth("test:tester")
    _, tok2 = p.auth("test2:tester2")
    _, rtok = p.auth("test:res")
    req = p.requester(tok)
    t.eq(p.enable_storlets(path, tok, ("storlet", "dependency")), 204,
         "enable the account")
    for name in ("identity", "grep", "partlist"):
        t.eq(p.deploy(path, tok, name, metadata="yes"), 201,
             "deploy %s" % name)
    req("PUT", path + "/dependency/upper.sh", body=UPPER,
        headers={"X-Object-Meta-Storlet-Dependency-Version": "1",
                 "X-Object-Meta-Storlet-Dependency-Permissions": "0755"})
    for name, extra in (("shout", {}),
                        ("shoutpx", {"X-Object-Meta-Storlet-Run-On": "proxy"}),
                        ("shoutobj", {"X-Object-Meta-Storlet-Run-On": "object"})):
        extra = dict(extra)
        extra["X-Object-Meta-Storlet-Dependency"] = "upper.sh"
        t.eq(p.deploy(path, tok, name, body=b"script", main="upper.sh",
                      metadata="yes", **extra), 201, "deploy %s" % name)

    rangeinfo = (b"import json\n\n\ndef main(s):\n    n = 0\n"
                 b"    for chunk in iter(lambda: s.input.read(65536), b''):\n"
                 b"        n += len(chunk)\n"
                 b"    s.write((json.dumps({'range': s.request.get('range'), "
                 b"'bytes': n}) + '\\n').encode())\n")
    t.eq(p.deploy(path, tok, "rangeinfo.py", body=rangeinfo, lang="python",
                  main="rangeinfo.main", metadata="yes"),
         201, "deploy rangeinfo.py")

    # ---- a DLO of a few hundred KB: segments in another container
    lines = []
    for i in range(9000):
        lines.append(b"line %06d %s\n" % (i, b"gamma ray" if i % 7 == 0
                                          else b"alpha beta"))
    whole = b"".join(lines)
    cuts = [0, 65536, 65537, 131072 + 11, 200000, len(whole)]
    req("PUT", path + "/data")
    req("PUT", path + "/segs")
    for i in range(len(cuts) - 1):
        st, _, _ = req("PUT", path + "/segs/scan/%04d" % i,
                       body=whole[cuts[i]:cuts[i + 1]])
        t.eq(st, 201, "segment %d (%d bytes)" % (i, cuts[i + 1] - cuts[i]))
    # the DLO is read from the segment container's listing
    cl.wait_listed(path.split("/")[-1], "segs", len(cuts) - 1)
    st, _, _ = req("PUT", path + "/data/big", body=b"",
                   headers={"X-Object-Manifest": "segs/scan/",
                            "Content-Type": "text/plain",
                            "X-Object-Meta-Ward": "7"})
    t.eq(st, 201, "store the manifest")
    st, _, b = req("GET", path + "/data/big")
    t.ok(st == 200 and b == whole,
         "a plain GET assembles %d bytes" % len(whole))

    def proxy_placed(h, n):
        return (h.get("x-storlet-sequence-placement"),
                h.get("x-storlet-executed-on")) == \
            ("object=0, proxy=%d" % n, "proxy")

    # ---- GET with a storlet: over the assembled body, on the proxy
    st, h, b = req("GET", path + "/data/big",
                   headers={"X-Run-Storlet": "identity"})
    t.eq((st, len(b)), (200, len(whole)),
         "identity on a DLO answers the assembled length")
    t.ok(b == whole, "identity on a DLO: the assembled body, byte for byte")
    t.ok(proxy_placed(h, 1), "it ran on the proxy: object=0, proxy=1 (%s, %s)"
         % (h.get("x-storlet-sequence-placement"),
            h.get("x-storlet-executed-on")))
    t.ok("etag" not in h and "content-length" not in h,
         "no ETag or length of the stored object")
    t.eq(h.get("x-object-meta-ward"), "7",
         "the manifest's metadata reaches the storlet's answer")
    st, h, b = req("GET", path + "/data/big", headers={
        "X-Run-Storlet": "grep", "X-Storlet-Parameter-1": "pattern:gamma"})
    t.ok(st == 200 and b == grep(whole, b"gamma") and len(b) > 0,
         "grep on a DLO: the lines of the assembled body (%d, %d bytes)"
         % (st, len(b)))

    # ---- a chain: every stage on the proxy
    st, h, b = req("GET", path + "/data/big", headers={
        "X-Run-Storlet": "identity, shout, grep",
        "X-Storlet-Stage-3-Parameter-1": "pattern:GAMMA"})
    t.ok(st == 200 and b == grep(whole.upper(), b"GAMMA"),
         "a 3-stage chain on a DLO transforms the assembled body (%d, %d bytes)"
         % (st, len(b)))
    t.ok(proxy_placed(h, 3), "object=0, proxy=3 (%s)"
         % h.get("x-storlet-sequence-placement"))
    st, h, b = req("GET", path + "/data/big", headers={
        "X-Run-Storlet": "grep, shoutpx",
        "X-Storlet-Parameter-1": "pattern:gamma"})
    t.ok(st == 200 and b == grep(whole, b"gamma").upper() and
         proxy_placed(h, 2),
         "a chain planned to split (node, proxy) runs wholly on the proxy "
         "(%d, %d bytes, %s)" % (st, len(b), h.get("x-storlet-sequence-placement")))
    st, _, b = req("GET", path + "/data/big",
                   headers={"X-Run-Storlet": "identity, shoutobj"})
    t.ok(st == 400 and b"stage 2 (shoutobj)" in b,
         "a stage that must run on the object node cannot run on a large "
         "object: 400 naming it (%d %r)" % (st, b[:100]))
    st, h, b = req("GET", path + "/data/big", headers={
        "X-Run-Storlet": "shout", "X-Storlet-Run-On-Proxy": ""})
    t.ok(st == 200 and b == whole.upper() and proxy_placed(h, 1),
         "X-Storlet-Run-On-Proxy on a DLO")

    # ---- X-Storlet-Range: a range of the assembled body
    for hdrs, (a, z) in (
            ({"X-Run-Storlet": "identity"}, (65530, 65540)),
            ({"X-Run-Storlet": "identity, shout"}, (1000, 199999)),
            ({"X-Run-Storlet": "shout"}, (len(whole) - 20, len(whole) - 1))):
        hh = dict(hdrs)
        hh["X-Storlet-Range"] = "bytes=%d-%d" % (a, z)
        st, h, b = req("GET", path + "/data/big", headers=hh)
        want = whole[a:z + 1]
        if "shout" in hdrs["X-Run-Storlet"]:
            want = want.upper()
        t.ok(st == 200 and b == want,
             "X-Storlet-Range bytes=%d-%d on a DLO with %s (%d, %d bytes)"
             % (a, z, hdrs["X-Run-Storlet"], st, len(b)))
        t.eq(h.get("storlet-input-range"), "bytes %d-%d/%d" % (a, z, len(whole)),
             "reported in Storlet-Input-Range")
    st, _, b = req("GET", path + "/data/big", headers={
        "X-Run-Storlet": "rangeinfo.py", "X-Storlet-Range": "bytes=100-65636"})
    got = json.loads(b) if st == 200 else {}
    t.eq(got, {"range": {"first": 100, "last": 65636, "size": len(whole)},
               "bytes": 65537},
         "the storlet's invocation document names the range of the "
         "assembled object")
    st, _, b = req("GET", path + "/data/big", headers={
        "X-Run-Storlet": "identity", "X-Storlet-Range": "bytes=-7"})
    t.eq((st, b), (200, whole[-7:]), "a suffix X-Storlet-Range on a DLO")
    st, _, _ = req("GET", path + "/data/big", headers={
        "X-Run-Storlet": "identity",
        "X-Storlet-Range": "bytes=%d-" % (len(whole) + 5)})
    t.eq(st, 416, "an X-Storlet-Range beyond the assembled body is 416")

    # ---- COPY and PUT + X-Copy-From with a storlet
    st, h, _ = req("PUT", path + "/data/big-upper", body=b"", headers={
        "X-Copy-From": "data/big", "X-Run-Storlet": "shout"})
    t.eq((st, h.get("x-storlet-sequence-placement")), (201, "object=0, proxy=1"),
         "PUT + X-Copy-From a DLO through a storlet")
    st, h, b = req("GET", path + "/data/big-upper")
    t.ok(st == 200 and b == whole.upper(),
         "the copy holds the storlet's output over the assembled body")
    t.ok("x-object-manifest" not in h, "and is a plain object")
    t.eq((h.get("x-object-meta-storlet-generated-by"),
          h.get("x-object-meta-storlet-generated-from")),
         ("shout", "data/big"), "with provenance naming the source")
    st, h, _ = p.request("COPY", path + "/data/big", headers={
        "X-Auth-Token": tok, "Destination": "data/big-gamma",
        "X-Run-Storlet": "shout, grep",
        "X-Storlet-Stage-2-Parameter-1": "pattern:GAMMA"})
    t.eq((st, h.get("x-storlet-sequence-placement")), (201, "object=0, proxy=2"),
         "COPY of a DLO through a chain")
    st, _, b = req("GET", path + "/data/big-gamma")
    t.ok(b == grep(whole.upper(), b"GAMMA"), "the COPY stored the chain's output")

    # ---- a Distributed request: each split is a storlet GET
    req("PUT", path + "/data/big2", body=b"",
        headers={"X-Object-Manifest": "segs/scan/0002"})
    doc = {"resources": {"objects": ["data/big", "data/big2"]},
           "split": {"storlet": "shout"},
           "merge": {"storlet": "partlist", "parameters": {"format": "raw"}}}
    # (raw parts come in the order the splits finish)
    st, h, b = req("POST", path, body=json.dumps(doc).encode(), headers={
        "X-Storlet-Distributed": "1", "Content-Type": "application/json"})
    two = (whole.upper(), whole[cuts[2]:cuts[3]].upper())
    t.ok(st == 200 and b in (two[0] + two[1], two[1] + two[0]),
         "Distributed splits over a DLO read the assembled body (%d, %d bytes)"
         % (st, len(b)))

    # ---- ?multipart-manifest=get: the manifest's own bytes
    st, _, _ = req("PUT", path + "/data/bodied", body=b"manifest bytes\n",
                   headers={"X-Object-Manifest": "segs/scan/"})
    st, h, b = req("GET", path + "/data/bodied",
                   headers={"X-Run-Storlet": "shout"})
    t.ok(st == 200 and b == whole.upper(),
         "a manifest with bytes of its own: the storlet reads the segments")
    st, h, b = req("GET", path + "/data/bodied?multipart-manifest=get",
                   headers={"X-Run-Storlet": "shout"})
    t.eq((st, b), (200, b"MANIFEST BYTES\n"),
         "with ?multipart-manifest=get it reads the manifest's own bytes")

    # ---- the node never runs a chain over a manifest
    part, prim, _ = cl.locate("AUTH_test", "data", "big")
    nd, dev = prim[0]
    chain = json.dumps([{"storlet": "identity"}])
    st, h, b = nd.request(
        "GET", "/%s/%d/AUTH_test/data/big" % (dev, part),
        headers={"X-Backend-Storlet-Chain": chain,
                 "X-Backend-Storlet-Token": tok,
                 "X-Backend-Storlet-Proxy": "%s:%d" % (p.ip, p.port)})
    t.eq((st, h.get("x-backend-storlet-manifest")), (422, "1"),
         "a backend storlet GET of a manifest is 422: not run on the node")
    t.ok("x-storlet-executed-on" not in h, "and nothing ran there")

    # ---- other users: the segment container's ACL applies
    for c in ("data", "storlet", "dependency"):
        req("POST", path + "/" + c, headers={"X-Container-Read": "test2"})
    st, _, _ = req("GET", path + "/data/big", token=tok2,
                   headers={"X-Run-Storlet": "identity"})
    t.eq(st, 403, "a reader of the manifest's container only: 403")
    req("POST", path + "/segs", headers={"X-Container-Read": "test2"})
    st, _, b = req("GET", path + "/data/big", token=tok2,
                   headers={"X-Run-Storlet": "identity"})
    t.ok(st == 200 and b == whole,
         "with read access to the segments too: the assembled body")

    # ---- a plain COPY of a manifest copies the assembled body (Swift)
    st, h, _ = req("PUT", path + "/data/big-copy", body=b"",
                   headers={"X-Copy-From": "data/big"})
    t.eq((st, h.get("etag")), (201, hashlib.md5(whole).hexdigest()),
         "PUT + X-Copy-From of a DLO answers 201 with the assembled MD5")
    st, h, b = req("GET", path + "/data/big-copy")
    t.ok(st == 200 and b == whole and "x-object-manifest" not in h,
         "PUT + X-Copy-From of a DLO stores the assembled body as a plain "
         "object (%d, %d bytes)" % (st, len(b)))
    t.eq((h.get("x-object-meta-ward"), h.get("content-type")),
         ("7", "text/plain"), "with the manifest's metadata and type")
    st, _, _ = p.request("COPY", path + "/data/big", headers={
        "X-Auth-Token": tok, "Destination": "data/big-copy2"})
    st2, h, b = req("GET", path + "/data/big-copy2")
    t.ok(st == 201 and b == whole and "x-object-manifest" not in h,
         "COPY of a DLO stores the assembled body (%d, %d bytes)"
         % (st, len(b)))
    st, _, _ = p.request("COPY", path + "/data/big?multipart-manifest=get",
                         headers={"X-Auth-Token": tok,
                                  "Destination": "data/big-man"})
    st2, h, b = req("GET", path + "/data/big-man")
    t.ok(st == 201 and b == whole and
         h.get("x-object-manifest") == "segs/scan/",
         "COPY ?multipart-manifest=get copies the manifest itself")
    st, _, b = req("GET", path + "/data/big-man?multipart-manifest=get")
    t.eq((st, b), (200, b""), "(its own bytes are the manifest's)")
    st, _, _ = req("PUT", path + "/data/big-copy3", body=b"", headers={
        "X-Copy-From": "data/big", "If-Match": '"nomatch"'})
    t.eq(st, 412, "a conditional COPY of a DLO is judged on the assembled "
         "object")

    # ---- storlet rules (docs/rules.md): a mandatory read rule on the
    # manifest's container runs over the assembled body; one on the
    # segments' container keeps them from being assembled at all
    rule = {"rules": [{"id": "shout-researchers", "mandatory": True,
                       "match": {"groups": ["researcher"]},
                       "action": {"storlet": "shout"}}]}
    for c in ("ruled", "vault"):
        req("PUT", path + "/" + c)
        req("POST", path + "/" + c, headers={"X-Container-Read": "researcher"})
        st, _, _ = req("POST", path + "/" + c,
                       headers={"X-Storlet-Rules": json.dumps(rule)})
        t.eq(st, 204, "a mandatory read rule on %s" % c)
    for c in ("segs", "data", "storlet"):
        req("POST", path + "/" + c,
            headers={"X-Container-Read": "test2,researcher"})
    req("PUT", path + "/ruled/big", body=b"",
        headers={"X-Object-Manifest": "segs/scan/"})
    st, h, b = req("GET", path + "/ruled/big", token=rtok)
    t.ok(st == 200 and b == whole.upper(),
         "a ruled manifest: the mandatory storlet runs over the assembled "
         "body (%d, %d bytes)" % (st, len(b)))
    t.eq(h.get("x-storlet-sequence-placement"), "object=0, proxy=1",
         "on the proxy")
    st, h, b = req("GET", path + "/ruled/big", token=rtok,
                   headers={"X-Run-Storlet": "grep",
                            "X-Storlet-Parameter-1": "pattern:GAMMA"})
    t.ok(st == 200 and b == grep(whole.upper(), b"GAMMA"),
         "the mandatory stage first, then the caller's (%d, %d bytes)"
         % (st, len(b)))
    for i in range(2):
        req("PUT", path + "/vault/part/%d" % i, body=whole[i * 1000:(i + 1) * 1000])
    req("PUT", path + "/data/vaulted", body=b"",
        headers={"X-Object-Manifest": "vault/part/"})
    st, _, b = req("GET", path + "/data/vaulted", token=rtok,
                   headers={"X-Run-Storlet": "identity"})
    t.ok(st == 403 and whole[:1000] not in b,
         "a storlet on a manifest whose segments are under a mandatory rule "
         "for the caller: 403, never the raw segments (%d %r)" % (st, b[:60]))
    st, _, b = req("GET", path + "/data/vaulted",
                   headers={"X-Run-Storlet": "identity"})
    t.ok(st == 200 and b == whole[:2000], "while the owner's storlet reads them")

    # ---- the swift CLI: a segmented upload, a download through a storlet
    env = dict(os.environ, ST_AUTH="http://%s:%d/auth/v1.0" % (p.ip, p.port),
               ST_USER="test:tester", ST_KEY="testing")
    work = os.path.join(cl.dir, "cli")
    os.makedirs(work)
    data = os.urandom(300000)
    with open(os.path.join(work, "scan.bin"), "wb") as f:
        f.write(data)
    swift = ["/usr/bin/python3", "/usr/bin/swift"]
    r = subprocess.run(swift + ["upload", "cli", "scan.bin",
                                "--segment-size", "65536"],
                       env=env, cwd=work, capture_output=True, text=True)
    t.eq(r.returncode, 0, "swift upload --segment-size succeeds")
    st, h, _ = req("HEAD", path + "/cli/scan.bin")
    t.ok(h.get("x-object-manifest", "").startswith("cli_segments/"),
         "it was stored as a DLO")
    os.remove(os.path.join(work, "scan.bin"))
    r = subprocess.run(swift + ["download", "cli", "scan.bin",
                                "--header", "X-Run-Storlet: identity"],
                       env=env, cwd=work, capture_output=True, text=True)
    t.ok(r.returncode == 0,
         "swift download --header 'X-Run-Storlet: identity' passes its "
         "checks (%d %s)" % (r.returncode, r.stderr.strip()[:200]))
    got = b""
    if os.path.exists(os.path.join(work, "scan.bin")):
        with open(os.path.join(work, "scan.bin"), "rb") as f:
            got = f.read()
    t.ok(got == data, "and writes the uploaded bytes (%d of %d)"
         % (len(got), len(data)))
    r = subprocess.run(swift + ["download", "cli", "scan.bin", "-o", "-",
                                "--header", "X-Run-Storlet: shout"],
                       env=env, cwd=work, capture_output=True)
    t.ok(r.returncode == 0 and r.stdout == data.upper(),
         "swift download through a transforming storlet (%d, %d bytes)"
         % (r.returncode, len(r.stdout)))
    t.eq(hashlib.md5(r.stdout).hexdigest(), hashlib.md5(data.upper()).hexdigest(),
         "its MD5 is the transform's")

t.done()
