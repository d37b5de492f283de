"""Parsed editions kept on disk between runs (spec/stored.py): what a command computes with a stored
edition is what it computes with the edition parsed afresh, and a stale, broken or foreign file is
never used."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from perfxl.spec.load import data_dirs, read_edition
from perfxl.spec.model import SpecError
from perfxl.spec.stored import stored_edition

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "sample_workbooks" / "君山区信访局_2020.xlsx"


@pytest.fixture
def edition_files(tmp_path: Path) -> list[Path]:
    """A copy of the default edition's two files, free to edit."""
    templates, checks = data_dirs()
    out = []
    for src in (templates / "hunan-2020.yaml", checks / "hunan-2020.yaml"):
        dst = tmp_path / src.parent.name / src.name
        dst.parent.mkdir()
        dst.write_bytes(src.read_bytes())
        out.append(dst)
    return out


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("PERFXL_CACHE_DIR", str(folder))
    return folder


class Parser:
    """read_edition of the given files, counting how often it really parsed."""

    def __init__(self, files: list[Path]) -> None:
        self.files, self.calls = files, 0

    def __call__(self):  # type: ignore[no-untyped-def]
        self.calls += 1
        return read_edition(*self.files)


def test_second_load_comes_from_the_store_and_equals_the_parsed_edition(edition_files, cache):
    parse = Parser(edition_files)
    first = stored_edition(edition_files, parse)
    second = stored_edition(edition_files, parse)
    assert parse.calls == 1
    assert second is not first  # unpickled from the file
    assert (second.form, second.rubric) == (first.form, first.rubric)
    assert len(list(cache.glob("hunan-2020-*.pickle"))) == 1


def test_an_edited_rubric_is_parsed_again_and_replaces_the_stored_one(edition_files, cache):
    parse = Parser(edition_files)
    before = stored_edition(edition_files, parse)
    rubric = edition_files[1]
    text = rubric.read_text(encoding="utf-8")
    old = before.rubric.items[0].name
    rubric.write_text(text.replace(f"name: {old}", f"name: {old}（改）", 1), encoding="utf-8")
    after = stored_edition(edition_files, parse)
    assert parse.calls == 2
    assert after.rubric.items[0].name == f"{old}（改）"
    assert len(list(cache.glob("hunan-2020-*.pickle"))) == 1  # the stale one is gone
    assert stored_edition(edition_files, parse).rubric.items[0].name == f"{old}（改）"
    assert parse.calls == 2


@pytest.mark.parametrize(
    "content",
    [b"", b"not a pickle", pickle.dumps(["a list, not an edition"]), b"\x80\x05\x95garbage"],
    ids=["empty", "text", "foreign-object", "truncated"],
)
def test_a_broken_or_foreign_stored_file_is_parsed_over(edition_files, cache, content):
    parse = Parser(edition_files)
    stored_edition(edition_files, parse)
    (path,) = cache.glob("hunan-2020-*.pickle")
    path.write_bytes(content)
    edition = stored_edition(edition_files, parse)
    assert parse.calls == 2
    assert edition.form.edition == "hunan-2020"
    assert pickle.loads(path.read_bytes()).form == edition.form  # written again, whole


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
@pytest.mark.parametrize("loose", ["file", "folder"])
def test_a_file_others_may_write_is_never_loaded(edition_files, cache, loose):
    parse = Parser(edition_files)
    stored_edition(edition_files, parse)
    (path,) = cache.glob("hunan-2020-*.pickle")
    (path if loose == "file" else cache).chmod(0o666 if loose == "file" else 0o777)
    stored_edition(edition_files, parse)
    assert parse.calls == 2


def test_storing_off_or_impossible_still_gives_the_edition(edition_files, tmp_path, monkeypatch):
    parse = Parser(edition_files)
    monkeypatch.setenv("PERFXL_CACHE_DIR", "")
    assert stored_edition(edition_files, parse).form.edition == "hunan-2020"
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv("PERFXL_CACHE_DIR", str(blocker / "cache"))  # under a file: cannot exist
    assert stored_edition(edition_files, parse).form.edition == "hunan-2020"
    assert parse.calls == 2
    assert blocker.read_text() == "x"


def test_a_broken_edition_is_refused_and_nothing_is_stored(edition_files, cache):
    edition_files[0].write_text("edition: [unclosed\n", encoding="utf-8")
    with pytest.raises(SpecError, match="YAML 格式错误"):
        stored_edition(edition_files, Parser(edition_files))
    assert not cache.exists() or not list(cache.glob("*.pickle"))


def _run(*args: str, cache_dir: str) -> dict:
    env = {**os.environ, "PERFXL_CACHE_DIR": cache_dir}
    out = subprocess.run(
        [sys.executable, "-m", "perfxl", *args], env=env, capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode in (0, 1), out.stderr
    return json.loads(out.stdout)


def test_commands_give_the_same_answers_with_a_stored_edition(tmp_path):
    store = str(tmp_path / "store")
    check = ("check", "--no-review", "--json", "-", str(SEED))
    fields = ("fields", "--json")
    parsed = [_run(*check, cache_dir=""), _run(*fields, cache_dir="")]
    first = [_run(*check, cache_dir=store), _run(*fields, cache_dir=store)]  # parses and stores
    assert len(list(Path(store).glob("*.pickle"))) == 1
    stored = [_run(*check, cache_dir=store), _run(*fields, cache_dir=store)]  # loads
    assert parsed == first == stored
    assert parsed[0]["recomputed_total"] == 97
