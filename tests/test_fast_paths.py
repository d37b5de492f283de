"""Every shortcut taken to make `perfxl check` fast gives what the slower code it replaced gave.

Each test holds a fast path to its slow original, kept here as the reference (the code as it was
before the speed work), on the sample return, generated returns and arbitrary input.
"""

from __future__ import annotations

import dataclasses
import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from perfxl.check import formula_cells, narrative, plausible, reader, safety, tables, xlsxread, xmlsafe
from perfxl.check.formats import read_workbook
from perfxl.check.limits import Budget, LimitExceeded, Limits
from perfxl.check.package import XlsxReadError
from perfxl.engine import layout
from perfxl.engine.catalogue import finding
from perfxl.engine.layout import Plan, a1, build_plan, parse_a1
from perfxl.engine.numbers import (
    UNITS,
    Parsed,
    _fmt,
    _out_of_range,
    _percent_fraction,
    parse_number,
    to_decimal,
)
from perfxl.spec import expr, load_edition
from perfxl.spec import load as spec_load
from perfxl.spec.narrative import Figure, Lexicon

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "sample_workbooks" / "君山区信访局_2020.xlsx"
EDITION = load_edition()
PLAN = build_plan(EDITION)
LEXICON = EDITION.rubric.lexicon
assert LEXICON is not None
KINDS, PHRASES = narrative._prepared(PLAN)


# ------------------------------------------------------------------ the narrative check


def slow_starts(text: str, ends: str) -> list[int]:
    """narrative._starts as it was: one Python step per character."""
    out, start = [], 0
    for i, ch in enumerate(text):
        out.append(start)
        if ch in ends:
            start = i + 1
    return out


# narrative._FIGURE as it was, without the look-ahead that lets the regex engine skip ahead.
SLOW_FIGURE = re.compile(
    r"(?<![\d.])(-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)\s*(亿元|万元|万|元|%|人(?!次)|名)"
)


def slow_scan(text: str, lexicon: Lexicon, kinds: dict[Figure, str]) -> list[narrative.Tie]:
    """narrative.scan as it was: every text translated, every phrase tried before every figure,
    starts listed per character."""
    narrow = text.translate(narrative._NARROW)
    sentences = slow_starts(narrow, narrative._SENTENCE_END)
    clauses = slow_starts(narrow, narrative._CLAUSE_END)
    phrases = sorted(((p, fig) for fig in lexicon.figures for p in fig.phrases), key=lambda pf: -len(pf[0]))
    longest = max((len(p) for p, _ in phrases), default=0)
    ties: list[narrative.Tie] = []
    previous: list[Figure | None] = []
    sentence_start = 0
    for m in SLOW_FIGURE.finditer(narrow):
        stated = narrative._stated(m)
        if sentences[m.start()] != sentence_start:
            sentence_start, previous = sentences[m.start()], []
        reach = max(clauses[m.start()], m.start() - narrative.SHARE_REACH - 2 * longest - lexicon.max_gap)
        tie = None
        if stated.kind == "percent":
            tie = narrative._share(narrow, reach, stated, lexicon, phrases, previous, sentence_start)
        if tie is None:
            named = narrative._phrase_before(narrow, reach, m.start(), lexicon, phrases)
            if named is not None and kinds[named[1]] == stated.kind:
                tie = narrative.Tie(stated, named[0], sentence_start, figure=named[1])
        if stated.kind == "money":
            previous.append(tie.figure if tie else None)
        if tie is not None:
            ties.append(tie)
    return ties


_WORDS = [p for p, _ in PHRASES] + [*LEXICON.share_words, *LEXICON.qualifiers, "的", "为", "共", "其中"]
_PIECES = st.one_of(
    st.sampled_from(_WORDS),
    st.sampled_from(list("。；;！？!?\n，,、：: ")),
    st.from_regex(r"-?[0-9０-９]{1,4}([.．][0-9]{1,2})?(万元|元|亿元|%|％|人|名|万)?", fullmatch=True),
    st.text(alphabet="上年度支出收入经费人员预算一二三", max_size=4),
)


@given(st.text(alphabet="。；;！？!?\n，,、：:abc 12", max_size=80))
def test_sentence_starts_by_bisection(text: str) -> None:
    for ends, pattern in (
        (narrative._SENTENCE_END, narrative._SENTENCE_END_RE),
        (narrative._CLAUSE_END, narrative._CLAUSE_END_RE),
    ):
        fast, slow = narrative._Starts(text, pattern), slow_starts(text, ends)
        assert [fast[i] for i in range(len(text))] == slow


@settings(max_examples=300)
@given(st.lists(_PIECES, max_size=40).map("".join))
def test_scan_matches_the_slow_scan(text: str) -> None:
    assert narrative.scan(text, LEXICON, KINDS) == slow_scan(text, LEXICON, KINDS)


def test_scan_on_the_sample_report() -> None:
    ret = reader.read_return(SEED)
    texts = [t for _, t in narrative.unit_texts(PLAN, ret, {f: c.value for f, c in ret.cells.items()})]
    assert texts
    for text in texts:
        assert narrative.scan(text, LEXICON, KINDS) == slow_scan(text, LEXICON, KINDS)


def test_phrases_per_plan() -> None:
    slow_kinds = {
        fig: narrative._KIND[PLAN.cells[next(expr.refs(fig.value))].type] for fig in LEXICON.figures
    }
    slow_phrases = sorted(
        ((p, fig) for fig in LEXICON.figures for p in fig.phrases), key=lambda pf: -len(pf[0])
    )
    assert (KINDS, PHRASES) == (slow_kinds, slow_phrases)


# ------------------------------------------------------------------ per-plan facts


def test_cached_cell_facts_are_the_computed_ones() -> None:
    for cell in PLAN.cells.values():
        assert cell.ref == a1(cell.row, cell.col)
        assert cell.name == "px_" + re.sub(r"[^0-9A-Za-z]", "_", cell.id)
        assert cell.where == f"{cell.sheet}!{a1(cell.row, cell.col)}"
        moved = dataclasses.replace(cell, row=cell.row + 3)  # a copy works its facts out afresh
        assert (moved.ref, moved.where) == (
            a1(cell.row + 3, cell.col),
            f"{cell.sheet}!{a1(cell.row + 3, cell.col)}",
        )


def test_rubric_items_by_id() -> None:
    rubric = EDITION.rubric
    items = tuple(i for s in rubric.sections for g in s.groups for i in g.items)
    assert rubric.items == items
    for item in items:
        assert rubric.item(item.id) is next(i for i in items if i.id == item.id)


def test_editions_listed_as_the_glob_listed_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    for name in ("a.yaml", ".yaml", ".hidden.yaml", "b.YAML", "c.yml", "d.yaml.bak", "e f.yaml"):
        (templates / name).write_text("")
    (templates / "g.yaml").mkdir()
    monkeypatch.setattr(spec_load, "data_dirs", lambda: (templates, tmp_path / "checks"))
    assert spec_load.available_editions() == sorted(p.stem for p in templates.glob("*.yaml"))
    monkeypatch.setattr(spec_load, "data_dirs", lambda: (tmp_path / "missing", tmp_path / "checks"))
    assert spec_load.available_editions() == []


def test_plan_level_selections() -> None:
    done = [
        c
        for c in PLAN.inputs()
        if re.fullmatch(r"perf\.[a-z]+(\.\d+)?\.done", c.id) and not c.id.startswith("perf.qual.")
    ]
    assert list(plausible._quantitative_done(PLAN)) == done and done
    for table, cells in tables._org_rows(PLAN):
        assert cells == [c for c in PLAN.inputs() if c.id.startswith(f"{table.id}.org.")]


# ------------------------------------------------------------------ reading


_SIMPLE_REF = re.compile(r"=?'?([^'!]+)'?!\$?([A-Z]{1,3})\$?([0-9]{1,7})")


def slow_names(wb: xlsxread.Workbook) -> dict[str, tuple[str, str]]:
    """reader._names as it was: every text matched afresh."""
    out = {}
    for name, text in wb.defined_names.items():
        if name.lower().startswith("px_"):
            m = _SIMPLE_REF.fullmatch(text)
            where = (m.group(1), m.group(2) + m.group(3)) if m and m.group(1) in wb.sheets else None
            where = where or xlsxread.resolve_name(wb, name)
            if where is not None:
                out[name.lower()] = where
    return out


_REF_TEXTS = st.one_of(
    st.from_regex(
        r"=?'?[收支情况评分表'A-Za-z !$]{0,40}'?!\$?[A-Z]{1,3}\$?[0-9]{1,7}(:\$?[A-Z]{1,3}\$?[0-9]{1,7})?",
        fullmatch=True,
    ),
    st.text(max_size=90),
)


@settings(max_examples=300)
@given(st.lists(st.tuples(st.sampled_from(["px_a", "PX_b", "px_c", "other"]), _REF_TEXTS), max_size=6))
def test_defined_names_parsed_once_as_before(names: list[tuple[str, str]]) -> None:
    sheets = {n: xlsxread.Sheet(n, "visible", {}, ()) for n in ("收支情况", "评分表", "A b", "It's")}
    wb = xlsxread.Workbook(sheets, dict(names), {})
    assert reader._names(wb) == slow_names(wb)
    long = "'收支情况'!$C$7" + " " * 60  # over the length remembered: parsed, not kept
    wb = xlsxread.Workbook(sheets, {"px_long": long, "px_short": "'收支情况'!$C$7"}, {})
    assert reader._names(wb) == slow_names(wb)


def test_names_of_the_sample() -> None:
    wb = xlsxread.read_xlsx(SEED)
    assert reader._names(wb) == slow_names(wb) and len(reader._names(wb)) > 300


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_TEXT = st.text(alphabet="ab 汉字_x000D_&<>", max_size=8).map(
    lambda t: t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
)
_SI = st.one_of(
    _TEXT.map(lambda t: f"<t>{t}</t>"),  # the usual: one <t>
    st.just("<t/>"),
    st.lists(_TEXT, min_size=1, max_size=3).map(lambda ts: "".join(f"<r><rPr/><t>{t}</t></r>" for t in ts)),
    st.tuples(_TEXT, _TEXT).map(lambda tt: f'<t>{tt[0]}</t><rPh sb="0" eb="1"><t>{tt[1]}</t></rPh>'),
    _TEXT.map(lambda t: f'<r xmlns="u"><t>{t}</t></r>'),  # a run in another namespace
    _TEXT.map(lambda t: f'<t xmlns="u">{t}</t>'),
)


@settings(max_examples=200)
@given(st.lists(_SI, max_size=6))
def test_plain_strings_read_as_rich_ones(sis: list[str]) -> None:
    xml = f'<?xml version="1.0"?><sst xmlns="{_MAIN}">' + "".join(f"<si>{x}</si>" for x in sis) + "</sst>"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("xl/sharedStrings.xml", xml)
    fast = xlsxread._Reader(xlsxread.Package(buf.getvalue()))._shared_strings("xl/sharedStrings.xml")
    root = etree.fromstring(xml.encode(), xmlsafe.safe_parser())
    slow = [xlsxread._rich_text(si, xlsxread._text_tags(si)) for si in root]  # the general path
    assert fast == slow


@settings(max_examples=200)
@given(st.binary(min_size=0, max_size=300), st.integers(min_value=1, max_value=64))
def test_events_pass_through_as_a_whole_parse_gives_them(noise: bytes, feed: int) -> None:
    doc = (
        b'<?xml version="1.0"?><r xmlns="u"><a n="1"/><b>' + noise.replace(b"<", b"") + b"</b><a n='2'/></r>"
    )
    slow: list[tuple[str, str | None]] | str
    try:
        parser = etree.XMLPullParser(events=("end",), tag=["{*}a", "{*}b"], **xmlsafe.PARSER_OPTIONS)
        parser.feed(doc)
        parser.close()
        slow = [(e, el.get("n")) for e, el in parser.read_events()]
    except etree.XMLSyntaxError:
        slow = "refused"
    old = xmlsafe.FEED
    xmlsafe.FEED = feed
    try:
        fast = [(e, el.get("n")) for e, el in xmlsafe.events([doc], "p", ["{*}a", "{*}b"])]
    except XlsxReadError:
        fast = "refused"
    finally:
        xmlsafe.FEED = old
    assert fast == slow


def test_a_dtd_is_refused_before_any_event() -> None:
    doc = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e "x">]><r><a/><a/></r>'
    seen = []
    with pytest.raises(XlsxReadError, match="DTD"):
        for event in xmlsafe.events([doc], "p", ["{*}a"]):
            seen.append(event)
    assert seen == []


def test_the_package_opened_once_reads_what_read_xlsx_reads(tmp_path: Path) -> None:
    data = SEED.read_bytes()
    limits = Limits()
    assert read_workbook(data, SEED, limits, Budget(limits)) == xlsxread.read_xlsx(data)
    small = Limits(max_total_size=100_000)  # refused the same way, at the same member
    with pytest.raises(LimitExceeded) as fast:
        read_workbook(data, SEED, small, Budget(small))
    with pytest.raises(LimitExceeded) as slow:
        xlsxread.read_xlsx(data, small)
    assert str(fast.value) == str(slow.value)


# ------------------------------------------------------------------ numbers and safety


def slow_parse_number(x: float, unit: str | None) -> Parsed:
    """parse_number's path for a number as it was: the number written out for the note up front."""
    try:
        value = to_decimal(x)
    except ValueError:
        return Parsed(None, error=f"“{x}”不是有效数字")
    if _out_of_range(value):
        return Parsed(None, error=f"“{x}”超出可读取的数值范围")
    return _percent_fraction(value, unit, _fmt(value), [])


@given(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(UNITS))
def test_a_number_is_written_out_only_when_its_note_needs_it(x: float, unit: str | None) -> None:
    assert parse_number(x, unit) == slow_parse_number(x, unit)
    assert parse_number(1.0, "%") == slow_parse_number(1.0, "%")


def test_safety_finds_what_it_found_with_the_input_places_always_gathered() -> None:
    ret = reader.read_return(SEED)
    some_input = next(c for fid, c in ret.cells.items() if PLAN.cells[fid].is_input)
    ret.dangerous = [
        (some_input.sheet, some_input.ref, "DDE|x!y", "DDE 调用（可启动其他程序）"),
        ("评分表", "Z99", 'WEBSERVICE("http://x")', "WEBSERVICE 函数：访问网络地址"),
        (None, "名称", "[1]Sheet1!A1", "引用了其他工作簿（外部链接）"),
    ]
    inputs = {(c.sheet, c.ref) for fid, c in ret.cells.items() if ret.plan.cells[fid].is_input}
    slow = [
        finding(
            "formula.dangerous",
            f"{f'{s}!{w}' if s else f'定义名称“{w}”'} 的公式 ={safety._cut(t)} "
            f"会访问工作簿以外的资源（{why}）；审核没有执行它，审核副本中已去掉该公式；请报送单位删除该公式后重新报送",
            sheet=s,
            cell=w if s else None,
            reported="=" + safety._cut(t),
        )
        for s, w, t, why in ret.dangerous
        if (s, w) not in inputs
    ]
    assert [f for f in safety.check_safety(ret) if f.rule == "formula.dangerous"] == slow
    ret.dangerous = []
    assert [f for f in safety.check_safety(ret) if f.rule == "formula.dangerous"] == []


def test_the_plan_is_built_once_per_edition_and_options() -> None:
    assert isinstance(reader._plan({"edition": "hunan-2020"}), Plan)
    assert reader._plan({"edition": "hunan-2020"}) is reader._plan({"edition": "hunan-2020"})


def test_read_xlsx_from_bytes_and_from_a_file_object() -> None:
    data = SEED.read_bytes()
    assert xlsxread.read_xlsx(io.BytesIO(data)) == xlsxread.read_xlsx(data) == xlsxread.read_xlsx(SEED)


@given(st.one_of(st.from_regex(r"\$?[A-Za-z]{1,4}\$?[0-9]{1,8}\n?", fullmatch=True), st.text(max_size=16)))
def test_a1_references_remembered_as_parsed(ref: str) -> None:
    def parsed(f: Callable[[str], tuple[int, int]]) -> tuple[int, int] | str:
        try:
            return f(ref)
        except ValueError:
            return "refused"

    assert parsed(parse_a1) == parsed(layout._parse_a1.__wrapped__)


def test_a_formula_as_we_wrote_it_is_one_we_wrote() -> None:
    raw, written = formula_cells._raw_texts(PLAN), formula_cells._expected_texts(PLAN)
    assert raw.keys() == written.keys() and raw
    for fid, text in raw.items():
        assert formula_cells._plain(text) == written[fid]  # equal text: the normalised check agrees
