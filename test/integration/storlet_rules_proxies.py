#!/usr/bin/python3
# tier: full
"""Rule changes and a second proxy (docs/rules.md, note on caches).

A proxy caches account and container info (rule documents, the storlet
switch) for 10 s, counted from when it sent the HEAD that read them. So a
change made through one proxy applies there at once, and on every other
proxy to every request that starts 10 s after the change was answered.
This test warms a second proxy's caches, changes rules through the first,
waits until that bound has passed (polling the clock, not sleeping a
guess) and then expects the second proxy to apply the change on its very
next request: both adding mandatory rules (the direction where a stale
cache would be permissive) and removing them."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster, SRC, storlet_headers  # noqa: E402
from tap import Tap  # noqa: E402


BOUND = 10.0   # seconds: the proxies' info cache lifetime
t = Tap()

DEID = {"id": "deid", "mandatory": True, "match": {"groups": ["researcher"]},
        "action": {"storlet": "deid.py",
                   "parameters": {"fields": "name,ssn", "mode": "mask"}}}
CSV = (b"id,name,ssn,diagnosis\r\n"
       b"1,Alice Smith,123-45-6789,flu\r\n")


def deidentified(st, b):
    return st == 200 and b"Alice" not in b and b"123-45-6789" not in b and b"***" in b


def wait_bound(since):
    """Returns once BOUND seconds have passed since `since` (monotonic)."""
    while time.monotonic() < since + BOUND + 0.05:
        time.sleep(0.05)


with Cluster(t) as cl:
    users = {"test:tester": "testing .admin", "test:res": "resing researcher"}
    nodes, p1 = cl.storlet_cluster(warm="0", users=users)
    # the same tempauth users and secret, so a token works on both
    p2 = cl.proxy(users=users, conf={"DEFAULT": cl.storlet_conf("proxy2", "0")},
                  start=False)
    with open(p1.conf) as f:
        secret = [ln for ln in f.read().splitlines() if ln.startswith("secret = ")][0]
    with open(p2.conf) as f:
        text = f.read()
    with open(p2.conf, "w") as f:
        f.write("\n".join(secret if ln.startswith("secret = ") else ln
                          for ln in text.splitlines()) + "\n")
    p2.start()
    path, tok = p1.auth("test:tester")
    _, rtok = p1.auth("test:res")

    def req(p, m, u, body=None, headers=None, token=tok):
        h = {"X-Auth-Token": token}
        h.update(headers or {})
        return p.request(m, u, body=body, headers=h, timeout=60)

    def rget(p, u):
        st, _, b = req(p, "GET", path + u, token=rtok)
        return st, b

    st, _, _ = req(p1, "POST", path, headers={"X-Account-Meta-Storlet-Enabled": "True"})
    t.eq(st, 204, "enable storlets")
    for c in ("storlet", "a", "b"):
        req(p1, "PUT", path + "/" + c, headers={"X-Container-Read": "researcher"})
    with open(os.path.join(SRC, "storlets", "deid", "deid.py"), "rb") as f:
        st, _, _ = req(p1, "PUT", path + "/storlet/deid.py", body=f.read(),
                       headers=storlet_headers("deid.main", "python"))
    t.eq(st, 201, "deploy deid.py")
    for o in ("a/x.csv", "b/y.csv"):
        st, _, _ = req(p1, "PUT", path + "/" + o, body=CSV,
                       headers={"Content-Type": "text/csv"})
        t.eq(st, 201, "store %s" % o)

    # warm every worker of the second proxy: no rule yet, raw data
    got = [rget(p2, u) for u in ("/a/x.csv", "/b/y.csv") for _ in range(4)]
    t.ok(all(st == 200 and b == CSV for st, b in got),
         "the second proxy serves the raw records (no rule yet)")

    # mandatory rules: one on container a, one in the account's document
    # (for b/y.csv by its prefix)
    st, _, _ = req(p1, "POST", path + "/a", headers={"X-Storlet-Rules": json.dumps(
        {"rules": [DEID]})})
    t.eq(st, 204, "a mandatory rule on container a")
    st, _, _ = req(p1, "POST", path, headers={"X-Storlet-Rules": json.dumps(
        {"rules": [dict(DEID, match={"groups": ["researcher"], "prefix": "y"})]})})
    t.eq(st, 204, "and one in the account's document")
    changed = time.monotonic()
    t.ok(deidentified(*rget(p1, "/a/x.csv")) and deidentified(*rget(p1, "/b/y.csv")),
         "the proxy that made the changes applies them at once")
    st, b = rget(p2, "/a/x.csv")
    t.diag("right after the change the second proxy answered %s" % (
        "the rule's output" if deidentified(st, b) else "raw data (its cache)"))
    wait_bound(changed)
    got = [rget(p2, u) for u in ("/a/x.csv", "/b/y.csv") for _ in range(4)]
    t.ok(all(deidentified(st, b) for st, b in got),
         "10 s after the changes the second proxy applies both, on every "
         "worker (%s)" % [(st, b[:30]) for st, b in got][:2])

    # removing them: the rules lapse there too
    st, _, _ = req(p1, "POST", path + "/a", headers={"X-Storlet-Rules": ""})
    t.eq(st, 204, "container a's rule removed")
    st, _, _ = req(p1, "POST", path, headers={"X-Storlet-Rules": ""})
    t.eq(st, 204, "and the account's")
    changed = time.monotonic()
    t.ok(rget(p1, "/a/x.csv") == (200, CSV), "the first proxy serves raw at once")
    wait_bound(changed)
    got = [rget(p2, u) for u in ("/a/x.csv", "/b/y.csv") for _ in range(4)]
    t.ok(all(st == 200 and b == CSV for st, b in got),
         "10 s after, the second proxy serves raw data again")

t.done()
