"""The store: versions of a return (unchanged / superseded / outdated), exact Decimals and Chinese
text, counts, prior-year values and prefilling next year's templates from the store.

Every store test runs three times: against a SQLite file opened by plain path and by an explicit
``sqlite:///`` URL (both under a directory with a Chinese name and a space), and against a fresh
database on a real PostgreSQL server (the session's throwaway cluster, see tests/pgserver.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as hst
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateIndex, CreateTable

from perfxl.batch import store as store_module
from perfxl.batch.store import (
    EXACT_COLUMNS,
    SCHEMA_VERSION,
    Store,
    StoreError,
    canonical,
    metadata,
    open_store,
    prefill_from_store,
    prior_year_map,
    save_consolidation,
    save_result,
    shown,
)
from perfxl.form.meta import Unit
from perfxl.spec import Edition, SpecError, data_dirs, load_edition

D = Decimal
ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_workbooks" / "君山区信访局_2020.yaml"
NAME = "岳阳市君山区信访局"
CODE = "430611-XFJ"


@pytest.fixture(params=["path", "url", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "postgresql":
        with fresh_database(request.getfixturevalue("postgres_url")) as url:
            yield url
        return
    folder = tmp_path / "汇总 数据"
    folder.mkdir()
    path = folder / "perfxl.sqlite"
    yield str(path) if request.param == "path" else f"sqlite:///{path}"


@contextmanager
def fresh_database(server: str) -> Iterator[str]:
    """A new, empty database on the PostgreSQL server for one test; dropped afterwards."""
    name = f"perfxl_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0")
        try:
            yield sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        admin.dispose()


@pytest.fixture
def store(target: str) -> Iterator[Store]:
    with open_store(target) as st:
        yield st


def ret(
    sha: str,
    year: int = 2020,
    generated_at: str | None = "2021-03-31T09:00:00+08:00",
    checked_at: str | None = "2021-04-10T10:00:00+08:00",
    name: str = NAME,
    code: str | None = CODE,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "file": f"报表/{name}_{year}.xlsx",
        "sha256": sha,
        "edition": "hunan-2020",
        "code": code,
        "unit": name,
        "year": year,
        "status": "errors",
        "generated_at": generated_at,
        "checked_at": checked_at,
        "reported_total": D("98.0"),
        "recomputed_total": D("97.00"),
        "reported_grade": "优秀",
        "recomputed_grade": "优秀",
        **extra,
    }


def parts(
    n_facts: int = 200, n_scores: int = 25, n_findings: int = 10, sangong: str = "4.79"
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    scores = [
        {"item": f"X{k:02d}", "max": D(5), "self": D("4.5"), "recomputed": D("4.50")} for k in range(n_scores)
    ]
    findings = [
        {
            "rule": "score.P3",
            "item": "P3",
            "severity": ["错误", "警告", "提示"][k % 3],
            "sheet": "评分表",
            "cell": f"F{k + 8}",
            "reported": D("3.0"),
            "expected": D(2),
            "message": f"资金结余：自评 3 分，按规则应为 2 分（第 {k} 条）",
        }
        for k in range(n_findings)
    ]
    facts: dict[str, Any] = {f"f.{k:03d}": D(k) / 100 for k in range(n_facts - 2)}
    facts["sangong.total.total"] = D(sangong)
    facts["unit.name"] = NAME
    return scores, findings, facts


def save(store: Store, sha: str, **kw: Any) -> str:
    sangong = kw.pop("sangong", "4.79")
    scores, findings, facts = parts(sangong=sangong)
    return store.save_return(ret(sha, **kw), scores, findings, facts)


def count(store: Store, table: str) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(metadata.tables[table])).scalar_one()


def by_sha(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["sha256"]: r for r in rows}


# ------------------------------------------------------------------ schema


def test_tables_and_indexes_created(store: Store) -> None:
    insp = sa.inspect(store.engine)
    assert {"units", "returns", "facts", "scores", "findings"} <= set(insp.get_table_names())
    indexed = {tuple(ix["column_names"]) for ix in insp.get_indexes("returns")}
    assert ("unit_id", "year") in indexed
    assert ("rule",) in {tuple(ix["column_names"]) for ix in insp.get_indexes("findings")}
    uniques: set[tuple[Any, ...]] = {tuple(u["column_names"]) for u in insp.get_unique_constraints("returns")}
    uniques |= {tuple(ix["column_names"]) for ix in insp.get_indexes("returns") if ix["unique"]}
    assert ("sha256",) in uniques


def test_reopen_keeps_data(target: str) -> None:
    with open_store(target) as st:
        assert save(st, "a" * 64) == "inserted"
    with open_store(target) as st:
        assert [r["sha256"] for r in st.current_returns(2020)] == ["a" * 64]


def test_schema_is_portable_to_postgresql() -> None:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    for table in metadata.sorted_tables:
        assert "CREATE TABLE" in str(CreateTable(table).compile(dialect=dialect))
        for index in table.indexes:
            str(CreateIndex(index).compile(dialect=dialect))


# ------------------------------------------------------------------ versions


def test_same_file_twice_is_unchanged(store: Store) -> None:
    assert save(store, "a" * 64) == "inserted"
    before = {t: count(store, t) for t in ("units", "returns", "facts", "scores", "findings")}
    assert save(store, "A" * 64) == "unchanged"  # sha256 compared case-insensitively
    assert {t: count(store, t) for t in before} == before
    assert before == {"units": 1, "returns": 1, "facts": 200, "scores": 25, "findings": 10}


def test_correction_supersedes_and_both_stay_queryable(store: Store) -> None:
    old, new = "a" * 64, "b" * 64
    assert save(store, old, sangong="4.79") == "inserted"
    assert save(store, new, generated_at="2021-04-05T09:00:00+08:00", sangong="4.80") == "superseded"
    versions = by_sha(store.returns(code=CODE))
    assert set(versions) == {old, new}
    assert versions[new]["is_current"] and not versions[old]["is_current"]
    assert versions[old]["superseded_by"] == versions[new]["id"]
    assert versions[new]["superseded_by"] is None
    assert [r["sha256"] for r in store.current_returns(2020)] == [new]
    assert store.facts(old)["sangong.total.total"] == "4.79"  # the old version keeps its rows
    assert store.facts(new)["sangong.total.total"] == "4.8"
    assert len(store.scores(old)) == 25 and len(store.findings(old)) == 10
    assert count(store, "facts") == 400 and count(store, "findings") == 20


def test_older_file_loaded_later_stays_superseded(store: Store) -> None:
    v1, v2, v3 = "1" * 64, "2" * 64, "3" * 64
    assert save(store, v2, generated_at="2021-04-05T09:00:00+08:00") == "inserted"
    assert save(store, v1, generated_at="2021-03-31T09:00:00+08:00") == "outdated"
    rows = by_sha(store.returns(2020))
    assert rows[v2]["is_current"] and not rows[v1]["is_current"]
    assert rows[v1]["superseded_by"] == rows[v2]["id"]
    assert save(store, v3, generated_at="2021-04-20T09:00:00+08:00") == "superseded"
    rows = by_sha(store.returns(2020))
    assert [s for s, r in rows.items() if r["is_current"]] == [v3]
    assert rows[v1]["superseded_by"] == rows[v2]["superseded_by"] == rows[v3]["id"]


def test_recency_compares_instants_then_mtime_then_file_name_then_sha256(store: Store) -> None:
    # 09:00+08:00 is 01:00Z: earlier than 02:00Z although its text sorts later.
    assert save(store, "1" * 64, generated_at="2021-04-01T09:00:00+08:00") == "inserted"
    assert save(store, "2" * 64, generated_at="2021-04-01T02:00:00Z") == "superseded"
    # same generation time: the first file name wins, whichever is loaded (or checked) first
    b_later = {"file": "报表/b.xlsx", "checked_at": "2022-04-10T10:00:00+08:00"}
    assert save(store, "3" * 64, year=2021, **b_later) == "inserted"
    assert save(store, "4" * 64, year=2021, file="报表/a.xlsx", checked_at="2022-04-09T10:00:00+08:00") == (
        "superseded"
    )
    # a file without generated_at is older than any that has one
    assert save(store, "5" * 64, year=2021, generated_at=None, file="报表/0.xlsx") == "outdated"
    # same generation time: the newer file (mtime) wins over the later check
    assert (
        save(
            store,
            "8" * 64,
            year=2023,
            modified_at="2022-04-02T10:00:00+08:00",
            checked_at="2022-04-10T10:00:00+08:00",
        )
        == "inserted"
    )
    assert (
        save(
            store,
            "9" * 64,
            year=2023,
            modified_at="2022-04-03T10:00:00+08:00",
            checked_at="2022-04-09T10:00:00+08:00",
        )
        == "superseded"
    )
    # identical times and file names: the first sha256, not the one loaded last
    assert save(store, "7" * 64, year=2022) == "inserted"
    assert save(store, "6" * 64, year=2022) == "superseded"
    assert save(store, "A" * 64, year=2022) == "outdated"
    assert sorted(r["sha256"][0] for r in store.current_returns()) == ["2", "4", "6", "9"]


def test_other_years_and_units_do_not_supersede(store: Store) -> None:
    assert save(store, "1" * 64, year=2020) == "inserted"
    assert save(store, "2" * 64, year=2021) == "inserted"
    assert save(store, "3" * 64, year=2020, name="岳阳市君山区财政局", code="430611-CZJ") == "inserted"
    assert len(store.current_returns()) == 3 and len(store.current_returns(2020)) == 2


def test_missing_year_or_unit_never_supersedes(store: Store) -> None:
    assert save(store, "1" * 64, year=None) == "inserted"  # type: ignore[arg-type]
    assert save(store, "2" * 64, year=None) == "inserted"  # type: ignore[arg-type]
    assert save(store, "3" * 64, name="", code=None) == "inserted"
    assert len(store.current_returns()) == 3
    with pytest.raises(StoreError, match="sha256"):
        store.save_return(ret(""), [], [], {})


def test_unit_matching_by_code_then_normalised_name(store: Store) -> None:
    # a name-only return, then the same unit with its code and full-width brackets and a space
    assert save(store, "1" * 64, name="君山区（机关）信访局", code=None) == "inserted"
    assert (
        save(store, "2" * 64, name="君山区(机关) 信访局", code="C1", generated_at="2021-04-05T09:00:00+08:00")
        == "superseded"
    )
    assert count(store, "units") == 1
    # a later return that forgot its code still joins the (only) unit of that name
    assert save(store, "3" * 64, name="君山区(机关)信访局", code=None, year=2021) == "inserted"
    assert count(store, "units") == 1
    assert store.returns(code="C1")[0]["unit"] == "君山区(机关) 信访局"  # the current version's name
    assert store.prior_values(None, "君山区（机关）信访局", 2020, ["unit.name"]) == {"unit.name": NAME}
    # a different code is a different unit even with the same name
    assert save(store, "4" * 64, name="君山区(机关)信访局", code="C2") == "inserted"
    assert count(store, "units") == 2


# ------------------------------------------------------------------ exact values


def test_decimals_round_trip_exactly(store: Store) -> None:
    sha = "d" * 64
    values: dict[str, Any] = {
        "a": D("0.1") + D("0.2"),
        "b": D("256.70"),
        "c": D("256.7"),
        "d": D("1E+2"),
        "e": D("-0.00"),
        "f": D("-0.38"),
        "g": D("123456789012.345678901"),
        "h": 3,
        "i": D("0.000001"),
    }
    row = ret(sha, reported_total=D("0.1") + D("0.2"), recomputed_total=D("256.70"))
    score = {"item": "P3", "max": D("3"), "self": D("3.0"), "recomputed": D("2.00")}
    store.save_return(row, [score], [], values)
    stored = store.facts(sha)
    assert stored == {
        "a": "0.3",
        "b": "256.7",
        "c": "256.7",
        "d": "100",
        "e": "0",
        "f": "-0.38",
        "g": "123456789012.345678901",
        "h": "3",
        "i": "0.000001",
    }
    typed = store.facts(sha, typed=True)
    assert all(typed[k] == D(v) for k, v in values.items())
    assert typed["a"] == D("0.3") and typed["a"] != D(0.1 + 0.2)
    current = store.current_returns()[0]
    assert current["reported_total"] == D("0.3") and current["recomputed_total"] == D("256.7")
    assert store.scores(sha) == [{"item": "P3", "max": D(3), "self": D(3), "recomputed": D(2)}]
    # equal values have equal text, so SQL can compare them
    with store.engine.connect() as conn:
        facts = metadata.tables["facts"]
        same = conn.execute(sa.select(facts.c.field).where(facts.c.value == "256.7")).scalars().all()
    assert sorted(same) == ["b", "c"]
    assert canonical(D("5.20")) == "5.2" and canonical(D("0E-7")) == "0"


def test_amounts_and_scores_are_exact_numeric_columns(store: Store) -> None:
    """Totals, scores and numeric facts are NUMERIC(38, 18) on PostgreSQL (read back as the same
    Decimal, added up exactly in SQL); SQLite keeps their canonical text, exact too."""
    sha = "e" * 64
    facts = {
        "income.total.total": D("259.99"),
        "x": D("0.1"),
        "y": D("0.2"),
        "big": D("12345678901234567890.123456789012345678"),  # 20 + 18 digits: the most that fits
        "long": D("0.1234567890123456789"),  # 19 decimals: kept as exact text, no number
        "unit.name": NAME,
    }
    score = {"item": "P3", "max": D(3), "self": D("2.75"), "recomputed": D("2.00")}
    store.save_return(ret(sha, reported_total=D("98.25")), [score], [], facts)
    table = metadata.tables["facts"]
    with store.engine.connect() as conn:
        numbers = dict(conn.execute(sa.select(table.c.field, table.c.number)).all())
        if store.engine.dialect.name == "postgresql":
            total = conn.execute(sa.select(sa.func.sum(table.c.number)).where(table.c.field.in_(["x", "y"])))
            assert total.scalar_one() == D("0.3")  # exact decimal arithmetic in the database
            types = dict(
                conn.exec_driver_sql(
                    "SELECT table_name || '.' || column_name,"
                    " data_type || '(' || numeric_precision || ',' || numeric_scale || ')'"
                    " FROM information_schema.columns WHERE data_type = 'numeric'"
                ).all()
            )
            for column in (
                "returns.reported_total",
                "returns.recomputed_total",
                "scores.self",
                "facts.number",
            ):
                assert types[column] == "numeric(38,18)", column
    assert numbers["income.total.total"] == D("259.99") and numbers["big"] == facts["big"]
    assert numbers["long"] is None and numbers["unit.name"] is None
    assert store.facts(sha, typed=True)["long"] == facts["long"]  # the text keeps it exactly
    assert store.scores(sha) == [{"item": "P3", "max": D(3), "self": D("2.75"), "recomputed": D(2)}]
    assert store.current_returns()[0]["reported_total"] == D("98.25")
    with pytest.raises(StoreError, match="无法精确存入数据库"):
        store.save_return(ret("f" * 64), [{**score, "self": D("1E-25")}], [], {})


def test_a_version_1_store_is_upgraded_in_place(target: str) -> None:
    """Version 1 kept totals and scores as text everywhere; opening it upgrades the columns and adds
    the facts' exact numbers, keeping every value."""
    old = sa.MetaData()
    sa.Table("perfxl_schema", old, sa.Column("version", sa.Integer, primary_key=True, autoincrement=False))
    sa.Table(
        "units",
        old,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64)),
        sa.Column("name", sa.String(255)),
        sa.Column("name_key", sa.String(255)),
        sa.Column("unit_key", sa.String(300), unique=True),
    )
    sa.Table(
        "returns",
        old,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("unit_id", sa.Integer),
        sa.Column("year", sa.Integer),
        sa.Column("file", sa.Text),
        sa.Column("sha256", sa.String(64)),
        sa.Column("edition", sa.String(64)),
        sa.Column("status", sa.String(16)),
        sa.Column("generated_at", sa.String(40)),
        sa.Column("modified_at", sa.String(40)),
        sa.Column("checked_at", sa.String(40)),
        sa.Column("loaded_at", sa.String(40)),
        sa.Column("reported_total", sa.String(40)),
        sa.Column("recomputed_total", sa.String(40)),
        sa.Column("reported_grade", sa.String(16)),
        sa.Column("recomputed_grade", sa.String(16)),
        sa.Column("superseded_by", sa.Integer),
        sa.Column("is_current", sa.Boolean),
    )
    sa.Table(
        "facts",
        old,
        sa.Column("return_id", sa.Integer, primary_key=True),
        sa.Column("field", sa.String(120), primary_key=True),
        sa.Column("value", sa.Text),
        sa.Column("numeric", sa.Boolean),
    )
    sa.Table(
        "scores",
        old,
        sa.Column("return_id", sa.Integer, primary_key=True),
        sa.Column("item", sa.String(32), primary_key=True),
        sa.Column("max", sa.String(40)),
        sa.Column("self", sa.String(40)),
        sa.Column("recomputed", sa.String(40)),
    )
    engine = sa.create_engine(target if "://" in target else f"sqlite:///{target}")
    try:
        old.create_all(engine)
        with engine.begin() as conn:
            conn.execute(old.tables["perfxl_schema"].insert().values(version=1))
            conn.execute(
                old.tables["units"]
                .insert()
                .values(id=1, code=CODE, name=NAME, name_key=NAME, unit_key=f"c:{CODE}")
            )
            conn.execute(
                old.tables["returns"]
                .insert()
                .values(
                    id=1,
                    unit_id=1,
                    year=2020,
                    file="a.xlsx",
                    sha256="a" * 64,
                    status="errors",
                    loaded_at="x",
                    reported_total="98",
                    recomputed_total="97.5",
                    is_current=True,
                )
            )
            conn.execute(
                old.tables["facts"].insert(),
                [
                    {"return_id": 1, "field": "sangong.total.total", "value": "4.79", "numeric": True},
                    {"return_id": 1, "field": "unit.name", "value": NAME, "numeric": False},
                ],
            )
            conn.execute(
                old.tables["scores"].insert(),
                [{"return_id": 1, "item": "P3", "max": "3", "self": "3", "recomputed": "2"}],
            )
    finally:
        engine.dispose()
    with open_store(target) as st:
        (row,) = st.returns()
        assert (row["reported_total"], row["recomputed_total"]) == (D(98), D("97.5"))
        assert st.scores("a" * 64) == [{"item": "P3", "max": D(3), "self": D(3), "recomputed": D(2)}]
        assert st.facts("a" * 64, typed=True) == {"sangong.total.total": D("4.79"), "unit.name": NAME}
        with st.engine.connect() as conn:
            facts = metadata.tables["facts"]
            number = conn.execute(sa.select(facts.c.number).where(facts.c.field == "sangong.total.total"))
            assert number.scalar_one() == D("4.79")
            versions = conn.execute(sa.select(metadata.tables["perfxl_schema"].c.version)).scalars().all()
        assert versions == [SCHEMA_VERSION] == [3]
        assert row["round"] == 1  # the version-1 return is its unit's first round
        assert save(st, "b" * 64, generated_at="2021-04-05T09:00:00+08:00") == "superseded"
        assert [r["round"] for r in st.history(code=CODE, year=2020)] == [1, 2]


def old_schema(*, exact: bool, rounds: bool) -> sa.MetaData:
    """The tables as an older perfxl made them: version 1 (neither), or one of the two versions
    called 2 — the exact-amounts line (NUMERIC totals and scores, ``facts.number``) or the rounds
    line (``returns.round`` and its unique index, the findings' explanation columns, ``explanations``)."""
    old = sa.MetaData()
    dropped = set() if exact else {"number"}
    dropped |= set() if rounds else {"round", "explanation", "explained"}
    for table in metadata.sorted_tables:
        if table.name == "explanations" and not rounds:
            continue
        cols = []
        for c in table.columns:
            if c.name in dropped:
                continue
            copy = c._copy()
            if not exact and (table.name, c.name) in EXACT_COLUMNS:
                copy.type = sa.String(40)  # as text, as version 1 kept them
            cols.append(copy)
        indexes = [
            sa.Index(i.name, *[c.name for c in i.columns], unique=i.unique)
            for i in table.indexes
            if i.name and not (i.name == "uq_returns_round" and not rounds) and not i.name.startswith("ix_")
        ]
        sa.Table(table.name, old, *cols, *indexes)
    return old


@pytest.mark.parametrize(
    "line",
    ["exact", "rounds"],
    ids=["version-2-exact-amounts", "version-2-rounds-and-explanations"],
)
def test_a_version_2_store_of_either_line_is_upgraded_in_place(target: str, line: str) -> None:
    """Both lines of development called their schema 2; whichever a store is, opening it brings the
    other line's columns in (rounds numbered in load order, amounts exact), keeping every row."""
    exact, rounds = line == "exact", line == "rounds"
    old = old_schema(exact=exact, rounds=rounds)
    t = old.tables
    engine = sa.create_engine(target if "://" in target else f"sqlite:///{target}")
    try:
        old.create_all(engine)
        with engine.begin() as conn:
            # the exact line kept the version-1 row beside its own; the rounds line replaced it
            conn.execute(t["perfxl_schema"].insert(), [{"version": v} for v in ([1, 2] if exact else [2])])
            # no explicit ids: PostgreSQL's sequences must stay in step with the rows
            unit = conn.execute(
                t["units"].insert().values(code=CODE, name=NAME, name_key=NAME, unit_key=f"c:{CODE}")
            ).inserted_primary_key[0]
            ids: list[int] = []
            for n, sha in ((1, "a"), (2, "b")):
                row = conn.execute(
                    t["returns"]
                    .insert()
                    .values(
                        unit_id=unit,
                        year=2020,
                        file=f"{sha}.xlsx",
                        sha256=sha * 64,
                        status="errors",
                        loaded_at=f"2021-04-0{n}",
                        reported_total=D("98") if exact else "98",
                        recomputed_total=D("97.5") if exact else "97.5",
                        is_current=n == 2,
                        **({"round": n} if rounds else {}),
                    )
                )
                ids.append(row.inserted_primary_key[0])
            returns = t["returns"]
            conn.execute(sa.update(returns).where(returns.c.id == ids[0]).values(superseded_by=ids[1]))
            fact = {"return_id": ids[1], "field": "sangong.total.total", "value": "4.79", "numeric": True}
            conn.execute(t["facts"].insert(), [{**fact, **({"number": D("4.79")} if exact else {})}])
            score = {"return_id": ids[1], "item": "P3", "max": 3, "self": 3, "recomputed": 2}
            conn.execute(t["scores"].insert(), [score if exact else {k: str(v) for k, v in score.items()}])
            finding = {
                "return_id": ids[1],
                "rule": "input.blank",
                "severity": "警告",
                "sheet": "基本概况",
                "cell": "D6",
                "message": "必填项未填",
            }
            if rounds:
                finding |= {"explanation": "无固定电话", "explained": True}
                conn.execute(
                    t["explanations"]
                    .insert()
                    .values(
                        unit_id=unit,
                        year=2020,
                        rule="input.blank",
                        sheet="基本概况",
                        cell="D6",
                        reported=None,
                        text="无固定电话",
                        listed=1,
                        round=2,
                        return_id=ids[1],
                        voided=False,
                    )
                )
            conn.execute(t["findings"].insert(), [finding])
    finally:
        engine.dispose()
    with open_store(target) as st:
        rounds_seen = st.history(code=CODE, year=2020)
        assert [(r["round"], r["warnings"], r["explained"]) for r in rounds_seen] == (
            [(1, 0, 0), (2, 0, 1)] if rounds else [(1, 0, 0), (2, 1, 0)]
        )
        current = st.current_returns()[0]
        assert (current["reported_total"], current["recomputed_total"]) == (D(98), D("97.5"))
        assert st.scores("b" * 64) == [{"item": "P3", "max": D(3), "self": D(3), "recomputed": D(2)}]
        facts = metadata.tables["facts"]
        with st.engine.connect() as conn:
            number = conn.execute(sa.select(facts.c.number).where(facts.c.field == "sangong.total.total"))
            assert number.scalar_one() == D("4.79")
            versions = conn.execute(sa.select(metadata.tables["perfxl_schema"].c.version)).scalars().all()
            if st.engine.dialect.name == "postgresql":
                types = dict(
                    conn.exec_driver_sql(
                        "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns"
                        " WHERE table_name IN ('returns', 'scores', 'facts')"
                    ).all()
                )
                for table, column in (*EXACT_COLUMNS, ("facts", "number")):
                    assert types[f"{table}.{column}"] == "numeric", (table, column)
        assert versions == [SCHEMA_VERSION]
        # the next return is round 3, and (on the rounds line) the stored explanation carries over
        scores, _findings, facts_ = parts()
        saved = st.save_round(
            ret("c" * 64, generated_at="2021-05-01T09:00:00+08:00"),
            scores,
            [{**finding, "return_id": None}],
            facts_,
        )
        assert saved.outcome == "superseded" and saved.round == 3
        assert saved.findings[0]["explained"] is rounds
        with pytest.raises(sa.exc.IntegrityError):  # one return per unit, year and round
            with st.engine.begin() as conn:
                conn.execute(
                    sa.update(metadata.tables["returns"])
                    .where(metadata.tables["returns"].c.sha256 == "a" * 64)
                    .values(round=3)
                )


# ------------------------------------------------------------------ where the database is


def test_password_in_a_url_is_masked() -> None:
    assert shown("postgresql+psycopg://绩效股:s3cret@db.example/perfxl") == (
        "postgresql+psycopg://绩效股:***@db.example/perfxl"
    )
    assert shown("汇总/perfxl.sqlite") == "汇总/perfxl.sqlite"  # a file path has nothing to hide


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgresql+pg8000://u:s3cret@127.0.0.1/perfxl", ("pg8000", 'pip install "perfxl[postgres]"')),
        ("nosuchdb://u:s3cret@host/perfxl", ("不认识的数据库类型", "nosuchdb")),
        ("postgresql+psycopg://u:s3cret@host:端口/perfxl", ("格式不对",)),
    ],
)
def test_a_url_that_cannot_be_used_says_why_in_chinese(url: str, says: tuple[str, ...]) -> None:
    with pytest.raises(StoreError) as caught:
        open_store(url)
    message = str(caught.value)
    assert "s3cret" not in message and all(s in message for s in says), message


def test_psycopg_missing_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if perfxl[postgres] were not installed
    with pytest.raises(StoreError, match=r"psycopg.*perfxl\[postgres\]") as caught:
        open_store("postgresql+psycopg://u:s3cret@127.0.0.1/perfxl")
    assert "s3cret" not in str(caught.value)


def test_chinese_text_round_trips_exactly(store: Store) -> None:
    sha = "c" * 64
    name = "岳阳市君山区信访局（机关）𠀀"  # includes a character outside the BMP
    texts = {
        "unit.duty": "负责来信来访、接待群众——“依法逐级走访”；全角１２３，半角123。\n第二行\t制表",
        "unit.phone": "0730-1234567",
        "unit.zero": "007",
        "basis.p5_1": "是",
    }
    finding = {
        "rule": "input.invalid",
        "item": None,
        "severity": "错误",
        "sheet": "收支情况",
        "cell": "C6",
        "reported": "256.70万元",
        "expected": None,
        "message": "收支情况!C6 收入合计：“256.70万元”不是数字",
    }
    store.save_return(ret(sha, name=name), [], [finding], texts)
    assert store.facts(sha) == texts
    assert store.facts(sha, typed=True) == texts  # text stays text, even when it looks like a number
    assert store.findings(sha) == [{**finding, "explanation": None, "explained": False}]
    assert store.current_returns()[0]["unit"] == name


def test_counts_of_facts_scores_findings(store: Store) -> None:
    for i in range(3):
        save(store, f"{i}" * 64, year=2018 + i)
    assert count(store, "facts") == 600 and count(store, "scores") == 75 and count(store, "findings") == 30
    row = store.current_returns(2019)[0]
    assert (row["errors"], row["warnings"], row["infos"]) == (4, 3, 3)
    assert len(store.facts("1" * 64)) == 200
    with store.engine.connect() as conn:
        findings = metadata.tables["findings"]
        by_rule = conn.execute(sa.select(sa.func.count()).where(findings.c.rule == "score.P3")).scalar_one()
    assert by_rule == 30


# ------------------------------------------------------------------ prior year


def test_prior_values_of_previous_year(store: Store) -> None:
    save(store, "1" * 64, year=2019, sangong="5.20")
    save(store, "2" * 64, year=2020, sangong="4.79")
    save(store, "3" * 64, year=2020, sangong="4.70", generated_at="2021-04-05T09:00:00+08:00")  # correction
    fields = ["sangong.total.total", "no.such.field"]
    assert store.prior_values(CODE, NAME, 2020, fields) == {"sangong.total.total": "4.7"}
    assert store.prior_values(CODE, None, 2019, fields) == {"sangong.total.total": "5.2"}
    assert store.prior_values(None, NAME, 2019, fields) == {"sangong.total.total": "5.2"}
    assert store.prior_values(CODE, NAME, 2018, fields) == {}
    assert store.prior_values("nope", "不存在的单位", 2020, fields) == {}


@pytest.fixture
def edition() -> Edition:
    """hunan-2020, whose rubric declares ``prior_year: {basis.sangong_prev: sangong.total.total}``."""
    return load_edition("hunan-2020")


def test_prior_year_map_is_data(edition: Edition, tmp_path: Path) -> None:
    assert prior_year_map(edition) == {"basis.sangong_prev": "sangong.total.total"}
    templates, checks = data_dirs()
    shipped = (checks / "hunan-2020.yaml").read_text(encoding="utf-8").split("\nprior_year:")[0]
    for bad, message in (
        ("{sangong.total.total: basis.sangong_prev}", "不是表样中的填写项"),
        ("{basis.sangong_prev: no.such}", "不存在的字段"),
        ("[a, b]", "键值表"),
    ):
        rubric = tmp_path / f"bad{len(message)}.yaml"
        rubric.write_text(shipped + f"\nprior_year: {bad}\n", encoding="utf-8")
        with pytest.raises(SpecError, match=message):  # refused when the edition loads
            load_edition("hunan-2020", form_path=templates / "hunan-2020.yaml", rubric_path=rubric)


def test_prefill_from_store(store: Store, edition: Edition) -> None:
    save(store, "1" * 64, year=2020, sangong="4.79")
    save(store, "2" * 64, year=2020, name="岳阳市君山区财政局", code="430611-CZJ", sangong="12.50")
    units = [
        Unit(NAME, CODE),
        Unit("岳阳市君山区财政局", "430611-CZJ"),
        Unit("新设单位", "999"),
        Unit(NAME, CODE, 2022),
    ]  # own year 2022: nothing stored for 2021
    prefill = prefill_from_store(store, edition, units, 2021)
    assert prefill == {
        Unit(NAME, CODE): {"basis.sangong_prev": D("4.79")},
        Unit("岳阳市君山区财政局", "430611-CZJ"): {"basis.sangong_prev": D("12.5")},
    }


def test_prefill_end_to_end_from_a_checked_workbook(store: Store, edition: Edition, tmp_path: Path) -> None:
    """Check last year's real sample workbook, store it, prefill this year's template, read it back."""
    from perfxl.check import check_file
    from perfxl.form.prefill import load_prefill
    from perfxl.form.template import write_template

    sample = load_prefill(SAMPLE)
    assert sample.unit is not None
    last = tmp_path / "2020.xlsx"
    write_template(last, edition, sample.unit, sample.values, None, sample.generated_at)
    result = check_file(last)
    assert save_result(store, result) == "inserted"
    assert save_result(store, result) == "unchanged"
    assert store.facts(result.sha256 or "")["sangong.total.total"] == "4.79"  # a computed 汇总 value
    assert store.facts(result.sha256 or "")["basis.sangong_prev"] == "5.2"  # an input
    assert len(store.scores(result.sha256 or "")) == len(result.items)
    assert len(store.findings(result.sha256 or "")) == len(result.findings)

    unit = Unit(sample.unit.name, sample.unit.code, 2021)
    values = prefill_from_store(store, edition, [unit], 2021)[unit]
    assert values == {"basis.sangong_prev": D("4.79")}
    this = tmp_path / "2021.xlsx"
    write_template(this, edition, unit, values)
    assert check_file(this).facts["basis.sangong_prev"] == D("4.79")


# ------------------------------------------------------------------ consolidation adapter


def test_save_consolidation(target: str, edition: Edition) -> None:
    returns = pd.DataFrame(
        [
            {
                **ret("1" * 64),
                "name": "信访局_2020.xlsx",
                "mtime": "2021-04-01T10:00:00+08:00",
                "used": False,
                "reason": None,
                "errors": 1,
                "warnings": 0,
                "infos": 0,
            },
            {**ret("2" * 64, generated_at="2021-04-05T09:00:00+08:00"), "used": True},
            {**ret("3" * 64, name="岳阳市君山区财政局", code="430611-CZJ"), "used": True, "year": 2020.0},
            {"file": "坏文件.xlsx", "sha256": "4" * 64, "status": "unusable", "reason": "不是工作簿"},
            {"file": "缺失.xlsx", "sha256": None, "status": "unusable", "reason": "无法读取"},
        ]
    )
    returns.loc[returns["sha256"] == "3" * 64, "checked_at"] = float("nan")
    scores = pd.DataFrame(
        [
            {
                "sha256": s,
                "code": CODE,
                "unit": NAME,
                "item": "I1",
                "max": D(5),
                "self": D("5.0"),
                "recomputed": D(5),
            }
            for s in ("1" * 64, "2" * 64, "3" * 64)
        ]
    )
    findings = pd.DataFrame(
        [
            {
                "sha256": "2" * 64,
                "code": CODE,
                "unit": NAME,
                "rule": "score.P3",
                "item": "P3",
                "severity": "错误",
                "sheet": "评分表",
                "cell": "F8",
                "reported": D("3"),
                "expected": D("2"),
                "message": "资金结余：自评 3 分，按规则应为 2 分",
            }
        ]
    )
    facts = pd.DataFrame(
        [
            {"sha256": "2" * 64, "field": "sangong.total.total", "value": "4.79"},
            {"sha256": "2" * 64, "field": "unit.contact", "value": "张毅宏"},
            {"sha256": "2" * 64, "field": "basis.econ_goods", "value": None},
        ]
    )
    con = SimpleNamespace(returns=returns, scores=scores, findings=findings, facts=facts)
    counts = save_consolidation(con, target)
    assert counts == {"inserted": 2, "superseded": 1, "outdated": 0, "unchanged": 0, "skipped": 2}
    assert save_consolidation(con, target)["unchanged"] == 3
    with open_store(target) as st:
        current = by_sha(st.current_returns(2020))
        assert set(current) == {"2" * 64, "3" * 64}
        assert st.facts("2" * 64) == {"sangong.total.total": "4.79", "unit.contact": "张毅宏"}
        assert st.findings("2" * 64)[0]["expected"] == "2"
        assert st.scores("1" * 64) == [{"item": "I1", "max": D(5), "self": D(5), "recomputed": D(5)}]
        assert current["3" * 64]["year"] == 2020 and current["3" * 64]["checked_at"]  # NaN → load time
        assert current["2" * 64]["unit"] == NAME  # "name" (the file's name) is not the unit's name
        assert by_sha(st.returns())["1" * 64]["modified_at"] == "2021-04-01T10:00:00+08:00"
        assert st.prior_values(CODE, NAME, 2020, ["sangong.total.total"]) == {"sangong.total.total": "4.79"}
        # facts came as text; the prefill still gives a number for the numeric field
        assert prefill_from_store(st, edition, [Unit(NAME, CODE)], 2021) == {
            Unit(NAME, CODE): {"basis.sangong_prev": D("4.79")}
        }


def test_wal_option_and_clean_close(tmp_path: Path) -> None:
    path = tmp_path / "快速.sqlite"
    with open_store(path, wal=True) as st:
        assert save(st, "a" * 64) == "inserted"
        with st.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert not Path(f"{path}-wal").exists()  # the engine was disposed: last connection checkpointed
    with open_store(path) as st:
        assert len(st.current_returns()) == 1


def test_duplicate_score_item_is_refused(store: Store) -> None:
    twice = [{"item": "I1", "max": 5, "self": 5, "recomputed": 5}] * 2
    with pytest.raises(StoreError, match="I1"):
        store.save_return(ret("a" * 64), twice, [], {})
    assert count(store, "returns") == 0


def test_one_transaction_per_return(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    assert save(store, "1" * 64) == "inserted"

    def boom(*args: Any) -> tuple[Any, ...]:
        raise RuntimeError("fails after the rows were inserted")

    monkeypatch.setattr("perfxl.batch.store.recency_key", boom)
    with pytest.raises(RuntimeError):
        save(store, "2" * 64, generated_at="2021-04-05T09:00:00+08:00")
    assert {t: count(store, t) for t in ("returns", "facts", "scores", "findings")} == {
        "returns": 1,
        "facts": 200,
        "scores": 25,
        "findings": 10,
    }
    assert [r["sha256"] for r in store.current_returns()] == ["1" * 64]


def test_store_agrees_with_consolidation_on_the_used_return(
    target: str, edition: Edition, tmp_path: Path
) -> None:
    """A real consolidation of two versions of one unit's return: the version the summary uses is
    the store's current one, whatever order the files are loaded in."""
    import os

    from perfxl.batch.consolidate import consolidate
    from perfxl.form.prefill import load_prefill
    from perfxl.form.template import write_template

    sample = load_prefill(SAMPLE)
    folder = tmp_path / "报表"
    first, second = folder / "a_更正后.xlsx", folder / "b_原件.xlsx"
    write_template(second, edition, sample.unit, sample.values, None, sample.generated_at)
    corrected = {**sample.values, "sangong.org.reception": "4.70"}
    write_template(first, edition, sample.unit, corrected, None, sample.generated_at)
    os.utime(second, (1_600_000_000, 1_600_000_000))  # same generation time: the newer file wins
    os.utime(first, (1_600_000_100, 1_600_000_100))
    con = consolidate([folder], workers=1, facts=True)
    used = set(con.returns.loc[con.returns["used"].astype(bool), "sha256"])
    assert len(used) == 1
    counts = save_consolidation(con, target)
    assert counts["inserted"] + counts["superseded"] + counts["outdated"] == 2
    with open_store(target) as st:
        assert {r["sha256"] for r in st.current_returns(2020)} == used
        assert st.prior_values(CODE, NAME, 2020, ["sangong.total.total"]) == {"sangong.total.total": "4.7"}
        assert prefill_from_store(st, edition, [Unit(NAME, CODE)], 2021) == {
            Unit(NAME, CODE): {"basis.sangong_prev": D("4.7")}
        }


def test_identical_files_in_one_batch_store_one_set_of_findings(tmp_path: Path) -> None:
    """Two byte-identical copies of a return (sent twice): one stored return, its findings once."""
    import shutil

    from perfxl.batch.consolidate import consolidate

    folder = tmp_path / "报表"
    folder.mkdir()
    shutil.copy(SAMPLE.with_suffix(".xlsx"), folder / "a.xlsx")
    shutil.copy(SAMPLE.with_suffix(".xlsx"), folder / "b_再次报送.xlsx")
    con = consolidate([folder], workers=1, facts=True)
    per_file = int((con.findings["file"] == con.findings["file"].iloc[0]).sum())
    counts = save_consolidation(con, str(tmp_path / "db.sqlite"))
    assert counts["inserted"] == 1 and counts["unchanged"] == 1
    with open_store(str(tmp_path / "db.sqlite")) as st:
        (ret,) = st.returns(2020)
        assert len(st.findings(ret["sha256"])) == per_file


def test_an_explanation_typed_in_is_kept_like_one_from_a_review_copy(tmp_path: Path) -> None:
    """``Store.explain`` (the web app's unit page): a 警告 becomes 已说明, an 错误 keeps its
    explanation and still counts, an empty text withdraws it, and the next round carries it over."""
    from perfxl import api

    db = str(tmp_path / "s.sqlite")
    seed = ROOT / "sample_workbooks" / "君山区信访局_2020.xlsx"  # one 错误: P3 self-scored 3
    first = next(api.check_files([seed], review=False, db=db)).result
    error = next(f for f in first.findings if f.severity == "错误")
    with open_store(db) as store:
        with pytest.raises(StoreError, match="没有这条问题"):
            store.explain(first.sha256 or "", "no.such", None, None, "x")
        row = store.explain(first.sha256 or "", error.rule, error.sheet, error.cell, "  年底才拨入  ")
        assert (row["explanation"], row["explained"]) == ("年底才拨入", False)  # an 错误 still counts
        info = next(f for f in first.findings if f.severity == "提示")
        assert store.explain(first.sha256 or "", info.rule, info.sheet, info.cell, "已知")["explained"]
        assert not store.explain(first.sha256 or "", info.rule, info.sheet, info.cell, "")["explained"]
        stored = {(f["rule"], f["cell"]): f for f in store.findings(first.sha256 or "")}
        assert stored[(error.rule, error.cell)]["explanation"] == "年底才拨入"
        assert stored[(info.rule, info.cell)]["explanation"] is None
    again = tmp_path / "again.xlsx"  # the same P3 mistake in a new file (another phone number)
    api.write_template(again, values_path=SAMPLE, values={"unit.phone": "0730-1234567"})
    second = next(api.check_files([again], review=False, db=db)).result
    assert second.round == 2
    carried = next(f for f in second.findings if f.rule == error.rule)
    assert carried.explanation == "年底才拨入" and not carried.explained


def test_a_consolidation_stored_at_once_equals_storing_each_return_alone(tmp_path: Path) -> None:
    """``save_consolidation`` (one transaction, rows inserted together, facts from the frame) stores
    exactly the rows that saving each return alone from its ``CheckResult`` stores: two rounds of
    one unit (the second explains a finding) and another unit."""
    import shutil

    from perfxl.batch.consolidate import consolidate
    from perfxl.check import check_file
    from perfxl.form.prefill import load_prefill
    from perfxl.form.template import write_template

    edition = load_edition()
    sample = load_prefill(SAMPLE)
    folder = tmp_path / "报表"
    first, second, other = folder / "a_原件.xlsx", folder / "b_更正.xlsx", folder / "c_财政局.xlsx"
    write_template(first, edition, sample.unit, sample.values, None, sample.generated_at)
    corrected = {**sample.values, "sangong.org.reception": "4.70"}
    write_template(second, edition, sample.unit, corrected, None, sample.generated_at)
    unit = Unit("岳阳市君山区财政局", "430611-CZJ", 2020)
    write_template(other, edition, unit, {**sample.values, "unit.name": unit.name, "unit.code": unit.code})
    import os

    os.utime(first, (1_600_000_000, 1_600_000_000))
    os.utime(second, (1_600_000_100, 1_600_000_100))
    shutil.copy(other, folder / "d_重复.xlsx")  # the same content twice: one stored return
    con = consolidate([folder], workers=1, facts=True)
    batched, alone = str(tmp_path / "batched.sqlite"), str(tmp_path / "alone.sqlite")
    counts = save_consolidation(con, batched)
    assert counts == {"inserted": 2, "superseded": 1, "outdated": 0, "unchanged": 1, "skipped": 0}
    with open_store(alone) as st:
        for path in (first, second, other, folder / "d_重复.xlsx"):  # oldest first, as consolidation
            save_result(st, check_file(path))

    def tables(url: str) -> dict[str, list[tuple[Any, ...]]]:
        with open_store(url) as st, st.engine.connect() as conn:
            sha = dict(conn.execute(sa.text("SELECT id, sha256 FROM returns")).all())
            out = {
                "returns": sorted(
                    (
                        r.sha256,
                        r.year,
                        r.edition,
                        r.status,
                        r.generated_at,
                        r.modified_at,
                        r.reported_total,
                        r.recomputed_total,
                        r.reported_grade,
                        r.recomputed_grade,
                        sha.get(r.superseded_by),
                        r.is_current,
                        r.round,
                    )
                    for r in conn.execute(sa.text("SELECT * FROM returns"))
                ),
                "units": sorted(
                    conn.execute(sa.text("SELECT code, name, name_key, unit_key FROM units")).all()
                ),
            }
            for table, cols in (
                ("facts", "field, value, numeric, number"),
                ("scores", "item, max, self, recomputed"),
                (
                    "findings",
                    "rule, item, severity, sheet, cell, reported, expected, message, explanation, explained",
                ),
            ):
                rows = conn.execute(sa.text(f"SELECT return_id, {cols} FROM {table} ORDER BY return_id, 2"))
                out[table] = sorted((sha[r[0]], *r[1:]) for r in rows)
            return out

    a, b = tables(batched), tables(alone)
    assert a.keys() == b.keys()
    for name in a:
        assert a[name] == b[name], name
    assert len(a["facts"]) > 300 and len(a["findings"]) > 0


# ------------------------------------------------------------------ fast paths against the slow ones

NUMBER_TEXT = hst.one_of(
    hst.decimals(allow_nan=True, allow_infinity=True).map(str),
    hst.decimals(allow_nan=False, allow_infinity=False).map(lambda d: format(d, "f")),
    hst.tuples(hst.integers(-(10**25), 10**25), hst.integers(0, 25), hst.integers(0, 4)).map(
        lambda t: f"{t[0]}.{'0' * t[2]}{t[1]}{'0' * t[2]}"
    ),
    hst.text(alphabet="-+0123456789.eE _", max_size=30),
)


@settings(max_examples=3000, deadline=None)
@given(
    hst.one_of(
        NUMBER_TEXT,
        hst.decimals(allow_nan=True, allow_infinity=True),
        hst.integers(-(10**22), 10**22),
        hst.floats(),
        hst.booleans(),
    )
)
def test_making_numbers_exact_fast_gives_what_parsing_them_gives(value: Any) -> None:
    """Plain number text (and ints, Decimals) are made canonical without parsing them as a Decimal:
    the same text (or the same refusal) as the slow path, for any value."""
    assert store_module._fits(value) == store_module._fits_slowly(value)
    # the cache answers for values equal to ones seen before (5 and 5.0): still the same text
    assert store_module._fits_cached(value) == store_module._fits_slowly(value)


@pytest.mark.parametrize(
    "text", ["0", "-0", "-0.000", "1.", "2497.20", "100.00", "-492.2", "0.1000", "1" * 20 + ".5", "1" * 21]
)
def test_plain_number_text_is_made_canonical(text: str) -> None:
    assert store_module._fits(text) == store_module._fits_slowly(text)
    assert store_module._fits(text) == (canonical(D(text)) if len(text.split(".")[0]) <= 20 else None)


def test_units_matched_in_one_batch_as_when_saved_one_by_one(target: str, tmp_path: Path) -> None:
    """The units of a batch are looked up at once and kept up to date while it is stored: a name-only
    unit adopts a code, a return without code joins the one coded unit of its name, another code
    is another unit, exactly as when every return is saved alone."""
    rets = [
        ret("1" * 64, name="君山区（机关）信访局", code=None),
        ret("2" * 64, name="君山区(机关) 信访局", code="C1", generated_at="2021-04-05T09:00:00+08:00"),
        ret("3" * 64, name="君山区(机关)信访局", code=None, year=2021),
        ret("4" * 64, name="君山区(机关)信访局", code="C2"),
        ret("5" * 64, name="君山区(机关)信访局", code=None, year=2022),  # two coded units: its own
        ret("6" * 64, name="", code=None),
    ]
    scores, findings, facts = parts()
    alone = str(tmp_path / "alone.sqlite")
    with open_store(alone) as one:
        outcomes = [one.save_return(r, scores, findings, facts) for r in rets]
    with open_store(target) as batch:
        prepared = [store_module._prepare(r, scores, findings, store_module._fact_rows(facts)) for r in rets]
        saved = batch.save_all(rets, lambda: prepared)
        assert [s.outcome for s in saved] == outcomes
        assert [s.round for s in saved] == [1, 2, 1, 1, 1, None]

    def units(url: str) -> list[tuple[Any, ...]]:
        with open_store(url) as st, st.engine.connect() as conn:
            return [
                tuple(r)
                for r in conn.execute(
                    sa.text(
                        "SELECT r.sha256, u.code, u.name, u.unit_key FROM returns r "
                        "LEFT JOIN units u ON u.id = r.unit_id ORDER BY r.sha256"
                    )
                )
            ]

    assert units(target) == units(alone)
    assert len({u[3] for u in units(target)} - {None}) == 3
