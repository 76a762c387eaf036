#!/usr/bin/python3
# tier: quick
"""The no-progress timeout and the output cap of storlet runs, enforced by
the engine (docs/storlets.md 3.4, docs/internals/engine.md): progress is
the storlet consuming its input, producing output or using services.

With storlet_idle_timeout = 3 s on a one-node cluster:
  - a storlet that reads a 3 MiB object steadily in 64 KiB steps (20 steps
    per idle period) and writes one line only at the end is not killed,
    although the whole run lasts longer than the idle period; its line is
    checked byte for byte;
  - a storlet that neither reads nor writes is killed (500, end=idle);
  - a storlet that reads one chunk and then stops, leaving input unread,
    is killed too (end=idle);
and with storlet_output_max = 1 MiB, identity on the 3 MiB object passes
exactly the first MiB at most and the response ends abnormally
(end=output_cap). Nothing here depends on how fast the machine is: the
killed storlets would wait forever, the slow reader's steps are 1/20 of the
period."""
import hashlib
import http.client
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster  # noqa: E402
from tap import Tap  # noqa: E402

SLOW_READER = b'''import hashlib
import time


def main(s):
    h = hashlib.md5()
    n = 0
    for chunk in iter(lambda: s.input.read(65536), b""):
        h.update(chunk)
        n += len(chunk)
        time.sleep(0.15)
    s.write("%d %s\\n" % (n, h.hexdigest()))
'''

STALL = b'''import time


def main(s):
    time.sleep(3600)
'''

READ_THEN_STALL = b'''import time


def main(s):
    s.input.read(65536)
    time.sleep(3600)
'''

t = Tap()


def get(p, path, headers):
    c = http.client.HTTPConnection(p.ip, p.port, timeout=120)
    try:
        c.request("GET", path, headers=headers)
        r = c.getresponse()
        try:
            return r.status, r.read(), True
        except http.client.IncompleteRead as e:
            return r.status, e.partial, False
    finally:
        c.close()


with Cluster(t) as cl:
    # the idle clock runs from the start: a python3 storlet's start-up
    # counts, and its group may get a few % of a CPU on a loaded host, so
    # the period leaves room for that (3 s, not 1)
    (n,), p = cl.storlet_cluster(ips=("127.0.0.1",), conf={
        "storlet_idle_timeout": "3", "storlet_output_max": "1048576"})
    path, tok = p.auth("test:tester")
    H = {"X-Auth-Token": tok}
    req = p.requester(tok)
    p.enable_storlets(path, tok, ("storlet", "data"))
    for name, code in (("slowread.py", SLOW_READER), ("stall.py", STALL),
                       ("readstall.py", READ_THEN_STALL)):
        t.eq(p.deploy(path, tok, name, body=code, lang="python",
                      main=name[:-3] + ".main"), 201, "deploy %s" % name)
    t.eq(p.deploy(path, tok, "identity"), 201, "deploy identity")
    body = os.urandom(3 << 20)
    st, _, _ = req("PUT", path + "/data/big", body=body)
    t.eq(st, 201, "PUT a 3 MiB object")

    def run(name):
        return get(p, path + "/data/big", dict(H, **{"X-Run-Storlet": name}))

    def ends(name):
        """The engine's end= values logged for storlet `name`, in order."""
        return re.findall(r"storlet=%s .* end=(\w+)" % re.escape(name),
                          n.read_log())

    st, out, complete = run("slowread.py")
    want = b"%d %s\n" % (len(body), hashlib.md5(body).hexdigest().encode())
    t.ok(st == 200 and complete and out == want,
         "a storlet that reads steadily and writes only at the end runs to "
         "completion (%d %r)" % (st, out[:120]))
    t.eq(ends("slowread.py")[-1:], ["exit"], "slow reader logged end=exit")

    st, out, _ = run("stall.py")
    t.ok(st == 500 and b"Storlet execution timed out" in out,
         "a storlet that neither reads nor writes is killed (%d %r)"
         % (st, out[:120]))
    t.eq(ends("stall.py")[-1:], ["idle"], "stalled storlet logged end=idle")

    st, out, _ = run("readstall.py")
    t.ok(st == 500 and b"Storlet execution timed out" in out,
         "a storlet that stops reading with input left is killed (%d %r)"
         % (st, out[:120]))
    t.eq(ends("readstall.py")[-1:], ["idle"],
         "storlet that stopped reading logged end=idle")

    st, out, complete = run("identity")
    t.ok(st == 200 and not complete and len(out) <= 1 << 20 and
         out == body[:len(out)],
         "output over storlet_output_max: at most the cap, a true prefix, "
         "abnormal end (%d, %d bytes, complete=%s)" % (st, len(out), complete))
    t.eq(ends("identity")[-1:], ["output_cap"], "identity logged end=output_cap")

    # the node still serves storlets normally afterwards
    small = b"after the limits\n"
    req("PUT", path + "/data/small", body=small)
    st, out, complete = get(p, path + "/data/small",
                            dict(H, **{"X-Run-Storlet": "identity"}))
    t.ok(st == 200 and complete and out == small,
         "identity on a small object still works (%d %r)" % (st, out[:60]))

t.done()
