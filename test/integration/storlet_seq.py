#!/usr/bin/python3
# tier: quick
"""Sequence storlets on a real cluster (docs/compound-storlets.md section
1): X-Run-Storlet with a list runs the stages in order, each one's output
the next one's input; a chain that may run wholly next to the data runs on
the object node (X-Storlet-Sequence-Placement: object=3, proxy=0, and that
node's log has one invocation line per stage while the proxy's has none);
stage-scoped parameters reach only their stage; a failing stage fails the
request with a reason naming it; a malformed list is 400."""
import os
import sys

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


def native(main, **extra):
    h = dict(NATIVE)
    h["X-Object-Meta-Storlet-Main"] = main
    h.update(extra)
    return h


with Cluster(t) as cl:
    os.chmod(cl.dir, 0o755)   # the sandbox opens code dirs below it
    sdk = os.path.join(SRC, "storlets", "sdk", "cairn_storlet.py")

    def conf(name):
        return {"storlets": "true",
                "storlet_cache_dir": os.path.join(cl.dir, name + "-cache"),
                "storlet_sdk": sdk, "storlet_warm": "1"}

    nodes = []
    for i, ip in enumerate(("127.0.0.1", "127.0.0.2", "127.0.0.3")):
        nodes.append(cl.objectd(devices=["d%d" % (i + 1)], ip=ip,
                                conf=conf("node%d" % i)))
    for kind, port in (("account", "aport"), ("container", "cport"),
                       ("object", "port")):
        cl.build_ring(kind, 6, 3, [(n.ip, getattr(n, port), n.devices[0])
                                   for n in nodes])
    p = cl.proxy(conf={"DEFAULT": conf("proxy")})
    path, tok = p.auth("test:tester")

    def req(m, u, body=None, headers=None):
        h = {"X-Auth-Token": tok}
        h.update(headers or {})
        return p.request(m, u, body=body, headers=h)

    st, _, _ = req("POST", path,
                   headers={"X-Account-Meta-Storlet-Enabled": "True"})
    t.eq(st, 204, "enable the account")
    req("PUT", path + "/storlet")
    req("PUT", path + "/dependency")
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

t.done()
