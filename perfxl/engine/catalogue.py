"""The findings catalogue: every rule id a check can emit, with its severity, title and meaning.

Rule ids are a public contract (users' scripts match on ``findings[].rule``), so they are written
down here once: the checker takes each finding's severity from here (:func:`finding`), the 规则统计
sheet its title, and the README its rule table (:func:`markdown_table`, kept equal by a test).

A pattern such as ``score.<ID>.range`` stands for every id with one dot-free segment in place of
each ``<…>``. In a title, ``{ID}`` is the rubric item's name, ``{列}`` the finance column
(“表·列”) and ``{勾稽关系}`` the identity's label, as the edition spells them.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from perfxl.engine.findings import ERROR, INFO, WARNING, Finding

if TYPE_CHECKING:
    from perfxl.engine.layout import Cell, Plan


@dataclass(frozen=True)
class Entry:
    """One rule id or id pattern."""

    pattern: str  # "file.unusable", "score.<ID>.range"
    severity: str  # 错误 | 警告 | 提示
    title: str  # short, for the 规则统计 sheet
    meaning: str  # one line, for the README
    # The message, where it is a fixed sentence (findings about the file, a sheet or the workbook,
    # not about one cell's value): filled in from the finding's sheet and the emitter's fields.
    template: str | None = None

    def segments(self, rule: str) -> dict[str, str] | None:
        """What each ``<…>`` stands for in ``rule``; None if ``rule`` is not of this pattern."""
        m = _regex(self.pattern).fullmatch(rule)
        return m.groupdict() if m else None


def _regex(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"<([^<>]+)>", pattern)  # literal, name, literal, name, …, literal
    return re.compile("".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>[^.]+)" for i, p in enumerate(parts)))


CATALOGUE: tuple[Entry, ...] = (
    # ---- 收支情况: totals and identities
    Entry("sum.<表>.<列>", ERROR, "{列}：汇总行不等于各行之和", "汇总行 ≠ 各单位（机构）合计"),
    Entry(
        "identity.<表>.<列>",
        ERROR,
        "{列}：勾稽关系不符",
        "行内勾稽关系不成立（收入合计、支出合计、基本支出、当年结余、累计结余、三公合计、固定资产合计）",
    ),
    Entry(
        "identity.econ.personnel",
        ERROR,
        "勾稽关系：{勾稽关系}",
        "经济分类与人员支出不符（人员支出 ≠ 工资福利支出 + 对个人和家庭的补助）",
    ),
    Entry(
        "identity.econ.public",
        ERROR,
        "勾稽关系：{勾稽关系}",
        "经济分类与公用支出不符（公用支出 ≠ 商品和服务支出 + 资本性支出）",
    ),
    # ---- rubric items: the self-score
    Entry("score.<ID>", ERROR, "{ID}：自评得分与评分标准不符", "自评得分与规则得分（任一读法）不符"),
    Entry("score.<ID>.range", ERROR, "{ID}：自评得分超出分值范围", "自评得分超出 0～分值"),
    Entry("score.<ID>.blank", ERROR, "{ID}：未填自评得分", "自评得分未填，按 0 分计入总分"),
    Entry(
        "score.<ID>.unverified",
        WARNING,
        "{ID}：所依据的数据无法读取，未能复核",
        "所依据的数据无法读取（工作表或行缺失、文字无法识别），本项无法复核，暂按自评得分计",
    ),
    Entry(
        "score.<ID>.unanswered",
        WARNING,
        "{ID}：是/否未填写，未能复核",
        "所依据的是/否项未填写（空白不等于“否”），本项无法复核，暂按自评得分计",
    ),
    Entry("score.<ID>.reason", WARNING, "{ID}：扣分未说明原因", "扣了分但未写扣分原因"),
    Entry(
        "score.<ID>.reading",
        INFO,
        "{ID}：自评按另一种读法计分",
        "自评得分符合另一种读法（参考得分用的是第一种）",
    ),
    Entry("score.<ID>.zero", INFO, "{ID}：分母为零，按规则计分", "比率的分母为 0，按规则声明的办法计分"),
    # ---- 评分表 and 绩效自评: totals, subtotals, grades (self-scores an 错误, reference scores a 警告)
    Entry("total.self", ERROR, "自评总分与各项合计不符", "评分表的自评总分与各项自评得分合计不符"),
    Entry("subtotal.self", ERROR, "评分表小计与各项合计不符", "评分表的自评得分小计与所属各项合计不符"),
    Entry("grade.self", ERROR, "自评等次与总分不符", "自评等次与自评总分不符"),
    Entry("perf.total", ERROR, "绩效自评表与评分表不一致", "绩效自评表的综合得分与评分表的自评总分不符"),
    Entry("perf.grade", ERROR, "绩效自评表与评分表不一致", "绩效自评表的评价等次与评分表的自评等次不符"),
    Entry("total.ref", WARNING, "参考总分与各项合计不符", "参考总分的缓存值与重算不符（公式被改或未重算）"),
    Entry(
        "subtotal.ref",
        WARNING,
        "评分表小计与各项合计不符",
        "参考得分小计的缓存值与重算不符（公式被改或未重算）",
    ),
    Entry("grade.ref", WARNING, "参考等次与总分不符", "参考等次的缓存值与重算不符（公式被改或未重算）"),
    Entry(
        "ref.<ID>", WARNING, "{ID}：参考得分公式结果不符", "参考得分的缓存值与重算不符（公式被改或未重算）"
    ),
    Entry(
        "metric.<ID>",
        WARNING,
        "{ID}：指标值公式结果不符",
        "评分依据表中比率等指标的缓存值与重算不符（公式被改或未重算）",
    ),
    # ---- formula cells
    Entry("formula.overwritten", WARNING, "公式被改为固定数值", "公式被改成固定值或被清空"),
    Entry(
        "formula.changed",
        WARNING,
        "公式被改动",
        "公式被改成别的公式（按所读取的单元格比较：增删行时软件自动调整的引用不算改动）",
    ),
    Entry(
        "formula.dangerous",
        ERROR,
        "有访问工作簿以外的公式",
        "填写格以外的单元格或定义名称中有访问工作簿以外的公式（DDE、其他工作簿、网络、外部程序）；"
        "未执行，审核副本中已去掉",
    ),
    Entry(
        "formula.no_cache",
        INFO,
        "公式单元格没有计算结果",
        "公式单元格没有保存计算结果（文件由其他软件另存），其结果未能核对；得分与合计已按填报数据重算",
        "有 {n} 个公式单元格没有计算结果（文件可能由其他软件另存），其结果未能核对；"
        "得分与合计已按填报数据重新计算",
    ),
    # ---- input cells
    Entry("input.invalid", ERROR, "填报内容不是有效数值", "数字格里是无法识别的文字"),
    Entry(
        "input.range",
        ERROR,
        "填报数值超出允许范围",
        "数字格里是负数、非整数（人数、个数）或超过 100% 的百分比",
    ),
    Entry(
        "input.text_number",
        WARNING,
        "数字以文本形式填写",
        "参与公式的格里数字以文本形式存储（如“256.7万元”、全角数字、“95%”），Excel 合计时当作 0；"
        "审核已按该数字计算",
    ),
    Entry(
        "input.yuan",
        WARNING,
        "金额以元填写（已换算为万元）",
        "金额格里写明了单位“元”（如“2563200元”），已按 ÷10000 换算为万元",
    ),
    Entry(
        "input.normalized",
        INFO,
        "填报内容已按规范转换",
        "按约定读取了“—”、“√”、0.95（=95%）、“2020年”等写法，以及不参与公式的格里的“256.7万元”、全角数字",
    ),
    Entry("input.blank", WARNING, "必填项未填写", "必填项未填"),
    Entry("input.formula", WARNING, "填写格中是公式", "填写格中是公式（已按其计算结果读取）"),
    Entry(
        "input.formula_dangerous",
        ERROR,
        "填写格中的公式访问工作簿以外",
        "填写格中的公式会访问工作簿以外（DDE、其他工作簿、网络、外部程序）；未执行、未采用其结果，"
        "审核副本中已去掉",
    ),
    Entry(
        "input.date",
        WARNING,
        "数字格被设成了日期格式",
        "数字格被设成了日期格式（如 44197 显示为 2021-01-01），已按数值读取",
    ),
    Entry("input.table_blank", WARNING, "收支表局机关一行未填写", "某表局机关一行全空"),
    # ---- plausibility
    Entry(
        "plausible.yuan",
        ERROR,
        "金额疑似以元填报，需核实",
        "金额过大，疑似以元填报（本表单位为万元），需核实；该报表的金额不计入全区收支汇总的合计",
    ),
    Entry("plausible.per_capita", WARNING, "人均支出过大（疑按元填报）", "人均支出过大，疑似按元填写"),
    Entry(
        "plausible.scale",
        WARNING,
        "两项金额相差上千倍（疑按元填报）",
        "两项相关金额相差上千倍，疑似其中一项按元填写",
    ),
    Entry("plausible.grade_edge", INFO, "复核总分接近等次分界线", "复核总分距等次分界不足 1 分"),
    Entry("plausible.no_number", INFO, "定量目标完成情况没有数字", "定量目标完成情况没有数字"),
    # ---- the 评价报告's text against the tables
    Entry(
        "narrative.figure",
        WARNING,
        "评价报告中的金额、人数与报表不一致",
        "评价报告中紧跟某个说法的金额、人数（“整体支出256.80万元”）与说法所指的报表数据不一致",
    ),
    Entry(
        "narrative.share",
        WARNING,
        "评价报告中的比例与报表不一致",
        "评价报告中的比例（“占基本支出的40.1%”）与按报表数据计算的不一致",
    ),
    Entry(
        "narrative.missing",
        INFO,
        "没有评价报告表，未核对",
        "报表没有“评价报告”表（旧版模板），报告文字未核对",
        "没有“{sheet}”工作表（可能是旧版模板），报告文字未核对",
    ),
    # ---- layout
    Entry(
        "layout.sheet_missing",
        ERROR,
        "缺少工作表",
        "工作表被删除，相关项目无法审核",
        "缺少工作表“{sheet}”，该表的 {n} 个项目无法审核",
    ),
    Entry(
        "layout.label_missing",
        ERROR,
        "找不到表上的标签",
        "行被删除或标签被改动，该行的项目无法审核",
        "工作表“{sheet}”找不到标签“{label}”所在的行（行被删除或标签被改动），该行的项目无法审核",
    ),
    Entry(
        "layout.sheet_renamed",
        WARNING,
        "工作表被改名",
        "工作表改名（已按表头识别）",
        "工作表“{old}”被改名为“{sheet}”，已按表头识别；请勿改动工作表名称",
    ),
    Entry(
        "layout.rows_moved",
        WARNING,
        "表格行被插入或删除",
        "增删行（已按标签定位）",
        "工作表“{sheet}”的行被插入或删除过，已按标签重新定位各项目；请勿增删行",
    ),
    Entry(
        "layout.fingerprint",
        WARNING,
        "版式与模板不一致",
        "版式与本程序按同一版本生成的不同（已按标签定位）",
        "工作簿的版式指纹 {theirs} 与本程序按同一版本生成的 {ours} 不同，已按标签核对位置",
    ),
    Entry(
        "layout.label_changed",
        INFO,
        "行标签被改动（仍按原行读取）",
        "行标签被改动，但定义名称与表格结构未变，仍按原来的行读取",
    ),
    Entry(
        "layout.by_label",
        INFO,
        "定义名称丢失，按标签定位",
        "定义名称丢失，已按表上标签定位",
        "有 {n} 个项目的定义名称缺失或失效（文件可能被其他软件另存或改动过），已按表上标签定位",
    ),
    # ---- the unit, and the file as a whole
    Entry(
        "meta.unit",
        WARNING,
        "单位名称与下发模板不一致",
        "基本概况的单位名称与下发模板的单位不一致（以模板为准，报表仍记为下发的单位）",
    ),
    Entry(
        "meta.code",
        WARNING,
        "预算编码与下发模板不一致",
        "基本概况的预算编码与下发模板的编码不一致（以模板为准）",
    ),
    Entry(
        "meta.year",
        WARNING,
        "年度与下发模板不一致",
        "基本概况的年度与下发模板的年度不一致（以模板为准，报表仍记为下发的年度）",
    ),
    Entry(
        "file.unusable",
        ERROR,
        "文件无法使用",
        "文件无法使用（不是工作簿、已损坏、加密、超出资源上限、不是本模板、版本未知或更新），退出码 2",
        "{file}：{reason}",
    ),
    Entry(
        "file.external_links",
        WARNING,
        "工作簿链接了其他文件",
        "工作簿链接了其他文件；审核未打开，审核副本已去掉链接",
        "工作簿链接了其他文件（{targets}）；审核没有打开这些文件，审核副本已去掉链接。"
        "请报送单位断开链接（数据→编辑链接→断开链接）后重新报送",
    ),
    Entry(
        "file.macros",
        INFO,
        "工作簿含有宏",
        "工作簿含有宏（VBA）；审核未运行，审核副本不含宏",
        "工作簿含有宏（VBA 代码）；审核没有运行宏，审核副本不含宏。自评表不需要宏，请报送单位另存为 .xlsx",
    ),
    Entry(
        "file.values_only",
        INFO,
        "只能读取数值的格式（.xls/.ods）",
        ".xls/.ods 只能读取数值：按表上标签定位，公式是否被改动无法核对",
        "本文件为 {kind} 格式，只能读取单元格的数值：各项目已按表上标签定位，公式是否被改动无法核对"
        "（得分与合计已按填报数据重新计算）；建议报送单位另存为 .xlsx",
    ),
)

_EXACT = {e.pattern: e for e in CATALOGUE if "<" not in e.pattern}
_PATTERNS = [(_regex(e.pattern), e) for e in CATALOGUE if "<" in e.pattern]


class UncataloguedRule(UserWarning):
    """A rule id missing from the catalogue: a perfxl bug (the test suite turns warnings into errors)."""


def entry(rule: str) -> Entry:
    """The catalogue entry ``rule`` falls under.

    An id the catalogue lacks is a bug of perfxl, not of the return: it warns (an error under the
    test suite) and stands as an 错误 titled by its own id, so a user's check still finishes.
    """
    found = _EXACT.get(rule) or next((e for rx, e in _PATTERNS if rx.fullmatch(rule)), None)
    if found is None:
        warnings.warn(
            f"rule id {rule!r} is not in perfxl/engine/catalogue.py", UncataloguedRule, stacklevel=2
        )
        return Entry(rule, ERROR, rule, "")
    return found


def finding(
    rule: str,
    message: str | None = None,
    *,
    sheet: str | None = None,
    cell: str | None = None,
    item: str | None = None,
    reported: Any = None,
    expected: Any = None,
    difference: Decimal | None = None,
    **fields: object,
) -> Finding:
    """A finding of ``rule`` with the catalogue's severity. Its message is ``message``, or for a rule
    whose message is a fixed sentence, that sentence filled in from ``sheet`` and ``fields``."""
    e = entry(rule)
    if message is None:
        message = e.template.format(sheet=sheet, **fields) if e.template else rule
    return Finding(rule, e.severity, message, sheet, cell, item, reported, expected, difference)


def formula_rule(plan: Plan, cell: Cell) -> str:
    """The rule id under which a formula cell holding the wrong value is reported (the checker's
    finding and the template's 自查 row agree on it through here)."""
    calc = cell.calc
    assert calc is not None
    parts = cell.id.split(".")
    if calc.kind == "sum" and cell.sheet == plan.sheet("finance").name:
        return f"sum.{parts[0]}.{parts[2]}"
    if calc.kind == "expr":
        return f"identity.{parts[0]}.{parts[2]}"
    if calc.kind in ("metric", "score"):
        return f"{'metric' if calc.kind == 'metric' else 'ref'}.{calc.item}"
    if cell.id.startswith("perf."):
        return cell.id
    part = parts[-1]  # self (an 错误) or ref (a 警告): the catalogue has both
    if calc.kind == "grade":
        return f"grade.{part}"
    return f"{'total' if cell.id.startswith('total.') else 'subtotal'}.{part}"


def markdown_table() -> str:
    """The README's rule table (规则 id, 级别, 含义), one row per entry."""
    rows = ["| 规则 id | 级别 | 含义 |", "|---|---|---|"]
    rows += [f"| `{e.pattern}` | {e.severity} | {e.meaning} |" for e in CATALOGUE]
    return "\n".join(rows) + "\n"
