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

import cairn_storlet

PART_MAX = 1 << 20
KEYS = ("bytes", "chars", "lines", "words")


def main(s):
    per_object = s.param_bool("per_object", True)
    totals = dict.fromkeys(KEYS, 0)
    parts = {}
    for part in s.merge_parts():
        try:
            counts = json.loads(part.read_whole(PART_MAX))
        except ValueError:
            counts = None
        if not isinstance(counts, dict) or not all(
                isinstance(counts.get(k), int) and not isinstance(counts.get(k), bool)
                for k in KEYS):
            s.fail(cairn_storlet.EXIT_BAD_INPUT, "part %s: not a wordcount output" % part.path)
        for k in KEYS:
            totals[k] += counts[k]
        parts[part.index] = dict({k: counts[k] for k in KEYS}, object=part.path) \
            if per_object else None
    # merge_parts checked that the indexes are exactly 0..len(parts)-1.
    out = dict(totals, objects=len(parts))
    if per_object:
        out["per_object"] = [parts[i] for i in range(len(parts))]
    meta = {k.capitalize(): str(v) for k, v in totals.items()}
    meta["Objects"] = str(len(parts))
    s.set_metadata(meta)
    s.set_content_type("application/json")
    s.write(json.dumps(out, sort_keys=True) + "\n")


if __name__ == "__main__":
    cairn_storlet.run(main)
