"""A tiny TAP producer for integration tests (standard library only).

    from tap import Tap
    t = Tap()
    t.ok(status == 201, "PUT answers 201")
    t.eq(body, b"hello", "GET returns the body")
    t.done()          # prints the plan, exits 1 if anything failed

Output is TAP 13 on stdout; diagnostics go to stdout as '# ' lines.
"""
import sys
import traceback


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name):
        self.n += 1
        if cond:
            print("ok %d - %s" % (self.n, name), flush=True)
        else:
            self.failed += 1
            print("not ok %d - %s" % (self.n, name), flush=True)
            where = traceback.extract_stack()[-3 if self._nested else -2]
            self.diag("at %s:%d" % (where.filename, where.lineno))
        self._nested = False
        return bool(cond)

    _nested = False

    def eq(self, got, want, name):
        self._nested = True
        if not self.ok(got == want, name):
            self.diag("got:  %r" % (got,))
            self.diag("want: %r" % (want,))
            return False
        return True

    def skip(self, name, why):
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, name, why), flush=True)

    def diag(self, msg):
        for line in str(msg).splitlines() or [""]:
            print("# " + line, flush=True)

    def done(self):
        print("1..%d" % self.n, flush=True)
        sys.exit(1 if self.failed else 0)
