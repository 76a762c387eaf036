#!/usr/bin/python3
# tier: quick
"""A storlet sees the object's body with the caller's rights, never more
(docs/threat-model.md, malicious catalog "seek_header"): a hostile storlet
on a whole-object GET tries to lseek its fd 0 back to offset 0 and to pread
offset 0, hoping for the .data file's stored metadata header. The object was
stored on every primary with a system-metadata value a client can never
read; the test asserts the storlet's report holds neither that value nor
any byte of the stored header, and that fd 0 is not seekable at all."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster  # noqa: E402
from tap import Tap  # noqa: E402


SECRET = "sysmeta-only-the-cluster-sees-7f3a"

# Native storlet (a script): fd 0 input, fd 1 output, fd 3 metadata.
HOSTILE = b"""#!/usr/bin/python3
import os
os.close(3)
rep = []
try:
    pos = os.lseek(0, 0, os.SEEK_SET)
    rep.append(b"seek-ok %d:" % pos + os.read(0, 65536))
except OSError as e:
    rep.append(b"seek-err %d" % e.errno)
try:
    rep.append(b"pread-ok:" + os.pread(0, 65536, 0))
except OSError as e:
    rep.append(b"pread-err %d" % e.errno)
out = b"\\n--\\n".join(rep)
while out:
    out = out[os.write(1, out):]
"""

t = Tap()

with Cluster(t) as cl:
    # one node, warm pools there; the proxy's pool size is its default
    (n,), p = cl.storlet_cluster(ips=("127.0.0.1",), part_power=4,
                                 warm=None, node_conf={"storlet_warm": "1"})
    path, tok = p.auth("test:tester")
    acct = path.rsplit("/", 1)[1]
    req = p.requester(tok)
    t.eq(p.enable_storlets(path, tok, ("storlet", "data")), 204,
         "enable the account")
    t.eq(p.deploy(path, tok, "seek_header", body=HOSTILE), 201,
         "deploy the hostile storlet")

    body = b"public body bytes\n" * 1000
    part, prim, _ = cl.locate(acct, "data", "o")
    ok = True
    for node, dev in prim:
        st, _, _ = node.request(
            "PUT", "/%s/%d/%s/data/o" % (dev, part, acct), body=body,
            headers={"X-Timestamp": cl.ts(),
                     "Content-Type": "application/octet-stream",
                     "Content-Length": str(len(body)),
                     "X-Object-Sysmeta-Secret": SECRET})
        ok = ok and st == 201
    t.ok(ok, "the object is stored with system metadata on its primaries")
    st, h, b = req("GET", path + "/data/o")
    t.ok(st == 200 and b == body and SECRET not in str(h),
         "a plain GET returns the body and hides the system metadata")

    st, h, rep = req("GET", path + "/data/o",
                     headers={"X-Run-Storlet": "seek_header"})
    t.eq(st, 200, "the hostile storlet runs on a whole-object GET")
    t.ok(h.get("x-storlet-executed-on", "").startswith(n.ip),
         "it ran on the object node (the .data file's home)")
    t.diag("storlet report: %r" % rep[:300])
    t.ok(SECRET.encode() not in rep,
         "the storlet cannot read the stored system metadata")
    t.ok(b"Sysmeta" not in rep and b"sysmeta" not in rep
         and b"CAIRNOBJ" not in rep and b'"name"' not in rep,
         "nor the stored header or any stored metadata name")
    t.ok(b"seek-ok" not in rep and b"pread-ok" not in rep,
         "fd 0 cannot be repositioned (lseek and pread fail)")
    t.ok(b"seek-err 29" in rep and b"pread-err 29" in rep,
         "both fail with ESPIPE: fd 0 is a stream")

    # ---- tenants: two accounts never share a host identity
    UIDMAP = b"#!/bin/sh\nexec 3>&-\ncat /proc/self/uid_map\n"
    maps = []
    for who in ("test:tester", "test2:tester2"):
        apath, atok = p.auth(who)
        h = {"X-Auth-Token": atok}
        p.enable_storlets(apath, atok, ("storlet", "c"))
        p.request("PUT", apath + "/c/x", body=b"x", headers=h)
        p.deploy(apath, atok, "uidmap", body=UIDMAP)
        st, _, b = p.request("GET", apath + "/c/x", headers=dict(
            h, **{"X-Run-Storlet": "uidmap"}))
        f = b.split()
        maps.append(int(f[1]) if st == 200 and len(f) == 3 else None)
    t.diag("host uids: %r" % maps)
    t.ok(None not in maps and maps[0] != maps[1],
         "two accounts' storlets run under different host uids")
    st, _, b = req("GET", path + "/data/o", headers={"X-Run-Storlet": "uidmap"})
    t.ok(st == 200 and int(b.split()[1]) == maps[0],
         "an account keeps its host uid from one run to the next")
    slots = open(os.path.join(cl.dir, "node0-cache", "tenant-slots")).read()
    t.ok(slots.count("\n") == 2 and "AUTH_test\n" in slots
         and "AUTH_test2\n" in slots,
         "the node's slot table records each account once")
    cl.check_logs()

t.done()
