#!/usr/bin/python3
# tier: quick
"""Distributed storlets on a real cluster (docs/compound-storlets.md section
2): POST /v1/<account> with X-Storlet-Distributed: 1 runs a split storlet on
every resource, each as a storlet GET on an object node, and a merge storlet
on the proxy over their outputs.

Covered: cellcount + sumlist over 100 small PGM images under a prefix, the
merged output checked against cell counts computed here independently; the
list form (request order kept); a split chain; wordcount + wcmerge over a
container; merge chains of two and three stages, and one whose second stage
fails; the result stored as an object with provenance; split outputs larger
than the proxy's buffers (identity + partlist raw), and a split failing
after the merge output was let go (cut response, no result stored); a
missing object and a split storlet failing on one object fail the whole
request with a reason naming the resource and store nothing; too many
resources (400), an empty prefix (404), also when the count spans two
listing pages (1001 empty objects) with names that need quoting; a caller
without read access (403 naming the container or the object) or write
access to the result; malformed bodies (400)."""
import concurrent.futures
import http.client
import json
import os
import random
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster, SRC  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()


def make_pgm(rng, w, h):
    """A P5 PGM with a few bright blobs; returns (bytes, pixel rows)."""
    px = [[rng.randrange(0, 100) for _ in range(w)] for _ in range(h)]
    for _ in range(rng.randrange(0, 7)):
        cx, cy = rng.randrange(w), rng.randrange(h)
        for y in range(max(0, cy - 1), min(h, cy + 2)):
            for x in range(max(0, cx - rng.randrange(0, 3)), min(w, cx + 2)):
                px[y][x] = rng.randrange(129, 256)
    body = b"P5\n%d %d\n255\n" % (w, h) + bytes(v for row in px for v in row)
    return body, px


def count_cells(px, threshold=128):
    """8-connected components of pixels > threshold (independent of the
    storlet's two-row union-find)."""
    h, w = len(px), len(px[0])
    seen = [[False] * w for _ in range(h)]
    cells = bright = 0
    for y in range(h):
        for x in range(w):
            if px[y][x] <= threshold or seen[y][x]:
                continue
            cells += 1
            stack = [(y, x)]
            seen[y][x] = True
            while stack:
                cy, cx = stack.pop()
                bright += 1
                for dy in (-1, 0, 1):
                    for dx in (-1, 0, 1):
                        ny, nx = cy + dy, cx + dx
                        if (0 <= ny < h and 0 <= nx < w and not seen[ny][nx]
                                and px[ny][nx] > threshold):
                            seen[ny][nx] = True
                            stack.append((ny, nx))
    return cells, bright


def wc(data):
    return {"bytes": len(data), "lines": data.count(b"\n"),
            "words": len(data.split()),
            "chars": len(data) - sum(1 for b in data if 0x80 <= b <= 0xbf)}


with Cluster(t) as cl:
    nodes, p = cl.storlet_cluster(
        users={"test:tester": "testing .admin", "test:reader": "reading"},
        proxy_conf={"storlet_distributed_concurrency": "4"})
    path, tok = p.auth("test:tester")
    _, rtok = p.auth("test:reader")
    req = p.requester(tok)

    def dist(doc, token=None, raw=None, value="1"):
        body = raw if raw is not None else json.dumps(doc).encode()
        return req("POST", path, body=body, token=token, headers={
            "X-Storlet-Distributed": value,
            "Content-Type": "application/json"})

    t.eq(p.enable_storlets(path, tok, ("storlet", "dependency", "scans",
                                       "books", "results")),
         204, "enable the account")
    for name in ("cellcount", "sumlist", "identity", "partlist"):
        t.eq(p.deploy(path, tok, name, metadata="yes"), 201,
             "deploy %s" % name)
    for name in ("wordcount", "wcmerge"):
        with open(os.path.join(SRC, "storlets", name, name + ".py"),
                  "rb") as f:
            t.eq(p.deploy(path, tok, name + ".py", body=f.read(),
                          lang="python", main=name + ".main",
                          metadata="yes"),
                 201, "deploy %s.py" % name)
    # the storlets are the caller's: the reader may run them, not the data
    req("POST", path + "/storlet",
        headers={"X-Container-Read": "test:reader"})

    # ---- 100 small images under p1/, a few others beside them
    rng = random.Random(7)
    want = {}
    for i in range(100):
        body, px = make_pgm(rng, rng.randrange(8, 25), rng.randrange(6, 17))
        name = "p1/ct-%03d.pgm" % i
        st, _, _ = req("PUT", path + "/scans/" + name, body=body)
        if st != 201:
            t.eq(st, 201, "store %s" % name)
        want[name] = count_cells(px)
    for name in ("p2/ct-000.pgm", "p2/ct-001.pgm"):
        body, _ = make_pgm(rng, 8, 8)
        req("PUT", path + "/scans/" + name, body=body)
    req("PUT", path + "/scans/bad.pgm", body=b"this is not an image\n")
    total = sum(c for c, _ in want.values())
    t.ok(total > 50, "the images hold cells (%d)" % total)

    # ---- container + prefix: every image, merged
    doc = {"resources": {"container": "scans", "prefix": "p1/"},
           "split": {"storlet": "cellcount",
                     "parameters": {"threshold": "128"}},
           "merge": {"storlet": "sumlist", "parameters": {"key": "cells"}},
           "concurrency": 8}
    st, h, b = dist(doc)
    t.eq(st, 200, "Distributed cellcount + sumlist over 100 images")
    out = json.loads(b) if st == 200 else {}
    t.eq(out.get("total"), total, "the total is the cells counted here")
    t.eq(out.get("parts"), 100, "100 parts merged")
    t.eq(out.get("objects"),
         [{"object": "scans/" + n, "cells": want[n][0]} for n in sorted(want)],
         "every image's count, in listing order")
    t.eq(h.get("x-storlet-distributed-parts"), "100",
         "X-Storlet-Distributed-Parts")
    t.eq(h.get("x-object-meta-total"), str(total),
         "the merge's output metadata is a header")
    log = "".join(n.read_log() for n in nodes)
    t.ok(log.count("storlet account=AUTH_test storlet=cellcount ") >= 100,
         "the object nodes ran the splits")
    t.ok("storlet account=AUTH_test storlet=cellcount " not in p.read_log(),
         "the proxy ran no split")

    # ---- a list, in its own order; the bright pixels as the key
    names = ["p1/ct-042.pgm", "p1/ct-007.pgm", "p2/ct-001.pgm",
             "p1/ct-099.pgm"]
    st, _, b = dist({"resources": {"objects": ["scans/" + n for n in names]},
                     "split": [{"storlet": "cellcount",
                                "parameters": {"threshold": "128"}}],
                     "merge": {"storlet": "sumlist",
                               "parameters": {"key": "bright_pixels"}}})
    out = json.loads(b) if st == 200 else {}
    t.eq(st, 200, "the list form")
    t.eq([o["object"] for o in out.get("objects", [])],
         ["scans/" + n for n in names], "parts in request order")
    t.eq([o["bright_pixels"] for o in out.get("objects", [])[:2]],
         [want[names[0]][1], want[names[1]][1]],
         "split parameters reached the split, merge ones the merge")

    # ---- a split chain: a Sequence on the object node per resource,
    # stage-scoped parameters reaching their stage
    st, _, b = dist({"resources": {"objects": ["scans/" + n for n in names]},
                     "split": [{"storlet": "identity"},
                               {"storlet": "cellcount",
                                "parameters": {"threshold": "128"}}],
                     "merge": {"storlet": "sumlist"}})
    out = json.loads(b) if st == 200 else {}
    t.eq((st, [o["cells"] for o in out.get("objects", [])]),
         (200, [want[n][0] if n in want else o["cells"]
                for n, o in zip(names, out.get("objects", []))]),
         "a split chain (identity, cellcount) per resource (%d %r)"
         % (st, b[:100]))

    # ---- word count over a container
    texts = {"a.txt": b"the quick brown fox\njumps over\n",
             "b.txt": "caf\u00e9 cr\u00e8me\n\tbr\u00fbl\u00e9e  \n".encode(),
             "c.txt": b"no newline at the end",
             "d.txt": b""}
    for n, data in texts.items():
        req("PUT", path + "/books/" + n, body=data)
    st, h, b = dist({"resources": {"container": "books"},
                     "split": {"storlet": "wordcount.py"},
                     "merge": {"storlet": "wcmerge.py"}})
    out = json.loads(b) if st == 200 else {}
    t.eq(st, 200, "Distributed wordcount over a container")
    tot = {k: sum(wc(d)[k] for d in texts.values())
           for k in ("bytes", "chars", "lines", "words")}
    t.eq({k: out.get(k) for k in tot}, tot, "the totals are wc's")
    t.eq(out.get("per_object"),
         [dict(wc(texts[n]), object="books/" + n) for n in sorted(texts)],
         "per object, in listing order (an empty object too)")

    # ---- a merge chain: each stage's output the next one's input, the
    # last one's output metadata the answer's
    txt = ["books/" + n for n in sorted(texts)]
    chain = {"resources": {"objects": txt},
             "split": {"storlet": "identity"},
             "merge": [{"storlet": "partlist",
                        "parameters": {"format": "raw"}},
                       {"storlet": "wordcount.py"}]}
    st, h, b = dist(chain)
    out = json.loads(b) if st == 200 else {}
    t.eq((st, {k: out.get(k) for k in ("bytes", "chars", "lines")}),
         (200, {k: tot[k] for k in ("bytes", "chars", "lines")}),
         "merge chain partlist raw, wordcount.py: the texts counted together")
    t.eq(h.get("x-object-meta-lines"), str(tot["lines"]),
         "the last merge stage's metadata is the answer's")
    st, _, b = dist(dict(chain, resources={"objects": ["books/d.txt"]},
                         merge=chain["merge"] + [{"storlet": "identity"}]))
    t.eq((st, json.loads(b) if st == 200 else b),
         (200, {"bytes": 0, "chars": 0, "lines": 0, "words": 0}),
         "a three-stage merge over an empty part")
    st, _, b = dist(dict(chain, merge=[chain["merge"][0],
                                       {"storlet": "cellcount"}],
                         result="results/chain.json"))
    t.ok(st == 422 and b.startswith(b"merge stage 2 (cellcount) failed: "),
         "a failing merge stage fails the request naming it (%d %r)"
         % (st, b[:100]))
    st, _, _ = req("HEAD", path + "/results/chain.json")
    t.eq(st, 404, "and nothing stored")

    # ---- the result as an object
    doc_r = dict(doc, result="results/p1-cells.json")
    st, h, b = dist(doc_r)
    t.eq(st, 201, "with result: 201")
    t.eq(h.get("x-storlet-distributed-parts"), "100", "parts on the 201")
    st2, h2, b2 = req("GET", path + "/results/p1-cells.json")
    t.eq(st2, 200, "the result is stored")
    t.eq(json.loads(b2 or b"{}").get("total"), total, "it holds the merge")
    t.eq(h.get("etag"), h2.get("etag"), "the 201's Etag is the stored one")
    t.eq(h2.get("x-object-meta-storlet-generated-by"), "sumlist",
         "provenance: the merge")
    t.eq(h2.get("x-object-meta-storlet-generated-from"), "scans/p1/",
         "provenance: the container and prefix")
    t.ok("cellcount" in h2.get("x-object-meta-storlet-generated-split", ""),
         "provenance: the split")
    t.eq(h2.get("x-object-meta-total"), str(total),
         "the merge's metadata is stored")

    # ---- split outputs larger than the proxy's buffers stream through:
    # each part whole and contiguous, the merge output past the 1 MiB it
    # holds back
    big = {"big/%d" % i: bytes(rng.getrandbits(8) for _ in range(600000 + i))
           for i in range(3)}
    for n, data in big.items():
        req("PUT", path + "/books/" + n, body=data)
    raw = {"resources": {"container": "books", "prefix": "big/"},
           "split": {"storlet": "identity"},
           "merge": {"storlet": "partlist", "parameters": {"format": "raw"}},
           "concurrency": 3}
    orders = [big[x] + big[y] + big[z] for x in big for y in big for z in big
              if len({x, y, z}) == 3]
    st, h, b = dist(raw)
    t.eq(st, 200, "identity + partlist raw over 3 x 600 kB")
    t.ok(b in orders,
         "every part whole and contiguous, none lost (%d bytes)" % len(b))
    st, h, _ = dist(dict(raw, result="results/big.bin"))
    st2, _, b2 = req("GET", path + "/results/big.bin")
    t.ok(st == 201 and st2 == 200 and b2 in orders,
         "and stored whole as a result (%d, %d bytes)" % (st, len(b2)))

    # a failure after the merge output outgrew what the proxy holds back:
    # the response is cut (never a short answer taken as whole), a result
    # is not stored, and the proxy logs why. With concurrency 1 the failing
    # split starts only once the parts before it are all in the merge's
    # input; of those, at most 320 KiB wait in the proxy, 1 MiB in the
    # pipe to the merge, a 64 KiB chunk in the merge and 1 MiB in the pipe
    # from it: the rest has reached the proxy's hold. 4.5 MiB of parts
    # before the failure so put more than 1 MiB there whatever the merge's
    # pace (1.8 MiB was enough only when the merge kept up).
    pad = ["books/pad/%d" % i for i in range(5)]
    for n in pad:
        req("PUT", path + "/" + n, body=big["big/0"])
    cut = dict(raw, concurrency=1, resources={"objects": [
        "books/big/0", "books/big/1", "books/big/2"] + pad +
        ["books/nothere"]})
    c = p.conn()
    c.request("POST", path, body=json.dumps(cut).encode(), headers={
        "X-Auth-Token": tok, "X-Storlet-Distributed": "1"})
    r = c.getresponse()
    try:
        r.read()
        got = "whole"
    except http.client.IncompleteRead:
        got = "cut"
    c.close()
    t.eq((r.status, got), (200, "cut"),
         "a split failing after 1 MiB of merge output cuts the response")
    t.ok("split identity failed on books/nothere: 404 Not Found"
         in p.read_log(), "and the proxy logs the reason")
    st, _, b = dist(dict(cut, result="results/cut.bin"))
    t.eq((st, b), (404, b"split identity failed on books/nothere: "
                        b"404 Not Found"),
         "with result the same failure is a clean 404")
    st, _, _ = req("HEAD", path + "/results/cut.bin")
    t.eq(st, 404, "and the PUT already under way stored nothing")

    # ---- a failing split fails everything, naming the resource
    bad_list = ["scans/p1/ct-001.pgm", "scans/p1/nothere.pgm",
                "scans/p1/ct-002.pgm"]
    st, _, b = dist({"resources": {"objects": bad_list},
                     "split": {"storlet": "cellcount"},
                     "merge": {"storlet": "sumlist"},
                     "result": "results/missing.json"})
    t.eq((st, b), (404, b"split cellcount failed on scans/p1/nothere.pgm: "
                        b"404 Not Found"),
         "a missing object: 404 naming it")
    st, _, _ = req("HEAD", path + "/results/missing.json")
    t.eq(st, 404, "and nothing stored")
    st, _, b = dist({"resources": {"objects": ["scans/p1/ct-003.pgm",
                                               "scans/bad.pgm"]},
                     "split": {"storlet": "cellcount"},
                     "merge": {"storlet": "sumlist"},
                     "result": "results/bad.json"})
    t.ok(st == 422 and b.startswith(
        b"split cellcount failed on scans/bad.pgm: 422 "),
        "a split storlet failing on one object: 422 naming it (%d %r)"
        % (st, b[:160]))
    st, _, _ = req("HEAD", path + "/results/bad.json")
    t.eq(st, 404, "and nothing stored")
    st, _, b = dist({"resources": {"objects": ["scans/p1/ct-003.pgm"]},
                     "split": {"storlet": "cellcount"},
                     "merge": {"storlet": "nosuchmerge"}})
    t.ok(st == 401 and b"nosuchmerge" in b,
         "a missing merge storlet: 401 naming it (%d %r)" % (st, b[:120]))

    # ---- fan-out bounds
    st, _, b = dist(dict(doc, max_resources=10))
    t.eq((st, b), (400, b"the prefix 'p1/' of container 'scans' names more "
                        b"than 10 objects; raise max_resources or narrow "
                        b"the prefix"), "too many resources: 400")
    st, _, b = dist(dict(doc, resources={"container": "scans",
                                         "prefix": "p9/"}))
    t.eq((st, b), (404, b"the prefix 'p9/' of container 'scans' names no "
                        b"object"), "an empty prefix: 404")
    st, _, b = dist(dict(doc, resources={"container": "nocontainer"}))
    t.eq(st, 404, "a missing container: 404")

    # the listing pages (1000 names each) join at the right marker, names
    # that need quoting included; a name that needs quoting reaches its split
    many = ["m\u00fc %%/%04d" % i for i in range(1001)]
    req("PUT", path + "/many")

    def put_one(n):
        return req("PUT", path + "/many/" + urllib.parse.quote(n),
                   body=b"")[0]
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        sts = list(ex.map(put_one, many))
    t.eq(set(sts), {201}, "1001 names stored")
    over = {"resources": {"container": "many", "prefix": "m\u00fc %"},
            "split": {"storlet": "identity"},
            "merge": {"storlet": "partlist", "parameters": {"format": "raw"}},
            "max_resources": 1000}
    st, _, b = dist(over)
    t.eq((st, b), (400, "the prefix 'm\u00fc %' of container 'many' names "
                        "more than 1000 objects; raise max_resources or "
                        "narrow the prefix".encode()),
         "1001 names over two listing pages: counted, 400")
    st, _, b = dist(dict(over, max_resources=1001,
                         resources={"container": "many",
                                    "prefix": "m\u00fc %/100"}))
    t.eq((st, b), (200, b""), "a prefix needing quotes, 10 empty parts")
    req("PUT", path + "/books/" + urllib.parse.quote("odd name \u00fc%?#.txt"),
        body=b"odd\n")
    st, _, b = dist({"resources": {"objects": ["books/odd name \u00fc%?#.txt"]},
                     "split": {"storlet": "wordcount.py"},
                     "merge": {"storlet": "wcmerge.py"}})
    t.eq((st, json.loads(b).get("per_object") if st == 200 else b),
         (200, [{"object": "books/odd name \u00fc%?#.txt", "bytes": 4,
                 "chars": 4, "lines": 1, "words": 1}]),
         "an object name that needs quoting")

    # ---- access: the reader may run the storlets, not read the scans
    st, _, b = dist(doc, token=rtok)
    t.eq((st, b), (403, b"cannot list container 'scans': 403 Forbidden"),
         "no read access to the container: 403 naming it")
    st, _, b = dist({"resources": {"objects": ["scans/p1/ct-005.pgm"]},
                     "split": {"storlet": "cellcount"},
                     "merge": {"storlet": "sumlist"}}, token=rtok)
    t.eq((st, b), (403, b"split cellcount failed on scans/p1/ct-005.pgm: "
                        b"403 Forbidden"),
         "no read access to an object: 403 naming it")
    req("POST", path + "/scans", headers={"X-Container-Read": "test:reader"})
    st, _, b = dist(doc, token=rtok)
    t.eq(st, 200, "with a read ACL the reader may (%d %r)" % (st, b[:100]))
    st, _, b = dist(dict(doc, result="results/reader.json"), token=rtok)
    t.eq((st, b), (403, b"storing the result in results/reader.json failed: "
                        b"403 Forbidden"),
         "no write access to the result's container: 403 naming it")
    st, _, _ = req("HEAD", path + "/results/reader.json")
    t.eq(st, 404, "and nothing stored")
    st, _, _ = req("POST", path, headers={"X-Storlet-Distributed": "1"},
                   token="AUTH_tkbogus")
    t.eq(st, 401, "a bad token: 401")

    # ---- malformed requests
    st, _, b = dist(None, raw=b"{not json")
    t.eq(st, 400, "a body that is not JSON: 400")
    st, _, b = dist(dict(doc, colour="blue"))
    t.ok(st == 400 and b"colour" in b, "an unknown key: 400 naming it")
    st, _, b = dist({"resources": {"objects": ["scans/p1/ct-001.pgm",
                                               "noslash"]},
                     "split": {"storlet": "cellcount"},
                     "merge": {"storlet": "sumlist"}})
    t.ok(st == 400 and b"resources.objects[1]" in b,
         "a bad object path: 400 naming its index (%r)" % b[:100])
    st, _, _ = dist(dict(doc, concurrency=0))
    t.eq(st, 400, "concurrency 0: 400")
    st, _, _ = dist(None, raw=b" " * 70000)
    t.eq(st, 400, "a body over 64 KiB: 400")
    # chunked: only the proxy's reading says the body is too long
    c = p.conn()
    c.request("POST", path, body=iter([b" " * 50000] * 4), encode_chunked=True,
              headers={"X-Auth-Token": tok, "X-Storlet-Distributed": "1",
                       "Content-Type": "application/json"})
    r = c.getresponse()
    got = (r.status, r.read())
    c.close()
    t.eq(got, (400, b"the request body is more than 65536 bytes"),
         "a chunked body over 64 KiB: 400 saying so, not a wrong length")
    st, _, _ = dist(doc, value="yes")
    t.eq(st, 400, "X-Storlet-Distributed other than 1: 400")

t.done()
