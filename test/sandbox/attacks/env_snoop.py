#!/usr/bin/python3
# A27: look for secrets in the environment and in other processes' argv.
# Escaped if any environment variable beyond the ones the engine passed,
# or a variable named in argv[1], is visible.
import json
import os
import sys

secret_name = sys.argv[1] if len(sys.argv) > 1 else "CAIRN_SECRET"
allowed = {"PATH", "LANG", "PWD", "SHLVL", "_", "LC_CTYPE"}
extra = sorted(k for k in os.environ if k not in allowed)
leak = secret_name in os.environ or bool(extra)
cmdlines = []
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmdlines.append(f.read().replace(b"\0", b" ").decode(errors="replace")[:60])
        except OSError:
            pass
print(json.dumps({"attack": "env_snoop", "escaped": leak,
                  "detail": "extra env: %s; processes: %s" % (extra[:8], cmdlines[:5])}),
      file=sys.stderr)
sys.exit(1 if leak else 0)
