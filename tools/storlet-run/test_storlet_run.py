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

t.eq(lib.run(facts, b"", params={"storlet_x": "1"}).rc, 2,
     "parameter names starting with storlet_ are refused")

# ---------------------------------------------------------------- services
objects = os.path.join(work, "objects")
os.makedirs(os.path.join(objects, "docs"))
other = bytes(rnd.getrandbits(8) for _ in range(200000))
with open(os.path.join(objects, "docs", "other"), "wb") as f:
    f.write(other)
storlets = os.path.join(work, "storlets")
os.mkdir(storlets)
shutil.copy(lib.storlet("identity"), os.path.join(storlets, "identity"))
upper = write("upper.py", r'''
import cairn_storlet

def main(s):
    s.set_metadata({"Transformed": "upper"})
    for chunk in iter(lambda: s.input.read(65536), b""):
        s.write(chunk.upper())
''')
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
r = lib.run(svc, b"")
t.ok(r.rc == 1 and "no services channel" in (r.res or {}).get("reason", ""),
     "without a services channel the SDK says so")

shutil.rmtree(work, ignore_errors=True)
t.done()
