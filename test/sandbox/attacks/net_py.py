#!/usr/bin/python3
# A07 for a Python storlet: open a TCP connection to the host's 127.0.0.1
# PORT and send TOKEN. Escaped if it connected.
import json
import socket
import sys

port, token = int(sys.argv[1]), sys.argv[2]
try:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(token.encode())
    s.close()
    escaped, detail = True, "connected to the host"
except OSError as e:
    escaped, detail = False, "%s: %s" % (type(e).__name__, e)
print(json.dumps({"attack": "net_py", "escaped": escaped, "detail": detail}),
      file=sys.stderr)
sys.exit(1 if escaped else 0)
