#!/usr/bin/python3
# tier: quick
"""Storlet rules on a real cluster (docs/rules.md).

Section 1: the account's owner sets, reads and removes a container's or an
account's document with X-Storlet-Rules, only in an account enabled for
storlets; the stored form is canonical; anyone else gets 403 and changes
nothing, and never sees a document; a bad document is 400 naming the rule;
the sysmeta keys never reach a client.

Section 4, the researcher example: a container of patient records (CSV and
JSON) under a mandatory deid rule for the group `researcher`. The admin
sees the raw bytes; a researcher never does, whichever path they take: each
bypass is its own test below."""
import hashlib
import http.client
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster, BUILD, SRC, storlet_headers  # noqa: E402
from tap import Tap  # noqa: E402


t = Tap()

DEID = {"id": "deid-researchers", "mandatory": True,
        "match": {"groups": ["researcher"]},
        "action": {"storlet": "deid.py",
                   "parameters": {"fields": "name,ssn", "mode": "mask"}}}
DOC = {"rules": [DEID]}

CSV = (b"id,name,ssn,diagnosis\r\n"
       b"1,Alice Smith,123-45-6789,flu\r\n"
       b"2,Bob Jones,987-65-4321,asthma\r\n")
JSONL = (b'{"id": 1, "name": "Alice Smith", "ssn": "123-45-6789", "dx": "flu"}\n'
         b'{"id": 2, "name": "Bob Jones", "ssn": "987-65-4321", "dx": "asthma"}\n')
SECRETS = (b"Alice", b"Bob", b"123-45-6789", b"987-65-4321")


def leaks(body):
    return any(s in body for s in SECRETS)


def native(main):
    return storlet_headers(main)


def python(main, meta="no"):
    return storlet_headers(main, "python", meta)


with Cluster(t) as cl:
    nodes, p = cl.storlet_cluster(warm="0", users={
        "test:tester": "testing .admin",
        "test:tester3": "testing3",
        "test:res": "resing researcher",
        "test2:tester2": "testing2 .admin",
        "test2:writer2": "writing2"})
    path, tok = p.auth("test:tester")
    _, tok3 = p.auth("test:tester3")
    _, rtok = p.auth("test:res")

    def req(m, u, body=None, headers=None, token=tok):
        h = {"X-Auth-Token": token}
        h.update(headers or {})
        return p.request(m, u, body=body, headers=h)

    def rget(u, headers=None, token=None, method="GET"):
        """A request that reports an abnormal end instead of raising."""
        c = http.client.HTTPConnection(p.ip, p.port, timeout=60)
        try:
            h = {"X-Auth-Token": token or rtok}
            h.update(headers or {})
            c.request(method, u, headers=h)
            r = c.getresponse()
            hd = {k.lower(): v for k, v in r.getheaders()}
            try:
                return r.status, hd, r.read()
            except http.client.IncompleteRead as e:
                return r.status, hd, e.partial
        finally:
            c.close()

    # ---------------------------------------------------------- section 1
    st, _, _ = req("PUT", path + "/records")
    t.eq(st, 201, "make the container")
    st, _, b = req("POST", path + "/records",
                   headers={"X-Storlet-Rules": json.dumps(DOC)})
    t.ok(st == 400 and b"Account disabled for storlets" in b,
         "a document in an account not enabled for storlets is 400 (%d %r)"
         % (st, b[:80]))
    st, h, _ = req("HEAD", path + "/records")
    t.ok("x-storlet-rules" not in h, "and nothing is stored")
    st, _, _ = req("POST", path,
                   headers={"X-Account-Meta-Storlet-Enabled": "True"})
    t.eq(st, 204, "enable the account for storlets")

    # a reader who is not the owner, and the researchers
    req("POST", path + "/records",
        headers={"X-Container-Read": "test:tester3,researcher"})

    st, _, _ = req("POST", path + "/records",
                   headers={"X-Storlet-Rules": json.dumps(DOC)})
    t.eq(st, 204, "the owner sets a container's rule document")
    st, h, _ = req("HEAD", path + "/records")
    got = json.loads(h.get("x-storlet-rules", "null"))
    rule = got["rules"][0] if isinstance(got, dict) else {}
    t.ok(rule.get("id") == "deid-researchers" and rule.get("mandatory") is True
         and "methods" in rule.get("match", {}),
         "the owner reads it back in canonical form, defaults filled in (%s)"
         % h.get("x-storlet-rules"))
    t.ok(not any(k.startswith("x-container-sysmeta") for k in h),
         "the sysmeta key never reaches a client")
    st, h, _ = req("GET", path + "/records")
    t.ok("x-storlet-rules" in h, "a GET of the container shows it as well")

    st, h, _ = req("HEAD", path + "/records", token=tok3)
    t.eq(st, 204, "a reader may HEAD the container")
    t.ok("x-storlet-rules" not in h, "but never sees the rule document")
    st, _, _ = req("POST", path + "/records", token=tok3,
                   headers={"X-Storlet-Rules": ""})
    t.eq(st, 403, "someone else removing the document is 403")
    st, h, _ = req("HEAD", path + "/records")
    t.ok("x-storlet-rules" in h, "and the document is still there")

    bad = {"rules": [{"id": "ok", "action": {"storlet": "a"}},
                     {"id": "deid", "match": {"users": ["alice"]},
                      "action": {"storlet": "deid"}}]}
    st, _, b = req("POST", path + "/records",
                   headers={"X-Storlet-Rules": json.dumps(bad)})
    t.ok(st == 400 and b"rule 2" in b,
         "a bad document is 400 naming the rule (%d %r)" % (st, b[:150]))
    st, h, _ = req("HEAD", path + "/records")
    t.eq(json.loads(h.get("x-storlet-rules", "{}")).get("rules", [{}])[0]
         .get("id"), "deid-researchers", "and nothing of it is stored")

    # the account's document
    st, _, _ = req("POST", path, headers={"X-Storlet-Rules": json.dumps(
        {"rules": [dict(DEID, match={"groups": ["nobody-here"]})]})})
    t.eq(st, 204, "the owner sets the account's rule document")
    st, h, _ = req("HEAD", path)
    t.ok("deid-researchers" in h.get("x-storlet-rules", ""),
         "and reads it back")
    t.ok(not any(k.startswith("x-account-sysmeta") for k in h),
         "the account sysmeta key never reaches a client")
    st, _, _ = req("POST", path, token=tok3,
                   headers={"X-Storlet-Rules": json.dumps(DOC)})
    t.eq(st, 403, "someone else setting the account's document is 403")
    st, _, _ = req("POST", path, headers={"X-Storlet-Rules": ""})
    t.eq(st, 204, "the owner removes the account's document")
    st, h, _ = req("HEAD", path)
    t.ok("x-storlet-rules" not in h, "it is gone")

    # ---------------------------------------------------------- the data
    for c in ("storlet", "dependency", "scratch"):
        req("PUT", path + "/" + c)
    with open(os.path.join(SRC, "storlets", "deid", "deid.py"), "rb") as f:
        deid_code = f.read()
    st, _, _ = req("PUT", path + "/storlet/deid.py", body=deid_code,
                   headers=python("deid.main"))
    t.eq(st, 201, "deploy deid.py")
    with open(os.path.join(BUILD, "storlets", "identity"), "rb") as f:
        st, _, _ = req("PUT", path + "/storlet/identity", body=f.read(),
                       headers=native("identity"))
    t.eq(st, 201, "deploy identity")
    st, _, _ = req("PUT", path + "/records/p1.csv", body=CSV,
                   headers={"Content-Type": "text/csv",
                            "X-Object-Meta-Patient": "Alice Smith"})
    t.eq(st, 201, "store a CSV record")
    st, _, _ = req("PUT", path + "/records/p2.json", body=JSONL,
                   headers={"Content-Type": "application/x-ndjson"})
    t.eq(st, 201, "store a JSON-lines record")
    csv_md5 = hashlib.md5(CSV).hexdigest()

    # the admin is not a researcher: raw bytes, all facts
    st, h, b = req("GET", path + "/records/p1.csv")
    t.ok(st == 200 and b == CSV and h.get("etag") == csv_md5,
         "the admin reads the raw record with its ETag")
    st, h, b = req("GET", path + "/records/p1.csv", token=tok3)
    t.ok(st == 200 and b == CSV, "so does a reader outside the group")

    # ---------------------------------------------------------- GET
    # what de-identification gives: the admin runs deid.py explicitly
    DEID_H = {"X-Run-Storlet": "deid.py", "X-Storlet-Parameter-1": "fields:name,ssn",
              "X-Storlet-Parameter-2": "mode:mask"}
    st, h, REF = req("GET", path + "/records/p1.csv", headers=DEID_H)
    t.ok(st == 200 and not leaks(REF) and b"***" in REF and b"flu" in REF,
         "the admin's explicit deid.py de-identifies (%d %r)" % (st, REF[:120]))
    st, h, REFJ = req("GET", path + "/records/p2.json", headers=DEID_H)
    t.ok(st == 200 and not leaks(REFJ) and b"asthma" in REFJ,
         "and the JSON-lines record (%d %r)" % (st, REFJ[:120]))
    st, h, b = rget(path + "/records/p1.csv")
    t.ok(st == 200 and b == REF,
         "a researcher's GET is de-identified, byte for byte (%d %r)" % (st, b[:120]))
    t.eq(h.get("x-storlet-rules-applied"), "deid-researchers",
         "X-Storlet-Rules-Applied names the rule")
    t.ok("etag" not in h and "content-length" not in h and
         "x-storlet-source-etag" not in h and "x-object-meta-patient" not in h,
         "no ETag, Content-Length, source ETag or stored metadata (%s)" % sorted(h))
    st, h, b = rget(path + "/records/p2.json")
    t.ok(st == 200 and b == REFJ, "so is the JSON record (%d %r)" % (st, b[:120]))

    # conditions other than ETags work on the output
    st, h, b = rget(path + "/records/p1.csv",
                    headers={"If-Modified-Since": "Thu, 01 Jan 2099 00:00:00 GMT"})
    t.ok(st == 304 and not b and "etag" not in h,
         "If-Modified-Since in the future is 304, without the stored ETag (%d %s)"
         % (st, sorted(h)))
    st, h, b = rget(path + "/records/p1.csv",
                    headers={"If-Unmodified-Since": "Thu, 01 Jan 1970 00:00:01 GMT"})
    t.ok(st == 412 and not leaks(b), "If-Unmodified-Since in the past is 412 (%d)" % st)
    st, h, b = rget(path + "/records/p1.csv",
                    headers={"If-Modified-Since": "Thu, 01 Jan 1970 00:00:01 GMT"})
    t.ok(st == 200 and b == REF, "a condition that holds gives the output (%d)" % st)
    st, h, b = rget(path + "/records/p1.csv", headers={"If-None-Match": "*"})
    t.eq(st, 304, "If-None-Match: * on an existing object is 304")

    # ---------------------------------------------------------- ranges
    st, h, b = rget(path + "/records/p1.csv", headers={"Range": "bytes=5-40"})
    t.ok(st == 206 and b == REF[5:41] and not leaks(b),
         "Range applies to the de-identified output (%d %r)" % (st, b))
    t.eq(h.get("content-range"), "bytes 5-40/*", "Content-Range bytes 5-40/*")
    st, h, b = rget(path + "/records/p1.csv", headers={"Range": "bytes=30-"})
    t.ok(st == 200 and b == REF and "content-range" not in h,
         "an open Range is ignored: its last byte is unknown until the "
         "chain ends, so no true Content-Range can be sent (%d)" % st)

    def ends_abnormally(u, headers):
        c = http.client.HTTPConnection(p.ip, p.port, timeout=60)
        try:
            h = {"X-Auth-Token": rtok}
            h.update(headers)
            c.request("GET", u, headers=h)
            r = c.getresponse()
            try:
                r.read()
            except http.client.IncompleteRead:
                return r.status, True
            return r.status, False
        finally:
            c.close()
    far = len(REF) + 10
    t.eq(ends_abnormally(path + "/records/p1.csv",
                         {"Range": "bytes=%d-%d" % (far, far + 5)}), (206, True),
         "a Range beyond the output's end ends the 206 abnormally, never "
         "as an empty body that looks whole")
    t.eq(ends_abnormally(path + "/records/p1.csv",
                         {"Range": "bytes=5-%d" % far}), (206, True),
         "so does one the output ends inside")
    st, h, b = rget(path + "/records/p1.csv", headers={"Range": "bytes=-20"})
    t.ok(st == 200 and b == REF, "a suffix Range is ignored: the whole output (%d)" % st)
    st, h, b = rget(path + "/records/p1.csv",
                    headers={"Range": "bytes=0-3,10-20"})
    t.ok(st == 200 and b == REF, "so are several ranges (%d)" % st)

    # a Range far into a large record set: cut across many output chunks
    big = b"id,name,ssn,diagnosis\r\n" + b"".join(
        b"%d,Alice Smith,123-45-6789,flu\r\n" % i for i in range(40000))
    req("PUT", path + "/records/big.csv", body=big, headers={"Content-Type": "text/csv"})
    st, _, BIGREF = req("GET", path + "/records/big.csv", headers=DEID_H)
    st, h, b = rget(path + "/records/big.csv", headers={"Range": "bytes=700000-700099"})
    t.ok(st == 206 and len(BIGREF) > 700100 and b == BIGREF[700000:700100],
         "a Range deep into a large output is cut from it (%d, %d bytes)" % (st, len(b)))

    # ---------------------------------------------------------- the client's own chain
    # so far deid.py ran with the account's authority: researchers could
    # not read the storlet container; their own storlets they must read
    req("POST", path + "/storlet", headers={"X-Container-Read": "researcher"})
    st, h, b = rget(path + "/records/p1.csv", headers={"X-Run-Storlet": "identity"})
    t.ok(st == 200 and b == REF,
         "an explicit X-Run-Storlet identity still gets deid first (%d %r)"
         % (st, b[:80]))
    t.eq(h.get("x-storlet-rules-applied"), "deid-researchers", "and says so")
    st, h, b = rget(path + "/records/p1.csv",
                    headers={"X-Run-Storlet": "identity", "X-Storlet-Run-On-Proxy": ""})
    t.ok(st == 200 and b == REF,
         "so does identity on the proxy (%d %r)" % (st, b[:80]))
    st, h, b = rget(path + "/records/p1.csv",
                    headers={"If-Modified-Since": "Thu, 01 Jan 2099 00:00:00 GMT",
                             "X-Run-Storlet": "identity", "X-Storlet-Run-On-Proxy": ""})
    t.ok(st == 304 and not b and "etag" not in h,
         "If-Modified-Since also when the chain runs on the proxy (%d %s)" % (st, sorted(h)))
    st, h, b = rget(path + "/records/p1.csv",
                    headers={"X-Run-Storlet": "identity,identity,identity"})
    t.ok(st == 200 and b == REF,
         "and a sequence of three (%d %r)" % (st, b[:80]))
    st, h, b = rget(path + "/records/p1.csv",
                    headers={"X-Run-Storlet": "deid.py",
                             "X-Storlet-Parameter-1": "fields:diagnosis"})
    t.ok(st == 200 and not leaks(b) and b"flu" not in b,
         "naming deid.py with other fields runs both (%d %r)" % (st, b[:80]))

    # ---------------------------------------------------------- 4.2 bypasses
    st, h, b = rget(path + "/records/p1.csv",
                    headers={"X-Storlet-Range": "bytes=0-30"})
    t.ok(st == 400 and b"X-Storlet-Range" in b and not leaks(b),
         "X-Storlet-Range under a mandatory rule is 400 (%d %r)" % (st, b[:80]))
    st, h, b = rget(path + "/records/p1.csv", headers={"If-Match": csv_md5})
    t.ok(st == 412 and not leaks(b),
         "If-Match with the stored ETag is 412: the ETag is never an input")
    st, h, b = rget(path + "/records/p1.csv", headers={"If-Match": "nope"})
    t.ok(st == 412 and not leaks(b), "so is If-Match with any other ETag")
    st, h, b = rget(path + "/records/p1.csv?multipart-manifest=get")
    t.ok(st == 403 and not leaks(b),
         "?multipart-manifest=get is 403 (%d)" % st)

    # ---------------------------------------------------------- logs
    req("PUT", path + "/storletlog", headers={"X-Container-Write": "researcher"})
    st, h, b = rget(path + "/records/p1.csv",
                    headers={"X-Run-Storlet": "identity", "X-Storlet-Generate-Log": "True"})
    t.ok(st == 200 and b == REF, "a researcher asks for their stages' logs (%d)" % st)
    names = []
    for _ in range(200):   # the log is stored after the answer: poll
        st, _, lb = req("GET", path + "/storletlog")
        names = lb.decode().split()
        if any(n.startswith("identity.") for n in names):
            break
        time.sleep(0.05)
    t.ok(any(n.startswith("identity.") for n in names) and
         not any(n.startswith("deid") for n in names),
         "the client's stage's log is stored, the mandatory stage's never (%r)" % names)

    # ---------------------------------------------------------- 4.6 copies
    req("PUT", path + "/scratch/seg1", body=b"harmless\n")
    req("POST", path + "/scratch",
        headers={"X-Container-Read": "researcher",
                 "X-Container-Write": "researcher"})
    st, h, _ = rget(path + "/records/p1.csv", method="COPY",
                    headers={"Destination": "scratch/copy1"})
    t.ok(st in (201, 202), "a researcher may COPY a record out (%d)" % st)
    st, _, b = req("GET", path + "/scratch/copy1")
    t.ok(st == 200 and b == REF, "but the copy holds de-identified bytes (%d %r)"
         % (st, b[:80]))
    st, _, _ = req("PUT", path + "/scratch/copy2", body=b"", token=rtok,
                   headers={"X-Copy-From": "records/p1.csv"})
    t.ok(st in (201, 202), "a researcher's PUT with X-Copy-From (%d)" % st)
    st, _, b = req("GET", path + "/scratch/copy2")
    t.ok(st == 200 and b == REF, "stores de-identified bytes too (%d %r)" % (st, b[:80]))
    st, _, b = rget(path + "/records/p1.csv", method="COPY",
                    headers={"Destination": "scratch/copy3", "X-Fresh-Metadata": "true"})
    t.eq(st, 400, "a COPY under a mandatory rule with X-Fresh-Metadata is 400")
    st, _, b = rget(path + "/records/p1.csv", method="COPY",
                    headers={"Destination": "scratch/copy3",
                             "Destination-Account": "AUTH_test2"})
    t.eq(st, 400, "so is one naming another account")
    st, _, _ = req("COPY", path + "/records/p1.csv",
                   headers={"Destination": "scratch/copy4"})
    st, _, b = req("GET", path + "/scratch/copy4")
    t.ok(st == 200 and b == CSV, "the admin's COPY is a plain copy")

    # ---------------------------------------------------------- 4.7 services
    with open(os.path.join(BUILD, "storlets", "concat"), "rb") as f:
        st, _, _ = req("PUT", path + "/storlet/concat", body=f.read(),
                       headers=native("concat"))
    t.eq(st, 201, "deploy concat (reads other objects through services)")
    st, h, b = rget(path + "/scratch/seg1",
                    headers={"X-Run-Storlet": "concat",
                             "X-Storlet-Parameter-1": "objects:records/p1.csv"})
    t.ok(st == 200 and b == b"harmless\n" + REF,
         "a storlet reading a record through services gets it de-identified "
         "(%d %r)" % (st, b[:120]))
    st, h, b = rget(path + "/scratch/seg1",
                    headers={"X-Run-Storlet": "concat", "X-Storlet-Run-On-Proxy": "",
                             "X-Storlet-Parameter-1": "objects:records/p1.csv"})
    t.ok(st == 200 and b == b"harmless\n" + REF,
         "on the proxy as well (%d %r)" % (st, b[:120]))
    st, h, b = rget(path + "/scratch/seg1",
                    headers={"X-Run-Storlet": "concat",
                             "X-Storlet-Parameter-1": "objects:records/p1.csv",
                             "X-Storlet-Parameter-2": "storlet:identity"})
    t.ok(st == 200 and b == b"harmless\n" + REF,
         "and a services invoke of identity on it runs deid first (%d %r)"
         % (st, b[:120]))

    # ---------------------------------------------------------- 4.4 PUT
    st, _, _ = req("PUT", path + "/intake")
    req("POST", path + "/intake", headers={
        "X-Container-Write": "researcher", "X-Container-Read": "researcher",
        "X-Storlet-Rules": json.dumps({"rules": [dict(
            DEID, id="deid-in", match={"methods": ["PUT"], "groups": ["researcher"]})]})})
    st, h, _ = req("PUT", path + "/intake/in1.csv", body=CSV, token=rtok,
                   headers={"Content-Type": "text/csv"})
    t.eq(st, 201, "a researcher uploads a raw record into intake/")
    t.eq(h.get("x-storlet-rules-applied"), "deid-in", "the answer names the rule")
    st, _, b = req("GET", path + "/intake/in1.csv")
    t.ok(st == 200 and b == REF,
         "what is stored is the mandatory write rule's output (%d %r)" % (st, b[:80]))
    st, _, _ = req("PUT", path + "/intake/in2.csv", body=CSV, token=rtok,
                   headers={"Content-Type": "text/csv", "X-Run-Storlet": "identity"})
    st, _, b = req("GET", path + "/intake/in2.csv")
    t.ok(st == 200 and b == REF,
         "also when the upload names its own storlet (%d %r)" % (st, b[:80]))
    st, _, _ = req("PUT", path + "/intake/in4.csv", body=CSV, token=rtok,
                   headers={"Content-Type": "text/csv", "ETag": csv_md5})
    t.eq(st, 201, "a client ETag is checked against the bytes sent, not the stored ones")
    st, _, _ = req("PUT", path + "/intake/in5.csv", body=CSV, token=rtok,
                   headers={"Content-Type": "text/csv", "ETag": "0" * 32})
    t.eq(st, 422, "a wrong one is 422")
    st, _, _ = req("HEAD", path + "/intake/in5.csv")
    t.eq(st, 404, "and nothing is stored")
    st, _, _ = req("PUT", path + "/intake/in3.csv", body=CSV,
                   headers={"Content-Type": "text/csv"})
    st, _, b = req("GET", path + "/intake/in3.csv")
    t.ok(st == 200 and b == CSV, "the admin's upload is stored as sent")
    # a large object's manifest: its segments went up without the rule
    for what, url, hd, body in (
            ("a DLO manifest", "/intake/big.csv", {"X-Object-Manifest": "scratch/seg"}, b""),
            ("an SLO manifest", "/intake/big.csv?multipart-manifest=put", {},
             json.dumps([{"path": "/scratch/seg1"}]).encode())):
        st, _, b = req("PUT", path + url, body=body, token=rtok,
                       headers=dict(hd, **{"Content-Type": "text/csv"}))
        st2, _, _ = req("HEAD", path + "/intake/big.csv")
        t.ok(st == 403 and b"manifest" in b and st2 == 404,
             "%s under a mandatory write rule is 403, nothing stored (%d %d %r)"
             % (what, st, st2, b[:100]))
    st, _, _ = req("PUT", path + "/intake/big.csv", body=b"",
                   headers={"X-Object-Manifest": "scratch/seg"})
    t.eq(st, 201, "the admin, whom the rule does not cover, stores a DLO manifest there")
    req("DELETE", path + "/intake/big.csv")

    # ---------------------------------------------------------- plain rules
    req("PUT", path + "/upper")
    req("POST", path + "/upper", headers={"X-Storlet-Rules": json.dumps(
        {"rules": [{"id": "up-in", "match": {"methods": ["PUT"]},
                    "action": {"storlet": "identity"}}]})})
    st, _, b = req("PUT", path + "/upper/big", body=b"",
                   headers={"X-Object-Manifest": "scratch/seg"})
    st2, _, _ = req("HEAD", path + "/upper/big")
    t.ok(st == 400 and b"manifest" in b and st2 == 404,
         "a DLO manifest under a plain write rule is 400, nothing stored (%d %d %r)"
         % (st, st2, b[:100]))
    with open(os.path.join(BUILD, "storlets", "fixity"), "rb") as f:
        req("PUT", path + "/storlet/fixity", body=f.read(), headers=native("fixity"))
    req("PUT", path + "/docs")
    req("POST", path + "/docs", headers={"X-Storlet-Rules": json.dumps(
        {"rules": [{"id": "sum", "action": {"storlet": "fixity"}}]})})
    req("PUT", path + "/docs/d1", body=b"some text\n")
    st, h, b = req("GET", path + "/docs/d1")
    t.ok(st == 200 and b.startswith(b"{") and
         json.loads(b).get("md5") == hashlib.md5(b"some text\n").hexdigest(),
         "a plain rule runs when the client asks nothing (%d %r)" % (st, b[:80]))
    t.eq(h.get("x-storlet-rules-applied"), "sum", "and is named")
    st, h, b = req("GET", path + "/docs/d1", headers={"X-Run-Storlet": "identity"})
    t.ok(st == 200 and b == b"some text\n" and "x-storlet-rules-applied" not in h,
         "an explicit X-Run-Storlet overrides the plain rule (%d %r)" % (st, b[:80]))

    # ---------------------------------------------------------- object facts
    req("PUT", path + "/mixed")
    req("POST", path + "/mixed", headers={
        "X-Container-Read": "researcher", "X-Storlet-Rules": json.dumps({"rules": [
            dict(DEID, id="phi", match={"groups": ["researcher"],
                                        "metadata": {"Sensitivity": "phi"}}),
            {"id": "sum-text", "match": {"content_types": ["text/plain"]},
             "action": {"storlet": "fixity"}}]})})
    req("PUT", path + "/mixed/phi.csv", body=CSV,
        headers={"Content-Type": "text/csv", "X-Object-Meta-Sensitivity": "phi"})
    req("PUT", path + "/mixed/open.csv", body=CSV, headers={"Content-Type": "text/csv"})
    req("PUT", path + "/mixed/note.txt", body=b"a note\n",
        headers={"Content-Type": "text/plain"})
    st, h, b = rget(path + "/mixed/phi.csv")
    t.ok(st == 200 and b == REF,
         "a mandatory rule on metadata de-identifies the object that has it (%d %r)"
         % (st, b[:60]))
    st, h, b = rget(path + "/mixed/open.csv")
    t.ok(st == 200 and b == CSV and h.get("etag") == csv_md5,
         "and not the one without: the proxy read its facts first (%d)" % st)
    st, h, _ = rget(path + "/mixed/phi.csv", method="HEAD")
    t.ok(st == 200 and "etag" not in h and
         h.get("x-storlet-rules-applied") == "phi", "HEAD follows the same facts")
    st, h, _ = rget(path + "/mixed/open.csv", method="HEAD")
    t.ok(st == 200 and h.get("etag") == csv_md5, "(and shows the other's ETag)")
    st, h, b = rget(path + "/mixed/note.txt")
    t.ok(st == 200 and json.loads(b).get("md5") == hashlib.md5(b"a note\n").hexdigest()
         and h.get("x-storlet-rules-applied") == "sum-text",
         "a plain rule on content type runs on the object of that type (%d %r)"
         % (st, b[:60]))
    st, h, b = rget(path + "/mixed/open.csv", token=tok)
    t.ok(st == 200 and b == CSV, "and not on another type")
    part, prim, _ = cl.locate("AUTH_test", "mixed", "phi.csv")
    node, dev = prim[0]
    u = "/%s/%d/AUTH_test/mixed/phi.csv" % (dev, part)
    st, h, _ = node.request("HEAD", u)
    ts = h.get("x-timestamp")
    st, _, _ = node.request("GET", u, headers={
        "X-Backend-Storlet-Facts-Timestamp": ts})
    t.eq(st, 200, "a node serves the version whose facts the proxy decided with")
    st, _, _ = node.request("GET", u, headers={
        "X-Backend-Storlet-Facts-Timestamp": "0000000001.00000"})
    t.eq(st, 409, "and answers 409 for any other: the proxy decides again")

    # ---------------------------------------------------------- anonymous
    req("PUT", path + "/public", headers={"X-Container-Read": ".r:*"})
    req("POST", path + "/public", headers={"X-Storlet-Rules": json.dumps({"rules": [
        dict(DEID, id="everyone-else", match={"except_groups": ["AUTH_test"]})]})})
    req("PUT", path + "/public/p.csv", body=CSV, headers={"Content-Type": "text/csv"})
    st, h, b = p.request("GET", path + "/public/p.csv")
    t.ok(st == 200 and b == REF,
         "an anonymous reader of a public container gets the rule's output "
         "(%d %r)" % (st, b[:80]))
    st, h, b = p.request("GET", path + "/public/p.csv",
                         headers={"X-Run-Storlet": "identity"})
    t.ok(st == 401 and not leaks(b),
         "an anonymous X-Run-Storlet is refused as without rules (%d)" % st)
    st, _, b = req("GET", path + "/public/p.csv")
    t.ok(st == 200 and b == CSV, "the account's admin reads it raw")

    # ---------------------------------------------------------- failures
    req("PUT", path + "/storlet/leaky.sh", headers=native("leaky.sh"),
        body=b"#!/bin/sh\nexec 3>&-\necho \"bad record: $(head -c 40)\" >&2\nexit 3\n")
    req("PUT", path + "/failing")
    req("POST", path + "/failing", headers={
        "X-Container-Read": "researcher", "X-Storlet-Rules": json.dumps(
            {"rules": [{"id": "leak", "mandatory": True,
                        "match": {"groups": ["researcher"]},
                        "action": {"storlet": "leaky.sh"}}]})})
    req("PUT", path + "/failing/f1.csv", body=CSV)
    st, h, b = rget(path + "/failing/f1.csv")
    t.ok(st >= 400 and b"mandatory storlet leaky.sh failed" in b and not leaks(b),
         "a mandatory storlet's failure is generic, its reason stays in the log "
         "(%d %r)" % (st, b[:120]))
    cl.expect_log(r"mandatory storlet leaky.sh")

    # ---------------------------------------------------------- 4.11 nodes
    part, prim, _ = cl.locate("AUTH_test", "records", "p1.csv")
    node, dev = prim[0]
    st, h, b = node.request("GET", "/%s/%d/AUTH_test/records/p1.csv" % (dev, part),
                            headers={"X-Run-Storlet": "deid.py"})
    t.ok(st == 200 and "x-storlet-executed-on" not in h,
         "an object node ignores a client's X-Run-Storlet (%d): it runs only "
         "the proxy's X-Backend-Storlet-Chain; the backend network is the "
         "boundary (docs/rules.md 4.11)" % st)

    # ---------------------------------------------------------- 4.9 Distributed
    with open(os.path.join(BUILD, "storlets", "partlist"), "rb") as f:
        st, _, _ = req("PUT", path + "/storlet/partlist", body=f.read(),
                       headers=native("partlist"))
    t.eq(st, 201, "deploy partlist (a merge that keeps each split's output)")
    for res in ({"objects": ["records/p1.csv"]}, {"container": "records"}):
        st, h, b = req("POST", path, token=rtok, body=json.dumps(
            {"resources": res, "split": {"storlet": "identity"},
             "merge": {"storlet": "partlist", "parameters": {"format": "raw"}}}).encode(),
            headers={"X-Storlet-Distributed": "1", "Content-Type": "application/json"})
        t.ok(st == 200 and REF in b and not leaks(b),
             "a researcher's Distributed request over %s splits de-identified "
             "records (%d %r)" % (list(res)[0], st, b[:120]))

    # ---------------------------------------------------------- a large object
    req("PUT", path + "/segs")
    req("POST", path + "/segs", headers={"X-Container-Read": "researcher"})
    half = CSV.index(b"2,Bob")
    req("PUT", path + "/segs/rec/1", body=CSV[:half])
    req("PUT", path + "/segs/rec/2", body=CSV[half:])
    req("PUT", path + "/records/large.csv", body=b"",
        headers={"X-Object-Manifest": "segs/rec/", "Content-Type": "text/csv"})
    st, _, b = req("GET", path + "/records/large.csv")
    t.ok(st == 200 and b == CSV, "the admin reads a DLO in records/ assembled")
    st, h, b = rget(path + "/records/large.csv")
    t.ok(st == 200 and b == REF,
         "a researcher gets the assembled DLO de-identified (%d %r)" % (st, b[:80]))
    st, h, b = rget(path + "/records/large.csv", method="HEAD")
    t.ok("x-object-manifest" not in h and "etag" not in h,
         "and its HEAD names no manifest (%s)" % sorted(h))

    # ---------------------------------------------------------- 4.3 HEAD
    st, h, b = rget(path + "/records/p1.csv", method="HEAD")
    t.eq(st, 200, "a researcher may HEAD a record")
    t.ok("etag" not in h and "content-length" not in h,
         "without ETag or Content-Length (%s)" % sorted(h))
    t.ok(not any(k.startswith("x-object-meta-") for k in h),
         "and without the stored user metadata")
    t.eq(h.get("x-storlet-rules-applied"), "deid-researchers",
         "X-Storlet-Rules-Applied names the rule")
    t.eq(h.get("content-type"), "text/csv", "the content type stays")
    st, h, _ = rget(path + "/records/p1.csv", method="HEAD",
                    headers={"If-Match": csv_md5})
    t.eq(st, 412, "HEAD with If-Match naming an ETag is 412")
    st, h, _ = rget(path + "/records/p1.csv", method="HEAD",
                    headers={"If-None-Match": csv_md5})
    t.eq(st, 200, "If-None-Match with the stored ETag is ignored (not a 304)")
    st, h, _ = req("HEAD", path + "/records/p1.csv")
    t.ok(st == 200 and h.get("etag") == csv_md5 and
         h.get("x-object-meta-patient") == "Alice Smith",
         "the admin's HEAD shows everything")

    # ---------------------------------------------------------- 4.5 POST
    req("POST", path + "/records",
        headers={"X-Container-Read": "test:tester3,researcher",
                 "X-Container-Write": "researcher"})
    st, _, b = rget(path + "/records/p1.csv", method="POST",
                    headers={"Content-Type": "application/octet-stream"})
    t.eq(st, 403, "a researcher (with write access) may not POST to a record")
    st, h, _ = req("HEAD", path + "/records/p1.csv")
    t.eq(h.get("content-type"), "text/csv", "and its content type is unchanged")
    st, _, _ = req("POST", path + "/records/p1.csv",
                   headers={"Content-Type": "text/csv",
                            "X-Object-Meta-Patient": "Alice Smith",
                            "X-Object-Meta-Reviewed": "yes"})
    t.eq(st, 202, "the admin may")
    req("POST", path + "/records",
        headers={"X-Container-Read": "test:tester3,researcher",
                 "X-Remove-Container-Write": "x"})

    # ---------------------------------------------------------- 4.10 listings
    st, h, b = rget(path + "/records?format=json")
    rows = {r["name"]: r for r in json.loads(b)} if st == 200 else {}
    r1 = rows.get("p1.csv", {})
    t.ok(st == 200 and r1.get("hash") == "" and r1.get("bytes") == 0 and
         r1.get("storlet_rule") is True and r1.get("content_type") == "text/csv",
         "a researcher's JSON listing has hash \"\", bytes 0, storlet_rule (%r)"
         % r1)
    t.ok(csv_md5.encode() not in b, "and no stored ETag at all")
    st, h, b = rget(path + "/records", headers={"Accept": "application/xml"})
    t.ok(st == 200 and b.startswith(b"<?xml") and
         b"<name>p1.csv</name><hash></hash><bytes>0</bytes>" in b and
         b"<storlet_rule>true</storlet_rule>" in b and csv_md5.encode() not in b,
         "the XML listing too (%r)" % b[:300])
    t.ok(h.get("content-type", "").startswith("application/xml"),
         "with the XML content type")
    st, h, b = rget(path + "/records")
    _, _, admin_names = req("GET", path + "/records")
    t.ok(st == 200 and b.split() == admin_names.split() and b"p1.csv" in b.split(),
         "the plain listing keeps every name (%r)" % b)
    st, h, b = req("GET", path + "/records?format=json")
    rows = {r["name"]: r for r in json.loads(b)} if st == 200 else {}
    t.ok(rows.get("p1.csv", {}).get("hash") == csv_md5 and
         "storlet_rule" not in rows.get("p1.csv", {}),
         "the admin's listing is unchanged")

    # ---------------------------------------------------------- DLO
    st, _, _ = req("PUT", path + "/scratch/man", body=b"", token=rtok,
                   headers={"X-Object-Manifest": "records/p"})
    t.eq(st, 201, "a researcher may write a DLO manifest in scratch/")
    st, h, b = rget(path + "/scratch/man")
    t.ok(st == 403 and not leaks(b),
         "but it does not assemble the protected records (%d %r)"
         % (st, b[:80]))
    st, h, b = req("GET", path + "/scratch/man")
    t.ok(st == 200 and CSV in b, "while the admin's read of it does")

    # ---------------------------------------------------------- 4.12 code
    req("POST", path + "/storlet",
        headers={"X-Container-Write": "test:tester3,researcher",
                 "X-Container-Read": "test:tester3,researcher"})
    st, _, _ = req("PUT", path + "/storlet/deid.py", token=rtok,
                   body=b"def main(s):\n    pass\n",
                   headers=python("deid.main"))
    t.eq(st, 403, "a researcher with write access may not rewrite deid.py")
    st, _, _ = req("DELETE", path + "/storlet/deid.py", token=tok3)
    t.eq(st, 403, "nor may another writer delete it")
    st, _, _ = req("POST", path + "/storlet/deid.py", token=tok3,
                   headers=python("deid.main"))
    t.eq(st, 403, "or POST to it")
    st, _, _ = req("COPY", path + "/scratch/seg1", token=rtok,
                   headers={"Destination": "storlet/deid.py"})
    t.eq(st, 403, "or COPY over it")
    st, _, b = req("GET", path + "/storlet/deid.py")
    t.ok(st == 200 and b == deid_code, "deid.py is unchanged")
    st, _, _ = req("PUT", path + "/storlet/deid.py", body=deid_code,
                   headers=python("deid.main"))
    t.eq(st, 201, "the owner still may")

    # ---------------------------------------------------------- storlets off
    # Every worker has the account's info cached (several requests, each
    # on a fresh connection): the switch below must reach them all at
    # once, the storlet engine's check as well as the rules' (one cache,
    # one forget).
    def identity_runs(n=6):
        return [req("GET", path + "/docs/d1", headers={"X-Run-Storlet": "identity"})
                for _ in range(n)]
    t.ok(all(r[0] == 200 for r in identity_runs()), "identity runs on every worker")
    st, _, _ = req("POST", path, headers={"X-Account-Meta-Storlet-Enabled": "False"})
    t.eq(st, 204, "the owner turns storlets off for the account")
    got = identity_runs()
    t.ok(all(r[0] == 400 and b"Account disabled for storlets" in r[2] for r in got),
         "at once no worker runs a storlet in it (%s)" % [r[0] for r in got])
    st, h, b = rget(path + "/records/p1.csv")
    t.ok(st == 400 and not leaks(b),
         "the mandatory rule still holds: never raw data (%d %r)" % (st, b[:80]))
    st, h, b = rget(path + "/records/p1.csv", method="HEAD")
    t.ok("etag" not in h, "nor the stored ETag on HEAD")
    st, _, b = req("GET", path + "/records/p1.csv")
    t.ok(st == 200 and b == CSV, "while the admin reads the record")
    st, h, b = req("GET", path + "/docs/d1")
    t.ok(st == 200 and b == b"some text\n", "and plain rules lapse (%d %r)" % (st, b[:40]))
    st, _, _ = req("POST", path, headers={"X-Account-Meta-Storlet-Enabled": "True"})
    t.eq(st, 204, "the owner turns storlets on again")
    got = identity_runs()
    t.ok(all(r[0] == 200 for r in got),
         "and at once every worker runs storlets in it (%s)" % [r[0] for r in got])

    # ---------------------------------------------------------- 4.12 marks go
    # Each container holding a mandatory rule marks the account; the last
    # mark gone, writers with an ACL may deploy code again. A manager sees
    # the marked containers on the account.
    path2, tok2 = p.auth("test2:tester2")
    _, wtok = p.auth("test2:writer2")

    def req2(m, u, headers=None, token=tok2, body=None):
        return req(m, path2 + u, headers=headers, token=token, body=body)

    def marks():
        st, h, _ = req2("HEAD", "")
        v = h.get("x-storlet-rules-mandatory-containers")
        return set(v.split(",")) if v else set()

    def code_put():
        return req2("PUT", "/storlet/x.py", body=b"def main(s):\n    pass\n",
                    headers=python("x.main"), token=wtok)[0]

    req2("POST", "", headers={"X-Account-Meta-Storlet-Enabled": "True"})
    req2("PUT", "/storlet", headers={"X-Container-Write": "test2:writer2"})
    for c in ("ca", "c%20b"):
        req2("PUT", "/" + c)
    t.eq(code_put(), 201, "without a mandatory rule a writer with an ACL deploys code")
    for c in ("ca", "c%20b"):
        st, _, _ = req2("POST", "/" + c, headers={"X-Storlet-Rules": json.dumps(DOC)})
        t.eq(st, 204, "a mandatory rule on %s" % c)
    t.eq(marks(), {"ca", "c%20b"}, "the manager sees both containers marked")
    t.eq(code_put(), 403, "and the writer may not deploy code")
    st, h, _ = req2("HEAD", "", token=wtok)
    t.ok("x-storlet-rules-mandatory-containers" not in h, "nobody else sees the marks")
    st, _, _ = req2("POST", "/ca", headers={"X-Storlet-Rules": json.dumps({"rules": [
        {"id": "plain", "action": {"storlet": "identity"}}]})})
    t.eq(st, 204, "ca's document loses its mandatory rule")
    t.eq(marks(), {"c%20b"}, "its mark goes, the other stays")
    t.eq(code_put(), 403, "one mandatory rule left: the writer still may not")
    st, _, _ = req2("POST", "/c%20b", headers={"X-Storlet-Rules": ""})
    t.eq(st, 204, "the last mandatory rule is removed")
    t.eq(marks(), set(), "no container is marked")
    t.eq(code_put(), 201, "and the writer deploys code again")
    req2("POST", "/ca", headers={"X-Storlet-Rules": json.dumps(DOC)})
    t.ok(marks() == {"ca"} and code_put() == 403, "a mandatory rule again: marked")
    st, _, _ = req2("DELETE", "/ca")
    t.eq(st, 204, "the container holding it is deleted")
    t.ok(marks() == set() and code_put() == 201, "and its mark went with it")
    # the whole-account mark an older proxy set is still honoured
    part, prim, _ = cl.locate("AUTH_test2", ring="account")
    ts = cl.ts()
    for node, dev in prim:
        node.acct("POST", "/%s/%d/AUTH_test2" % (dev, part), headers={
            "X-Timestamp": ts, "X-Account-Sysmeta-Cairn-Storlet-Mandatory": "1"})
    req2("POST", "", headers={"X-Account-Meta-Note": "x"})   # this proxy forgets
    t.eq(code_put(), 403, "an account carrying the old whole-account mark is "
         "still closed to writers of code")

t.done()
