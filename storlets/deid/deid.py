"""deid - de-identification of CSV and JSON records, streaming.

Drops or masks named fields (patient name, ID, birth date, ...) in every
record, one record at a time, so memory is bounded by the largest record
(at most 1 MiB, and a CSV line too; a larger one ends the run with exit 65
as soon as it is seen, before it is read whole).

Parameters:
  format  csv, jsonl (one JSON object per line) or json (a JSON array of
          objects, or one object); default: from the object's content type
          (text/csv, application/x-ndjson, application/json), else from the
          object name's extension, else csv
  fields  comma-separated field names, matched case-insensitively and
          without the spaces around them (a CSV header "id, Name , dob"
          names name and dob), at any depth of a JSON record (default:
          name,patient_name,patient_id,birth_date,birthdate,dob,ssn,
          address,phone,email)
  mode    drop (default) | mask | hash
  mask    the replacement with mode=mask (default "***")
  salt    with mode=hash, the value becomes the first 16 hex digits of
          sha256(salt + value): records stay linkable without the value
Output: the same records, same format and order; CSV keeps its dialect's
quoting minimal and its line ends as \\r\\n (the csv module's default) unless
the input used \\n, and a leading UTF-8 byte order mark (as spreadsheets
write) is kept, never read as part of the first field's name. JSON and
JSON lines may start with one too (it is dropped). Output metadata: Deidentified "<mode>:<fields>",
Deid-Format. Content-Type as the input's kind.
Deploy with X-Object-Meta-Storlet-Main: deid.main.
"""
import csv
import hashlib
import io
import json
import os

import cairn_storlet

DEFAULT_FIELDS = ("name,patient_name,patient_id,birth_date,birthdate,dob,ssn,"
                  "address,phone,email")
RECORD_MAX = 1 << 20
BOM = "\ufeff"
TYPES = {"csv": "text/csv", "jsonl": "application/x-ndjson", "json": "application/json"}


class Rules:
    def __init__(self, s):
        fields = s.param("fields", DEFAULT_FIELDS)
        self.fields = {f.strip().lower() for f in fields.split(",") if f.strip()}
        if not self.fields:
            raise cairn_storlet.StorletError(cairn_storlet.EXIT_BAD_PARAM, "fields: empty list")
        self.mode = s.param("mode", "drop")
        if self.mode not in ("drop", "mask", "hash"):
            raise cairn_storlet.StorletError(cairn_storlet.EXIT_BAD_PARAM,
                                             "mode=%s: drop, mask or hash" % self.mode)
        self.mask = s.param("mask", "***")
        self.salt = s.param("salt", "")
        if self.mode == "hash" and not self.salt:
            raise cairn_storlet.StorletError(cairn_storlet.EXIT_BAD_PARAM,
                                             "mode=hash needs a salt parameter")

    def hit(self, name):
        return str(name).strip().lower() in self.fields

    def replace(self, value):
        if self.mode == "mask":
            return self.mask
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        return hashlib.sha256((self.salt + text).encode()).hexdigest()[:16]

    def record(self, rec):
        """A JSON value with the named fields dropped or replaced, at any depth."""
        if isinstance(rec, dict):
            out = {}
            for k, v in rec.items():
                if self.hit(k):
                    if self.mode != "drop":
                        out[k] = self.replace(v)
                else:
                    out[k] = self.record(v)
            return out
        if isinstance(rec, list):
            return [self.record(v) for v in rec]
        return rec


def bad_input(msg):
    raise cairn_storlet.StorletError(cairn_storlet.EXIT_BAD_INPUT, msg)


def guess_format(s):
    ct = (s.input.info.get("content_type") or "").split(";")[0].strip().lower()
    for fmt, t in TYPES.items():
        if ct == t:
            return fmt
    ext = os.path.splitext(s.request.get("object") or "")[1].lower()
    return {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json"}.get(ext, "csv")


def lines(readline, n=0):
    """The lines readline(limit) gives, each at most RECORD_MAX bytes (or
    characters), numbered from n + 1: a longer one fails the run before it
    is read whole."""
    while True:
        line = readline(RECORD_MAX + 1)
        if not line:
            return
        n += 1
        if len(line) > RECORD_MAX:
            bad_input("line %d is over %d bytes" % (n, RECORD_MAX))
        yield line


def do_csv(s, rules):
    text = io.TextIOWrapper(s.input, encoding="utf-8", errors="strict", newline="")
    first = text.readline(RECORD_MAX + 1)
    if not first:
        return
    bom = first.startswith(BOM)
    if bom:
        first = first[1:]
    nl = "\r\n" if first.endswith("\r\n") else "\n"
    header = next(csv.reader([first]))
    keep = [i for i, h in enumerate(header) if not (rules.mode == "drop" and rules.hit(h))]
    secret = {i for i, h in enumerate(header) if rules.hit(h)}
    out = io.StringIO()
    w = csv.writer(out, lineterminator=nl)

    def emit(row):
        w.writerow(row)
        s.write(out.getvalue())
        out.seek(0)
        out.truncate()
    if bom:
        s.write(BOM)
    emit([header[i] for i in keep])

    # the csv module would read a line whole before any check of ours
    csv.field_size_limit(RECORD_MAX)
    reader = csv.reader(lines(text.readline, 1))
    try:
        for n, row in enumerate(reader, 2):
            if sum(len(c) for c in row) > RECORD_MAX:
                bad_input("record %d is over %d bytes" % (n, RECORD_MAX))
            if row and len(row) != len(header):
                bad_input("record %d has %d fields, the header %d" % (n, len(row), len(header)))
            if not row:
                continue
            emit([rules.replace(row[i]) if i in secret else row[i] for i in keep])
    except csv.Error as e:
        bad_input("CSV: %s" % e)
    except UnicodeDecodeError:
        bad_input("CSV is not UTF-8")


def do_jsonl(s, rules):
    for n, line in enumerate(lines(s.input.readline), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError as e:
            bad_input("line %d: not JSON: %s" % (n, e))
        s.write(json.dumps(rules.record(rec), ensure_ascii=False) + "\n")


class JsonStream:
    """Reads a JSON array element by element (or one top-level value)."""

    def __init__(self, f):
        self.f = f
        self.buf = ""
        self.dec = json.JSONDecoder()
        self.first = True
        self.text = io.TextIOWrapper(f, encoding="utf-8")

    def fill(self):
        chunk = self.text.read(65536)
        if self.first:
            self.first = False
            if chunk.startswith(BOM):
                chunk = chunk[1:]
        self.buf += chunk
        return bool(chunk)

    def skip_ws(self):
        while True:
            self.buf = self.buf.lstrip()
            if self.buf or not self.fill():
                return

    def peek(self):
        self.skip_ws()
        return self.buf[:1]

    def value(self):
        while True:
            self.skip_ws()
            try:
                v, end = self.dec.raw_decode(self.buf)
                # a number at the end of the buffer may continue in the next chunk
                if end == len(self.buf) and self.fill():
                    continue
                self.buf = self.buf[end:]
                return v
            except ValueError as e:
                if len(self.buf) > RECORD_MAX:
                    bad_input("a JSON record is over %d bytes" % RECORD_MAX)
                if not self.fill():
                    bad_input("JSON: %s" % e)


def do_json(s, rules):
    st = JsonStream(s.input)
    try:
        if st.peek() != "[":
            s.write(json.dumps(rules.record(st.value()), ensure_ascii=False))
            if st.peek():
                bad_input("JSON: data after the top-level value")
            return
        st.buf = st.buf[1:]
        s.write("[")
        first = True
        while True:
            c = st.peek()
            if c == "]":
                st.buf = st.buf[1:]
                break
            if not first:
                if c != ",":
                    bad_input("JSON: ',' or ']' expected in the array")
                st.buf = st.buf[1:]
            if not st.peek():
                bad_input("JSON: the array ends early")
            s.write(("" if first else ",") + json.dumps(rules.record(st.value()),
                                                        ensure_ascii=False))
            first = False
        s.write("]")
        if st.peek():
            bad_input("JSON: data after the array")
    except UnicodeDecodeError:
        bad_input("JSON is not UTF-8")


def main(s):
    rules = Rules(s)
    fmt = s.param("format") or guess_format(s)
    if fmt not in TYPES:
        raise cairn_storlet.StorletError(cairn_storlet.EXIT_BAD_PARAM,
                                         "format=%s: csv, jsonl or json" % fmt)
    s.set_metadata({"Deidentified": "%s:%s" % (rules.mode, ",".join(sorted(rules.fields))),
                    "Deid-Format": fmt})
    s.set_content_type(TYPES[fmt])
    {"csv": do_csv, "jsonl": do_jsonl, "json": do_json}[fmt](s, rules)


if __name__ == "__main__":
    cairn_storlet.run(main)
