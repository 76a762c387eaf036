#!/usr/bin/python3
# tier: quick
"""cairn-proxy against bad input: names and metadata over Swift's limits,
invalid UTF-8 and NUL in paths, "." and ".." segments (names, as in Swift,
never paths), a body shorter than its Content-Length, a truncated chunked
body, a client that stops sending, and garbage instead of HTTP. Each gets
Swift's status and nothing partial is stored or listed."""
import json
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster, wait_for  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()


def raw(p, data, shut=True, timeout=10):
    """Sends bytes on a fresh connection, half-closes, returns the reply."""
    s = socket.create_connection((p.ip, p.port), timeout=timeout)
    s.sendall(data)
    if shut:
        s.shutdown(socket.SHUT_WR)
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except OSError:
        pass
    s.close()
    return out


def status_of(reply):
    try:
        return int(reply.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None


with Cluster(t) as cl:
    cl.storage_cluster()
    p = cl.proxy(conf={"app": {"client_timeout": "1"}})
    path, tok = p.auth()
    H = {"X-Auth-Token": tok}

    def req(m, u, body=None, headers=None):
        hh = dict(H)
        hh.update(headers or {})
        return p.request(m, u, body=body, headers=hh)

    req("PUT", path + "/c")

    # ---- names and metadata over the limits
    st, _, b = req("PUT", path + "/c/" + "o" * 1025, body=b"x")
    t.eq((st, b), (400, b"Object name length of 1025 longer than 1024"),
         "object name over 1024 answers 400")
    st, _, b = req("PUT", path + "/" + "c" * 257)
    t.eq((st, b), (400, b"Container name length of 257 longer than 256"),
         "container name over 256 answers 400")
    st, _, b = req("PUT", path + "/c/m", body=b"x",
                   headers={"X-Object-Meta-" + "n" * 129: "v"})
    t.eq(st, 400, "metadata name over 128 answers 400")
    t.ok(b.startswith(b"Metadata name too long"), "with Swift's message")
    st, _, b = req("PUT", path + "/c/m", body=b"x",
                   headers={"X-Object-Meta-K": "v" * 257})
    t.eq(st, 400, "metadata value over 256 answers 400")
    many = {"X-Object-Meta-K%d" % i: "v" for i in range(91)}
    st, _, b = req("PUT", path + "/c/m", body=b"x", headers=many)
    t.eq((st, b), (400, b"Too many metadata items; max 90"),
         "91 metadata items answer 400")
    big = {"X-Object-Meta-K%d" % i: "v" * 250 for i in range(17)}
    st, _, b = req("PUT", path + "/c/m", body=b"x", headers=big)
    t.eq((st, b), (400, b"Total metadata too large; max 4096"),
         "metadata over 4096 bytes answers 400")
    st, _, b = req("POST", path + "/c", headers={
        "X-Container-Meta-" + "n" * 129: "v"})
    t.eq(st, 400, "container metadata name over 128 answers 400")
    st, _, b = req("PUT", path + "/c/m", body=b"x",
                   headers={"Content-Length": "5368709123"})
    t.eq(st, 413, "a body over max_file_size answers 413")
    c = p.conn()
    c.putrequest("PUT", path + "/c/m", skip_accept_encoding=True)
    c.putheader("X-Auth-Token", tok)
    c.endheaders()
    r = c.getresponse()
    r.read()
    c.close()
    t.eq(r.status, 411, "a PUT without length or chunking answers 411")
    st, _, _ = req("HEAD", path + "/c/m")
    t.eq(st, 404, "none of those stored anything")

    # ---- UTF-8, NUL
    st, _, b = req("PUT", path + "/c/%ff%fe", body=b"x")
    t.eq((st, b), (412, b"Invalid UTF8 or contains NULL"),
         "invalid UTF-8 answers 412")
    st, _, b = req("PUT", path + "/c/a%00b", body=b"x")
    t.eq(st, 412, "a NUL answers 412")
    st, _, b = req("PUT", path + "/c%c0%af", body=b"x")
    t.eq(st, 412, "an overlong encoding answers 412")
    st, _, b = req("POST", path + "/c", headers={
        "X-Container-Meta-Bad": b"\xff".decode("latin-1")})
    t.eq((st, b), (400, b"Metadata must be valid UTF-8"),
         "non-UTF-8 container metadata answers 400")

    # ---- "." and ".." are names, never paths (as in Swift)
    for name in (".", "..", "../o", "a/./b", "a/../b"):
        st, _, _ = req("PUT", path + "/c/" + name, body=name.encode())
        st2, _, got = req("GET", path + "/c/" + name)
        t.ok(st == 201 and st2 == 200 and got == name.encode(),
             "object %r is stored and read under its literal name" % name)
    st, _, b = req("GET", path + "/c?format=json")
    names = [o["name"] for o in json.loads(b)]
    t.eq(names, [".", "..", "../o", "a/../b", "a/./b"],
         "the listing shows the literal names")
    st, _, _ = req("PUT", path + "/./o", body=b"x")
    t.eq(st, 404, "a PUT into container '.' that does not exist: 404")
    for name in (".", "..", "../o", "a/./b", "a/../b"):
        req("DELETE", path + "/c/" + name)

    # ---- a body shorter than its Content-Length
    head = ("PUT %s/c/short HTTP/1.1\r\nHost: x\r\nX-Auth-Token: %s\r\n"
            "Content-Length: 100000\r\n\r\n" % (path, tok)).encode()
    raw(p, head + b"x" * 40000)
    st, _, _ = req("HEAD", path + "/c/short")
    t.eq(st, 404, "a body cut short stores nothing")

    # ---- a truncated chunked body, and a malformed one
    head = ("PUT %s/c/chunk HTTP/1.1\r\nHost: x\r\nX-Auth-Token: %s\r\n"
            "Transfer-Encoding: chunked\r\n\r\n" % (path, tok)).encode()
    raw(p, head + b"10000\r\n" + b"y" * 3000)
    st, _, _ = req("HEAD", path + "/c/chunk")
    t.eq(st, 404, "a chunked body cut short stores nothing")
    rep = raw(p, head + b"5\r\nabcde\r\nzz\r\n", shut=False)
    t.eq(status_of(rep), 400, "bad chunk framing answers 400")
    st, _, _ = req("HEAD", path + "/c/chunk")
    t.eq(st, 404, "and stores nothing")

    # ---- a client that stops sending: 408 after client_timeout
    head = ("PUT %s/c/slow HTTP/1.1\r\nHost: x\r\nX-Auth-Token: %s\r\n"
            "Content-Length: 1000\r\n\r\n" % (path, tok)).encode()
    rep = raw(p, head + b"z" * 10, shut=False, timeout=30)
    t.eq(status_of(rep), 408, "a stalled body answers 408")
    st, _, _ = req("HEAD", path + "/c/slow")
    t.eq(st, 404, "and stores nothing")

    # ---- garbage instead of HTTP
    rep = raw(p, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" * 5)
    t.eq(status_of(rep), 400, "a TLS hello answers 400")
    rep = raw(p, b"hello there\r\n\r\n")
    t.eq(status_of(rep), 400, "a line that is not a request answers 400")
    rep = raw(p, b"GET " + b"/a" * 5000 + b" HTTP/1.1\r\n\r\n")
    t.eq(status_of(rep), 414, "an overlong request line answers 414")

    # ---- nothing partial anywhere
    st, _, b = req("GET", path + "/c?format=json")
    t.eq((st, json.loads(b)), (200, []), "the container lists nothing")
    # the proxy is still healthy
    t.eq(p.request("GET", "/healthcheck")[0], 200, "the proxy still answers")
    cl.expect_log(r"Connection refused|timed out|short body|closed")

t.done()
