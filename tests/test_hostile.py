"""Every kind of broken or hostile return ends as it must: message, exit code, input untouched,
memory bounded. Each runs ``perfxl check --json -`` in its own process under a 1 GiB address-space
limit; the cases run two at a time."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hostile import KINDS, SEED, Kind

from perfxl.engine.catalogue import entry

ADDRESS_SPACE = 1024 * 1024 * 1024
PEAK_MB = 300
RUNNER = Path(__file__).with_name("run_limited.py")


def run_limited(args: list[str], cwd: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[1]), *sys.path])}
    done = subprocess.run(
        [sys.executable, str(RUNNER), str(ADDRESS_SPACE), *args],
        capture_output=True,
        cwd=cwd,
        env=env,
        timeout=180,
        check=True,
    )
    return json.loads(done.stdout)


def digests(folder: Path) -> dict[str, str]:
    out = {}
    for dirpath, _, files in os.walk(folder):
        for fn in files:
            p = Path(dirpath) / fn
            if p.is_file() and not p.is_symlink() and "_审核" not in fn and not fn.startswith(".perfxl-"):
                out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _one(kind: Kind, root: Path) -> dict[str, Any]:
    folder = root / kind.name
    folder.mkdir()
    args = kind.build(folder)
    before = digests(folder)
    outcome = run_limited(["check", "--json", "-", *args], folder)
    outcome["before"], outcome["after"] = before, digests(folder)
    outcome["leftovers"] = [str(p) for p in folder.rglob(".perfxl-*")]
    return outcome


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    root = tmp_path_factory.mktemp("hostile")
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = pool.map(lambda k: (k.name, _one(k, root)), KINDS)
        return dict(done)


def _not_json(token: str) -> None:
    raise AssertionError(f"invalid JSON token {token}")


def test_at_least_forty_kinds() -> None:
    assert len(KINDS) >= 40 and len({k.name for k in KINDS}) == len(KINDS)


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_hostile_kind(kind: Kind, outcomes: dict[str, dict[str, Any]]) -> None:
    got = outcomes[kind.name]
    assert got["rc"] == kind.rc, got
    assert "Traceback" not in got["stderr"], got["stderr"]
    payload = json.loads(got["stdout"], parse_constant=_not_json)  # always valid JSON: no bare NaN
    results = payload if isinstance(payload, list) else [payload]
    said = got["stderr"] + " ".join(str(r.get("reason") or "") for r in results)
    rules = {f["rule"] for r in results for f in r["findings"]}
    if (
        "." in kind.says
        and " " not in kind.says
        and kind.says.split(".")[0] in ("input", "formula", "file", "score")
    ):
        assert kind.says in rules, (rules, said)
    else:
        assert kind.says in said, said
    for r in results:
        for f in r["findings"]:  # every rule id emitted is catalogued, with the severity it has
            assert entry(f["rule"]).severity == f["severity"], f
        if r["status"] == "unusable":
            assert r["reason"] and r["findings"][0]["rule"] == "file.unusable"
    assert got["before"] == got["after"]  # the input is never modified
    assert got["leftovers"] == []  # no partial output left behind
    assert got["peak_mb"] < PEAK_MB, got["peak_mb"]


def test_consolidation_over_the_corpus(tmp_path: Path) -> None:
    """Every bad file gets its row with a reason, every good return is kept, the batch finishes."""
    folder = tmp_path / "报表"
    folder.mkdir()
    bad: list[str] = []
    for kind in KINDS:
        if not kind.file_kind or kind.name in ("fifo", "device-symlink"):
            continue
        made = Path(kind.build(_fresh(tmp_path / "k" / kind.name))[-1])
        target = folder / f"{kind.name}{made.suffix}"
        os.replace(made, target)
        bad.append(target.name)
    good = []
    for i in range(3):
        target = folder / f"好_{i}.xlsx"
        target.write_bytes(SEED.read_bytes())
        good.append(target.name)
    os.mkfifo(folder / "管道.xlsx")  # listed, refused without blocking
    bad.append("管道.xlsx")
    before = digests(folder)
    got = run_limited(
        ["consolidate", str(folder), "-o", str(tmp_path / "汇总.xlsx"), "--json", "-"], tmp_path
    )
    assert got["rc"] == 2 and "Traceback" not in got["stderr"], got["stderr"]
    doc = json.loads(got["stdout"], parse_constant=_not_json)
    rows = {r["name"]: r for r in doc["returns"]}
    for name in bad:
        assert rows[name]["status"] == "unusable" and rows[name]["reason"], (name, rows.get(name))
    for name in good:
        assert rows[name]["status"] == "errors"  # the seed's one 错误 (score.P3)
    assert doc["files"] == len(bad) + len(good)
    assert digests(folder) == before
    assert (tmp_path / "汇总.xlsx").is_file()
    assert got["peak_mb"] < PEAK_MB


def _fresh(folder: Path) -> Path:
    folder.mkdir(parents=True)
    return folder
