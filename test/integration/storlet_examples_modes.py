#!/usr/bin/python3
# tier: quick
"""Every invocation mode of docs/storlets.md section 2 through the proxy,
with the real curl binary and the real swift CLI, outputs and stored
objects compared byte for byte with ones computed here:

- GET on the object node and with X-Storlet-Run-On-Proxy (curl `-H
  'X-Storlet-Run-On-Proxy;'`, swift `--header 'X-Storlet-Run-On-Proxy:'`);
- PUT through a storlet: curl -T (with Content-Length, and chunked),
  curl -X PUT --data-binary @file with query parameters; the stored object
  read back (curl and swift download) with its provenance metadata; a
  client ETag is checked against the bytes sent (422 for a wrong one,
  nothing stored); `swift upload --header 'X-Run-Storlet: ...'`: with
  identity it passes its checksum check; through a transforming storlet
  the answer's ETag is the MD5 of what was stored (truthful, as in
  OpenStack Storlets), so swiftclient reports "md5 mismatch" and exits 1
  while the object is stored, and `--ignore-checksum` exits 0 (from a
  file; from stdin swiftclient sends the body's MD5 as ETag, which the
  proxy checks, and compares the answer's ETag with it even with
  --ignore-checksum: exit 1, object stored); a store the proxy refuses
  (X-Delete-At in the past, a metadata name too long) answers its reason;
  a segmented upload (-S, with or without --use-slo) through a storlet is
  refused (400 on the manifest PUT: the segments went up without it);
- COPY: curl -X COPY -H Destination, curl -X PUT -H X-Copy-From (on the
  node and on the proxy), `swift copy --header 'X-Run-Storlet: ...'` (it
  sends X-Fresh-Metadata: false, which a storlet copy takes), each with
  provenance (source, its ETag, storlet, version, parameters); PUT with
  X-Copy-From is curl's only (swift copy always uses the COPY verb);
- parameters as X-Storlet-Parameter-N headers (curl, swift) and in the
  query string (curl only: the swift CLI quotes '?' in an object name);
- X-Storlet-Range (closed, open, suffix; on the node and on the proxy;
  Storlet-Input-Range) with curl and swift download, and a ranged COPY;
- a Sequence (docs/compound-storlets.md 1.1's deid.py, grep, wordcount.py
  with a stage parameter) with curl and swift download;
- a storlet failing mid-stream: curl exits 18, swift download 1;
- X-Storlet-Generate-Log: the log stored in storletlog, read with swift,
  holding a python storlet's print()s (which never reach its output).
The example storlets themselves, case by case: storlet_examples.py."""
import hashlib
import json
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster, BUILD, SRC, wait_for  # noqa: E402
import clients  # noqa: E402
from clients import Curl, SwiftCLI, png_decode  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
rng = random.Random(6)


def same(got, want, name):
    return clients.same(t, got, want, name)


def md5(b):
    return hashlib.md5(b).hexdigest()


BLOB = rng.randbytes(200000)
TEXT = b"".join(b"%05d %s\n" % (i, rng.choice([b"alpha", b"beta", b"gamma"]))
                for i in range(3000))
LINES = TEXT.splitlines(keepends=True)
W, H = 32, 24
PIX = bytes(rng.randrange(256) for _ in range(W * H))
PGM = b"P5\n%d %d\n255\n" % (W, H) + PIX


def grep(data, word):
    return b"".join(ln for ln in data.splitlines(keepends=True)
                    if word in ln)


def fixity(data, algs=("md5", "sha256")):
    d = {"bytes": len(data), "fixity": "computed"}
    for a in algs:
        d[a] = hashlib.new(a, data).hexdigest()
    return (json.dumps(d, sort_keys=True, separators=(",", ":")) +
            "\n").encode()


with Cluster(t) as cl:
    nodes, p = cl.storlet_cluster()
    work = os.path.join(cl.dir, "clients")
    curl = Curl(p, "test:tester", "testing", os.path.join(work, "curl"))
    swift = SwiftCLI(p, "test:tester", "testing", os.path.join(work, "swift"))
    node_ids = {"%s:%d/%s" % (n.ip, n.port, n.devices[0]) for n in nodes}

    def file_of(name, body):
        f = os.path.join(work, name)
        with open(f, "wb") as fh:
            fh.write(body)
        return f

    curl.req("POST", "", {"X-Account-Meta-Storlet-Enabled": "True"})
    for c in ("storlet", "data", "out", "storletlog"):
        curl.req("PUT", "/" + c)
    def deploy(name, path, main=None, lang="native", meta="no"):
        """curl -T path to storlet/name: (status, ETag)."""
        st, h, _ = curl.req("PUT", "/storlet/" + name, {
            "X-Object-Meta-Storlet-Language": lang,
            "X-Object-Meta-Storlet-Interface-Version": "1.0",
            "X-Object-Meta-Storlet-Object-Metadata": meta,
            "X-Object-Meta-Storlet-Main": main or name}, upload=path)
        return st, h.get("etag")

    etag_of = {}
    for name in ("identity", "fixity", "grep", "image-roi"):
        st, etag_of[name] = deploy(name, os.path.join(BUILD, "storlets", name),
                                   meta="yes")
        t.eq(st, 201, "deploy %s with curl" % name)
    for name, meta in (("wordcount", "no"), ("deid", "yes")):
        r = swift("upload", "storlet",
                  os.path.join(SRC, "storlets", name, name + ".py"),
                  "--object-name", name + ".py",
                  "-H", "X-Object-Meta-Storlet-Language: python",
                  "-H", "X-Object-Meta-Storlet-Interface-Version: 1.0",
                  "-H", "X-Object-Meta-Storlet-Object-Metadata: " + meta,
                  "-H", "X-Object-Meta-Storlet-Main: %s.main" % name)
        t.eq(r.returncode, 0, "deploy %s.py with swift upload" % name)
    # reads nothing of its input: the ETag check cannot see the body
    st, _ = deploy("hello.sh", file_of("hello.sh", b"#!/bin/sh\nexec 3>&-\n"
                                       b"echo hello\n"))
    t.eq(st, 201, "deploy hello.sh (reads no input)")

    for name, body in (("blob", BLOB), ("text.txt", TEXT),
                       ("img.pgm", PGM)):
        st, h, _ = curl.req("PUT", "/data/" + name,
                            {"X-Object-Meta-Origin": "lab-7"},
                            upload=file_of(name, body))
        t.eq((st, h.get("etag")), (201, md5(body)), "store data/" + name)

    # ================================================= GET: node and proxy
    for where, extra in (("node", {}),
                         ("proxy", {"X-Storlet-Run-On-Proxy": ""})):
        st, h, b = curl.req("GET", "/data/text.txt", dict(
            extra, **{"X-Run-Storlet": "grep",
                      "X-Storlet-Parameter-1": "pattern:gamma"}))
        same(b, grep(TEXT, b"gamma"), "curl GET on the %s: the output" % where)
        ran = h.get("x-storlet-executed-on")
        t.ok(ran in node_ids if where == "node" else ran == "proxy",
             "it ran on the %s (%s)" % (where, ran))
        t.ok("etag" not in h and "content-length" not in h and
             h.get("transfer-encoding") == "chunked",
             "chunked, no ETag or Content-Length of the stored bytes")
        t.eq(h.get("x-object-meta-origin"), "lab-7",
             "the object's own metadata is answered")
        args = ["download", "data", "text.txt", "-o", "-",
                "--header", "X-Run-Storlet: grep",
                "--header", "X-Storlet-Parameter-1: pattern:beta"]
        if extra:
            args += ["--header", "X-Storlet-Run-On-Proxy:"]
        r = swift(*args)
        t.eq(r.returncode, 0, "swift download on the %s, checksum check on"
             % where)
        same(r.stdout, grep(TEXT, b"beta"), "and its output")
    st, _, b = curl.req("GET", "/data/text.txt", {
        "X-Run-Storlet": "grep", "X-Storlet-Run-On-Proxy": "yes",
        "X-Storlet-Parameter-1": "pattern:gamma"})
    t.eq(st, 400, "curl: a non-empty X-Storlet-Run-On-Proxy is 400")

    # query parameters, quoted: a space as + and as %20, a ':' and a '&'
    for q in ("pattern=12+gamma", "pattern=12%20gamma",
              "mode=regex&pattern=%5E0%2812%7C34%29"):
        st, _, b = curl.req("GET", "/data/text.txt?" + q,
                            {"X-Run-Storlet": "grep"})
        want = grep(TEXT, b"12 gamma") if "gamma" in q else b"".join(
            ln for ln in LINES if ln[:3] in (b"012", b"034"))
        t.ok(len(want) > 0, "(%s selects something)" % q)
        same(b, want, "curl GET, query %s" % q)
    st, _, b = curl.req("GET", "/data/text.txt", {
        "X-Run-Storlet": "grep",
        "X-Storlet-Parameter-1": "pattern:%3A%26 never"})
    t.eq((st, b), (200, b""), "a header parameter value is URL-unquoted")
    st, _, b = curl.req("GET", "/data/text.txt?pattern=x", {
        "X-Run-Storlet": "grep", "X-Storlet-Parameter-1": "pattern:y"})
    t.eq(st, 400, "a parameter in the query and a header is 400")

    # ================================================= PUT through a storlet
    tf = file_of("upload.txt", TEXT)
    out = grep(TEXT, b"alpha")
    st, h, _ = curl.req("PUT", "/out/alpha.txt", {
        "X-Run-Storlet": "grep", "X-Storlet-Parameter-1": "pattern:alpha",
        "X-Object-Meta-Owner": "lab", "Content-Type": "text/plain"},
        upload=tf)
    t.eq(st, 201, "curl -T through grep: 201")
    t.eq(h.get("etag"), md5(out), "the ETag is the MD5 of what was stored")
    t.eq(h.get("x-storlet-executed-on"), "proxy", "a PUT runs on the proxy")

    def stored(path, want, what, etag=None):
        st, h, b = curl.req("GET", path)
        same(b, want, "%s: stored byte for byte (curl GET)" % what)
        t.eq(h.get("etag"), md5(want), "%s: its ETag" % what)
        c, o = path[1:].split("/", 1)
        r = swift("download", c, o, "-o", "-")
        same(r.stdout if r.returncode == 0 else b"", want,
             "%s: swift download with its checksum check" % what)
        return h

    h = stored("/out/alpha.txt", out, "PUT through grep")
    t.eq((h.get("x-object-meta-owner"), h.get("content-type")),
         ("lab", "text/plain"), "the request's metadata and type are kept")
    t.eq((h.get("x-object-meta-storlet-generated-by"),
          h.get("x-object-meta-storlet-generated-by-etag"),
          h.get("x-object-meta-storlet-generated-params"),
          h.get("x-object-meta-storlet-generated-from")),
         ("grep", etag_of["grep"], '{"pattern":"alpha"}', None),
         "provenance: storlet, version, parameters, no source")
    r = swift("stat", "out", "alpha.txt")
    t.ok(b"Meta Storlet-Generated-By: grep" in r.stdout,
         "swift stat shows the provenance")

    st, h, _ = curl.req("PUT", "/out/chunked.txt", {
        "X-Run-Storlet": "grep", "X-Storlet-Parameter-1": "pattern:beta",
        "Transfer-Encoding": "chunked"}, upload=tf)
    t.eq(st, 201, "curl -T, chunked, through grep")
    stored("/out/chunked.txt", grep(TEXT, b"beta"), "chunked PUT")

    pf = file_of("img-upload.pgm", PGM)
    st, h, _ = curl.req("PUT", "/out/roi.png?x=4&y=2&width=9&height=5",
                        {"X-Run-Storlet": "image-roi"}, data=pf)
    t.eq(st, 201, "curl -X PUT --data-binary @img.pgm through image-roi, "
         "query parameters")
    st, h, b = curl.req("GET", "/out/roi.png")
    try:
        got = png_decode(b)
    except ValueError as e:
        got = str(e)
    t.eq(got, (9, 5, 1, 8, [list(PIX[y * W + 4:y * W + 13])
                            for y in range(2, 7)]),
         "the stored PNG holds the region")
    t.eq((h.get("content-type"), h.get("x-object-meta-roi"),
          h.get("x-object-meta-storlet-generated-params")),
         ("image/png", "4,2,9,5",
          '{"height":"5","width":"9","x":"4","y":"2"}'),
         "with the output's type and metadata, and the parameters (keys "
         "sorted)")

    csv = b"name,dob,ward\nAnn Lee,1980-01-01,ICU\nBo,1999-09-09,2\n"

    def h16(v):
        return hashlib.sha256(b"s3cret" + v).hexdigest()[:16].encode()
    st, _, _ = curl.req("PUT", "/out/p1-clean.csv?mode=hash&salt=s3cret",
                        {"X-Run-Storlet": "deid.py",
                         "Content-Type": "text/csv"},
                        upload=file_of("p1.csv", csv))
    t.eq(st, 201, "curl -T p1.csv through deid.py, query parameters")
    stored("/out/p1-clean.csv",
           b"name,dob,ward\n%s,%s,ICU\n%s,%s,2\n" % (
               h16(b"Ann Lee"), h16(b"1980-01-01"), h16(b"Bo"),
               h16(b"1999-09-09")), "PUT through deid.py")

    st, h, _ = curl.req("PUT", "/out/checked.txt", {
        "X-Run-Storlet": "grep", "X-Storlet-Parameter-1": "pattern:alpha",
        "ETag": md5(TEXT)}, upload=tf)
    t.eq((st, h.get("etag")), (201, md5(out)),
         "a client ETag of the bytes sent passes; the answer's is the "
         "stored bytes'")
    st, _, b = curl.req("PUT", "/out/corrupt.txt", {
        "X-Run-Storlet": "grep", "X-Storlet-Parameter-1": "pattern:alpha",
        "ETag": md5(TEXT + b"x")}, upload=tf)
    t.eq(st, 422, "a client ETag that is not the bytes sent: 422 (%r)" %
         b[:80])
    t.eq(curl.req("HEAD", "/out/corrupt.txt")[0], 404, "and nothing stored")
    st, _, _ = curl.req("PUT", "/out/hello.txt", {
        "X-Run-Storlet": "hello.sh", "ETag": md5(TEXT)}, upload=tf)
    st2, _, b = curl.req("GET", "/out/hello.txt")
    t.eq((st, st2, b), (201, 200, b"hello\n"),
         "a storlet that reads none of the body, with the body's ETag: "
         "stored")

    # swift upload: identity passes the checksum check; grep changes the
    # bytes, so the truthful ETag is not the file's MD5
    r = swift("upload", "out", tf, "--object-name", "same.txt",
              "-H", "X-Run-Storlet: identity")
    t.eq(r.returncode, 0, "swift upload through identity: exit 0 "
         "(checksum check on)")
    stored("/out/same.txt", TEXT, "swift upload through identity")
    r = swift("upload", "out", tf, "--object-name", "gamma.txt",
              "-H", "X-Run-Storlet: grep",
              "-H", "X-Storlet-Parameter-1: pattern:gamma",
              "-H", "X-Object-Meta-Owner: lab")
    t.ok(r.returncode == 1 and b"md5 mismatch" in r.stderr and
         md5(grep(TEXT, b"gamma")).encode() in r.stderr,
         "swift upload through grep: swiftclient reports the md5 "
         "mismatch (the stored MD5) and exits 1 (%r)" % r.stderr[-160:])
    h = stored("/out/gamma.txt", grep(TEXT, b"gamma"),
               "swift upload through grep")
    t.eq((h.get("x-object-meta-owner"),
          h.get("x-object-meta-storlet-generated-by")), ("lab", "grep"),
         "with the -H metadata and the provenance")
    r = swift("upload", "out", tf, "--object-name", "gamma2.txt",
              "--ignore-checksum", "-H", "X-Run-Storlet: grep",
              "-H", "X-Storlet-Parameter-1: pattern:gamma")
    t.eq(r.returncode, 0, "swift upload --ignore-checksum through grep: "
         "exit 0")
    stored("/out/gamma2.txt", grep(TEXT, b"gamma"), "--ignore-checksum")
    r = swift("upload", "out", "-", "--object-name", "stdin.txt",
              "--ignore-checksum", "-H", "X-Run-Storlet: grep",
              "-H", "X-Storlet-Parameter-1: pattern:beta", stdin=TEXT)
    # from stdin swiftclient buffers the body, sends its MD5 as ETag (which
    # the proxy checks against the bytes sent) and compares the answer's
    # with it whatever --ignore-checksum says
    t.ok(r.returncode == 1 and b"md5 mismatch" in r.stderr,
         "swift upload - (stdin) through grep: the ETag sent passes, the "
         "answer's is the stored MD5, swiftclient says md5 mismatch even "
         "with --ignore-checksum (%r)" % r.stderr[-120:])
    stored("/out/stdin.txt", grep(TEXT, b"beta"), "an upload from stdin")

    # a refused store says why, as a plain PUT does
    st, _, b = curl.req("PUT", "/out/late.txt", {
        "X-Run-Storlet": "identity", "X-Delete-At": "1"}, upload=tf)
    t.eq((st, b), (400, b"X-Delete-At in past"),
         "curl PUT through a storlet, X-Delete-At in the past: 400 with the "
         "reason")
    r = swift("upload", "out", tf, "--object-name", "long.txt",
              "-H", "X-Run-Storlet: identity",
              "-H", "X-Object-Meta-%s: v" % ("k" * 200))
    t.ok(r.returncode == 1 and b"400" in r.stderr and
         b"Metadata name too long" in r.stderr,
         "swift upload through a storlet, a metadata name too long: the "
         "400's reason is shown (%r)" % r.stderr[-160:])

    # segmented: swiftclient sends the headers with the manifest only, so
    # the storlet would see the manifest and never the data
    for how in ([], ["--use-slo"]):
        r = swift("upload", "out", tf, "--object-name", "seg.txt",
                  "-S", "20000", "-H", "X-Run-Storlet: grep",
                  "-H", "X-Storlet-Parameter-1: pattern:beta", *how)
        st, _, _ = curl.req("HEAD", "/out/seg.txt")
        t.ok(r.returncode != 0 and b"400" in r.stderr and st == 404,
             "swift upload -S %s through a storlet: the manifest PUT is 400, "
             "no object (%d %r)" % (" ".join(how), st, r.stderr[-160:]))

    # ================================================= COPY
    st, h, _ = curl.req("COPY", "/data/blob", {
        "Destination": "out/blob.fixity", "X-Run-Storlet": "fixity",
        "X-Storlet-Parameter-1": "algorithms:md5,sha512"})
    t.eq((st, h.get("x-storlet-generated-from")), (201, "data/blob"),
         "curl -X COPY -H Destination through fixity")
    t.ok(h.get("x-storlet-executed-on") in node_ids,
         "a COPY runs where the source is (%s)" %
         h.get("x-storlet-executed-on"))
    h = stored("/out/blob.fixity", fixity(BLOB, ("md5", "sha512")),
               "COPY through fixity")
    t.eq((h.get("x-object-meta-storlet-generated-by"),
          h.get("x-object-meta-storlet-generated-by-etag"),
          h.get("x-object-meta-storlet-generated-params"),
          h.get("x-object-meta-storlet-generated-from"),
          h.get("x-object-meta-storlet-generated-from-etag"),
          h.get("x-object-meta-md5")),
         ("fixity", etag_of["fixity"], '{"algorithms":"md5,sha512"}',
          "data/blob", md5(BLOB), md5(BLOB)),
         "provenance: storlet, version, parameters, source and its ETag; "
         "the output metadata")

    for where, extra in (("node", {}),
                         ("proxy", {"X-Storlet-Run-On-Proxy": ""})):
        st, h, _ = curl.req("PUT", "/out/img-%s.pnm?format=pnm&x=30" % where,
                            dict(extra, **{"X-Copy-From": "data/img.pgm",
                                           "X-Run-Storlet": "image-roi",
                                           "Content-Length": "0"}))
        t.eq(st, 201, "curl -X PUT -H X-Copy-From through image-roi on the "
             "%s, query parameters" % where)
        ran = h.get("x-storlet-executed-on")
        t.ok(ran in node_ids if where == "node" else ran == "proxy",
             "it ran on the %s (%s)" % (where, ran))
        want = b"P5\n2 %d\n255\n" % H + b"".join(
            PIX[y * W + 30:y * W + 32] for y in range(H))
        h = stored("/out/img-%s.pnm" % where, want,
                   "X-Copy-From on the %s" % where)
        t.eq((h.get("content-type"),
              h.get("x-object-meta-storlet-generated-from")),
             ("image/x-portable-graymap", "data/img.pgm"),
             "the output's type, the source in the provenance")

    r = swift("copy", "data", "text.txt", "-d", "/out/text.wc",
              "--header", "X-Run-Storlet: wordcount.py", "-m", "Batch:7")
    t.eq(r.returncode, 0, "swift copy --header 'X-Run-Storlet: "
         "wordcount.py' (X-Fresh-Metadata: false) (%r)" % r.stderr[-120:])
    wc = {"bytes": len(TEXT), "chars": len(TEXT),
          "lines": TEXT.count(b"\n"), "words": len(TEXT.split())}
    h = stored("/out/text.wc", (json.dumps(wc, sort_keys=True) +
                                "\n").encode(), "swift copy")
    t.eq((h.get("x-object-meta-batch"), h.get("x-object-meta-words"),
          h.get("x-object-meta-storlet-generated-from")),
         ("7", str(wc["words"]), "data/text.txt"),
         "-m metadata, output metadata and provenance are stored")
    r = swift("copy", "data", "text.txt", "-d", "/out/text.gamma",
              "-H", "X-Run-Storlet: grep",
              "-H", "X-Storlet-Parameter-1: pattern:gamma",
              "-H", "X-Storlet-Run-On-Proxy:")
    t.eq(r.returncode, 0, "swift copy through grep on the proxy")
    stored("/out/text.gamma", grep(TEXT, b"gamma"), "swift copy, proxy")
    r = swift("copy", "data", "text.txt", "-d", "/out/text.fresh", "-M",
              "-H", "X-Run-Storlet: identity")
    st, _, _ = curl.req("HEAD", "/out/text.fresh")
    t.ok(r.returncode != 0 and b"400" in r.stderr and st == 404,
         "swift copy --fresh-metadata with a storlet: 400, nothing stored "
         "(%r)" % r.stderr[-120:])

    # ================================================= X-Storlet-Range
    n = len(BLOB)
    for rng_h, lo, hi in (("bytes=1000-1999", 1000, 1999),
                          ("bytes=%d-" % (n - 777), n - 777, n - 1),
                          ("bytes=-500", n - 500, n - 1),
                          ("bytes=0-%d" % (n + 50), 0, n - 1)):
        for where, extra in (("node", {}),
                             ("proxy", {"X-Storlet-Run-On-Proxy": ""})):
            st, h, b = curl.req("GET", "/data/blob", dict(
                extra, **{"X-Run-Storlet": "identity",
                          "X-Storlet-Range": rng_h}))
            same(b, BLOB[lo:hi + 1], "curl X-Storlet-Range %s on the %s"
                 % (rng_h, where))
            t.eq((st, h.get("storlet-input-range")),
                 (200, "bytes %d-%d/%d" % (lo, hi, n)),
                 "200 and Storlet-Input-Range")
    r = swift("download", "data", "blob", "-o", "-",
              "--header", "X-Run-Storlet: fixity",
              "--header", "X-Storlet-Range: bytes=100-65635")
    t.eq(r.returncode, 0, "swift download fixity of a range")
    same(r.stdout, fixity(BLOB[100:65636]), "the digests of the range")
    st, _, _ = curl.req("GET", "/data/blob", {
        "X-Run-Storlet": "identity", "X-Storlet-Range": "bytes=%d-" % n})
    t.eq(st, 416, "a range past the end: 416")
    st, _, _ = curl.req("GET", "/data/blob", {"X-Run-Storlet": "identity",
                                              "Range": "bytes=0-9"})
    t.eq(st, 400, "Range with X-Run-Storlet: 400")
    st, h, _ = curl.req("COPY", "/data/text.txt", {
        "Destination": "out/first-lines", "X-Run-Storlet": "grep",
        "X-Storlet-Parameter-1": "pattern:a", "X-Storlet-Range":
        "bytes=0-%d" % (len(b"".join(LINES[:100])) - 1)})
    t.eq(st, 201, "a ranged COPY through grep")
    stored("/out/first-lines", grep(b"".join(LINES[:100]), b"a"),
           "ranged COPY")

    # ================================================= a Sequence
    # docs/compound-storlets.md 1.1's example: deid.py, grep, wordcount.py,
    # request-wide and stage parameters, all three on the object node
    recs = b"name,ward,diagnosis\n" + b"".join(
        b"P%d,%s,%s\n" % (i, rng.choice([b"ICU", b"2"]),
                          rng.choice([b"diabetes", b"flu", b"none"]))
        for i in range(300))
    st, _, _ = curl.req("PUT", "/data/p1.csv", {"Content-Type": "text/csv"},
                        upload=file_of("p1.csv", recs))
    t.eq(st, 201, "store data/p1.csv")
    kept = b"".join(ln.split(b",", 1)[1]     # the name column dropped
                    for ln in recs.splitlines(keepends=True)[1:]
                    if b"diabetes" in ln)
    want = (json.dumps({"bytes": len(kept), "chars": len(kept),
                        "lines": kept.count(b"\n"),
                        "words": len(kept.split())}, sort_keys=True) +
            "\n").encode()
    chain = {"X-Run-Storlet": "deid.py, grep, wordcount.py",
             "X-Storlet-Parameter-1": "format:csv",
             "X-Storlet-Stage-2-Parameter-1": "pattern:diabetes"}
    st, h, b = curl.req("GET", "/data/p1.csv", chain)
    same(b, want, "curl: a Sequence deid.py, grep, wordcount.py")
    t.eq(h.get("x-storlet-sequence-placement"), "object=3, proxy=0",
         "the whole chain ran on the object node")
    r = swift("download", "data", "p1.csv", "-o", "-",
              *[a for k, v in chain.items() for a in ("-H", k + ": " + v)])
    same(r.stdout if r.returncode == 0 else r.stderr, want,
         "swift download: the same Sequence")

    # ================================================= a failure mid-stream
    # the response is cut (no last chunk): both tools must say so. 4 MiB
    # is more than the engine's output pipe holds, so the output has begun
    # when the storlet fails
    cl.expect_log(r"storlet .*midfail")
    st, _ = deploy("midfail.sh", file_of(
        "midfail.sh", b"#!/bin/sh\nexec 3>&-\nhead -c 4194304 /dev/zero\n"
        b"echo 'broke mid-way' >&2\nexit 3\n"))
    t.eq(st, 201, "deploy midfail.sh")
    for where, extra in (("node", {}),
                         ("proxy", {"X-Storlet-Run-On-Proxy": ""})):
        st, _, b = curl.req("GET", "/data/blob", dict(
            extra, **{"X-Run-Storlet": "midfail.sh"}))
        t.ok(st == -18 and b"transfer closed" in b,
             "a failure mid-stream on the %s: curl exits 18, transfer "
             "closed (%d %r)" % (where, st, b[-80:]))
        r = swift("download", "data", "blob", "-o", "-",
                  "-H", "X-Run-Storlet: midfail.sh",
                  *(["-H", "X-Storlet-Run-On-Proxy:"] if extra else []))
        t.ok(r.returncode == 1 and b"Connection broken" in r.stderr,
             "and swift download exits 1, connection broken (%r)" %
             r.stderr[-100:])

    # ================================================= the storlet's log
    # a python storlet's print() goes to its log, never into its output
    st, _ = deploy("printer.py", file_of(
        "printer.py", b"def main(s):\n    for i in range(2000):\n"
        b"        print('debug line', i)\n    s.write(b'RESULT\\n')\n"),
        "printer.main", "python")
    t.eq(st, 201, "deploy printer.py")
    st, h, b = curl.req("GET", "/data/text.txt", {
        "X-Run-Storlet": "printer.py", "X-Storlet-Generate-Log": "True"})
    t.eq((st, b), (200, b"RESULT\n"),
         "print() in a python storlet does not reach its output")
    logname = "printer.py.%s.log" % h.get("x-trans-id")

    def log_stored():
        st, _, _ = curl.req("HEAD", "/storletlog/" + logname)
        return st == 200
    try:
        wait_for(log_stored, 30, "the storlet log")
    except TimeoutError:
        pass
    r = swift("download", "storletlog", logname, "-o", "-")
    t.ok(r.returncode == 0 and r.stdout.count(b"debug line") == 2000 and
         b"debug line 1999\n" in r.stdout,
         "X-Storlet-Generate-Log: the prints are in storletlog/%s, swift "
         "download reads it (%d bytes)" % (logname, len(r.stdout)))

t.done()
