"""Hostile inputs: time and peak memory per bad-file kind, beside the limits that stop them.

Run:  PYTHONPATH=.:tests python benchmarks/bench_hostile.py [--kind NAME ...]
Each kind of tests/hostile.py is built in a temporary folder and checked by ``perfxl check``
in its own process under a 1 GiB address-space limit (tests/run_limited.py); printed per kind:
exit code, wall time, peak RSS (MB), and the first words of what perfxl said.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import fields
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from hostile import KINDS  # noqa: E402
from test_hostile import run_limited  # noqa: E402

from perfxl.check.limits import LIMITS  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--kind", action="append", help="only these kinds (repeatable)")
    args = ap.parse_args()
    print("limits:")
    for f in fields(LIMITS):
        print(f"  {f.name:20} {getattr(LIMITS, f.name)}")
    print(f"\n{'kind':34} {'exit':>4} {'time s':>7} {'peak MB':>8}  said")
    worst = (0.0, "")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in KINDS:
            if args.kind and kind.name not in args.kind:
                continue
            folder = Path(tmp) / kind.name
            folder.mkdir()
            argv = kind.build(folder)
            started = time.perf_counter()
            got = run_limited(["check", "--json", "-", *argv], folder)
            took = time.perf_counter() - started
            said = got["stderr"].strip().splitlines()[-1] if got["stderr"].strip() else ""
            try:
                doc = json.loads(got["stdout"])
                first = doc[0] if isinstance(doc, list) else doc
                said = first.get("reason") or said
            except ValueError:
                pass
            print(f"{kind.name:34} {got['rc']:>4} {took:>7.2f} {got['peak_mb']:>8.1f}  {said[:60]}")
            worst = max(worst, (got["peak_mb"], kind.name))
    print(f"\nworst peak RSS: {worst[0]:.1f} MB ({worst[1]})")


if __name__ == "__main__":
    main()
