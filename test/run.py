#!/usr/bin/env python3
"""Cairn's test runner: every tier, one summary line.

Runs, in this order:
  unit         build/test/check_* (Check suites, fork mode)
  integration  test/integration/*.py, test/conformance/*.py, test/sandbox/*.py,
               tools/*/test_*.py  (TAP on stdout, exit status 0 on success)

A script declares its tier in a comment line near its top:
  # tier: quick     (part of `make quick`)
  # tier: full      (default: only `make test`)
Everything runs in `make test`. Scripts get CAIRN_BUILD (absolute build dir)
and CAIRN_SRC (the repository root) in their environment, and run in
parallel (TEST_JOBS, default 2). Output of a failing test is printed whole;
a passing one prints one line.

The last line is "N passed, N failed" counting individual checks.
"""
import argparse
import concurrent.futures as cf
import os
import re
import signal
import subprocess
import sys
import time

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHECK_RE = re.compile(r"(\d+)%: Checks: (\d+), Failures: (\d+), Errors: (\d+)")
TAP_OK = re.compile(r"^ok \d+", re.M)
TAP_NOT_OK = re.compile(r"^not ok \d+", re.M)
TAP_SKIP = re.compile(r"^ok \d+.*# (SKIP|skip)", re.M)


def script_tier(path):
    with open(path, errors="replace") as f:
        for i, line in enumerate(f):
            if i > 30:
                break
            m = re.match(r"#\s*tier:\s*(\w+)", line)
            if m:
                return m.group(1)
    return "full"


def discover(build, tier, only):
    tests = []
    unit_dir = os.path.join(build, "test")
    if os.path.isdir(unit_dir):
        for name in sorted(os.listdir(unit_dir)):
            p = os.path.join(unit_dir, name)
            if name.startswith("check_") and os.access(p, os.X_OK):
                tests.append(("unit", p))
    if tier != "unit":
        globs = ["test/integration", "test/conformance", "test/sandbox"]
        paths = []
        for d in globs:
            full = os.path.join(SRC, d)
            if os.path.isdir(full):
                paths += [os.path.join(full, n) for n in sorted(os.listdir(full))
                          if n.endswith(".py") and not n.startswith("_")]
        tools = os.path.join(SRC, "tools")
        for d in sorted(os.listdir(tools)):
            td = os.path.join(tools, d)
            if os.path.isdir(td):
                paths += [os.path.join(td, n) for n in sorted(os.listdir(td))
                          if n.startswith("test_") and n.endswith(".py")]
        for p in paths:
            t = script_tier(p)
            if tier == "quick" and t != "quick":
                continue
            tests.append(("script", p))
    if only:
        tests = [t for t in tests
                 if only in (os.path.basename(t[1]), "check_" + only)
                 or t[1].endswith(only)]
    return tests


def run_one(kind, path, env, timeout):
    start = time.time()
    cmd = [path] if kind == "unit" else [sys.executable, path]
    # Each test runs in a process group of its own (the group id is the pid
    # started here), so a test that times out goes with every daemon it
    # started: none is left behind to hold ports or eat CPU under the
    # tests that follow.
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         env=env, stdin=subprocess.DEVNULL,
                         start_new_session=True)
    try:
        raw, _ = p.communicate(timeout=timeout)
        out, rc = raw.decode(errors="replace"), p.returncode
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            raw, _ = p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            raw = b"[runner] (a process outside the group kept the output open)"
        out = raw.decode(errors="replace")
        out += "\n[runner] timed out after %ds\n" % timeout
        rc = -1
    passed = failed = skipped = 0
    if kind == "unit":
        m = CHECK_RE.search(out)
        if m:
            checks, fails, errs = int(m.group(2)), int(m.group(3)), int(m.group(4))
            failed = fails + errs
            passed = checks - failed
    else:
        skipped = len(TAP_SKIP.findall(out))
        passed = len(TAP_OK.findall(out)) - skipped
        failed = len(TAP_NOT_OK.findall(out))
    if rc != 0 and failed == 0:
        failed = 1  # crashed, timed out, or failed outside a check
    if rc == 0 and passed == 0 and failed == 0 and skipped == 0:
        failed = 1  # a test that checked nothing is a broken test
        out += "\n[runner] the test reported no checks\n"
    return dict(kind=kind, path=path, rc=rc, out=out, passed=passed,
                failed=failed, skipped=skipped, secs=time.time() - start)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--tier", default="full", choices=["unit", "quick", "full"])
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    env = dict(os.environ)
    env["CAIRN_BUILD"] = build
    env["CAIRN_SRC"] = SRC
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.setdefault("CK_DEFAULT_TIMEOUT", "60")
    jobs = int(env.get("TEST_JOBS", "2"))
    timeout = int(env.get("TEST_TIMEOUT", "900"))
    tests = discover(build, args.tier, args.only)
    if not tests:
        print("no tests found" + (" matching %r" % args.only if args.only else ""))
        print("0 passed, 1 failed")
        return 1
    tot_p = tot_f = tot_s = 0
    t0 = time.time()
    with cf.ThreadPoolExecutor(max_workers=jobs) as ex:
        futs = [ex.submit(run_one, k, p, env, timeout) for k, p in tests]
        for fut in cf.as_completed(futs):
            r = fut.result()
            rel = os.path.relpath(r["path"], SRC) if r["path"].startswith(SRC) \
                else os.path.relpath(r["path"], build)
            status = "FAIL" if r["failed"] else "ok"
            print("%-4s %-52s %4d passed %3d failed %3d skipped %6.1fs" %
                  (status, rel, r["passed"], r["failed"], r["skipped"], r["secs"]),
                  flush=True)
            if r["failed"] or os.environ.get("TEST_VERBOSE"):
                print("---- output of %s (exit %s) ----" % (rel, r["rc"]))
                print(r["out"].rstrip())
                print("---- end of %s ----" % rel, flush=True)
            tot_p += r["passed"]
            tot_f += r["failed"]
            tot_s += r["skipped"]
    print("ran %d test programs in %.0fs" % (len(tests), time.time() - t0))
    line = "%d passed, %d failed" % (tot_p, tot_f)
    if tot_s:
        line += ", %d skipped" % tot_s
    print(line)
    return 1 if tot_f else 0


if __name__ == "__main__":
    sys.exit(main())
