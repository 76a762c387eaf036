#!/usr/bin/python3
# tier: quick
"""cairn-proxy with storage nodes down. With one of four nodes stopped,
uploads succeed (a handoff takes the missing replica) and downloads return
the data. With two of an object's three primaries and every handoff
unreachable, the upload fails with 503 and nothing is stored or listed.
A node that is down is error-limited instead of retried on every request."""
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import BUILD, Cluster, wait_for  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()


def md5(b):
    return hashlib.md5(b).hexdigest()


def object_nodes(cl, a, c, o, ring="object"):
    """(partition, [(ip, port, device, is_handoff)]) for a/c/o from a ring
    (o None: the container's nodes)."""
    names = [a, c] + ([o] if o else [])
    out = subprocess.check_output([
        os.path.join(BUILD, "cairn-get-nodes"), "-a", "--swift-conf",
        cl.cairn_conf, os.path.join(cl.dir, ring + ".ring")] + names,
        text=True)
    res = []
    for line in out.splitlines():
        if line.startswith("Server:Port Device"):
            parts = line.split("\t")
            hp, dev = parts[1].split(" ")
            ip, port = hp.rsplit(":", 1)
            res.append((ip, int(port), dev, "Handoff" in line))
        elif line.startswith("Partition"):
            part = int(line.split("\t")[1])
    return part, res


with Cluster(t) as cl:
    # node_timeout well above container_update_timeout (1 s), so that a
    # container update awaited for longer than that is seen (hung node)
    nodes = cl.storage_cluster(conf={"node_timeout": "10"})
    p = cl.proxy(conf={"app": {"error_suppression_limit": "3"}})
    path, tok = p.auth()
    H = {"X-Auth-Token": tok}

    def req(m, u, body=None, headers=None):
        hh = dict(H)
        hh.update(headers or {})
        return p.request(m, u, body=body, headers=hh)

    t.eq(req("PUT", path + "/c")[0], 201, "container created, all nodes up")
    early = os.urandom(50000)
    t.eq(req("PUT", path + "/c/early", body=early)[0], 201,
         "object stored, all nodes up")

    # ---- one node of four down
    nodes[3].stop()
    bodies = {}
    codes = []
    for i in range(12):
        b = os.urandom(1000 * (i + 1) * 7)
        bodies["o%02d" % i] = b
        codes.append(req("PUT", path + "/c/o%02d" % i, body=b)[0])
    t.eq(codes, [201] * 12, "with one node down every upload answers 201")
    ok = all(req("GET", path + "/c/" + n)[2] == b for n, b in bodies.items())
    t.ok(ok, "and every download returns the data")
    st, _, got = req("GET", path + "/c/early")
    t.ok(st == 200 and got == early, "an object stored before is readable")
    t.eq(req("PUT", path + "/c2")[0], 201, "a container PUT succeeds too")
    st, _, b = req("GET", path + "/c?format=json")
    t.eq(st, 200, "the listing answers")
    # the stopped node was error-limited rather than retried every time
    log = p.read_log()
    t.ok("%s:%d/%s error limited" % (nodes[3].ip, nodes[3].port,
                                     nodes[3].devices[0]) in log,
         "the dead node was error-limited")
    nodes[3].start()

    # ---- a stale replica: X-Newest reads the newest one. A fresh proxy,
    # whose error limits do not remember the node stopped above.
    p = cl.proxy()
    path, tok = p.auth()
    H["X-Auth-Token"] = tok
    part, on = object_nodes(cl, "AUTH_test", "c", "stale")
    first = [n for n in nodes if (n.ip, n.port) == on[0][:2]][0]
    t.eq(req("PUT", path + "/c/stale", body=b"old")[0], 201, "v1 stored")
    first.stop()
    t.eq(req("PUT", path + "/c/stale", body=b"new")[0], 201,
         "v2 stored with the first primary down")
    first.start()
    st, _, got = req("GET", path + "/c/stale", headers={"X-Newest": "true"})
    t.eq((st, got), (200, b"new"), "X-Newest reads the newest replica")
    st, _, got = first.obj("GET", "/%s/%d/AUTH_test/c/stale" % (on[0][2],
                                                                  part))
    t.eq((st, got), (200, b"old"), "(the first primary still holds v1)")
    st, _, got = req("COPY", path + "/c/stale",
                     headers={"Destination": "c/stale-copy"})
    st, _, got = req("GET", path + "/c/stale-copy")
    t.eq(got, b"new", "COPY reads its source from the newest replica")

    # ---- two of three primaries and every handoff down
    part, on = object_nodes(cl, "AUTH_test", "c", "victim")
    prim = [x for x in on if not x[3]]
    t.eq(len(prim), 3, "the object has three primaries")
    keep = prim[0]
    down = [n for n in nodes if (n.ip, n.port, n.devices[0]) != keep[:3]]
    for n in down:
        n.stop()
    st, _, _ = req("PUT", path + "/c/victim", body=os.urandom(100000))
    t.eq(st, 503, "an upload that cannot reach a quorum answers 503")
    st, _, _ = req("PUT", path + "/c/victim", body=b"")
    t.eq(st, 503, "a zero-byte one too")
    for n in down:
        n.start()
    st, _, _ = req("HEAD", path + "/c/victim")
    t.eq(st, 404, "nothing was stored")
    st, _, b = req("GET", path + "/c?format=json&prefix=victim")
    t.eq((st, json.loads(b)), (200, []), "nothing is listed")
    # The one primary that was up holds no partial object either.
    keepnode = [n for n in nodes if (n.ip, n.port) == keep[:2]][0]
    st, _, _ = keepnode.obj("HEAD", "/%s/%d/AUTH_test/c/victim" % (
        keep[2], part))
    t.eq(st, 404, "the primary that was up has no copy")
    # ---- a node that accepts but never answers: node_timeout, then others
    p2 = cl.proxy(conf={"app": {"node_timeout": "1",
                                "error_suppression_limit": "100"}})
    path2, tok2 = p2.auth()
    H2 = {"X-Auth-Token": tok2}
    # The hung node holds no replica of the container, so that the healthy
    # nodes' container updates do not wait on it: this is about the proxy.
    _, cn = object_nodes(cl, "AUTH_test", "c", None, ring="container")
    cprim = set(x[:2] for x in cn if not x[3])
    hung = [n for n in nodes if (n.ip, n.cport)
            not in cprim][0]
    hung_obj = (hung.ip, hung.port)
    name = next("hung%d" % i for i in range(1000)
                if object_nodes(cl, "AUTH_test", "c", "hung%d" % i)[1][0][:2]
                == hung_obj)
    st, _, _ = p2.request("PUT", path2 + "/c/" + name, body=b"v1",
                          headers=H2)
    t.eq(st, 201, "stored before the node hangs")
    os.kill(hung.proc.pid, signal.SIGSTOP)

    def stopped():
        with open("/proc/%d/stat" % hung.proc.pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "T"
    wait_for(stopped, 30, "the node to stop")
    try:
        st, _, got = p2.request("GET", path2 + "/c/" + name, headers=H2)
        t.eq((st, got), (200, b"v1"),
             "a GET whose first node hangs is served by another replica")
        where = "%s:%d/%s: Connection timed out" % (hung.ip, hung.port,
                                                    hung.devices[0])
        t.ok(where in p2.read_log(), "after a node timeout on the hung node")
    finally:
        os.kill(hung.proc.pid, signal.SIGCONT)

    # ---- one primary hung (SIGSTOP) that is also a container replica.
    # The proxy waits node_timeout for its 100 Continue (as Swift) and
    # gives its replica to a handoff; the healthy object nodes must answer
    # within container_update_timeout (1 s) even though one of their
    # container updates goes to the hung node, which answers nothing for
    # the storage nodes' node_timeout (10 s, see above). If they waited for
    # it, the PUT would fail here at the proxy's node_timeout (4 s).
    p3 = cl.proxy(conf={"app": {"node_timeout": "4",
                                "error_suppression_limit": "100"}})
    path3, tok3 = p3.auth()
    H3 = {"X-Auth-Token": tok3}
    hung = [n for n in nodes if (n.ip, n.cport) in cprim][0]
    name = next("hungput%d" % i for i in range(1000)
                if (hung.ip, hung.port) in set(
                    x[:2] for x in object_nodes(
                        cl, "AUTH_test", "c", "hungput%d" % i)[1]
                    if not x[3]))
    data = os.urandom(70000)
    os.kill(hung.proc.pid, signal.SIGSTOP)
    try:
        wait_for(stopped, 30, "the node to stop")
        st, _, _ = p3.request("PUT", path3 + "/c/" + name, body=data,
                              headers=H3)
        t.eq(st, 201, "an upload with one primary hung succeeds (quorum)")
        st, _, got = p3.request("GET", path3 + "/c/" + name, headers=H3)
        t.ok(st == 200 and got == data, "and the download returns the data")
        # A healthy node answers its own PUT whose container update goes
        # to the hung node, and serves other requests meanwhile.
        good = [n for n in nodes if n is not hung][0]
        cpart, _ = object_nodes(cl, "AUTH_test", "c", None,
                                ring="container")
        res = {}

        def direct_put():
            res["put"] = good.obj("PUT", "/%s/1/AUTH_test/c/direct" %
                                  good.devices[0], body=b"hello", headers={
                                      "X-Timestamp": "%.5f" % time.time(),
                                      "Content-Type": "text/plain",
                                      "X-Container-Host": "%s:%d" % (
                                          hung.ip, hung.cport),
                                      "X-Container-Device": hung.devices[0],
                                      "X-Container-Partition": str(cpart)},
                                  timeout=8)[0]
        th = threading.Thread(target=direct_put)
        th.start()
        st, _, _ = good.obj("GET", "/healthcheck", timeout=8)
        th.join()
        t.eq((st, res.get("put")), (200, 201),
             "a node whose container update hangs answers the PUT and "
             "other requests")
    finally:
        os.kill(hung.proc.pid, signal.SIGCONT)

    cl.expect_log(r"error limited|Connection refused|timed out")

t.done()
