"""Benchmark `perfxl consolidate` against the raw-read floor (python-calamine alone), same processes.

Run:  python benchmarks/bench_consolidate.py [--n 1000] [--workers 2] [--review] [--peak-memory [--simulate]]

Generates N returns from randomized inputs (tests/inputgen.py) into a temporary folder — not
timed — then times, in one run and with the same number of worker processes:

* ``consolidate(...)`` without review copies (checking, frames), and writing the summary workbook;
* reading the same files with python-calamine alone (every sheet's values): the raw-read floor.

Prints both and their ratio (target: consolidation ≤ 3× the floor). ``--review`` also times
consolidation with review copies on a subset of min(N, 100) files. ``--peak-memory`` runs the
consolidation of 10,000 returns in a fresh child process and prints its peak RSS
(resource.getrusage: the process itself and, separately, its largest worker); by default the
10,000 are distinct generated returns, with ``--simulate`` 1,000 are generated and each is
linked 10 times under another name (then 9 of each 10 are duplicate returns of one unit).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # inputgen: the randomized input generator of the tests

from perfxl.batch.consolidate import consolidate, find_returns  # noqa: E402
from perfxl.engine.layout import build_plan  # noqa: E402
from perfxl.form.meta import Unit  # noqa: E402
from perfxl.form.template import write_template  # noqa: E402
from perfxl.report.summary import write_summary  # noqa: E402
from perfxl.spec import load_edition  # noqa: E402

PROFILES = ("mixed", "mixed", "plausible", "edgy", "sparse")


def _generate(job: tuple[str, int, int]) -> None:
    folder, start, stop = job
    from inputgen import random_inputs

    ed = load_edition()
    plan = build_plan(ed)
    for i in range(start, stop):
        rng = random.Random(i)
        values = random_inputs(plan, rng, rng.choice(PROFILES))
        unit = Unit(f"测试单位{i:05d}", f"43{i:06d}", 2020)
        values.update({"unit.name": unit.name, "unit.code": unit.code, "unit.year": unit.year})
        write_template(Path(folder) / f"{i:05d}_{unit.code}.xlsx", ed, unit, values, plan.options)


def generate(folder: Path, n: int, workers: int) -> float:
    started = time.perf_counter()
    step = max(1, n // (workers * 8))
    jobs = [(str(folder), a, min(a + step, n)) for a in range(0, n, step)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_generate, jobs))
    return time.perf_counter() - started


def _calamine(paths: list[str]) -> int:
    from python_calamine import CalamineWorkbook

    cells = 0
    for p in paths:
        wb = CalamineWorkbook.from_path(p)
        for name in wb.sheet_names:
            cells += sum(len(row) for row in wb.get_sheet_by_name(name).to_python())
    return cells


def calamine_floor(paths: list[str], workers: int) -> float:
    """Every sheet's values of every file, in ``workers`` processes (pool start-up included)."""
    started = time.perf_counter()
    if workers <= 1:
        _calamine(paths)
    else:
        size = max(1, min(16, len(paths) // (workers * 8)))
        chunks = [paths[i : i + size] for i in range(0, len(paths), size)]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            list(pool.map(_calamine, chunks))
    return time.perf_counter() - started


def measure(folder: Path, workers: int) -> None:
    """Child mode for --peak-memory: consolidate the folder, print timings and peak RSS."""
    started = time.perf_counter()
    con = consolidate([folder], folder.parent / "汇总.xlsx", workers=workers)
    elapsed = time.perf_counter() - started
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"  {len(con.returns)} files, {len(con.units)} units, {len(con.findings)} findings, "
        f"{len(con.facts)} facts rows; consolidate + summary {elapsed:.1f} s"
    )
    print(f"  peak RSS: parent {me:.0f} MB, largest worker {kids:.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000, help="returns to generate (default 1000)")
    ap.add_argument("--workers", type=int, default=2, help="processes for both runs (default 2)")
    ap.add_argument("--review", action="store_true", help="also time review copies on min(N, 100) files")
    ap.add_argument("--peak-memory", action="store_true", help="peak RSS of consolidating 10,000 returns")
    ap.add_argument("--simulate", action="store_true", help="with --peak-memory: 1,000 returns linked 10×")
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        measure(args.measure, args.workers)
        return
    with tempfile.TemporaryDirectory(prefix="perfxl-bench-") as tmp:
        folder = Path(tmp) / "returns"
        folder.mkdir()
        made = generate(folder, args.n, max(args.workers, os.cpu_count() or 1))
        paths = [str(p) for p, _ in find_returns([folder])]
        print(f"{len(paths)} returns generated in {made:.1f} s (not timed below); workers = {args.workers}")

        floor = calamine_floor(paths, args.workers)
        t = time.perf_counter()
        con = consolidate([folder], workers=args.workers)
        checked = time.perf_counter() - t
        t = time.perf_counter()
        write_summary(con, Path(tmp) / "汇总.xlsx")
        summary = time.perf_counter() - t
        n = len(paths)
        print(f"calamine raw read (floor)     : {floor:7.2f} s  {floor / n * 1000:6.2f} ms/file")
        print(
            f"consolidate (check + frames)  : {checked:7.2f} s  {checked / n * 1000:6.2f} ms/file"
            f"  ratio {checked / floor:4.1f}×  (target ≤ 3×)"
        )
        print(
            f"  + summary workbook          : {summary:7.2f} s  total {checked + summary:.2f} s"
            f"  ratio {(checked + summary) / floor:4.1f}×"
        )
        print(f"  {len(con.units)} units, {len(con.findings)} findings, {len(con.facts)} facts rows")

        if args.review:
            subset = paths[: min(n, 100)]
            t = time.perf_counter()
            consolidate(subset, workers=args.workers, review_dir=Path(tmp) / "审核")
            with_review = time.perf_counter() - t
            t = time.perf_counter()
            consolidate(subset, workers=args.workers)
            without = time.perf_counter() - t
            per, base = with_review / len(subset) * 1000, without / len(subset) * 1000
            print(
                f"with review copies ({len(subset)} files): {with_review:7.2f} s  {per:6.1f} ms/file"
                f"  (without: {base:.1f} ms/file)"
            )

    if args.peak_memory:
        with tempfile.TemporaryDirectory(prefix="perfxl-bench-mem-") as tmp:
            folder = Path(tmp) / "returns"
            folder.mkdir()
            if args.simulate:
                made = generate(folder, 1000, max(args.workers, os.cpu_count() or 1))
                for p in list(folder.iterdir()):
                    for k in range(1, 10):
                        os.link(p, p.with_name(f"{p.stem}_副本{k}{p.suffix}"))
                how = "1,000 generated returns, each linked 10 times (simulation)"
            else:
                made = generate(folder, 10_000, max(args.workers, os.cpu_count() or 1))
                how = "10,000 distinct generated returns"
            print(f"peak memory: {how}, generated in {made:.0f} s; consolidating with {args.workers} workers")
            cmd = [sys.executable, __file__, "--measure", str(folder), "--workers", str(args.workers)]
            subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
