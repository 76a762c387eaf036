#!/usr/bin/python3
# tier: quick
"""Attacks on a mandatory storlet rule (docs/rules.md section 4), beyond the
known bypasses of storlet_rules.py.

A researcher (tempauth group `researcher`) may read the container
`records`, whose mandatory rule de-identifies every record with deid.py.
They want the raw records, or facts of them (ETag, length, stored user
metadata). Each check below is one way of asking that the other suite does
not try; every one must end with de-identified bytes, a refusal, or facts
that say nothing about the stored bytes."""
import hashlib
import http.client
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster, BUILD, SRC, storlet_headers  # noqa: E402
from tap import Tap  # noqa: E402


t = Tap()

DEID = {"id": "deid-researchers", "mandatory": True,
        "match": {"groups": ["researcher"]},
        "action": {"storlet": "deid.py",
                   "parameters": {"fields": "name,ssn", "mode": "mask"}}}

CSV = (b"id,name,ssn,diagnosis\r\n"
       b"1,Alice Smith,123-45-6789,flu\r\n"
       b"2,Bob Jones,987-65-4321,asthma\r\n")
CSV_MD5 = hashlib.md5(CSV).hexdigest()
SECRETS = (b"Alice", b"Bob", b"123-45-6789", b"987-65-4321",
           CSV_MD5.encode(), b"Patient-Secret")


def leaks(body):
    if isinstance(body, str):
        body = body.encode("latin-1", "replace")
    return any(s in body for s in SECRETS)


def hleaks(h):
    """Do response headers carry a fact of the raw record?"""
    return leaks(json.dumps(h).encode()) or h.get("content-length") == str(len(CSV))


def native(main):
    return storlet_headers(main)


def python(main, meta="no"):
    return storlet_headers(main, "python", meta)


# A storlet that reports everything it is given: its invocation document,
# its environment, its input, and (parameter `read`) another object read
# through services. Hostile code a researcher got deployed.
DUMP = b'''import json, os
import cairn_storlet

def main(s):
    out = {"doc": s.doc, "env": dict(os.environ),
           "input": s.input.read().decode("latin-1")}
    p = s.param("read")
    if p:
        try:
            rg = s.param("range")
            rg = rg.replace("CRLF", "\\r\\n") if rg else None
            with s.open_object(p, rg) as f:
                out["read"] = {"reply": f.reply, "body": f.read().decode("latin-1")}
        except Exception as e:
            out["read"] = {"error": str(e)}
    s.set_content_type("application/json")
    s.write(json.dumps(out))
'''

with Cluster(t) as cl:
    users = {"test:tester": "testing .admin",
             "test:res": "resing researcher",
             "test2:tester2": "testing2 .admin"}
    nodes, p = cl.storlet_cluster(warm="0", users=users)
    path, tok = p.auth("test:tester")
    _, rtok = p.auth("test:res")

    def raw(m, u, headers=None, token=None, body=None, px=None):
        """One request; an abnormal end gives the bytes received."""
        px = px or p
        c = http.client.HTTPConnection(px.ip, px.port, timeout=60)
        try:
            c.putrequest(m, u, skip_accept_encoding=True)
            h = {"X-Auth-Token": token or rtok}
            h.update(headers or {})
            for k, v in h.items():
                if v is not None:
                    c.putheader(k, v)
            c.putheader("Content-Length", str(len(body or b"")))
            c.endheaders(body or b"")
            r = c.getresponse()
            hd = {k.lower(): v for k, v in r.getheaders()}
            try:
                return r.status, hd, r.read()
            except http.client.IncompleteRead as e:
                return r.status, hd, e.partial
        finally:
            c.close()

    def adm(m, u, headers=None, body=None):
        return raw(m, u, headers=headers, token=tok, body=body)

    # ---------------------------------------------------------- setup
    adm("POST", path, headers={"X-Account-Meta-Storlet-Enabled": "True"})
    for c in ("records", "storlet", "dependency", "scratch", "segs"):
        adm("PUT", path + "/" + c)
    adm("POST", path + "/records", headers={
        "X-Container-Read": "researcher",
        "X-Storlet-Rules": json.dumps({"rules": [DEID]})})
    adm("POST", path + "/scratch", headers={"X-Container-Read": "researcher",
                                            "X-Container-Write": "researcher"})
    adm("POST", path + "/storlet", headers={"X-Container-Read": "researcher"})
    with open(os.path.join(SRC, "storlets", "deid", "deid.py"), "rb") as f:
        st, _, _ = adm("PUT", path + "/storlet/deid.py", body=f.read(),
                       headers=python("deid.main"))
    t.eq(st, 201, "deploy deid.py")
    for name in ("identity", "partlist"):
        with open(os.path.join(BUILD, "storlets", name), "rb") as f:
            adm("PUT", path + "/storlet/" + name, body=f.read(), headers=native(name))
    st, _, _ = adm("PUT", path + "/storlet/dump.py", body=DUMP,
                   headers=python("dump.main", meta="yes"))
    t.eq(st, 201, "deploy dump.py, a storlet that reports all it is given")
    st, _, _ = adm("PUT", path + "/records/p1.csv", body=CSV, headers={
        "Content-Type": "text/csv", "X-Object-Meta-Patient": "Patient-Secret"})
    t.eq(st, 201, "store a record with user metadata")
    DEID_H = {"X-Run-Storlet": "deid.py", "X-Storlet-Parameter-1": "fields:name,ssn",
              "X-Storlet-Parameter-2": "mode:mask"}
    st, _, REF = adm("GET", path + "/records/p1.csv", headers=DEID_H)
    t.ok(st == 200 and not leaks(REF), "the de-identified record (%d %r)" % (st, REF[:60]))
    st, h, b = raw("GET", path + "/records/p1.csv")
    t.ok(st == 200 and b == REF, "the researcher's GET is de-identified (%d)" % st)

    def safe(st, h, b):
        return not leaks(b) and not hleaks(h) and (st >= 400 or b in REF)

    # ---------------------------------------------------------- paths
    for u in ("/v1/AUTH_test/rec%6Frds/p1.csv", "/v1/AUTH_test/records/p1%2Ecsv",
              "/v1/AUTH_test/records%2Fp1.csv", "/v1/AUTH_test//records/p1.csv",
              "/v1/AUTH_test/records//p1.csv", "/v1/AUTH_test/records/p1.csv/",
              "/v1/AUTH_test/records/./p1.csv", "/v1/AUTH_test/scratch/../records/p1.csv",
              "/v1/%41UTH_test/records/p1.csv", "/v1//AUTH_test/records/p1.csv",
              "/v1/auth_test/records/p1.csv", "/V1/AUTH_test/records/p1.csv",
              "/v1.0/AUTH_test/records/p1.csv", "/v1/AUTH_test/records/p1.csv?",
              "/v1/AUTH_test/records/p1.csv#x", "//v1/AUTH_test/records/p1.csv",
              "http://x/v1/AUTH_test/records/p1.csv"):
        st, h, b = raw("GET", u)
        t.ok(safe(st, h, b), "GET %s: never raw (%d %r)" % (u, st, b[:50]))

    # ---------------------------------------------------------- headers from the client
    for hd in ({"X-Newest": "true"},
               {"X-Backend-Storlet-Chain": "[]"},
               {"X-Backend-Storlet-Facts-Timestamp": "0000000001.00000"},
               {"X-Backend-Ignore-Range-If-Metadata-Present": "X-Object-Manifest",
                "Range": "bytes=0-40"},
               {"X-Object-Sysmeta-Cairn-Storlet-Rules": "{}"},
               {"X-Container-Sysmeta-Cairn-Storlet-Rules": "{}"},
               {"X-Cairn-Capability": "v1;storlet-ruled;9999999999;x;" + "0" * 64 +
                ";/v1/AUTH_test/records/p1.csv"},
               {"X-Storlet-Depth": "9"},
               {"X-Backend-Storlet-Token": tok},
               {"X-Auth-Token": rtok, "X-Service-Token": tok},
               {"X-Storage-Token": tok, "X-Auth-Token": rtok}):
        for m in ("GET", "HEAD"):
            st, h, b = raw(m, path + "/records/p1.csv", headers=hd)
            t.ok(safe(st, h, b), "%s with %s: never raw (%d %r %s)"
                 % (m, sorted(hd), st, b[:50], sorted(h)))

    # ETag oracles
    for hd in ({"If-None-Match": CSV_MD5}, {"If-None-Match": '"%s"' % CSV_MD5},
               {"If-None-Match": "W/\"%s\"" % CSV_MD5},
               {"If-None-Match": "x, %s" % CSV_MD5}, {"If-Match": "*, %s" % CSV_MD5},
               {"If-Match": " *"}):
        got = []
        for m in ("GET", "HEAD"):
            st, h, b = raw(m, path + "/records/p1.csv", headers=hd)
            st2, _, _ = raw(m, path + "/records/p1.csv",
                            headers={k: v.replace(CSV_MD5, "0" * 32) for k, v in hd.items()})
            got.append((st, st2))
            t.ok(st == st2 and not leaks(b),
                 "%s with %s: the same answer as for a wrong ETag (%d %d)"
                 % (m, hd, st, st2))
    st, h, b = raw("OPTIONS", path + "/records/p1.csv")
    t.ok(safe(st, h, b), "OPTIONS tells nothing (%d %s)" % (st, sorted(h)))

    # ---------------------------------------------------------- a storlet's view
    st, h, b = raw("GET", path + "/records/p1.csv", headers={"X-Run-Storlet": "dump.py"})
    try:
        seen = json.loads(b)
    except ValueError:
        seen = {}
    t.ok(st == 200 and seen.get("input", "").encode("latin-1") == REF,
         "a hostile storlet after deid.py reads only the de-identified record (%d %r)"
         % (st, b[:100]))
    t.ok(not leaks(json.dumps(seen)),
         "and nothing it is given (document, environment) is a fact of the raw one "
         "(%r)" % json.dumps(seen.get("doc", {}).get("inputs"))[:300])
    t.ok(str(len(CSV)) not in json.dumps(seen.get("doc", {}).get("inputs")),
         "not even the raw length")
    t.ok("Cairn-Capability" not in json.dumps(seen) and tok not in json.dumps(seen),
         "and it holds no capability or other token")
    st, h, b = raw("GET", path + "/records/p1.csv",
                   headers={"X-Run-Storlet": "dump.py", "X-Storlet-Run-On-Proxy": ""})
    t.ok(st == 200 and not leaks(b) and b'"content_length": %d' % len(CSV) not in b,
         "on the proxy as well (%d %r)" % (st, b[:100]))

    # services: the manifest-free reads of another object
    adm("PUT", path + "/scratch/s1", body=b"x")
    for rp, rg in (("records/p1.csv", None), ("records/p1.csv", "bytes=0-20"),
                   ("records/p1.csv", "bytes=-20"), ("/AUTH_test/records/p1.csv", None),
                   ("records//p1.csv", None), ("rec%6Frds/p1.csv", None),
                   ("records/p1.csv?multipart-manifest=get", None),
                   ("records/p1.csv", "bytes=0-20CRLFX-Run-Storlet: identity")):
        hd = {"X-Run-Storlet": "dump.py", "X-Storlet-Parameter-1": "read:" + rp}
        if rg:
            hd["X-Storlet-Parameter-2"] = "range:" + rg
        st, h, b = raw("GET", path + "/scratch/s1", headers=hd)
        t.ok(not leaks(b) and b'"content_length": %d' % len(CSV) not in b,
             "a services read of %s %s is never raw (%d %r)" % (rp, rg or "", st, b[-200:]))

    hd = {"X-Run-Storlet": "dump.py", "X-Storlet-Parameter-1": "read:records/p1.csv",
          "X-Storlet-Parameter-2": "range:bytes=%d-200" % CSV.index(b"1,Alice")}
    st, h, b = raw("GET", path + "/scratch/s1", headers=hd)
    t.ok(not leaks(b), "a services read from inside a record is cut from the output "
         "(%d %r)" % (st, b[-120:]))

    # ---------------------------------------------------------- copies keep no fact
    st, _, _ = raw("COPY", path + "/records/p1.csv", headers={"Destination": "scratch/c1"})
    t.ok(st in (201, 202), "a researcher's COPY (%d)" % st)
    st, h, b = raw("GET", path + "/scratch/c1")
    t.ok(st == 200 and b == REF, "holds the de-identified bytes")
    t.ok(not hleaks(h), "and no fact of the raw record in its metadata (%s)"
         % {k: v for k, v in h.items() if k.startswith("x-object-meta")})
    st, _, _ = raw("PUT", path + "/scratch/c2", headers={"X-Copy-From": "records/p1.csv"})
    st, h, b = raw("GET", path + "/scratch/c2")
    t.ok(st == 200 and b == REF and not hleaks(h),
         "so does a PUT with X-Copy-From (%d %s)"
         % (st, {k: v for k, v in h.items() if k.startswith("x-object-meta")}))
    st, _, _ = raw("COPY", path + "/records/p1.csv",
                   headers={"Destination": "scratch/c3", "X-Run-Storlet": "identity",
                            "X-Storlet-Run-On-Proxy": ""})
    st, h, b = raw("GET", path + "/scratch/c3")
    t.ok(st == 200 and b == REF and not hleaks(h),
         "and a COPY through the client's storlet on the proxy (%d %r %s)" % (st, b[:60], h))
    st, _, _ = raw("COPY", path + "/records/p1.csv",
                   headers={"Destination": "scratch/c6", "X-Run-Storlet": "identity"})
    st, h, b = raw("GET", path + "/scratch/c6")
    t.ok(st == 200 and b == REF and not hleaks(h),
         "and one through the client's storlet where placement puts it (%d %r %s)"
         % (st, b[:60], h))
    for hd in ({"If-Match": CSV_MD5}, {"If-None-Match": CSV_MD5}):
        st, _, _ = raw("COPY", path + "/records/p1.csv",
                       headers=dict(hd, Destination="scratch/c4"))
        st2, _, _ = raw("COPY", path + "/records/p1.csv",
                        headers={k: ("0" * 32 if k.startswith("If") else v)
                                 for k, v in dict(hd, Destination="scratch/c4").items()})
        t.eq(st, st2, "a COPY with %s answers as for a wrong ETag" % sorted(hd))
    # a cut record makes its first line a "header" deid.py passes through:
    # no read of the stored bytes by range, on any copy path
    cut = "bytes=%d-" % CSV.index(b"1,Alice")
    for i, hd in enumerate(({"Range": cut}, {"X-Storlet-Range": cut},
                            {"Range": cut + "200", "X-Run-Storlet": "identity"},
                            {"X-Storlet-Range": cut, "X-Run-Storlet": "identity",
                             "X-Storlet-Run-On-Proxy": ""})):
        for m, hh in (("COPY", {"Destination": "scratch/r%d" % i}),
                      ("PUT", {"X-Copy-From": "records/p1.csv"})):
            u = path + ("/records/p1.csv" if m == "COPY" else "/scratch/r%d" % i)
            st, _, b = raw(m, u, headers=dict(hd, **hh))
            st2, h, b2 = adm("GET", path + "/scratch/r%d" % i)
            t.ok(not leaks(b) and not leaks(b2),
                 "%s with %s never stores a raw line (%d %d %r)" % (m, hd, st, st2, b2[:50]))
            adm("DELETE", path + "/scratch/r%d" % i)
    st, h, b = raw("GET", path + "/records/p1.csv",
                   headers={"Range": "bytes=5-40", "If-Range": CSV_MD5})
    st2, h2, b2 = raw("GET", path + "/records/p1.csv",
                      headers={"Range": "bytes=5-40", "If-Range": "0" * 32})
    t.ok(st == st2 and b == b2 and not leaks(b),
         "If-Range with the stored ETag answers as with a wrong one (%d %d)" % (st, st2))
    for src in ("rec%6Frds/p1.csv", "/records/p1.csv", "records/./p1.csv"):
        st, _, _ = raw("PUT", path + "/scratch/c5", headers={"X-Copy-From": src})
        st2, h, b = raw("GET", path + "/scratch/c5")
        t.ok(st >= 400 or (b == REF and not hleaks(h)),
             "X-Copy-From %s: never a raw copy (%d %r)" % (src, st, b[:40]))
        raw("DELETE", path + "/scratch/c5")
    # the copy's other side spelt with several leading slashes, which the
    # rules' parser and the storlet copy's must read alike
    for i, (m, u, hd) in enumerate((
            ("PUT", "/scratch/ls1", {"X-Copy-From": "//records/p1.csv"}),
            ("PUT", "/scratch/ls2", {"X-Copy-From": "///records/p1.csv"}),
            ("PUT", "/scratch/ls3", {"X-Copy-From": "/%2Frecords/p1.csv"}),
            ("COPY", "/records/p1.csv", {"Destination": "//scratch/ls4"}),
            ("COPY", "/records/p1.csv", {"Destination": "/%2Fscratch/ls5"}))):
        for extra in ({}, {"X-Run-Storlet": "identity"},
                      {"X-Run-Storlet": "identity", "X-Storlet-Run-On-Proxy": ""}):
            st, _, _ = raw(m, path + u, headers=dict(hd, **extra))
            got = []
            for n in range(1, 6):
                st2, h, b = adm("GET", path + "/scratch/ls%d" % n)
                if st2 == 200:
                    got.append(b)
                    adm("DELETE", path + "/scratch/ls%d" % n)
            t.ok(not any(leaks(b) for b in got),
                 "%s %s %s: never a raw copy (%d %r)" % (m, hd, sorted(extra), st,
                                                         [b[:30] for b in got]))
    # 4.12: a writer of the code container reaching deid.py by the same spelling
    adm("POST", path + "/storlet", headers={"X-Container-Read": "researcher",
                                            "X-Container-Write": "researcher"})
    _, _, code0 = adm("GET", path + "/storlet/deid.py")
    for dst in ("//storlet/deid.py", "/%2Fstorlet/deid.py", "storlet//deid.py"):
        st, _, _ = raw("COPY", path + "/scratch/s1",
                       headers={"Destination": dst, "X-Run-Storlet": "identity"})
        st2, _, code = adm("GET", path + "/storlet/deid.py")
        t.ok(code == code0, "a COPY to %s does not rewrite deid.py (%d)" % (dst, st))
    for res in ("storlet/deid.py", "/storlet/deid.py", "//storlet/deid.py",
                "storlet%2Fdeid.py"):
        st, _, _ = raw("POST", path, body=json.dumps(
            {"resources": {"objects": ["scratch/s1"]}, "split": {"storlet": "identity"},
             "merge": {"storlet": "partlist", "parameters": {"format": "raw"}},
             "result": res}).encode(),
            headers={"X-Storlet-Distributed": "1", "Content-Type": "application/json"})
        st2, _, code = adm("GET", path + "/storlet/deid.py")
        t.ok(code == code0, "a Distributed result %s does not rewrite deid.py (%d)" % (res, st))
    adm("POST", path + "/storlet", headers={"X-Container-Read": "researcher",
                                            "X-Remove-Container-Write": "x"})
    st, _, _ = raw("PUT", "/v1/AUTH_test2/x/y", headers={
        "X-Copy-From": "records/p1.csv", "X-Copy-From-Account": "AUTH_test"})
    t.ok(st in (401, 403), "X-Copy-From-Account into another account is refused (%d)" % st)

    # ---------------------------------------------------------- manifests
    for m in ("rec%6Frds/p", "records/p", "records/p1.csv"):
        st, _, _ = raw("PUT", path + "/scratch/man", body=b"",
                       headers={"X-Object-Manifest": m})
        st, h, b = raw("GET", path + "/scratch/man")
        t.ok(not leaks(b), "a DLO in scratch/ over %s: never raw (%d %r)" % (m, st, b[:40]))
        one = hashlib.md5(CSV_MD5.encode()).hexdigest()
        for hd in ({}, {"Range": "bytes=0-10"}, {"If-Match": '"%s"' % one},
                   {"If-None-Match": '"%s"' % one}):
            st, h, b = raw("HEAD", path + "/scratch/man", headers=hd)
            t.ok(not hleaks(h) and one not in json.dumps(h) and
                 h.get("content-length") != str(len(CSV)) and st not in (304, 412),
                 "nor its HEAD %s (%d %s)" % (hd, st, h))
        st, h, b = raw("COPY", path + "/scratch/man", headers={"Destination": "scratch/m2"})
        st2, h, b = adm("GET", path + "/scratch/m2")
        t.ok(not leaks(b), "nor its COPY (%d %r)" % (st, b[:40]))
        adm("DELETE", path + "/scratch/m2")
    adm("PUT", path + "/scratch/plain", body=b"plain")
    st, _, _ = raw("POST", path + "/scratch/plain",
                   headers={"X-Object-Manifest": "records/p"})
    st, h, b = raw("GET", path + "/scratch/plain")
    t.ok(not leaks(b), "nor one a POST points there (%d %r)" % (st, b[:40]))
    st, h, b = raw("GET", path + "/scratch/plain?x=multipart-manifest=get")
    t.ok(not leaks(b), "nor a near-miss manifest query (%d %r)" % (st, b[:40]))

    # ---------------------------------------------------------- large objects inside records
    # segments in a container the researcher cannot read at all
    adm("PUT", path + "/vault")
    half = CSV.index(b"2,Bob")
    adm("PUT", path + "/vault/s1", body=CSV[:half])
    adm("PUT", path + "/vault/s2", body=CSV[half:])
    st, _, _ = adm("PUT", path + "/records/slo.csv?multipart-manifest=put", body=json.dumps(
        [{"path": "vault/s1"}, {"path": "vault/s2"}]).encode(),
        headers={"Content-Type": "text/csv"})
    t.eq(st, 201, "the admin stores an SLO in records/ over vault/")
    adm("PUT", path + "/records/dlo.csv", body=b"",
        headers={"X-Object-Manifest": "vault/s", "Content-Type": "text/csv"})
    st, _, b = adm("GET", path + "/records/slo.csv")
    t.ok(b == CSV, "which assembles for the admin")
    for o in ("slo.csv", "dlo.csv"):
        st, h, b = raw("GET", path + "/records/" + o)
        t.ok(not leaks(b) and not hleaks(h) and "swift_bytes" not in json.dumps(h) and
             "x-manifest-etag" not in h and "x-static-large-object" not in h,
             "the researcher's GET of the %s keeps no fact (%d %r %s)" % (o, st, b[:40], h))
        st, h, b = raw("HEAD", path + "/records/" + o)
        t.ok(not hleaks(h) and "swift_bytes" not in json.dumps(h) and
             "x-manifest-etag" not in h and "x-static-large-object" not in h and
             "x-object-manifest" not in h,
             "and its HEAD (%d %s)" % (st, h))
        for q in ("?multipart-manifest=get", "?multipart-manifest=get&format=raw"):
            st, h, b = raw("GET", path + "/records/" + o + q)
            t.ok(st == 403 and not leaks(b), "and %s is 403 (%d)" % (q, st))
    for q in ("?format=json", "?format=xml"):
        st, h, b = raw("GET", path + "/records" + q)
        t.ok(st == 200 and b"swift_bytes" not in b and b'"bytes": 86' not in b and
             b"<bytes>86<" not in b,
             "a listing %s gives no SLO's size (%r)" % (q, b[:300]))

    for hd in ({"X-Copy-From": "records/slo.csv?multipart-manifest=get"},
               {"X-Copy-From": "records/slo.csv%3Fmultipart-manifest=get"}):
        for extra in ({"X-Run-Storlet": "identity"},
                      {"X-Run-Storlet": "identity", "X-Storlet-Run-On-Proxy": ""}):
            st, _, _ = raw("PUT", path + "/scratch/q1", headers=dict(hd, **extra))
            st2, h, b = adm("GET", path + "/scratch/q1")
            t.ok(not leaks(b) and b"vault" not in b and b'"hash"' not in b,
                 "X-Copy-From %s with %s never reads the manifest (%d %d %r)"
                 % (hd["X-Copy-From"], sorted(extra), st, st2, b[:60]))
            adm("DELETE", path + "/scratch/q1")

    # ---------------------------------------------------------- a copy's source by its facts
    # (docs/rules.md 4.1: the source of a PUT with X-Copy-From is decided
    # with its content type and metadata, as a COPY's is)
    with open(os.path.join(BUILD, "storlets", "fixity"), "rb") as f:
        adm("PUT", path + "/storlet/fixity", body=f.read(), headers=native("fixity"))
    adm("PUT", path + "/mixed")
    adm("POST", path + "/mixed", headers={
        "X-Container-Read": "researcher", "X-Storlet-Rules": json.dumps({"rules": [
            dict(DEID, id="phi", match={"groups": ["researcher"],
                                        "metadata": {"Sensitivity": "phi"}}),
            {"id": "sum-text", "match": {"methods": ["COPY"],
                                         "content_types": ["text/plain"]},
             "action": {"storlet": "fixity"}}]})})
    adm("PUT", path + "/mixed/phi.csv", body=CSV,
        headers={"Content-Type": "text/csv", "X-Object-Meta-Sensitivity": "phi"})
    adm("PUT", path + "/mixed/open.csv", body=CSV, headers={"Content-Type": "text/csv"})
    adm("PUT", path + "/mixed/note.txt", body=b"a note\n", headers={"Content-Type": "text/plain"})
    for src, want, what in (("mixed/phi.csv", REF, "de-identified (the rule matches)"),
                            ("mixed/open.csv", CSV, "as stored (the rule does not match)"),
                            ("mixed/note.txt", None, "through the plain COPY rule")):
        for m in ("PUT", "COPY"):
            dst = "scratch/f-" + src.split("/")[1]
            if m == "PUT":
                st, h, _ = raw("PUT", path + "/" + dst, headers={"X-Copy-From": src})
            else:
                st, h, _ = raw("COPY", path + "/" + src, headers={"Destination": dst})
            st2, _, b = adm("GET", path + "/" + dst)
            ok = b == want if want is not None else (
                b.startswith(b"{") and json.loads(b).get("md5") ==
                hashlib.md5(b"a note\n").hexdigest())
            t.ok(st in (201, 202) and ok,
                 "%s of %s is copied %s (%d %r)" % (m if m == "COPY" else "X-Copy-From",
                                                    src, what, st, b[:50]))
            adm("DELETE", path + "/" + dst)

    # ---------------------------------------------------------- static large objects
    adm("PUT", path + "/scratch/pad", body=b"padding\n")
    for i, seg in enumerate(({"path": "records/p1.csv"},
                             {"path": "/records/p1.csv", "etag": CSV_MD5, "size_bytes": len(CSV)},
                             {"path": "/records/p1.csv", "range": "23-60"},
                             {"path": "/rec%6Frds/p1.csv"})):
        for order in ((seg,), ({"path": "/scratch/pad"}, seg)):
            st, h, b = raw("PUT", path + "/scratch/slo%d?multipart-manifest=put" % i,
                           body=json.dumps(list(order)).encode())
            wrong = [dict(x, etag="0" * 32) if "etag" in x else x for x in order]
            st2, _, b2 = raw("PUT", path + "/scratch/slo%dw?multipart-manifest=put" % i,
                             body=json.dumps(wrong).encode())
            t.ok(not leaks(b) and (st, b) == (st2, b2.replace(b"slo%dw" % i, b"slo%d" % i)),
                 "an SLO manifest over %s says nothing of it (%d %d %r)" % (seg, st, st2, b[:100]))
            st, h, b = raw("GET", path + "/scratch/slo%d" % i)
            t.ok(not leaks(b) and not hleaks(h),
                 "and its GET never hands the record out (%d %r)" % (st, b[:60]))
            st, h, b = raw("GET", path + "/scratch/slo%d?multipart-manifest=get" % i)
            t.ok(not leaks(b) and b'"bytes": %d' % len(CSV) not in b,
                 "nor does reading the manifest back (%d %r)" % (st, b[:100]))
            st, _, _ = raw("COPY", path + "/scratch/slo%d" % i,
                           headers={"Destination": "scratch/slocopy"})
            st2, h, b = adm("GET", path + "/scratch/slocopy")
            t.ok(not leaks(b), "nor a COPY of it (%d %d %r)" % (st, st2, b[:60]))
            adm("DELETE", path + "/scratch/slocopy")

    forged = json.dumps([{"name": "/records/p1.csv", "bytes": len(CSV), "hash": CSV_MD5,
                          "content_type": "text/csv"}]).encode()
    for hd in ({"X-Static-Large-Object": "True"},
               {"X-Static-Large-Object": "True", "X-Object-Sysmeta-Slo-Size": str(len(CSV)),
                "X-Object-Sysmeta-Slo-Etag": "x"}):
        raw("PUT", path + "/scratch/forged", body=forged, headers=hd)
        for m in ("GET", "HEAD"):
            st, h, b = raw(m, path + "/scratch/forged")
            t.ok(not leaks(b) and not leaks(json.dumps(h)),
                 "a manifest forged with a plain PUT (%s) never assembles the record "
                 "(%s %d %r)" % (sorted(hd), m, st, b[:60]))

    # ---------------------------------------------------------- Distributed
    def dist(body, token=None):
        return raw("POST", path, token=token, body=json.dumps(body).encode(),
                   headers={"X-Storlet-Distributed": "1",
                            "Content-Type": "application/json"})
    st, h, b = dist({"resources": {"objects": ["records/p1.csv"]},
                     "split": {"storlet": "identity"}, "merge": {"storlet": "dump.py"}})
    t.ok(not leaks(b) and b"Patient" not in b,
         "a Distributed merge that dumps its whole stream sees no raw fact (%d %r)"
         % (st, b[:200]))
    st, h, b = dist({"resources": {"objects": ["records/p1.csv"]},
                     "split": {"storlet": "identity"},
                     "merge": {"storlet": "partlist", "parameters": {"format": "raw"}},
                     "result": "scratch/dres"})
    st2, h2, b2 = raw("GET", path + "/scratch/dres")
    t.ok(not leaks(b) and not leaks(b2) and not hleaks(h2),
         "a Distributed result in scratch/ holds no raw fact (%d %d %r %s)"
         % (st, st2, b2[:60], sorted(h2)))
    for res in ({"objects": ["rec%6Frds/p1.csv"]}, {"objects": ["/records/p1.csv"]},
                {"objects": ["scratch/../records/p1.csv"]},
                {"container": "records", "prefix": "p"}):
        st, h, b = dist({"resources": res, "split": {"storlet": "identity"},
                         "merge": {"storlet": "partlist",
                                   "parameters": {"format": "raw"}}})
        t.ok(not leaks(b), "Distributed over %s: never raw (%d %r)" % (res, st, b[:60]))

    # ---------------------------------------------------------- listings
    for q, hd in (("?format=JSON", {}), ("?format=json&format=plain", {}),
                  ("?%66ormat=json", {}),
                  ("?format=plain&format=json", {}), ("", {"Accept": "application/json"}),
                  ("", {"Accept": "text/plain;q=0.1, application/json"}),
                  ("", {"Accept": "application/*"}), ("?format=xml", {}),
                  ("", {"Accept": "text/xml"}), ("?format=Xml", {}),
                  ("?prefix=p&delimiter=/&format=json", {}),
                  ("?format=json&marker=a", {"X-Newest": "true"})):
        st, h, b = raw("GET", path + "/records" + q, headers=hd)
        t.ok(not leaks(b) and b'"bytes": %d' % len(CSV) not in b and
             b"<bytes>%d</bytes>" % len(CSV) not in b,
             "a listing %s %s keeps no raw fact (%d %r)" % (q, hd, st, b[:80]))

    # ---------------------------------------------------------- a rule set a moment ago
    # the proxy that stores a rule applies it at once, on every worker
    adm("PUT", path + "/late", headers={"X-Container-Read": "researcher"})
    adm("PUT", path + "/late/p.csv", body=CSV, headers={"Content-Type": "text/csv"})
    for _ in range(8):   # each worker caches the container without a rule
        raw("GET", path + "/late/p.csv")
    adm("POST", path + "/late", headers={"X-Storlet-Rules": json.dumps({"rules": [DEID]})})
    got = [raw("GET", path + "/late/p.csv") for _ in range(8)]
    t.ok(all(not leaks(b) for _, _, b in got),
         "a rule just stored holds for the next reads on every worker (%r)"
         % [(st, b[:20]) for st, _, b in got])

    # ---------------------------------------------------------- names that differ by encoding
    from urllib.parse import quote
    import unicodedata
    nfc = unicodedata.normalize("NFC", "dossi\u00e9s")
    nfd = unicodedata.normalize("NFD", nfc)
    adm("PUT", path + "/" + quote(nfc), headers={"X-Container-Read": "researcher",
                                                  "X-Storlet-Rules": json.dumps({"rules": [DEID]})})
    st, _, _ = adm("PUT", path + "/" + quote(nfc) + "/p.csv", body=CSV,
                   headers={"Content-Type": "text/csv"})
    t.eq(st, 201, "a record in a container with a non-ASCII name")
    for name in (nfc, nfd, nfc.upper()):
        for u in (path + "/" + quote(name) + "/p.csv",
                  path + "/" + quote(name.encode("utf-8"), safe="") + "/p%2Ecsv"):
            st, h, b = raw("GET", u)
            t.ok(not leaks(b) and not hleaks(h),
                 "GET %s: never raw (%d %r)" % (u, st, b[:30]))
    st, h, b = raw("GET", path + "/" + quote(nfc.encode("latin-1"), safe="") + "/p.csv")
    t.ok(not leaks(b), "nor by its Latin-1 spelling (%d)" % st)

    # ---------------------------------------------------------- a mandatory stage failing
    adm("PUT", path + "/storlet/leaky.sh", headers=native("leaky.sh"),
        body=b"#!/bin/sh\nexec 3>&-\necho \"bad record: $(head -c 60)\" >&2\nexit 3\n")
    adm("PUT", path + "/failing")
    adm("POST", path + "/failing", headers={
        "X-Container-Read": "researcher", "X-Storlet-Rules": json.dumps(
            {"rules": [{"id": "leak", "mandatory": True, "match": {"groups": ["researcher"]},
                        "action": {"storlet": "leaky.sh"}}]})})
    adm("PUT", path + "/failing/f1.csv", body=CSV)
    for hd in ({"X-Run-Storlet": "identity", "X-Storlet-Run-On-Proxy": "",
                "X-Storlet-Generate-Log": "True"},
               {"X-Run-Storlet": "dump.py", "X-Storlet-Generate-Log": "True"},
               {"X-Storlet-Generate-Log": "True", "Range": "bytes=0-20"}):
        st, h, b = raw("GET", path + "/failing/f1.csv", headers=hd)
        t.ok(st >= 400 and not leaks(b) and not hleaks(h),
             "a failing mandatory stage with %s says nothing of the record (%d %r)"
             % (sorted(hd), st, b[:80]))
    st, h, b = raw("COPY", path + "/failing/f1.csv",
                   headers={"Destination": "scratch/fl", "X-Run-Storlet": "identity",
                            "X-Storlet-Run-On-Proxy": ""})
    t.ok(st >= 400 and not leaks(b), "nor does its COPY (%d %r)" % (st, b[:80]))
    hd = {"X-Run-Storlet": "dump.py", "X-Storlet-Parameter-1": "read:failing/f1.csv"}
    st, h, b = raw("GET", path + "/scratch/s1", headers=hd)
    t.ok(not leaks(b), "nor a services read of it (%d %r)" % (st, b[-150:]))

    # ---------------------------------------------------------- an account's document
    # AUTH_test2 puts the rule on the whole account; the researcher (of
    # AUTH_test) reads its records through a container ACL
    path2, tok2a = p.auth("test2:tester2")

    def adm2(m, u, headers=None, body=None):
        return raw(m, u, headers=headers, token=tok2a, body=body)
    adm2("POST", path2, headers={"X-Account-Meta-Storlet-Enabled": "True"})
    for c in ("recs", "storlet", "out"):
        adm2("PUT", path2 + "/" + c)
    with open(os.path.join(SRC, "storlets", "deid", "deid.py"), "rb") as f:
        adm2("PUT", path2 + "/storlet/deid.py", body=f.read(), headers=python("deid.main"))
    adm2("POST", path2 + "/recs", headers={"X-Container-Read": "researcher"})
    adm2("POST", path2 + "/out", headers={"X-Container-Read": "researcher",
                                          "X-Container-Write": "researcher"})
    st, _, _ = adm2("POST", path2, headers={"X-Storlet-Rules": json.dumps({"rules": [DEID]})})
    t.eq(st, 204, "AUTH_test2 puts the rule on its account")
    adm2("PUT", path2 + "/recs/p1.csv", body=CSV, headers={
        "Content-Type": "text/csv", "X-Object-Meta-Patient": "Patient-Secret"})
    st, h, b = raw("GET", path2 + "/recs/p1.csv")
    t.ok(st == 200 and b == REF and not hleaks(h),
         "the researcher's GET across accounts is de-identified (%d %r)" % (st, b[:60]))
    st, h, b = raw("HEAD", path2 + "/recs/p1.csv")
    t.ok(st == 200 and not hleaks(h) and "etag" not in h, "its HEAD keeps no fact (%s)"
         % sorted(h))
    for q in ("?format=json", "?format=xml", "?format=plain&format=json"):
        st, h, b = raw("GET", path2 + "/recs" + q)
        t.ok(st == 200 and not leaks(b) and b'"bytes": 86' not in b and
             b"<bytes>86<" not in b,
             "its listing %s keeps no fact (%d %r)" % (q, st, b[:80]))
    st, _, _ = raw("COPY", path2 + "/recs/p1.csv", headers={"Destination": "out/c1"})
    st2, h, b = adm2("GET", path2 + "/out/c1")
    t.ok(not leaks(b) and not hleaks(h), "a COPY into AUTH_test2/out (%d %d %r)"
         % (st, st2, b[:40]))
    st, _, _ = raw("PUT", path2 + "/out/c2", headers={"X-Copy-From": "recs/p1.csv"})
    st2, h, b = adm2("GET", path2 + "/out/c2")
    t.ok(not leaks(b) and not hleaks(h), "an X-Copy-From there (%d %d %r)" % (st, st2, b[:40]))
    st, _, _ = raw("PUT", path + "/scratch/x2", headers={
        "X-Copy-From": "recs/p1.csv", "X-Copy-From-Account": "AUTH_test2"})
    st2, h, b = adm("GET", path + "/scratch/x2")
    t.ok(not leaks(b) and not hleaks(h),
         "an X-Copy-From-Account into the researcher's account (%d %d %r)" % (st, st2, b[:40]))
    st, _, _ = raw("COPY", path2 + "/recs/p1.csv", headers={
        "Destination": "scratch/x3", "Destination-Account": "AUTH_test"})
    st2, h, b = adm("GET", path + "/scratch/x3")
    t.ok(not leaks(b) and not hleaks(h),
         "a COPY with Destination-Account into it (%d %d %r)" % (st, st2, b[:40]))
    raw("PUT", path2 + "/out/man", body=b"", headers={"X-Object-Manifest": "recs/p"})
    st, h, b = raw("GET", path2 + "/out/man")
    t.ok(not leaks(b), "a DLO there over recs/ (%d %r)" % (st, b[:40]))
    st, h, b = raw("PUT", path2 + "/out/slo?multipart-manifest=put",
                   body=json.dumps([{"path": "recs/p1.csv"}]).encode())
    st, h, b = raw("GET", path2 + "/out/slo")
    t.ok(not leaks(b), "an SLO there over recs/ (%d %r)" % (st, b[:40]))
    hd = {"X-Run-Storlet": "dump.py", "X-Storlet-Parameter-1": "read:/AUTH_test2/recs/p1.csv"}
    st, h, b = raw("GET", path + "/scratch/s1", headers=hd)
    t.ok(st == 200 and not leaks(b) and REF.decode() in json.loads(b)["read"].get("body", ""),
         "a storlet of AUTH_test reads it through services de-identified (%d %r)"
         % (st, b[-120:]))
    st, h, b = dist({"resources": {"objects": ["/AUTH_test2/recs/p1.csv"]},
                     "split": {"storlet": "identity"},
                     "merge": {"storlet": "partlist", "parameters": {"format": "raw"}}})
    t.ok(not leaks(b), "and a Distributed request naming it (%d %r)" % (st, b[:60]))

    # ---------------------------------------------------------- a proxy without storlets
    # Every proxy in front of the account may not run storlets: one that
    # does not must refuse what a mandatory rule would run (503), never
    # serve or store the bytes as if no rule existed.
    p2 = cl.proxy(users=users, conf={"DEFAULT": {"storlets": "false"}})
    _, rtok2 = p2.auth("test:res")
    _, tok2 = p2.auth("test:tester")

    def off(m, u, token=None, headers=None, body=None):
        return raw(m, u, token=token or rtok2, px=p2, headers=headers, body=body)
    st, h, b = off("GET", path + "/records/p1.csv")
    t.ok(st == 503 and not leaks(b) and not hleaks(h),
         "GET through a proxy without storlets is 503, never raw (%d %r)" % (st, b[:60]))
    st, h, b = off("GET", path + "/records/p1.csv", headers={"Range": "bytes=0-10"})
    t.ok(st == 503 and not leaks(b), "so is a Range (%d %r)" % (st, b[:60]))
    st, h, b = off("HEAD", path + "/records/p1.csv")
    t.ok(st == 200 and not hleaks(h) and "etag" not in h and
         h.get("x-storlet-rules-applied") == "deid-researchers",
         "its HEAD answers as 4.3 says, no storlet needed (%d %s)" % (st, sorted(h)))
    st, h, b = off("GET", path + "/records?format=json")
    rows = json.loads(b) if st == 200 else []
    t.ok(st == 200 and not leaks(b) and rows and rows[0].get("storlet_rule") is True,
         "its listing is rewritten (%d %r)" % (st, b[:80]))
    st, h, b = off("PUT", path + "/scratch/o1", headers={"X-Copy-From": "records/p1.csv"})
    st2, _, b2 = adm("GET", path + "/scratch/o1")
    t.ok(st == 503 and st2 == 404, "a copy out of records through it is 503 (%d %d %r)"
         % (st, st2, b2[:40]))
    st, h, b = off("COPY", path + "/records/p1.csv", headers={"Destination": "scratch/o1"})
    t.ok(st == 503, "so is a COPY (%d)" % st)
    adm("PUT", path + "/scratch/man", body=b"", headers={"X-Object-Manifest": "records/p"})
    st, h, b = off("GET", path + "/scratch/man")
    t.ok(st == 403 and not leaks(b), "a DLO over records through it is 403 (%d %r)"
         % (st, b[:40]))
    for o in ("records/slo.csv", "records/dlo.csv", "scratch/slo0", "scratch/man"):
        st, h, b = off("GET", path + "/" + o)
        t.ok(not leaks(b) and not hleaks(h),
             "a large object %s through it never assembles the record (%d %r)"
             % (o, st, b[:40]))
    adm("PUT", path + "/intake")
    adm("POST", path + "/intake", headers={
        "X-Container-Write": "researcher", "X-Storlet-Rules": json.dumps({"rules": [
            dict(DEID, id="deid-in", match={"methods": ["PUT"], "groups": ["researcher"]})]})})
    st, _, _ = off("PUT", path + "/intake/i1.csv", body=CSV,
                   headers={"Content-Type": "text/csv"})
    st2, _, _ = adm("HEAD", path + "/intake/i1.csv")
    t.ok(st == 503 and st2 == 404,
         "a PUT under a mandatory write rule through it is 503, nothing stored (%d %d)"
         % (st, st2))
    st, h, b = off("GET", path + "/records/p1.csv", token=tok2)
    t.ok(st == 200 and b == CSV, "the admin, whom no rule covers, reads the record (%d)" % st)
    st, h, b = off("GET", path + "/scratch/c1", token=tok2)
    t.ok(st == 200 and b == REF, "and objects no rule covers read as ever (%d)" % st)
    st, h, b = off("GET", path + "/scratch/c1")
    t.ok(st == 200 and b == REF, "also for the researcher (%d)" % st)
    st, h, b = raw("GET", "/v1/AUTH_test2/none/x", token=p2.auth("test2:tester2")[1], px=p2)
    t.eq(st, 404, "an account without rules answers as ever")

    # ---------------------------------------------------------- storlets off for the account
    adm("POST", path, headers={"X-Account-Meta-Storlet-Enabled": "False"})
    st, _, _ = raw("PUT", path + "/scratch/o2", headers={"X-Copy-From": "records/p1.csv"})
    st2, h, b = adm("GET", path + "/scratch/o2")
    t.ok(not leaks(b) and not hleaks(h),
         "with the account's storlets off, an X-Copy-From into a container without "
         "rules is never raw (%d %d %r)" % (st, st2, b[:40]))
    st, h, b = raw("GET", path + "/scratch/man")
    t.ok(not leaks(b), "nor is a DLO over records (%d %r)" % (st, b[:40]))

t.done()
