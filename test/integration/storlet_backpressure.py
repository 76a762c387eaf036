#!/usr/bin/python3
# tier: quick
"""A chain's output reaches a client that reads slowly, whole.

The client's socket takes little at a time (a small receive buffer), so
the proxy's output to it fills up, the chain's source is paused, and must
be resumed when the client has read: for a GET under a mandatory read
rule whose whole chain runs on the object node (the node's output relayed
by the proxy: once this path paused it was never resumed, and the client
waited for the rest forever), for a client's chain split between a node
and the proxy, and for one run wholly on the proxy. Each answer is the
whole object, byte for byte."""
import hashlib
import json
import os
import random
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster, BUILD  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()


with Cluster(t) as cl:
    _, p = cl.storlet_cluster(users={"test:tester": "testing .admin",
                                     "test:res": "resing researcher"})
    path, tok = p.auth("test:tester")
    _, rtok = p.auth("test:res")
    req = p.requester(tok, timeout=60)
    t.eq(p.enable_storlets(path, tok, ("storlet", "dependency", "data")),
         204, "enable the account for storlets")
    with open(os.path.join(BUILD, "storlets", "identity"), "rb") as f:
        code = f.read()
    for name, extra in (("identity", {}),
                        ("idpx", {"X-Object-Meta-Storlet-Run-On": "proxy"})):
        t.eq(p.deploy(path, tok, name, body=code,
                      metadata="yes", **extra), 201, "deploy %s" % name)
    req("POST", path + "/storlet", headers={"X-Container-Read": "researcher"})
    req("POST", path + "/data", headers={"X-Container-Read": "researcher"})
    data = random.Random(5).randbytes(16 * 1024 * 1024)
    want = hashlib.md5(data).hexdigest()
    st, _, _ = req("PUT", path + "/data/big", body=data)
    t.eq(st, 201, "store 16 MiB")
    rule = {"id": "copy-for-researchers", "mandatory": True,
            "match": {"groups": ["researcher"]},
            "action": {"storlet": "identity"}}
    st, _, _ = req("POST", path + "/data",
                   headers={"X-Storlet-Rules": json.dumps({"rules": [rule]})})
    t.eq(st, 204, "a mandatory read rule whose storlet runs on the node")

    def slow_get(token, headers):
        """GET on a socket with a small receive buffer, read in small
        pieces: (status line, body length, body md5, error or None)."""
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(30)
        s.connect((p.ip, p.port))
        h = {"Host": "%s:%d" % (p.ip, p.port), "X-Auth-Token": token,
             "Connection": "close"}
        h.update(headers)
        s.sendall(("GET %s/data/big HTTP/1.1\r\n" % path + "".join(
            "%s: %s\r\n" % kv for kv in h.items()) + "\r\n").encode())
        buf, err = bytearray(), None
        try:
            while True:
                d = s.recv(4096)
                if not d:
                    break
                buf += d
        except OSError as e:
            err = repr(e)
        s.close()
        raw = bytes(buf)
        head, _, body = raw.partition(b"\r\n\r\n")
        line = head.split(b"\r\n", 1)[0]
        if b"chunked" in head.lower():
            out, at = bytearray(), 0
            while at < len(body):
                eol = body.find(b"\r\n", at)
                if eol < 0:
                    break
                n = int(body[at:eol].split(b";")[0] or b"0", 16)
                if n == 0:
                    break
                out += body[eol + 2:eol + 2 + n]
                at = eol + 2 + n + 2
            body = bytes(out)
        return line, len(body), hashlib.md5(body).hexdigest(), err

    for what, token, headers in (
            ("a mandatory rule run wholly on the node", rtok, {}),
            ("a chain split between a node and the proxy", tok,
             {"X-Run-Storlet": "identity, idpx"}),
            ("a chain run wholly on the proxy", tok,
             {"X-Run-Storlet": "idpx"})):
        line, n, md5, err = slow_get(token, headers)
        t.ok(line.startswith(b"HTTP/1.1 200") and n == len(data) and
             md5 == want and err is None,
             "%s: a slow client gets all 16 MiB (%r, %d bytes, %s)"
             % (what, line, n, err))

t.done()
