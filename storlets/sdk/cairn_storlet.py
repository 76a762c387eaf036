"""cairn_storlet - the Python SDK for Cairn storlets (standard library only).

The ABI is docs/storlets.md; this module is one reading of it. A storlet is
a module with a function that takes the invocation:

    import cairn_storlet

    def main(s):
        for chunk in iter(lambda: s.input.read(65536), b""):
            s.write(chunk)

The storlet is deployed with X-Object-Meta-Storlet-Main: <module>.main; the
engine runs

    /usr/bin/python3 -I -B /storlet/cairn_storlet.py <module>.main

with this file (the engine's copy) beside the storlet in /storlet. A storlet
file may also end in `if __name__ == "__main__": cairn_storlet.run(main)`
to be started as a script.

What a storlet gets (class Storlet): params (dict of str), request (dict),
caller (dict), metadata (the object's user metadata), inputs (list of Input,
binary file-like, inputs[0] is the object), input (= inputs[0]),
set_metadata()/set_content_type() (before the first write), write(), copy()
(the rest of the input to the output, by splice when it can), log(),
fail(), the services calls open_object() and invoke(), and merge_parts() for
the merge storlet of a Distributed request.

print() writes to the log (fd 2), never to the output: use write().

Failures: raise StorletError(code, reason) or call s.fail(code, reason);
any other exception is logged with its traceback and ends the run with exit
code 1 and the exception as the reason. Exit codes: EXIT_OK 0, EXIT_FAILED 1,
EXIT_BAD_PARAM 64 (parameters rejected), EXIT_BAD_INPUT 65 (input not in a
form the storlet takes), EXIT_PROTOCOL 70 (the ABI was not honoured).

One invocation per process; not thread-safe.
"""
import errno
import importlib
import io
import json
import os
import signal
import socket
import stat
import struct
import sys

INTERFACE_VERSION = "1.0"

FD_INPUT, FD_OUTPUT, FD_LOG, FD_META, FD_SERVICES, FD_EXTRA = 0, 1, 2, 3, 4, 5

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_PARAM = 64
EXIT_BAD_INPUT = 65
EXIT_PROTOCOL = 70

DOC_MAX = 1 << 20      # engine -> storlet frame
FRAME_MAX = 64 << 10   # storlet -> engine frame

META_KEY_MAX = 128
META_VALUE_MAX = 256
META_COUNT_MAX = 90
META_TOTAL_MAX = 4096


class StorletError(Exception):
    """Ends the invocation with exit code `code` and `reason`."""

    def __init__(self, code, reason):
        super().__init__(reason)
        self.code = code if code else EXIT_FAILED
        self.reason = reason


class ServiceError(Exception):
    """A services call failed: status is the HTTP-like status (0 if none)."""

    def __init__(self, status, reason):
        super().__init__("%s %s" % (status, reason) if status else reason)
        self.status = status
        self.reason = reason


# ------------------------------------------------------------ framing

def _write_all(fd, data):
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _read_exact(fd, n):
    parts = []
    while n:
        b = os.read(fd, n)
        if not b:
            raise EOFError("channel closed")
        parts.append(b)
        n -= len(b)
    return b"".join(parts)


def encode_frame(obj, limit=FRAME_MAX):
    """A frame: 4-byte big-endian length, then the JSON object's bytes."""
    body = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()
    if len(body) > limit:
        raise ValueError("frame of %d bytes is over %d" % (len(body), limit))
    return struct.pack(">I", len(body)) + body


def _decode_body(body):
    def no_dups(pairs):
        d = {}
        for k, v in pairs:
            if k in d:
                raise ValueError("duplicate key %r" % k)
            d[k] = v
        return d
    obj = json.loads(body.decode("utf-8"), object_pairs_hook=no_dups)
    if not isinstance(obj, dict):
        raise ValueError("frame is not a JSON object")
    return obj


def read_frame(fd, limit):
    (n,) = struct.unpack(">I", _read_exact(fd, 4))
    if n == 0 or n > limit:
        raise ValueError("frame length %d out of range (1..%d)" % (n, limit))
    return _decode_body(_read_exact(fd, n))


def _recv_exact(sock, n, fds):
    parts = []
    while n:
        data, anc, _flags, _addr = sock.recvmsg(n, socket.CMSG_SPACE(4 * 4))
        for level, kind, cdata in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                got = list(struct.unpack("%di" % (len(cdata) // 4),
                                         cdata[:len(cdata) // 4 * 4]))
                fds.extend(got)
        if not data:
            raise EOFError("services channel closed")
        parts.append(data)
        n -= len(data)
    return b"".join(parts)


def _recv_frame(sock, limit):
    """Reads one frame from a socket; returns (obj, fd or None)."""
    fds = []
    try:
        (n,) = struct.unpack(">I", _recv_exact(sock, 4, fds))
        if n == 0 or n > limit:
            raise ValueError("frame length %d out of range (1..%d)" % (n, limit))
        obj = _decode_body(_recv_exact(sock, n, fds))
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
    for fd in fds[1:]:
        os.close(fd)
    return obj, (fds[0] if fds else None)


# ------------------------------------------------------------ merge stream

MERGE_FRAME_MAX = 1 << 20      # a merge stream's frame, and its chunks
MERGE_PARTS_MAX = 100000


def _bad_input(reason):
    raise StorletError(EXIT_BAD_INPUT, reason)


class MergePart:
    """One split's output in a merge stream: index (its resource's place
    in the request), path (container/object), frame (the part frame, with
    "metadata" and "content_type"), read(n) and read_whole(cap)."""

    def __init__(self, stream, frame):
        self._f = stream
        self._left = 0          # bytes left of the current chunk
        self._open = True       # the zero chunk not read yet
        self.frame = frame
        self.index = frame["index"]
        self.path = frame["path"]

    def _exact(self, n, what):
        data = self._f.read(n)
        if len(data) != n:
            _bad_input("merge input ended early, in %s" % what)
        return data

    def read(self, n=65536):
        """Up to n bytes of the part; b"" at its end."""
        while self._open and not self._left:
            (self._left,) = struct.unpack(">I", self._exact(4, "a chunk length"))
            if not self._left:
                self._open = False
            elif self._left > MERGE_FRAME_MAX:
                _bad_input("part %s: chunk of %d bytes" % (self.path, self._left))
        if not self._open:
            return b""
        data = self._exact(min(n, self._left), "a chunk")
        self._left -= len(data)
        return data

    def read_whole(self, cap):
        """The rest of the part; fails (exit 65) when over cap bytes."""
        body = bytearray()
        for chunk in iter(lambda: self.read(MERGE_FRAME_MAX), b""):
            body += chunk
            if len(body) > cap:
                _bad_input("part %s: more than %d bytes" % (self.path, cap))
        return bytes(body)


def merge_parts(stream):
    """The parts of a Distributed merge stream (docs/compound-storlets.md
    section 2.3) read from the binary file stream, as MergePart objects in
    arrival order. What a part leaves unread is skipped. The generator ends
    only once the stream is known whole: exactly the number of parts the
    end frame says, with distinct indexes below it; anything else raises
    StorletError(EXIT_BAD_INPUT) with the reason."""
    seen = set()
    while True:
        head = stream.read(4)
        if len(head) != 4:
            _bad_input("merge input ended early, in a frame length")
        (n,) = struct.unpack(">I", head)
        if n == 0 or n > MERGE_FRAME_MAX:
            _bad_input("merge input: frame length %d" % n)
        body = stream.read(n)
        if len(body) != n:
            _bad_input("merge input ended early, in a frame")
        try:
            frame = _decode_body(body)
        except ValueError:
            _bad_input("merge input: a frame is not a JSON object")
        if frame.get("type") == "end":
            parts = frame.get("parts")
            if not isinstance(parts, int) or isinstance(parts, bool) or parts < 0:
                _bad_input("merge input: bad end frame")
            if len(seen) != parts or any(i >= parts for i in seen):
                _bad_input("merge input: %d parts, the end frame says %d" % (len(seen), parts))
            return
        idx, path = frame.get("index"), frame.get("path")
        if frame.get("type") != "part" or not isinstance(idx, int) or isinstance(idx, bool) \
                or not 0 <= idx < MERGE_PARTS_MAX or not isinstance(path, str):
            _bad_input("merge input: bad part frame")
        if idx in seen:
            _bad_input("merge input: part %d (%s) twice" % (idx, path))
        seen.add(idx)
        part = MergePart(stream, frame)
        yield part
        while part.read(MERGE_FRAME_MAX):
            pass


# ------------------------------------------------------------ the invocation

class Input(io.BufferedReader):
    """One input stream (binary, buffered) with its object's facts."""

    def __init__(self, fd, info):
        super().__init__(io.FileIO(fd, "rb", closefd=True), 65536)
        self.info = info
        self.metadata = dict(info.get("metadata") or {})
        self.path = info.get("path")


class Stream(io.BufferedReader):
    """A services stream: another object's body or another storlet's output.

    reply holds the engine's reply (status, metadata, content_type,
    content_length, etag). close() checks the engine's end frame and raises
    ServiceError if the body was not delivered whole.
    """

    def __init__(self, storlet, rid, fd, reply):
        super().__init__(io.FileIO(fd, "rb", closefd=True), 65536)
        self._storlet = storlet
        self._id = rid
        self._ended = False
        self.reply = reply
        self.metadata = dict(reply.get("metadata") or {})

    def close(self):
        if self._ended:
            return
        self._ended = True
        super().close()
        end, fd = _recv_frame(self._storlet._services, FRAME_MAX)
        if fd is not None:
            os.close(fd)
        if end.get("type") != "end" or end.get("id") != self._id:
            raise ServiceError(0, "services: unexpected frame %r" % (end,))
        if end.get("ok") is not True:
            raise ServiceError(0, "stream ended early: %s" % end.get("reason", ""))

    def __exit__(self, *exc):
        self.close()


class Storlet:
    """One invocation. Made by run(); a storlet's function receives it."""

    def __init__(self, doc):
        self.doc = doc
        self.params = dict(doc.get("parameters") or {})
        self.request = dict(doc.get("request") or {})
        self.caller = dict(doc.get("caller") or {})
        self.limits = dict(doc.get("limits") or {})
        infos = doc.get("inputs")
        if not isinstance(infos, list) or not 1 <= len(infos) <= 8:
            raise StorletError(EXIT_PROTOCOL, "invocation document: inputs must list 1..8 inputs")
        self.inputs = [Input(i["fd"], i) for i in infos]
        self.input = self.inputs[0]
        self.metadata = self.input.metadata
        self._meta = {}
        self._content_type = None
        self._meta_sent = False
        self._out = io.FileIO(FD_OUTPUT, "wb", closefd=True)
        self._buf = bytearray()
        self._next_id = 1
        self._services = None
        if doc.get("services") is True:
            try:
                os.fstat(FD_SERVICES)
                self._services = socket.socket(fileno=FD_SERVICES)
            except OSError:
                self._services = None

    # -- parameters
    def param(self, key, default=None):
        return self.params.get(key, default)

    def param_int(self, key, default=None, minimum=None, maximum=None):
        """An integer parameter; a bad value ends the run with EXIT_BAD_PARAM."""
        v = self.params.get(key)
        if v is None:
            return default
        try:
            x = int(v, 10)
        except ValueError:
            raise StorletError(EXIT_BAD_PARAM, "parameter %s=%r is not an integer" % (key, v))
        if (minimum is not None and x < minimum) or (maximum is not None and x > maximum):
            raise StorletError(EXIT_BAD_PARAM, "parameter %s=%d out of range" % (key, x))
        return x

    def param_bool(self, key, default=False):
        v = self.params.get(key)
        if v is None:
            return default
        if v.lower() in ("true", "yes", "1", "on"):
            return True
        if v.lower() in ("false", "no", "0", "off"):
            return False
        raise StorletError(EXIT_BAD_PARAM, "parameter %s=%r is not a boolean" % (key, v))

    # -- output
    def set_metadata(self, meta):
        """Adds output metadata (keys without X-Object-Meta-); before output."""
        if self._meta_sent:
            raise StorletError(EXIT_FAILED, "set_metadata after the first output byte")
        new = dict(self._meta)
        for k, v in meta.items():
            k, v = str(k), str(v)
            if (not k or len(k.encode()) > META_KEY_MAX or len(v.encode()) > META_VALUE_MAX
                    or any(c in k for c in ": ") or any(ord(c) < 32 or ord(c) == 127 for c in k + v)
                    or not k.isascii()):
                raise StorletError(EXIT_FAILED, "output metadata %r: not a valid key/value" % k)
            new[k] = v
        total = sum(len(k.encode()) + len(v.encode()) for k, v in new.items())
        if len(new) > META_COUNT_MAX or total > META_TOTAL_MAX:
            raise StorletError(EXIT_FAILED, "output metadata over %d items or %d bytes"
                               % (META_COUNT_MAX, META_TOTAL_MAX))
        self._meta = new

    def set_content_type(self, ct):
        if self._meta_sent:
            raise StorletError(EXIT_FAILED, "set_content_type after the first output byte")
        self._content_type = ct

    def send_metadata(self):
        if self._meta_sent:
            return
        self._meta_sent = True
        frame = {"type": "metadata", "metadata": self._meta}
        if self._content_type:
            frame["content_type"] = self._content_type
        _write_all(FD_META, encode_frame(frame))

    def write(self, data):
        """Writes bytes (or str, as UTF-8) to the output."""
        if isinstance(data, str):
            data = data.encode()
        if not self._meta_sent:
            self.send_metadata()
        self._buf += data
        if len(self._buf) >= 65536:
            self.flush()

    def flush(self):
        if self._buf:
            _write_all(FD_OUTPUT, self._buf)
            self._buf.clear()

    def copy(self):
        """Copies the rest of the main input to the output (metadata first)
        and returns how many bytes: a pass-through storlet's whole job. With
        os.splice when the output is a pipe (as the engine gives it) the
        bytes never enter the interpreter; else through a buffer."""
        self.send_metadata()
        self.flush()
        total = 0
        head = self.input.peek(1)   # what the input's buffer holds first
        if head:
            _write_all(FD_OUTPUT, self.input.read1(len(head)))
            total += len(head)
        spliced = hasattr(os, "splice") and stat.S_ISFIFO(os.fstat(FD_OUTPUT).st_mode)
        while spliced:
            try:
                n = os.splice(self.input.fileno(), FD_OUTPUT, 1 << 20)
            except OSError as e:
                if e.errno not in (errno.EINVAL, errno.ENOSYS, errno.EPERM):
                    raise
                break   # moved nothing this time: read and write on
            if n == 0:
                return total
            total += n
        for chunk in iter(lambda: self.input.read(65536), b""):
            _write_all(FD_OUTPUT, chunk)
            total += len(chunk)
        return total

    def log(self, msg):
        """One line on the log (fd 2)."""
        try:
            _write_all(FD_LOG, (str(msg).rstrip("\n") + "\n").encode(errors="replace"))
        except OSError:
            pass

    def fail(self, code, reason):
        raise StorletError(code, reason)

    def merge_parts(self):
        """For merge storlets: merge_parts(self.input)."""
        return merge_parts(self.input)

    def _finish(self):
        self.send_metadata()
        self.flush()
        self._out.close()

    # -- services
    def has_services(self):
        return self._services is not None

    def _call(self, req):
        if self._services is None:
            raise ServiceError(0, "no services channel")
        rid = self._next_id
        self._next_id += 1
        req["id"] = rid
        self._services.sendall(encode_frame(req))
        rep, fd = _recv_frame(self._services, DOC_MAX)
        if rep.get("id") != rid or not isinstance(rep.get("status"), int):
            if fd is not None:
                os.close(fd)
            raise ServiceError(0, "services: reply with a wrong id or no status")
        st = rep["status"]
        if not 200 <= st <= 299:
            if fd is not None:
                os.close(fd)
            raise ServiceError(st, rep.get("reason", ""))
        if fd is None:
            raise ServiceError(0, "services: success without a stream")
        return Stream(self, rid, fd, rep)

    def open_object(self, path, range=None):
        """Another object ("container/object"), read with the caller's rights."""
        req = {"op": "read", "path": path}
        if range:
            req["range"] = range
        return self._call(req)

    def invoke(self, storlet, path, params=None):
        """Another storlet run on object `path`; its output as a Stream."""
        return self._call({"op": "invoke", "storlet": storlet, "path": path,
                           "parameters": dict(params or {})})


def _fail_exit(code, reason):
    try:
        _write_all(FD_LOG, ("error: %s\n" % reason).encode(errors="replace"))
    except OSError:
        pass
    try:
        _write_all(FD_META, encode_frame({"type": "error", "reason": reason[:1024]}))
    except (OSError, ValueError):
        pass
    os._exit(code)


def start():
    """Reads the invocation document from fd 3 and returns the Storlet."""
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    # fd 1 is the output stream: a print() there would land in the middle
    # of it (in 8 KiB blocks, the rest lost at os._exit). Debugging prints
    # go to the log instead, unbuffered.
    sys.stdout = io.TextIOWrapper(io.FileIO(FD_LOG, "w", closefd=False),
                                  encoding="utf-8", errors="replace",
                                  write_through=True)
    try:
        os.fstat(FD_META)
    except OSError:
        _fail_exit(EXIT_PROTOCOL, "no metadata channel on fd 3: not started by a "
                   "storlet engine (use cairn-storlet-run)")
    try:
        doc = read_frame(FD_META, DOC_MAX)
    except (EOFError, ValueError, OSError) as e:
        _fail_exit(EXIT_PROTOCOL, "invocation document: %s" % e)
    if doc.get("type") != "invocation":
        _fail_exit(EXIT_PROTOCOL, 'invocation document: type is not "invocation"')
    if doc.get("interface_version") != INTERFACE_VERSION:
        _fail_exit(EXIT_PROTOCOL, "invocation document: interface_version %s, this SDK "
                   "speaks %s" % (doc.get("interface_version"), INTERFACE_VERSION))
    if not isinstance(doc.get("parameters"), dict):
        _fail_exit(EXIT_PROTOCOL, "invocation document: parameters is not an object")
    try:
        return Storlet(doc)
    except StorletError as e:
        _fail_exit(e.code, e.reason)


def run(fn):
    """Runs fn(storlet) as the whole invocation and exits the process."""
    s = start()
    try:
        fn(s)
        s._finish()
    except StorletError as e:
        _fail_exit(e.code, e.reason)
    except BrokenPipeError:
        _fail_exit(EXIT_FAILED, "the output was closed by its reader")
    except Exception as e:  # any bug of the storlet: log it whole
        import traceback  # here only: its imports cost every start ~3 ms
        for line in traceback.format_exc().splitlines():
            s.log(line)
        _fail_exit(EXIT_FAILED, "%s: %s" % (type(e).__name__, e))
    os._exit(EXIT_OK)


def _main(argv):
    if len(argv) != 2 or "." not in argv[1]:
        _fail_exit(EXIT_PROTOCOL, "usage: cairn_storlet.py <module>.<function>")
    modname, _, fname = argv[1].rpartition(".")
    # The storlet's own `import cairn_storlet` must get this very module.
    sys.modules["cairn_storlet"] = sys.modules[__name__]
    sys.path.insert(0, os.environ.get("CAIRN_STORLET_DIR")
                    or os.path.dirname(os.path.abspath(__file__)))
    try:
        mod = importlib.import_module(modname)
        fn = getattr(mod, fname)
    except Exception as e:
        _fail_exit(EXIT_PROTOCOL, "cannot load %s: %s: %s" % (argv[1], type(e).__name__, e))
    run(fn)


if __name__ == "__main__":
    _main(sys.argv)
