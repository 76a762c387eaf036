#!/usr/bin/env python3
# tier: quick
"""The test library's port choice (cluster.free_port) holds up when tests run
in parallel, and a daemon whose port a foreign program took still starts.

Checks:
  - ports come from the window outside the kernel's ephemeral range, are
    distinct, and each one binds; threads of one process get distinct ones;
  - two processes reserving ports at the same time get disjoint sets;
  - a port another process holds is never handed out (the reservation is
    a lock, not a guess), and running out says so;
  - a port with someone else's listener on it is passed over;
  - a node whose reserved port a foreign listener binds before the daemon
    does (the one window free_port cannot close) starts on fresh ports,
    and its log leaves no failed check behind;
  - a restart keeps the ports (the rings name them); a proxy retries too.
"""
import json
import os
import socket
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
LIB = os.path.join(HERE, "..", "lib")
sys.path.insert(0, LIB)
from tap import Tap  # noqa: E402
import cluster  # noqa: E402
from cluster import Cluster  # noqa: E402

t = Tap()

# -- the window
lo, hi = cluster.port_window()
with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
    elo, ehi = (int(x) for x in f.read().split())
if "CAIRN_TEST_PORTS" not in os.environ:
    t.ok(hi < elo or lo > ehi,
         "the port window %d-%d lies outside the ephemeral range %d-%d" %
         (lo, hi, elo, ehi))
ports = [cluster.free_port() for _ in range(60)]
t.eq(len(set(ports)), 60, "60 reserved ports are distinct")
t.ok(all(lo <= p <= hi for p in ports), "every one is in the window")


def binds(ip, port):
    s = socket.socket()
    try:
        s.bind((ip, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


t.ok(all(binds("127.0.0.1", p) for p in ports), "every one binds")
got = [[] for _ in range(8)]
ths = [threading.Thread(target=lambda g=g: g.extend(
    cluster.free_port() for _ in range(100))) for g in got]
for th in ths:
    th.start()
for th in ths:
    th.join()
flat = [p for g in got for p in g]
t.ok(len(flat) == 800 and len(set(flat) | set(ports)) == 860,
     "8 threads reserving 100 ports each at once get distinct ones")
multi = cluster.free_port(ips=["127.0.0.1", "127.0.0.2", "127.0.0.3"])
t.ok(all(binds(ip, multi) for ip in ("127.0.0.1", "127.0.0.2",
                                     "127.0.0.3")),
     "a port reserved on three addresses binds on each")

# -- other processes
CHILD = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import cluster
mode = sys.argv[2]
if mode == "many":
    ports = [cluster.free_port() for _ in range(int(sys.argv[3]))]
    print(json.dumps(ports), flush=True)
    sys.stdin.read()          # hold them until the parent has compared
else:
    cand = json.loads(sys.argv[3])
    try:
        print(json.dumps(cluster.reserve_port(["127.0.0.1"], cand, set())))
    except RuntimeError as e:
        print(json.dumps(str(e)))
"""


def child(*args):
    return subprocess.Popen([sys.executable, "-c", CHILD, LIB] +
                            [str(a) for a in args],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)


a, b = child("many", 150), child("many", 150)
pa, pb = json.loads(a.stdout.readline()), json.loads(b.stdout.readline())
t.ok(len(pa) == len(pb) == 150 and not set(pa) & set(pb) and
     not (set(pa) | set(pb)) & set(ports),
     "two processes reserving 150 ports each at once get disjoint sets, "
     "none of this process's")
c = child("some", json.dumps(pa[:20]))
got = json.loads(c.communicate()[0])
t.ok(isinstance(got, str) and "no free test port" in got,
     "a third process gets none of the ports a live one holds")
t.diag("third process: %r" % got)
for p in (a, b):
    p.communicate("")
c = child("some", json.dumps(ports[:5]))
t.ok("no free test port" in json.loads(c.communicate()[0]),
     "nor any this process holds")

# -- someone else's listener: this process holds x and y, so nobody else
# draws them; a listener on x makes the reservation (with a fresh taken set,
# as if x were new to this process) pass x over and give y
x, y = cluster.free_port(), cluster.free_port()
srv = socket.socket()
srv.bind(("127.0.0.1", x))
srv.listen(1)
t.eq(cluster.reserve_port(["127.0.0.1"], [x, y], set()), y,
     "a port with a listener on it is passed over")
srv.close()

# -- a foreign program binds a node's port between reservation and start
with Cluster(t) as cl:
    n = cl.objectd(start=False)
    old = (n.port, n.cport, n.aport)
    thief = socket.socket()      # no SO_REUSEPORT: the daemon cannot share
    thief.bind((n.ip, n.cport))
    thief.listen(1)
    n.start()
    t.ok(n.proc.poll() is None and n.cport != old[1],
         "the node started on fresh ports after its container port was "
         "taken (was %d, now %d)" % (old[1], n.cport))
    st, _, _ = n.request("GET", "/healthcheck", port=n.cport)
    t.eq(st, 200, "its new container port answers")
    t.ok("Address already in use" in n.read_log(),
         "its log tells of the taken port")
    thief.close()
    now = (n.port, n.cport, n.aport)
    n.stop()
    n.start()
    t.eq((n.port, n.cport, n.aport), now, "a restart keeps the ports")

with Cluster(t) as cl:
    cl.storage_cluster(ips=("127.0.0.1",), replicas=1)
    p = cl.proxy(start=False)
    old = p.port
    thief = socket.socket()
    thief.bind((p.ip, p.port))
    thief.listen(1)
    p.start()
    t.ok(p.proc.poll() is None and p.port != old,
         "a proxy whose port was taken starts on a fresh one")
    t.eq(p.request("GET", "/healthcheck")[0], 200, "and answers there")
    thief.close()
t.done()
