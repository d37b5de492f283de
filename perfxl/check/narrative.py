"""The 评价报告's text against the tables: every figure it states next to a known phrase must agree.

A unit writes its report by hand, and that is where numbers go wrong: a total retyped from last
year, a share computed on the wrong base, 元 written for 万元, a staff count with the retired in it.
``scan`` finds, in a text, the figures that the rubric's lexicon ties to a table value — an amount
or a count right after a phrase that names it (“整体支出256.70万元”), or a share after a share word
(“占基本支出的40.1%”) — and ``check_narrative`` compares each with the table, within the form's
rounding. A figure no phrase ties to a table value (“信访事项92件”) is left alone.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from perfxl.check.inputs import Read
from perfxl.check.reader import Return
from perfxl.check.text import fmt, number_of
from perfxl.engine.catalogue import finding
from perfxl.engine.compute import Computation, Scalar, input_dependencies
from perfxl.engine.findings import Finding
from perfxl.engine.layout import Plan
from perfxl.spec import expr
from perfxl.spec.kinds.common import quantize, shown
from perfxl.spec.narrative import Figure, Lexicon, draft_id, text_ids

# Full-width forms a Chinese IME types, one character for one (positions stay those of the text).
_NARROW = str.maketrans(
    {**{chr(0xFF10 + i): str(i) for i in range(10)}, "．": ".", "％": "%", "－": "-", "−": "-"}
)
# A number and its unit: 256.70万元, 2,567,000元, -0.38万元, 40.1%, 10人 (not 589人次), 6名.
# (The leading look-ahead says what the pattern implies, a figure starts at "-" or a digit: the
# regex engine then passes over other characters without trying the rest at each of them.)
_FIGURE = re.compile(
    r"(?=[-\d])(?<![\d.])(-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)\s*(亿元|万元|万|元|%|人(?!次)|名)"
)
_DIGIT = re.compile(r"\d")
_SENTENCE_END = "。；;！？!?\n"
_CLAUSE_END = _SENTENCE_END + "，,、：:"
_WIDE_RE = re.compile("[" + "".join(re.escape(chr(c)) for c in _NARROW) + "]")
_SENTENCE_END_RE, _CLAUSE_END_RE = (re.compile(f"[{re.escape(e)}]") for e in (_SENTENCE_END, _CLAUSE_END))
QUALIFIER_REACH = 4  # characters before a phrase in which a qualifier (上年, 二级机构 …) counts
SHARE_REACH = 12  # characters before a share's base in which its share word (占, 完成) must be
QUOTE_LIMIT = 80  # characters of the sentence quoted in a message

# Each unit a figure may be stated in: (kind, factor to the table's unit, decimal shift).
_UNITS = {
    "亿元": ("money", Decimal(10000), -4),
    "万元": ("money", Decimal(1), 0),
    "万": ("money", Decimal(1), 0),
    "元": ("money", Decimal("0.0001"), 4),
    "%": ("percent", Decimal(1), 0),
    "人": ("count", Decimal(1), 0),
    "名": ("count", Decimal(1), 0),
}
# Which kind of number a field of each type is, and how a message writes its unit.
_KIND = {"amount": "money", "integer": "count", "percent": "percent"}
_UNIT_TEXT = {"money": " 万元", "count": " 人", "percent": "%"}
_PLACES = {"money": 2, "count": 0}


@dataclass(frozen=True)
class Stated:
    """A number as the text states it, converted to the table's unit."""

    value: Decimal
    decimals: int  # decimals it is stated to, in the table's unit
    kind: str  # money | count | percent
    unit: str  # as written: 万元, 元, %, 人 …
    start: int  # where the number starts in the text
    end: int  # where its unit ends


@dataclass(frozen=True)
class Tie:
    """A stated figure and what it names: a table value (``figure``) or a share (``subject`` of ``base``)."""

    stated: Stated
    start: int  # where the quoted snippet starts (the phrase, or the share word)
    sentence: int  # where its sentence starts
    figure: Figure | None = None
    subject: Figure | None = None
    base: Figure | None = None


# ------------------------------------------------------------------ finding figures in a text


def scan(text: str, lexicon: Lexicon, kinds: dict[Figure, str]) -> list[Tie]:
    """Every figure of ``text`` a phrase of the lexicon names; ``kinds`` gives each figure's kind.

    Each figure is looked at in a window of a few dozen characters before it, so a long text (an
    Excel cell holds 32 767) costs time in proportion to its length, whatever it contains.
    """
    return _scan(text, lexicon, kinds, _phrases(lexicon))


def _phrases(lexicon: Lexicon) -> list[tuple[str, Figure]]:
    """Every (phrase, figure) of the lexicon, longest phrase first."""
    return sorted(((p, fig) for fig in lexicon.figures for p in fig.phrases), key=lambda pf: -len(pf[0]))


def _scan(
    text: str, lexicon: Lexicon, kinds: dict[Figure, str], phrases: list[tuple[str, Figure]]
) -> list[Tie]:
    narrow = text.translate(_NARROW) if _WIDE_RE.search(text) else text  # translate() is slow
    sentences, clauses = _Starts(narrow, _SENTENCE_END_RE), _Starts(narrow, _CLAUSE_END_RE)
    longest = len(phrases[0][0]) if phrases else 0  # they come longest first
    # A phrase the text does not contain names nothing in it: the windows below look for the rest.
    phrases = [(p, fig) for p, fig in phrases if p in narrow]
    ties: list[Tie] = []
    previous: list[Figure | None] = []  # what each money figure of the sentence so far names
    sentence_start = 0
    for m in _FIGURE.finditer(narrow):
        stated = _stated(m)
        if sentences[m.start()] != sentence_start:
            sentence_start, previous = sentences[m.start()], []
        # Nothing further back than a share word, a phrase and the gap can matter.
        reach = max(clauses[m.start()], m.start() - SHARE_REACH - 2 * longest - lexicon.max_gap)
        tie = None
        if stated.kind == "percent":
            tie = _share(narrow, reach, stated, lexicon, phrases, previous, sentence_start)
        if tie is None:
            named = _phrase_before(narrow, reach, m.start(), lexicon, phrases)
            if named is not None and kinds[named[1]] == stated.kind:
                tie = Tie(stated, named[0], sentence_start, figure=named[1])
        if stated.kind == "money":
            previous.append(tie.figure if tie else None)
        if tie is not None:
            ties.append(tie)
    return ties


class _Starts:
    """``starts[i]``: where the sentence (or clause) holding position ``i`` of a text starts, i.e.
    just after the last of ``ends`` before ``i`` (0 if none). The ends are found once, by the
    regular-expression engine, and looked up by bisection: a text costs one pass, not one
    Python step per character."""

    def __init__(self, text: str, ends: re.Pattern[str]) -> None:
        self.ends = [m.start() for m in ends.finditer(text)]

    def __getitem__(self, i: int) -> int:
        k = bisect_left(self.ends, i)
        return self.ends[k - 1] + 1 if k else 0


def _stated(m: re.Match[str]) -> Stated:
    number, unit = m.group(1).replace(",", ""), m.group(2)
    kind, factor, shift = _UNITS[unit]
    decimals = len(number.partition(".")[2])
    return Stated(Decimal(number) * factor, max(0, decimals + shift), kind, unit, m.start(), m.end())


def _phrase_before(
    text: str, reach: int, pos: int, lexicon: Lexicon, phrases: list[tuple[str, Figure]]
) -> tuple[int, Figure] | None:
    """(start, figure) of the phrase that names the number at ``pos``: the nearest one ending at most
    ``max_gap`` characters (no digits) before it, in the same clause, and not qualified (上年…)."""
    best: tuple[int, int, Figure] | None = None  # (end, start, figure)
    for phrase, fig in phrases:  # longest first: of two ending at one place the longer stays
        at = text.rfind(phrase, max(reach, pos - lexicon.max_gap - len(phrase)), pos)
        if at == -1:
            continue
        end = at + len(phrase)
        if not _DIGIT.search(text, end, pos) and (best is None or end > best[0]):
            best = (end, at, fig)
    if best is None:
        return None
    end, start, fig = best
    # A phrase right after another names what the first one does (三公经费支出合计: 三公经费).
    outer = _ending_at(text, reach, start, phrases)
    while outer is not None:
        start, fig = outer
        outer = _ending_at(text, reach, start, phrases)
    before = text[max(reach, start - QUALIFIER_REACH) : start]
    if any(q in before or q in text[end:pos] for q in lexicon.qualifiers):
        return None
    return start, fig


def _ending_at(
    text: str, reach: int, end: int, phrases: list[tuple[str, Figure]]
) -> tuple[int, Figure] | None:
    for phrase, fig in phrases:
        start = end - len(phrase)
        if start >= reach and text.startswith(phrase, start):
            return start, fig
    return None


def _share(
    text: str,
    reach: int,
    stated: Stated,
    lexicon: Lexicon,
    phrases: list[tuple[str, Figure]],
    previous: list[Figure | None],
    sentence: int,
) -> Tie | None:
    """“占基本支出的40.1%”, “完成财政下达控制数的98.56%”: the share of the sentence's last money
    figure (other than the base itself) in the base the phrase names."""
    lead = text[reach : stated.start].rstrip()
    if not lead.endswith("的"):
        return None
    named = _ending_at(text, reach, reach + len(lead) - 1, phrases)
    if named is None:
        return None
    base_start, base = named
    near = max(reach, base_start - SHARE_REACH)
    word = max((text.rfind(w, near, base_start) for w in lexicon.share_words), default=-1)
    if word == -1:
        return None
    for fig in reversed(previous):
        if fig is not base:
            return None if fig is None else Tie(stated, word, sentence, subject=fig, base=base)
    return None


# ------------------------------------------------------------------ comparing with the tables


def check_narrative(
    plan: Plan, ret: Return, inputs: dict[str, Scalar], calc: Computation, read: Read
) -> Iterator[Finding]:
    """A 警告 for every stated figure of the report that disagrees with the tables."""
    spec, lexicon = plan.edition.form.narrative, plan.edition.rubric.lexicon
    if spec is None or lexicon is None:
        return
    if spec.name not in ret.sheet_names:
        yield finding("narrative.missing", sheet=spec.name)
        return
    deps = input_dependencies(plan)
    kinds, phrases = _prepared(plan)

    def value(fig: Figure) -> Decimal | None:
        refs = list(expr.refs(fig.value))
        if any(deps[r] & read.unknown for r in refs):
            return None  # built on an unreadable input: that input's own finding says so
        numbers = {r: number_of(plan, inputs, calc, r) for r in refs}
        if any(v is None for v in numbers.values()):
            return None  # a blank input: the table states nothing to compare with
        return expr.evaluate(fig.value, lambda r: numbers[r] or Decimal(0))

    for fid, text in unit_texts(plan, ret, inputs):
        found = ret.cells[fid]
        for tie in _scan(text, lexicon, kinds, phrases):
            disagrees = _compare(plan, tie, text, value, kinds, lexicon)
            if disagrees is not None:
                message, expected = disagrees
                yield finding(
                    "narrative.share" if tie.base else "narrative.figure",
                    f"{found.sheet}!{found.ref} {message}",
                    sheet=found.sheet,
                    cell=found.ref,
                    reported=tie.stated.value,
                    expected=expected,
                    difference=tie.stated.value - expected,
                )


@lru_cache(maxsize=64)
def _prepared(plan: Plan) -> tuple[dict[Figure, str], list[tuple[str, Figure]]]:
    """The lexicon's figures' kinds and its phrases, longest first: the same for every return."""
    lexicon = plan.edition.rubric.lexicon
    assert lexicon is not None
    kinds = {fig: _KIND[plan.cells[next(expr.refs(fig.value))].type] for fig in lexicon.figures}
    return kinds, _phrases(lexicon)


def unit_texts(plan: Plan, ret: Return, inputs: dict[str, Scalar]) -> list[tuple[str, str]]:
    """(field id, text) of what the unit wrote in the report: its text cells, and a draft cell it
    typed over (a constant where the formula was)."""
    spec = plan.edition.form.narrative
    out: list[tuple[str, str]] = []
    if spec is None:
        return out
    for part in spec.parts:
        for fid in text_ids(part):
            text = inputs.get(fid)
            if isinstance(text, str) and text.strip() and fid in ret.cells:
                out.append((fid, text))
        found = ret.cells.get(draft_id(part))
        if (
            found is not None
            and found.formula is None
            and isinstance(found.value, str)
            and found.value.strip()
        ):
            out.append((draft_id(part), found.value))
    return out


def own_texts(plan: Plan, ret: Return, inputs: dict[str, Scalar]) -> dict[str, str]:
    """Section (part id) -> what the unit wrote in it, its rows one after another."""
    out: dict[str, list[str]] = {}
    for fid, text in unit_texts(plan, ret, inputs):
        out.setdefault(fid.split(".")[1], []).append(text.strip())
    return {part: "\n".join(texts) for part, texts in out.items()}


def _compare(
    plan: Plan,
    tie: Tie,
    text: str,
    value: Callable[[Figure], Decimal | None],
    kinds: dict[Figure, str],
    lexicon: Lexicon,
) -> tuple[str, Decimal] | None:
    """(message without the place, the table's number) if the stated figure disagrees, else None."""
    stated = tie.stated
    places = plan.edition.rubric.rate_decimals
    if tie.figure is not None:
        kind = kinds[tie.figure]
        table = value(tie.figure)
        if table is None or _agrees(stated, table, _PLACES.get(kind, places)):
            return None
        hint = _unit_hint(stated, table, _PLACES.get(kind, places))
        shown_table = f"{_place(plan, tie.figure)} {_number(table, kind)}{_UNIT_TEXT[kind]}"
        return (
            f"{_snippet(text, tie)}与 {shown_table}不一致{hint}（原句：{_quote(text, tie.sentence)}）",
            table,
        )
    assert tie.subject is not None and tie.base is not None
    part, whole = value(tie.subject), value(tie.base)
    if part is None or whole is None or whole == 0:
        return None
    share = part * 100 / whole
    if _agrees(stated, share, places, shown(share, places)):
        return None
    hint = ""
    for other in lexicon.figures:
        alt = value(other) if other not in (tie.base, tie.subject) and kinds[other] == "money" else None
        if alt and _agrees(stated, part * 100 / alt, places, shown(part * 100 / alt, places)):
            hint = f"；{_number(stated.value, 'percent')}% 是占{_name(plan, other)}的比例，基数是否写错了？"
            break
    basis = (
        f"按 {_place(plan, tie.subject)} {_number(part, 'money')} 万元 ÷ {_place(plan, tie.base)} "
        f"{_number(whole, 'money')} 万元计算的 {_number(shown(share, places), 'percent')}% "
    )
    return f"{_snippet(text, tie)}与{basis}不一致{hint}（原句：{_quote(text, tie.sentence)}）", shown(
        share, places
    )


def _snippet(text: str, tie: Tie) -> str:
    """What the report says, from its phrase (or share word) to the figure's unit, in quotes."""
    return f"“{text[tie.start : tie.stated.end]}”"


def _number(value: Decimal, kind: str) -> str:
    """A table value as the report would write it: 256.70 (万元), 113 (人), 40.1 (%)."""
    if kind == "money":
        return f"{quantize(value, 2):.2f}"
    return fmt(value)


def _agrees(stated: Stated, table: Decimal, places: int, rounded: Decimal | None = None) -> bool:
    """Equal at the precision stated (at most the form's): 40.1% for 40.097%, 257万元 for 256.70.

    ``rounded``: the table value as the form shows it; a figure rounded from that also agrees.
    """
    d = min(stated.decimals, places)
    said = quantize(stated.value, d)
    return any(quantize(v, d) == said for v in (table, rounded) if v is not None)


def _unit_hint(stated: Stated, table: Decimal, places: int) -> str:
    """Why a money figure may be off by exactly 10 000: 元 and 万元 mixed up, in the report or the table."""
    if stated.kind != "money":
        return ""
    if _agrees(_scaled(stated, Decimal(10000), -4), table, places):
        if stated.unit == "元":
            return "；数字与报表一致，单位应为“万元”？"
        return "；报表中的数是报告的一万倍，报表是否按元填写？"
    if _agrees(_scaled(stated, Decimal("0.0001"), 4), table, places):
        return "；报告中的数是报表的一万倍，是否把以元计的数写成了万元？"
    return ""


def _scaled(s: Stated, factor: Decimal, shift: int) -> Stated:
    return Stated(s.value * factor, max(0, s.decimals + shift), s.kind, s.unit, s.start, s.end)


def _place(plan: Plan, fig: Figure) -> str:
    """Where a table value sits and what it is called: 收支情况!B15 支出合计."""
    first = plan.cells[next(expr.refs(fig.value))]
    return f"{first.where} {_name(plan, fig)}"


def _name(plan: Plan, fig: Figure) -> str:
    return fig.label or plan.cells[next(expr.refs(fig.value))].label


def _quote(text: str, start: int) -> str:
    """The sentence starting at ``start``, in quotes, cut at QUOTE_LIMIT characters."""
    window = text[start : start + QUOTE_LIMIT + 1]
    ends = [i for i in (window.find(ch) for ch in _SENTENCE_END) if i != -1]
    sentence = window[: min(ends) + 1] if ends else window
    sentence = sentence.strip()
    return f"“{sentence if len(sentence) <= QUOTE_LIMIT else sentence[:QUOTE_LIMIT] + '…'}”"
