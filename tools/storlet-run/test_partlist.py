#!/usr/bin/python3
# tier: quick
"""partlist, the plainest Distributed merge (storlets/partlist), through
cairn-storlet-run: with format=json it lists every part's JSON output in
request order whatever order the parts arrive in; with format=raw it
streams the parts' bytes through, each part whole, in arrival order; both
refuse a missing or repeated part, a cut stream and (json) a part that is
not JSON, naming its object."""
import json
import os
import random
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.environ.get("CAIRN_SRC", "."), "test", "lib"))
from tap import Tap  # noqa: E402
import storlet_test_lib as lib  # noqa: E402

t = Tap()
rnd = random.Random(11)


def frame(obj):
    b = json.dumps(obj).encode()
    return struct.pack(">I", len(b)) + b


def merge_stream(parts, chunk=7, end=None):
    """parts: (index, path, bytes) in arrival order."""
    out = b""
    for idx, path, body in parts:
        out += frame({"type": "part", "index": idx, "path": path, "metadata": {},
                      "content_type": None})
        for i in range(0, len(body), chunk):
            out += struct.pack(">I", len(body[i:i + chunk])) + body[i:i + chunk]
        out += struct.pack(">I", 0)
    return out + frame({"type": "end", "parts": len(parts) if end is None else end})


stl = lib.storlet("partlist")
docs = [{"bytes": rnd.randrange(1 << 24), "md5": "%032x" % rnd.getrandbits(128)}
        for _ in range(40)]
parts = [(i, "data/o%02d" % i, json.dumps(d).encode()) for i, d in enumerate(docs)]
arrived = parts[:]
rnd.shuffle(arrived)
r = lib.run(stl, merge_stream(arrived))
t.eq(json.loads(r.out) if r.rc == 0 else r,
     {"parts": 40, "objects": [{"object": "data/o%02d" % i, "output": d}
                               for i, d in enumerate(docs)]},
     "json: every part's output, in request order")
t.eq(r.meta, {"Format": "json", "Parts": "40"}, "json: output metadata")

r = lib.run(stl, merge_stream([(1, "a", b"[1, 2]"), (0, "b", b"7")]))
t.eq(json.loads(r.out) if r.rc == 0 else r,
     {"parts": 2, "objects": [{"object": "b", "output": 7}, {"object": "a", "output": [1, 2]}]},
     "json: any JSON value is a part")

blobs = [(i, "big/%d" % i, bytes(rnd.getrandbits(8) for _ in range(n)))
         for i, n in enumerate((0, 1, 300000, 5))]
order = [blobs[2], blobs[0], blobs[3], blobs[1]]
r = lib.run(stl, merge_stream(order, chunk=65536), params={"format": "raw"})
t.eq((r.rc, r.out), (0, b"".join(b for _, _, b in order)),
     "raw: the parts' bytes, each whole, in arrival order")
t.eq(r.meta, {"Format": "raw"}, "raw: output metadata")

for params in ({}, {"format": "raw"}):
    r = lib.run(stl, merge_stream(arrived[:3], end=4), params=params)
    t.ok(r.res and r.res["exit_code"] == 65 and "3 parts, the end frame says 4" in r.res["reason"],
         "%s: a missing part is refused" % (params.get("format") or "json"))
    r = lib.run(stl, merge_stream(arrived[:3])[:-10], params=params)
    t.ok(r.res and r.res["exit_code"] == 65 and "ended early" in r.res["reason"],
         "%s: a cut stream is refused" % (params.get("format") or "json"))
    r = lib.run(stl, merge_stream([(0, "a", b"1"), (0, "b", b"2")]), params=params)
    t.ok(r.res and r.res["exit_code"] == 65 and "twice" in r.res["reason"],
         "%s: the same part twice is refused" % (params.get("format") or "json"))
r = lib.run(stl, merge_stream([(0, "data/x.bin", b"\x00not json")]))
t.ok(r.res and r.res["status"] == 422 and "data/x.bin: not JSON" in r.res["reason"],
     "json: a part that is not JSON names its object")
r = lib.run(stl, merge_stream([]), params={"format": "xml"})
t.ok(r.res and r.res["status"] == 400 and "format" in r.res["reason"],
     "an unknown format is a 400 naming the parameter")

t.done()
