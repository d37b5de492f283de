"""Benchmark `perfxl consolidate` against the raw-read floor (python-calamine alone), same processes.

Run:  python benchmarks/bench_consolidate.py [--n 1000] [--workers 2] [--runs 3] [--folder DIR]
                                             [--review] [--peak-memory [--simulate] [--memory-folder DIR]
                                              [--memory-runs 1] [--memory-only]]

Generates N returns from randomized inputs (tests/inputgen.py) into a temporary folder (or
``--folder``, kept and reused) — not timed — then prints, in one run, medians of ``--runs`` runs
side by side, each with its ratio to the floor measured in the same run:

* the floor: reading the same files with python-calamine alone (every sheet's values), in the
  same number of worker processes;
* check all: ``consolidate(...)`` without output (checking and the frames);
* the summary workbook alone and the SQLite store alone (one commit), both in this process, and
  their sum: the overhead around the check, which stands on its own (target: well under 1×);
* end to end: check + summary workbook + SQLite store (target: ≤ 5× the floor).

The load average is printed before and after. ``--review`` also times consolidation with review
copies on a subset of min(N, 100) files. ``--peak-memory`` consolidates the first 1,000 and then
all 10,000 returns, summary only and then with an SQLite store as well, each in a fresh child
process (``--memory-runs`` times; medians), and prints the time per 1,000 (linear time: the two
sizes agree) and the child's peak RSS (VmHWM: the process itself, target ≤ 300 MB, and separately
its largest worker). By default the 10,000 are distinct generated returns (generated once into
``--memory-folder`` and reused from there: that takes about 20 minutes on 2 cores); with
``--simulate`` 1,000 are generated and each is linked 10 times under another name (then 9 of each
10 are duplicate returns of one unit, and there are a tenth of the scores and facts).
``--memory-only`` skips the timed stages.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # inputgen: the randomized input generator of the tests

from perfxl.batch.consolidate import consolidate, find_returns  # noqa: E402
from perfxl.batch.store import save_consolidation  # noqa: E402
from perfxl.form.meta import Unit  # noqa: E402
from perfxl.report.summary import write_summary  # noqa: E402

PROFILES = ("mixed", "mixed", "plausible", "edgy", "sparse")


def _generate(job: tuple[str, int, int]) -> None:
    folder, start, stop = job
    from inputgen import write_random_return

    for i in range(start, stop):
        rng = random.Random(i)
        profile = rng.choice(PROFILES)
        unit = Unit(f"测试单位{i:05d}", f"43{i:06d}", 2020)
        write_random_return(Path(folder) / f"{i:05d}_{unit.code}.xlsx", unit, rng, profile)


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


def measure(folder: Path, workers: int, db: bool) -> None:
    """Child mode for --peak-memory: consolidate the folder (writing the summary, and storing with
    --db) into a temporary folder; print one line of figures for the parent to read."""
    with tempfile.TemporaryDirectory(prefix="perfxl-bench-out-") as out:
        started = time.perf_counter()
        store = str(Path(out) / "perfxl.sqlite") if db else None
        con = consolidate([folder], Path(out) / "汇总.xlsx", workers=workers, db=store)
        elapsed = time.perf_counter() - started
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    counts = f"{len(con.returns)} {len(con.units)} {len(con.findings)} {len(con.facts)}"
    print(f"{counts} {elapsed} {_peak_rss_mb()} {kids}")


def peak_memory(folder: Path, how: str, workers: int, runs: int) -> None:
    """Consolidate the first 1,000 and all 10,000 returns of ``folder``, summary only and with SQLite,
    each in a fresh child process, ``runs`` times; print medians: time per 1,000 (linear time:
    the two sizes agree) and the child's peak RSS beside the target."""
    print(f"peak memory: {how}; {workers} workers; medians of {runs} run(s) each")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (2 cores)")
    with tempfile.TemporaryDirectory(prefix="perfxl-bench-first-") as tmp:
        first = Path(tmp) / "returns"  # the first 1,000 alone, for time per 1,000 at both sizes
        first.mkdir()
        for p, name in find_returns([folder])[:1000]:
            os.link(p, first / name.replace("/", "_"))
        for db in (False, True):
            for where in (first, folder):
                got = []
                for _ in range(runs):
                    cmd = [sys.executable, __file__, "--measure", str(where), "--workers", str(workers)]
                    done = subprocess.run(
                        cmd + (["--db"] if db else []), check=True, capture_output=True, text=True
                    )
                    got.append([float(x) for x in done.stdout.split()[-7:]])
                med = [statistics.median(c) for c in zip(*got, strict=True)]
                files, units, findings, facts, secs, parent, kid = med
                case = "summary + SQLite" if db else "summary only"
                mark = "ok" if parent <= 300 else "OVER"
                print(
                    f"  {case:<16} {files:6.0f} files ({units:.0f} units, {findings:.0f} findings,"
                    f" {facts:.0f} facts rows): {secs / files * 1000:5.2f} s per 1,000; parent peak RSS"
                    f" {parent:4.0f} MB (target ≤ 300 MB: {mark}); largest worker {kid:.0f} MB"
                )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def _peak_rss_mb() -> float:
    """This process's peak RSS. Linux's VmHWM is this program's own: ru_maxrss of a process started
    by subprocess (vfork + exec) also counts the peak of the parent it was started from."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median_of(runs: int, work: Callable[[], object]) -> tuple[float, float]:
    """(median wall seconds, median CPU seconds of this process) of ``runs`` runs of ``work``."""
    walls, cpus = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        work()
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


def timed(args: argparse.Namespace) -> None:
    """The stages of one consolidation of N returns, medians of ``--runs`` runs, beside the floor."""
    with tempfile.TemporaryDirectory(prefix="perfxl-bench-") as tmp:
        folder = args.folder or Path(tmp) / "returns"
        folder.mkdir(parents=True, exist_ok=True)
        have = len(find_returns([folder])) if any(folder.iterdir()) else 0
        made = generate(folder, args.n, max(args.workers, os.cpu_count() or 1)) if have != args.n else 0.0
        paths = [str(p) for p, _ in find_returns([folder])]
        n, runs, w = len(paths), args.runs, args.workers
        print(
            f"{n} returns ({f'generated in {made:.1f} s, ' if made else 'reused, '}not timed); workers = {w}"
        )
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (2 cores)")

        floor, _ = median_of(runs, lambda: calamine_floor(paths, w))
        check, _ = median_of(runs, lambda: consolidate([folder], workers=w))
        con = consolidate([folder], workers=w, facts=True)  # what a store is given
        summary, summary_cpu = median_of(runs, lambda: write_summary(con, Path(tmp) / "汇总.xlsx"))
        dbs = iter(range(runs))
        store, store_cpu = median_of(
            runs, lambda: save_consolidation(con, str(Path(tmp) / f"store{next(dbs)}.sqlite"))
        )
        dbs = iter(range(runs))
        end, _ = median_of(
            runs,
            lambda: consolidate(
                [folder], Path(tmp) / "汇总e2e.xlsx", workers=w, db=str(Path(tmp) / f"e2e{next(dbs)}.sqlite")
            ),
        )

        def line(what: str, wall: float, note: str = "") -> None:
            print(
                f"{what:<40}: {wall:7.2f} s  {wall / n * 1000:6.2f} ms/file  {wall / floor:5.2f}× floor{note}"
            )

        print(f"medians of {runs} runs (wall clock); the ratio is to the floor measured in this run")
        line("calamine raw read, every sheet (floor)", floor)
        line("check all (consolidate, no output)", check)
        line("summary workbook (in process)", summary, f"  cpu {summary_cpu:.2f} s")
        line("SQLite store (in process, one commit)", store, f"  cpu {store_cpu:.2f} s")
        line("  summary + store", summary + store, "  (target well under 1×)")
        line("end to end: check + summary + SQLite", end, "  (target ≤ 5×)")
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

        if args.review:
            subset = paths[: min(n, 100)]
            t = time.perf_counter()
            consolidate(subset, workers=w, review_dir=Path(tmp) / "审核")
            with_review = time.perf_counter() - t
            t = time.perf_counter()
            consolidate(subset, workers=w)
            without = time.perf_counter() - t
            per, base = with_review / len(subset) * 1000, without / len(subset) * 1000
            print(
                f"with review copies ({len(subset)} files): {with_review:7.2f} s  {per:6.1f} ms/file"
                f"  (without: {base:.1f} ms/file)"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000, help="returns to generate (default 1000)")
    ap.add_argument("--workers", type=int, default=2, help="processes for both runs (default 2)")
    ap.add_argument("--runs", type=int, default=3, help="runs of each stage; medians are printed (default 3)")
    ap.add_argument("--review", action="store_true", help="also time review copies on min(N, 100) files")
    ap.add_argument("--peak-memory", action="store_true", help="peak RSS of consolidating 10,000 returns")
    ap.add_argument("--simulate", action="store_true", help="with --peak-memory: 1,000 returns linked 10×")
    ap.add_argument(
        "--memory-folder", type=Path, help="with --peak-memory: 10,000 returns kept and reused here"
    )
    ap.add_argument(
        "--memory-runs", type=int, default=1, help="with --peak-memory: runs per case (default 1)"
    )
    ap.add_argument("--memory-only", action="store_true", help="with --peak-memory: skip the timed stages")
    ap.add_argument("--db", action="store_true", help=argparse.SUPPRESS)  # child mode: store as well
    ap.add_argument("--folder", type=Path, help="use (and keep) generated returns in this folder")
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        measure(args.measure, args.workers, args.db)
        return
    if not (args.peak_memory and args.memory_only):
        timed(args)
    if args.peak_memory:
        with tempfile.TemporaryDirectory(prefix="perfxl-bench-mem-") as tmp:
            if args.simulate:
                folder = Path(tmp) / "returns"
                folder.mkdir()
                made = 0.0  # with --folder of 1,000 returns: linked from there, not generated again
                if args.folder is not None and len(find_returns([args.folder])) == 1000:
                    for p in args.folder.iterdir():
                        os.link(p, folder / p.name)
                else:
                    made = generate(folder, 1000, max(args.workers, os.cpu_count() or 1))
                for p in list(folder.iterdir()):
                    for k in range(1, 10):
                        os.link(p, p.with_name(f"{p.stem}_副本{k}{p.suffix}"))
                how = "1,000 generated returns, each linked 10 times (simulation)"
            else:
                folder = args.memory_folder or Path(tmp) / "returns"
                folder.mkdir(parents=True, exist_ok=True)
                have = len(find_returns([folder]))
                made = (
                    generate(folder, 10_000, max(args.workers, os.cpu_count() or 1))
                    if have != 10_000
                    else 0.0
                )
                how = "10,000 distinct generated returns" + (
                    f" (generated in {made:.0f} s)" if made else " (reused)"
                )
            peak_memory(folder, how, args.workers, args.memory_runs)


if __name__ == "__main__":
    main()
