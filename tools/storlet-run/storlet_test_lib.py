"""Helpers shared by the storlet tests (standard library only).

run() executes cairn-storlet-run on given bytes and returns what came out;
png_decode() is an independent PNG reader (zlib from the standard library)
used to check the image storlet's output pixel by pixel.
"""
import json
import os
import shutil
import struct
import subprocess
import tempfile
import zlib

BUILD = os.environ.get("CAIRN_BUILD", os.path.join(os.getcwd(), "build"))
SRC = os.environ.get("CAIRN_SRC", os.getcwd())
RUNNER = os.path.join(BUILD, "cairn-storlet-run")


def storlet(name):
    """Path of an example storlet: the built C one or the Python source."""
    c = os.path.join(BUILD, "storlets", name)
    if os.path.exists(c):
        return c
    return os.path.join(SRC, "storlets", name, name + ".py")


class Result:
    def __init__(self, rc, out, log, res):
        self.rc, self.out, self.log, self.res = rc, out, log, res
        self.meta = (res or {}).get("metadata")

    def __repr__(self):
        return "rc=%r res=%r log=%r out[:200]=%r" % (self.rc, self.res, self.log[-500:],
                                                     self.out[:200])


def run(storlet_path, data=b"", params=None, meta=None, args=(), sandbox=False,
        policy=None, timeout=120, nice=0):
    work = tempfile.mkdtemp(prefix="cairn-st-test-")
    try:
        inp = os.path.join(work, "input")
        with open(inp, "wb") as f:
            f.write(data)
        out, log, res = (os.path.join(work, n) for n in ("out", "log", "res"))
        cmd = [RUNNER, "-o", out, "--log", log, "--result", res]
        for k, v in (params or {}).items():
            cmd += ["-p", "%s=%s" % (k, v)]
        for k, v in (meta or {}).items():
            cmd += ["-m", "%s=%s" % (k, v)]
        if sandbox:
            cmd.append("--sandbox")
        if policy:
            cmd += ["--policy", json.dumps(policy)]
        cmd += list(args) + [storlet_path, inp]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout,
                           preexec_fn=(lambda: os.nice(nice)) if nice else None)

        def slurp(path):
            try:
                with open(path, "rb") as f:
                    return f.read()
            except FileNotFoundError:
                return b""
        r = slurp(res)
        return Result(p.returncode, slurp(out),
                      slurp(log).decode(errors="replace") + p.stderr.decode(errors="replace"),
                      json.loads(r) if r.strip() else None)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def png_decode(data):
    """Returns (width, height, channels, rows as bytes) of an 8- or 16-bit
    PNG (grey or RGB, not interlaced), checking every chunk's CRC."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG signature")
    pos, idat, ihdr, seen_end = 8, b"", None, False
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + n]
        (crc,) = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        if zlib.crc32(kind + body) & 0xffffffff != crc:
            raise ValueError("bad CRC in %r" % kind)
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            seen_end = True
        pos += 12 + n
    if not ihdr or not seen_end:
        raise ValueError("IHDR or IEND missing")
    w, h, depth, ctype, comp, filt, interlace = ihdr
    if depth not in (8, 16) or ctype not in (0, 2) or comp or filt or interlace:
        raise ValueError("unsupported PNG %r" % (ihdr,))
    ch = 1 if ctype == 0 else 3
    bpp = ch * depth // 8    # filters work on bytes per pixel
    raw = zlib.decompress(idat)
    stride = w * bpp
    if len(raw) != h * (stride + 1):
        raise ValueError("IDAT holds %d bytes, want %d" % (len(raw), h * (stride + 1)))
    rows, prev = [], bytearray(stride)
    for y in range(h):
        ft = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if ft == 0:
                pass
            elif ft == 1:
                line[x] = (line[x] + a) & 255
            elif ft == 2:
                line[x] = (line[x] + b) & 255
            elif ft == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pr) & 255
            else:
                raise ValueError("filter type %d" % ft)
        rows.append(bytes(line))
        prev = line
    return w, h, ch, rows
