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


with Cluster(t) as cl:
    _, p = cl.storlet_cluster(warm="0",
                              users={"test:tester": "testing .admin",
                                     "test2:tester2": "testing2"})
    path, tok = p.auth("test:tester")
    _, tok2 = p.auth("test2:tester2")
    req = p.requester(tok)
    t.eq(p.enable_storlets(path, tok, ("storlet", "dependency", "data")),
         204, "enable the account for storlets")
    for name, extra in (("who.py", {}),
                        ("whopx.py",
                         {"X-Object-Meta-Storlet-Run-On": "proxy"})):
        t.eq(p.deploy(path, tok, name, body=WHO, lang="python",
                      main=name[:-3] + ".main", **extra),
             201, "deploy %s" % name)
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
