"""Benchmark ``perfxl serve``: N returns uploaded through the API by 4 concurrent clients, against
``perfxl consolidate`` of the same files; and the unit table's latency while the uploads go on.

Run:  python benchmarks/bench_serve.py [--n 200] [--clients 4] [--workers 2]

Makes N returns (the seed sample filled in for N different units) and a roster of them in a
temporary folder — not timed — then:

1. times ``api.consolidate`` of the N files (the summary workbook written; ``--workers`` processes),
   without and with review copies (the server writes one per upload, as ``perfxl check`` does);
2. starts the real server (``perfxl serve`` on 127.0.0.1, ``--workers`` check processes), creates
   the year's task, and has ``--clients`` threads upload the N files through ``POST /api/returns``
   (each call answers once its file is checked and stored), while one more thread loads the
   单位一览 page (``GET /units?year=2020``, signed in) five times a second;

and prints returns per second both ways side by side, and the page's median and p95 latency
during the uploads. Everything is bounded: N uploads, at most 100,000 page loads.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # webserver: the sample returns and the real server

import httpx2 as httpx  # noqa: E402
from webserver import PASSWORD, TOKEN, make_return, running_server  # noqa: E402

from perfxl import api  # noqa: E402

YEAR = 2020
MAX_PAGE_LOADS = 100_000
PAGE_EVERY = 0.2  # seconds between two loads of the page


def make_returns(folder: Path, n: int) -> tuple[list[Path], Path]:
    files = []
    for i in range(n):
        code, name = f"B{i:04d}", f"测试单位{i:04d}"
        p3, note = (3, None) if i % 3 == 0 else (2, None if i % 3 == 1 else "有结余")
        files.append(make_return(folder / f"{code}_{name}.xlsx", name, code, YEAR, p3=p3, note=note))
    roster = folder / "名册.csv"
    lines = ["预算编码,单位名称", *(f"B{i:04d},测试单位{i:04d}" for i in range(n))]
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return files, roster


def time_consolidate(files: list[Path], out: Path, workers: int, review: Path | None) -> float:
    started = time.perf_counter()
    api.consolidate(files, out, workers=workers, review_dir=review)
    return time.perf_counter() - started


def upload_all(base: str, files: list[Path], clients: int) -> float:
    def send(path: Path) -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=300) as c:
            r = c.post(f"/api/returns?year={YEAR}", files={"file": (path.name, path.read_bytes())})
            r.raise_for_status()
            assert r.json()["upload"]["state"] == "done", r.text

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(send, files))
    return time.perf_counter() - started


def signed_in(base: str) -> httpx.Client:
    import re

    c = httpx.Client(base_url=base, timeout=60)
    token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text)
    assert token is not None
    c.post("/login", data={"password": PASSWORD, "csrf": token.group(1)})
    return c


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="perfxl-bench-serve-") as tmp:
        folder = Path(tmp) / "returns"
        folder.mkdir()
        files, roster = make_returns(folder, args.n)
        plain = time_consolidate(files, Path(tmp) / "汇总.xlsx", args.workers, None)
        reviewed = time_consolidate(files, Path(tmp) / "汇总2.xlsx", args.workers, Path(tmp) / "审核")
        data = Path(tmp) / "data"
        data.mkdir()
        with running_server(data, workers=args.workers) as base:
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
                r = c.post(
                    "/tasks.json",
                    data={"year": str(YEAR), "edition": "hunan-2020"},
                    files={"roster": (roster.name, roster.read_bytes())},
                )
                r.raise_for_status()
            page = signed_in(base)
            latencies: list[float] = []
            done = threading.Event()

            def load_pages() -> None:  # a bureau clerk refreshing the table, five times a second
                while not done.wait(PAGE_EVERY) and len(latencies) < MAX_PAGE_LOADS:
                    t = time.perf_counter()
                    r = page.get(f"/units?year={YEAR}")
                    assert r.status_code == 200
                    latencies.append(time.perf_counter() - t)

            watcher = threading.Thread(target=load_pages)
            watcher.start()
            try:
                served = upload_all(base, files, args.clients)
            finally:
                done.set()
                watcher.join()
            table = page.get(f"/units.json?year={YEAR}").json()
            page.close()
        assert sum(table["counts"].values()) == args.n and table["counts"]["未报送"] == 0
        p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) >= 20 else max(latencies)
        n = args.n
        print(f"{n} returns, {args.workers} worker processes, {args.clients} upload clients")
        print(f"  perfxl consolidate (no review copies)   {plain:7.2f} s  {n / plain:7.1f} returns/s")
        print(f"  perfxl consolidate (with review copies) {reviewed:7.2f} s  {n / reviewed:7.1f} returns/s")
        print(f"  perfxl serve, POST /api/returns         {served:7.2f} s  {n / served:7.1f} returns/s")
        print(
            f"  单位一览 page during the uploads: {len(latencies)} loads, "
            f"median {statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
