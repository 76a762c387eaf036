#!/usr/bin/python3
# tier: quick
"""storlet_proxy_address: the address object nodes are told to reach the
proxy at for a storlet's code (X-Backend-Storlet-Proxy). The proxy listens
on 127.0.0.1 and advertises 127.0.0.9:<port>, where at first nothing
listens: a storlet GET on an object node fails while one on the proxy
works; then a TCP relay at 127.0.0.9:<port> forwards to the proxy, and the
same GET works through it, the relay seeing the nodes' connections. A bad
address is a config error naming file and line."""
import os
import socket
import subprocess
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster, BUILD, free_port  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
RELAY_IP = "127.0.0.9"


class Relay:
    """Accepts on (ip, port) and pipes each connection to (to_ip, to_port);
    counts the connections it accepted."""

    def __init__(self, ip, port, to):
        self.to = to
        self.accepted = 0
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind((ip, port))
        self.srv.listen(16)
        self.open = True
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while self.open:
            try:
                a, _ = self.srv.accept()
            except OSError:
                return
            self.accepted += 1
            b = socket.create_connection(self.to)
            for x, y in ((a, b), (b, a)):
                threading.Thread(target=self.pipe, args=(x, y), daemon=True).start()

    @staticmethod
    def pipe(x, y):
        try:
            while True:
                d = x.recv(65536)
                if not d:
                    break
                y.sendall(d)
        except OSError:
            pass
        for s in (x, y):
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def close(self):
        self.open = False
        self.srv.close()


with Cluster(t) as cl:
    relay_port = free_port(RELAY_IP)
    _, p = cl.storlet_cluster(warm="0", proxy_conf={
        "storlet_proxy_address": "%s:%d" % (RELAY_IP, relay_port)})
    path, tok = p.auth("test:tester")

    def req(m, u, body=None, headers=None):
        h = {"X-Auth-Token": tok}
        h.update(headers or {})
        return p.request(m, path + u, body=body, headers=h)

    p.enable_storlets(path, tok, ("storlet", "data"))
    t.eq(p.deploy(path, tok, "identity"), 201, "deploy identity")
    data = b"0123456789" * 1000
    req("PUT", "/data/o", body=data)

    cl.expect_log(r"storlet|127\.0\.0\.9|error limited|[Cc]onnection refused")
    st, _, _ = req("GET", "/data/o", headers={"X-Run-Storlet": "identity"})
    t.ok(st >= 500, "nothing at the advertised address: the object node "
         "cannot fetch the code (%d)" % st)
    st, _, b = req("GET", "/data/o", headers={"X-Run-Storlet": "identity",
                                               "X-Storlet-Run-On-Proxy": ""})
    t.eq((st, b), (200, data), "a storlet on the proxy uses its own address")

    relay = Relay(RELAY_IP, relay_port, (p.ip, p.port))
    try:
        st, h, b = req("GET", "/data/o", headers={"X-Run-Storlet": "identity"})
        t.eq((st, b), (200, data), "with a relay there, the object node's run works")
        t.ok(h.get("x-storlet-executed-on", "").split(":")[0] in
             ("127.0.0.1", "127.0.0.2", "127.0.0.3"), "on an object node")
        t.ok(relay.accepted > 0, "and the node came through the advertised "
             "address (%d connections)" % relay.accepted)
    finally:
        relay.close()

    # a bad address is refused by --check-config, naming file and line
    bad = os.path.join(cl.dir, "bad-proxy.conf")
    with open(p.conf) as f, open(bad, "w") as g:
        for line in f:
            if line.startswith("storlet_proxy_address"):
                line = "storlet_proxy_address = proxy.example:8080\n"
            g.write(line)
    r = subprocess.run([os.path.join(BUILD, "cairn-proxy"), "--check-config",
                        "-c", bad], capture_output=True, text=True)
    out = r.stdout + r.stderr
    t.ok(r.returncode != 0 and "bad-proxy.conf:" in out and
         "storlet_proxy_address" in out,
         "a host name is a config error with file and line")

t.done()
