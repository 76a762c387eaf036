#!/usr/bin/python3
# tier: quick
"""Storlets end to end on a real cluster (docs/storlets.md): deployment
checks, GET on the object node (proved by X-Storlet-Executed-On and the
node's log line), run on the proxy, PUT and COPY through a storlet with
provenance metadata, parameters from headers and the query, X-Storlet-Range,
output metadata as headers, failures before output (status and reason) and
mid-stream (the body ends abnormally), who may run what, a disabled account,
and the swift CLI's checksum check on a storlet GET."""
import hashlib
import http.client
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster, BUILD, storlet_headers, wait_for  # noqa: E402
from tap import Tap  # noqa: E402

SRC = os.environ.get("CAIRN_SRC") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")

t = Tap()


def native(main, **extra):
    return storlet_headers(main, "native", "yes", **extra)


def raw_get(p, path, headers):
    """GET that reports an abnormal end instead of raising."""
    c = http.client.HTTPConnection(p.ip, p.port, timeout=60)
    try:
        c.request("GET", path, headers=headers)
        r = c.getresponse()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        try:
            body = r.read()
            return r.status, hdrs, body, True
        except http.client.IncompleteRead as e:
            return r.status, hdrs, e.partial, False
    finally:
        c.close()


with Cluster(t) as cl:
    nodes, p = cl.storlet_cluster()
    path, tok = p.auth("test:tester")
    path2, tok2 = p.auth("test2:tester2")
    _, tok3 = p.auth("test:tester3")
    req = p.requester(tok)

    def read(name):
        with open(name, "rb") as f:
            return f.read()

    t.eq(p.enable_storlets(path, tok, ("storlet", "dependency")), 204,
         "enable the account")

    # ---- deployment
    st, _, b = req("PUT", path + "/storlet/identity",
                   body=read(os.path.join(BUILD, "storlets", "identity")),
                   headers={"X-Object-Meta-Storlet-Language": "native"})
    t.ok(st == 400 and b"Mandatory parameter is missing" in b,
         "deploying without the mandatory headers is 400 with the reason")
    st, _, b = req("PUT", path + "/storlet/x.jar", body=b"x",
                   headers=dict(native("x.jar"),
                                **{"X-Object-Meta-Storlet-Language": "java"}))
    t.ok(st == 400 and b"Unsupported Language" in b, "java is refused")
    st, _, b = req("PUT", path + "/storlet/up.py", body=b"x",
                   headers=storlet_headers("other.main", "python"))
    t.eq(st, 400, "a python main naming another module is refused")
    st, _, _ = req("PUT", path + "/dependency/lib", body=b"x")
    t.eq(st, 400, "a dependency without its version header is refused")

    for name in ("identity", "fixity", "grep"):
        st, _, _ = req("PUT", path + "/storlet/" + name,
                       body=read(os.path.join(BUILD, "storlets", name)),
                       headers=native(name))
        t.eq(st, 201, "deploy %s" % name)
    st, _, _ = req("PUT", path + "/storlet/wordcount.py",
                   body=read(os.path.join(SRC, "storlets", "wordcount",
                                          "wordcount.py")),
                   headers=storlet_headers("wordcount.main", "python"))
    t.eq(st, 201, "deploy wordcount.py")
    fail = b"#!/bin/sh\necho 'reading the input' >&2\n" \
           b"echo 'the input is not a scan' >&2\nexit 3\n"
    req("PUT", path + "/storlet/fail.sh", body=fail, headers=native("fail.sh"))
    # more than the engine's 1 MiB output pipe holds, so the output has
    # surely begun when it fails (a smaller one may sit in the pipe unread
    # when the exit is seen: then a clean 500 is the right answer)
    midfail = b"#!/bin/sh\nexec 3>&-\nhead -c 4194304 /dev/zero\n" \
              b"echo 'broke mid-way' >&2\nexit 3\n"
    req("PUT", path + "/storlet/midfail.sh", body=midfail,
        headers=native("midfail.sh"))

    data = bytes((i * 7 + (i >> 9)) & 0xff for i in range(300000))
    text = b"alpha beta\ngamma Beta\ndelta\n" * 100
    req("PUT", path + "/data")
    req("PUT", path + "/data/blob", body=data,
        headers={"X-Object-Meta-Patient": "anon-17"})
    req("PUT", path + "/data/text.txt", body=text)

    # a storlet whose main is a dependency; an updated dependency is noticed
    req("PUT", path + "/dependency/upper.sh", body=b"#!/bin/sh\nexec 3>&-\nexec tr a-z A-Z\n",
        headers={"X-Object-Meta-Storlet-Dependency-Version": "1",
                 "X-Object-Meta-Storlet-Dependency-Permissions": "0755"})
    st, _, _ = req("PUT", path + "/storlet/shout", body=b"a storlet packaged as a script",
                   headers=native("upper.sh", **{
                       "X-Object-Meta-Storlet-Dependency": "upper.sh"}))
    t.eq(st, 201, "deploy a storlet whose main is its dependency")

    # ---- an account not enabled (test2)
    req("PUT", path2 + "/storlet", token=tok2)
    req("PUT", path2 + "/c", token=tok2)
    req("PUT", path2 + "/c/o", body=b"x", token=tok2)
    st, _, b = req("PUT", path2 + "/storlet/identity", body=b"x",
                   headers=native("identity"), token=tok2)
    t.ok(st == 400 and b"Account disabled for storlets" in b,
         "an account not enabled for storlets cannot deploy one")
    st, _, b = req("GET", path2 + "/c/o", token=tok2,
                   headers={"X-Run-Storlet": "identity"})
    t.ok(st == 400 and b"Account disabled for storlets" in b,
         "nor run one")

    # ---- GET on the object node
    st, h, b, whole = raw_get(p, path + "/data/blob", {
        "X-Auth-Token": tok, "X-Run-Storlet": "identity"})
    t.eq((st, whole), (200, True), "identity GET answers 200, whole")
    t.ok(b == data, "identity output is the object, byte for byte")
    t.ok("etag" not in h, "no ETag of the stored object on a storlet GET")
    t.ok("content-length" not in h, "and no Content-Length (chunked)")
    ran = h.get("x-storlet-executed-on", "")
    t.ok(ran.split(":")[0] in ("127.0.0.1", "127.0.0.2", "127.0.0.3"),
         "it ran on an object node (%s)" % ran)
    t.eq(h.get("x-object-meta-patient"), "anon-17",
         "the object's metadata is kept")
    node = [n for n in nodes if ran.startswith("%s:%d/" % (n.ip, n.port))]
    t.ok(node and "storlet account=AUTH_test storlet=identity" in
         node[0].read_log(), "the node logged the invocation")

    st, h, b = req("GET", path + "/data/blob", headers={"X-Run-Storlet": "fixity"})
    t.eq(st, 200, "fixity GET")
    t.eq(h.get("x-object-meta-md5"), hashlib.md5(data).hexdigest(),
         "fixity's output metadata is a response header")
    t.eq(json.loads(b)["md5"] if b.startswith(b"{") else None,
         hashlib.md5(data).hexdigest(), "fixity's body names the md5")

    # parameters: header and query
    st, _, b = req("GET", path + "/data/text.txt",
                   headers={"X-Run-Storlet": "grep",
                            "X-Storlet-Parameter-1": "pattern:gamma"})
    t.eq((st, b), (200, b"gamma Beta\n" * 100), "grep with a header parameter")
    st, _, b = req("GET", path + "/data/text.txt?pattern=beta&ignore-case=true",
                   headers={"X-Run-Storlet": "grep"})
    t.eq((st, b), (200, (b"alpha beta\ngamma Beta\n") * 100),
         "grep with query parameters")
    st, _, b = req("GET", path + "/data/text.txt?pattern=x",
                   headers={"X-Run-Storlet": "grep",
                            "X-Storlet-Parameter-1": "pattern:y"})
    t.eq(st, 400, "a parameter given twice is 400")

    # dependencies
    st, _, b = req("GET", path + "/data/text.txt", headers={"X-Run-Storlet": "shout"})
    t.eq((st, b), (200, text.upper()), "a storlet runs its dependency")
    req("PUT", path + "/dependency/upper.sh", body=b"#!/bin/sh\nexec 3>&-\nexec tr a-z X\n",
        headers={"X-Object-Meta-Storlet-Dependency-Version": "2",
                 "X-Object-Meta-Storlet-Dependency-Permissions": "0755"})
    st, _, b = req("GET", path + "/data/text.txt", headers={"X-Run-Storlet": "shout"})
    t.ok(st == 200 and b == bytes(c if not (97 <= c <= 122) else 88 for c in text),
         "an updated dependency is used at once (cache keyed by ETag)")

    # ranges
    st, h, b = req("GET", path + "/data/blob",
                   headers={"X-Run-Storlet": "identity",
                            "X-Storlet-Range": "bytes=1000-1999"})
    t.eq((st, b), (200, data[1000:2000]), "X-Storlet-Range gives the slice")
    t.eq(h.get("storlet-input-range"), "bytes 1000-1999/%d" % len(data),
         "Storlet-Input-Range names it")
    st, _, _ = req("GET", path + "/data/blob",
                   headers={"X-Run-Storlet": "identity", "Range": "bytes=0-9"})
    t.eq(st, 400, "Range with X-Run-Storlet is 400")

    # python storlet
    st, h, b = req("GET", path + "/data/text.txt",
                   headers={"X-Run-Storlet": "wordcount.py"})
    t.eq(st, 200, "python wordcount GET")
    t.eq(json.loads(b).get("words") if st == 200 else None, 500,
         "wordcount counted the words")

    # ---- on the proxy
    st, h, b = req("GET", path + "/data/blob",
                   headers={"X-Run-Storlet": "identity",
                            "X-Storlet-Run-On-Proxy": ""})
    t.eq((st, h.get("x-storlet-executed-on")), (200, "proxy"),
         "X-Storlet-Run-On-Proxy runs it on the proxy")
    t.ok(b == data, "and the output is right")
    st, _, _ = req("GET", path + "/data/blob",
                   headers={"X-Run-Storlet": "identity",
                            "X-Storlet-Run-On-Proxy": "yes"})
    t.eq(st, 400, "a non-empty X-Storlet-Run-On-Proxy is 400")
    st, _, b = req("GET", path + "/data/blob",
                   headers={"X-Run-Storlet": "identity",
                            "X-Storlet-Run-On-Proxy": "",
                            "X-Storlet-Range": "bytes=10-19"})
    t.eq((st, b), (200, data[10:20]), "a range on the proxy")

    # ---- PUT through a storlet
    st, h, _ = req("PUT", path + "/data/only-gamma", body=text,
                   headers={"X-Run-Storlet": "grep",
                            "X-Storlet-Parameter-1": "pattern:gamma",
                            "X-Object-Meta-Owner": "lab"})
    t.eq(st, 201, "PUT through grep")
    want = b"gamma Beta\n" * 100
    t.eq(h.get("etag"), hashlib.md5(want).hexdigest(),
         "the ETag is the MD5 of what was stored")
    st, h, b = req("GET", path + "/data/only-gamma")
    t.eq(b, want, "the stored object is the storlet's output")
    t.eq(h.get("x-object-meta-owner"), "lab", "the request's metadata is kept")
    t.eq(h.get("x-object-meta-storlet-generated-by"), "grep",
         "provenance: the storlet")
    _, sh, _ = req("HEAD", path + "/storlet/grep")
    t.eq(h.get("x-object-meta-storlet-generated-by-etag"), sh.get("etag"),
         "provenance: its version (ETag)")
    t.eq(h.get("x-object-meta-storlet-generated-params"), '{"pattern":"gamma"}',
         "provenance: the parameters")

    # ---- COPY through a storlet (runs on the object node)
    st, h, _ = req("PUT", path + "/data/digest", body=b"",
                   headers={"X-Copy-From": "data/blob",
                            "X-Run-Storlet": "fixity"})
    t.eq(st, 201, "PUT with X-Copy-From through fixity")
    t.eq(h.get("x-storlet-generated-from"), "data/blob",
         "the answer names the source")
    st, h, b = req("GET", path + "/data/digest")
    t.ok(st == 200 and json.loads(b)["md5"] == hashlib.md5(data).hexdigest(),
         "the copy holds the storlet's output")
    t.eq(h.get("x-object-meta-storlet-generated-from"), "data/blob",
         "provenance: the source object")
    t.eq(h.get("x-object-meta-storlet-generated-from-etag"),
         hashlib.md5(data).hexdigest(), "provenance: the source's ETag")
    t.eq(h.get("x-object-meta-md5"), hashlib.md5(data).hexdigest(),
         "the output metadata was stored")
    st, h, _ = p.request("COPY", path + "/data/text.txt", headers={
        "X-Auth-Token": tok, "Destination": "data/copy-proxy",
        "X-Run-Storlet": "grep", "X-Storlet-Parameter-1": "pattern:delta",
        "X-Storlet-Run-On-Proxy": ""})
    t.eq(st, 201, "COPY through grep on the proxy")
    st, _, b = req("GET", path + "/data/copy-proxy")
    t.eq(b, b"delta\n" * 100, "the COPY stored the output")

    # ---- failures
    cl.expect_log(r"storlet .*(fail|midfail)")
    st, _, b = req("GET", path + "/data/blob", headers={"X-Run-Storlet": "fail.sh"})
    t.ok(st == 500 and b"the input is not a scan" in b,
         "a failure before output is 500 with the storlet's reason")
    st, _, b, whole = raw_get(p, path + "/data/blob", {
        "X-Auth-Token": tok, "X-Run-Storlet": "midfail.sh"})
    t.ok(st == 200 and not whole,
         "a failure mid-stream ends the body abnormally (%d bytes)" % len(b))
    st, _, _ = req("PUT", path + "/data/never", body=text,
                   headers={"X-Run-Storlet": "midfail.sh"})
    t.eq(st, 500, "a PUT whose storlet fails mid-way answers 500")
    st, _, _ = req("HEAD", path + "/data/never")
    t.eq(st, 404, "and stores nothing")
    # the log, when asked for
    req("PUT", path + "/storletlog")
    st, h, _ = req("GET", path + "/data/blob",
                   headers={"X-Run-Storlet": "fail.sh",
                            "X-Storlet-Generate-Log": "True"})
    logname = "fail.sh.%s.log" % h.get("x-trans-id", "")

    def log_there():
        st, _, b = req("GET", path + "/storletlog/" + logname)
        return b if st == 200 else None
    try:
        got = wait_for(log_there, 30, "the storlet log")
    except TimeoutError:
        got = None
    t.ok(got is not None and b"the input is not a scan" in got,
         "X-Storlet-Generate-Log stores the log in storletlog")

    st, _, b = req("GET", path + "/data/blob", headers={"X-Run-Storlet": "nothere"})
    t.ok(st == 401 and b"Failed to verify access" in b,
         "a missing storlet is 401")

    # ---- who may run what
    req("POST", path + "/data", headers={"X-Container-Read": "test:tester3"})
    st, _, b = req("GET", path + "/data/blob", token=tok3,
                   headers={"X-Run-Storlet": "identity"})
    t.eq(st, 401, "a reader of the data who may not read the storlet: 401")
    req("POST", path + "/storlet", headers={"X-Container-Read": "test:tester3"})
    st, _, b = req("GET", path + "/data/blob", token=tok3,
                   headers={"X-Run-Storlet": "identity"})
    t.ok(st == 200 and b == data, "allowed to read the storlet too: 200")
    st, _, _ = req("GET", path + "/data/blob", token=tok2,
                   headers={"X-Run-Storlet": "identity"})
    t.eq(st, 403, "a user who may not read the data: 403")

    # ---- the swift CLI's checksum check
    env = dict(os.environ)
    env.pop("OS_AUTH_TOKEN", None)
    out = os.path.join(cl.dir, "dl")
    r = subprocess.run(
        ["/usr/bin/python3", "/usr/bin/swift", "-A",
         "http://%s:%d/auth/v1.0" % (p.ip, p.port), "-U", "test:tester",
         "-K", "testing", "download", "data", "blob", "-o", out,
         "--header", "X-Run-Storlet: fixity"],
        capture_output=True, text=True, env=env, timeout=120)
    t.ok(r.returncode == 0, "swift download with X-Run-Storlet: fixity passes "
         "its checks")
    if r.returncode != 0:
        t.diag(r.stdout + r.stderr)
    t.ok(os.path.exists(out) and json.loads(read(out))["md5"] ==
         hashlib.md5(data).hexdigest(), "and wrote the storlet's output")

t.done()
