#!/usr/bin/python3
# tier: quick
"""The invocation document's caller is who asked (docs/storlets.md
section 3: `account`, the account the token is for; `user`,
`account:user`), wherever the storlet runs: on an object node, on the
proxy, as a Distributed merge, and for a user of another account reading
through an ACL (the caller's account is then not the object's)."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from cluster import Cluster  # noqa: E402
from tap import Tap  # noqa: E402

SRC = os.environ.get("CAIRN_SRC") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")

t = Tap()

WHO = b'''import json
import cairn_storlet


def main(s):
    s.set_content_type("application/json")
    s.write(json.dumps({"account": s.caller.get("account"),
                        "user": s.caller.get("user")}, sort_keys=True))


if __name__ == "__main__":
    cairn_storlet.run(main)
'''


def python(main, **extra):
    h = {"X-Object-Meta-Storlet-Language": "python",
         "X-Object-Meta-Storlet-Interface-Version": "1.0",
         "X-Object-Meta-Storlet-Object-Metadata": "no",
         "X-Object-Meta-Storlet-Main": main}
    h.update(extra)
    return h


with Cluster(t) as cl:
    os.chmod(cl.dir, 0o755)   # the sandbox opens code dirs below it
    sdk = os.path.join(SRC, "storlets", "sdk", "cairn_storlet.py")

    def conf(name):
        return {"storlets": "true", "storlet_warm": "0",
                "storlet_cache_dir": os.path.join(cl.dir, name + "-cache"),
                "storlet_sdk": sdk}

    nodes = [cl.objectd(devices=["d%d" % (i + 1)], ip=ip,
                        conf=conf("node%d" % i))
             for i, ip in enumerate(("127.0.0.1", "127.0.0.2", "127.0.0.3"))]
    for kind, port in (("account", "aport"), ("container", "cport"),
                       ("object", "port")):
        cl.build_ring(kind, 6, 3, [(n.ip, getattr(n, port), n.devices[0])
                                   for n in nodes])
    p = cl.proxy(users={"test:tester": "testing .admin",
                        "test2:tester2": "testing2"},
                 conf={"DEFAULT": conf("proxy")})
    path, tok = p.auth("test:tester")
    _, tok2 = p.auth("test2:tester2")

    def req(m, u, body=None, headers=None, token=tok):
        h = {"X-Auth-Token": token}
        h.update(headers or {})
        return p.request(m, u, body=body, headers=h)

    st, _, _ = req("POST", path,
                   headers={"X-Account-Meta-Storlet-Enabled": "True"})
    t.eq(st, 204, "enable the account for storlets")
    for c in ("storlet", "dependency", "data"):
        req("PUT", path + "/" + c)
    for name, extra in (("who.py", {}),
                        ("whopx.py",
                         {"X-Object-Meta-Storlet-Run-On": "proxy"})):
        st, _, _ = req("PUT", path + "/storlet/" + name, body=WHO,
                       headers=python(name[:-3] + ".main", **extra))
        t.eq(st, 201, "deploy %s" % name)
    for c in ("storlet", "data"):
        req("POST", path + "/" + c,
            headers={"X-Container-Read": "test2:tester2"})
    req("PUT", path + "/data/o", body=b"x")

    owner = {"account": "AUTH_test", "user": "test:tester"}
    other = {"account": "AUTH_test2", "user": "test2:tester2"}
    for what, token, want, headers in (
            ("on an object node", tok, owner, {"X-Run-Storlet": "who.py"}),
            ("on the proxy", tok, owner, {"X-Run-Storlet": "whopx.py"}),
            ("for another account's user, on a node", tok2, other,
             {"X-Run-Storlet": "who.py"}),
            ("for another account's user, on the proxy", tok2, other,
             {"X-Run-Storlet": "whopx.py"})):
        st, _, b = req("GET", path + "/data/o", headers=headers, token=token)
        t.eq((st, json.loads(b) if st == 200 else b), (200, want),
             "the caller %s" % what)

    doc = {"resources": {"objects": ["data/o"]},
           "split": {"storlet": "who.py"}, "merge": {"storlet": "whopx.py"}}
    st, _, b = req("POST", path, body=json.dumps(doc).encode(), token=tok2,
                   headers={"X-Storlet-Distributed": "1",
                            "Content-Type": "application/json"})
    t.eq((st, json.loads(b) if st == 200 else b), (200, other),
         "the caller of a Distributed merge")

t.done()
