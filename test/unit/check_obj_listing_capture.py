#!/usr/bin/python3
"""Captures the expected listings of check_obj_listing.c from a real Swift.

Loads a fixture (object rows with chosen names, timestamps, sizes, etags and
content types; container rows of an account) straight into a Swift 2.30
container server and account server through their backend API, asks them
for every listing case in the table below, and prints the C tables that
check_obj_listing.c keeps between its "BEGIN/END CAPTURED" markers.

    ./check_obj_listing_capture.py [container-server host:port] [account-server host:port]

Defaults match the swift-saio anchor (node 1: 127.0.0.1:16211, :16212,
device sdb1). A fresh account name is used on every run.
"""
import http.client
import sys
import time
import urllib.parse

CONT = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:16211"
ACCT = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1:16212"
DEV = "sdb1"
ACCOUNT = "AUTH_cap%d" % int(time.time())
CONTAINER = "list&<\"c\">"

# name, data timestamp, size, content type, etag, ctype ts, meta ts
OBJECTS = [
    ("a", "1700000000.12345", 5, "text/plain", "e-a", None, None),
    ("a/", "1700000001.00000", 0, "application/directory", "d41d8cd98f00b204e9800998ecf8427e", None, None),
    ("a/b", "1700000002.50000", 12, "a/b;swift_bytes=12345", "e-ab", None, None),
    ("a/b/c", "1700000003.00001", 3, "text/plain; charset=UTF-8", "e-abc", None, None),
    ("a/b0", "1700000004.99999", 7, "x/y;a=1;swift_bytes=7; b=\"q;r\"", "e-ab0", None, None),
    ("a/c", "1700000005.00000", 9, "t/x&<y>", "e&<>\"'", "1700000006.00000", "1700000007.12340"),
    ("b", "1700000008.00000", 1, "application/octet-stream", "e-b", None, None),
    ("b/x", "1700000009.00000", 2, "text/plain", "e-bx", None, None),
    ("c", "1700000010.00000", 3, "text/plain", "e-c", None, None),
    ("q&<>\"'x", "1700000011.00000", 4, "text/plain", "e-q", None, None),
    ("ctl\x01x\ty", "1700000012.00000", 5, "text/plain", "e-ctl", None, None),
    ("del\x7fx", "1700000013.00000", 6, "text/plain", "e-del", None, None),
    ("back\\slash", "1700000014.00000", 7, "text/plain", "e-bs", None, None),
    ("\u00e9/\u00fc", "1700000015.00000", 8, "text/plain", "e-eu", None, None),
    ("\u00e9t\u00e9", "1700000016.00000", 9, "text/plain", "e-ete", None, None),
    ("\U0001f600 smile", "1700000017.00000", 10, "text/plain", "e-smile", None, None),
    ("zz\u2028line", "1700000018.00000", 11, "text/plain", "e-ls", None, None),
]
DELETED = [("gone", "1700000020.00000", "1700000021.00000")]

CONT_CASES = [
    "", "limit=3", "marker=a/b", "end_marker=a/c", "prefix=a/", "delimiter=/",
    "prefix=a/&delimiter=/", "delimiter=/&reverse=on", "marker=b&reverse=1",
    "end_marker=b&reverse=true", "path=a", "path=", "path=a/b/", "limit=0", "prefix=zzz",
    "marker=a&end_marker=b&prefix=a", "delimiter=b", "prefix=%C3%A9",
    "delimiter=/&marker=a/", "delimiter=/&prefix=a/&reverse=on&limit=2",
    "delimiter=%C3%A9", "prefix=a&delimiter=/&marker=a/b", "end_marker=a/b/c&delimiter=/&reverse=yes",
    "limit=2&marker=a/b&prefix=a/&delimiter=/", "limit=abc", "reverse=no&limit=2",
    "prefix=a+b", "marker=%E9",
    "limit=10001", "limit=99999999999999999999999",
]
FORMATS = ["json", "xml", "plain"]
ACCEPT_CASES = [
    ("", None), ("", "application/json"), ("", "text/xml"), ("", "application/*"),
    ("", "text/*;q=0.5, application/xml"), ("", "image/png"), ("", "text/plain;q"),
    ("", "*/*"), ("format=XML", "application/json"), ("format=bogus", None),
    ("format=", "application/xml"), ("", "application/json;q=0.2, text/xml;q=0.2"),
]

# name, put, delete, objects, bytes, policy
CONTAINERS = [
    ("c1", "1700000100.00000", "0", 3, 30, 0),
    ("c2-", "1700000101.10000", "0", 0, 0, 0),
    ("c2-x", "1700000102.00000", "0", 5, 500, 0),
    ("d&<>\"", "1700000103.00000", "0", 1, 1, 0),
    ("\u00e9", "1700000104.00000", "0", 2, 2, 0),
    ("dead", "1700000105.00000", "1700000106.00000", 0, 0, 0),
]
ACCT_CASES = ["", "limit=2", "marker=c2", "delimiter=-", "prefix=c2-", "delimiter=-&reverse=on",
              "end_marker=d&reverse=1", "prefix=zzz", "path=c2", "delimiter=-&marker=c2-",
              "prefix=c&delimiter=2", "limit=10001"]


def call(hostport, method, path, headers=None, query=""):
    host, port = hostport.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    url = urllib.parse.quote(path.encode("utf-8"))
    if query:
        url += "?" + query
    conn.request(method, url, headers=headers or {})
    resp = conn.getresponse()
    body = resp.read()
    ctype = resp.getheader("Content-Type") or ""
    conn.close()
    return resp.status, ctype, body


def load():
    cpath = "/%s/0/%s/%s" % (DEV, ACCOUNT, CONTAINER)
    st = call(CONT, "PUT", cpath, {"X-Timestamp": "1600000000.00000"})[0]
    assert st == 201, st
    for name, ts, size, ctype, etag, cts, mts in OBJECTS:
        h = {"X-Timestamp": ts, "X-Size": str(size), "X-Content-Type": ctype, "X-Etag": etag}
        if cts:
            h["X-Content-Type-Timestamp"] = cts
        if mts:
            h["X-Meta-Timestamp"] = mts
        st = call(CONT, "PUT", cpath + "/" + name, h)[0]
        assert st == 201, (name, st)
    for name, ts, dts in DELETED:
        call(CONT, "PUT", cpath + "/" + name, {"X-Timestamp": ts, "X-Size": "1",
                                              "X-Content-Type": "t/t", "X-Etag": "x"})
        call(CONT, "DELETE", cpath + "/" + name, {"X-Timestamp": dts})
    apath = "/%s/0/%s" % (DEV, ACCOUNT)
    st = call(ACCT, "PUT", apath, {"X-Timestamp": "1600000000.00000"})[0]
    assert st == 201, st
    for name, put, dele, cnt, byt, pol in CONTAINERS:
        st = call(ACCT, "PUT", apath + "/" + name, {
            "X-Put-Timestamp": put, "X-Delete-Timestamp": dele, "X-Object-Count": str(cnt),
            "X-Bytes-Used": str(byt), "X-Backend-Storage-Policy-Index": str(pol),
            "X-Timestamp": put})[0]
        assert st in (201, 204), (name, st)
    return cpath, apath


def cstr(b):
    if isinstance(b, str):
        b = b.encode("utf-8")
    out = ['"']
    for c in b:
        if c == 0x22:
            out.append('\\"')
        elif c == 0x5c:
            out.append("\\\\")
        elif c == 0x0a:
            out.append('\\n"\n        "')
        elif 0x20 <= c < 0x7f and c != 0x3f:  # '?' avoided: trigraphs
            out.append(chr(c))
        else:
            out.append("\\%03o" % c)
    out.append('"')
    return "".join(out)


def cnull(s):
    return "NULL" if s is None else cstr(s)


def main():
    cpath, apath = load()
    print("/* BEGIN CAPTURED (test/unit/check_obj_listing_capture.py, Swift %s) */"
          % "2.30.1")
    print("static const char cap_container[] = %s;" % cstr(CONTAINER))
    print("static const char cap_account[] = %s;" % cstr(ACCOUNT))
    print("static const struct fixture_obj cap_objects[] = {")
    for name, ts, size, ctype, etag, cts, mts in OBJECTS:
        print("    {%s, %s, %d, %s, %s, %s, %s}," % (cstr(name), cstr(ts), size, cstr(ctype),
                                                   cstr(etag), cnull(cts), cnull(mts)))
    print("};")
    print("static const struct fixture_del cap_deleted[] = {")
    for name, ts, dts in DELETED:
        print("    {%s, %s, %s}," % (cstr(name), cstr(ts), cstr(dts)))
    print("};")
    print("static const struct fixture_cont cap_containers[] = {")
    for name, put, dele, cnt, byt, pol in CONTAINERS:
        print("    {%s, %s, %s, %d, %d, %d}," % (cstr(name), cstr(put), cstr(dele), cnt, byt, pol))
    print("};")

    def emit(table, path, hostport, cases):
        print("static const struct listing_case %s[] = {" % table)
        for qs, accept in cases:
            hdrs = {"Accept": accept} if accept is not None else {}
            st, ct, body = call(hostport, "GET", path, hdrs, qs)
            print("    {%s, %s, %d, %s,\n        %s, %d}," % (
                cstr(qs), cnull(accept), st, cstr(ct), cstr(body), len(body)))
        print("};")

    cases = []
    for q in CONT_CASES:
        for f in FORMATS:
            cases.append(((q + "&" if q else "") + "format=" + f, None))
    cases += ACCEPT_CASES
    emit("cap_container_cases", cpath, CONT, cases)
    cases = []
    for q in ACCT_CASES:
        for f in FORMATS:
            cases.append(((q + "&" if q else "") + "format=" + f, None))
    emit("cap_account_cases", apath, ACCT, cases)
    print("/* END CAPTURED */")


if __name__ == "__main__":
    main()
