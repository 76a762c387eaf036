#!/usr/bin/python3
# tier: quick
"""cairn-proxy authorization: container ACLs (.r:* anonymous reads,
.rlistings, read and write grants to another account's user and to a user
without .admin), 401 versus 403, ACL headers visible to owners only, and
bad ACLs refused."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()

with Cluster(t) as cl:
    cl.storage_cluster()
    p = cl.proxy()
    path, tok = p.auth("test:tester")
    _, tok2 = p.auth("test2:tester2")
    _, tok3 = p.auth("test:tester3")
    O = {"X-Auth-Token": tok}

    def as_(token, m, u, body=None, headers=None):
        hh = {"X-Auth-Token": token} if token else {}
        hh.update(headers or {})
        return p.request(m, u, body=body, headers=hh)

    as_(tok, "PUT", path + "/pub")
    as_(tok, "PUT", path + "/pub/o", body=b"public data")
    as_(tok, "PUT", path + "/priv")
    as_(tok, "PUT", path + "/priv/o", body=b"secret")

    # anonymous before any ACL
    st, _, _ = as_(None, "GET", path + "/pub/o")
    t.eq(st, 401, "anonymous GET without an ACL answers 401")
    # .r:* opens objects but not the listing
    st, _, _ = as_(tok, "POST", path + "/pub", headers={
        "X-Container-Read": ".r:*"})
    t.eq(st, 204, "owner sets X-Container-Read: .r:*")
    st, _, b = as_(None, "GET", path + "/pub/o")
    t.eq((st, b), (200, b"public data"), "anonymous GET with .r:* works")
    st, _, _ = as_(None, "HEAD", path + "/pub/o")
    t.eq(st, 200, "anonymous HEAD with .r:* works")
    st, _, _ = as_(None, "GET", path + "/pub")
    t.eq(st, 401, "the listing still needs .rlistings")
    st, _, _ = as_(None, "PUT", path + "/pub/o2", body=b"x")
    t.eq(st, 401, "anonymous PUT is still refused")
    st, _, _ = as_(None, "GET", path + "/priv/o")
    t.eq(st, 401, "another container stays closed")
    as_(tok, "POST", path + "/pub", headers={
        "X-Container-Read": ".r:*,.rlistings"})
    st, _, b = as_(None, "GET", path + "/pub")
    t.eq((st, b), (200, b"o\n"), "with .rlistings the listing is open")

    # other account's user: 403 until granted
    st, _, _ = as_(tok2, "GET", path + "/priv/o")
    t.eq(st, 403, "another account's user gets 403")
    st, _, _ = as_(tok2, "PUT", path + "/priv/w", body=b"x")
    t.eq(st, 403, "and cannot write")
    as_(tok, "POST", path + "/priv", headers={
        "X-Container-Write": "test2:tester2"})
    st, _, _ = as_(tok2, "PUT", path + "/priv/w", body=b"from test2")
    t.eq(st, 201, "X-Container-Write grants PUT to test2:tester2")
    st, _, _ = as_(tok2, "GET", path + "/priv/w")
    t.eq(st, 403, "write does not grant read")
    st, _, _ = as_(tok2, "DELETE", path + "/priv/w")
    t.eq(st, 204, "write grants DELETE")
    st, _, _ = as_(tok2, "POST", path + "/priv", headers={
        "X-Container-Meta-X": "y"})
    t.eq(st, 403, "write ACL does not let a non-owner change the container")
    as_(tok, "POST", path + "/priv", headers={"X-Container-Read": "test2"})
    st, _, b = as_(tok2, "GET", path + "/priv/o")
    t.eq((st, b), (200, b"secret"), "a read grant to the account works")
    st, _, b = as_(tok2, "GET", path + "/priv")
    t.eq(st, 200, "a group in the read ACL may list")

    # a user of the same account without .admin
    st, _, _ = as_(tok3, "GET", path + "/pub/o")
    t.eq(st, 200, ".r:* covers authenticated users too")
    st, _, _ = as_(tok3, "GET", path + "/priv/o")
    t.eq(st, 403, "a non-admin user is not an owner")
    st, _, _ = as_(tok3, "PUT", path + "/newc")
    t.eq(st, 403, "and cannot create containers")
    as_(tok, "POST", path + "/priv", headers={"X-Container-Read":
                                              "test:tester3"})
    st, _, _ = as_(tok3, "GET", path + "/priv/o")
    t.eq(st, 200, "a user grant works")

    # ACL headers only for owners
    st, h, _ = as_(tok, "HEAD", path + "/priv")
    t.eq(h.get("x-container-read"), "test:tester3", "owner sees the ACL")
    st, h, _ = as_(tok3, "HEAD", path + "/priv")
    t.eq((st, h.get("x-container-read")), (204, None),
         "a reader does not see it")

    # copies need read on the source and write on the destination
    as_(tok, "PUT", path + "/src", headers={"X-Container-Read": "test2"})
    as_(tok, "PUT", path + "/src/o", body=b"copy me")
    as_(tok, "PUT", path + "/dst", headers={"X-Container-Write":
                                            "test2:tester2"})
    as_(tok, "PUT", path + "/nowrite")
    st, _, _ = as_(tok2, "COPY", path + "/src/o", headers={
        "Destination": "dst/o2"})
    t.eq(st, 201, "COPY with read on the source and write on the target")
    st, _, _ = as_(tok2, "PUT", path + "/dst/o3", body=b"", headers={
        "X-Copy-From": "src/o"})
    t.eq(st, 201, "X-Copy-From likewise")
    st, _, b = as_(tok, "GET", path + "/dst/o3")
    t.eq(b, b"copy me", "the copy has the data")
    st, _, _ = as_(tok2, "COPY", path + "/src/o", headers={
        "Destination": "nowrite/o"})
    t.eq(st, 403, "COPY into a container without write access: 403")
    as_(tok, "POST", path + "/src", headers={"X-Remove-Container-Read": "x"})
    st, _, _ = as_(tok2, "PUT", path + "/dst/o4", body=b"", headers={
        "X-Copy-From": "src/o"})
    t.eq(st, 403, "X-Copy-From without read on the source: 403")
    st, _, _ = as_(tok2, "COPY", path + "/src/o", headers={
        "Destination": "dst/o5"})
    t.eq(st, 403, "COPY without read on the source: 403")
    st, _, _ = as_(None, "COPY", path + "/src/o", headers={
        "Destination": "dst/o6"})
    t.eq(st, 401, "anonymous COPY: 401")

    # bad ACLs
    st, _, b = as_(tok, "POST", path + "/priv", headers={
        "X-Container-Write": ".r:*"})
    t.eq(st, 400, "a referrer in a write ACL answers 400")
    st, _, _ = as_(tok, "POST", path + "/priv", headers={
        "X-Container-Read": ".r:"})
    t.eq(st, 400, "an empty referrer answers 400")
    st, _, _ = as_(tok, "PUT", path + "/c3", headers={
        "X-Container-Read": ".bad:x"})
    t.eq(st, 400, "an unknown designator answers 400")
    st, _, _ = as_(tok, "HEAD", path + "/c3")
    t.eq(st, 404, "and the container was not created")

t.done()
