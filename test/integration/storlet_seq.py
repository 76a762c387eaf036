#!/usr/bin/python3
# tier: quick
"""Sequence storlets on a real cluster (docs/compound-storlets.md section
1): X-Run-Storlet with a list runs the stages in order, each one's output
the next one's input; a chain that may run wholly next to the data runs on
the object node (X-Storlet-Sequence-Placement: object=3, proxy=0, and that
node's log has one invocation line per stage while the proxy's has none);
a stage whose storlet says X-Object-Meta-Storlet-Run-On: proxy (or that
uses services) runs on the proxy with every stage after it, over the
node's output (object=2, proxy=1; object=1, proxy=2); a stage marked
`object` after a proxy stage is 400 naming it; X-Storlet-Run-On-Proxy puts
every stage on the proxy; X-Storlet-Range feeds the first stage a range;
sequences on PUT and COPY store exactly the chain's output with
provenance naming the chain; X-Storlet-Generate-Log stores one log per
stage; stage-scoped parameters reach only their stage; a failing stage
fails the request with a reason naming it, wherever it ran; a malformed
list is 400. A request sent straight to an object node with X-Run-Storlet
is a plain GET: the node runs only the chain a proxy sends it."""
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster, BUILD, storlet_headers, wait_for  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()


def native(main, **extra):
    return storlet_headers(main, "native", "yes", **extra)


with Cluster(t) as cl:
    nodes, p = cl.storlet_cluster()
    path, tok = p.auth("test:tester")
    req = p.requester(tok)
    t.eq(p.enable_storlets(path, tok, ("storlet", "dependency")), 204,
         "enable the account")
    for name in ("identity", "grep"):
        with open(os.path.join(BUILD, "storlets", name), "rb") as f:
            st, _, _ = req("PUT", path + "/storlet/" + name, body=f.read(),
                           headers=native(name))
        t.eq(st, 201, "deploy %s" % name)
    req("PUT", path + "/dependency/upper.sh",
        body=b"#!/bin/sh\nexec 3>&-\nexec tr a-z A-Z\n",
        headers={"X-Object-Meta-Storlet-Dependency-Version": "1",
                 "X-Object-Meta-Storlet-Dependency-Permissions": "0755"})
    st, _, _ = req("PUT", path + "/storlet/shout", body=b"script",
                   headers=native("upper.sh", **{
                       "X-Object-Meta-Storlet-Dependency": "upper.sh"}))
    t.eq(st, 201, "deploy shout")
    fail = b"#!/bin/sh\necho 'stage refuses its input' >&2\nexit 3\n"
    req("PUT", path + "/storlet/fail.sh", body=fail, headers=native("fail.sh"))

    text = b"alpha beta\ngamma Beta\ndelta\n" * 100
    req("PUT", path + "/data")
    st, _, _ = req("PUT", path + "/data/text.txt", body=text,
                   headers={"X-Object-Meta-Ward": "7"})
    t.eq(st, 201, "store the input")

    # ---- three stages, wholly on the object node
    st, h, b = req("GET", path + "/data/text.txt", headers={
        "X-Run-Storlet": "identity, shout, grep",
        "X-Storlet-Stage-3-Parameter-1": "pattern:GAMMA"})
    t.eq((st, b), (200, b"GAMMA BETA\n" * 100),
         "identity, shout, grep: each stage's output is the next's input")
    t.eq(h.get("x-storlet-sequence-placement"), "object=3, proxy=0",
         "the whole chain ran on the object node")
    ran = h.get("x-storlet-executed-on", "")
    node = [n for n in nodes if ran.startswith("%s:%d/" % (n.ip, n.port))]
    t.ok(len(node) == 1, "X-Storlet-Executed-On names an object node (%s)" % ran)
    log = node[0].read_log() if node else ""
    for name in ("identity", "shout", "grep"):
        t.ok("storlet account=AUTH_test storlet=%s " % name in log,
             "the node logged stage %s" % name)
    t.ok("storlet account=AUTH_test storlet=" not in p.read_log(),
         "the proxy ran no stage: only the final output crossed the network")
    t.ok("etag" not in h and "content-length" not in h,
         "no ETag or length of the stored object")
    t.eq(h.get("x-object-meta-pattern-mode"), "fixed",
         "the last stage's output metadata is a response header")

    # stage-scoped parameters override request-wide ones, for their stage only
    st, _, b = req("GET", path + "/data/text.txt", headers={
        "X-Run-Storlet": "grep, grep",
        "X-Storlet-Parameter-1": "pattern:beta",
        "X-Storlet-Parameter-2": "ignore-case:true",
        "X-Storlet-Stage-2-Parameter-1": "pattern:gamma"})
    t.eq((st, b), (200, b"gamma Beta\n" * 100),
         "request-wide parameters reach every stage, stage ones override")
    st, _, b = req("GET", path + "/data/text.txt?count=true", headers={
        "X-Run-Storlet": "shout,grep",
        "X-Storlet-Stage-2-Parameter-1": "pattern:DELTA"})
    t.eq((st, b.strip()), (200, b"100"),
         "query parameters reach the chain (count of DELTA lines)")

    # ---- failures
    st, _, b = req("GET", path + "/data/text.txt", headers={
        "X-Run-Storlet": "identity, fail.sh, grep",
        "X-Storlet-Parameter-1": "pattern:x"})
    t.ok(st >= 400 and b"stage 2 (fail.sh)" in b,
         "a failing stage fails the request, naming the stage (%d %r)"
         % (st, b[:120]))
    st, _, b = req("GET", path + "/data/text.txt", headers={
        "X-Run-Storlet": "identity, nothere"})
    t.ok(st == 401 and b"stage 2 (nothere)" in b,
         "a missing storlet in the chain is 401 naming it")
    st, _, _ = req("GET", path + "/data/text.txt",
                   headers={"X-Run-Storlet": "identity,,grep"})
    t.eq(st, 400, "an empty name in the list is 400")
    st, _, _ = req("GET", path + "/data/text.txt", headers={
        "X-Run-Storlet": "identity,grep",
        "X-Storlet-Stage-3-Parameter-1": "pattern:x"})
    t.eq(st, 400, "a stage parameter beyond the list is 400")

    # ---- placement: a stage that must run on the proxy
    upper = b"#!/bin/sh\nexec 3>&-\nexec tr a-z A-Z\n"
    st, _, b = req("PUT", path + "/storlet/bad-runon", body=upper,
                   headers=native("bad-runon", **{
                       "X-Object-Meta-Storlet-Run-On": "somewhere"}))
    t.ok(st == 400 and b"X-Object-Meta-Storlet-Run-On" in b,
         "a storlet with a bad Run-On is refused at upload")
    for name, extra in (("shoutpx", {"X-Object-Meta-Storlet-Run-On": "proxy"}),
                        ("shoutsvc", {"X-Object-Meta-Storlet-Services": "yes"}),
                        ("shoutobj", {"X-Object-Meta-Storlet-Run-On": "object"}),
                        ("failpx", {"X-Object-Meta-Storlet-Run-On": "proxy"})):
        body = fail.replace(b"refuses", b"on the proxy refuses") \
            if name == "failpx" else upper
        st, _, _ = req("PUT", path + "/storlet/" + name, body=body,
                       headers=native(name, **extra))
        t.eq(st, 201, "deploy %s (%s)" % (name, extra))
    proxy_log0 = len(p.read_log())

    def proxy_ran(since):
        return p.read_log()[since:]

    st, h, b = req("GET", path + "/data/text.txt", headers={
        "X-Run-Storlet": "identity, grep, shoutpx",
        "X-Storlet-Stage-2-Parameter-1": "pattern:gamma"})
    t.eq((st, b), (200, b"GAMMA BETA\n" * 100),
         "a proxy-only last stage runs over the node's output")
    t.eq(h.get("x-storlet-sequence-placement"), "object=2, proxy=1",
         "two stages on the node, one on the proxy")
    ran = h.get("x-storlet-executed-on", "")
    t.ok(ran.endswith(", proxy") and ran.split(":")[0] in
         ("127.0.0.1", "127.0.0.2", "127.0.0.3"),
         "X-Storlet-Executed-On names the node and the proxy (%s)" % ran)
    plog = proxy_ran(proxy_log0)
    t.ok("storlet account=AUTH_test storlet=shoutpx " in plog and
         "storlet account=AUTH_test storlet=grep " not in plog,
         "the proxy ran only the last stage")

    st, h, b = req("GET", path + "/data/text.txt", headers={
        "X-Run-Storlet": "identity, shoutpx, grep",
        "X-Storlet-Stage-3-Parameter-1": "pattern:DELTA"})
    t.eq((st, b), (200, b"DELTA\n" * 100),
         "a proxy-only middle stage takes the rest of the chain along")
    t.eq(h.get("x-storlet-sequence-placement"), "object=1, proxy=2",
         "one stage on the node, two on the proxy")
    st, h, b = req("GET", path + "/data/text.txt", headers={
        "X-Run-Storlet": "shoutsvc, grep",
        "X-Storlet-Parameter-1": "pattern:ALPHA"})
    t.eq((st, h.get("x-storlet-sequence-placement")),
         (200, "object=0, proxy=2"),
         "a first stage that uses services puts the chain on the proxy")
    t.eq(b, b"ALPHA BETA\n" * 100, "and its output is right")
    st, _, b = req("GET", path + "/data/text.txt", headers={
        "X-Run-Storlet": "identity, shoutpx, shoutobj"})
    t.ok(st == 400 and b"stage 3 (shoutobj) must run on the object node" in b,
         "a stage marked object after a proxy stage is 400 naming it (%r)"
         % b[:100])

    # ---- every stage on the proxy
    st, h, b = req("GET", path + "/data/text.txt", headers={
        "X-Run-Storlet": "identity, shout, grep",
        "X-Storlet-Run-On-Proxy": "",
        "X-Storlet-Stage-3-Parameter-1": "pattern:GAMMA"})
    t.eq((st, b), (200, b"GAMMA BETA\n" * 100),
         "X-Storlet-Run-On-Proxy runs the chain on the proxy")
    t.eq((h.get("x-storlet-sequence-placement"),
          h.get("x-storlet-executed-on")), ("object=0, proxy=3", "proxy"),
         "object=0, proxy=3")
    st, _, b = req("GET", path + "/data/text.txt", headers={
        "X-Run-Storlet": "identity, shoutobj", "X-Storlet-Run-On-Proxy": ""})
    t.ok(st == 400 and b"stage 2 (shoutobj)" in b,
         "X-Storlet-Run-On-Proxy with a stage marked object is 400")

    # ---- X-Storlet-Range: the first stage's input
    for where, extra in (("node", {}), ("proxy", {"X-Storlet-Run-On-Proxy": ""})):
        hdrs = {"X-Run-Storlet": "identity, shout",
                "X-Storlet-Range": "bytes=11-21"}
        hdrs.update(extra)
        st, h, b = req("GET", path + "/data/text.txt", headers=hdrs)
        t.eq((st, b), (200, text[11:22].upper()),
             "X-Storlet-Range on a sequence (%s)" % where)
    st, h, b = req("GET", path + "/data/text.txt", headers={
        "X-Run-Storlet": "identity, shoutpx",
        "X-Storlet-Range": "bytes=11-21"})
    t.eq((st, b, h.get("x-storlet-sequence-placement")),
         (200, text[11:22].upper(), "object=1, proxy=1"),
         "X-Storlet-Range on a split sequence feeds the node's first stage")
    st, h, b = req("GET", path + "/data/text.txt", headers={
        "X-Run-Storlet": "identity, shout", "X-Storlet-Range": "bytes=-6"})
    t.eq((st, b, h.get("storlet-input-range")),
         (200, b"DELTA\n", "bytes %d-%d/%d" % (len(text) - 6, len(text) - 1,
                                              len(text))),
         "a suffix range, reported in Storlet-Input-Range")
    st, _, _ = req("GET", path + "/data/text.txt", headers={
        "X-Run-Storlet": "identity, shout",
        "X-Storlet-Range": "bytes=%d-" % (len(text) + 5)})
    t.eq(st, 416, "a range beyond the object is 416")

    # ---- PUT and COPY
    want = b"GAMMA BETA\n" * 100
    st, h, _ = req("PUT", path + "/data/put-seq", body=text, headers={
        "X-Run-Storlet": "shout, grep", "X-Object-Meta-Owner": "lab",
        "X-Storlet-Stage-2-Parameter-1": "pattern:GAMMA"})
    t.eq((st, h.get("x-storlet-sequence-placement")), (201, "object=0, proxy=2"),
         "PUT through a sequence runs it on the proxy")
    t.eq(h.get("etag"), hashlib.md5(want).hexdigest(),
         "its ETag is the MD5 of the chain's output")
    st, h, b = req("GET", path + "/data/put-seq")
    t.ok(b == want, "PUT stored the chain's output, byte for byte")
    t.eq(h.get("x-object-meta-storlet-generated-by"), "shout,grep",
         "provenance names the chain")
    etags = []
    for name in ("shout", "grep"):
        etags.append(req("HEAD", path + "/storlet/" + name)[1].get("etag"))
    t.eq(h.get("x-object-meta-storlet-generated-by-etag"), ",".join(etags),
         "and each stage's version")
    t.eq(json.loads(h.get("x-object-meta-storlet-generated-params", "null")),
         [{}, {"pattern": "GAMMA"}], "and each stage's parameters")
    t.eq(h.get("x-object-meta-owner"), "lab", "the request's metadata is kept")

    for dst, hdrs, placement in (
            ("copy-node", {}, "object=3, proxy=0"),
            ("copy-split", {"X-Storlet-Stage-3-Parameter-1": "pattern:x"},
             None),
            ("copy-proxy", {"X-Storlet-Run-On-Proxy": ""}, "object=0, proxy=3")):
        chain = "identity, shout, grep" if dst != "copy-split" \
            else "identity, grep, shoutpx"
        h2 = {"X-Copy-From": "data/text.txt", "X-Run-Storlet": chain,
              "X-Storlet-Parameter-1": "pattern:GAMMA"
              if dst != "copy-split" else "pattern:gamma"}
        h2.update({k: v for k, v in hdrs.items() if k != "X-Storlet-Stage-3-Parameter-1"})
        st, h, _ = req("PUT", path + "/data/" + dst, body=b"", headers=h2)
        t.eq((st, h.get("x-storlet-sequence-placement")),
             (201, placement or "object=2, proxy=1"),
             "PUT + X-Copy-From through a sequence (%s)" % dst)
        st, h, b = req("GET", path + "/data/" + dst)
        t.ok(b == want, "the copy holds the chain's output (%s)" % dst)
        t.eq(h.get("x-object-meta-storlet-generated-by-etag"),
             ",".join(req("HEAD", path + "/storlet/" + n.strip())[1].get("etag")
                      for n in chain.split(",")),
             "provenance: each stage's version (%s)" % dst)
        t.eq((h.get("x-object-meta-storlet-generated-by"),
              h.get("x-object-meta-storlet-generated-from"),
              h.get("x-object-meta-storlet-generated-from-etag")),
             (chain.replace(" ", ""), "data/text.txt",
              hashlib.md5(text).hexdigest()),
             "provenance of the copy (%s)" % dst)
    st, h, _ = p.request("COPY", path + "/data/text.txt", headers={
        "X-Auth-Token": tok, "Destination": "data/copy-verb",
        "X-Run-Storlet": "identity, grep, shoutpx",
        "X-Storlet-Stage-2-Parameter-1": "pattern:gamma"})
    t.eq((st, h.get("x-storlet-sequence-placement")), (201, "object=2, proxy=1"),
         "COPY through a split sequence")
    t.ok(req("GET", path + "/data/copy-verb")[2] == want,
         "the COPY stored the chain's output")

    # ---- a failing stage, wherever it runs
    cl.expect_log(r"storlet .*fail")
    st, _, b = req("GET", path + "/data/text.txt", headers={
        "X-Run-Storlet": "identity, failpx"})
    t.ok(st == 500 and b"stage 2 (failpx): " in b and
         b"stage on the proxy refuses" in b,
         "a failing proxy stage of a split chain names it (%d %r)" % (st, b[:80]))
    st, _, b = req("GET", path + "/data/text.txt", headers={
        "X-Run-Storlet": "identity, fail.sh", "X-Storlet-Run-On-Proxy": ""})
    t.ok(st == 500 and b"stage 2 (fail.sh)" in b,
         "a failing stage with every stage on the proxy names it")
    st, _, b = req("PUT", path + "/data/never", body=text, headers={
        "X-Run-Storlet": "shout, fail.sh"})
    t.ok(st == 500 and b"stage 2 (fail.sh)" in b,
         "a failing stage of a PUT sequence names it")
    t.eq(req("HEAD", path + "/data/never")[0], 404, "and nothing is stored")
    st, _, b = req("PUT", path + "/data/never", body=b"", headers={
        "X-Copy-From": "data/text.txt", "X-Run-Storlet": "identity, fail.sh"})
    t.ok(st == 500 and b"stage 2 (fail.sh)" in b,
         "a failing node stage of a COPY sequence names it (%d %r)" % (st, b[:80]))
    t.eq(req("HEAD", path + "/data/never")[0], 404, "and nothing is stored")

    # ---- one log per stage
    req("PUT", path + "/storletlog")
    st, h, _ = req("GET", path + "/data/text.txt", headers={
        "X-Run-Storlet": "identity, failpx", "X-Storlet-Generate-Log": "True"})
    txn = h.get("x-trans-id", "")
    for name in ("identity", "failpx"):
        def there(name=name):
            st, _, b = req("GET", "%s/storletlog/%s.%s.log" % (path, name, txn))
            return b if st == 200 else None
        try:
            got = wait_for(there, 30, "the log of %s" % name)
        except TimeoutError:
            got = None
        t.ok(got is not None, "X-Storlet-Generate-Log stored %s's log" % name)
        if name == "failpx":
            t.ok(got is not None and b"refuses its input" in got,
                 "the failing stage's log holds its reason")

    # ---- a request straight to an object node runs nothing
    part, prim, _ = cl.locate("AUTH_test", "data", "text.txt")
    nd, dev = prim[0]
    st, h, b = nd.request("GET", "/%s/%d/AUTH_test/data/text.txt" % (dev, part),
                          headers={"X-Run-Storlet": "shout",
                                   "X-Storlet-Run-On-Proxy": "",
                                   "X-Backend-Storlet-Token": tok,
                                   "X-Backend-Storlet-Proxy": "%s:%d" % (p.ip, p.port)})
    t.eq((st, b), (200, text),
         "a direct GET with X-Run-Storlet is a plain GET: the stored bytes")
    t.ok("x-storlet-executed-on" not in h, "and no storlet ran")

t.done()
