#!/usr/bin/python3
# Not an attack: the baseline python3 storlet (stdin upper-cased to stdout),
# proving that an ordinary storlet works under the same policy.
import sys

for chunk in iter(lambda: sys.stdin.buffer.read(65536), b""):
    sys.stdout.buffer.write(chunk.upper())
