#!/usr/bin/python3
# tier: quick
"""cairn-objectd as a process: --check-config on a good and a bad file,
--help, SIGHUP keeps it serving, SIGTERM ends it with status 0, and the
access log line. SIGHUP and SIGTERM sent the moment the daemon says it is
listening (its threads exist, its main thread may not be in sigwait yet)
are handled as later ones: no thread leaves them open to die of."""
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import BUILD, Cluster, wait_for  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
exe = os.path.join(BUILD, "cairn-objectd")

with Cluster(t) as cl:
    n = cl.objectd(devices=["sda1"], start=False)
    r = subprocess.run([exe, "-c", n.conf, "--check-config"],
                       capture_output=True, text=True)
    t.ok(r.returncode == 0 and "configuration OK" in r.stdout,
         "--check-config on a good file: 0, configuration OK")
    bad = os.path.join(cl.dir, "bad.conf")
    with open(bad, "w") as f:
        f.write("[DEFAULT]\nworkers = many\nbind_prot = 1\n")
    r = subprocess.run([exe, "-c", bad, "--check-config"],
                       capture_output=True, text=True)
    t.ok(r.returncode == 2 and "bad.conf:2:" in r.stdout and
         "bad.conf:3:" in r.stdout,
         "--check-config on a bad file: 2, every error with file:line")
    r = subprocess.run([exe, "-c", os.path.join(cl.dir, "missing.conf")],
                       capture_output=True, text=True)
    t.ok(r.returncode == 2 and "missing.conf" in r.stderr,
         "a missing config file: 2 and the path named")
    r = subprocess.run([exe, "--help"], capture_output=True, text=True)
    t.ok(r.returncode == 0 and "--check-config" in r.stdout, "--help")
    r = subprocess.run([exe, "--workers", "0"], capture_output=True,
                       text=True)
    t.eq(r.returncode, 2, "--workers 0 is refused")

    n.start()
    n.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "SIGHUP" in n.read_log(), 10, "SIGHUP logged")
    st, _, _ = n.obj("GET", "/healthcheck")
    t.eq(st, 200, "still serving after SIGHUP")
    st, _, _ = n.obj("GET", "/sda1/0/a/c/nothing",
                     headers={"X-Trans-Id": "tx-daemon-test"})
    t.eq(st, 404, "a request")
    wait_for(lambda: "tx-daemon-test" in n.read_log(), 10, "access line")
    line = [x for x in n.read_log().splitlines() if "tx-daemon-test" in x][0]
    t.ok('"GET /sda1/0/a/c/nothing" 404' in line,
         "the access log line has method, path and status")
    # log_file: SIGHUP reopens it, so rotation by rename works
    lf = os.path.join(cl.dir, "rot.log")
    m = cl.objectd(devices=["sda1"], ip="127.0.0.3", conf={"log_file": lf})
    m.obj("GET", "/sda1/0/a/c/x", headers={"X-Trans-Id": "tx-before"})
    wait_for(lambda: "tx-before" in open(lf).read(), 10, "line in log_file")
    os.rename(lf, lf + ".1")
    m.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: os.path.exists(lf), 10, "log_file reopened")
    m.obj("GET", "/sda1/0/a/c/x", headers={"X-Trans-Id": "tx-after"})
    wait_for(lambda: "tx-after" in open(lf).read(), 10, "line in new file")
    t.ok("tx-after" not in open(lf + ".1").read(),
         "after SIGHUP lines go to the new log_file, not the rotated one")

    # Signals at start-up: a thread made with SIGHUP/SIGTERM unblocked
    # would take one sent before the main thread sigwaits, and the process
    # would die of it. The window is short: several tries.
    e = cl.objectd(devices=["sda1"], ip="127.0.0.4", start=False)

    def start_listening():
        mark = os.path.getsize(e.log) if os.path.exists(e.log) else 0

        def since():
            with open(e.log, "rb") as f:
                f.seek(mark)
                return f.read().decode(errors="replace")
        e.start(wait=False)
        wait_for(lambda: e.proc.poll() is not None or
                 "listening on" in since(), 30, "listening on")
        return since

    hup_dead = []
    for _ in range(5):
        since = start_listening()
        e.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: e.proc.poll() is not None or "SIGHUP" in since(),
                 30, "SIGHUP logged or exit")
        if e.proc.poll() is not None:
            hup_dead.append(e.proc.returncode)
        e.stop()
    t.eq(hup_dead, [], "SIGHUP at start-up: logged, the daemon lives on")
    term_rc = []
    for _ in range(5):
        start_listening()
        e.proc.send_signal(signal.SIGTERM)
        term_rc.append(e.proc.wait(30))
    t.eq(term_rc, [0] * 5, "SIGTERM at start-up: exit status 0")

    # SIGTERM while a GET is streaming: the response still completes
    big = os.urandom(1 << 20) * 20
    st, _, _ = n.obj("PUT", "/sda1/0/a/c/big", body=big, headers={
        "X-Timestamp": cl.ts(), "Content-Type": "t/t"})
    t.eq(st, 201, "a 20 MiB object")
    c = n.conn()
    c.request("GET", "/sda1/0/a/c/big")
    r = c.getresponse()
    head = r.read(65536)
    n.proc.send_signal(signal.SIGTERM)
    rest = r.read()
    c.close()
    t.ok(r.status == 200 and head + rest == big,
         "a GET streaming at SIGTERM still gets the whole body")
    t.eq(n.proc.wait(30), 0, "SIGTERM: exit status 0")
    t.ok("stopped" in n.read_log(), "shutdown logged")

t.done()
