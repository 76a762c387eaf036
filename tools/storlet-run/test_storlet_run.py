#!/usr/bin/python3
# tier: quick
"""cairn-storlet-run and the storlet ABI, without the sandbox.

Runs the example storlets (storlets/) and small test storlets written here
through cairn-storlet-run as plain processes, and checks outputs exactly:
identity returns its input byte for byte (whole and ranged); the Python SDK
sees parameters, metadata and request facts and sends output metadata; the
error paths give the exit code, status and reason docs/storlets.md
promises (bad parameter -> 400 with the reason, failure after output ->
aborted, output without metadata -> protocol error); the services channel
reads another object and invokes another storlet.
The same storlets inside the real sandbox: test_storlet_sandbox.py.
"""
import atexit
import hashlib
import json
import os
import random
import shutil
import stat
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.environ.get("CAIRN_SRC", "."), "test", "lib"))
from tap import Tap  # noqa: E402
import storlet_test_lib as lib  # noqa: E402

t = Tap()
rnd = random.Random(6)
work = tempfile.mkdtemp(prefix="cairn-st-run-")
atexit.register(shutil.rmtree, work, True)  # also when a check crashes


def write(name, text, mode=0o644):
    p = os.path.join(work, name)
    with open(p, "w") as f:
        f.write(text)
    os.chmod(p, mode)
    return p


# ---------------------------------------------------------------- identity
data = bytes(rnd.getrandbits(8) for _ in range(300000))
r = lib.run(lib.storlet("identity"), data)
t.eq(r.rc, 0, "identity exits 0")
t.ok(r.out == data, "identity: output equals 300000 random input bytes")
t.eq(r.res and r.res["status"], 200, "identity: the engine would answer 200")
t.eq(r.meta, {}, "identity: no output metadata")
r = lib.run(lib.storlet("identity"), b"")
t.ok(r.rc == 0 and r.out == b"", "identity of an empty object is empty")
r = lib.run(lib.storlet("identity"), data, args=["--range", "1000-70999"])
t.ok(r.rc == 0 and r.out == data[1000:71000], "identity with --range gives exactly the range")
r = lib.run(lib.storlet("identity"), data[:10], args=["--range", "5-100"])
t.ok(r.rc == 0 and r.out == data[5:10], "a range past the end is cut at the end")

# ---------------------------------------------------------------- the Python SDK
facts = write("facts.py", r'''
import json
import cairn_storlet

def main(s):
    s.log("facts storlet starting")
    s.set_metadata({"Param-Count": str(len(s.params))})
    s.set_content_type("application/json")
    body = s.input.read()
    s.write(json.dumps({"params": s.params, "meta": s.metadata,
                        "method": s.request["method"], "object": s.request["object"],
                        "account": s.request["account"], "user": s.caller["user"],
                        "len": len(body), "range": s.request["range"],
                        "content_length": s.input.info["content_length"],
                        "storlet": s.doc["storlet"]["name"], "limits": sorted(s.limits),
                        "tmpdir_writable": __import__("os").access(
                            __import__("os").environ["TMPDIR"], __import__("os").W_OK)},
                       sort_keys=True))
''')
r = lib.run(facts, b"0123456789", params={"a": "1", "b": "x=y:z"}, meta={"Color": "blue"},
            args=["--path", "AUTH_t/cont/obj/with/slash", "--method", "PUT", "--user", "t:u"])
t.eq(r.rc, 0, "python storlet exits 0")
got = json.loads(r.out) if r.rc == 0 else {}
t.eq(got.get("params"), {"a": "1", "b": "x=y:z"}, "parameters reach the storlet (value may hold = and :)")
t.eq(got.get("meta"), {"Color": "blue"}, "the object's metadata reaches the storlet")
t.eq((got.get("method"), got.get("account"), got.get("object"), got.get("user")),
     ("PUT", "AUTH_t", "obj/with/slash", "t:u"), "request facts and caller reach the storlet")
t.eq((got.get("len"), got.get("content_length"), got.get("range")), (10, 10, None),
     "input length and content_length agree")
t.eq(got.get("storlet"), "facts.py", "the storlet's own name is in the document")
t.eq(got.get("limits"), sorted(["wall_ms", "idle_ms", "output_max", "memory_bytes",
                                "scratch_bytes", "cpu_seconds", "pids_max"]), "limits are listed")
t.ok(got.get("tmpdir_writable") is True, "TMPDIR is writable scratch")
t.eq(r.meta, {"Param-Count": "2"}, "output metadata comes back")
t.eq(r.res and r.res["content_type"], "application/json", "content type comes back")
t.ok("facts storlet starting" in r.log, "the log is captured")
r = lib.run(facts, b"abcdefghij", args=["--range", "2-4"])
got = json.loads(r.out) if r.rc == 0 else {}
t.eq((got.get("len"), got.get("content_length"), got.get("range")),
     (3, 3, {"first": 2, "last": 4, "size": 10}), "a ranged input is described in request.range")

extras = write("extras.py", r"""
import hashlib, json
import cairn_storlet

def main(s):
    s.write(json.dumps([[i.info["fd"], i.path, i.info["content_length"],
                         hashlib.md5(i.read()).hexdigest()] for i in s.inputs]))
""")
ex1, ex2 = os.path.join(work, "ex1"), os.path.join(work, "ex2")
with open(ex1, "wb") as f:
    f.write(b"first extra")
with open(ex2, "wb") as f:
    f.write(data[:70000])
r = lib.run(extras, b"main", args=["--extra", ex1, "--extra", ex2])
t.eq(json.loads(r.out) if r.rc == 0 else r.log,
     [[0, "dev/input", 4, hashlib.md5(b"main").hexdigest()],
      [5, "dev/ex1", 11, hashlib.md5(b"first extra").hexdigest()],
      [6, "dev/ex2", 70000, hashlib.md5(data[:70000]).hexdigest()]],
     "extra inputs arrive on fds 5 and 6, described in inputs[]")

# ---------------------------------------------------------------- error paths
badparam = write("badparam.py", r'''
import cairn_storlet

def main(s):
    s.param_int("count", minimum=1)
    s.write(b"never")
''')
r = lib.run(badparam, b"x", params={"count": "many"})
t.eq(r.rc, 1, "a rejected parameter makes the runner exit 1")
t.eq(r.res and (r.res["exit_code"], r.res["status"]), (64, 400), "bad parameter: exit 64, 400")
t.ok(r.res and "count" in (r.res["reason"] or ""), "the reason names the parameter")
t.eq(r.out, b"", "no output after a rejected parameter")
t.ok("error: parameter count" in r.log, "the reason is in the log too")

midway = write("midway.py", r'''
import cairn_storlet

def main(s):
    s.write(b"x" * 100000)
    s.flush()
    raise RuntimeError("disk on fire")
''')
r = lib.run(midway, b"")
t.eq(r.res and (r.res["exit_code"], r.res["status"]), (1, "aborted"),
     "failure after output: the response would end abnormally")
t.ok(r.res and "disk on fire" in r.res["reason"], "an exception becomes the reason")
t.ok("Traceback" in r.log, "the traceback is in the log")

nometa = write("nometa.sh", "#!/bin/sh\nexec 3>&-\nexec cat\n", 0o755)
r = lib.run(nometa, data)
t.eq(r.res and (r.res["ok"], r.res["status"], r.meta), (True, 200, {}),
     "a storlet that closes fd 3 without a frame has empty metadata")
t.ok(r.out == data, "... and its output is taken (a shell identity)")

twice = write("twice.py", r'''
import cairn_storlet

def main(s):
    s.send_metadata()
    s._meta_sent = False
    s.send_metadata()
''')
r = lib.run(twice, b"")
t.ok(r.res and r.res["status"] == 500 and "sent twice" in (r.res["reason"] or ""),
     "a second metadata frame is a protocol error")

native_fail = write("fail.sh", "#!/bin/sh\necho 'cannot parse header' >&2\nexit 65\n", 0o755)
r = lib.run(native_fail, b"")
t.eq(r.res and (r.res["exit_code"], r.res["status"], r.res["reason"]),
     (65, 422, "cannot parse header"), "without an error frame the last log line is the reason")

spin = write("spin.py", "def main(s):\n    while True:\n        pass\n")
r = lib.run(spin, b"", policy={"wall_ms": 300})
t.eq(r.res and (r.res["end"], r.res["status"], r.res["reason"]),
     ("timeout", 500, "killed by the sandbox: timeout"),
     "plain runs keep the policy's wall clock: a spinning storlet is killed, 500")
r = lib.run(lib.storlet("identity"), data, policy={"output_max": 4097})
t.eq(r.res and (r.res["end"], r.res["status"], r.res["output_bytes"], len(r.out)),
     ("output_cap", "aborted", 4097, 4097), "plain runs cut the output at the policy's cap")
t.eq(lib.run(facts, b"", params={"storlet_x": "1"}).rc, 2,
     "parameter names starting with storlet_ are refused")

upper = write("upper.py", r'''
import cairn_storlet

def main(s):
    s.set_metadata({"Transformed": "upper"})
    for chunk in iter(lambda: s.input.read(65536), b""):
        s.write(chunk.upper())
''')

# ---------------------------------------------------------------- the Python SDK alone
# Started by hand (not by the runner), with a socket at fd 3 carrying what
# a broken engine would send: the SDK must refuse with exit 70.
import socket  # noqa: E402
import struct  # noqa: E402
import subprocess  # noqa: E402
SDK = os.path.join(lib.SRC, "storlets", "sdk", "cairn_storlet.py")
pydir = os.path.join(work, "pysdk")
os.mkdir(pydir)
shutil.copy(SDK, os.path.join(pydir, "cairn_storlet.py"))
shutil.copy(upper, os.path.join(pydir, "upper.py"))


def raw_python(frame, with_fd3=True):
    a, b = socket.socketpair()
    if frame is not None:
        a.sendall(frame)
    a.shutdown(socket.SHUT_WR)

    def setup():
        if with_fd3:
            os.dup2(b.fileno(), 3)
    p = subprocess.run(["/usr/bin/python3", "-I", "-B", os.path.join(pydir, "cairn_storlet.py"),
                        "upper.main"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, pass_fds=(b.fileno(), 3) if with_fd3 else (),
                       preexec_fn=setup, timeout=60)
    b.close()
    got = b""
    while True:
        chunk = a.recv(65536)
        if not chunk:
            break
        got += chunk
    a.close()
    return p.returncode, p.stderr.decode(errors="replace"), got


def frame(obj):
    body = json.dumps(obj).encode() if not isinstance(obj, bytes) else obj
    return struct.pack(">I", len(body)) + body


good = {"type": "invocation", "interface_version": "1.0", "parameters": {},
        "inputs": [{"fd": 0}]}
rc, err, back = raw_python(frame(good))
t.eq((rc, back[4:]), (0, b'{"type":"metadata","metadata":{"Transformed":"upper"}}'),
     "python SDK by hand: a good document, the metadata frame back, exit 0")
for name, fr in [("wrong version", frame(dict(good, interface_version="9.9"))),
                 ("not an object", frame([1])), ("duplicate keys", frame(b'{"a":1,"a":2}')),
                 ("no parameters", frame({k: v for k, v in good.items() if k != "parameters"})),
                 ("length 0", struct.pack(">I", 0)), ("cut short", struct.pack(">I", 99) + b"{"),
                 ("over 1 MiB", struct.pack(">I", (1 << 20) + 1))]:
    rc, err, back = raw_python(fr)
    ok = rc == 70 and b'"type":"error"' in back and "error: invocation document" in err
    t.ok(ok, "python SDK refuses a bad document (%s): exit 70, error frame, log" % name)
    if not ok:
        t.diag("rc=%r err=%r back=%r" % (rc, err[-300:], back))
rc, err, back = raw_python(None, with_fd3=False)
t.ok(rc == 70 and "not started by a storlet engine" in err,
     "python SDK without fd 3 says it was not started by an engine")
r = lib.run(upper, b"", args=["--main", "upper.nothere"])
t.ok(r.res and r.res["exit_code"] == 70 and "upper.nothere" in r.res["reason"],
     "a Python Main that names no function: exit 70 naming it")

# ---------------------------------------------------------------- services
objects = os.path.join(work, "objects")
os.makedirs(os.path.join(objects, "docs"))
other = bytes(rnd.getrandbits(8) for _ in range(200000))
with open(os.path.join(objects, "docs", "other"), "wb") as f:
    f.write(other)
storlets = os.path.join(work, "storlets")
os.mkdir(storlets)
shutil.copy(lib.storlet("identity"), os.path.join(storlets, "identity"))
shutil.copy(upper, os.path.join(storlets, "upper.py"))
with open(os.path.join(objects, "docs", "text"), "wb") as f:
    f.write(b"hello services\n" * 1000)
svc = write("svc.py", r'''
import hashlib
import cairn_storlet

def main(s):
    out = {}
    with s.open_object("docs/other") as st:
        out["other_md5"] = hashlib.md5(st.read()).hexdigest()
        out["other_len"] = st.reply["content_length"]
    with s.open_object("/AUTH_dev/docs/other", range="bytes=10-19") as st:
        out["range"] = st.read().hex()
    try:
        s.open_object("docs/missing")
    except cairn_storlet.ServiceError as e:
        out["missing"] = e.status
    try:
        s.open_object("/AUTH_other/docs/other")
    except cairn_storlet.ServiceError as e:
        out["other_account"] = e.status
    with s.invoke("upper.py", "docs/text") as st:
        out["upper_meta"] = st.metadata
        out["upper_md5"] = hashlib.md5(st.read()).hexdigest()
    with s.invoke("identity", "docs/other") as st:
        out["identity_md5"] = hashlib.md5(st.read()).hexdigest()
    import json
    s.write(json.dumps(out, sort_keys=True))
''')
r = lib.run(svc, b"", args=["--objects", objects, "--storlets", storlets])
got = json.loads(r.out) if r.rc == 0 else {}
if r.rc != 0:
    t.diag(repr(r))
t.eq(got.get("other_md5"), hashlib.md5(other).hexdigest(), "services read: another object, whole")
t.eq(got.get("other_len"), len(other), "services read: content_length in the reply")
t.eq(got.get("range"), other[10:20].hex(), "services read with a range")
t.eq(got.get("missing"), 404, "services read of a missing object: 404")
t.eq(got.get("other_account"), 403, "services read in another account: 403")
t.eq(got.get("upper_meta"), {"Transformed": "upper"}, "services invoke: the storlet's metadata")
t.eq(got.get("upper_md5"), hashlib.md5(b"HELLO SERVICES\n" * 1000).hexdigest(),
     "services invoke: the storlet's output (Python storlet)")
t.eq(got.get("identity_md5"), hashlib.md5(other).hexdigest(),
     "services invoke: the storlet's output (C storlet)")
# the C SDK's services calls, through the concat example
svcargs = ["--objects", objects, "--storlets", storlets]
with open(os.path.join(storlets, "halfway.py"), "w") as f:
    f.write("import cairn_storlet\n\ndef main(s):\n    s.write(b'part' * 50000)\n"
            "    s.flush()\n    raise RuntimeError('gave up halfway')\n")
r = lib.run(lib.storlet("concat"), b"head:", params={"objects": "docs/other,/AUTH_dev/docs/text"},
            args=svcargs)
t.eq(r.out, b"head:" + other + b"hello services\n" * 1000,
     "concat (C SDK services read): input then two objects, byte for byte")
t.eq(r.meta, {"Parts": "3"}, "concat: Parts metadata")
r = lib.run(lib.storlet("concat"), b"ignored",
            params={"objects": "docs/text,docs/text", "storlet": "upper.py", "skip-input": "true"},
            args=svcargs)
t.eq(r.out, b"HELLO SERVICES\n" * 2000, "concat (C SDK services invoke): another storlet's output")
r = lib.run(lib.storlet("concat"), b"", params={"objects": "docs/nope", "skip-input": "true"},
            args=svcargs)
t.ok(r.res and r.res["status"] == 500 and "docs/nope: 404" in r.res["reason"]
     and r.out == b"", "concat: a missing part fails before output with 500 and the 404")
r = lib.run(lib.storlet("concat"), b"x", params={"objects": "docs/text,docs/nope"}, args=svcargs)
t.ok(r.res and r.res["status"] == "aborted" and "404" in r.res["reason"],
     "concat: a missing later part aborts the response (never a short 200)")
r = lib.run(lib.storlet("concat"), b"", params={"objects": "docs/text", "storlet": "halfway.py",
                                                "skip-input": "true"}, args=svcargs)
t.ok(r.res and r.res["status"] == "aborted" and "ended short" in r.res["reason"],
     "concat: an invoked storlet failing mid-stream is seen as a short stream")
r = lib.run(lib.storlet("concat"), b"", params={"objects": "../x"}, args=svcargs)
t.ok(r.res and r.res["status"] == 400, "concat: a bad path is a 400")

r = lib.run(svc, b"")
t.ok(r.rc == 1 and "no services channel" in (r.res or {}).get("reason", ""),
     "without a services channel the SDK says so")

# ---------------------------------------------------------------- fixity
big = bytes(rnd.getrandbits(8) for _ in range(1 << 20))
r = lib.run(lib.storlet("fixity"), big)
got = json.loads(r.out) if r.rc == 0 else {}
want = {"bytes": len(big), "fixity": "computed", "md5": hashlib.md5(big).hexdigest(),
        "sha256": hashlib.sha256(big).hexdigest()}
t.eq(got, want, "fixity: md5 and sha256 of 1 MiB equal hashlib's")
t.eq(r.meta, {"Fixity": "computed", "Md5": want["md5"], "Sha256": want["sha256"]},
     "fixity: digests as output metadata")
r = lib.run(lib.storlet("fixity"), big, params={"algorithms": "sha1, SHA512"})
got = json.loads(r.out) if r.rc == 0 else {}
t.eq((got.get("sha1"), got.get("sha512"), "md5" in got),
     (hashlib.sha1(big).hexdigest(), hashlib.sha512(big).hexdigest(), False),
     "fixity: algorithms chooses sha1 and sha512 only")
r = lib.run(lib.storlet("fixity"), big, meta={"Sha256": want["sha256"].upper()})
t.eq(r.meta and r.meta.get("Fixity"), "ok", "fixity: a stored sha256 that matches: ok")
r = lib.run(lib.storlet("fixity"), big, meta={"MD5": "0" * 32})
got = json.loads(r.out) if r.rc == 0 else {}
t.eq((got.get("fixity"), got.get("verified")), ("mismatch", {"md5": False}),
     "fixity: a stored md5 that differs: mismatch")
r = lib.run(lib.storlet("fixity"), b"", params={"algorithms": "crc32"})
t.ok(r.res and r.res["status"] == 400 and "crc32" in r.res["reason"],
     "fixity: an unknown algorithm is a 400 naming it")
r = lib.run(lib.storlet("fixity"), b"")
t.eq(json.loads(r.out).get("md5") if r.rc == 0 else None, hashlib.md5(b"").hexdigest(),
     "fixity of an empty object")

# ---------------------------------------------------------------- image-roi


def pnm(kind, w, h, maxval, pixels, comment=True):
    head = b"P%d\n" % kind + (b"# made by the test\n" if comment else b"") + \
        b"%d %d\n%d\n" % (w, h, maxval)
    return head + pixels


def grey(w, h):
    return bytes((x * 7 + y * 13) & 255 for y in range(h) for x in range(w))


def crop(pixels, w, ch, bps, x, y, cw, chh):
    stride = w * ch * bps
    return [pixels[(y + r) * stride + x * ch * bps:(y + r) * stride + (x + cw) * ch * bps]
            for r in range(chh)]


img = grey(300, 200)
r = lib.run(lib.storlet("image-roi"), pnm(5, 300, 200, 255, img),
            params={"x": 17, "y": 33, "width": 120, "height": 90})
try:
    dec = lib.png_decode(r.out)
except Exception as e:
    dec = str(e)
t.eq(dec, (120, 90, 1, crop(img, 300, 1, 1, 17, 33, 120, 90)),
     "image-roi: P5 crop decodes to exactly the region's pixels")
t.eq((r.res or {}).get("content_type"), "image/png", "image-roi: content type image/png")
t.eq(r.meta, {"Roi": "17,33,120,90", "Source-Size": "300x200", "Source-Format": "P5"},
     "image-roi: output metadata")
rgb = bytes(rnd.getrandbits(8) for _ in range(640 * 480 * 3))
r = lib.run(lib.storlet("image-roi"), pnm(6, 640, 480, 255, rgb, comment=False),
            params={"x": 0, "y": 100, "level": 1})
try:
    dec = lib.png_decode(r.out)
except Exception as e:
    dec = str(e)
t.ok(dec == (640, 380, 3, crop(rgb, 640, 3, 1, 0, 100, 640, 380)),
     "image-roi: P6 noise, region to the edges, many IDAT chunks, decodes exactly")
t.ok(r.out.count(b"IDAT") > 2, "image-roi: the PNG is written in several IDAT chunks")
deep = bytes(b for v in ((x * 37 + y) % 4096 for y in range(50) for x in range(40))
             for b in (v >> 8, v & 255))
r = lib.run(lib.storlet("image-roi"), pnm(5, 40, 50, 4095, deep),
            params={"x": 5, "y": 6, "width": 7, "height": 8})
try:
    dec = lib.png_decode(r.out)
except Exception as e:
    dec = str(e)
want_rows = []
for row in crop(deep, 40, 1, 2, 5, 6, 7, 8):
    vals = [(row[i] << 8 | row[i + 1]) for i in range(0, len(row), 2)]
    want_rows.append(b"".join(((v * 65535 + 2047) // 4095).to_bytes(2, "big") for v in vals))
t.eq(dec, (7, 8, 1, want_rows), "image-roi: 16-bit P5 (maxval 4095) scaled into a 16-bit PNG")
r = lib.run(lib.storlet("image-roi"), pnm(6, 30, 20, 255, rgb[:1800]),
            params={"x": 3, "y": 4, "width": 5, "height": 6, "format": "pnm"})
t.eq(r.out, b"P6\n5 6\n255\n" + b"".join(crop(rgb[:1800], 30, 3, 1, 3, 4, 5, 6)),
     "image-roi: format=pnm gives the region as a P6")
r = lib.run(lib.storlet("image-roi"), pnm(5, 300, 200, 255, img),
            params={"x": 250, "width": 100})
t.ok(r.res and r.res["status"] == 400 and "does not fit" in r.res["reason"],
     "image-roi: a region outside the image is a 400 with the reason")
r = lib.run(lib.storlet("image-roi"), pnm(5, 300, 200, 255, img[:300 * 150 + 10]))
t.ok(r.res and r.res["exit_code"] == 65 and "truncated image" in r.res["reason"]
     and r.res["status"] in (422, "aborted"), "image-roi: a truncated image fails with exit 65")
r = lib.run(lib.storlet("image-roi"), pnm(5, 300, 200, 255, img[:300 * 10]),
            params={"height": 50})
t.eq(r.res and (r.res["status"], r.res["output_bytes"]), (422, 0),
     "image-roi: truncated before the first IDAT fills: 422 and no output")
r = lib.run(lib.storlet("image-roi"), b"P3\n2 2\n255\n1 2 3 4\n")
t.ok(r.res and r.res["status"] == 422 and "P5 or P6" in r.res["reason"],
     "image-roi: an ASCII PNM is refused with 422")
r = lib.run(lib.storlet("image-roi"), pnm(5, 3, 3, 255, bytes(9)), params={"x": "-1"})
t.eq(r.res and r.res["status"], 400, "image-roi: a negative coordinate is a 400")

# ---------------------------------------------------------------- grep
words_ = ["alpha", "Beta", "gamma", "delta", "Alphabet", "zeta", "eta", "théta"]
text = "".join(" ".join(rnd.choice(words_) for _ in range(rnd.randint(0, 6))) + "\n"
               for _ in range(5000)).encode()
lines_ = text.splitlines(keepends=True)
r = lib.run(lib.storlet("grep"), text, params={"pattern": "alpha"})
t.eq(r.out, b"".join(x for x in lines_ if b"alpha" in x), "grep: fixed string")
r = lib.run(lib.storlet("grep"), text, params={"pattern": "ALPHA", "ignore-case": "true"})
t.eq(r.out, b"".join(x for x in lines_ if b"alpha" in x.lower()), "grep: ignore-case")
r = lib.run(lib.storlet("grep"), text, params={"pattern": "^(eta|zeta)( |$)", "mode": "regex"})
import re  # noqa: E402
rx = re.compile(rb"^(eta|zeta)( |$)")
t.eq(r.out, b"".join(x for x in lines_ if rx.search(x.rstrip(b"\n"))), "grep: POSIX regex")
r = lib.run(lib.storlet("grep"), text, params={"pattern": "a", "invert": "yes",
                                                "line-number": "true"})
t.eq(r.out, b"".join(b"%d:%s" % (i, x) for i, x in enumerate(lines_, 1) if b"a" not in x),
     "grep: invert with line numbers")
r = lib.run(lib.storlet("grep"), text, params={"pattern": "théta", "count": "true"})
n = sum(1 for x in lines_ if "théta".encode() in x)
t.eq((r.out, r.meta and r.meta.get("Matches")), (b"%d\n" % n, str(n)), "grep: count, UTF-8 pattern")
# -o - is stdout, as the usage says, never a file called "-"
with open(os.path.join(work, "grep-in"), "wb") as f:
    f.write(text)
p = subprocess.run([lib.RUNNER, "-o", "-", "-p", "pattern=alpha", lib.storlet("grep"),
                    "grep-in"], cwd=work, capture_output=True, timeout=60)
t.ok(p.returncode == 0 and p.stdout == b"".join(x for x in lines_ if b"alpha" in x) and
     not os.path.exists(os.path.join(work, "-")), "grep: -o - writes the output to stdout")
r = lib.run(lib.storlet("grep"), b"no newline at end", params={"pattern": "end"})
t.eq(r.out, b"no newline at end", "grep: a last line without newline stays so")
r = lib.run(lib.storlet("grep"), text, params={"pattern": "(", "mode": "regex"})
t.ok(r.res and r.res["status"] == 400 and "regular expression" in r.res["reason"],
     "grep: an invalid regex is a 400")
r = lib.run(lib.storlet("grep"), text)
t.ok(r.res and r.res["status"] == 400 and "pattern" in r.res["reason"],
     "grep: a missing pattern is a 400")

# ---------------------------------------------------------------- wordcount
import subprocess  # noqa: E402
wtext = ("".join(rnd.choice(["word", "ünï", "  ", "\t", "\n", "x", "ab\r\n", "\v"])
                 for _ in range(60000))).encode()
r = lib.run(lib.storlet("wordcount"), wtext)
got = json.loads(r.out) if r.rc == 0 else {}
wc = subprocess.run(["wc", "-l", "-w", "-c"], input=wtext, stdout=subprocess.PIPE,
                    env={"LC_ALL": "C"}).stdout.split()
t.eq([got.get("lines"), got.get("words"), got.get("bytes")], [int(v) for v in wc[:3]],
     "wordcount: lines, words, bytes equal wc's in the C locale (%d bytes)" % len(wtext))
t.eq(got.get("chars"), len(wtext.decode()), "wordcount: chars are UTF-8 characters")
t.eq(r.meta, {"Lines": str(got.get("lines")), "Words": str(got.get("words")),
              "Bytes": str(len(wtext)), "Chars": str(got.get("chars"))},
     "wordcount: counts as output metadata")
r = lib.run(lib.storlet("wordcount"), b"")
t.eq(json.loads(r.out) if r.rc == 0 else None, {"bytes": 0, "chars": 0, "lines": 0, "words": 0},
     "wordcount of an empty object")

# ---------------------------------------------------------------- deid
import csv as csvmod  # noqa: E402
rows = [["id", "Patient_Name", "dob", "diagnosis", "note"]]
for i in range(3000):
    rows.append([str(i), "Name, %d" % i, "19%02d-01-02" % (i % 100), rnd.choice(["flu", "cold"]),
                 rnd.choice(["", "said \"ok\"", "two\nlines"])])
buf = io_ = __import__("io").StringIO()
csvmod.writer(buf, lineterminator="\n").writerows(rows)
csv_in = buf.getvalue().encode()


def csv_of(rs):
    b = __import__("io").StringIO()
    csvmod.writer(b, lineterminator="\n").writerows(rs)
    return b.getvalue().encode()


r = lib.run(lib.storlet("deid"), csv_in, args=["--path", "AUTH_dev/c/records.csv"])
t.eq(r.out, csv_of([[x[0], x[3], x[4]] for x in rows]),
     "deid: CSV, default fields dropped (case-insensitive), other columns byte for byte")
t.eq(r.meta and r.meta.get("Deid-Format"), "csv", "deid: format from the object name")
r = lib.run(lib.storlet("deid"), csv_in, params={"mode": "mask", "fields": "dob,note",
                                                  "mask": "X"})
t.eq(r.out, csv_of([rows[0]] + [[x[0], x[1], "X", x[3], "X"] for x in rows[1:]]),
     "deid: CSV mask of chosen fields")
r = lib.run(lib.storlet("deid"), csv_in, params={"mode": "hash", "salt": "pepper",
                                                  "fields": "patient_name"})
hashed = [list(x) for x in csvmod.reader(__import__("io").StringIO(r.out.decode()))]
t.eq(hashed[1][1], hashlib.sha256(b"pepperName, 0").hexdigest()[:16],
     "deid: hash mode is sha256(salt + value), 16 hex digits")
t.ok(len(hashed) == len(rows) and all(h[0] == x[0] and h[3] == x[3]
                                      for h, x in zip(hashed[1:], rows[1:])),
     "deid: hash mode keeps every other field")
recs = [{"patient": {"name": "A%d" % i, "birth_date": "2000", "scans": [{"ssn": 1, "mm": i}]},
         "ID": i, "result": [1.5, None, True, "x"]} for i in range(500)]


def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if k.lower() not in ("name", "birth_date", "ssn")}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v


r = lib.run(lib.storlet("deid"), json.dumps(recs).encode(), params={"format": "json"})
t.eq(json.loads(r.out) if r.rc == 0 else r.log, [strip(x) for x in recs],
     "deid: JSON array, nested fields dropped at any depth, the rest kept")
r = lib.run(lib.storlet("deid"), "".join(json.dumps(x) + "\n" for x in recs).encode(),
            args=["--content-type", "application/x-ndjson"])
t.eq([json.loads(x) for x in r.out.splitlines()], [strip(x) for x in recs],
     "deid: JSON lines, format from the content type")
r = lib.run(lib.storlet("deid"), b'[{"name": "a"}, {"name": ', params={"format": "json"})
t.ok(r.res and r.res["exit_code"] == 65 and "JSON" in r.res["reason"],
     "deid: a JSON array cut short fails with exit 65")
r = lib.run(lib.storlet("deid"), csv_in, params={"mode": "shred"})
t.ok(r.res and r.res["status"] == 400 and "mode" in r.res["reason"], "deid: a bad mode is a 400")
r = lib.run(lib.storlet("deid"), b"a,b\n1,2,3\n")
t.ok(r.res and r.res["exit_code"] == 65 and "record 2" in r.res["reason"],
     "deid: a CSV row with the wrong field count fails with exit 65")

shutil.rmtree(work, ignore_errors=True)
t.done()
