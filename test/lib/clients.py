"""The real client programs a user points at Cairn, driven from tests.

    from clients import Curl, SwiftCLI
    curl = Curl(proxy, "test:tester", "testing", workdir)   # auths with curl
    st, hdrs, body = curl.req("GET", "/data/o", {"X-Run-Storlet": "grep"})
    swift = SwiftCLI(proxy, "test:tester", "testing", workdir)
    r = swift("download", "data", "o", "-o", "-")             # CompletedProcess

Curl runs the curl binary (-sS, -H, -X, -D to capture the headers, -T or
--data-binary @file for a body); SwiftCLI runs python-swiftclient's
`swift` with -A/-U/-K, so every call authenticates as a user's would.
Paths given to Curl.req are relative to the account's storage URL; a
header with an empty value is sent as curl's `Name;` form. Also here: a
PNG decoder independent of any storlet (png_decode), for the image tests.
Standard library only.
"""
import os
import shutil
import struct
import subprocess
import zlib

SWIFT = ["/usr/bin/python3", "/usr/bin/swift"]


def _env():
    """The environment without the OpenStack settings of whoever runs the
    tests: the CLI must use exactly the credentials given."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("OS_", "ST_"))}


def parse_headers(raw):
    """(status, {lower-case name: value}) of the last response block of a
    curl -D dump (a 100 Continue block comes first)."""
    blocks = [b for b in raw.decode("latin-1").split("\r\n\r\n")
              if b.startswith("HTTP/")]
    if not blocks:
        return 0, {}
    lines = blocks[-1].split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return status, hdrs


class Curl:
    def __init__(self, proxy, user, key, workdir, timeout=120):
        self.base = "http://%s:%d" % (proxy.ip, proxy.port)
        self.dir = workdir
        self.timeout = timeout
        self.n = 0
        os.makedirs(workdir, exist_ok=True)
        st, h, _ = self.run(["-H", "X-Auth-User: " + user,
                             "-H", "X-Auth-Key: " + key,
                             self.base + "/auth/v1.0"])
        if st != 200:
            raise RuntimeError("curl auth as %s: %d" % (user, st))
        self.token = h["x-auth-token"]
        self.url = h["x-storage-url"]

    def run(self, args):
        """curl -sS -D <file> -o <file> args...: (status, headers, body).
        A curl failure (exit status not 0) is status -<exit status>, with
        curl's message as the body."""
        self.n += 1
        hfile = os.path.join(self.dir, "h%d" % self.n)
        bfile = os.path.join(self.dir, "b%d" % self.n)
        r = subprocess.run(["curl", "-sS", "-D", hfile, "-o", bfile] + args,
                           capture_output=True, timeout=self.timeout)
        body = b""
        if os.path.exists(bfile):
            with open(bfile, "rb") as f:
                body = f.read()
            os.unlink(bfile)
        raw = b""
        if os.path.exists(hfile):
            with open(hfile, "rb") as f:
                raw = f.read()
            os.unlink(hfile)
        if r.returncode != 0:
            return -r.returncode, parse_headers(raw)[1], r.stderr
        st, hdrs = parse_headers(raw)
        return st, hdrs, body

    def req(self, method, path, headers=None, upload=None, data=None,
            token=True, args=()):
        """One request to storage URL + path. upload: a file sent with -T
        (curl's PUT); data: a file sent with --data-binary @file (with -X
        method). Headers with an empty value go as 'Name;'."""
        a = []
        if method not in ("GET", "HEAD") and not (upload and method == "PUT"):
            a += ["-X", method]
        if method == "HEAD":
            a = ["-I"]
        if token:
            a += ["-H", "X-Auth-Token: " + self.token]
        for k, v in (headers or {}).items():
            a += ["-H", "%s;" % k if v == "" else "%s: %s" % (k, v)]
        if upload is not None:
            a += ["-T", upload]
        if data is not None:
            a += ["--data-binary", "@" + data]
        return self.run(a + list(args) + [self.url + path])


class SwiftCLI:
    def __init__(self, proxy, user, key, workdir, timeout=120):
        self.auth = "http://%s:%d/auth/v1.0" % (proxy.ip, proxy.port)
        self.user = user
        self.key = key
        self.dir = workdir
        self.timeout = timeout
        os.makedirs(workdir, exist_ok=True)

    def __call__(self, *args, stdin=None):
        """swift -A <auth> -U <user> -K <key> args...; the CompletedProcess
        (stdout and stderr as bytes), run in the work dir."""
        return subprocess.run(
            SWIFT + ["-A", self.auth, "-U", self.user, "-K", self.key] +
            list(args), capture_output=True, cwd=self.dir, env=_env(),
            input=stdin, timeout=self.timeout)

    def clean(self):
        """Empties the work dir (downloads land there)."""
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)


def have_swift_cli():
    return os.path.exists(SWIFT[1])


# -- PNG, read back independently of the storlet that wrote it

def _unfilter(kind, row, prev, bpp):
    out = bytearray(row)
    for i in range(len(out)):
        a = out[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if kind == 1:
            out[i] = (out[i] + a) & 0xff
        elif kind == 2:
            out[i] = (out[i] + b) & 0xff
        elif kind == 3:
            out[i] = (out[i] + (a + b) // 2) & 0xff
        elif kind == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            out[i] = (out[i] + pred) & 0xff
        elif kind != 0:
            raise ValueError("PNG: filter type %d" % kind)
    return bytes(out)


def png_decode(data):
    """A non-interlaced grey or RGB PNG of 8 or 16 bits: (width, height,
    channels, bit depth, rows), rows a list of lists of samples. Checks
    the signature, every chunk's CRC, IHDR first and IEND last; raises
    ValueError on anything else."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("PNG: bad signature")
    pos, chunks = 8, []
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        crc, = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        if len(body) != n or zlib.crc32(kind + body) != crc:
            raise ValueError("PNG: bad %r chunk" % kind)
        chunks.append((kind, body))
        pos += 12 + n
    if chunks[0][0] != b"IHDR" or chunks[-1][0] != b"IEND":
        raise ValueError("PNG: IHDR first and IEND last")
    w, h, depth, ctype, comp, filt, lace = struct.unpack(">IIBBBBB",
                                                         chunks[0][1])
    if (comp, filt, lace) != (0, 0, 0) or ctype not in (0, 2) or \
            depth not in (8, 16):
        raise ValueError("PNG: unsupported IHDR")
    ch = 1 if ctype == 0 else 3
    bps = depth // 8
    raw = zlib.decompress(b"".join(b for k, b in chunks if k == b"IDAT"))
    stride = w * ch * bps
    if len(raw) != h * (stride + 1):
        raise ValueError("PNG: %d bytes of image data, want %d" %
                         (len(raw), h * (stride + 1)))
    rows, prev = [], bytes(stride)
    for y in range(h):
        line = raw[y * (stride + 1):(y + 1) * (stride + 1)]
        prev = _unfilter(line[0], line[1:], prev, ch * bps)
        rows.append(list(prev) if bps == 1 else
                    list(struct.unpack(">%dH" % (stride // 2), prev)))
    return w, h, ch, depth, rows
