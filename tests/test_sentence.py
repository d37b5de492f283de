"""The draft-sentence language: parsing, its Python rendering, its Excel rendering, and the edition data.

The two renderings are proven equal by LibreOffice in tests/test_draft_agreement.py; here each is
pinned down on its own, case by case, and every mistake in the data is an error naming file and key.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from perfxl.engine.compute import compute
from perfxl.engine.formulas import EXCEL_FORMULA_LIMIT, formula
from perfxl.engine.layout import build_plan
from perfxl.engine.sentences import Formats, render
from perfxl.engine.sentences import formula as sentence_formula
from perfxl.spec import SpecError, load_edition, read_edition
from perfxl.spec.sentence import Sentence, SentenceError, Slot, code_decimals, parse

D = Decimal
ROOT = Path(__file__).resolve().parents[1]
FORM = ROOT / "templates" / "hunan-2020.yaml"
RUBRIC = ROOT / "checks" / "hunan-2020.yaml"
FMT = Formats(amount="0.00;-0.00;0", count="0", rate_places=2, score_places=2)


def _python(text: str, values: dict[str, object], fmt: Formats = FMT, when: tuple[str, ...] = ()) -> str:
    """Render one sentence whose slots without a format are amounts; blank fields read as 0."""
    s = parse(text, when)
    parts = tuple(p if isinstance(p, str) or p.format else Slot(p.expr, "amount") for p in s.parts)

    def value(f: str) -> Decimal:
        v = values.get(f)
        return v if isinstance(v, Decimal) else D(0)

    return render((Sentence(parts, s.when),), value, values.get, lambda f: values.get(f) is not None, fmt)


# ------------------------------------------------------------------ parsing


def test_parse_splits_literals_and_slots() -> None:
    s = parse("整体支出{expense.total.total}万元，占{a / b|share}")
    assert [type(p).__name__ for p in s.parts] == ["str", "Slot", "str", "Slot"]
    assert s.parts[0] == "整体支出" and s.parts[2] == "万元，占"
    assert isinstance(s.parts[3], Slot) and s.parts[3].format == "share"


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("多余的}括号", "多余的“}”"),
        ("没有闭合{a", "没有对应的“}”"),
        ("嵌套{a{b}}", "没有对应的“}”"),
        ("{a + b}", "须用 | 写明写法"),
        ("{a|money}", "写法“money”未知"),
        ("{a * b|share}", "share 须为“甲 / 乙”"),
        ("{a + b|text}", "text 只能用于单个字段"),
        ("{a +}", "不完整"),
    ],
)
def test_parse_errors_quote_the_sentence(text: str, complaint: str) -> None:
    with pytest.raises(SentenceError, match=complaint) as e:
        parse(text)
    assert text in str(e.value)


@pytest.mark.parametrize("code", ["0", "0.00", "#,##0.00", "0.00;-0.00;0", "#,##0;-#,##0", "0.0;0.0;0"])
def test_admitted_number_codes(code: str) -> None:
    code_decimals(code)


@pytest.mark.parametrize("code", ["0.00%", "General", "0.00;-0.0", "yyyy", "0;0;0;0", '0.00"万元"', ""])
def test_refused_number_codes(code: str) -> None:
    with pytest.raises(SentenceError):
        code_decimals(code)


# ------------------------------------------------------------------ Python rendering


@pytest.mark.parametrize(
    ("text", "values", "shown"),
    [
        ("{a}", {"a": D("256.7")}, "256.70"),
        ("{a}", {"a": D(0)}, "0"),  # the seed writes 项目支出0万元
        ("{a}", {}, "0"),  # blank reads as 0, as Excel does
        ("{a}", {"a": D("-0.38")}, "-0.38"),
        ("{a}", {"a": D("-0.001")}, "0"),  # rounds to zero: no "-0.00"
        ("{a}", {"a": D("2.675")}, "2.68"),  # half away from zero, as ROUND
        ("{a}", {"a": D("1234567.891")}, "1234567.89"),
        ("{a / b|share}", {"a": D("102.93"), "b": D("256.70")}, "40.1%"),
        ("{a / b|share}", {"a": D("256.70"), "b": D("256.70")}, "100%"),
        ("{a / b|share}", {"a": D("4.79"), "b": D("4.86")}, "98.56%"),
        ("{a / b|share}", {"a": D("12.32"), "b": D("256.70")}, "4.8%"),
        ("{a / b|share}", {"a": D("1"), "b": D("0")}, "—"),
        ("{a / b|share}", {"a": D("-1"), "b": D("8")}, "-12.5%"),
        ("{a / b|share}", {"a": D("0"), "b": D("8")}, "0%"),
        ("{a|percent}", {"a": D("95")}, "95%"),
        ("{a|percent}", {"a": D("95.50")}, "95.5%"),
        ("{a|score}", {"a": D("97.5")}, "97.5"),
        ("{a|count}", {"a": D("10")}, "10"),
        ("{a + b|amount}", {"a": D("1.005"), "b": D("0")}, "1.01"),
        ("{t|text}", {"t": "文字\n第二行"}, "文字\n第二行"),
        ("{t|text}", {}, ""),
    ],
)
def test_python_rendering(text: str, values: dict[str, object], shown: str) -> None:
    assert _python(text, values) == shown


def test_thousands_code_and_its_zero_section() -> None:
    fmt = Formats("#,##0.00;-#,##0.00;0", "#,##0", 1, 2)
    assert _python("{a}", {"a": D("1234567.891")}, fmt) == "1,234,567.89"
    assert _python("{a}", {"a": D("-1234.5")}, fmt) == "-1,234.50"
    assert _python("{a}", {"a": D(0)}, fmt) == "0"
    assert _python("{a|count}", {"a": D("12345")}, fmt) == "12,345"
    assert _python("{a / b|share}", {"a": D(1), "b": D(3)}, fmt) == "33.3%"  # the rubric's decimals


def test_when_leaves_the_sentence_out_until_its_fields_are_filled() -> None:
    assert _python("编制{q|count}人。", {"q": D(10)}, when=("q",)) == "编制10人。"
    assert _python("编制{q|count}人。", {}, when=("q",)) == ""
    assert _python("编制{q|count}人。", {}) == "编制0人。"


# ------------------------------------------------------------------ Excel rendering


def _excel(text: str, fmt: Formats = FMT) -> str:
    s = parse(text)
    parts = tuple(p if isinstance(p, str) or p.format else Slot(p.expr, "amount") for p in s.parts)
    return sentence_formula((Sentence(parts, s.when),), lambda f: f"X!{f}", lambda f: f"ISNUMBER(X!{f})", fmt)


def test_excel_rendering_of_each_format() -> None:
    assert _excel("{a}万元") == 'TEXT(ROUND(ROUND(X!a,9),2),"0.00;-0.00;0")&"万元"'
    share = _excel("{a / b|share}")
    assert share.startswith('IF(ROUND(X!b,9)=0,"—",IF(')
    assert 'TEXT(ROUND(ROUND((X!a)*100/(X!b),9),2),"0")' in share and share.endswith('&"%")')
    assert _excel("{t|text}") == 'X!t&""'
    assert _excel("") == '""'


def test_excel_literals_are_escaped_split_and_broken_into_lines() -> None:
    text = _excel('他说"好"\n' + "长" * 300)
    assert text.startswith('"他说""好"""&CHAR(10)&"')
    assert max(len(p) for p in text.split("&")) <= 257  # 255 characters and the two quotes
    assert text.count("长") == 300


def test_when_becomes_an_if_around_the_sentence() -> None:
    s = parse("编制{q|count}人", when=("q", "r"))
    text = sentence_formula((s,), lambda f: f, lambda f: f"ISNUMBER({f})", FMT)
    assert text == 'IF(AND(ISNUMBER(q),ISNUMBER(r)),"编制"&TEXT(ROUND(ROUND(q,9),0),"0")&"人","")'


# ------------------------------------------------------------------ the edition's drafts


def test_seed_drafts_say_what_the_seed_report_says() -> None:
    """The issue's own example sentences, word for word (我单位 for the seed's 我局)."""
    from perfxl.form.prefill import coerce, load_prefill

    plan = build_plan(load_edition())
    pre = load_prefill(ROOT / "sample_workbooks" / "君山区信访局_2020.yaml")
    calc = compute(plan, {k: coerce(plan, k, v) for k, v in pre.values.items()})
    assert calc.values["draft.scale"] == (
        "2020年我单位整体支出256.70万元，其中基本支出256.70万元，占总支出的100%，基本支出中人员支出为"
        "115.25万元，公用支出141.45万元；项目支出0万元，年末结转和结余3.29万元。"
    )
    basic = str(calc.values["draft.basic"])
    assert "工资福利支出102.93万元，占基本支出的40.1%；商品和服务支出110.55万元，占基本支出的43.07%" in basic
    assert "三公经费支出4.79万元，财政下达控制数为4.86万元，完成财政下达控制数的98.56%" in basic
    assert "人员编制10人，实有人数为10人。" in str(calc.values["draft.overview"])
    assert str(calc.values["draft.problems"]) == (
        "（预算调整率）2020年决算与年初预算存在一定差异。（资产管理安全性）固定资产管理有待进一步完善。"
    )


def test_every_draft_formula_fits_excel() -> None:
    for options in (None, {"qualitative": 50}):
        plan = build_plan(load_edition(), options)
        for cell in plan.formulas():
            if cell.id.startswith("draft."):
                assert len(formula(plan, cell)) < EXCEL_FORMULA_LIMIT, cell.id


def _edition_with(tmp_path: Path, change_form=None, change_rubric=None):  # type: ignore[no-untyped-def]
    form, rubric = yaml.safe_load(FORM.read_text("utf-8")), yaml.safe_load(RUBRIC.read_text("utf-8"))
    if change_form:
        change_form(form)
    if change_rubric:
        change_rubric(rubric)
    (tmp_path / "f.yaml").write_text(yaml.safe_dump(form, allow_unicode=True), "utf-8")
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(rubric, allow_unicode=True), "utf-8")
    return read_edition(tmp_path / "f.yaml", tmp_path / "r.yaml")


def _part(form: dict, part_id: str) -> dict:
    return next(p for c in form["narrative"]["chapters"] for p in c["parts"] if p["id"] == part_id)


@pytest.mark.parametrize(
    ("change", "where", "complaint"),
    [
        (lambda f: f["narrative"].update(colour="red"), "narrative.colour", "未知的键"),
        (lambda f: f["narrative"]["formats"].update(amount="0.00%"), "narrative.formats.amount", "不受支持"),
        (lambda f: f["narrative"]["labels"].pop("draft"), "narrative.labels.draft", "缺少此项"),
        (lambda f: _part(f, "scale").update(paragraph=2), "parts.1.paragraph", "未知的键"),
        (lambda f: _part(f, "scale").update(paragraphs=0), "parts.1.paragraphs", "1～20"),
        (lambda f: _part(f, "scale").update(id="overview"), "parts.1.id", "重复"),
        (lambda f: _part(f, "scale").update(id="整体"), "parts.1.id", "英文字母"),
        (lambda f: _part(f, "scale")["draft"].append({"text": "{a|money}"}), "draft.1.text", "money"),
        (lambda f: _part(f, "scale")["draft"].append({"text": "x", "each": "rows"}), "draft.1.each", "rows"),
        (lambda f: _part(f, "scale")["draft"].append({"txt": "x"}), "draft.1.txt", "未知的键"),
        (lambda f: f["narrative"].update(tables=["income", "cash"]), "narrative.tables", "cash"),
    ],
)
def test_form_mistakes_name_file_and_key(tmp_path: Path, change, where: str, complaint: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SpecError) as e:
        _edition_with(tmp_path, change_form=change)
    assert "f.yaml" in str(e.value) and where in str(e.value) and complaint in str(e.value)


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda f: _part(f, "scale")["draft"].append({"text": "{expense.total.nothing}"}), "nothing"),
        (lambda f: _part(f, "scale")["draft"].append({"text": "{unit.duties|amount}"}), "与字段类型不符"),
        (lambda f: _part(f, "scale")["draft"].append({"text": "{unit.year|text}"}), "与字段类型不符"),
        (lambda f: _part(f, "scale")["draft"].append({"text": "x", "when": ["total.self"]}), "不是填写项"),
    ],
)
def test_draft_references_are_checked_when_placed(tmp_path: Path, change, complaint: str) -> None:  # type: ignore[no-untyped-def]
    edition = _edition_with(tmp_path, change_form=change)
    with pytest.raises(SpecError, match=complaint) as e:
        build_plan(edition)
    assert "f.yaml" in str(e.value) and "scale" in str(e.value)


def test_an_overlong_draft_is_refused(tmp_path: Path) -> None:
    many = "".join(f"{{basis.econ_wages / expense.total.basic|share}}{n}" for n in range(30))
    edition = _edition_with(tmp_path, change_form=lambda f: _part(f, "scale")["draft"].append({"text": many}))
    plan = build_plan(edition)
    with pytest.raises(SpecError, match="超过 Excel 的上限"):
        formula(plan, plan.cells["draft.scale"])


@pytest.mark.parametrize(
    ("change", "where", "complaint"),
    [
        (lambda r: r["narrative"].update(gap=2), "narrative.gap", "未知的键"),
        (
            lambda r: r["narrative"]["figures"].append({"phrases": ["基本支出"], "field": "a.b"}),
            "phrases",
            "已出现",
        ),
        (lambda r: r["narrative"]["figures"].append({"phrases": ["某"], "field": "x.y"}), "field", "不存在"),
        (
            lambda r: r["narrative"]["figures"].append({"phrases": ["某"], "field": "unit.name"}),
            "field",
            "同一类",
        ),
        (
            lambda r: r["narrative"]["figures"].append(
                {"phrases": ["某"], "field": "unit.staff_quota + expense.total.total", "label": "某"}
            ),
            "field",
            "同一类",
        ),
        (
            lambda r: r["narrative"]["figures"].append({"phrases": ["某"], "field": "a + b"}),
            "label",
            "须写 label",
        ),
        (lambda r: r["narrative"].update(max_gap=99), "max_gap", "0～10"),
    ],
)
def test_lexicon_mistakes_name_file_and_key(tmp_path: Path, change, where: str, complaint: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SpecError) as e:
        _edition_with(tmp_path, change_rubric=change)
    assert "r.yaml" in str(e.value) and where in str(e.value) and complaint in str(e.value)


def test_an_edition_without_a_report_has_no_report_sheet() -> None:
    mini = ROOT / "tests" / "data" / "mini-2099"
    ed = load_edition("mini-2099", mini / "templates" / "mini-2099.yaml", mini / "checks" / "mini-2099.yaml")
    assert ed.form.narrative is None and ed.rubric.lexicon is None
    plan = build_plan(ed)
    assert "narrative" not in [s.key for s in plan.sheets]
    assert not [c for c in plan.cells if c.startswith(("draft.", "report."))]
