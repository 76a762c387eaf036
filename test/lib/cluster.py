"""Start real Cairn daemons on loopback for integration tests.

    from cluster import Cluster
    with Cluster(tap) as cl:
        node = cl.objectd(devices=["sda1"])      # starts cairn-objectd
        st, hdrs, body = node.request("PUT", "/sda1/0/a/c/o", body=b"x",
                                      headers={"X-Timestamp": cl.ts(),
                                               "Content-Type": "text/plain"})
    # on exit: every daemon is stopped (by the pid we started), its log is
    # checked for ERR lines and sanitizer reports, the temp dir removed.

What it provides:
  - a temp dir (TEST_KEEP=1 keeps it and prints where it is);
  - devices as plain directories (mount_check off), one tree per node;
  - etc/cairn.conf with a random hash suffix;
  - rings built with build/cairn-ring-builder (Cluster.build_ring);
  - ports on 127.0.0.x reserved for the test process (free_port:
    outside the ephemeral range, locked against parallel tests);
  - start/stop/kill of daemons by pid, health wait by polling /healthcheck;
  - at the end, a failed check when a log holds an ERR line or an
    AddressSanitizer/UBSan/ThreadSanitizer report, unless the test declared
    it with Cluster.expect_log(regex).
Standard library only.
"""
import fcntl
import http.client
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid

BUILD = os.environ.get("CAIRN_BUILD") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    "build")

SRC = os.environ.get("CAIRN_SRC") or os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
SDK = os.path.join(SRC, "storlets", "sdk", "cairn_storlet.py")

BAD_LOG = re.compile(r"( ERR |ERROR: AddressSanitizer|runtime error:|"
                     r"WARNING: ThreadSanitizer|ERROR: LeakSanitizer)")


# -- port choice
#
# Tests of several suites may run at once (two clones, TEST_JOBS > 1), so a
# port that is merely free now (bind to 0, read it back, close) may be taken
# by someone else before the daemon binds it: by another test picking the
# same way, or by any outgoing connection, whose source port the kernel
# draws from that same ephemeral range. And the daemons listen with
# SO_REUSEPORT, so a second daemon on a taken port does not even fail: it
# shares the port, and requests land in the wrong cluster.
#
# So a port is handed out only when
#   - it lies outside the kernel's ephemeral range (ip_local_port_range):
#     no connect() and no bind-to-0 ever picks it;
#   - this process holds a POSIX record lock on byte <port> of one lock file
#     shared by every test process on the machine: no other test process
#     can hand it out until this one exits (the kernel drops the locks of a
#     dead process, even one killed by SIGKILL);
#   - a plain bind (no SO_REUSEADDR/SO_REUSEPORT) to ip:port succeeds now:
#     no listener of another program, nor a daemon left over by a killed
#     test, holds it.
# CAIRN_TEST_PORTS=LO-HI sets the window by hand.

_port_lock_fd = None
_ports_taken = set()
_ports_mutex = threading.Lock()   # POSIX locks do not tell threads apart


def port_window():
    """(lo, hi): the inclusive range test ports are drawn from."""
    env = os.environ.get("CAIRN_TEST_PORTS")
    if env:
        lo, _, hi = env.partition("-")
        return int(lo), int(hi)
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            elo, ehi = (int(x) for x in f.read().split())
    except (OSError, ValueError):
        elo, ehi = 32768, 60999
    if elo - 1 - 10000 >= 1000:
        return max(10000, elo - 2700), elo - 1
    if 65535 - ehi >= 1000:
        return ehi + 1, min(65535, ehi + 2700)
    return 10000, 65535


def _lock_fd():
    global _port_lock_fd
    if _port_lock_fd is None:
        # one fd for the life of the process: closing any fd of the file
        # would drop every lock this process holds on it
        base = tempfile.gettempdir()
        for name in ("cairn-test-ports.lock",
                     "cairn-test-ports-%d.lock" % os.getuid()):
            try:
                _port_lock_fd = os.open(os.path.join(base, name),
                                        os.O_RDWR | os.O_CREAT | os.O_CLOEXEC,
                                        0o666)
                break
            except PermissionError:
                continue
        else:
            raise RuntimeError("cannot open a port lock file in " + base)
    return _port_lock_fd


def _bindable(ips, port):
    for ip in ips:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((ip, port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def reserve_port(ips, candidates, taken):
    """The first port of candidates that is not in taken, that no other
    process holds the lock of, and that binds on every ip of ips; locks it
    for the life of this process and adds it to taken. Raises RuntimeError
    when none is left. (free_port's worker; tests call it directly.)"""
    fd = _lock_fd()
    for port in candidates:
        if port in taken:
            continue
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, port)
        except OSError:
            continue            # another test process has it
        if not _bindable(ips, port):
            # someone else's listener; the lock stays (an unusable port is
            # no loss, and it may be one this process handed out already)
            continue
        taken.add(port)
        return port
    raise RuntimeError("no free test port left among %d candidates" %
                       len(candidates))


def free_port(ip="127.0.0.1", ips=None):
    """A port free on ip (or on every address of ips) that stays reserved
    for this test process until it exits; see the note above."""
    lo, hi = port_window()
    cand = list(range(lo, hi + 1))
    start = random.randrange(len(cand))
    with _ports_mutex:
        return reserve_port(list(ips or [ip]), cand[start:] + cand[:start],
                            _ports_taken)


def storlet_headers(main, lang="native", metadata="no", **extra):
    """The headers that deploy a storlet (a PUT into its storlet
    container): language, interface 1.0, Object-Metadata (yes/no), main;
    extra adds or overrides headers."""
    h = {"X-Object-Meta-Storlet-Language": lang,
         "X-Object-Meta-Storlet-Interface-Version": "1.0",
         "X-Object-Meta-Storlet-Object-Metadata": metadata,
         "X-Object-Meta-Storlet-Main": main}
    h.update(extra)
    return h


def wait_for(cond, timeout=30.0, what="condition"):
    """Polls cond() until it returns a true value; raises on timeout."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise TimeoutError("timed out waiting for " + what)
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


class Node:
    """One cairn-objectd process."""

    def __init__(self, cluster, name, ip, devices, extra_conf):
        self.cluster = cluster
        self.name = name
        self.ip = ip
        self.devices = devices
        self.dir = os.path.join(cluster.dir, name)
        self.devroot = os.path.join(self.dir, "srv")
        for d in devices:
            os.makedirs(os.path.join(self.devroot, d), exist_ok=True)
        self.conf = os.path.join(self.dir, "objectd.conf")
        self.log = os.path.join(self.dir, "objectd.log")
        self.proc = None
        self.started = False
        self.extra_conf = extra_conf
        self.pick_ports()

    PORT_ATTRS = ("port", "cport", "aport")

    def pick_ports(self):
        """Reserves fresh ports and writes the configuration with them."""
        for a in self.PORT_ATTRS:
            setattr(self, a, free_port(self.ip))
        self.write_conf()

    def write_conf(self):
        opts = {"bind_ip": self.ip,
                "bind_port": self.port,
                "container_port": self.cport,
                "account_port": self.aport,
                "devices": self.devroot,
                "mount_check": "false",
                "cluster_conf": self.cluster.cairn_conf,
                "workers": 2,
                "disk_threads": 4,
                "log_level": "info",
                # the rings live in the cluster dir; the background daemons
                # run only when a test asks (run_once), never on a timer
                "swift_dir": self.cluster.dir,
                "replicator_interval": 0,
                "auditor_interval": 0,
                "expirer_interval": 0}
        opts.update(self.extra_conf or {})
        lines = ["[DEFAULT]"] + ["%s = %s" % kv for kv in opts.items()]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    # -- process control
    def command(self):
        return [os.path.join(BUILD, "cairn-objectd"), "-c", self.conf]

    def start(self, wait=True, wrap=None):
        """Starts the daemon; wrap is a command prefix that must exec it
        (e.g. unshare ... sh -c '... exec "$0" "$@"'), so the pid stays the
        daemon's.

        The first start (with wait) that dies on "Address already in use"
        is tried again on fresh ports: the ports are reserved against other
        tests (free_port), but a program outside the tests may still bind
        one first. Nothing names the ports before the first start (rings
        are built after it), so changing them is safe then, and only then:
        a restart keeps the ports the rings know."""
        for attempt in range(4):
            mark = os.path.getsize(self.log) if os.path.exists(self.log) \
                else 0
            logf = open(self.log, "ab")
            # TMPDIR: the daemon's temporary files (the storlet
            # launcher's socket directory) go with the cluster's, even
            # when a test kills the daemon with SIGKILL
            self.proc = subprocess.Popen((wrap or []) + self.command(),
                                         stdout=logf,
                                         stderr=subprocess.STDOUT,
                                         env=dict(os.environ,
                                                  TMPDIR=self.cluster.dir))
            logf.close()
            self.cluster.pids.append(self.proc)
            if not wait:
                break
            try:
                self.wait_healthy()
                break
            except RuntimeError:
                if self.started or attempt == 3 or \
                        not self.port_was_taken(mark):
                    raise
            self.pick_ports()
        self.started = True
        return self

    def port_was_taken(self, mark):
        """True when the daemon, dead now, said in its log (after offset
        mark) that one of its ports was in use; declares that line
        expected, so the retry leaves no failed log check behind."""
        with open(self.log, "rb") as f:
            f.seek(mark)
            tail = f.read().decode(errors="replace")
        for a in self.PORT_ATTRS:
            line = r"%s:%d: Address already in use" % (
                re.escape(self.ip), getattr(self, a))
            if re.search(line, tail):
                self.cluster.expect_log(line)
                return True
        return False

    def run_once(self, daemon, timeout=120):
        """Runs one pass of a background daemon ("replicate", "audit" or
        "expire") with this node's configuration, beside the running
        daemon, and returns its counters (a dict)."""
        import json
        with open(self.log, "ab") as logf:
            out = subprocess.check_output(
                [os.path.join(BUILD, "cairn-objectd"), "-c", self.conf,
                 "--%s-once" % daemon], stderr=logf, timeout=timeout)
        return json.loads(out.decode())

    def wait_healthy(self, timeout=30):
        def ok():
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s; log:\n%s" % (
                    self.name, self.proc.returncode, self.read_log()))
            try:
                for p in (self.port, self.cport, self.aport):
                    # a short wait: a port some other listener took
                    # accepts and never answers; the next poll then sees
                    # the daemon's exit
                    st, _, _ = self.request("GET", "/healthcheck", port=p,
                                            timeout=5)
                    if st != 200:
                        return False
                return True
            except OSError:
                return False
        wait_for(ok, timeout, "%s healthy" % self.name)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc is None or self.proc.poll() is not None:
            return None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def kill9(self):
        return self.stop(signal.SIGKILL)

    def read_log(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    # -- HTTP
    def conn(self, port=None, timeout=30):
        return http.client.HTTPConnection(self.ip, port or self.port,
                                          timeout=timeout)

    def request(self, method, path, body=None, headers=None, port=None,
                timeout=30):
        """One request on a fresh connection: (status, headers dict with
        lower-case names, body bytes)."""
        c = self.conn(port, timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            hdrs = {k.lower(): v for k, v in r.getheaders()}
            return r.status, hdrs, data
        finally:
            c.close()

    def obj(self, *a, **kw):
        return self.request(*a, **kw)

    def cont(self, method, path, **kw):
        return self.request(method, path, port=self.cport, **kw)

    def acct(self, method, path, **kw):
        return self.request(method, path, port=self.aport, **kw)

    def cont_target(self, dev, part="0"):
        """The X-Container-* headers that name this node's container role."""
        return {"X-Container-Host": "%s:%d" % (self.ip, self.cport),
                "X-Container-Device": dev,
                "X-Container-Partition": str(part)}

    def acct_target(self, dev, part="0"):
        return {"X-Account-Host": "%s:%d" % (self.ip, self.aport),
                "X-Account-Device": dev,
                "X-Account-Partition": str(part)}


class Proxy(Node):
    """One cairn-proxy process in front of the cluster's rings.

    Reuses Node's process control and HTTP helpers (stop, kill9, read_log,
    request); users is a dict {"account:user": "key [groups]"}."""

    def __init__(self, cluster, name, ip, users, extra_conf, workers=2):
        self.cluster = cluster
        self.name = name
        self.ip = ip
        self.dir = os.path.join(cluster.dir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.conf = os.path.join(self.dir, "proxy-server.conf")
        self.log = os.path.join(self.dir, "proxy.log")
        self.proc = None
        self.started = False
        self.users = dict(users)
        self.extra_conf = extra_conf
        self.workers = workers
        self.secret = uuid.uuid4().hex
        self.pick_ports()

    PORT_ATTRS = ("port",)

    def write_conf(self):
        extra_conf = self.extra_conf
        app = {"account_autocreate": "true"}
        app.update((extra_conf or {}).get("app", {}))
        default = {"bind_ip": self.ip, "bind_port": str(self.port),
                   "workers": str(self.workers),
                   "swift_dir": self.cluster.dir, "log_level": "info"}
        default.update((extra_conf or {}).get("DEFAULT", {}))
        lines = ["[DEFAULT]"] + ["%s = %s" % kv for kv in default.items()]
        lines.append("[app:proxy-server]")
        lines += ["%s = %s" % kv for kv in app.items()]
        lines += ["[filter:tempauth]",
                  "secret = %s" % self.secret]
        for who, key in self.users.items():
            acct, user = who.split(":", 1)
            lines.append("user_%s_%s = %s" % (acct, user, key))
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def command(self):
        return [os.path.join(BUILD, "cairn-proxy"), "-c", self.conf]

    def start(self, wait=True):
        return Node.start(self, wait)

    def wait_healthy(self, timeout=30):
        def ok():
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s; log:\n%s" % (
                    self.name, self.proc.returncode, self.read_log()))
            try:
                return self.request("GET", "/healthcheck",
                                    timeout=5)[0] == 200
            except OSError:
                return False
        wait_for(ok, timeout, "%s healthy" % self.name)

    def requester(self, token, timeout=30):
        """A function req(method, url, body=None, headers=None,
        token=None) making one request (request()) with X-Auth-Token:
        the token given to req, or when None this one."""
        default = token

        def req(m, u, body=None, headers=None, token=None):
            h = {"X-Auth-Token": default if token is None else token}
            h.update(headers or {})
            return self.request(m, u, body=body, headers=h, timeout=timeout)
        return req

    def enable_storlets(self, path, token, containers=()):
        """Enables the account at path (/v1/AUTH_x) for storlets and
        creates the containers named; returns the enabling POST's
        status."""
        h = {"X-Auth-Token": token}
        st = self.request("POST", path, headers=dict(
            h, **{"X-Account-Meta-Storlet-Enabled": "True"}))[0]
        for c in containers:
            self.request("PUT", path + "/" + c, headers=h)
        return st

    def deploy(self, path, token, name, body=None, lang="native",
               main=None, metadata="no", **extra):
        """PUTs the storlet name into the storlet container of the account
        at path: body, or when None the storlet built as
        BUILD/storlets/<name>; main defaults to name; headers as
        storlet_headers. Returns the status."""
        if body is None:
            with open(os.path.join(BUILD, "storlets", name), "rb") as f:
                body = f.read()
        h = storlet_headers(main or name, lang, metadata, **extra)
        h["X-Auth-Token"] = token
        return self.request("PUT", path + "/storlet/" + name, body=body,
                            headers=h)[0]

    def auth(self, who="test:tester", key=None):
        """GET /auth/v1.0: returns (storage path "/v1/AUTH_x", token)."""
        if key is None:
            key = self.users[who].split()[0]
        st, h, _ = self.request("GET", "/auth/v1.0", headers={
            "X-Auth-User": who, "X-Auth-Key": key})
        if st != 200:
            raise RuntimeError("auth %s: %d" % (who, st))
        url = h["x-storage-url"]
        return url[url.index("/v1/"):], h["x-auth-token"]


class Cluster:
    def __init__(self, tap=None):
        self.tap = tap
        self.dir = tempfile.mkdtemp(prefix="cairn-test-")
        self.pids = []
        self.nodes = []
        self.proxies = []
        self.expected = []
        self._ts = time.time()
        self.cairn_conf = os.path.join(self.dir, "cairn.conf")
        with open(self.cairn_conf, "w") as f:
            f.write("[swift-hash]\nswift_hash_path_suffix = %s\n"
                    "swift_hash_path_prefix = \n" % uuid.uuid4().hex)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def ts(self):
        """A fresh X-Timestamp, strictly increasing within the test."""
        self._ts = max(self._ts + 0.00002, time.time())
        return "%016.05f" % self._ts

    def objectd(self, devices=("sda1",), ip="127.0.0.1", conf=None,
                start=True):
        n = Node(self, "node%d" % len(self.nodes), ip, list(devices), conf)
        self.nodes.append(n)
        if start:
            n.start()
        return n

    def storage_cluster(self, ips=("127.0.0.1", "127.0.0.2", "127.0.0.3",
                                   "127.0.0.4"), replicas=3, part_power=6,
                        conf=None, object_replicas=None):
        """Starts one cairn-objectd per ip (device "d<i>") and builds the
        account, container and object rings over them (the object ring
        with object_replicas when given: the studies keep one copy of
        their large objects). conf is the nodes' extra settings, or a
        function of the node's index giving them. Returns the nodes."""
        nodes = [self.objectd(devices=["d%d" % (i + 1)], ip=ip,
                              conf=conf(i) if callable(conf) else conf)
                 for i, ip in enumerate(ips)]
        for kind, port in (("account", "aport"), ("container", "cport"),
                           ("object", "port")):
            rep = replicas
            if kind == "object" and object_replicas is not None:
                rep = object_replicas
            self.build_ring(kind, part_power, rep,
                            [(n.ip, getattr(n, port), n.devices[0])
                             for n in nodes])
        return nodes

    def storlet_conf(self, name, warm="1", extra=None):
        """[DEFAULT] settings that turn storlets on for the daemon called
        name: its own code cache <dir>/<name>-cache, the source tree's SDK,
        storlet_warm = warm (None: the daemon's default); extra adds or
        overrides settings."""
        conf = {"storlets": "true",
                "storlet_cache_dir": os.path.join(self.dir, name + "-cache"),
                "storlet_sdk": SDK}
        if warm is not None:
            conf["storlet_warm"] = warm
        conf.update(extra or {})
        return conf

    def storlet_cluster(self, ips=("127.0.0.1", "127.0.0.2", "127.0.0.3"),
                        part_power=6, warm="1", conf=None, node_conf=None,
                        node_storlets=True, proxy_conf=None, app_conf=None,
                        users=None, workers=2, object_replicas=None):
        """The set-up the storlet tests share: one storlets-enabled
        cairn-objectd per ip (device d<i>, cache node<i>-cache), rings with
        one replica per node, and a storlets-enabled proxy (proxy-cache) in
        front. conf adds settings to every daemon, node_conf to the nodes
        only (node_storlets=False: nodes with their default settings, no
        storlets), proxy_conf to the proxy's [DEFAULT] and app_conf to its
        [app:proxy-server]; users and workers go to Cluster.proxy;
        object_replicas to storage_cluster. Returns (nodes, proxy)."""
        os.chmod(self.dir, 0o755)   # the sandbox opens code dirs below it

        def nconf(i):
            if not node_storlets:
                return dict(node_conf or {})
            return self.storlet_conf("node%d" % i, warm,
                                     dict(conf or {}, **(node_conf or {})))

        nodes = self.storage_cluster(ips, len(ips), part_power, nconf,
                                     object_replicas)
        pconf = {"DEFAULT": self.storlet_conf(
            "proxy", warm, dict(conf or {}, **(proxy_conf or {})))}
        if app_conf:
            pconf["app"] = app_conf
        return nodes, self.proxy(users=users, conf=pconf, workers=workers)

    def proxy(self, ip="127.0.0.1", users=None, conf=None, workers=2,
              start=True):
        """Starts a cairn-proxy over the rings in the cluster dir. users:
        {"account:user": "key [groups]"}; default test:tester (.admin),
        test2:tester2 (.admin), test:tester3 (no groups)."""
        if users is None:
            users = {"test:tester": "testing .admin",
                     "test2:tester2": "testing2 .admin",
                     "test:tester3": "testing3"}
        p = Proxy(self, "proxy%d" % len(self.proxies), ip, users, conf,
                  workers)
        self.proxies.append(p)
        if start:
            p.start()
        return p

    def node_by_ip(self, ip):
        for n in self.nodes:
            if n.ip == ip:
                return n
        raise KeyError(ip)

    def wait_listed(self, a, c, count, timeout=30):
        """Waits until every primary replica of container a/c lists count
        objects. Each object server updates one replica and answers after
        container_update_timeout even if its update is not in, so under
        load a replica may lack a row for a while; what reads one replica's
        listing (a DLO, say) must wait for all of them."""
        import json
        part, prim, _ = self.locate(a, c, ring="container")

        def listed():
            for n, d in prim:
                st, _, body = n.cont("GET", "/%s/%d/%s/%s?format=json" %
                                     (d, part, a, c))
                if st != 200 or len(json.loads(body)) != count:
                    return False
            return True
        wait_for(listed, timeout, "%d objects listed in every replica of "
                 "%s/%s" % (count, a, c))

    def wait_replicas(self, a, c, o, etag=None, timeout=30):
        """Waits until every primary replica of object a/c/o holds the
        version whose ETag is etag, or with etag None, until none holds
        the object (404). A PUT or DELETE is answered once a quorum of
        nodes is done and the others had post_quorum_timeout more, so
        under load one replica may still be old for a while; a test
        whose next read must see the change on whichever replica it
        reads waits for all of them."""
        import urllib.parse
        part, prim, _ = self.locate(a, c, o)
        target = "/%d/" % part + urllib.parse.quote("%s/%s/%s" % (a, c, o))

        def done():
            for n, d in prim:
                st, h, _ = n.obj("HEAD", "/" + d + target)
                if etag is None and st != 404:
                    return False
                if etag is not None and (st != 200 or
                                         h.get("etag", "").strip('"') != etag):
                    return False
            return True
        wait_for(done, timeout, "every replica of %s/%s/%s %s" % (
            a, c, o, "gone" if etag is None else "at ETag " + etag))

    def locate(self, a, c=None, o=None, ring="object"):
        """(partition, primaries, handoffs) of a name in a ring file of the
        cluster dir; each device is (Node, device name)."""
        names = [a] + ([c] if c else []) + ([o] if o else [])
        out = subprocess.check_output([
            os.path.join(BUILD, "cairn-get-nodes"), "-a", "--swift-conf",
            self.cairn_conf, os.path.join(self.dir, ring + ".ring")] + names,
            text=True)
        part, prim, hand = None, [], []
        for line in out.splitlines():
            if line.startswith("Server:Port Device"):
                hp, dev = line.split("\t")[1].split(" ")
                ip = hp.rsplit(":", 1)[0]
                (hand if "Handoff" in line else prim).append(
                    (self.node_by_ip(ip), dev))
            elif line.startswith("Partition"):
                part = int(line.split("\t")[1])
        return part, prim, hand

    def hash_of(self, a, c=None, o=None):
        """The hash path (32 hex) of a name under the cluster's secrets."""
        import hashlib
        pre = suf = ""
        with open(self.cairn_conf) as f:
            for line in f:
                k, _, v = line.partition("=")
                if k.strip() == "swift_hash_path_suffix":
                    suf = v.strip()
                elif k.strip() == "swift_hash_path_prefix":
                    pre = v.strip()
        path = "/" + "/".join(x for x in (a, c, o) if x is not None)
        return hashlib.md5((pre + path + suf).encode()).hexdigest()

    def expect_log(self, regex):
        """Declares log lines matching regex as expected (not failures)."""
        self.expected.append(re.compile(regex))

    def build_ring(self, kind, part_power, replicas, devs):
        """Builds <dir>/<kind>.ring with cairn-ring-builder; devs is a list
        of (ip, port, device), one zone each. Returns the ring file path."""
        rb = os.path.join(BUILD, "cairn-ring-builder")
        builder = os.path.join(self.dir, kind + ".builder")
        subprocess.check_call([rb, builder, "create", str(part_power),
                               str(replicas), "1"], stdout=subprocess.DEVNULL)
        for i, (ip, port, dev) in enumerate(devs):
            subprocess.check_call([rb, builder, "add", "r1z%d-%s:%d/%s" % (
                i + 1, ip, port, dev), "100"], stdout=subprocess.DEVNULL)
        # like swift-ring-builder, rebalance exits 1 on mere warnings
        subprocess.call([rb, builder, "rebalance"], stdout=subprocess.DEVNULL)
        ring = os.path.join(self.dir, kind + ".ring")
        if not os.path.exists(ring):
            raise RuntimeError("cairn-ring-builder wrote no %s" % ring)
        return ring

    def check_logs(self):
        bad = []
        for n in self.nodes + self.proxies:
            for line in n.read_log().splitlines():
                if BAD_LOG.search(line) and not any(
                        e.search(line) for e in self.expected):
                    bad.append("%s: %s" % (n.name, line))
        return bad

    def close(self):
        for n in self.proxies + self.nodes:
            try:
                rc = n.stop()
            except Exception:
                rc = None
            if rc not in (None, 0, -signal.SIGKILL) and self.tap:
                self.tap.ok(False, "%s exited cleanly (status %s)" % (n.name, rc))
        bad = self.check_logs()
        if self.tap:
            self.tap.ok(not bad, "no ERR lines or sanitizer reports in logs")
            for b in bad[:20]:
                self.tap.diag(b)
        if os.environ.get("TEST_KEEP"):
            print("# TEST_KEEP: kept %s" % self.dir, flush=True)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
