#!/usr/bin/python3
# tier: quick
"""cairn-proxy, a storage node dying in the middle of a download: the proxy
carries on from another replica (Range from the byte reached, If-Match on
the ETag), so the client gets the whole object and its MD5 checks. Also:
the proxy streams with bounded memory while the client reads slowly."""
import hashlib
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import BUILD, Cluster  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
SIZE = 16 << 20


def first_primary(cl, a, c, o):
    out = subprocess.check_output([
        os.path.join(BUILD, "cairn-get-nodes"), "--swift-conf", cl.cairn_conf,
        os.path.join(cl.dir, "object.ring"), a, c, o], text=True)
    for line in out.splitlines():
        if line.startswith("Server:Port Device"):
            hp = line.split("\t")[1].split(" ")[0]
            ip, port = hp.rsplit(":", 1)
            return ip, int(port)
    return None


def vm_hwm_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


with Cluster(t) as cl:
    nodes = cl.storage_cluster()
    p = cl.proxy(workers=1)
    path, tok = p.auth()
    H = {"X-Auth-Token": tok}
    t.eq(p.request("PUT", path + "/c", headers=H)[0], 201, "container")
    body = os.urandom(SIZE)
    st, h, _ = p.request("PUT", path + "/c/big", body=body, headers=H)
    t.eq(st, 201, "16 MiB object stored")

    first = first_primary(cl, "AUTH_test", "c", "big")
    victim = [n for n in nodes if (n.ip, n.port) == first][0]

    s = socket.create_connection((p.ip, p.port), timeout=60)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.sendall(("GET %s/c/big HTTP/1.1\r\nHost: x\r\nX-Auth-Token: %s\r\n"
               "Connection: close\r\n\r\n" % (path, tok)).encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(65536)
    head, rest = data.split(b"\r\n\r\n", 1)
    got = bytearray(rest)
    while len(got) < (1 << 20):
        got += s.recv(65536)
    # The node serving the GET dies with most of the body unsent.
    victim.kill9()
    while True:
        d = s.recv(1 << 20)
        if not d:
            break
        got += d
    s.close()
    t.ok(head.startswith(b"HTTP/1.1 200"), "GET answered 200")
    t.eq(len(got), SIZE, "the whole body arrived")
    t.ok(hashlib.md5(bytes(got)).hexdigest() == hashlib.md5(body).hexdigest(),
         "and it is the object's bytes")
    t.ok("GET resumed at byte" in p.read_log(),
         "the proxy resumed from another replica")
    hwm = vm_hwm_kb(p.proc.pid)
    with open("/proc/%d/maps" % p.proc.pid) as f:
        sanitized = "libasan" in f.read() or "libtsan" in f.read()
    if sanitized:
        t.skip("proxy peak RSS stayed small", "sanitizer shadow memory")
    else:
        t.ok(hwm < 32 * 1024, "proxy peak RSS stayed small (%d KiB)" % hwm)
    cl.expect_log(r"Connection refused|reset|timed out")

t.done()
