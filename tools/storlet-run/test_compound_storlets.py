#!/usr/bin/python3
# tier: quick
"""The example storlets of compound requests (issue 7), through
cairn-storlet-run as plain processes.

cellcount (a Distributed split) is checked against an independent
flood-fill labeller written here on images with shapes that only join
rows later (U, spiral, comb, diagonal chains), random 8- and 16-bit images
in 4- and 8-connectivity, thresholds and min_size. The merge storlets get
the merge stream of docs/compound-storlets.md section 2.3 built here as the
proxy would, parts in a shuffled completion order: sumlist over the
cellcount outputs of 100 images, wcmerge over wordcount outputs; both must
answer in request order, and refuse a missing part, a cut stream, a bad
part naming its object. This emulates a Distributed run on one machine;
the wired request is tested against a cluster.
"""
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
rnd = random.Random(7)


def pgm(w, h, pixels, maxval=255, comment=True):
    head = b"P5\n" + (b"# made by the test\n" if comment else b"")
    head += b"%d %d\n%d\n" % (w, h, maxval)
    if maxval > 255:
        return head + b"".join(struct.pack(">H", p) for p in pixels)
    return head + bytes(pixels)


def count_cells(w, h, pixels, threshold, conn, min_size=1):
    """Flood fill over the whole image: the independent answer."""
    bright = [p > threshold for p in pixels]
    seen = [False] * (w * h)
    cells = 0
    nbrs = [(-1, 0), (1, 0), (0, -1), (0, 1)]
    if conn == 8:
        nbrs += [(-1, -1), (1, -1), (-1, 1), (1, 1)]
    for start in range(w * h):
        if not bright[start] or seen[start]:
            continue
        seen[start] = True
        stack, size = [start], 0
        while stack:
            i = stack.pop()
            size += 1
            x, y = i % w, i // w
            for dx, dy in nbrs:
                nx, ny = x + dx, y + dy
                if 0 <= nx < w and 0 <= ny < h:
                    j = ny * w + nx
                    if bright[j] and not seen[j]:
                        seen[j] = True
                        stack.append(j)
        if size >= min_size:
            cells += 1
    return cells, sum(bright)


def art(rows):
    """An image from ASCII art: '#' bright (200), '.' dark (10)."""
    w, h = len(rows[0]), len(rows)
    return w, h, [200 if c == "#" else 10 for row in rows for c in row]


def cellcount(w, h, pixels, maxval=255, path="AUTH_t/scans/img.pgm", **params):
    r = lib.run(lib.storlet("cellcount"), pgm(w, h, pixels, maxval),
                params={k: str(v) for k, v in params.items()}, args=["--path", path])
    return r, (json.loads(r.out) if r.rc == 0 else None)


# ---------------------------------------------------------------- cellcount
shapes = {
    "U joins two branches at the bottom": [
        "#...#....",
        "#...#..#.",
        "#...#..#.",
        "#####..#.",
    ],
    "spiral": [
        "#########",
        "#.......#",
        "#.#####.#",
        "#.#...#.#",
        "#.#.#.#.#",
        "#.#.###.#",
        "#.#.....#",
        "#.#######",
    ],
    "comb joined at the last row": [
        "#.#.#.#.#.#",
        "#.#.#.#.#.#",
        "###########",
    ],
    "diagonal chain": [
        "#....",
        ".#...",
        "..#..",
        "...#.",
        "....#",
    ],
    "anti-diagonal and single pixels": [
        "....#.#",
        "...#...",
        "..#...#",
        ".#.....",
        "#....#.",
    ],
    "one row": ["##.#..###.#"],
    "one column": ["#", "#", ".", "#"],
    "all bright": ["###", "###"],
    "all dark": ["...", "..."],
}
for name, rows in shapes.items():
    w, h, px = art(rows)
    for conn in (4, 8):
        want, bright = count_cells(w, h, px, 128, conn)
        r, got = cellcount(w, h, px, connectivity=conn, threshold=128)
        t.eq(got and (got["cells"], got["bright_pixels"]), (want, bright),
             "cellcount %s, %d-connected: %d cells" % (name, conn, want))

w, h, px = art(shapes["diagonal chain"])
r, got = cellcount(w, h, px, threshold=128)
t.eq(got, {"object": "scans/img.pgm", "cells": 1, "bright_pixels": 5, "width": 5, "height": 5,
           "threshold": 128, "connectivity": 8, "min_size": 1},
     "cellcount output: the object, counts and the parameters used")
t.eq(r.meta, {"Cells": "1", "Bright-Pixels": "5"}, "cellcount output metadata")
t.eq(r.res and r.res["content_type"], "application/json", "cellcount content type")

for i, (w, h, density, maxval, conn, min_size) in enumerate([
        (97, 61, 0.45, 255, 8, 1), (97, 61, 0.45, 255, 4, 1), (64, 64, 0.55, 255, 4, 1),
        (50, 80, 0.3, 65535, 8, 1), (120, 40, 0.5, 255, 8, 3), (1, 200, 0.5, 255, 4, 1),
        (333, 7, 0.6, 1000, 8, 2)]):
    thr = maxval // 2
    px = [rnd.randrange(thr + 1, maxval + 1) if rnd.random() < density
          else rnd.randrange(0, thr + 1) for _ in range(w * h)]
    want, bright = count_cells(w, h, px, thr, conn, min_size)
    r, got = cellcount(w, h, px, maxval=maxval, connectivity=conn, min_size=min_size)
    t.eq(got and (got["cells"], got["bright_pixels"], got["threshold"]), (want, bright, thr),
         "cellcount random %dx%d maxval %d, %d-connected, min_size %d: %d cells"
         % (w, h, maxval, conn, min_size, want))

w, h, px = art(["#.#", "...", "###"])
r, _ = cellcount(w, h, px[:-2])
t.ok(r.res and r.res["exit_code"] == 65 and "truncated image: row 2" in r.res["reason"],
     "cellcount: a truncated image is exit 65 naming the row")
r = lib.run(lib.storlet("cellcount"), b"P6\n1 1\n255\n\0\0\0")
t.ok(r.res and r.res["status"] == 422 and "P5" in r.res["reason"],
     "cellcount: a colour PPM is refused with 422")
for bad in ({"connectivity": "6"}, {"threshold": "x"}, {"min_size": "0"}):
    r = lib.run(lib.storlet("cellcount"), pgm(w, h, px), params=bad)
    t.ok(r.res and r.res["status"] == 400 and list(bad)[0] in r.res["reason"],
         "cellcount: parameter %s is a 400 naming it" % bad)


# ---------------------------------------------------------------- the merge stream
def frame(obj):
    b = json.dumps(obj).encode()
    return struct.pack(">I", len(b)) + b


def merge_stream(parts, chunk=7, end=None):
    """parts: (index, path, bytes) in completion order."""
    out = b""
    for idx, path, body in parts:
        out += frame({"type": "part", "index": idx, "path": path, "metadata": {},
                      "content_type": "application/json"})
        for i in range(0, len(body), chunk):
            out += struct.pack(">I", len(body[i:i + chunk])) + body[i:i + chunk]
        out += struct.pack(">I", 0)
    return out + frame({"type": "end", "parts": len(parts) if end is None else end})


# 100 images: the splits run as the proxy would run them, finish in any order
images, outputs, total = [], [], 0
for i in range(100):
    w, h = rnd.randrange(5, 40), rnd.randrange(5, 40)
    px = [200 if rnd.random() < 0.4 else 20 for _ in range(w * h)]
    want, _ = count_cells(w, h, px, 127, 8)
    path = "scans/p%02d/img%03d.pgm" % (i % 7, i)
    r, got = cellcount(w, h, px, path="AUTH_t/" + path, threshold=127)
    images.append((path, want))
    outputs.append((i, path, r.out))
    total += want
t.eq([json.loads(o[2])["cells"] for o in outputs], [c for _, c in images],
     "100 cellcount splits agree with the flood fill")
done = outputs[:]
rnd.shuffle(done)
r = lib.run(lib.storlet("sumlist"), merge_stream(done))
got = json.loads(r.out) if r.rc == 0 else r
t.eq(got, {"key": "cells", "total": total, "parts": 100,
           "objects": [{"object": p, "cells": c} for p, c in images]},
     "sumlist over 100 shuffled parts: the total and the list in request order")
t.eq(r.meta, {"Total": str(total), "Parts": "100"}, "sumlist output metadata")

r = lib.run(lib.storlet("sumlist"), merge_stream(done[:3], chunk=1 << 20, end=4))
t.ok(r.res and r.res["status"] == 422 and "3 parts, the end frame says 4" in r.res["reason"],
     "sumlist: a missing part is a 422, never a short sum")
cut = merge_stream(done[:3])
r = lib.run(lib.storlet("sumlist"), cut[:-10])
t.ok(r.res and r.res["exit_code"] == 65 and "ended early" in r.res["reason"],
     "sumlist: a stream cut before its end frame is exit 65")
r = lib.run(lib.storlet("sumlist"), merge_stream([(0, "scans/x.pgm", b'{"cells": "many"}')]))
t.ok(r.res and r.res["exit_code"] == 65 and "scans/x.pgm" in r.res["reason"],
     "sumlist: a part without the number names its object")
r = lib.run(lib.storlet("sumlist"), merge_stream([(0, "a", b'{"n": 1.5}'), (1, "b", b'{"n": 2}')]),
            params={"key": "n"})
t.eq(json.loads(r.out) if r.rc == 0 else r,
     {"key": "n", "total": 3.5, "parts": 2, "objects": [{"object": "a", "n": 1.5},
                                                         {"object": "b", "n": 2}]},
     "sumlist key=n sums reals too")
r = lib.run(lib.storlet("sumlist"), merge_stream([(0, "a", b'{"cells": 1}'),
                                                  (0, "b", b'{"cells": 2}')]))
t.ok(r.res and r.res["exit_code"] == 65 and "twice" in r.res["reason"],
     "sumlist: the same part index twice is refused")

# ---------------------------------------------------------------- word count
texts = [b"", b"one\n", "caf\u00e9 au lait\nsecond line  here\n".encode(),
         bytes(rnd.choice(b"ab \n") for _ in range(70000)), b"no newline at end"]
wc_parts, want = [], dict.fromkeys(("bytes", "chars", "lines", "words"), 0)
for i, text in enumerate(texts):
    r = lib.run(lib.storlet("wordcount"), text)
    counts = json.loads(r.out)
    expect = {"bytes": len(text), "chars": len(text.decode()), "lines": text.count(b"\n"),
              "words": len(text.split())}
    t.eq(counts, expect, "wordcount split %d" % i)
    wc_parts.append((i, "books/b%d.txt" % i, r.out))
    for k in want:
        want[k] += expect[k]
done = wc_parts[::-1]
r = lib.run(lib.storlet("wcmerge"), merge_stream(done, chunk=5))
got = json.loads(r.out) if r.rc == 0 else r
t.eq(got, dict(want, objects=5, per_object=[dict(json.loads(o), object=p) for _, p, o in wc_parts]),
     "wcmerge sums five word counts, per object in request order")
t.eq(r.meta, {"Bytes": str(want["bytes"]), "Chars": str(want["chars"]),
              "Lines": str(want["lines"]), "Words": str(want["words"]), "Objects": "5"},
     "wcmerge output metadata")
r = lib.run(lib.storlet("wcmerge"), merge_stream(done), params={"per_object": "false"})
t.eq(json.loads(r.out) if r.rc == 0 else r, dict(want, objects=5), "wcmerge per_object=false")
r = lib.run(lib.storlet("wcmerge"), merge_stream([(0, "books/x", b'{"words": 3}')]))
t.ok(r.res and r.res["status"] == 422 and "books/x: not a wordcount output" in r.res["reason"],
     "wcmerge: a part that is not a word count names its object")
r = lib.run(lib.storlet("wcmerge"), merge_stream(done[:2], end=5))
t.ok(r.res and r.res["exit_code"] == 65 and "2 parts, the end frame says 5" in r.res["reason"],
     "wcmerge: a missing part is refused")
r = lib.run(lib.storlet("wcmerge"), merge_stream([done[0], done[0]]))
t.ok(r.res and r.res["exit_code"] == 65 and "twice" in r.res["reason"],
     "wcmerge: a part twice is refused")
r = lib.run(lib.storlet("wcmerge"), merge_stream([(7, p, o) for _, p, o in done[:1]], end=1))
t.ok(r.res and r.res["exit_code"] == 65 and "1 parts, the end frame says 1" in r.res["reason"],
     "wcmerge: an index beyond the end frame's count is refused")
r = lib.run(lib.storlet("wcmerge"), merge_stream([(0, "books/big", b" " * (1 << 20) + b"{}")], chunk=1 << 16))
t.ok(r.res and r.res["exit_code"] == 65 and "books/big: more than" in r.res["reason"],
     "wcmerge: a part over 1 MiB is refused, naming it")
r = lib.run(lib.storlet("wcmerge"), b"\x00\x00")
t.ok(r.res and r.res["exit_code"] == 65 and "ended early" in r.res["reason"],
     "wcmerge: a cut stream is refused")

t.done()
