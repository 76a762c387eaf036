#!/usr/bin/python3
# tier: quick
"""An object that changes between the proxy's facts HEAD and its read
(docs/rules.md 4.1).

When a rule matches on an object's content type or metadata, the proxy
HEADs the object, decides with those facts, and reads with
X-Backend-Storlet-Facts-Timestamp: a node serving another version answers
409. The proxy then reads the facts again and decides again, once: the
client gets what a fresh request for the new object would get (a rule the
new facts match applies, one they do not match lapses); a second change
is 503 with a reason.

To change the object at exactly that moment, each object node's port in
the object ring is a relay (a thread of this script) in front of the real
node: it passes every request through unchanged, except that the first
read carrying a new facts timestamp for the object under test first runs
the test's change (a real PUT through the proxy, to the real nodes) and
only then goes on to the node, which answers the 409 itself."""
import glob
import http.client
import http.server
import json
import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster, BUILD, SRC, free_port, storlet_headers  # noqa: E402
from tap import Tap  # noqa: E402


t = Tap()

PHI = {"id": "phi", "mandatory": True,
       "match": {"groups": ["researcher"], "metadata": {"Sensitivity": "phi"}},
       "action": {"storlet": "deid.py",
                  "parameters": {"fields": "name,ssn", "mode": "mask"}}}

CSV = (b"id,name,ssn,diagnosis\r\n"
       b"1,Alice Smith,123-45-6789,flu\r\n")
CSV2 = (b"id,name,ssn,diagnosis\r\n"
        b"2,Bob Jones,987-65-4321,asthma\r\n")
SECRETS = (b"Alice", b"Bob", b"123-45-6789", b"987-65-4321")


def leaks(body):
    return any(s in body for s in SECRETS)


# per hop; so is the proxy's offer to take 102s with a storlet's wall
# budget (docs/storlets.md 3.7), which http.client here would not
HOP = ("connection", "keep-alive", "transfer-encoding", "content-length",
       "expect", "host", "date", "server", "x-backend-storlet-interim")


class Relay(http.server.ThreadingHTTPServer):
    """An object node's port: every request passes through to the real
    node; Relay.hook (shared) may run a change first."""
    daemon_threads = True
    hook = None            # fn(path, facts_ts) -> None, or None

    def __init__(self, ip, node_port):
        self.node = (ip, node_port)
        super().__init__((ip, free_port(ip)), RelayHandler)


class RelayHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                n = int(self.rfile.readline().split(b";")[0], 16)
                if n == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(n)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else None

    def relay(self):
        body = self.body()
        fts = self.headers.get("X-Backend-Storlet-Facts-Timestamp")
        hook = Relay.hook
        if hook and fts:
            hook(self.path, fts)
        c = http.client.HTTPConnection(*self.server.node, timeout=60)
        try:
            c.request(self.command, self.path, body=body, headers={
                k: v for k, v in self.headers.items() if k.lower() not in HOP})
            r = c.getresponse()
            data = r.read()
        finally:
            c.close()
        self.send_response(r.status, r.reason)
        for k, v in r.getheaders():
            if k.lower() not in HOP:
                self.send_header(k, v)
        if self.command == "HEAD":
            cl = r.getheader("Content-Length")
            if cl is not None:
                self.send_header("Content-Length", cl)
        elif r.status not in (204, 304):
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD" and r.status not in (204, 304):
            self.wfile.write(data)

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = relay


with Cluster(t) as cl:
    os.chmod(cl.dir, 0o755)   # the sandbox opens code dirs below it
    nodes = cl.storage_cluster(("127.0.0.1", "127.0.0.2", "127.0.0.3"), conf=(
        lambda i: cl.storlet_conf("node%d" % i, "0")))
    # the object ring names the relays instead of the nodes
    relays = [Relay(n.ip, n.port) for n in nodes]
    for r in relays:
        threading.Thread(target=r.serve_forever, daemon=True).start()
    cl.build_ring("object", 6, 3, [(n.ip, r.server_address[1], n.devices[0])
                                   for n, r in zip(nodes, relays)])
    cl.expect_log(r"not in the ring|no device of this node")
    p = cl.proxy(users={"test:tester": "testing .admin",
                        "test:res": "resing researcher"},
                 conf={"DEFAULT": cl.storlet_conf("proxy", "0")})
    path, tok = p.auth("test:tester")
    _, rtok = p.auth("test:res")

    def req(m, u, body=None, headers=None, token=tok):
        h = {"X-Auth-Token": token}
        h.update(headers or {})
        return p.request(m, u, body=body, headers=h, timeout=60)

    req("POST", path, headers={"X-Account-Meta-Storlet-Enabled": "True"})
    for c in ("storlet", "dependency", "ruled", "scratch"):
        req("PUT", path + "/" + c)
    with open(os.path.join(SRC, "storlets", "deid", "deid.py"), "rb") as f:
        st, _, _ = req("PUT", path + "/storlet/deid.py", body=f.read(),
                       headers=storlet_headers("deid.main", "python"))
    t.eq(st, 201, "deploy deid.py")
    with open(os.path.join(BUILD, "storlets", "identity"), "rb") as f:
        st, _, _ = req("PUT", path + "/storlet/identity", body=f.read(),
                       headers=storlet_headers("identity"))
    t.eq(st, 201, "deploy identity")
    st, _, _ = req("POST", path + "/ruled", headers={
        "X-Container-Read": "researcher",
        "X-Storlet-Rules": json.dumps({"rules": [PHI]})})
    t.eq(st, 204, "a mandatory rule for researchers on objects marked phi")
    req("POST", path + "/scratch", headers={"X-Container-Read": "researcher",
                                            "X-Container-Write": "researcher"})
    req("POST", path + "/storlet", headers={"X-Container-Read": "researcher"})

    def put(name, body, phi):
        h = {"Content-Type": "text/csv"}
        if phi:
            h["X-Object-Meta-Sensitivity"] = "phi"
        st, _, _ = req("PUT", path + "/ruled/" + name, body=body, headers=h)
        if st != 201:
            raise RuntimeError("PUT %s: %d" % (name, st))

    def change(name, versions):
        """Arms the relays: the first GET with a new facts timestamp for
        `name` stores versions[0] first, the next new one versions[1]...
        Returns the list of timestamps that fired."""
        fired = []
        lock = threading.Lock()
        suffix = "/ruled/" + name

        def hook(upath, fts):
            with lock:
                if not upath.endswith(suffix) or fts in fired or \
                        len(fired) >= len(versions):
                    return
                fired.append(fts)
                body, phi = versions[len(fired) - 1]
                put(name, body, phi)
        Relay.hook = hook
        return fired

    # 0. no change, but the first node lacks the object (a replica that
    #    missed the PUT): its 409 sends the read to the next node, which
    #    has the version the facts came from
    put("g.csv", CSV, False)
    part, prim, _ = cl.locate("AUTH_test", "ruled", "g.csv")
    node, dev = prim[0]
    data = glob.glob(os.path.join(node.devroot, dev, "objects", str(part), "*",
                                  cl.hash_of("AUTH_test", "ruled", "g.csv"),
                                  "*.data"))
    for f in data:
        os.unlink(f)
    st, _, _ = node.request("HEAD", "/%s/%d/AUTH_test/ruled/g.csv" % (dev, part))
    t.ok(data and st == 404, "the first node has lost its copy (%d)" % st)
    st, h, b = req("GET", path + "/ruled/g.csv", token=rtok)
    t.ok(st == 200 and b == CSV, "the read is served by another node (%d %r)"
         % (st, b[:80]))

    # 1. a plain read; the new version is under the mandatory rule
    put("a.csv", CSV, False)
    fired = change("a.csv", [(CSV2, True)])
    st, h, b = req("GET", path + "/ruled/a.csv", token=rtok)
    t.eq(len(fired), 1, "the object changed under the read")
    t.ok(st == 200 and not leaks(b) and b"***" in b and
         h.get("x-storlet-rules-applied") == "phi",
         "the read is decided again: the new version's rule applies (%d %r)"
         % (st, b[:80]))

    # 2. a chain on the proxy (its loopback read of the source gets the
    #    409); the new version is under no rule
    put("b.csv", CSV, True)
    fired = change("b.csv", [(b"now public\n", False)])
    st, h, b = req("GET", path + "/ruled/b.csv", token=rtok, headers={
        "X-Run-Storlet": "identity", "X-Storlet-Run-On-Proxy": ""})
    t.eq(len(fired), 1, "the object changed under the chain's read")
    t.ok(st == 200 and b == b"now public\n" and
         "x-storlet-rules-applied" not in h,
         "the chain is decided again: the rule lapses for the new version "
         "(%d %r)" % (st, b[:80]))

    # 3. the rule's chain on the object node
    put("c.csv", CSV, True)
    fired = change("c.csv", [(b"also public\n", False)])
    st, h, b = req("GET", path + "/ruled/c.csv", token=rtok)
    t.eq(len(fired), 1, "the object changed under the node's chain")
    t.ok(st == 200 and b == b"also public\n" and
         "x-storlet-rules-applied" not in h,
         "decided again there too (%d %r)" % (st, b[:80]))

    # 4. a plain copy; the new version is under the mandatory rule
    put("d.csv", CSV, False)
    fired = change("d.csv", [(CSV2, True)])
    st, h, b = req("COPY", path + "/ruled/d.csv", token=rtok,
                   headers={"Destination": "scratch/d.csv"})
    t.eq(len(fired), 1, "the source changed under the copy")
    t.eq(st, 201, "the copy is decided again and stored (%d %r)" % (st, b[:80]))
    Relay.hook = None
    st, h, b = req("GET", path + "/scratch/d.csv")
    t.ok(st == 200 and not leaks(b) and b"***" in b,
         "what it stored is the rule's output for the new version (%d %r)"
         % (st, b[:80]))

    # 4b. a PUT with X-Copy-From (the facts are the source's, not the
    #     path's object)
    put("h.csv", CSV, False)
    fired = change("h.csv", [(CSV2, True)])
    st, h, b = req("PUT", path + "/scratch/h.csv", token=rtok,
                   headers={"X-Copy-From": "ruled/h.csv"})
    t.ok(len(fired) == 1 and st == 201,
         "a PUT with X-Copy-From whose source changed is decided again (%d %r)"
         % (st, b[:80]))
    Relay.hook = None
    st, h, b = req("GET", path + "/scratch/h.csv")
    t.ok(st == 200 and not leaks(b) and b"***" in b,
         "and stores the rule's output for the new source (%d %r)" % (st, b[:80]))

    # 4c. a HEAD: it answers as the new version's rule says
    put("i.csv", CSV, False)
    fired = change("i.csv", [(CSV2, True)])
    st, h, _ = req("HEAD", path + "/ruled/i.csv", token=rtok)
    t.ok(len(fired) == 1 and st == 200 and "etag" not in h and
         h.get("x-storlet-rules-applied") == "phi",
         "a HEAD whose object changed answers as the rule of the new version "
         "says (%d %s)" % (st, sorted(h)))

    # 5. twice: 503 with the reason
    put("e.csv", CSV, False)
    fired = change("e.csv", [(CSV2, True), (CSV, False)])
    st, h, b = req("GET", path + "/ruled/e.csv", token=rtok)
    t.eq(len(fired), 2, "the object changed under the read, and again")
    t.ok(st == 503 and b"changed twice" in b and not leaks(b),
         "a second change is 503 with the reason (%d %r)" % (st, b[:120]))
    put("f.csv", CSV, True)
    fired = change("f.csv", [(CSV2, False), (CSV, True)])
    st, h, b = req("GET", path + "/ruled/f.csv", token=rtok,
                   headers={"X-Run-Storlet": "identity",
                            "X-Storlet-Run-On-Proxy": ""})
    t.ok(len(fired) == 2 and st == 503 and b"changed twice" in b and
         not leaks(b), "so it is for a chain (%d %r)" % (st, b[:120]))
    Relay.hook = None

    # the objects read as ever once nothing changes any more
    st, h, b = req("GET", path + "/ruled/e.csv", token=rtok)
    t.ok(st == 200 and b == CSV, "e.csv reads as its last version (%d)" % st)

    for r in relays:
        r.shutdown()
        r.server_close()

t.done()
