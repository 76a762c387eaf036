#!/usr/bin/python3
# tier: quick
"""The object node feeds a storlet by splice(2) from the .data file, and the
C SDK's storlet_copy splices the input pipe into the output pipe (the
native identity storlet). What must hold whatever moves the bytes:

- every byte of the body, and nothing else, reaches the output: sizes
  around the page size, the node's read chunk (256 KiB), the pipes (1 MiB)
  and its read-ahead (2 MiB), whole and ranged (X-Storlet-Range);
- a stage after it in a chain gets the same bytes (the node splices each
  stage's output pipe into the next one's input pipe);
- a storlet that stops reading early still answers, alone or in a chain;
- the Python SDK's copy() (splice too) after a read through its buffer;
- the whole-object integrity check stays: a .data whose body no longer
  matches its ETag is never served whole through a storlet (the response
  ends short, no last chunk) and is quarantined, as on a plain GET."""
import glob
import hashlib
import http.client
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster  # noqa: E402
from tap import Tap  # noqa: E402

HEAD10 = b"#!/bin/sh\nexec 3>&-\nexec head -c 10\n"
UPPER = b"#!/bin/sh\nexec 3>&-\nexec tr a-z A-Z\n"
# Python: s.copy() after reading a little through the input's buffer
PY_COPY = b"""def main(s):
    first = s.input.read(5)
    s.set_metadata({"Copied": "yes"})
    s.write(first)
    s.copy()
"""

t = Tap()

with Cluster(t) as cl:
    (n,), p = cl.storlet_cluster(ips=("127.0.0.1",), part_power=4)
    path, tok = p.auth("test:tester")
    acct = path.rsplit("/", 1)[1]
    req = p.requester(tok, timeout=60)
    t.eq(p.enable_storlets(path, tok, ("storlet", "data")), 204,
         "enable the account")
    t.eq(p.deploy(path, tok, "identity"), 201, "deploy the C identity storlet")
    t.eq(p.deploy(path, tok, "head10", body=HEAD10), 201,
         "deploy a storlet that reads 10 bytes")
    t.eq(p.deploy(path, tok, "upper", body=UPPER), 201, "deploy a second stage")
    t.eq(p.deploy(path, tok, "pycopy.py", body=PY_COPY, lang="python",
                  main="pycopy.main"), 201,
         "deploy a Python storlet that reads 5 bytes, then copy()")

    # ---- every byte, nothing else
    sizes = [0, 1, 4095, 4096, 4097, 256 * 1024 + 3, (1 << 20) + 4099,
             (3 << 20) + 5]
    bodies = {}
    for size in sizes:
        body = os.urandom(size)
        bodies[size] = body
        st, _, _ = req("PUT", "%s/data/o%d" % (path, size), body=body)
        if st != 201:
            t.ok(False, "PUT of %d bytes: %d" % (size, st))
    for size in sizes:
        st, h, got = req("GET", "%s/data/o%d" % (path, size),
                         headers={"X-Run-Storlet": "identity"})
        t.ok(st == 200 and got == bodies[size]
             and h.get("x-storlet-executed-on", "").startswith(n.ip),
             "identity on the node returns all %d bytes unchanged "
             "(got %d, %d bytes)" % (size, st, len(got)))
        t.ok("etag" not in h and
             h.get("x-storlet-source-etag") == hashlib.md5(bodies[size]).hexdigest(),
             "%d bytes: no ETag of the stored bytes, the source's in "
             "X-Storlet-Source-Etag" % size)
    big = bodies[(3 << 20) + 5]
    for rng, want in (("bytes=0-0", big[:1]),
                      ("bytes=4095-4096", big[4095:4097]),
                      ("bytes=1000-%d" % (2 << 20), big[1000:(2 << 20) + 1]),
                      ("bytes=-300000", big[-300000:]),
                      ("bytes=%d-" % ((3 << 20) - 7), big[(3 << 20) - 7:])):
        st, h, got = req("GET", "%s/data/o%d" % (path, len(big)), headers={
            "X-Run-Storlet": "identity", "X-Storlet-Range": rng})
        t.ok(st == 200 and got == want,
             "identity on X-Storlet-Range %s: the range's %d bytes (got %d, %d)"
             % (rng, len(want), st, len(got)))

    for size in (0, 1, 4097, 256 * 1024 + 3, (3 << 20) + 5):
        st, h, got = req("GET", "%s/data/o%d" % (path, size),
                         headers={"X-Run-Storlet": "pycopy.py"})
        t.ok(st == 200 and got == bodies[size]
             and h.get("x-object-meta-copied") == "yes",
             "Python copy() after a buffered read: all %d bytes, metadata "
             "first (got %d, %d bytes)" % (size, st, len(got)))

    # ---- a chain: the second stage gets what the first one spliced
    st, h, got = req("GET", "%s/data/o%d" % (path, len(big)), headers={
        "X-Run-Storlet": "identity,upper"})
    t.ok(st == 200 and got == big.translate(bytes.maketrans(
        b"abcdefghijklmnopqrstuvwxyz", b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
         and h.get("x-storlet-sequence-placement") == "object=2, proxy=0",
         "identity then a second stage on the node: the whole body through both")

    st, h, got = req("GET", "%s/data/o%d" % (path, len(big)), headers={
        "X-Run-Storlet": "identity,identity,identity"})
    t.ok(st == 200 and got == big
         and h.get("x-storlet-sequence-placement") == "object=3, proxy=0",
         "three identities on the node, pipe to pipe: the whole body")

    # ---- a storlet that stops reading (alone, after a stage, before one)
    for chain in ("head10", "identity,head10", "head10,identity"):
        st, _, got = req("GET", "%s/data/o%d" % (path, len(big)),
                         headers={"X-Run-Storlet": chain})
        t.ok(st == 200 and got == big[:10],
             "%s: a storlet that reads 10 bytes of 3 MiB and exits: they are "
             "the answer (got %d, %d bytes)" % (chain, st, len(got)))

    # ---- a corrupt body is never served whole, and is quarantined: found
    # before the storlet's output starts (an error status) or after (the
    # response ends short, no last chunk), never a complete 200
    def corrupt(name, size, at):
        body = os.urandom(size)
        st, _, _ = req("PUT", "%s/data/%s" % (path, name), body=body)
        part, prim, _ = cl.locate(acct, "data", name)
        node, dev = prim[0]
        files = glob.glob(os.path.join(node.devroot, dev, "objects", str(part),
                                       "*", cl.hash_of(acct, "data", name),
                                       "*.data"))
        t.ok(st == 201 and len(files) == 1, "%s: stored, its .data on disk" % name)
        with open(files[0], "r+b") as f:
            f.seek(-at, os.SEEK_END)
            b = f.read(1)
            f.seek(-at, os.SEEK_END)
            f.write(bytes([b[0] ^ 0x5a]))
        c = http.client.HTTPConnection(p.ip, p.port, timeout=60)
        c.request("GET", "%s/data/%s" % (path, name),
                  headers={"X-Auth-Token": tok, "X-Run-Storlet": "identity"})
        r = c.getresponse()
        try:
            got = r.read()
            whole = True
        except http.client.IncompleteRead as e:
            got = e.partial
            whole = False
        c.close()
        t.ok(r.status != 200 or (not whole and len(got) < size),
             "%s: identity over a corrupt body never answers it whole "
             "(status %d, %s, %d of %d bytes)"
             % (name, r.status, "complete" if whole else "cut short", len(got),
                size))
        st, _, _ = node.obj("GET", "/%s/%d/%s/data/%s" % (dev, part, acct, name))
        t.eq(st, 404, "%s: afterwards the node has no such object (quarantined)"
             % name)
        cl.expect_log(r"storlet input /%s/data/%s: reading the object failed: "
                      r"body corrupt, quarantined" % (acct, name))
        return node, dev

    corrupt("rot-small", (1 << 20) + 77, 1 << 19)
    node, dev = corrupt("rot-big", (6 << 20) + 77, 1)
    q = glob.glob(os.path.join(node.devroot, dev, "quarantined", "objects",
                               "*"))
    t.eq(len(q), 2, "both directories are under quarantined/objects")
    cl.expect_log(r"quarantin")

t.done()
