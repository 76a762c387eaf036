#!/usr/bin/python3
# tier: quick
"""cairn-objectd against bad input: garbage instead of HTTP, a truncated
body, bad paths, bad timestamps, oversized heads. Each gets its 4xx (or a
closed connection where no answer is possible), nothing is stored, and the
node keeps serving."""
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster, wait_for  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()


def raw(node, data, port=None, shut=True):
    """Sends data, half-closes (with shut), returns everything the node
    answered until it closed the connection."""
    s = socket.create_connection((node.ip, port or node.port), timeout=30)
    try:
        s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            d = s.recv(65536)
            if not d:
                return out
            out += d
    except OSError:
        return out
    finally:
        s.close()


def status_of(resp):
    return int(resp[9:12]) if resp.startswith(b"HTTP/1.") else None


with Cluster(t) as cl:
    n = cl.objectd(devices=["sda1"])
    objdir = os.path.join(n.devroot, "sda1", "objects")
    tmpdir = os.path.join(n.devroot, "sda1", "tmp")

    def stored():
        out = []
        for root, _, files in os.walk(objdir):
            out += [os.path.join(root, f) for f in files]
        return out

    t.eq(status_of(raw(n, b"HELLO THERE\r\n\r\n")), 400,
         "garbage request line: 400")
    t.eq(status_of(raw(n, os.urandom(64) + b"\r\n\r\n")), 400,
         "binary junk: 400")
    t.eq(status_of(raw(n, b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n")), 414,
         "request line too long: 414")
    t.eq(status_of(raw(n, b"GET /sda1/0/a/c/o HTTP/1.1\r\nX: " + b"v" * 9000 +
                       b"\r\n\r\n")), 400, "header line too long: 400")

    # truncated body: the client goes away half way
    s = socket.create_connection((n.ip, n.port))
    s.sendall(b"PUT /sda1/0/a/c/trunc HTTP/1.1\r\nHost: x\r\nX-Timestamp: "
              + cl.ts().encode() + b"\r\nContent-Type: t/t\r\n"
              b"Content-Length: 100000\r\n\r\n" + b"x" * 50000)
    s.close()
    wait_for(lambda: not (os.path.isdir(tmpdir) and os.listdir(tmpdir)), 20,
             "temp file removed")
    st, _, _ = n.obj("GET", "/sda1/0/a/c/trunc")
    t.eq(st, 404, "truncated body: nothing stored")
    t.ok(True, "truncated body: its temp file is removed")

    # chunked body cut off
    s = socket.create_connection((n.ip, n.port))
    s.sendall(b"PUT /sda1/0/a/c/trunc2 HTTP/1.1\r\nHost: x\r\nX-Timestamp: "
              + cl.ts().encode() + b"\r\nContent-Type: t/t\r\n"
              b"Transfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n")
    s.close()
    st, _, _ = n.obj("GET", "/sda1/0/a/c/trunc2")
    t.eq(st, 404, "cut chunked body: nothing stored")
    resp = raw(n, b"PUT /sda1/0/a/c/badchunk HTTP/1.1\r\nHost: x\r\n"
               b"X-Timestamp: " + cl.ts().encode() + b"\r\nContent-Type: t/t"
               b"\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n", shut=False)
    t.eq(status_of(resp), 400, "bad chunk framing: 400")

    for path, want in (("/sda1", 400), ("/sda1/0", 400), ("/sda1/0/a", 400),
                       ("/sda1/0/a/c/", 400), ("/../0/a/c/o", 400),
                       ("/sda1/../a/c/o", 400), ("//0/a/c/o", 400)):
        st, _, _ = n.obj("PUT", path, body=b"x", headers={
            "X-Timestamp": cl.ts(), "Content-Type": "t/t"})
        t.eq(st, want, "PUT %s: %d" % (path, want))
    for ts in ("-1", "abc", "1e20", ""):
        st, _, _ = n.obj("PUT", "/sda1/0/a/c/ts", body=b"x", headers={
            "X-Timestamp": ts, "Content-Type": "t/t"})
        t.eq(st, 400, "PUT with X-Timestamp %r: 400" % ts)
    st, _, _ = n.obj("DELETE", "/sda1/0/a/c/ts", headers={"X-Timestamp": "x"})
    t.eq(st, 400, "DELETE with a bad X-Timestamp: 400")
    st, _, _ = n.obj("POST", "/sda1/0/a/c/ts", headers={})
    t.eq(st, 400, "POST without X-Timestamp: 400")
    st, _, _ = n.cont("PUT", "/sda1/0/a/c", headers={"X-Timestamp": "nope"})
    t.eq(st, 400, "container PUT with a bad X-Timestamp: 400")
    st, _, _ = n.cont("PUT", "/sda1/0/a/c/o", headers={
        "X-Timestamp": cl.ts(), "X-Size": "many", "X-Content-Type": "t/t",
        "X-Etag": "0" * 32})
    t.eq(st, 400, "object row with a bad X-Size: 400")
    resp = raw(n, b"PUT /sda1/0/a/c/nolen HTTP/1.1\r\nHost: x\r\n"
               b"X-Timestamp: " + cl.ts().encode() +
               b"\r\nContent-Type: t/t\r\nConnection: close\r\n\r\n")
    t.eq(status_of(resp), 411, "PUT without a length: 411")

    t.eq(stored(), [], "none of it stored anything")

    # Expect: 100-continue works
    s = socket.create_connection((n.ip, n.port), timeout=30)
    s.sendall(b"PUT /sda1/0/a/c/cont HTTP/1.1\r\nHost: x\r\nX-Timestamp: "
              + cl.ts().encode() + b"\r\nContent-Type: t/t\r\n"
              b"Content-Length: 5\r\nExpect: 100-continue\r\n\r\n")
    first = s.recv(4096)
    s.sendall(b"hello")
    rest = b""
    while b"\r\n\r\n" not in rest:
        d = s.recv(4096)
        if not d:
            break
        rest += d
    s.close()
    t.ok(first.startswith(b"HTTP/1.1 100") and rest.startswith(b"HTTP/1.1 201"),
         "Expect: 100-continue, then 201")
    st, _, _ = n.obj("GET", "/healthcheck")
    t.eq(st, 200, "the node still serves")

t.done()
