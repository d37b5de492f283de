"""Benchmark `perfxl check`: in-process time per return (with and without the review copy) and cold CLI time.

Run:  python benchmarks/bench_check.py [--repeat 200]
Prints medians; targets (issue #3): ≤ 5 ms per return without the review copy, ≤ 0.3 s cold CLI.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from perfxl.check import check_file
from perfxl.report.review import write_review

SEED = Path(__file__).resolve().parent.parent / "sample_workbooks" / "君山区信访局_2020.xlsx"


def median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--file", type=Path, default=SEED)
    args = ap.parse_args()
    check_file(args.file)  # warm: editions parsed, plan built, formulas rendered once per process
    check_ms = median_ms(lambda: check_file(args.file), args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "review.xlsx"

        def with_review() -> None:
            write_review(args.file, check_file(args.file), out)

        review_ms = median_ms(with_review, max(10, args.repeat // 10))
        cold = []
        for _ in range(7):
            t = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "perfxl", "check", "--no-review", str(args.file)],
                capture_output=True,
                check=False,
            )
            cold.append(time.perf_counter() - t)
    print(f"file: {args.file.name}")
    print(f"check, in process, no review copy : median {check_ms:7.2f} ms  (target ≤ 5 ms)")
    print(f"check + review copy (openpyxl)    : median {review_ms:7.2f} ms")
    print(f"cold CLI `perfxl check --no-review`: median {statistics.median(cold):7.3f} s  (target ≤ 0.3 s)")


if __name__ == "__main__":
    main()
