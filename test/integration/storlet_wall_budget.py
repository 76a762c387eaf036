#!/usr/bin/python3
# tier: quick
"""A storlet run's wall budget grows with its input (docs/storlets.md 3.7):
storlet_wall_timeout + input length / storlet_min_input_rate, and a run is
held to that rate as it reads. Every wait on the way follows the budget,
not the base: the proxy relaying a node's run, the split GETs of a
Distributed request and a services "invoke".

One node, storlet_wall_timeout 5 s, storlet_min_input_rate 256 KiB/s, an
8 MiB object: its runs get 5 + 32 = 37 s. The proxy's node_timeout is 2 s,
so without the budget the proxy would give up on a node silent for more
than 5 + 2 s. The slow reader reads 256 KiB every 0.3 s (about 850 KiB/s,
over three times the rate; some 10 s in all) and writes one line at the
end: its byte count and MD5, checked here. The idle limit is 60 s, so the
only limit a storlet can meet here is the wall budget.
  - a node-run GET through the proxy: the slow reader outlives the base
    and answers correctly, run once;
  - the same storlet told not to read (it sleeps) is killed at the base:
    end=timeout, "timed out", after at least the base and well before the
    budget it was given (its input earns time only by being read);
  - a PUT through it (run on the proxy; the budget from Content-Length)
    outlives the base; a chunked PUT, with no length, gets the base alone
    and is killed at it;
  - a Distributed request whose split is the slow reader;
  - concat on the object invoking the slow reader on it through services:
    concat reads its input first (earning its time), then waits silently.
Nothing depends on the machine's speed beyond the rate margin: the killed
storlet would sleep for an hour."""
import hashlib
import http.client
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster  # noqa: E402
from tap import Tap  # noqa: E402

BASE_S = 5
RATE = 256 * 1024
SIZE = 8 << 20
BUDGET_S = BASE_S + SIZE // RATE

SLOW_READER = b'''import hashlib
import time


def main(s):
    if s.param("read") == "no":
        time.sleep(3600)
    h = hashlib.md5()
    n = 0
    while True:
        chunk = s.input.read(262144)
        if not chunk:
            break
        h.update(chunk)
        n += len(chunk)
        time.sleep(0.3)
    s.write("%d %s\\n" % (n, h.hexdigest()))
'''

t = Tap()

with Cluster(t) as cl:
    (n,), p = cl.storlet_cluster(
        ips=("127.0.0.1",),
        conf={"storlet_wall_timeout": str(BASE_S),
              "storlet_min_input_rate": str(RATE),
              "storlet_idle_timeout": "60"},
        app_conf={"node_timeout": "2"})
    path, tok = p.auth("test:tester")

    def req(m, u, body=None, headers=None):
        h = {"X-Auth-Token": tok}
        h.update(headers or {})
        try:
            return p.request(m, u, body=body, headers=h, timeout=300)
        except http.client.IncompleteRead as e:
            return 0, {}, e.partial   # an aborted answer
        except ConnectionError:
            return 0, {}, b""         # refused while the body was sent

    p.enable_storlets(path, tok, ("storlet", "data"))
    t.eq(p.deploy(path, tok, "slowread.py", body=SLOW_READER, lang="python",
                  main="slowread.main"), 201, "deploy the slow reader")
    for name in ("partlist", "concat"):
        t.eq(p.deploy(path, tok, name), 201, "deploy %s" % name)
    body = os.urandom(SIZE)
    st, _, _ = req("PUT", path + "/data/big", body=body)
    t.eq(st, 201, "store an 8 MiB object")
    want = b"%d %s\n" % (SIZE, hashlib.md5(body).hexdigest().encode())

    def runs(name, d=n):
        """(end, duration_ms) of each run of storlet `name` that daemon d
        logged."""
        return [(e, float(ms)) for e, ms in re.findall(
            r"storlet=%s .* end=(\w+) exit=-?\d+ duration_ms=([\d.]+)"
            % re.escape(name), d.read_log())]

    # ---- a node-run GET through the proxy outlives the base
    st, h, b = req("GET", path + "/data/big",
                   headers={"X-Run-Storlet": "slowread.py"})
    t.eq((st, b), (200, want),
         "the slow reader on 8 MiB outlives the %d s base: byte count and "
         "MD5 (%d %r)" % (BASE_S, st, b[:120]))
    t.eq(h.get("x-storlet-sequence-placement"), "object=1, proxy=0",
         "it ran on the object node")
    r = runs("slowread.py")
    t.ok(len(r) == 1 and r[0][0] == "exit" and r[0][1] > BASE_S * 1000,
         "it ran once, ended by exit, for longer than the base: the proxy "
         "waited (%r)" % r)

    # ---- the same storlet not reading is killed at the base
    st, _, b = req("GET", path + "/data/big",
                   headers={"X-Run-Storlet": "slowread.py",
                            "X-Storlet-Parameter-1": "read:no"})
    t.ok(st == 500 and b"Storlet execution timed out" in b,
         "told not to read, it is killed (%d %r)" % (st, b[:120]))
    r = runs("slowread.py")
    last = r[-1] if len(r) == 2 else ("", 0)
    t.eq(last[0], "timeout", "logged end=timeout (the wall budget, not idle)")
    t.ok(BASE_S * 1000 <= last[1] < BUDGET_S * 1000 - 10000,
         "killed after the %d s base, long before the %d s the input would "
         "have earned (%.0f ms)" % (BASE_S, BUDGET_S, last[1]))

    # ---- a PUT through the storlet (on the proxy): the budget comes from
    #      its Content-Length
    st, _, b = req("PUT", path + "/data/out", body=body,
                   headers={"X-Run-Storlet": "slowread.py"})
    t.eq(st, 201, "a PUT of 8 MiB through the slow reader outlives the "
         "base (%d %r)" % (st, b[:120]))
    st, _, b = req("GET", path + "/data/out")
    t.eq((st, b), (200, want), "the stored output is its line")

    # ---- a chunked PUT has no length: the base alone (docs/storlets.md
    #      3.7), so the same storlet is killed at it
    def chunks():
        for i in range(0, SIZE, 1 << 20):
            yield body[i:i + (1 << 20)]
    st, _, b = req("PUT", path + "/data/out2", body=chunks(),
                   headers={"X-Run-Storlet": "slowread.py"})
    t.ok(st != 201, "a chunked PUT through it fails (%d %r)" % (st, b[:120]))
    pr = runs("slowread.py", p)
    t.ok(len(pr) == 2 and pr[1][0] == "timeout" and
         BASE_S * 1000 <= pr[1][1] < BUDGET_S * 1000 - 10000,
         "the proxy's run ended by its wall time, at the base (%r)" % pr)
    st, _, _ = req("HEAD", path + "/data/out2")
    t.eq(st, 404, "nothing was stored")

    # ---- a Distributed split outlives the base
    st, _, b = req("POST", path, body=json.dumps({
        "resources": {"objects": ["data/big"]},
        "split": {"storlet": "slowread.py"},
        "merge": {"storlet": "partlist", "parameters": {"format": "raw"}}
    }).encode(), headers={"X-Storlet-Distributed": "1",
                          "Content-Type": "application/json"})
    t.eq((st, b), (200, want),
         "a Distributed split running longer than the base: its output "
         "merged (%d %r)" % (st, b[:200]))

    # ---- a services invoke outlives the base
    st, _, b = req("GET", path + "/data/big", headers={
        "X-Run-Storlet": "concat",
        "X-Storlet-Parameter-1": "objects:data/big",
        "X-Storlet-Parameter-2": "storlet:slowread.py"})
    t.ok(st == 200 and len(b) == SIZE + len(want) and b[:SIZE] == body and
         b[SIZE:] == want,
         "concat's input, then the slow reader invoked through services, "
         "silent for longer than the base (%d, %d bytes, tail %r)"
         % (st, len(b), b[SIZE:SIZE + 120]))
    ends = [e for e, _ in runs("concat")]
    t.eq(ends, ["exit"], "concat ran once and exited")
t.done()
