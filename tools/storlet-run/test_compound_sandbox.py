#!/usr/bin/python3
# tier: full
"""The compound examples inside the real sandbox (cairn-storlet-run --sandbox).

cellcount counts the 10 million isolated cells of a 40 MB image under a
16 MiB address-space limit, which it can only do by streaming (memory
O(width)); a control shows that limit is real (a row too wide for
it fails); sumlist and wcmerge merge a small stream as they do in
test_compound_storlets.py. Needs root; skipped otherwise.
"""
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.environ.get("CAIRN_SRC", "."), "test", "lib"))
from tap import Tap  # noqa: E402
import storlet_test_lib as lib  # noqa: E402

t = Tap()
if os.geteuid() != 0:
    t.skip("compound storlets in the sandbox", "needs root (user namespaces, cgroups)")
    t.done()

with open(lib.RUNNER, "rb") as f:
    SANITIZED = b"__asan_init" in f.read()


def sbx(path, data, policy=None, **kw):
    policy = dict(policy or {"class": "user"})
    if SANITIZED:
        policy["as_bytes"] = 0
    r = lib.run(path, data, sandbox=True, policy=policy, **kw)
    if r.rc != 0:
        t.diag(repr(r))
    return r


# bright pixels at even (x, y) only: no two touch, even diagonally
W, H = 1000, 40000
bright_row = bytes(200 if x % 2 == 0 else 0 for x in range(W))
dark_row = bytes(W)
image = b"P5\n%d %d\n255\n" % (W, H) + (bright_row + dark_row) * (H // 2)
r = sbx(lib.storlet("cellcount"), image,
        policy={"class": "user", "as_bytes": 16 << 20, "wall_ms": 60000},
        args=["--path", "AUTH_t/scans/big.pgm"])
got = json.loads(r.out) if r.rc == 0 else {}
t.eq((got.get("cells"), got.get("bright_pixels"), got.get("object")),
     ((W // 2) * (H // 2), (W // 2) * (H // 2), "scans/big.pgm"),
     "cellcount in the sandbox: 10 million cells of a 40 MB image under a 16 MiB address space")

# the control: the limit is real. A 200000-pixel row needs about 7 MB of
# row buffers and labels, more than a 4 MiB address space holds.
WIDE = 200000
row = bytes(200 if x % 2 == 0 else 0 for x in range(WIDE))
r = lib.run(lib.storlet("cellcount"), b"P5\n%d 2\n255\n" % WIDE + row + row, sandbox=True,
            policy={"class": "user", "as_bytes": 4 << 20})
if SANITIZED:
    t.skip("the address-space control", "sanitized runner: no RLIMIT_AS")
else:
    t.ok(r.res and r.res["status"] == 500 and "out of memory" in (r.res["reason"] or ""),
         "control: the same storlet under 4 MiB fails on a 200000-pixel row")


def frame(obj):
    b = json.dumps(obj).encode()
    return struct.pack(">I", len(b)) + b


def stream(parts):
    out = b""
    for idx, path, body in parts:
        out += frame({"type": "part", "index": idx, "path": path, "metadata": {},
                      "content_type": None})
        out += struct.pack(">I", len(body)) + body + struct.pack(">I", 0)
    return out + frame({"type": "end", "parts": len(parts)})


r = sbx(lib.storlet("sumlist"), stream([(1, "s/b", b'{"cells": 5}\n'),
                                        (0, "s/a", b'{"cells": 2}\n')]))
t.eq(json.loads(r.out) if r.rc == 0 else None,
     {"key": "cells", "total": 7, "parts": 2,
      "objects": [{"object": "s/a", "cells": 2}, {"object": "s/b", "cells": 5}]},
     "sumlist in the sandbox")
wc = b'{"bytes": 4, "chars": 4, "lines": 1, "words": 1}\n'
r = sbx(lib.storlet("wcmerge"), stream([(0, "b/x", wc), (1, "b/y", wc)]),
        params={"per_object": "false"})
t.eq(json.loads(r.out) if r.rc == 0 else None,
     {"bytes": 8, "chars": 8, "lines": 2, "words": 2, "objects": 2},
     "wcmerge (python) in the sandbox")
t.done()
