#!/usr/bin/python3
# tier: quick
"""Storlet services invocation (docs/storlets.md 3.8) on a real cluster: the
concat storlet reads other objects and runs another storlet on them through
its services channel, with the caller's rights only (a user who may not
read an object cannot have a storlet read it for them), on the object node
and on the proxy; invocation chains stop at the depth limit."""
import hashlib
import http.client
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster, BUILD  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()


def get(p, path, headers):
    c = http.client.HTTPConnection(p.ip, p.port, timeout=60)
    try:
        c.request("GET", path, headers=headers)
        r = c.getresponse()
        try:
            return r.status, r.read(), True
        except http.client.IncompleteRead as e:
            return r.status, e.partial, False
    finally:
        c.close()


with Cluster(t) as cl:
    _, p = cl.storlet_cluster(warm="0", conf={"storlet_idle_timeout": "4"})
    path, tok = p.auth("test:tester")
    _, tok3 = p.auth("test:tester3")
    H = {"X-Auth-Token": tok}
    req = p.requester(tok)
    p.enable_storlets(path, tok, ("storlet", "data", "private"))
    for name in ("concat", "fixity", "identity"):
        t.eq(p.deploy(path, tok, name), 201, "deploy %s" % name)
    a, b, secret = b"first part\n" * 50, b"second part\n" * 70, b"secret!\n"
    req("PUT", path + "/data/a", body=a)
    req("PUT", path + "/data/b", body=b)
    req("PUT", path + "/private/s", body=secret)

    st, body, whole = get(p, path + "/data/a", dict(
        H, **{"X-Run-Storlet": "concat", "X-Storlet-Parameter-1": "objects:data/b"}))
    t.ok(st == 200 and whole and body == a + b,
         "concat on the object node reads another object through services")
    st, body, whole = get(p, path + "/data/a", dict(
        H, **{"X-Run-Storlet": "concat", "X-Storlet-Parameter-1": "objects:data/b,private/s",
              "X-Storlet-Run-On-Proxy": ""}))
    t.ok(st == 200 and whole and body == a + b + secret,
         "and on the proxy, two objects")
    st, body, whole = get(p, path + "/data/a", dict(
        H, **{"X-Run-Storlet": "concat", "X-Storlet-Parameter-1": "objects:data/b",
              "X-Storlet-Parameter-2": "storlet:fixity",
              "X-Storlet-Parameter-3": "skip-input:true"}))
    t.ok(st == 200 and whole and json.loads(body)["md5"] == hashlib.md5(b).hexdigest(),
         "services invoke runs another storlet on an object")

    # the caller's rights only
    req("POST", path + "/data", headers={"X-Container-Read": "test:tester3"})
    req("POST", path + "/storlet", headers={"X-Container-Read": "test:tester3"})
    st, body, whole = get(p, path + "/data/a", {
        "X-Auth-Token": tok3, "X-Run-Storlet": "concat",
        "X-Storlet-Parameter-1": "objects:data/b"})
    t.ok(st == 200 and whole and body == a + b,
         "a reader of data/ may concat data/ objects")
    cl.expect_log(r"storlet .*concat")
    st, body, whole = get(p, path + "/data/a", {
        "X-Auth-Token": tok3, "X-Run-Storlet": "concat",
        "X-Storlet-Parameter-1": "objects:private/s",
        "X-Storlet-Parameter-2": "skip-input:true"})
    t.ok(st >= 400 and secret not in body and b"403" in body,
         "but not an object they may not read (%d %r)" % (st, body[:120]))
    st, body, whole = get(p, path + "/data/a", {
        "X-Auth-Token": tok3, "X-Run-Storlet": "concat",
        "X-Storlet-Parameter-1": "objects:private/s"})
    t.ok(secret not in body and not (st == 200 and whole),
         "after output it ends abnormally, never a short 200 (%d)" % st)
    st, body, whole = get(p, path + "/data/a", {
        "X-Auth-Token": tok3, "X-Run-Storlet": "concat",
        "X-Storlet-Parameter-1": "objects:/AUTH_test2/x/y",
        "X-Storlet-Parameter-2": "skip-input:true"})
    t.ok(st >= 400, "nor another account's object (%d)" % st)

    # a storlet that never writes is killed by the no-output timeout
    p.deploy(path, tok, "stall.sh", body=b"#!/bin/sh\nexec 3>&-\nexec sleep 60\n")
    cl.expect_log(r"storlet .*stall")
    st, body, _ = get(p, path + "/data/a", dict(H, **{"X-Run-Storlet": "stall.sh"}))
    t.ok(st == 500 and b"Storlet execution timed out" in body,
         "no output for storlet_idle_timeout: 500 timed out (%d %r)" % (st, body[:80]))
    # a dependency the caller may not read
    req("PUT", path + "/dependency")
    req("PUT", path + "/dependency/lib.txt", body=b"x",
        headers={"X-Object-Meta-Storlet-Dependency-Version": "1"})
    with open(os.path.join(BUILD, "storlets", "identity"), "rb") as f:
        p.deploy(path, tok, "identity-dep", body=f.read(), **{
            "X-Object-Meta-Storlet-Dependency": "lib.txt"})
    st, body, _ = get(p, path + "/data/a", dict(H, **{"X-Run-Storlet": "identity-dep"}))
    t.ok(st == 200 and body == a, "the owner runs a storlet with a dependency")
    st, body, _ = get(p, path + "/data/a", {"X-Auth-Token": tok3,
                                             "X-Run-Storlet": "identity-dep"})
    t.ok(st == 401 and b"dependency" in body,
         "without read on its dependency: 401 (%d %r)" % (st, body[:80]))

    # depth: a request already at the limit is refused
    st, body, _ = get(p, path + "/data/a", dict(
        H, **{"X-Run-Storlet": "identity", "X-Storlet-Depth": "4"}))
    t.eq(st, 508, "a chain deeper than the limit is refused")

t.done()
