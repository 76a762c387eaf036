#!/usr/bin/python3
# tier: quick
"""Per-account storlet accounting (docs/storlets.md section 8): every
invocation, on an object node or on the proxy, writes one line to the
daemon's log in the documented key=value format, with the account, the
storlet, the operation, where it ran, duration, CPU time, bytes in and out,
the transaction id and how it ended (ok, failed before output, cancelled by
a client that went away). The test reads the daemons' logs and counts the
invocations of each account."""
import http.client
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster, SRC, wait_for  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()

# The documented keys, in their documented order (later versions may add
# others between them); reason is last and optional.
KEYS = ["account", "storlet", "etag", "op", "run_on", "status", "end", "exit",
        "duration_ms", "sandbox_ms", "cpu_us", "bytes_in", "bytes_out", "warm",
        "txn", "outcome"]
LINE = re.compile(r" storlet (account=.*)$")


def parse(line):
    """One accounting line as a dict, or None when it is not in the
    documented form."""
    m = LINE.search(line)
    if not m:
        return None
    rest, reason = m.group(1), None
    if " reason=" in rest:
        rest, reason = rest.split(" reason=", 1)
    pairs = [f.split("=", 1) for f in rest.split(" ")]
    if any(len(p) != 2 for p in pairs):
        return None
    # the documented keys in their order; keys added later may sit between
    if [p[0] for p in pairs if p[0] in KEYS] != KEYS:
        return None
    d = dict(pairs)
    d["reason"] = reason
    return d


def lines_of(daemons):
    out = []
    for d in daemons:
        for line in d.read_log().splitlines():
            if " storlet account=" in line:
                out.append((d, line, parse(line)))
    return out


with Cluster(t) as cl:
    nodes, p = cl.storlet_cluster(warm="0")
    daemons = nodes + [p]
    accts = {}
    for who in ("test:tester", "test2:tester2"):
        accts[who.split(":")[0]] = p.auth(who)

    def req(acct, m, u, body=None, headers=None):
        path, tok = accts[acct]
        h = {"X-Auth-Token": tok}
        h.update(headers or {})
        return p.request(m, path + u, body=body, headers=h)

    wc = open(os.path.join(SRC, "storlets", "wordcount", "wordcount.py"),
              "rb").read()
    text = b"alpha beta\ngamma Beta\ndelta\n" * 200
    for a, (apath, atok) in accts.items():
        p.enable_storlets(apath, atok, ("storlet", "data"))
        t.eq(p.deploy(apath, atok, "grep"), 201, "%s: deploy grep" % a)
        req(a, "PUT", "/data/text", body=text)
    tpath, ttok = accts["test"]
    p.deploy(tpath, ttok, "wordcount.py", body=wc, lang="python",
             main="wordcount.main")
    p.deploy(tpath, ttok, "fail.sh",
             body=b"#!/bin/sh\necho 'not my kind of input' >&2\nexit 3\n")
    p.deploy(tpath, ttok, "drip.sh",
             body=b"#!/bin/sh\nexec 3>&-\n"
                  b"while :; do head -c 65536 /dev/zero; sleep 0.05; done\n")
    t.eq(lines_of(daemons), [], "deploying runs nothing, logs no invocation")

    # ---- invocations: account test
    want = b"gamma Beta\n" * 200
    st, h, b = req("test", "GET", "/data/text", headers={
        "X-Run-Storlet": "grep", "X-Storlet-Parameter-1": "pattern:gamma"})
    t.eq((st, b), (200, want), "test: grep on an object node")
    get_txn, get_on = h.get("x-trans-id"), h.get("x-storlet-executed-on", "")
    st, h, _ = req("test", "PUT", "/data/put-out", body=text, headers={
        "X-Run-Storlet": "grep", "X-Storlet-Parameter-1": "pattern:delta"})
    t.eq(st, 201, "test: PUT through grep (on the proxy)")
    put_txn = h.get("x-trans-id")
    st, _, b = req("test", "GET", "/data/text", headers={
        "X-Run-Storlet": "wordcount.py", "X-Storlet-Run-On-Proxy": ""})
    t.eq(st, 200, "test: python wordcount on the proxy")
    cl.expect_log(r"storlet .*fail\.sh")
    st, _, b = req("test", "GET", "/data/text", headers={"X-Run-Storlet": "fail.sh"})
    t.eq(st, 500, "test: a storlet failing before output")

    # a client that goes away mid-stream cancels the run
    path, tok = accts["test"]
    c = http.client.HTTPConnection(p.ip, p.port, timeout=30)
    c.request("GET", path + "/data/text", headers={
        "X-Auth-Token": tok, "X-Run-Storlet": "drip.sh",
        "X-Storlet-Run-On-Proxy": ""})
    r = c.getresponse()
    got = r.read(100000)
    c.sock.shutdown(2)
    c.close()
    t.eq((r.status, len(got)), (200, 100000), "test: a dripping storlet streams")

    # ---- invocations: account test2
    for i in range(2):
        st, _, b = req("test2", "GET", "/data/text", headers={
            "X-Run-Storlet": "grep", "X-Storlet-Parameter-1": "pattern:alpha"})
        t.eq((st, b), (200, b"alpha beta\n" * 200), "test2: grep #%d" % (i + 1))

    wait_for(lambda: any(d and d["outcome"] == "cancelled"
                         for _, _, d in lines_of([p])),
             what="the cancelled run's accounting line")

    # ---- the lines
    all_lines = lines_of(daemons)
    bad = [line for _, line, d in all_lines if d is None]
    t.eq(bad, [], "every accounting line has the documented form")
    recs = [(dmn, d) for dmn, _, d in all_lines if d]
    per_acct = {}
    for _, d in recs:
        per_acct[d["account"]] = per_acct.get(d["account"], 0) + 1
    t.eq(per_acct, {"AUTH_test": 5, "AUTH_test2": 2},
         "counting lines per account gives each account's invocations")
    for _, d in recs:
        ok = (re.fullmatch(r"[0-9a-f]{32}", d["etag"]) and
              re.fullmatch(r"\d+\.\d{3}", d["duration_ms"]) and
              re.fullmatch(r"\d+\.\d{3}", d["sandbox_ms"]) and
              all(re.fullmatch(r"\d+", d[k]) for k in
                  ("cpu_us", "bytes_in", "bytes_out", "status")) and
              d["warm"] in ("0", "1") and d["txn"].startswith("tx"))
        if not ok:
            t.diag("malformed values: %r" % d)
            break
    t.ok(ok, "the values have the documented types")

    def one(**kw):
        m = [(dmn, d) for dmn, d in recs
             if all(d[k] == v for k, v in kw.items())]
        return m[0] if len(m) == 1 else (None, None)

    dmn, d = one(account="AUTH_test", storlet="grep", op="GET")
    t.ok(d and dmn in nodes and d["run_on"] == "object" and
         get_on.startswith("%s:%d/" % (dmn.ip, dmn.port)),
         "the object-node GET is logged by the node that ran it")
    t.ok(d and (d["bytes_in"], d["bytes_out"]) == (str(len(text)), str(len(want))),
         "with its bytes in and out")
    t.ok(d and (d["status"], d["end"], d["exit"], d["outcome"], d["reason"])
         == ("200", "exit", "0", "ok", None), "and how it ended")
    t.eq(d and d["txn"], get_txn, "and the request's transaction id")

    dmn, d = one(account="AUTH_test", storlet="grep", op="PUT")
    t.ok(d and dmn is p and d["run_on"] == "proxy", "the PUT is logged by the proxy")
    t.ok(d and (d["bytes_in"], d["bytes_out"]) ==
         (str(len(text)), str(len(b"delta\n" * 200))), "with its bytes in and out")
    t.eq(d and d["txn"], put_txn, "and the request's transaction id")

    dmn, d = one(account="AUTH_test", storlet="wordcount.py")
    t.ok(d and dmn is p and int(d["cpu_us"]) > 0,
         "a python storlet's CPU time is counted (%s us)" % (d and d["cpu_us"]))
    t.ok(d and float(d["sandbox_ms"]) > 0 and float(d["duration_ms"]) > 0,
         "durations are measured")

    _, d = one(account="AUTH_test", storlet="fail.sh")
    t.ok(d and (d["status"], d["end"], d["exit"], d["outcome"]) ==
         ("500", "exit", "3", "failed_before") and
         "not my kind of input" in (d["reason"] or ""),
         "a failure before output: status, exit code, outcome, reason")

    _, d = one(account="AUTH_test", storlet="drip.sh")
    t.ok(d and (d["outcome"], d["end"], d["status"]) == ("cancelled", "cancelled", "0")
         and int(d["bytes_out"]) >= 100000,
         "a run the client abandoned is still accounted (cancelled, %s bytes out)"
         % (d and d["bytes_out"]))

    # the documented one-liner: invocations and bytes out per account
    tot = {}
    for dmn in daemons:
        for line in dmn.read_log().splitlines():
            m = re.search(r" storlet account=(\S+) .* bytes_out=(\d+) ", line)
            if m:
                n, b_ = tot.get(m.group(1), (0, 0))
                tot[m.group(1)] = (n + 1, b_ + int(m.group(2)))
    t.eq(tot.get("AUTH_test2"), (2, 2 * len(b"alpha beta\n" * 200)),
         "the documented grep/awk pattern sums an account's output bytes")

t.done()
