#!/usr/bin/python3
# tier: quick
"""`make install` and the systemd units of etc/systemd.

Installs into temp dirs twice: with PREFIX and SYSCONFDIR pointing into a
temp dir (so the installed units name binaries that exist, and
`systemd-analyze verify` can check them whole, ExecStart paths included),
and with DESTDIR + PREFIX=/usr (the packaging layout). A unit with a
missing binary is verified too, as the control that shows verify fails.
Skips the verify checks, saying why, where systemd-analyze is missing."""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from tap import Tap  # noqa: E402

t = Tap()
SRC = os.environ.get("CAIRN_SRC") or os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("CAIRN_BUILD") or os.path.join(SRC, "build")
UNITS = ["cairn-proxy.service", "cairn-objectd@.service", "cairn.target"]
BINS = ["cairn-proxy", "cairn-objectd", "cairn-ring-builder",
        "cairn-get-nodes", "cairn-storlet-run"]
tmp = tempfile.mkdtemp(prefix="cairn-install-")


def make_install(*args):
    r = subprocess.run(["make", "-s", "-C", SRC, "install", "BUILD=" + BUILD]
                       + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, universal_newlines=True)
    if r.returncode:
        t.diag(r.stdout[-3000:])
    return r.returncode


def verify(path):
    r = subprocess.run(["systemd-analyze", "verify", path],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True)
    return r.returncode, r.stdout


try:
    # --- packaging layout
    dest = os.path.join(tmp, "dest")
    t.eq(make_install("DESTDIR=" + dest, "PREFIX=/usr"), 0,
         "make install DESTDIR=... PREFIX=/usr")
    for b in BINS:
        p = os.path.join(dest, "usr", "bin", b)
        t.ok(os.access(p, os.X_OK), "installs bin/%s" % b)
    for s in ("cairn.conf.sample", "objectd.conf.sample",
              "proxy-server.conf.sample"):
        t.ok(os.path.isfile(os.path.join(dest, "etc", "cairn", s)),
             "installs /etc/cairn/%s" % s)
    udir = os.path.join(dest, "usr", "lib", "systemd", "system")
    for u in UNITS:
        t.ok(os.path.isfile(os.path.join(udir, u)),
             "installs lib/systemd/system/%s" % u)
    with open(os.path.join(udir, "cairn-proxy.service")) as f:
        text = f.read()
    t.ok("ExecStart=/usr/bin/cairn-proxy -c /etc/cairn/proxy-server.conf\n"
         in text, "the installed proxy unit names PREFIX's binary")
    with open(os.path.join(udir, "cairn-objectd@.service")) as f:
        text = f.read()
    t.ok("ExecStart=/usr/bin/cairn-objectd -c /etc/cairn/objectd/%i.conf\n"
         in text, "the objectd template takes its config from the instance")

    # --- a prefix whose binaries exist, so verify checks everything
    pre = os.path.join(tmp, "prefix")
    t.eq(make_install("PREFIX=" + pre, "SYSCONFDIR=" + os.path.join(
        tmp, "etc")), 0, "make install PREFIX=<temp dir>")
    udir = os.path.join(pre, "lib", "systemd", "system")
    if not shutil.which("systemd-analyze"):
        t.skip("systemd-analyze verify", "systemd-analyze is not installed "
               "(Debian package systemd)")
    else:
        for u in UNITS:
            rc, out = verify(os.path.join(udir, u))
            if not t.eq(rc, 0, "systemd-analyze verify %s" % u):
                t.diag(out)
            t.eq([ln for ln in out.splitlines() if "cairn" in ln], [],
                 "no complaint about %s" % u)
        # The control: verify does fail on a unit whose binary is missing.
        bad = os.path.join(tmp, "cairn-broken.service")
        with open(os.path.join(udir, "cairn-proxy.service")) as f:
            text = f.read().replace(os.path.join(pre, "bin", "cairn-proxy"),
                                    os.path.join(pre, "bin", "no-such"))
        with open(bad, "w") as f:
            f.write(text)
        rc, out = verify(bad)
        t.ok(rc != 0 and "no-such" in out,
             "control: verify fails on a unit naming a missing binary")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
t.done()
