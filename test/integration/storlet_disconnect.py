#!/usr/bin/python3
# tier: full
"""Clients that go away in the middle of a storlet request: the proxy and
the object nodes cancel what ran for it, keep serving, and (under `make
asan`) report no leak, use-after-free or other sanitizer finding.

Each case tags its request with X-Trans-Id-Extra and, after closing the
socket, polls the logs for the engine's accounting line of every run the
request started (a run that outlived its client would log only at its wall
limit, set far beyond the poll here). Covered: a Distributed request cut
while its merge output streams, cut right after the request was sent, and
cut while its result is being stored (the result is then absent or whole,
never a part); a chain of two stages on the proxy cut mid-output; a chain
split between a node and the proxy cut mid-output (the node's stage is
cancelled too); a PUT through one storlet and through a chain of two cut
mid-body (nothing stored); a COPY through a storlet cut before its answer.
After all of them, the same requests run to the end and answer right (the
Distributed one ten times: its merge input used to stall for good)."""
import os
import random
import socket
import sys
import json

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster, BUILD, wait_for  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()


with Cluster(t) as cl:
    # a run that outlived its client would end only at these limits,
    # far beyond what the polls below wait
    nodes, p = cl.storlet_cluster(
        conf={"storlet_wall_timeout": "600s", "storlet_idle_timeout": "600s"},
        proxy_conf={"storlet_distributed_concurrency": "4"})
    path, tok = p.auth("test:tester")
    req = p.requester(tok, timeout=60)
    t.eq(p.enable_storlets(path, tok,
                           ("storlet", "dependency", "data", "results")),
         204, "enable the account")
    with open(os.path.join(BUILD, "storlets", "identity"), "rb") as f:
        ident = f.read()
    for name, code, extra in (
            ("identity", ident, {}),
            ("idpx", ident, {"X-Object-Meta-Storlet-Run-On": "proxy"}),
            ("partlist", None, {})):
        t.eq(p.deploy(path, tok, name, body=code, metadata="yes", **extra),
             201, "deploy %s" % name)

    rng = random.Random(11)
    big = {}
    for i in range(3):
        n = "big/%d" % i
        big[n] = rng.randbytes(6 * 1024 * 1024 + i)
        st, _, _ = req("PUT", path + "/data/" + n, body=big[n])
        t.eq(st, 201, "store %s (6 MiB)" % n)

    def logs():
        return p.read_log() + "".join(n.read_log() for n in nodes)

    def runs(tag):
        """Accounting lines of the runs made for the request tagged tag."""
        return [ln for ln in logs().splitlines()
                if " storlet account=" in ln and ("txn=tx" in ln) and
                ln.split(" txn=", 1)[1].split(" ", 1)[0].endswith("-" + tag)]

    def send(method, url, headers, body=b"", length=None):
        """A raw request on a new socket (the caller closes it)."""
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # a small window: what the client has not read stays in the
        # daemons' bounded buffers, so the last stage is still running
        # when the client goes (not done, its output all in the kernel)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
        s.settimeout(60)
        s.connect((p.ip, p.port))
        h = {"Host": "%s:%d" % (p.ip, p.port), "X-Auth-Token": tok}
        h.update(headers)
        if length is not None:
            h["Content-Length"] = str(length)
        head = "%s %s HTTP/1.1\r\n" % (method, url) + "".join(
            "%s: %s\r\n" % kv for kv in h.items()) + "\r\n"
        s.sendall(head.encode() + body)
        return s

    def read_some(s, n):
        """Reads the head and at least n body bytes (or to EOF); returns
        the status line."""
        got = b""
        try:
            while b"\r\n\r\n" not in got:
                d = s.recv(65536)
                if not d:
                    break
                got += d
            body = len(got.split(b"\r\n\r\n", 1)[-1])
            while body < n:
                d = s.recv(65536)
                if not d:
                    break
                body += len(d)
        except OSError as e:
            return got.split(b"\r\n", 1)[0] + (" (%r)" % e).encode()
        return got.split(b"\r\n", 1)[0]

    def hard_close(s):
        # RST, not FIN: the server sees the client gone at once
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()

    def wait_runs(tag, n, what, cancelled=1):
        """Polls until n runs of tag logged their end, at least
        `cancelled` of them as cancelled."""
        try:
            wait_for(lambda: len(runs(tag)) >= n and sum(
                "outcome=cancelled" in ln for ln in runs(tag)) >= cancelled,
                60, what)
            ok = True
        except TimeoutError:
            ok = False
        t.ok(ok, what)
        if not ok:
            for ln in runs(tag):
                t.diag(ln)

    def serving(what):
        st, _, b = req("GET", path + "/data/big/0",
                       headers={"X-Run-Storlet": "identity"})
        t.ok(st == 200 and b == big["big/0"],
             "%s: the cluster still serves a storlet GET (%d)" % (what, st))

    raw_doc = {"resources": {"container": "data", "prefix": "big/"},
               "split": {"storlet": "identity"},
               "merge": {"storlet": "partlist",
                         "parameters": {"format": "raw"}},
               "concurrency": 3}
    orders = [big[x] + big[y] + big[z] for x in big for y in big for z in big
              if len({x, y, z}) == 3]

    def dist_send(doc, tag):
        body = json.dumps(doc).encode()
        return send("POST", path, {"X-Storlet-Distributed": "1",
                                   "Content-Type": "application/json",
                                   "X-Trans-Id-Extra": tag},
                    body, length=len(body))

    # ---- Distributed, cut while the merge output streams to the client
    s = dist_send(raw_doc, "dist1")
    line = read_some(s, 2 * 1024 * 1024)
    t.ok(line.startswith(b"HTTP/1.1 200"),
         "Distributed output began (%r)" % line)
    hard_close(s)
    wait_runs("dist1", 1, "the merge of a Distributed request cut "
              "mid-output is cancelled")
    serving("after a cut Distributed")

    # ---- Distributed, cut at once (splits running, merge maybe not yet)
    for i in range(3):
        s = dist_send(raw_doc, "dist2x%d" % i)
        hard_close(s)
    serving("after three Distributed requests cut at once")

    # ---- Distributed with a result, cut before its answer: the result is
    # absent or whole
    s = dist_send(dict(raw_doc, result="results/cut.bin"), "dist3")
    hard_close(s)
    serving("after a Distributed with result was cut")
    st, _, b = req("GET", path + "/results/cut.bin")
    t.ok(st == 404 or (st == 200 and b in orders),
         "a cut Distributed result is absent or whole (%d, %d bytes)"
         % (st, len(b)))

    # ---- a chain of two on the proxy, cut mid-output
    s = send("GET", path + "/data/big/1",
             {"X-Run-Storlet": "identity, identity",
              "X-Storlet-Run-On-Proxy": "", "X-Trans-Id-Extra": "chain1"})
    line = read_some(s, 512 * 1024)
    t.ok(line.startswith(b"HTTP/1.1 200"), "chain output began (%r)" % line)
    hard_close(s)
    wait_runs("chain1", 2, "both stages of a proxy chain cut mid-output end")
    serving("after a cut proxy chain")

    # ---- a chain split between a node (identity) and the proxy (idpx)
    s = send("GET", path + "/data/big/2",
             {"X-Run-Storlet": "identity, idpx", "X-Trans-Id-Extra": "split1"})
    line = read_some(s, 512 * 1024)
    t.ok(line.startswith(b"HTTP/1.1 200"),
         "split chain output began (%r)" % line)
    hard_close(s)
    wait_runs("split1", 2, "the node's and the proxy's stage of a cut split "
              "chain both end")
    serving("after a cut split chain")

    # ---- PUT through one storlet and through a chain, cut mid-body
    for tag, chain in (("put1", "identity"), ("put2", "identity, identity")):
        # the body is read (100 Continue) once the first stage runs
        s = send("PUT", path + "/data/put-" + tag,
                 {"X-Run-Storlet": chain, "X-Trans-Id-Extra": tag,
                  "Expect": "100-continue"}, length=4 * 1024 * 1024)
        line = read_some(s, 0)
        t.ok(line.startswith(b"HTTP/1.1 100"),
             "a PUT through %s: the first stage runs (%r)" % (chain, line))
        s.sendall(rng.randbytes(1024 * 1024))
        hard_close(s)
        wait_runs(tag, 1, "a PUT through %s cut mid-body: its first stage "
                  "is cancelled" % chain)
        st, _, _ = req("HEAD", path + "/data/put-" + tag)
        t.eq(st, 404, "a PUT through %s cut mid-body stores nothing" % chain)
    serving("after cut PUTs")

    # ---- COPY through a storlet, cut before its answer
    s = send("COPY", path + "/data/big/0",
             {"Destination": "data/copy-cut", "X-Run-Storlet": "identity",
              "X-Trans-Id-Extra": "copy1"})
    hard_close(s)
    serving("after a cut COPY")
    st, _, b = req("GET", path + "/data/copy-cut")
    t.ok(st == 404 or (st == 200 and b == big["big/0"]),
         "a cut COPY through a storlet stored nothing or all (%d)" % st)

    # ---- and the same requests, run to the end, answer right; the
    # Distributed one ten times over: its merge input once stalled for
    # good (about one request in three) when a write emptied the pending
    # input while the streaming split was paused
    answers = []
    for i in range(10):
        try:
            st, _, b = req("POST", path, body=json.dumps(raw_doc).encode(),
                           headers={"X-Storlet-Distributed": "1",
                                    "Content-Type": "application/json"})
            answers.append((st, b in orders))
        except OSError as e:
            answers.append((repr(e), False))
    t.eq(answers, [(200, True)] * 10,
         "ten whole Distributed requests afterwards, every part whole")
    st, _, b = req("GET", path + "/data/big/1",
                   headers={"X-Run-Storlet": "identity, idpx"})
    t.ok(st == 200 and b == big["big/1"], "a whole split chain afterwards")
    st, _, _ = req("PUT", path + "/data/put-ok", body=big["big/2"],
                   headers={"X-Run-Storlet": "identity, identity"})
    st2, _, b = req("GET", path + "/data/put-ok")
    t.ok(st == 201 and b == big["big/2"], "a whole PUT through a chain")

t.done()
