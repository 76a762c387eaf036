#!/usr/bin/python3
# tier: full
"""Every example storlet inside the real sandbox (cairn-storlet-run --sandbox).

The same checks as test_storlet_run.py's plain runs, on smaller inputs, but
through a launcher forked by the runner: user-class policy, read-only root,
no network, seccomp, the code directory at /storlet. This shows that the
static C storlets and python3 with the SDK work with what the sandbox's root
holds, and that the services channel (fd 4, SCM_RIGHTS) passes the seccomp
filter. Needs root; skipped otherwise.
"""
import atexit
import hashlib
import json
import os
import random
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.environ.get("CAIRN_SRC", "."), "test", "lib"))
from tap import Tap  # noqa: E402
import storlet_test_lib as lib  # noqa: E402

t = Tap()
if os.geteuid() != 0:
    t.skip("storlets in the sandbox", "needs root (user namespaces with id maps, cgroups)")
    t.done()

rnd = random.Random(7)
work = tempfile.mkdtemp(prefix="cairn-st-sbx-")
atexit.register(shutil.rmtree, work, True)  # also when a check crashes
os.chmod(work, 0o755)


# A runner built with ASan forks a sanitized launcher, whose sandbox init
# cannot keep its shadow memory under RLIMIT_AS: lift that one limit there.
with open(lib.RUNNER, "rb") as f:
    SANITIZED = b"__asan_init" in f.read()
if SANITIZED:
    t.diag("sanitized runner: sandbox policy without RLIMIT_AS")


def sbx(name_or_path, data, expect_ok=True, policy=None, **kw):
    if SANITIZED:
        policy = dict(policy or {"class": "user"}, as_bytes=0)
    r = lib.run(name_or_path, data, sandbox=True, policy=policy, **kw)
    if r.rc != 0 and expect_ok:
        t.diag(repr(r))
    return r


data = bytes(rnd.getrandbits(8) for _ in range(150000))
r = sbx(lib.storlet("identity"), data)
t.ok(r.rc == 0 and r.out == data, "identity in the sandbox: output equals input")
t.eq(r.res and r.res.get("end"), "exit", "identity in the sandbox: ended by exit")

# The runner's nice: a positive one (a daemon under systemd's Nice=) is
# kept for the storlet, which must still run; a negative one is not given
# to it. The storlet reports its own nice (field 19 of /proc/self/stat).
nicer = os.path.join(work, "nice.sh")
with open(nicer, "w") as f:
    f.write("#!/bin/sh\nexec 3>&-\ncat >/dev/null\n"
            "read -r s </proc/self/stat\nset -- ${s##*) }\nshift 16\necho $1\n")
os.chmod(nicer, 0o755)
for n, want in ((5, b"5"), (-5, b"0")):
    r = sbx(nicer, b"x", nice=n)
    t.ok(r.rc == 0 and r.out.strip() == want,
         "a runner at nice %d: the storlet runs at nice %s (%r)" % (n, want.decode(), r))

# the Python SDK and the services channel, in the sandbox
objects = os.path.join(work, "objects")
os.makedirs(os.path.join(objects, "c"))
with open(os.path.join(objects, "c", "o"), "wb") as f:
    f.write(data)
storlets = os.path.join(work, "storlets")
os.mkdir(storlets)
shutil.copy(lib.storlet("identity"), os.path.join(storlets, "identity"))
for d in (objects, os.path.join(objects, "c"), storlets):
    os.chmod(d, 0o755)
svc = os.path.join(work, "svc.py")
with open(svc, "w") as f:
    f.write(r'''
import hashlib, json, os
import cairn_storlet

def main(s):
    out = {"user": os.getuid(), "dir": os.environ["CAIRN_STORLET_DIR"],
           "files": sorted(os.listdir("/storlet"))}
    with s.open_object("c/o") as st:
        out["read"] = hashlib.md5(st.read()).hexdigest()
    with s.invoke("identity", "c/o") as st:
        out["invoke"] = hashlib.md5(st.read()).hexdigest()
    s.set_metadata({"Checked": "yes"})
    s.write(json.dumps(out, sort_keys=True))
''')
r = sbx(svc, b"", args=["--objects", objects, "--storlets", storlets])
got = json.loads(r.out) if r.rc == 0 else {}
t.eq((got.get("user"), got.get("dir"), got.get("files")),
     (1000, "/storlet", ["cairn_storlet.py", "svc.py"]),
     "python storlet runs as uid 1000 with its code (and the SDK) at /storlet")
t.eq(got.get("read"), hashlib.md5(data).hexdigest(), "services read works through the sandbox")
t.eq(got.get("invoke"), hashlib.md5(data).hexdigest(),
     "services invoke runs a second sandboxed storlet")
t.eq(r.meta, {"Checked": "yes"}, "output metadata crosses the sandbox")

r = sbx(lib.storlet("identity"), data, policy={"class": "user", "output_max": 1000},
        expect_ok=False)
t.eq(r.res and (r.res["end"], r.res["status"], r.res["output_bytes"]),
     ("output_cap", "aborted", 1000), "the output cap cuts the output at exactly the cap")

r = sbx(lib.storlet("concat"), b"<", params={"objects": "c/o", "storlet": "identity"},
        args=["--objects", objects, "--storlets", storlets])
t.ok(r.rc == 0 and r.out == b"<" + data, "concat (C SDK services) in the sandbox")

spin = os.path.join(work, "spin.py")
with open(spin, "w") as f:
    f.write("def main(s):\n    while True:\n        pass\n")
r = sbx(spin, b"", policy={"class": "user", "wall_ms": 500}, expect_ok=False)
t.eq(r.res and (r.res["end"], r.res["status"], r.res["reason"]),
     ("timeout", 500, "killed by the sandbox: timeout"),
     "a spinning storlet is killed at the wall clock: 500 with the reason")

extras = os.path.join(work, "extras.py")
with open(extras, "w") as f:
    f.write("def main(s):\n    s.write(b'|'.join(i.read() for i in s.inputs))\n")
ex = os.path.join(work, "ex")
with open(ex, "wb") as f:
    f.write(b"extra")
os.chmod(ex, 0o644)
r = sbx(extras, b"main", args=["--extra", ex, "--extra", ex])
t.eq(r.out, b"main|extra|extra", "extra inputs (fds 5, 6) reach a sandboxed storlet")

# every example storlet once, in the sandbox
r = sbx(lib.storlet("fixity"), data)
got = json.loads(r.out) if r.rc == 0 else {}
t.eq((got.get("md5"), got.get("sha256")),
     (hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest()),
     "fixity in the sandbox (static OpenSSL): digests equal hashlib's")
img = bytes((x ^ y) & 255 for y in range(64) for x in range(80))
r = sbx(lib.storlet("image-roi"), b"P5\n80 64\n255\n" + img,
        params={"x": 8, "y": 4, "width": 16, "height": 10})
try:
    dec = lib.png_decode(r.out)
except Exception as e:
    dec = str(e)
t.eq(dec, (16, 10, 1, [img[(4 + j) * 80 + 8:(4 + j) * 80 + 24] for j in range(10)]),
     "image-roi in the sandbox (static zlib): PNG decodes to the region")
r = sbx(lib.storlet("image-roi"), b"P5\n80 64\n255\n" + img[:100], expect_ok=False)
t.ok(r.res and r.res["exit_code"] == 65 and "truncated" in r.res["reason"],
     "image-roi in the sandbox: truncated image, exit 65 with the reason")
text = b"one fish\ntwo fish\nred fish\nblue fish\n"
r = sbx(lib.storlet("grep"), text, params={"pattern": "^(red|blue) ", "mode": "regex"})
t.eq(r.out, b"red fish\nblue fish\n", "grep in the sandbox: regex")
r = sbx(lib.storlet("wordcount"), text)
t.eq(json.loads(r.out) if r.rc == 0 else None,
     {"bytes": len(text), "chars": len(text), "lines": 4, "words": 8},
     "wordcount (Python) in the sandbox")
r = sbx(lib.storlet("deid"), b"id,name,dob,x\n1,Ann,2001,a\n2,Bo,1999,b\n")
t.eq(r.out, b"id,x\n1,a\n2,b\n", "deid (Python) in the sandbox: CSV fields dropped")
r = sbx(lib.storlet("grep"), text, expect_ok=False)
t.eq(r.res and (r.res["exit_code"], r.res["status"]), (64, 400),
     "a bad parameter in the sandbox: exit 64, 400")
# a line far over grep's 1 MiB (minified JSON, a binary blob) under a
# memory limit smaller than it: refused with the reason once 1 MiB is
# read, never read whole into memory (OOM, or a silent empty answer when
# the allocation fails)
r = sbx(lib.storlet("grep"), b"x" * (48 << 20), params={"pattern": "y"},
        policy={"class": "user", "mem_bytes": 32 << 20, "as_bytes":
                0 if SANITIZED else 64 << 20}, expect_ok=False)
t.eq(r.res and (r.res["end"], r.res["status"], r.res["reason"]),
     ("exit", 422, "line 1 is over 1048576 bytes"),
     "grep on a 48 MiB line with 32 MiB of memory: 422 with the reason")
r = sbx(lib.storlet("deid"), b"id,name\n1," + b"x" * (48 << 20) + b"\n",
        policy={"class": "user", "mem_bytes": 40 << 20}, expect_ok=False)
t.eq(r.res and (r.res["end"], r.res["status"], r.res["reason"]),
     ("exit", 422, "line 2 is over 1048576 bytes"),
     "deid on a CSV line of 48 MiB with 40 MiB of memory: 422 with the "
     "reason")

shutil.rmtree(work, ignore_errors=True)
t.done()
