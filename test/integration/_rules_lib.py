"""What the storlet rules tests (storlet_rules*.py) share: a three-node
cluster whose nodes and proxies run storlets, and the metadata a storlet
object is deployed with. Not a test itself (test/run.py skips names
starting with "_")."""
import os

SRC = os.environ.get("CAIRN_SRC") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")


def native(main):
    """Headers deploying a native storlet whose entry point is main."""
    return {"X-Object-Meta-Storlet-Language": "native",
            "X-Object-Meta-Storlet-Interface-Version": "1.0",
            "X-Object-Meta-Storlet-Object-Metadata": "no",
            "X-Object-Meta-Storlet-Main": main}


def python(main, meta="no"):
    """The same for a Python storlet ("module.function")."""
    h = native(main)
    h["X-Object-Meta-Storlet-Language"] = "python"
    h["X-Object-Meta-Storlet-Object-Metadata"] = meta
    return h


def storlet_conf(cl, name):
    """The [DEFAULT] options of a node or proxy named name that runs
    storlets (its own code cache, no warm sandboxes)."""
    return {"storlets": "true", "storlet_warm": "0",
            "storlet_cache_dir": os.path.join(cl.dir, name + "-cache"),
            "storlet_sdk": os.path.join(SRC, "storlets", "sdk", "cairn_storlet.py")}


def storlet_nodes(cl, object_port=None):
    """Starts three storage nodes running storlets (127.0.0.1-3, one
    device each) and builds the rings over them, three replicas.
    object_port(i, node), when given, is the port the object ring names
    for node i (a relay in front of it). Returns the nodes."""
    os.chmod(cl.dir, 0o755)   # the sandbox opens code dirs below it
    nodes = [cl.objectd(devices=["d%d" % (i + 1)], ip=ip,
                        conf=storlet_conf(cl, "node%d" % i))
             for i, ip in enumerate(("127.0.0.1", "127.0.0.2", "127.0.0.3"))]
    for kind, port in (("account", "aport"), ("container", "cport")):
        cl.build_ring(kind, 6, 3, [(n.ip, getattr(n, port), n.devices[0])
                                   for n in nodes])
    cl.build_ring("object", 6, 3, [
        (n.ip, object_port(i, n) if object_port else n.port, n.devices[0])
        for i, n in enumerate(nodes)])
    return nodes
