#!/usr/bin/python3
# tier: full
"""Crash safety of cairn-objectd: kill -9 the node while 50 PUTs are
streaming. After the restart every PUT that got a 201 reads back
byte-identical; a PUT that did not is either absent or complete (never
partial), and no temp file is left under tmp/."""
import hashlib
import os
import socket
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
N = 50
SIZE = 256 * 1024
CHUNK = 16 * 1024

with Cluster(t) as cl:
    n = cl.objectd(devices=["sda1"], conf={"workers": "2", "disk_threads": "4"})
    bodies = [os.urandom(SIZE) for _ in range(N)]
    status = [None] * N
    half_sent = threading.Semaphore(0)
    answered = threading.Semaphore(0)
    stamps = [cl.ts() for _ in range(N)]

    def put(i):
        s = socket.create_connection((n.ip, n.port), timeout=60)
        try:
            s.sendall(("PUT /sda1/5/a/c/o%02d HTTP/1.1\r\nHost: x\r\n"
                       "X-Timestamp: %s\r\nContent-Type: t/t\r\n"
                       "Content-Length: %d\r\n\r\n" % (i, stamps[i], SIZE)
                       ).encode())
            # odd PUTs stop half way and stay open: they are streaming when
            # the node dies; even ones send everything
            stop = SIZE // 2 if i % 2 else SIZE
            for off in range(0, stop, CHUNK):
                s.sendall(bodies[i][off:off + CHUNK])
            if i % 2:
                half_sent.release()
            resp = b""
            while b"\r\n" not in resp:
                d = s.recv(4096)
                if not d:
                    break
                resp += d
            if resp.startswith(b"HTTP/1.1 "):
                status[i] = int(resp[9:12])
                answered.release()
        except OSError:
            pass
        finally:
            s.close()

    threads = [threading.Thread(target=put, args=(i,)) for i in range(N)]
    for th in threads:
        th.start()
    for _ in range(N // 2):
        half_sent.acquire(timeout=60)
    # kill once a few full PUTs have been answered, while the half-sent
    # ones are still streaming and the rest may be anywhere in the write
    for _ in range(5):
        answered.acquire(timeout=60)
    n.kill9()
    for th in threads:
        th.join()
    acked = [i for i in range(N) if status[i] == 201]
    t.diag("%d of %d PUTs got 201 before the kill" % (len(acked), N))
    t.ok(len(acked) >= 5, "some PUTs were acknowledged before the kill")
    t.ok(all(status[i] is None for i in range(1, N, 2)),
         "no half-sent PUT was answered")

    n.start()
    bad = []
    for i in range(N):
        st, h, got = n.obj("GET", "/sda1/5/a/c/o%02d" % i)
        if i in acked:
            if st != 200 or got != bodies[i]:
                bad.append((i, "acked but reads %d, %d bytes" % (st, len(got))))
        elif st == 200:
            if got != bodies[i] or h.get("etag") != '"%s"' % hashlib.md5(
                    bodies[i]).hexdigest():
                bad.append((i, "unacked and partial"))
        elif st != 404:
            bad.append((i, "status %d" % st))
        if i % 2 and st != 404:
            bad.append((i, "half-sent PUT is visible"))
    t.eq(bad, [], "every 201 reads back byte-identical, nothing partial")
    tmp = os.path.join(n.devroot, "sda1", "tmp")
    t.eq(os.listdir(tmp) if os.path.isdir(tmp) else [], [],
         "no temp file after the restart")

t.done()
