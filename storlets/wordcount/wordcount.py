"""wordcount - wc(1)-like counts of an object, as JSON.

Counts, over the whole input, streaming in 64 KiB chunks (bounded memory):
  lines  newline bytes
  words  maximal runs of bytes that are not ASCII whitespace (space, \\t,
         \\n, \\v, \\f, \\r), as wc counts them in the C locale
  bytes  input bytes
  chars  UTF-8 characters: bytes that are not continuation bytes
Parameters: none. Output: {"bytes": N, "chars": N, "lines": N, "words": N}
(keys sorted, one line); the same four as output metadata (Lines, Words,
Bytes, Chars). Deploy with X-Object-Meta-Storlet-Main: wordcount.main.
"""
import json
import re

import cairn_storlet

_WORD = re.compile(rb"[^ \t\n\v\f\r]+")
_CONT = re.compile(rb"[\x80-\xbf]")
_SPACE = b" \t\n\v\f\r"


def main(s):
    lines = words = nbytes = cont = 0
    in_word = False
    for chunk in iter(lambda: s.input.read(65536), b""):
        nbytes += len(chunk)
        lines += chunk.count(b"\n")
        cont += len(_CONT.findall(chunk))
        n = len(_WORD.findall(chunk))
        # a word cut by the chunk boundary was counted in the last chunk
        if in_word and chunk[0] not in _SPACE:
            n -= 1
        words += n
        in_word = chunk[-1] not in _SPACE
    counts = {"bytes": nbytes, "chars": nbytes - cont, "lines": lines, "words": words}
    s.set_metadata({k.capitalize(): str(v) for k, v in counts.items()})
    s.set_content_type("application/json")
    s.write(json.dumps(counts, sort_keys=True) + "\n")


if __name__ == "__main__":
    cairn_storlet.run(main)
