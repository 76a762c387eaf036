#!/usr/bin/python3
# tier: quick
"""Provenance cannot be forged (docs/storlets.md section 2): a client's
X-Object-Meta-Storlet-Generated-* headers are dropped on PUT, POST, COPY and
X-Copy-From, with or without a made-up X-Cairn-Capability; the output of a
storlet PUT or COPY carries provenance, stored as object sysmeta; a later
POST by the owner replaces the user metadata and keeps the provenance; a
plain copy of a storlet's output keeps it; an overwrite drops it."""
import hashlib
import http.client
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
http.client._MAXHEADERS = 300   # an object with 90 metadata keys and more

PROV = ("By", "By-Etag", "Params", "From", "From-Etag")
FORGED = {"X-Object-Meta-Storlet-Generated-" + k: "forged-" + k for k in PROV}


def prov(h):
    """The provenance a client sees in a HEAD or GET answer."""
    return {k: h.get("x-object-meta-storlet-generated-" + k.lower())
            for k in PROV if "x-object-meta-storlet-generated-" + k.lower() in h}


with Cluster(t) as cl:
    _, p = cl.storlet_cluster(warm="0")
    path, tok = p.auth("test:tester")
    req = p.requester(tok)
    p.enable_storlets(path, tok, ("storlet", "data"))
    t.eq(p.deploy(path, tok, "identity", metadata="yes"), 201,
         "deploy identity")
    _, sh, _ = req("HEAD", path + "/storlet/identity")
    data = b"some measured values\n" * 50
    src_etag = hashlib.md5(data).hexdigest()

    # ---- clients cannot set provenance
    cl.expect_log(r"ignoring an X-Cairn-Capability")
    st, _, _ = req("PUT", path + "/data/src", body=data,
                   headers=dict(FORGED, **{"X-Object-Meta-Color": "blue"}))
    t.eq(st, 201, "a PUT with provenance headers succeeds")
    st, h, _ = req("HEAD", path + "/data/src")
    t.eq(prov(h), {}, "but stores none of them (dropped silently)")
    t.eq(h.get("x-object-meta-color"), "blue", "its other metadata is stored")

    forged_cap = ("v1;storlet-output;9999999999;x;%s;/v1/%s/data/capped"
                  % ("ab" * 32, path.rsplit("/", 1)[1]))
    req("PUT", path + "/data/capped", body=data,
        headers=dict(FORGED, **{"X-Cairn-Capability": forged_cap}))
    st, h, _ = req("HEAD", path + "/data/capped")
    t.eq((st, prov(h)), (200, {}), "nor with a made-up X-Cairn-Capability")
    t.ok("ignoring an X-Cairn-Capability" in p.read_log(),
         "the proxy logged the capability it ignored")

    st, _, _ = req("POST", path + "/data/src", headers=FORGED)
    t.eq(st, 202, "a POST with provenance headers succeeds")
    st, h, _ = req("HEAD", path + "/data/src")
    t.eq(prov(h), {}, "but stores none of them")

    st, _, _ = p.request("COPY", path + "/data/src", headers=dict(
        FORGED, **{"X-Auth-Token": tok, "Destination": "data/copied"}))
    t.eq(st, 201, "a COPY with provenance headers succeeds")
    st, h, _ = req("HEAD", path + "/data/copied")
    t.eq(prov(h), {}, "but stores none of them")
    st, _, _ = req("PUT", path + "/data/copied2", body=b"",
                   headers=dict(FORGED, **{"X-Copy-From": "data/src"}))
    st, h, _ = req("HEAD", path + "/data/copied2")
    t.eq(prov(h), {}, "nor does a PUT with X-Copy-From")

    # ---- a storlet's output carries it
    st, _, _ = req("PUT", path + "/data/out", body=data, headers=dict(
        FORGED, **{"X-Run-Storlet": "identity", "X-Storlet-Parameter-1": "k:v",
                   "X-Object-Meta-Color": "red"}))
    t.eq(st, 201, "PUT through identity")
    st, h, b = req("GET", path + "/data/out")
    t.eq(b, data, "the output is stored")
    t.eq(prov(h), {"By": "identity", "By-Etag": sh.get("etag"),
                   "Params": '{"k":"v"}'},
         "its provenance is the storlet's, not the client's forgery")
    t.eq(h.get("x-object-meta-color"), "red", "the request's metadata is kept")

    for copy_on_proxy in (False, True):
        dst = "data/by-copy-%d" % copy_on_proxy
        hdr = {"X-Auth-Token": tok, "Destination": dst,
               "X-Run-Storlet": "identity"}
        if copy_on_proxy:
            hdr["X-Storlet-Run-On-Proxy"] = ""
        hdr.update(FORGED)
        st, _, _ = p.request("COPY", path + "/data/src", headers=hdr)
        t.eq(st, 201, "COPY through identity (on the %s)"
             % ("proxy" if copy_on_proxy else "object node"))
        st, h, _ = req("HEAD", path + "/" + dst)
        t.eq(prov(h), {"By": "identity", "By-Etag": sh.get("etag"),
                       "Params": "{}", "From": "data/src",
                       "From-Etag": src_etag},
             "the copy's provenance names the storlet and the source")

    # X-Copy-From names its source URL-quoted (and may start with "/"):
    # the provenance names it as a COPY does, decoded
    req("PUT", path + "/data/s%20rc", body=data)
    st, h, _ = req("PUT", path + "/data/by-xcf", headers={
        "X-Copy-From": "/data/s%20rc", "X-Run-Storlet": "identity"})
    st2, h2, _ = req("HEAD", path + "/data/by-xcf")
    t.eq((st, h.get("x-storlet-generated-from"),
          prov(h2).get("From"), prov(h2).get("From-Etag")),
         (201, "data/s rc", "data/s rc", src_etag),
         "an X-Copy-From through a storlet names its source decoded")

    # provenance is not user metadata: an output with the most metadata a
    # storlet may send (90 keys) still stores, provenance and all
    st = p.deploy(path, tok, "meta90.py", body=(
        b"def main(s):\n"
        b"    s.set_metadata({'K%02d' % i: 'v' for i in range(90)})\n"
        b"    for chunk in iter(lambda: s.input.read(65536), b''):\n"
        b"        s.write(chunk)\n"), lang="python", main="meta90.main")
    t.eq(st, 201, "deploy meta90.py")
    st, _, b = req("PUT", path + "/data/meta90", body=data,
                   headers={"X-Run-Storlet": "meta90.py"})
    t.eq(st, 201, "PUT through a storlet sending 90 metadata keys")
    st, h, _ = req("HEAD", path + "/data/meta90")
    t.ok(st == 200 and h.get("x-object-meta-k89") == "v" and
         prov(h).get("By") == "meta90.py",
         "all 90 keys and the provenance are stored")

    # a storlet's output on GET is not what the provenance describes
    for on_proxy in (False, True):
        hdr = {"X-Run-Storlet": "identity"}
        if on_proxy:
            hdr["X-Storlet-Run-On-Proxy"] = ""
        st, h, b = req("GET", path + "/data/out", headers=hdr)
        t.eq((st, b, prov(h)), (200, data, {}),
             "a storlet GET of it (on the %s) does not pass the provenance on"
             % ("proxy" if on_proxy else "object node"))

    # stored as sysmeta on the object nodes, not as user metadata
    a = path.rsplit("/", 1)[1]
    part, prim, _ = cl.locate(a, "data", "out")
    node, dev = prim[0]
    st, h, _ = node.obj("HEAD", "/%s/%d/%s/data/out" % (dev, part, a))
    t.eq((st, h.get("x-object-sysmeta-storlet-generated-by"),
          h.get("x-object-meta-storlet-generated-by")), (200, "identity", None),
         "an object node holds it as X-Object-Sysmeta-Storlet-Generated-*")

    # ---- POST replaces user metadata, keeps provenance
    st, _, _ = req("POST", path + "/data/out",
                   headers=dict(FORGED, **{"X-Object-Meta-Reviewed": "yes"}))
    t.eq(st, 202, "the owner POSTs other metadata")
    st, h, _ = req("HEAD", path + "/data/out")
    t.eq(h.get("x-object-meta-reviewed"), "yes", "the new metadata is there")
    t.ok("x-object-meta-color" not in h, "the old user metadata is replaced")
    t.eq(prov(h).get("By"), "identity",
         "the provenance survives the POST, unforged")

    # ---- plain copies keep it (same bytes); an overwrite drops it
    req("PUT", path + "/data/plain-copy", body=b"",
        headers={"X-Copy-From": "data/out", "X-Fresh-Metadata": "true"})
    st, h, _ = req("HEAD", path + "/data/plain-copy")
    t.eq(prov(h).get("By"), "identity",
         "a plain copy (even X-Fresh-Metadata) keeps the provenance")
    req("PUT", path + "/data/out", body=b"new bytes")
    st, h, _ = req("HEAD", path + "/data/out")
    t.eq(prov(h), {}, "overwriting the object drops it")

t.done()
