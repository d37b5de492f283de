"""The 绩效评价报告 as data: its sections and draft sentences (form), and the phrase lexicon (rubric).

The form's ``narrative`` says which sections the 评价报告 sheet has and how each section's draft
is written from the tables; the rubric's ``narrative`` says which phrase of a unit's own text
names which table value, so the checker can compare the figures it states. Both are loaded here
with every key checked: a misspelt key is an error naming the file and key, never ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from perfxl.spec import expr, sentence
from perfxl.spec.ctx import Ctx, as_list, keys

EACH = ("qualitative", "items")  # what a sentence may be repeated over (see Draft.each)


# ---------------------------------------------------------------- form: sections and drafts


@dataclass(frozen=True)
class Draft:
    """One sentence of a section's draft, as written in the data file.

    ``each``: repeat the sentence for every 定性目标 row (``qualitative``: ``<n>`` is its number)
    or every rubric item (``items``: ``<item>`` its id, ``<name>`` its name), in order.
    """

    text: str
    when: tuple[str, ...] = ()
    each: str | None = None


@dataclass(frozen=True)
class Part:
    """A section (or sub-section) of the report: a draft row and ``paragraphs`` input rows."""

    id: str
    heading: str | None
    paragraphs: int
    draft: tuple[Draft, ...]


@dataclass(frozen=True)
class Chapter:
    heading: str | None  # 一、部门(单位)概况; None for the opening paragraph
    parts: tuple[Part, ...]


@dataclass(frozen=True)
class Narrative:
    name: str  # the sheet
    title: str
    note: str
    draft_label: str
    text_label: str
    more_label: str  # beside the second and further input rows of a section
    amount_format: str  # number format codes of the drafts (see spec.sentence)
    count_format: str
    chapters: tuple[Chapter, ...]
    tables: tuple[str, ...] = ()  # the finance tables the Word report appends (ids)

    @property
    def parts(self) -> tuple[Part, ...]:
        return tuple(p for c in self.chapters for p in c.parts)


def text_ids(part: Part) -> tuple[str, ...]:
    """The field ids of a section's input rows: ``report.<id>``, or ``report.<id>.<n>`` for several."""
    if part.paragraphs == 1:
        return (f"report.{part.id}",)
    return tuple(f"report.{part.id}.{n}" for n in range(1, part.paragraphs + 1))


def draft_id(part: Part) -> str:
    return f"draft.{part.id}"


def load_narrative(ctx: Ctx, raw: Any) -> Narrative:
    raw = keys(ctx, raw, ("name", "title", "labels", "formats", "chapters"), ("note", "tables"))
    labels = keys(ctx.at("labels"), raw["labels"], ("draft", "text"), ("more",))
    formats = keys(ctx.at("formats"), raw["formats"], ("amount", "count"))
    for key in ("amount", "count"):
        try:
            sentence.code_decimals(str(formats[key]))
        except sentence.SentenceError as e:
            raise ctx.at(f"formats.{key}").fail(str(e)) from None
    chapters, seen = [], set()
    for c, craw in enumerate(as_list(ctx.at("chapters"), raw["chapters"])):
        cctx = ctx.at(f"chapters.{c}")
        craw = keys(cctx, craw, ("parts",), ("heading",))
        parts = []
        for p, praw in enumerate(as_list(cctx.at("parts"), craw["parts"])):
            part = _part(cctx.at(f"parts.{p}"), praw)
            if part.id in seen:
                raise cctx.at(f"parts.{p}.id").fail(f"段落 id “{part.id}” 重复")
            seen.add(part.id)
            parts.append(part)
        chapters.append(Chapter(_text_or_none(craw.get("heading")), tuple(parts)))
    return Narrative(
        name=str(raw["name"]),
        title=str(raw["title"]),
        note=str(raw.get("note") or ""),
        draft_label=str(labels["draft"]),
        text_label=str(labels["text"]),
        more_label=str(labels.get("more") or "（续）"),
        amount_format=str(formats["amount"]),
        count_format=str(formats["count"]),
        chapters=tuple(chapters),
        tables=tuple(str(t) for t in as_list(ctx.at("tables"), raw.get("tables", []))),
    )


def _part(ctx: Ctx, raw: Any) -> Part:
    raw = keys(ctx, raw, ("id", "draft"), ("heading", "paragraphs"))
    pid = str(raw["id"])
    if not pid.replace("_", "").isalnum() or not pid.isascii():
        raise ctx.at("id").fail(f"段落 id “{pid}” 只能由英文字母、数字和下划线组成")
    paragraphs = raw.get("paragraphs", 1)
    if isinstance(paragraphs, bool) or not isinstance(paragraphs, int) or not 1 <= paragraphs <= 20:
        raise ctx.at("paragraphs").fail(f"应为 1～20 的整数，实际为 {paragraphs!r}")
    drafts = tuple(
        _draft(ctx.at(f"draft.{i}"), d) for i, d in enumerate(as_list(ctx.at("draft"), raw["draft"]))
    )
    return Part(pid, _text_or_none(raw.get("heading")), paragraphs, drafts)


def _draft(ctx: Ctx, raw: Any) -> Draft:
    if isinstance(raw, str):
        raw = {"text": raw}
    raw = keys(ctx, raw, ("text",), ("when", "each"))
    each = raw.get("each")
    if each is not None and each not in EACH:
        raise ctx.at("each").fail(f"未知的重复方式 “{each}”；可用：{', '.join(EACH)}")
    draft = Draft(str(raw["text"]), tuple(str(w) for w in as_list(ctx.at("when"), raw.get("when", []))), each)
    try:  # the grammar is checked here; which fields exist is checked when placed on a plan
        for text, when in expand(draft, 1, (("I1", "项目"),)):
            sentence.parse(text, when)
    except sentence.SentenceError as e:
        raise ctx.at("text").fail(str(e)) from None
    return draft


def expand(
    draft: Draft, qualitative: int, items: tuple[tuple[str, str], ...]
) -> list[tuple[str, tuple[str, ...]]]:
    """(text, when) of each repetition of a draft sentence, its ``[…]`` placeholders filled in."""
    if draft.each is None:
        return [(draft.text, draft.when)]
    if draft.each == "qualitative":
        subs = [{"<n>": str(n)} for n in range(1, qualitative + 1)]
    else:
        subs = [{"<item>": i, "<name>": name} for i, name in items]

    def fill(text: str, sub: dict[str, str]) -> str:
        for key, value in sub.items():
            text = text.replace(key, value)
        return text

    return [(fill(draft.text, s), tuple(fill(w, s) for w in draft.when)) for s in subs]


# ---------------------------------------------------------------- rubric: the phrase lexicon


@dataclass(frozen=True)
class Figure:
    """Phrases that name one table value (a field or an expression over fields)."""

    phrases: tuple[str, ...]
    value: expr.Expr
    label: str | None  # how a message names it; None: the field's own label


@dataclass(frozen=True)
class Lexicon:
    figures: tuple[Figure, ...]
    share_words: tuple[str, ...]  # 占 / 完成: “占基本支出的40.1%”
    qualifiers: tuple[str, ...]  # 上年 / 预算 / 二级机构 …: the figure is not this year's total
    max_gap: int  # characters allowed between a phrase and its number (“人员支出为115.25万元”)


def load_lexicon(ctx: Ctx, raw: Any) -> Lexicon:
    raw = keys(ctx, raw, ("figures",), ("share_words", "qualifiers", "max_gap"))
    figures, seen = [], set()
    for i, fraw in enumerate(as_list(ctx.at("figures"), raw["figures"])):
        fctx = ctx.at(f"figures.{i}")
        fraw = keys(fctx, fraw, ("phrases", "field"), ("label",))
        phrases = tuple(str(p) for p in as_list(fctx.at("phrases"), fraw["phrases"]))
        if not phrases or any(not p.strip() for p in phrases):
            raise fctx.at("phrases").fail("至少要有一个非空的说法")
        for p in phrases:
            if p in seen:
                raise fctx.at("phrases").fail(f"说法“{p}”已出现在前面的条目中")
            seen.add(p)
        try:
            value = expr.parse(str(fraw["field"]))
        except expr.ExprError as e:
            raise fctx.at("field").fail(str(e)) from None
        label = fraw.get("label")
        if label is None and not isinstance(value, expr.Ref):
            raise fctx.at("label").fail("field 为算式时须写 label（消息中的名称）")
        figures.append(Figure(phrases, value, None if label is None else str(label)))
    gap = raw.get("max_gap", 3)
    if isinstance(gap, bool) or not isinstance(gap, int) or not 0 <= gap <= 10:
        raise ctx.at("max_gap").fail(f"应为 0～10 的整数，实际为 {gap!r}")
    return Lexicon(
        tuple(figures),
        tuple(str(w) for w in as_list(ctx.at("share_words"), raw.get("share_words", ["占"]))),
        tuple(str(w) for w in as_list(ctx.at("qualifiers"), raw.get("qualifiers", []))),
        gap,
    )


# ---------------------------------------------------------------- helpers


def _text_or_none(value: Any) -> str | None:
    return None if value is None or not str(value).strip() else str(value)
