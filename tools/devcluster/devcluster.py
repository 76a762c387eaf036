#!/usr/bin/python3
"""devcluster: a complete Cairn cluster on one machine, for `make run`.

    devcluster.py start    # rings (once), configs, 4 x cairn-objectd, cairn-proxy,
                           # storlets enabled on AUTH_test
    devcluster.py stop     # stops exactly the pids recorded by start
    devcluster.py status   # which of them run

Layout (all under the state dir, default ./run in the repository, or
$CAIRN_RUN_DIR, or --state-dir):

    cairn.conf                  hash path suffix, made once with a random value
    {account,container,object}.builder / .ring
                                built once with cairn-ring-builder
    node<N>/objectd.conf        node N listens on 127.0.0.N
    node<N>/srv/d<N>/           its one device (a plain directory)
    proxy/proxy-server.conf     tempauth users, the token secret (made once)
    pid/<name>.pid, log/<name>.log
    storlet-cache/<daemon>/     each daemon's storlet code cache

Storlets (docs/storlets.md) are on when this runs as root (the sandbox needs
it; --storlets on|off overrides) and the state dir's parents are searchable
by others (the sandbox opens code directories below it): every daemon gets
`storlets = true`, and once the cluster answers, the account AUTH_test is
enabled for storlets (X-Account-Meta-Storlet-Enabled: True, set as
test:tester, its owner). The banner prints how to deploy and run one.

Storage node N (1-4) is on 127.0.0.N with the object role on port 6200, the
container role on 6201 and the account role on 6202 (Swift's and
cairn-objectd's default ports; loopback addresses 127.0.0.2-4 need no setup on
Linux). Every ring has 3 replicas over the four nodes, one zone each. The
proxy listens on 127.0.0.1:8080. Users are those of a Swift all-in-one:
test:tester/testing (.admin), test:tester2/testing2 (.admin),
test:tester3/testing3 (no group), test2:tester2/testing2 (.admin).

Invariants: data, rings, hash secret and token secret are made once and kept,
so objects survive `stop` and a new `start`; configs are rewritten on every
start from the options given. `start` is idempotent: daemons already running
(per their pid file) are left alone. `stop` signals only the pids in the pid
files, and only when /proc/<pid>/cmdline still shows the binary and config
this tool started (a recycled pid is left alone), then waits for each to exit.
Standard library only; run by /usr/bin/python3.
"""
import argparse
import http.client
import os
import secrets
import signal
import subprocess
import sys
import time

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NODE_IPS = ("127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4")
USERS = (("test", "tester", "testing .admin"),
         ("test", "tester2", "testing2 .admin"),
         ("test", "tester3", "testing3"),
         ("test2", "tester2", "testing2 .admin"))
PART_POWER = 10
REPLICAS = 3


def default_state_dir():
    return os.environ.get("CAIRN_RUN_DIR") or os.path.join(SRC, "run")


class Daemon:
    """One process this tool starts: its command line, pid file, log."""

    def __init__(self, args, name, binary, conf, health):
        self.name = name
        self.binary = os.path.abspath(os.path.join(args.build, binary))
        self.conf = conf
        self.health = health          # [(ip, port), ...] answering /healthcheck
        self.pidfile = os.path.join(args.state_dir, "pid", name + ".pid")
        self.log = os.path.join(args.state_dir, "log", name + ".log")

    def argv(self):
        return [self.binary, "-c", self.conf]

    def pid(self):
        """The recorded pid when that process is alive and is ours (its
        command line is the one we started), else None."""
        try:
            with open(self.pidfile) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            return None
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                cmd = f.read().split(b"\0")
            with open("/proc/%d/stat" % pid) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            return None
        if state in ("Z", "X"):
            return None
        want = [a.encode() for a in self.argv()]
        return pid if cmd[:len(want)] == want else None

    def start(self):
        os.makedirs(os.path.dirname(self.pidfile), exist_ok=True)
        os.makedirs(os.path.dirname(self.log), exist_ok=True)
        with open(self.log, "ab") as logf, open(os.devnull, "rb") as null:
            logf.write(("--- %s start\n" % time.strftime(
                "%Y-%m-%d %H:%M:%S")).encode())
            logf.flush()
            # A session of its own: a ^C in the terminal that ran `make run`
            # must not reach the cluster.
            proc = subprocess.Popen(self.argv(), stdin=null, stdout=logf,
                                    stderr=subprocess.STDOUT,
                                    start_new_session=True)
        tmp = self.pidfile + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % proc.pid)
        os.replace(tmp, self.pidfile)
        return proc

    def healthy(self):
        for ip, port in self.health:
            try:
                c = http.client.HTTPConnection(ip, port, timeout=2)
                c.request("GET", "/healthcheck")
                ok = c.getresponse().status == 200
                c.close()
            except OSError:
                ok = False
            if not ok:
                return False
        return True


def daemons(args):
    out = []
    for i, ip in enumerate(NODE_IPS, 1):
        conf = os.path.join(args.state_dir, "node%d" % i, "objectd.conf")
        out.append(Daemon(args, "objectd%d" % i, "cairn-objectd", conf,
                          [(ip, args.object_port), (ip, args.container_port),
                           (ip, args.account_port)]))
    conf = os.path.join(args.state_dir, "proxy", "proxy-server.conf")
    out.append(Daemon(args, "proxy", "cairn-proxy", conf,
                      [(args.bind_ip, args.proxy_port)]))
    return out


def write_file(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def once(path, make):
    """Returns the content of path, writing make() there first if absent."""
    if not os.path.exists(path):
        write_file(path, make())
    with open(path) as f:
        return f.read().strip()


def build_rings(args):
    rb = os.path.join(args.build, "cairn-ring-builder")
    for kind, port in (("account", args.account_port),
                       ("container", args.container_port),
                       ("object", args.object_port)):
        ring = os.path.join(args.state_dir, kind + ".ring")
        if os.path.exists(ring):
            continue
        builder = os.path.join(args.state_dir, kind + ".builder")
        if os.path.exists(builder):
            os.unlink(builder)       # a half-made one from an interrupted run
        run = [rb, builder]
        subprocess.check_call(run + ["create", str(PART_POWER), str(REPLICAS),
                                     "1"], stdout=subprocess.DEVNULL)
        for i, ip in enumerate(NODE_IPS, 1):
            subprocess.check_call(run + ["add", "r1z%d-%s:%d/d%d" % (
                i, ip, port, i), "100"], stdout=subprocess.DEVNULL)
        # As swift-ring-builder, rebalance exits 1 on warnings; the ring file
        # is what matters.
        subprocess.call(run + ["rebalance"], stdout=subprocess.DEVNULL)
        if not os.path.exists(ring):
            sys.exit("devcluster: cairn-ring-builder wrote no %s" % ring)
        print("devcluster: built %s" % ring)


def storlets_wanted(args):
    """(on, why not): storlets need root and a state dir the sandbox can
    reach (every parent searchable by others)."""
    if args.storlets == "off":
        return False, "--storlets off"
    if args.storlets == "auto" and os.geteuid() != 0:
        return False, "not root (the sandbox needs it; --storlets on to try)"
    d = os.path.dirname(args.state_dir)
    while True:
        try:
            mode = os.stat(d).st_mode
        except FileNotFoundError:
            mode = 0o755   # made by makedirs, as the umask allows
        if not mode & 0o001:
            return False, ("%s is not searchable by others, and the sandbox "
                           "opens code directories below it: use "
                           "RUN_DIR=/var/tmp/cairn-run" % d)
        if d == os.path.dirname(d):
            return True, ""
        d = os.path.dirname(d)


def storlet_lines(args, name):
    """Config lines of one daemon's storlet options."""
    if not args.storlets_on:
        return []
    cache = os.path.join(args.state_dir, "storlet-cache", name)
    os.makedirs(cache, exist_ok=True)
    os.chmod(os.path.dirname(cache), 0o755)
    extra = []
    if name == "proxy" and args.bind_ip in ("0.0.0.0", ""):
        extra = ["storlet_proxy_address = 127.0.0.1"]   # every node is here
    return extra + ["storlets = true",
            "storlet_cache_dir = %s" % cache,
            "storlet_sdk = %s" % os.path.join(SRC, "storlets", "sdk",
                                              "cairn_storlet.py")]


def write_configs(args):
    sd = args.state_dir
    os.makedirs(sd, exist_ok=True)
    if args.storlets_on:
        os.chmod(sd, 0o755)   # the sandbox opens code directories below
    cairn_conf = os.path.join(sd, "cairn.conf")
    once(cairn_conf, lambda: (
        "# Made once by devcluster; never change the suffix once data exists.\n"
        "[swift-hash]\nswift_hash_path_prefix =\n"
        "swift_hash_path_suffix = %s\n" % secrets.token_hex(16)))
    for i, ip in enumerate(NODE_IPS, 1):
        nd = os.path.join(sd, "node%d" % i)
        os.makedirs(os.path.join(nd, "srv", "d%d" % i), exist_ok=True)
        write_file(os.path.join(nd, "objectd.conf"), "\n".join([
            "# Written by tools/devcluster on every start.",
            "[DEFAULT]",
            "bind_ip = %s" % ip,
            "bind_port = %d" % args.object_port,
            "container_port = %d" % args.container_port,
            "account_port = %d" % args.account_port,
            "devices = %s" % os.path.join(nd, "srv"),
            "mount_check = false",
            "cluster_conf = %s" % cairn_conf,
            "workers = 1",
            "disk_threads = 32",
            "log_level = info",
            # the replicator, auditor and expirer read the rings here
            "swift_dir = %s" % sd] + storlet_lines(args, "node%d" % i) +
            [""]))
    pd = os.path.join(sd, "proxy")
    os.makedirs(pd, exist_ok=True)
    secret = once(os.path.join(pd, "token-secret"),
                  lambda: secrets.token_hex(32) + "\n")
    lines = ["# Written by tools/devcluster on every start.",
             "[DEFAULT]",
             "bind_ip = %s" % args.bind_ip,
             "bind_port = %d" % args.proxy_port,
             "workers = 2",
             "swift_dir = %s" % sd,
             "log_level = info"] + storlet_lines(args, "proxy") + [
             "[app:proxy-server]",
             "account_autocreate = true",
             "[filter:tempauth]",
             "secret = %s" % secret]
    lines += ["user_%s_%s = %s" % u for u in USERS]
    write_file(os.path.join(pd, "proxy-server.conf"), "\n".join(lines) + "\n")
    # Both find the rings in swift_dir, the state dir (objectd's background
    # replicator and expirer read them).


def proxy_url(args):
    host = "127.0.0.1" if args.bind_ip in ("0.0.0.0", "") else args.bind_ip
    return "http://%s:%d" % (host, args.proxy_port)


def enable_storlets(args):
    """X-Account-Meta-Storlet-Enabled: True on AUTH_test, as its owner.
    Returns None or what went wrong."""
    u = proxy_url(args)
    host = u.split("//", 1)[1]
    try:
        c = http.client.HTTPConnection(host, timeout=30)
        c.request("GET", "/auth/v1.0", headers={"X-Auth-User": "test:tester",
                                                "X-Auth-Key": "testing"})
        r = c.getresponse()
        r.read()
        tok, surl = r.getheader("X-Auth-Token"), r.getheader("X-Storage-Url")
        if r.status != 200 or not tok or not surl:
            return "auth answered %d" % r.status
        c.request("POST", surl.split(host, 1)[1], headers={
            "X-Auth-Token": tok, "X-Account-Meta-Storlet-Enabled": "True"})
        r = c.getresponse()
        r.read()
        c.close()
        return None if r.status == 204 else "POST answered %d" % r.status
    except OSError as e:
        return str(e)


def running_with_storlets(args):
    try:
        with open(os.path.join(args.state_dir, "proxy",
                               "proxy-server.conf")) as f:
            return "storlets = true\n" in f.read()
    except OSError:
        return False


def banner(args):
    url = proxy_url(args) + "/auth/v1.0"
    sw = "swift -A %s -U test:tester -K testing" % url
    print("Cairn is running (state in %s, logs in %s)." % (
        args.state_dir, os.path.join(args.state_dir, "log")))
    print("  auth URL:    %s" % url)
    print("  user / key:  test:tester / testing   (also test2:tester2 / "
          "testing2, test:tester3 / testing3)")
    print("  try:         %s stat" % sw)
    if running_with_storlets(args):
        grep = os.path.join(args.build, "storlets", "grep")
        print("  storlets:    on; AUTH_test is enabled for them "
              "(docs/storlets.md)")
        print("  deploy one:  %s upload storlet %s --object-name grep "
              "-H 'X-Object-Meta-Storlet-Language: native' "
              "-H 'X-Object-Meta-Storlet-Interface-Version: 1.0' "
              "-H 'X-Object-Meta-Storlet-Main: grep' "
              "-H 'X-Object-Meta-Storlet-Object-Metadata: no'" % (sw, grep))
        print("  some data:   %s upload docs %s --object-name README.md"
              % (sw, os.path.join(SRC, "README.md")))
        print("  run it:      %s download docs README.md -o - "
              "-H 'X-Run-Storlet: grep' "
              "-H 'X-Storlet-Parameter-1: pattern:storlet'" % sw)
    elif args.storlets_why:
        print("  storlets:    off: %s" % args.storlets_why)
    print("  stop with:   make stop")


def cmd_start(args):
    ds = daemons(args)
    running = [d for d in ds if d.pid()]
    if len(running) == len(ds):
        print("devcluster: already running (%s)" % ", ".join(
            "%s pid %d" % (d.name, d.pid()) for d in ds))
        banner(args)
        return 0
    for b in ("cairn-objectd", "cairn-proxy", "cairn-ring-builder"):
        if not os.access(os.path.join(args.build, b), os.X_OK):
            sys.exit("devcluster: %s not built in %s (run make)" % (
                b, args.build))
    write_configs(args)
    build_rings(args)
    started = []
    for d in ds:
        if d in running:
            print("devcluster: %s already running, pid %d" % (d.name, d.pid()))
            continue
        started.append((d, d.start()))
    deadline = time.monotonic() + args.timeout
    waiting = list(started)
    while waiting:
        for d, proc in list(waiting):
            if proc.poll() is not None:
                sys.stderr.write("devcluster: %s exited with status %s; last "
                                 "lines of %s:\n" % (d.name, proc.returncode,
                                                     d.log))
                with open(d.log, errors="replace") as f:
                    sys.stderr.write("".join(f.readlines()[-15:]))
                stop_all(ds)
                return 1
            if d.healthy():
                waiting.remove((d, proc))
        if waiting and time.monotonic() > deadline:
            sys.stderr.write("devcluster: no /healthcheck answer from %s "
                             "after %ds\n" % (", ".join(d.name for d, _ in
                                                       waiting), args.timeout))
            stop_all(ds)
            return 1
        if waiting:
            time.sleep(0.1)
    for d, proc in started:
        print("devcluster: started %s, pid %d" % (d.name, proc.pid))
    if args.storlets_on:
        why = enable_storlets(args)
        if why:
            sys.stderr.write("devcluster: enabling storlets on AUTH_test "
                             "failed: %s\n" % why)
            stop_all(ds)
            return 1
    banner(args)
    return 0


def stop_all(ds, timeout=30):
    """SIGTERM to each recorded live pid, then wait for all to exit;
    SIGKILL to any still there after timeout seconds. Returns how many
    were stopped."""
    victims = []
    for d in reversed(ds):          # the proxy first, then the nodes
        pid = d.pid()
        if pid:
            os.kill(pid, signal.SIGTERM)
            victims.append((d, pid))
        elif os.path.exists(d.pidfile):
            os.unlink(d.pidfile)     # stale: its process is gone
    deadline = time.monotonic() + timeout
    for d, pid in victims:
        while d.pid() == pid:
            if time.monotonic() > deadline:
                print("devcluster: %s (pid %d) still there after %ds, "
                      "sending SIGKILL" % (d.name, pid, timeout))
                os.kill(pid, signal.SIGKILL)
                deadline = time.monotonic() + timeout
            time.sleep(0.05)
        os.unlink(d.pidfile)
        print("devcluster: stopped %s (pid %d)" % (d.name, pid))
    return len(victims)


def cmd_stop(args):
    if stop_all(daemons(args)) == 0:
        print("devcluster: nothing running (state dir %s)" % args.state_dir)
    return 0


def cmd_status(args):
    ds = daemons(args)
    for d in ds:
        pid = d.pid()
        print("%-9s %s" % (d.name, "running, pid %d" % pid if pid
                           else "stopped"))
    return 0 if all(d.pid() for d in ds) else 3


def main():
    ap = argparse.ArgumentParser(
        description="Run a four-node Cairn cluster and a proxy on loopback.")
    ap.add_argument("command", choices=("start", "stop", "status"))
    ap.add_argument("--state-dir", default=default_state_dir(),
                    help="configs, rings, data, pids, logs (default: "
                    "$CAIRN_RUN_DIR or ./run in the repository)")
    ap.add_argument("--build", default=os.path.join(SRC, "build"),
                    help="where the binaries are (default: ./build)")
    ap.add_argument("--bind-ip", default="127.0.0.1", help="proxy address")
    ap.add_argument("--proxy-port", type=int, default=8080)
    ap.add_argument("--object-port", type=int, default=6200)
    ap.add_argument("--container-port", type=int, default=6201)
    ap.add_argument("--account-port", type=int, default=6202)
    ap.add_argument("--timeout", type=int, default=60,
                    help="seconds to wait for /healthcheck")
    ap.add_argument("--storlets", choices=("auto", "on", "off"),
                    default="auto", help="run storlets (auto: when root "
                    "and the state dir is reachable by the sandbox)")
    args = ap.parse_args()
    args.state_dir = os.path.abspath(args.state_dir)
    args.build = os.path.abspath(args.build)
    args.storlets_on, args.storlets_why = storlets_wanted(args)
    return {"start": cmd_start, "stop": cmd_stop,
            "status": cmd_status}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
