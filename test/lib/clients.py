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
header with an empty value is sent as curl's `Name;` form. Also here:
png_decode, the runner tests' PNG decoder giving samples.
Standard library only.
"""
import os
import shutil
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))), "tools", "storlet-run"))
import storlet_test_lib  # noqa: E402

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


def same(t, got, want, name):
    """t.ok(got == want) for bodies: on a difference, says the lengths
    and shows both around the first byte where they part."""
    if got == want:
        return t.ok(True, name)
    t.ok(False, name)
    i = next((k for k, (a, b) in enumerate(zip(got, want)) if a != b),
             min(len(got), len(want)))
    t.diag("got %d bytes, want %d; first difference at %d" %
           (len(got), len(want), i))
    t.diag("got:  %r" % got[max(0, i - 40):i + 40])
    t.diag("want: %r" % want[max(0, i - 40):i + 40])
    return False


# -- PNG, read back independently of the storlet that wrote it

def png_decode(data):
    """(width, height, channels, bit depth, rows as lists of samples) of a
    PNG, by the runner tests' decoder (tools/storlet-run/storlet_test_lib:
    every chunk's CRC, the filters); raises ValueError."""
    w, h, ch, rows = storlet_test_lib.png_decode(data)
    depth = 16 if rows and len(rows[0]) == 2 * w * ch else 8
    if depth == 8:
        return w, h, ch, 8, [list(r) for r in rows]
    return w, h, ch, 16, [list(struct.unpack(">%dH" % (w * ch), r))
                          for r in rows]
