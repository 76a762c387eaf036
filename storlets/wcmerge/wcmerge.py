"""wcmerge - the merge storlet of a Distributed word count: sums the
wordcount outputs of many objects.

Input: the merge stream of docs/compound-storlets.md section 2.3 on fd 0:
for every split, a part frame (4-byte big-endian length + JSON
{"type": "part", "index", "path", "metadata", "content_type"}), the
part's bytes as chunks (4-byte length + bytes), a zero length; then an
end frame {"type": "end", "parts": N}. Each part is one wordcount output,
{"bytes": N, "chars": N, "lines": N, "words": N} (at most 1 MiB).
Parameters: per_object  true (default) lists every object's counts,
                        false gives the totals only.
Output: one line of JSON, keys sorted:
  {"bytes": .., "chars": .., "lines": .., "objects": N, "words": ..,
   "per_object": [{"object": "c/o", "bytes": .., ...}, ...]}
with per_object in request order (the part frames' index), whatever order
the splits finished in; the four totals as output metadata (Lines, Words,
Bytes, Chars) and Objects. Exit 65 when the stream is malformed, ends
early, misses a part, or a part is not a wordcount output (the reason
names the part's object). Memory: one part and one small entry per part.
Deploy with X-Object-Meta-Storlet-Main: wcmerge.main.
"""
import json
import struct

import cairn_storlet

PART_MAX = 1 << 20
FRAME_MAX = 1 << 20
KEYS = ("bytes", "chars", "lines", "words")


def bad(reason):
    raise cairn_storlet.StorletError(cairn_storlet.EXIT_BAD_INPUT, reason)


def read_exact(f, n, what):
    data = f.read(n)
    if len(data) != n:
        bad("merge input ended early, in %s" % what)
    return data


def read_u32(f, what):
    return struct.unpack(">I", read_exact(f, 4, what))[0]


def read_frame(f):
    n = read_u32(f, "a frame length")
    if n == 0 or n > FRAME_MAX:
        bad("merge input: frame length %d" % n)
    try:
        obj = json.loads(read_exact(f, n, "a frame"))
    except ValueError:
        obj = None
    if not isinstance(obj, dict):
        bad("merge input: a frame is not a JSON object")
    return obj


def main(s):
    per_object = s.param_bool("per_object", True)
    f = s.input
    totals = dict.fromkeys(KEYS, 0)
    parts = {}
    while True:
        frame = read_frame(f)
        if frame.get("type") == "end":
            expected = frame.get("parts")
            if not isinstance(expected, int) or expected < 0:
                bad("merge input: bad end frame")
            break
        idx, path = frame.get("index"), frame.get("path")
        if frame.get("type") != "part" or not isinstance(idx, int) or idx < 0 \
                or not isinstance(path, str):
            bad("merge input: bad part frame")
        if idx in parts:
            bad("merge input: part %d (%s) twice" % (idx, path))
        body = bytearray()
        while True:
            n = read_u32(f, "a chunk length")
            if n == 0:
                break
            if len(body) + n > PART_MAX:
                bad("part %s: more than %d bytes" % (path, PART_MAX))
            body += read_exact(f, n, "a chunk")
        try:
            counts = json.loads(bytes(body))
        except ValueError:
            counts = None
        if not isinstance(counts, dict) or not all(
                isinstance(counts.get(k), int) and not isinstance(counts.get(k), bool)
                for k in KEYS):
            bad("part %s: not a wordcount output" % path)
        for k in KEYS:
            totals[k] += counts[k]
        parts[idx] = dict({k: counts[k] for k in KEYS}, object=path) if per_object else None
    if len(parts) != expected or any(i >= expected for i in parts):
        bad("merge input: %d parts, the end frame says %d" % (len(parts), expected))
    out = dict(totals, objects=expected)
    if per_object:
        out["per_object"] = [parts[i] for i in sorted(parts)]
    meta = {k.capitalize(): str(v) for k, v in totals.items()}
    meta["Objects"] = str(expected)
    s.set_metadata(meta)
    s.set_content_type("application/json")
    s.write(json.dumps(out, sort_keys=True) + "\n")


if __name__ == "__main__":
    cairn_storlet.run(main)
