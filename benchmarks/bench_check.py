"""Benchmark `perfxl check`: in-process CPU time per return and the cold command, each beside its
target and a floor, in one run.

Run:  python benchmarks/bench_check.py [--repeat 200] [--file X.xlsx] [--generated 20] [--cold 15]

The machine is shared and noisy, so every figure is the median of CPU time (``time.process_time``
in process; user + system of the child for a command), never wall time. Printed:

* ``check_file`` in process, no review copy, on the seed return — target ≤ 4 ms (issue 13;
  issue 8 asked ≤ 5 ms) — beside its floor: python-calamine reading every sheet's values of the
  same file (Rust, no formulas, no limits: what reading alone can cost);
* its parts: reading the workbook (``read_xlsx``), locating the fields (the rest of
  ``read_return``) and the checks (``check_return``);
* ``check_file`` over N generated returns (different values in every one), so no figure rests on
  one file checked again and again;
* the review copy alone (``write_review``: the return's package edited, not re-saved) — target
  ≤ 15 ms (issue 13) — on the seed and over the generated returns in turn, beside its floor:
  copying the return's bytes to a new file (what any copy costs);
* the cold command ``perfxl check --no-review --json -`` — target ≤ 0.15 s — with bytecode cached
  (as an installed package runs) and compiled on every start (a checkout under
  ``PYTHONDONTWRITEBYTECODE=1``), both with the parsed edition stored (every run after the first,
  spec/stored.py), and with bytecode but the edition parsed (storing off: a first run), beside its
  floor: a Python that only imports the libraries a check needs (click, lxml, zipfile, decimal,
  dataclasses, platformdirs; not PyYAML, which only parsing an edition needs).

The load average is printed first and last: quote it with the figures.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # inputgen: the randomized inputs of the tests

from perfxl.check import check_file, check_return  # noqa: E402
from perfxl.check.reader import read_return  # noqa: E402
from perfxl.check.xlsxread import read_xlsx  # noqa: E402

SEED = ROOT / "sample_workbooks" / "君山区信访局_2020.xlsx"
LIBRARIES = "import click, lxml.etree, platformdirs, zipfile, decimal, dataclasses, hashlib, json, pathlib"


def cpu_ms(fn: Callable[[], object], repeat: int) -> float:
    """Median CPU milliseconds of ``fn`` (after one untimed call)."""
    fn()
    times = []
    for _ in range(repeat):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return statistics.median(times) * 1000


def child_cpu_s(argv: list[str], env: dict[str, str], runs: int) -> float:
    """Median user + system seconds of a command (after one untimed run)."""
    times = []
    for i in range(runs + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(argv, env=env, capture_output=True, check=False, cwd=ROOT)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if i:
            times.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(times)


def calamine_values(data: bytes) -> None:
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    for name in wb.sheet_names:
        wb.get_sheet_by_name(name).to_python()


def generated_returns(folder: Path, n: int) -> list[Path]:
    from inputgen import write_random_return

    from perfxl.form.meta import Unit

    paths = []
    for i in range(n):
        rng = random.Random(i)
        profile = rng.choice(("mixed", "plausible", "edgy", "sparse"))
        unit = Unit(f"测试单位{i:03d}", f"43{i:06d}", 2020)
        paths.append(write_random_return(folder / f"{i:03d}.xlsx", unit, rng, profile))
    return paths


def row(what: str, figure: float, unit: str, target: float | None, floor: float | None) -> str:
    def shown(x: float) -> str:
        return f"{x:8.2f} {unit}" if unit == "ms" else f"{x:8.3f} {unit}"

    out = f"{what:<52}{shown(figure)}"
    out += f"   target ≤ {shown(target).strip()} ({figure / target:4.2f}×)" if target else " " * 27
    if floor:
        out += f"   floor {shown(floor).strip()} ({figure / floor:4.1f}× floor)"
    return out


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=200, help="runs per in-process figure (median)")
    ap.add_argument("--file", type=Path, default=SEED)
    ap.add_argument("--generated", type=int, default=20, help="generated returns, each checked in turn")
    ap.add_argument("--cold", type=int, default=15, help="runs of each command (median)")
    args = ap.parse_args()
    path, repeat = args.file, args.repeat
    data = path.read_bytes()
    print(f"file: {path.name}; {load()}")
    lines = []

    floor = cpu_ms(lambda: calamine_values(data), repeat)
    check = cpu_ms(lambda: check_file(path), repeat)
    lines.append(row("check_file, in process, no review copy", check, "ms", 4.0, floor))
    lines.append(row("  python-calamine, every sheet's values (floor)", floor, "ms", None, None))
    ret = read_return(path)
    read = cpu_ms(lambda: read_xlsx(path), repeat)
    locate = cpu_ms(lambda: read_return(path), repeat) - read
    checks = cpu_ms(lambda: check_return(ret), repeat)
    lines.append(row("  reading the workbook (read_xlsx)", read, "ms", None, floor))
    lines.append(row("  identifying, locating (rest of read_return)", locate, "ms", None, None))
    lines.append(row("  checks (check_return)", checks, "ms", None, None))

    with tempfile.TemporaryDirectory() as tmp:
        if args.generated:
            paths = generated_returns(Path(tmp), args.generated)
            turn = iter(range(1 << 62))
            many = cpu_ms(lambda: check_file(paths[next(turn) % len(paths)]), max(repeat, len(paths)))
            lines.append(row(f"check_file, {len(paths)} generated returns in turn", many, "ms", 4.0, floor))

        from perfxl.report.review import write_review

        out = Path(tmp) / "review.xlsx"
        copied = cpu_ms(lambda: out.write_bytes(path.read_bytes()), repeat)
        result = check_file(path)
        review = cpu_ms(lambda: write_review(path, result, out), repeat)
        lines.append(row("review copy (write_review), in process", review, "ms", 15.0, copied))
        if args.generated:
            results = [(p, check_file(p)) for p in paths]
            turn = iter(range(1 << 62))

            def one() -> None:
                p, r = results[next(turn) % len(results)]
                write_review(p, r, out)

            many = cpu_ms(one, max(repeat, len(results)))
            lines.append(
                row(f"review copy, {len(results)} generated returns in turn", many, "ms", 15.0, copied)
            )
        lines.append(row("  copying the file's bytes (floor)", copied, "ms", None, None))

        argv = [sys.executable, "-m", "perfxl", "check", "--no-review", "--json", "-", str(path)]
        base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        base["PYTHONPATH"] = os.pathsep.join([str(ROOT), base.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        cached = {**base, "PYTHONPYCACHEPREFIX": str(Path(tmp) / "pyc")}
        compiled = {**base, "PYTHONDONTWRITEBYTECODE": "1"}
        libs = child_cpu_s([sys.executable, "-c", LIBRARIES], cached, args.cold)
        cold = child_cpu_s(argv, cached, args.cold)
        cold_compiled = child_cpu_s(argv, compiled, args.cold)
        cold_parsed = child_cpu_s(argv, {**cached, "PERFXL_CACHE_DIR": ""}, args.cold)
        lines.append(row("cold `perfxl check --no-review --json -`, bytecode", cold, "s", 0.15, libs))
        lines.append(row("  the same, perfxl compiled on every start", cold_compiled, "s", 0.15, libs))
        lines.append(row("  the same, edition parsed (a first run)", cold_parsed, "s", 0.15, libs))
        lines.append(row("  Python importing the libraries only (floor)", libs, "s", None, None))

    print("\n".join(lines))
    print(f"CPU-time medians; {load()}")


if __name__ == "__main__":
    main()
