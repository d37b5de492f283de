"""Check a return: parse its inputs, recompute everything from them, and list what disagrees.

``check_file`` is the public entry (used by the CLI and by consolidation). The recomputation is
``compute.compute`` — the same code that wrote the template's cached values — so a clean
template checks clean, and any disagreement is the return's.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from perfxl.check.causes import ordered
from perfxl.check.explanations import explain
from perfxl.check.formula_cells import check_formulas
from perfxl.check.inputs import read_inputs
from perfxl.check.items import check_item
from perfxl.check.limits import LIMITS, Limits
from perfxl.check.narrative import check_narrative
from perfxl.check.plausible import check_meta, grade_edge, plausibility
from perfxl.check.reader import Return, UnusableInput, read_return
from perfxl.check.result import CheckResult
from perfxl.check.safety import check_safety
from perfxl.check.tables import check_blank_tables, check_identities
from perfxl.check.text import number, text_of, year_of
from perfxl.engine.catalogue import finding
from perfxl.engine.compute import compute, grade_bands
from perfxl.engine.findings import ERROR
from perfxl.oserror import shown
from perfxl.spec.kinds.common import grade

# Set by ``perfxl --debug``: a fault of the checker itself raises (with its traceback) instead of
# making the file "unusable" with a Chinese reason.
DEBUG = False


def check_file(path: str | Path, tolerance: Decimal | None = None, limits: Limits = LIMITS) -> CheckResult:
    """Check one file; an unusable file gives a result with status "unusable", never an exception."""
    return read_and_check(path, tolerance, limits)[1]


def read_and_check(
    path: str | Path, tolerance: Decimal | None = None, limits: Limits = LIMITS
) -> tuple[Return | None, CheckResult]:
    """The return as read (None if unusable) and its check, for jobs that need both (the Word report)."""
    name = shown(Path(path).name)
    try:
        ret = read_return(path, limits)
        ret.path = shown(ret.path)
        return ret, check_return(ret, tolerance)
    except UnusableInput as e:
        reason = str(e)
    except Exception as e:  # a fault of ours must not stop a batch nor show a traceback
        if DEBUG:
            raise
        reason = f"审核时程序出错（{type(e).__name__}），请将此文件反馈给软件维护人员"
    return None, CheckResult(
        file=shown(str(path)),
        status="unusable",
        reason=reason,
        findings=[finding("file.unusable", file=name, reason=reason)],
    )


def check_return(ret: Return, tolerance: Decimal | None = None) -> CheckResult:
    plan = ret.plan
    rubric = plan.edition.rubric
    tol = tolerance if tolerance is not None else rubric.tolerance
    findings = list(ret.findings)
    read = read_inputs(plan, ret, findings)
    inputs = read.values
    calc = compute(plan, inputs)
    findings += check_formulas(plan, ret, calc, tol, read)
    items = []
    for item in rubric.items:
        item_result, found = check_item(plan, item, ret, read, calc)
        items.append(item_result)
        findings += found
    findings += check_identities(plan, inputs, calc, tol, read.unknown)
    findings += check_blank_tables(plan, ret, inputs)
    findings += plausibility(plan, ret, inputs, calc)
    findings += check_narrative(plan, ret, inputs, calc, read)
    recomputed = sum((i.recomputed for i in items), Decimal(0))
    reported = number(ret.cells.get("total.self"), "score")
    if reported is None:
        selfs = [i.self for i in items if i.self is not None]
        reported = sum(selfs, Decimal(0)) if selfs else None
    findings += grade_edge(plan, recomputed)
    findings += check_meta(ret, inputs)
    findings += check_safety(ret)
    grade_cell = ret.cells.get("grade.self")
    reported_grade = grade_cell.value if grade_cell and isinstance(grade_cell.value, str) else None
    result = CheckResult(
        file=ret.path,
        sha256=ret.sha256,
        edition=plan.edition.name,
        # the template's metadata is the identity; what was typed counts only on a blank template
        unit=ret.meta.get("unit") or text_of(inputs.get("unit.name")) or None,
        code=ret.meta.get("code") or text_of(inputs.get("unit.code")) or None,
        year=year_of(inputs.get("unit.year"), ret.meta.get("year")),
        generated_at=ret.meta.get("generated_at"),
        reported_total=reported,
        recomputed_total=recomputed,
        reported_grade=reported_grade or None,
        recomputed_grade=grade(recomputed, grade_bands(plan)),
        items=items,
        findings=explain(ordered(plan, ret, findings), ret.explanations)[0],
        facts={k: v for k, v in inputs.items() if v is not None},
        computed=dict(calc.values),
    )
    result.status = "errors" if result.counts[ERROR] else "ok"
    return result
