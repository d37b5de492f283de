"""Run one perfxl command under an address-space limit and report how it ended (a test helper).

    python tests/run_limited.py LIMIT_BYTES perfxl-args...

Prints one JSON line: exit code, stdout, stderr and the peak RSS (MB) of the perfxl process and
its own children (this helper's only child, so the figure is that command's alone).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys


def main() -> None:
    limit = int(sys.argv[1])

    def confine() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    done = subprocess.run(
        [sys.executable, "-m", "perfxl", *sys.argv[2:]],
        capture_output=True,
        preexec_fn=confine,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    out = {
        "rc": done.returncode,
        "stdout": done.stdout.decode("utf-8", "replace"),
        "stderr": done.stderr.decode("utf-8", "replace"),
        "peak_mb": round(peak, 1),
    }
    sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
