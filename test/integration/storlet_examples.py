#!/usr/bin/python3
# tier: quick
"""Every example storlet of storlets/ through the proxy, with the real curl
binary and the real swift CLI, each output compared byte for byte with one
computed here independently (hashlib for fixity, the rules of each
storlet's documented parameters for grep, wordcount and deid, a PNG decoder
of our own for image-roi, a flood fill for cellcount, the documented merge
stream format for the merge helpers).

Each case runs four ways: curl GET on the object node with the parameters
as X-Storlet-Parameter-N headers; curl GET with the parameters in the query
string; curl GET with X-Storlet-Run-On-Proxy; `swift download ... -o -
--header ...` with its checksum check on. Deployment is by curl -T (native
storlets) and by `swift upload --object-name ... -H ...` (python ones).
Storlets covered: identity, fixity, grep, wordcount.py, deid.py (CSV,
JSON array, JSON lines), image-roi (PGM and PPM, 8 and 16 bit, PNG and PNM
out), cellcount, concat (services channel: it runs on the proxy), and the
merge helpers sumlist, wcmerge.py, partlist as plain GETs of a stored merge
stream and through a Distributed POST (curl only).

Not reachable with the swift CLI: query-string parameters (the CLI quotes
'?' in an object name), a Distributed request (a POST with a body to the
account; `swift post` sends none). The invocation modes (PUT, COPY,
X-Storlet-Range, ...) with both tools: storlet_examples_modes.py."""
import hashlib
import json
import os
import random
import re
import struct
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster, BUILD, SRC  # noqa: E402
import clients  # noqa: E402
from clients import Curl, SwiftCLI, png_decode  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
rng = random.Random(20261121)


def same(got, want, name):
    return clients.same(t, got, want, name)


def cjson(v):
    """Jansson's JSON_COMPACT text of v, keys in v's order."""
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


# ------------------------------------------------------------ inputs

BLOB = rng.randbytes(300000)

WORDS = ["alpha", "Beta", "gamma", "DELTA", "caf\u00e9", "na\u00efve",
         "\u03b5", "zeta"]
TEXT = b""
for i in range(600):
    line = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(1, 7)))
    TEXT += ("%d %s%s" % (i, line, rng.choice(["\n", "\n", "\t\n", "  \n"]))
             ).encode()
TEXT += b"the last line, gamma, has no newline"
LINES = [ln + b"\n" for ln in TEXT.split(b"\n")[:-1]] + \
    [TEXT.split(b"\n")[-1]]


def wc(data):
    """wc's counts in the C locale; chars: UTF-8 characters."""
    return {"bytes": len(data),
            "chars": sum(1 for b in data if not 0x80 <= b <= 0xbf),
            "lines": data.count(b"\n"), "words": len(data.split())}


# deid: the defaults of the storlet's documented `fields` parameter
DEID_DEFAULT = {"name", "patient_name", "patient_id", "birth_date",
                "birthdate", "dob", "ssn", "address", "phone", "email"}
CSV_IN = ('name,patient_id,dob,ward,diagnosis\n'
          '"Smith, John",P-001,1970-01-02,"3, east",flu\n'
          'Ann Lee,P-002,1985-12-31,ICU,"said ""ouch"""\n'
          'Jos\u00e9 N\u00fa\u00f1ez,P-003,2001-07-04,2,none\n').encode()
CSV_DROP = ('ward,diagnosis\n'
            '"3, east",flu\n'
            'ICU,"said ""ouch"""\n'
            '2,none\n').encode()
CSV_MASK = ('name,patient_id,dob,ward,diagnosis\r\n'
            '[gone],[gone],[gone],"3, east",flu\r\n'
            '[gone],[gone],[gone],ICU,"said ""ouch"""\r\n'
            '[gone],[gone],[gone],2,none\r\n').encode()


# as a spreadsheet exports it: a byte order mark, spaces around names
CSV_SHEET = ('\ufeffid, Name ,DOB , ward\r\n'
             '1, Ann Lee,1985-12-31, ICU\r\n').encode()
CSV_SHEET_DROP = '\ufeffid, ward\r\n1, ICU\r\n'.encode()


def salted(v, salt="pepper"):
    return hashlib.sha256((salt + v).encode()).hexdigest()[:16]


CSV_HASH = ('name,patient_id,dob,ward,diagnosis\n'
            '%s,P-001,1970-01-02,"3, east",%s\n'
            '%s,P-002,1985-12-31,ICU,%s\n'
            '%s,P-003,2001-07-04,2,%s\n' % (
                salted("Smith, John"), salted("flu"), salted("Ann Lee"),
                salted('said "ouch"'), salted("Jos\u00e9 N\u00fa\u00f1ez"),
                salted("none"))).encode()

RECORDS = [
    {"patient": {"Name": "Jos\u00e9 N\u00fa\u00f1ez", "patient_id": "P-3",
                 "ward": "2"},
     "visits": [{"date": "2026-01-02", "DOB": "2001-07-04", "note": "ok"}],
     "score": 1.5},
    {"name": "Ann Lee", "email": "ann@example.org",
     "tags": ["a", {"phone": "555-0100", "kind": "mobile"}],
     "n": 12345678901234567890},
    {"id": 3, "ssn": None, "address": {"street": "1 Main St"}},
]


def deid(v, fields, mask=None):
    """v with the keys named in fields (any case) dropped, or their
    values replaced by mask, at any depth."""
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if k.lower() not in fields:
                out[k] = deid(x, fields, mask)
            elif mask is not None:
                out[k] = mask
        return out
    if isinstance(v, list):
        return [deid(x, fields, mask) for x in v]
    return v


def pyjson(v):
    return json.dumps(v, ensure_ascii=False)


JSON_IN = json.dumps(RECORDS, indent=2, ensure_ascii=False).encode()
JSONL_IN = "".join(pyjson(r) + "\n" for r in RECORDS).encode()


# images
def pnm(kind, w, h, maxval, samples, comment=b""):
    head = b"P%d\n%s%d %d\n%d\n" % (kind, comment, w, h, maxval)
    if maxval > 255:
        return head + struct.pack(">%dH" % len(samples), *samples)
    return head + bytes(samples)


def image(kind, w, h, maxval):
    """(PNM bytes, rows of samples) of random pixels."""
    ch = 1 if kind == 5 else 3
    rows = [[rng.randrange(maxval + 1) for _ in range(w * ch)]
            for _ in range(h)]
    return pnm(kind, w, h, maxval, [v for r in rows for v in r],
               b"# made by the test\n"), rows


def crop(rows, ch, x, y, w, h):
    return [r[x * ch:(x + w) * ch] for r in rows[y:y + h]]


def scaled(rows, maxval, full):
    return [[(min(v, maxval) * full + maxval // 2) // maxval for v in r]
            for r in rows]


PGM8, PGM8_ROWS = image(5, 61, 47, 255)
PPM8, PPM8_ROWS = image(6, 40, 30, 255)
PGM16, PGM16_ROWS = image(5, 20, 10, 1000)
PGM100, PGM100_ROWS = image(5, 13, 9, 100)
PPM12, PPM12_ROWS = image(6, 11, 7, 4095)


def blobs_pgm(w, h):
    """A PGM with bright blobs on a dark background: (bytes, rows)."""
    rows = [[rng.randrange(0, 110) for _ in range(w)] for _ in range(h)]
    for _ in range(25):
        cx, cy = rng.randrange(w), rng.randrange(h)
        for yy in range(max(0, cy - rng.randrange(3)), min(h, cy + 2)):
            for xx in range(max(0, cx - rng.randrange(3)), min(w, cx + 2)):
                rows[yy][xx] = rng.randrange(140, 256)
    return pnm(5, w, h, 255, [v for r in rows for v in r]), rows


def components(rows, threshold, conn, min_size):
    """(cells, bright pixels) by a flood fill over the whole image."""
    h, w = len(rows), len(rows[0])
    bright = {(y, x) for y in range(h) for x in range(w)
              if rows[y][x] > threshold}
    steps = [(0, 1), (1, 0), (0, -1), (-1, 0)]
    if conn == 8:
        steps += [(1, 1), (1, -1), (-1, 1), (-1, -1)]
    left, cells = set(bright), 0
    while left:
        todo, size = [left.pop()], 0
        while todo:
            y, x = todo.pop()
            size += 1
            for dy, dx in steps:
                if (y + dy, x + dx) in left:
                    left.remove((y + dy, x + dx))
                    todo.append((y + dy, x + dx))
        cells += size >= min_size
    return cells, len(bright)


CELLS, CELLS_ROWS = blobs_pgm(70, 50)


def u32(n):
    return struct.pack(">I", n)


def merge_stream(parts, order):
    """docs/compound-storlets.md 2.3: for each (index, path, bytes) in the
    given order a part frame, the bytes in chunks of at most 100, a zero;
    then the end frame."""
    out = b""
    for i in order:
        idx, path, body = parts[i]
        fr = json.dumps({"type": "part", "index": idx, "path": path,
                         "metadata": {}, "content_type":
                         "application/json"}).encode()
        out += u32(len(fr)) + fr
        for k in range(0, len(body), 100):
            out += u32(len(body[k:k + 100])) + body[k:k + 100]
        out += u32(0)
    end = json.dumps({"type": "end", "parts": len(parts)}).encode()
    return out + u32(len(end)) + end


BOOKS = {"a.txt": TEXT[:5000], "b.txt": "caf\u00e9 cr\u00e8me\n".encode(),
         "c.txt": b"no newline at the end"}
WC_OUT = {n: (json.dumps(wc(d), sort_keys=True) + "\n").encode()
          for n, d in BOOKS.items()}
MERGE_PARTS = [(i, "books/" + n, WC_OUT[n]) for i, n in enumerate(BOOKS)]
MERGE = merge_stream(MERGE_PARTS, [2, 0, 1])


# ------------------------------------------------------------ the cluster

with Cluster(t) as cl:
    nodes, p = cl.storlet_cluster()
    work = os.path.join(cl.dir, "clients")
    curl = Curl(p, "test:tester", "testing", os.path.join(work, "curl"))
    swift = SwiftCLI(p, "test:tester", "testing", os.path.join(work, "swift"))
    t.ok(curl.url.endswith("/v1/AUTH_test"), "curl authenticates (%s)" %
         curl.url)
    node_ids = {"%s:%d/%s" % (n.ip, n.port, n.devices[0]) for n in nodes}

    st, _, _ = curl.req("POST", "", {"X-Account-Meta-Storlet-Enabled":
                                     "True"})
    t.eq(st, 204, "curl enables the account for storlets")
    for c in ("storlet", "dependency", "data", "images", "books", "merge",
              "odd%20names"):
        curl.req("PUT", "/" + c)

    # ---- deployment: native storlets with curl -T, python with swift
    for name in ("identity", "fixity", "grep", "image-roi", "cellcount",
                 "concat", "sumlist", "partlist"):
        hdrs = {"X-Object-Meta-Storlet-Language": "native",
                "X-Object-Meta-Storlet-Interface-Version": "1.0",
                "X-Object-Meta-Storlet-Object-Metadata": "yes",
                "X-Object-Meta-Storlet-Main": name}
        if name == "concat":
            hdrs["X-Object-Meta-Storlet-Services"] = "yes"
        st, _, b = curl.req("PUT", "/storlet/" + name, hdrs,
                            upload=os.path.join(BUILD, "storlets", name))
        t.eq((st, b), (201, b""), "curl -T deploys %s" % name)
    for name in ("wordcount", "deid", "wcmerge"):
        r = swift("upload", "storlet",
                  os.path.join(SRC, "storlets", name, name + ".py"),
                  "--object-name", name + ".py",
                  "-H", "X-Object-Meta-Storlet-Language: python",
                  "-H", "X-Object-Meta-Storlet-Interface-Version: 1.0",
                  "-H", "X-Object-Meta-Storlet-Object-Metadata: yes",
                  "-H", "X-Object-Meta-Storlet-Main: %s.main" % name)
        t.ok(r.returncode == 0, "swift upload deploys %s.py" % name)
        if r.returncode:
            t.diag((r.stdout + r.stderr).decode(errors="replace"))

    # ---- inputs, stored with curl
    def put(path, body, ctype="application/octet-stream", meta=None):
        f = os.path.join(work, "upload")
        with open(f, "wb") as fh:
            fh.write(body)
        h = {"Content-Type": ctype}
        h.update(meta or {})
        st, h, _ = curl.req("PUT", path, h, upload=f)
        if st != 201 or h.get("etag") != hashlib.md5(body).hexdigest():
            t.ok(False, "store %s (%d)" % (path, st))

    put("/data/blob", BLOB)
    put("/data/blob-md5", BLOB, meta={
        "X-Object-Meta-Md5": hashlib.md5(BLOB).hexdigest()})
    put("/data/blob-badsha", BLOB, meta={
        "X-Object-Meta-Sha256": hashlib.sha256(b"other").hexdigest()})
    put("/data/text.txt", TEXT, "text/plain")
    put("/data/records.csv", CSV_IN, "text/csv")
    put("/data/records-crlf.csv", CSV_IN.replace(b"\n", b"\r\n"), "text/csv")
    put("/data/records.json", JSON_IN, "application/json")
    put("/data/sheet.csv", CSV_SHEET, "text/csv")
    put("/data/bom.json", b"\xef\xbb\xbf" + JSON_IN, "application/json")
    put("/data/bom.jsonl", b"\xef\xbb\xbf" + JSONL_IN,
        "application/x-ndjson")
    put("/data/records.jsonl", JSONL_IN, "application/x-ndjson")
    put("/images/gray.pgm", PGM8, "image/x-portable-graymap")
    put("/images/color.ppm", PPM8, "image/x-portable-pixmap")
    put("/images/deep.pgm", PGM16, "image/x-portable-graymap")
    put("/images/dim.pgm", PGM100, "image/x-portable-graymap")
    put("/images/deep.ppm", PPM12, "image/x-portable-pixmap")
    put("/images/cells.pgm", CELLS, "image/x-portable-graymap")
    for n, d in BOOKS.items():
        put("/books/" + n, d, "text/plain")
    put("/merge/wc.stream", MERGE, "application/x-cairn-merge-stream")
    ODD = {"a b?.txt": b"a space and a question mark\n",
           "p%q#1 \u00e9.txt": "a percent, a hash, \u00e9\n".encode()}
    for n, d in ODD.items():
        put("/odd%20names/" + urllib.parse.quote(n), d, "text/plain")

    # ---- the cases: (title, storlet, object, parameters, expected body,
    # expected headers, a check of the body when it is not fixed bytes)
    cases = []

    def case(title, storlet, obj, params, want, headers=None, check=None):
        cases.append((title, storlet, obj, params, want, headers or {},
                      check))

    case("identity", "identity", "data/blob", {}, BLOB)
    case("identity of text", "identity", "data/text.txt", {}, TEXT,
         {"content-type": "text/plain"})
    md5, sha = hashlib.md5(BLOB).hexdigest(), hashlib.sha256(BLOB).hexdigest()
    case("fixity", "fixity", "data/blob", {},
         (cjson({"bytes": len(BLOB), "fixity": "computed", "md5": md5,
                 "sha256": sha}) + "\n").encode(),
         {"x-object-meta-md5": md5, "x-object-meta-sha256": sha,
          "x-object-meta-fixity": "computed",
          "content-type": "application/json"})
    case("fixity sha1,sha512", "fixity", "data/blob",
         {"algorithms": "sha1,sha512"},
         (cjson({"bytes": len(BLOB), "fixity": "computed",
                 "sha1": hashlib.sha1(BLOB).hexdigest(),
                 "sha512": hashlib.sha512(BLOB).hexdigest()}) + "\n").encode(),
         {"x-object-meta-sha1": hashlib.sha1(BLOB).hexdigest()})
    case("fixity checks a stored md5", "fixity", "data/blob-md5",
         {"algorithms": "md5"},
         (cjson({"bytes": len(BLOB), "fixity": "ok", "md5": md5,
                 "verified": {"md5": True}}) + "\n").encode(),
         {"x-object-meta-fixity": "ok"})
    case("fixity finds a wrong sha256", "fixity", "data/blob-badsha", {},
         (cjson({"bytes": len(BLOB), "fixity": "mismatch", "md5": md5,
                 "sha256": sha, "verified": {"sha256": False}})
          + "\n").encode(),
         {"x-object-meta-fixity": "mismatch"})

    case("grep fixed", "grep", "data/text.txt", {"pattern": "gamma"},
         b"".join(ln for ln in LINES if b"gamma" in ln),
         {"x-object-meta-pattern-mode": "fixed"})
    case("grep ignore-case", "grep", "data/text.txt",
         {"pattern": "delta", "ignore-case": "true"},
         b"".join(ln for ln in LINES if b"delta" in ln.lower()))
    case("grep invert", "grep", "data/text.txt",
         {"pattern": "alpha", "invert": "true"},
         b"".join(ln for ln in LINES if b"alpha" not in ln))
    case("grep count", "grep", "data/text.txt",
         {"pattern": "Beta", "count": "true"},
         b"%d\n" % sum(1 for ln in LINES if b"Beta" in ln),
         {"x-object-meta-matches":
          str(sum(1 for ln in LINES if b"Beta" in ln))})
    case("grep line-number", "grep", "data/text.txt",
         {"pattern": "caf\u00e9 zeta", "line-number": "true"},
         b"".join(b"%d:%s" % (i, ln) for i, ln in enumerate(LINES, 1)
                  if "caf\u00e9 zeta".encode() in ln))
    rx = re.compile(rb"^[0-9]+ (alpha|gamma) [^ ]+ zeta")
    case("grep regex", "grep", "data/text.txt",
         {"pattern": "^[0-9]+ (alpha|gamma) [^ ]+ zeta", "mode": "regex"},
         b"".join(ln for ln in LINES if rx.search(ln)),
         {"x-object-meta-pattern-mode": "regex"})

    counts = wc(TEXT)
    case("wordcount", "wordcount.py", "data/text.txt", {},
         (json.dumps(counts, sort_keys=True) + "\n").encode(),
         dict({"x-object-meta-" + k: str(v) for k, v in counts.items()},
              **{"content-type": "application/json"}))

    fields = ",".join(sorted(DEID_DEFAULT))
    case("deid CSV drop", "deid.py", "data/records.csv", {}, CSV_DROP,
         {"x-object-meta-deidentified": "drop:" + fields,
          "x-object-meta-deid-format": "csv", "content-type": "text/csv"})
    case("deid CSV mask (CRLF kept)", "deid.py", "data/records-crlf.csv",
         {"mode": "mask", "mask": "[gone]"}, CSV_MASK)
    case("deid CSV hash", "deid.py", "data/records.csv",
         {"mode": "hash", "salt": "pepper", "fields": "name,Diagnosis"},
         CSV_HASH, {"x-object-meta-deidentified": "hash:diagnosis,name"})
    case("deid CSV from a spreadsheet (BOM, spaces around names)",
         "deid.py", "data/sheet.csv", {}, CSV_SHEET_DROP)
    case("deid JSON array with a BOM", "deid.py", "data/bom.json", {},
         ("[" + ",".join(pyjson(deid(r, DEID_DEFAULT)) for r in RECORDS)
          + "]").encode())
    case("deid JSON lines with a BOM", "deid.py", "data/bom.jsonl", {},
         "".join(pyjson(deid(r, DEID_DEFAULT)) + "\n"
                 for r in RECORDS).encode())
    case("deid JSON array drop", "deid.py", "data/records.json", {},
         ("[" + ",".join(pyjson(deid(r, DEID_DEFAULT)) for r in RECORDS)
          + "]").encode(),
         {"x-object-meta-deid-format": "json",
          "content-type": "application/json"})
    case("deid JSON lines mask", "deid.py", "data/records.jsonl",
         {"mode": "mask", "fields": "name,phone,ssn,address"},
         "".join(pyjson(deid(r, {"name", "phone", "ssn", "address"}, "***"))
                 + "\n" for r in RECORDS).encode(),
         {"x-object-meta-deid-format": "jsonl"})
    case("deid JSON lines given as format=jsonl", "deid.py",
         "data/records.jsonl", {"format": "jsonl"},
         "".join(pyjson(deid(r, DEID_DEFAULT)) + "\n"
                 for r in RECORDS).encode())

    def png_check(x, y, w, h, rows, ch, depth):
        def check(body):
            try:
                got = png_decode(body)
            except (ValueError, struct.error) as e:
                return "not a PNG: %s" % e
            want = (w, h, ch, depth, crop(rows, ch, x, y, w, h))
            if got[:4] != want[:4]:
                return "PNG is %r, want %r" % (got[:4], want[:4])
            return got[4] == want[4] or "the pixels differ"
        return check

    case("image-roi PGM to PNG", "image-roi", "images/gray.pgm",
         {"x": "7", "y": "5", "width": "30", "height": "20"}, None,
         {"content-type": "image/png", "x-object-meta-roi": "7,5,30,20",
          "x-object-meta-source-size": "61x47",
          "x-object-meta-source-format": "P5"},
         png_check(7, 5, 30, 20, PGM8_ROWS, 1, 8))
    case("image-roi PPM to PNG, level 9", "image-roi", "images/color.ppm",
         {"x": "3", "y": "4", "width": "17", "height": "9", "level": "9"},
         None, {"content-type": "image/png",
                "x-object-meta-source-format": "P6"},
         png_check(3, 4, 17, 9, PPM8_ROWS, 3, 8))
    case("image-roi 16-bit PGM (maxval 1000) to a scaled 16-bit PNG",
         "image-roi", "images/deep.pgm", {}, None,
         {"x-object-meta-roi": "0,0,20,10"},
         png_check(0, 0, 20, 10, scaled(PGM16_ROWS, 1000, 65535), 1, 16))
    case("image-roi maxval 100 to a scaled 8-bit PNG, the bottom-right "
         "corner", "image-roi", "images/dim.pgm", {"x": "12", "y": "8"},
         None, {"x-object-meta-roi": "12,8,1,1"},
         png_check(12, 8, 1, 1, scaled(PGM100_ROWS, 100, 255), 1, 8))
    case("image-roi 12-bit PPM to a scaled 16-bit RGB PNG", "image-roi",
         "images/deep.ppm", {"x": "2", "y": "1", "width": "8"}, None,
         {"x-object-meta-roi": "2,1,8,6"},
         png_check(2, 1, 8, 6, scaled(PPM12_ROWS, 4095, 65535), 3, 16))
    case("image-roi 12-bit PPM to PNM: samples as they are", "image-roi",
         "images/deep.ppm", {"y": "5", "format": "pnm"},
         pnm(6, 11, 2, 4095, [v for r in PPM12_ROWS[5:] for v in r]),
         {"x-object-meta-roi": "0,5,11,2"})
    case("image-roi PPM to PNM", "image-roi", "images/color.ppm",
         {"x": "3", "y": "4", "width": "17", "height": "9", "format": "pnm"},
         pnm(6, 17, 9, 255, [v for r in crop(PPM8_ROWS, 3, 3, 4, 17, 9)
                             for v in r]),
         {"content-type": "image/x-portable-pixmap"})

    for conn, ms in ((8, 1), (4, 3)):
        cells, bright = components(CELLS_ROWS, 127, conn, ms)
        case("cellcount connectivity %d min_size %d" % (conn, ms),
             "cellcount", "images/cells.pgm",
             {"connectivity": str(conn), "min_size": str(ms)},
             (cjson({"object": "images/cells.pgm", "cells": cells,
                     "bright_pixels": bright, "width": 70, "height": 50,
                     "threshold": 127, "connectivity": conn,
                     "min_size": ms}) + "\n").encode(),
             {"x-object-meta-cells": str(cells),
              "x-object-meta-bright-pixels": str(bright)})

    case("concat (services): input + two objects", "concat",
         "books/a.txt", {"objects": "books/b.txt,/AUTH_test/books/c.txt"},
         BOOKS["a.txt"] + BOOKS["b.txt"] + BOOKS["c.txt"],
         {"x-object-meta-parts": "3"})
    case("concat (services): wordcount.py of two objects, not the input",
         "concat", "books/a.txt",
         {"objects": "books/b.txt,books/c.txt", "storlet": "wordcount.py",
          "skip-input": "true"},
         WC_OUT["b.txt"] + WC_OUT["c.txt"], {"x-object-meta-parts": "2"})

    case("concat (services) of objects with a space, ?, #, % and UTF-8 "
         "in their names", "concat", "books/c.txt",
         {"objects": ",".join("odd names/" + n for n in ODD)},
         BOOKS["c.txt"] + b"".join(ODD.values()),
         {"x-object-meta-parts": "3"})
    tot = {k: sum(wc(d)[k] for d in BOOKS.values())
           for k in ("bytes", "chars", "lines", "words")}
    per = [dict(wc(d), object="books/" + n) for n, d in BOOKS.items()]
    case("wcmerge.py over a stored merge stream", "wcmerge.py",
         "merge/wc.stream", {},
         (json.dumps(dict(tot, objects=3, per_object=per), sort_keys=True)
          + "\n").encode(), {"x-object-meta-objects": "3"})
    case("sumlist over a stored merge stream", "sumlist", "merge/wc.stream",
         {"key": "words"},
         (cjson({"key": "words", "total": tot["words"], "parts": 3,
                 "objects": [{"object": "books/" + n, "words": wc(d)["words"]}
                             for n, d in BOOKS.items()]}) + "\n").encode(),
         {"x-object-meta-total": str(tot["words"])})
    case("partlist json over a stored merge stream", "partlist",
         "merge/wc.stream", {},
         (cjson({"parts": 3, "objects": [
             {"object": "books/" + n, "output": json.loads(WC_OUT[n])}
             for n in BOOKS]}) + "\n").encode())
    case("partlist raw over a stored merge stream", "partlist",
         "merge/wc.stream", {"format": "raw"},
         b"".join(MERGE_PARTS[i][2] for i in (2, 0, 1)),
         {"content-type": "application/octet-stream"})

    # ---- run every case every way
    def judge(title, how, st, hdrs, body, want, want_h, check, where):
        if not t.eq(st, 200, "%s, %s: 200" % (title, how)):
            t.diag(body[:300])
            return
        if check:
            r = check(body)
            t.ok(r is True, "%s, %s: the output is right%s" %
                 (title, how, "" if r is True else " (%s)" % r))
        else:
            same(body, want, "%s, %s: the output, byte for byte" %
                 (title, how))
        if hdrs is not None:
            t.eq({k: hdrs.get(k) for k in want_h}, want_h,
                 "%s, %s: output metadata and type in the headers" %
                 (title, how))
            ran = hdrs.get("x-storlet-executed-on")
            ok = ran in node_ids if where == "node" else ran == "proxy"
            t.ok(ok, "%s, %s: ran on the %s (%s)" % (title, how, where, ran))

    for title, storlet, obj, params, want, want_h, check in cases:
        on_proxy = storlet == "concat"    # a services storlet runs there
        h = {"X-Run-Storlet": storlet}
        for i, (k, v) in enumerate(params.items(), 1):
            h["X-Storlet-Parameter-%d" % i] = "%s:%s" % (
                k, urllib.parse.quote(v, safe=""))
        st, hd, b = curl.req("GET", "/" + obj, h)
        judge(title, "curl, header parameters", st, hd, b, want, want_h,
              check, "proxy" if on_proxy else "node")
        if params:
            st, hd, b = curl.req("GET", "/%s?%s" % (
                obj, urllib.parse.urlencode(params)), {"X-Run-Storlet":
                                                       storlet})
            judge(title, "curl, query parameters", st, hd, b, want, want_h,
                  check, "proxy" if on_proxy else "node")
        st, hd, b = curl.req("GET", "/" + obj, dict(
            h, **{"X-Storlet-Run-On-Proxy": ""}))
        judge(title, "curl, run on the proxy", st, hd, b, want, want_h,
              check, "proxy")
        args = ["download", obj.split("/")[0], obj.split("/", 1)[1],
                "-o", "-"]
        for k, v in h.items():
            args += ["--header", "%s: %s" % (k, v)]
        r = swift(*args)
        if not t.eq(r.returncode, 0, "%s, swift download -o -: exit 0 "
                    "(checksum check on)" % title):
            t.diag(r.stderr.decode(errors="replace"))
        else:
            judge(title, "swift download", 200, None, r.stdout, want, want_h,
                  check, None)

    # ---- swift download to a file, as a user keeps a PNG
    r = swift("download", "images", "gray.pgm", "-o", "roi.png",
              "--header", "X-Run-Storlet: image-roi",
              "--header", "X-Storlet-Parameter-1: width:10",
              "--header", "X-Storlet-Parameter-2: height:4")
    t.eq(r.returncode, 0, "swift download -o roi.png through image-roi")
    try:
        with open(os.path.join(swift.dir, "roi.png"), "rb") as f:
            got = png_decode(f.read())
    except (OSError, ValueError) as e:
        got = str(e)
    t.eq(got, (10, 4, 1, 8, crop(PGM8_ROWS, 1, 0, 0, 10, 4)),
         "the file is the PNG of the region")

    # ---- failures a user sees, with curl
    st, _, b = curl.req("GET", "/images/gray.pgm?x=61",
                        {"X-Run-Storlet": "image-roi"})
    t.ok(st == 400 and b"outside the 61x47 image" in b,
         "image-roi: a corner outside the image is 400 with the reason "
         "(%d %r)" % (st, b[:80]))
    st, _, b = curl.req("GET", "/data/text.txt",
                        {"X-Run-Storlet": "image-roi"})
    t.ok(st == 422 and b"not a binary PGM/PPM" in b,
         "image-roi: text is 422 with the reason (%d %r)" % (st, b[:80]))
    st, _, b = curl.req("GET", "/data/text.txt", {"X-Run-Storlet": "grep"})
    t.ok(st == 400 and b"pattern" in b,
         "grep without a pattern is 400 naming it (%d %r)" % (st, b[:80]))
    st, _, b = curl.req("GET", "/data/records.csv?mode=hash",
                        {"X-Run-Storlet": "deid.py"})
    t.ok(st == 400 and b"salt" in b,
         "deid mode=hash without a salt is 400 (%d %r)" % (st, b[:80]))
    st, _, b = curl.req("GET", "/data/blob?algorithms=crc",
                        {"X-Run-Storlet": "fixity"})
    t.ok(st == 400 and b"unknown algorithm" in b,
         "fixity: an unknown algorithm is 400 (%d %r)" % (st, b[:80]))
    r = swift("download", "data", "text.txt", "-o", "-",
              "--header", "X-Run-Storlet: grep")
    t.ok(r.returncode != 0 and b"400" in r.stderr,
         "swift download reports the 400 and exits non-zero (%r)" %
         r.stderr[-120:])
    cl.expect_log(r"storlet .*(image-roi|grep|deid|fixity).*"
                  r"(outside|PGM/PPM|pattern|salt|algorithm)")

    # ---- Distributed with curl (the swift CLI cannot POST a body)
    def dist(doc):
        f = os.path.join(work, "dist.json")
        with open(f, "w") as fh:
            json.dump(doc, fh)
        return curl.req("POST", "", {"X-Storlet-Distributed": "1",
                                     "Content-Type": "application/json"},
                        data=f)

    st, h, b = dist({"resources": {"container": "books"},
                     "split": {"storlet": "wordcount.py"},
                     "merge": {"storlet": "wcmerge.py",
                               "parameters": {"per_object": "false"}}})
    t.eq(st, 200, "curl POST Distributed wordcount.py + wcmerge.py")
    same(b, (json.dumps(dict(tot, objects=3), sort_keys=True) +
             "\n").encode(), "the merged counts, byte for byte")
    t.eq(h.get("x-storlet-distributed-parts"), "3", "three parts")
    curl.req("PUT", "/results")
    st, h, _ = dist({"resources": {"container": "books"},
                     "split": {"storlet": "wordcount.py"},
                     "merge": {"storlet": "wcmerge.py"},
                     "result": "results/books-wc.json"})
    t.eq(st, 201, "curl POST Distributed with a result object")
    r = swift("download", "results", "books-wc.json", "-o", "-")
    same(r.stdout, (json.dumps(dict(tot, objects=3, per_object=per),
                               sort_keys=True) + "\n").encode(),
         "swift download of the result (checksum check on), byte for byte")
    r = swift("stat", "results", "books-wc.json")
    t.ok(b"Meta Storlet-Generated-By: wcmerge.py" in r.stdout and
         b"Meta Storlet-Distributed-Parts: 3" in r.stdout,
         "swift stat shows its provenance")
    cells, bright = components(CELLS_ROWS, 127, 8, 1)
    st, h, b = dist({"resources": {"objects": ["images/cells.pgm",
                                               "images/gray.pgm"]},
                     "split": {"storlet": "cellcount",
                               "parameters": {"threshold": "200"}},
                     "merge": {"storlet": "partlist"}})
    want = {"parts": 2, "objects": []}
    for name, rows in (("images/cells.pgm", CELLS_ROWS),
                       ("images/gray.pgm", PGM8_ROWS)):
        c, br = components(rows, 200, 8, 1)
        want["objects"].append({"object": name, "output": {
            "object": name, "cells": c, "bright_pixels": br,
            "width": len(rows[0]), "height": len(rows), "threshold": 200,
            "connectivity": 8, "min_size": 1}})
    t.eq(st, 200, "curl POST Distributed cellcount + partlist")
    same(b, (cjson(want) + "\n").encode(),
         "every image's cells, in request order, byte for byte")

t.done()
