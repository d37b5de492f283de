"""Seeded random and hand-made input values for perfxl workbooks (a test helper).

    import random
    from inputgen import random_inputs, edge_cases

    values = random_inputs(plan, random.Random(7))      # {field id: value} for EVERY input cell
    write_template(path, plan.edition, values=values, options=plan.options)
    calc = compute(plan, values)                        # values are already in coerced form

Values are what ``perfxl.form.prefill.coerce`` returns for them: ``Decimal`` numbers (amounts and
percentages with 2 decimals, integers and counts integral), ``"是"``/``"否"``, ``str`` texts,
and ``None`` for a blank cell; every value passes the template's data validation.  Percentages
are never in (0, 1], which ``coerce`` would read as a fraction.

What gets generated is driven by the edition's rubric, not by a list of field ids: for every
rule with a rate metric (num/den) the generator picks a scenario -- a plausible ratio, an exact
band edge or threshold of the rule (and the value a cent below/above it, and a half cent that
the 2-decimal rounding of the rate pushes over), a zero denominator with a zero or a non-zero
numerator, a rate over 100 %, a fractional excess -- and solves the rule's expressions for the
input cells that produce it.  Value metrics (累计结余, 满意度) land on their band edges the same
way, including edges that are expressions such as ``income.total.carryover``.  Specific to
hunan-2020 are only the shape of plausible finance tables (which column carries how much), a
few words of text, and two kinds of named edge cases that are skipped when the plan lacks their
fields: the seed document's own numbers, and ``float_ties_*`` -- exact decimal ties (a balance
of exactly 0 / exactly the carryover summed over many cells, a rate of exactly x.xx5 %, scores
of exactly x.xx5) on which binary floating point and exact decimals round differently.

Profiles of :func:`random_inputs`:

* ``mixed``     every kind of scenario, a few blanks (the default);
* ``plausible`` a unit that filled everything in sensibly;
* ``edgy``      mostly edges, zero denominators and over-100 % rates;
* ``sparse``    a half-filled return: many blanks and empty rows.

:func:`named_edge_cases` / :func:`edge_cases` are deterministic sets that together hit every
edge target of every rule at least once, plus whole-workbook extremes (all zero, full marks,
no self-scores, the seed's own numbers).
"""

from __future__ import annotations

import random
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from fractions import Fraction
from pathlib import Path

from perfxl.engine.compute import compute
from perfxl.engine.layout import Plan, build_plan, unit_rows
from perfxl.form.meta import Unit
from perfxl.form.template import write_template
from perfxl.spec import Edition, Item, expr, load_edition

__all__ = ["PROFILES", "edge_cases", "edge_targets", "named_edge_cases", "random_inputs"]

PROFILES = ("mixed", "plausible", "edgy", "sparse")

ZERO = Decimal(0)
CENT = Decimal("0.01")
HALF_CENT = Decimal("0.005")
Values = dict[str, object]

# Scenario weights for a rule with a metric, per profile.
_SCENARIOS = {
    "mixed": {"random": 40, "edge": 25, "zero_both": 7, "zero_den": 8, "over": 10, "fraction": 5, "half": 5},
    "plausible": {"random": 1},
    "edgy": {"random": 5, "edge": 40, "zero_both": 10, "zero_den": 12, "over": 18, "fraction": 8, "half": 7},
    "sparse": {"random": 50, "zero_both": 35, "zero_den": 15},
}
_BLANK = {"mixed": 0.08, "plausible": 0.0, "edgy": 0.05, "sparse": 0.45}  # plain input left blank
_ZERO_BLANK = {"mixed": 0.3, "plausible": 0.0, "edgy": 0.3, "sparse": 0.8}  # a 0 written as blank
_GRADE_EDGE = {"mixed": 0.25, "plausible": 0.1, "edgy": 0.5, "sparse": 0.0}  # total on a grade edge

# Plausible finance tables (hunan-2020 ids; other editions fall back to even shares):
# share of the row's budget scale carried by each input column, and the table's scale factor.
_SHARES = {
    "income": {"carryover": 0.04, "fiscal": 0.85, "fund": 0.04, "special": 0.04, "other": 0.03},
    "expense": {"personnel": 0.45, "public": 0.25, "project": 0.3},
    "sangong": {"reception": 0.5, "vehicle_ops": 0.35, "vehicle_buy": 0.1, "abroad": 0.05},
    "assets": {"in_use": 0.9, "leased": 0.06, "other": 0.04},
}
_TABLE_SCALE = {"income": 1.0, "expense": 0.95, "sangong": 0.015, "assets": 0.6}

_UNITS = [
    "岳阳市君山区信访局",
    "君山区财政局",
    "君山区教育局",
    "君山区卫生健康局",
    "君山区农业农村局",
    "君山区司法局",
    "君山区文化旅游广电体育局",
    "君山区档案馆",
]
_PEOPLE = ["张毅宏", "王芳", "李娜", "刘洋", "陈静", "杨帆", "赵磊", "黄敏", "周婷", "吴刚"]
_TITLES = ["局长", "副局长", "股长", "会计", "出纳", "科员", "高级会计师", "办公室主任"]
_PHRASES = [
    "认真履行信访工作职责",
    "全年受理群众来信来访92件",
    "按时完成年度重点工作任务",
    "加强预算管理，规范资金使用",
    "群众满意率达到95%",
    "完成矛盾纠纷排查化解",
    "落实过紧日子要求，压减一般性支出",
    "推进政务公开和信息化建设",
    "及时受理率100%",
    "重点项目按期完工",
    "办结率达到98%以上",
    "未发生安全责任事故",
]


# ----------------------------------------------------------------------------- public API


def random_inputs(plan: Plan, rng: random.Random, profile: str = "mixed") -> Values:
    """Plausible, varied values for every input cell of ``plan`` (None = blank), from ``rng``."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; expected one of {PROFILES}")
    b = _Builder(plan, rng)
    b.fill(profile)
    items = [i for i in plan.edition.rubric.items if i.rule.metric is not None]
    rng.shuffle(items)
    for item in items:
        b.scenario(item, _pick(rng, _SCENARIOS[profile]))
    b.identities(profile)
    b.blank_zeros(_ZERO_BLANK[profile])
    b.self_scores(profile)
    if rng.random() < _GRADE_EDGE[profile]:
        grades = [g.min for g in plan.edition.rubric.grades if g.min > 0]
        b.grade_edge("ref", rng.choice(grades) - rng.choice([ZERO, ZERO, CENT]))
    if rng.random() < _GRADE_EDGE[profile]:
        grades = [g.min for g in plan.edition.rubric.grades if g.min > 0]
        b.grade_edge("self", rng.choice(grades) - rng.choice([ZERO, ZERO, Decimal("0.5")]))
    b.narrative(random.Random(rng.random()), _BLANK[profile])
    return b.values


def write_random_return(
    path: Path, unit: Unit, rng: random.Random, profile: str = "mixed", edition: Edition | None = None
) -> Path:
    """A return of ``unit`` as a unit would send it back: the edition's workbook (default edition)
    with ``random_inputs`` from ``rng`` in every input cell. Returns ``path``."""
    ed = edition or load_edition()
    plan = build_plan(ed)
    values = random_inputs(plan, rng, profile)
    values.update({"unit.name": unit.name, "unit.code": unit.code, "unit.year": unit.year})
    write_template(path, ed, unit, values, plan.options)
    return path


def edge_targets(item: Item) -> list[tuple[str, Decimal | None]]:
    """The edge scenarios of one rule: (kind, target) with kind rate | value | zero_both | zero_den.

    ``rate`` targets are the unrounded rate in % (so 89.995 is rounded to 90.00 by the form);
    ``value`` targets are offsets from a band bound (see :func:`_bounds`).
    """
    rule = item.rule
    m = rule.metric
    if m is None:
        return []
    out: list[tuple[str, Decimal | None]] = []
    if not m.is_rate:
        for k in range(len(_bounds(item))):
            out.append(("value", Decimal(k)))
        return out
    out += [("zero_both", None), ("zero_den", None)]
    if rule.kind == "ladder":
        for band in rule.bands:
            for bound, upper in ((band.low, False), (band.high, True)):
                if bound is None or not isinstance(bound.value, expr.Num):
                    continue
                b = bound.value.value
                # the side of the edge that belongs to the other band, a cent and a half cent away
                side = -1 if (bound.closed != upper) else 1
                out += [("rate", b), ("rate", b + side * CENT), ("rate", b + side * HALF_CENT)]
        out += [("rate", Decimal("101.37"))]
    else:
        t, step = rule.threshold, rule.step
        lose = 1 if rule.direction == "over" else -1  # direction in which points are deducted
        zero_at = t + lose * item.max / step
        out += [
            ("rate", t),
            ("rate", t + lose * CENT),
            ("rate", t + lose * HALF_CENT),
            ("rate", t - lose * CENT),
            ("rate", zero_at),
            ("rate", zero_at + lose * CENT),
            ("rate", t + lose * Decimal("1.37")),
            ("rate", Decimal("101.37")),
            ("rate", Decimal(100)),
            ("rate", ZERO),
        ]
        # an excess whose deduction ends in half a cent (the score's own rounding decides)
        half = next((k * CENT for k in range(101, 1000) if _half_cent(step * k * CENT)), None)
        if half is not None:
            out.append(("rate", t + lose * half))
    return list(dict.fromkeys(out))


def named_edge_cases(plan: Plan) -> list[tuple[str, Values]]:
    """Hand-made input sets, each with a short name (usable as a test id)."""
    rubric = plan.edition.rubric
    cases: list[tuple[str, Values]] = []

    # 1. every edge target of every rule, packed greedily into as few workbooks as possible
    #    (zero denominators come in the whole-workbook cases below)
    pending = {
        i.id: [t for t in edge_targets(i) if t[0] in ("rate", "value")]
        for i in rubric.items
        if i.rule.metric is not None
    }
    grades = [g.min for g in rubric.grades if g.min > 0]
    ref_edges = grades + [g - CENT for g in grades]
    self_edges = grades + [g - Decimal("0.5") for g in grades]
    k = 0
    while any(pending.values()):
        rng = random.Random(1000 + k)
        b = _Builder(plan, rng)
        b.fill("plausible")
        progress = False
        for item_id in sorted(pending, key=lambda i: -len(pending[i])):
            item = rubric.item(item_id)
            for n, (kind, target) in enumerate(pending[item_id]):
                if b.edge(item, kind, target):
                    del pending[item_id][n]
                    progress = True
                    break
        if not progress:
            break  # what is left cannot be reached (e.g. a rate that cannot exceed 100 %)
        b.identities("plausible")
        b.blank_zeros(0.3 if k % 2 else 0.0)
        b.self_scores("plausible")
        b.grade_edge("ref", ref_edges[k % len(ref_edges)])
        b.grade_edge("self", self_edges[k % len(self_edges)])
        cases.append((f"edges{k:02d}", b.values))
        k += 1

    # 2. whole-workbook extremes
    b = _Builder(plan, random.Random(1))
    b.fill("plausible")
    for cell in plan.inputs():
        if cell.type in ("amount", "percent", "count", "score") or (
            cell.type == "integer" and (cell.min is None or cell.min <= 0)
        ):
            b.values[cell.id] = Decimal("0.00") if cell.type in ("amount", "percent") else ZERO
        elif cell.type == "yesno":
            b.values[cell.id] = "否"
    cases.append(("all_zero", b.values))

    b = _Builder(plan, random.Random(2))
    b.fill("plausible")
    for item in rubric.items:
        if item.rule.metric is not None and item.rule.metric.is_rate:
            b.edge(item, "zero_den", None)
    b.self_scores("plausible")
    cases.append(("zero_den_nonzero_num", b.values))

    b = _Builder(plan, random.Random(3))
    b.fill("plausible")
    for item in rubric.items:  # the best outcome of every rule
        if item.rule.metric is not None:
            b.best(item)
    for f, _ in (c for i in rubric.items for c in i.rule.checks):
        b.values[f] = "是"
    for item in rubric.items:
        if item.rule.count:
            b.values[item.rule.count] = ZERO
        b.values[f"score.{item.id}.self"] = item.max
    cases.append(("full_marks", b.values))

    b = _Builder(plan, random.Random(4))
    b.fill("mixed")
    for item in rubric.items:
        b.values[f"score.{item.id}.self"] = None
    cases.append(("no_self_scores", b.values))

    if {"income.total.carryover", "expense.total.balance_cum"} <= set(plan.cells):
        b = _Builder(plan, random.Random(5))
        b.fill("plausible")
        b.solve(expr.parse("income.total.carryover"), ZERO)
        b.solve(expr.parse("expense.total.balance_cum"), ZERO)
        b.self_scores("plausible")
        cases.append(("no_carryover_no_balance", b.values))

    seed = _seed_values(plan)
    if seed is not None:
        cases.append(("seed_junshan_2020", seed))
    cases += _float_ties(plan)
    return cases


def edge_cases(plan: Plan) -> list[Values]:
    """The input sets of :func:`named_edge_cases`, without their names."""
    return [values for _, values in named_edge_cases(plan)]


# ----------------------------------------------------------------------------- internals


def _half_cent(x: Decimal) -> bool:
    """x has exactly three decimals and the third is 5 (2-decimal rounding sits on a tie)."""
    shape = x.normalize().as_tuple()
    return shape.exponent == -3 and shape.digits[-1] == 5


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _bounds(item: Item) -> list[tuple[expr.Expr, Decimal]]:
    """Value-metric edges: (bound expression, offset from it) for each band bound."""
    out: list[tuple[expr.Expr, Decimal]] = []
    for band in item.rule.bands:
        for bound, upper in ((band.low, False), (band.high, True)):
            if bound is None:
                continue
            side = -1 if (bound.closed != upper) else 1
            for off in (ZERO, side * CENT):
                if (bound.value, off) not in out:
                    out.append((bound.value, off))
    if item.rule.metric is not None and item.rule.metric.unit == "%":
        out += [(expr.Num(ZERO), Decimal(100)), (expr.Num(ZERO), ZERO)]
    return out


def _amount(rng: random.Random, scale: float, low: float = 0.0) -> Decimal:
    """A 2-decimal amount in [low * scale, scale]."""
    return Decimal(str(round(rng.uniform(low * scale, scale), 2))).quantize(CENT)


class _Builder:
    """Values under construction, with the constraints solved so far kept true."""

    def __init__(self, plan: Plan, rng: random.Random) -> None:
        self.plan = plan
        self.rng = rng
        self.values: Values = {c.id: None for c in plan.inputs()}
        self.fixed: list[tuple[expr.Expr, Decimal]] = []

    # ------------------------------------------------------------- evaluation

    def value(self, fid: str) -> Decimal:
        cell = self.plan.cells[fid]
        calc = cell.calc
        if calc is None:
            v = self.values.get(fid)
            return v if isinstance(v, Decimal) else ZERO
        if calc.kind == "expr":
            assert calc.expr is not None
            return expr.evaluate(calc.expr, self.value)
        if calc.kind == "sum":
            return sum((self.value(a) for a in calc.args), ZERO)
        raise ValueError(f"inputgen cannot evaluate {fid} ({calc.kind})")

    def eval(self, e: expr.Expr) -> Decimal:
        return expr.evaluate(e, self.value)

    def leaves(self, e: expr.Expr) -> list[str]:
        out: list[str] = []

        def walk(fid: str) -> None:
            calc = self.plan.cells[fid].calc
            if calc is None:
                if fid not in out:
                    out.append(fid)
            elif calc.kind == "expr" and calc.expr is not None:
                for r in expr.refs(calc.expr):
                    walk(r)
            elif calc.kind == "sum":
                for a in calc.args:
                    walk(a)

        for r in expr.refs(e):
            walk(r)
        return out

    def places(self, e: expr.Expr) -> int:
        """Decimals an expression's value can have: 0 if it only reads integer cells."""
        ints = all(self.plan.cells[f].type in ("integer", "count") for f in self.leaves(e))
        return 0 if ints else 2

    def holds(self) -> bool:
        return all(self.eval(e) == v for e, v in self.fixed)

    # ------------------------------------------------------------- solving

    def _fit(self, fid: str, want: Decimal, old: Decimal) -> Decimal | None:
        """``want`` moved toward ``old`` to the nearest value the cell accepts, or None."""
        cell = self.plan.cells[fid]
        if cell.type not in ("amount", "percent", "integer", "count", "score"):
            return None
        places = 0 if cell.type in ("integer", "count") else 2
        lo = cell.min if cell.min is not None else (None if cell.signed else ZERO)
        hi = (
            cell.max
            if cell.max is not None
            else (Decimal(100) if cell.type == "percent" else Decimal(10) ** 7)
        )
        if lo is not None:
            want = max(lo, want)
        want = min(hi, want)
        q = Decimal(1).scaleb(-places)
        v = want.quantize(q, rounding=ROUND_FLOOR if want > old else ROUND_CEILING)
        if cell.type == "percent" and 0 < v <= 1:
            return None
        return v

    def set(self, fid: str, v: Decimal | None) -> None:
        cell = self.plan.cells[fid]
        if v is not None:
            v = Decimal(int(v)) if cell.type in ("integer", "count") else v.quantize(CENT)
        self.values[fid] = v

    def solve(self, e: expr.Expr, target: Decimal) -> bool:
        """Change inputs so that ``e`` == ``target`` keeping earlier constraints; False if stuck."""
        if isinstance(e, expr.Abs):
            if target < 0:
                return False
            signs = [1, -1] if target else [1]
            self.rng.shuffle(signs)
            return any(self.solve(e.arg, s * target) for s in signs)
        snapshot = dict(self.values)
        leaves = self.leaves(e)
        self.rng.shuffle(leaves)
        for leaf in leaves:
            rest = target - self.eval(e)
            if rest == 0:
                break
            old = self.value(leaf)
            before = self.values[leaf]
            self.values[leaf] = old + 1
            coef = self.eval(e) - (target - rest)
            self.values[leaf] = before
            if coef == 0:
                continue
            new = self._fit(leaf, old + rest / coef, old)
            if new is None or new == old:
                continue
            self.set(leaf, new)
            if not self.holds():
                self.values[leaf] = before
        if self.eval(e) == target and self.holds():
            self.fixed.append((e, target))
            return True
        self.values = snapshot
        return False

    def _both(self, pairs: list[tuple[expr.Expr, Decimal]]) -> bool:
        """Solve several constraints, trying each order, all or nothing."""
        orders = [pairs, pairs[::-1]]
        for order in orders:
            snapshot, fixed = dict(self.values), list(self.fixed)
            if all(self.solve(e, t) for e, t in order):
                return True
            self.values, self.fixed = snapshot, fixed
        return False

    # ------------------------------------------------------------- rate scenarios

    def _den_scale(self, den: expr.Expr) -> Decimal:
        if self.places(den) == 0:
            return Decimal(self.rng.randint(5, 150))
        scale = self.rng.choice([8, 50, 100, 300, 1000, 3000]) * self.rng.uniform(0.5, 1.5)
        return Decimal(str(round(scale, 2)))

    def rate(self, item: Item, r: Decimal, exact: bool = True) -> bool:
        """Make the rule's unrounded rate ``r`` % (exactly, or as near as the cells allow)."""
        m = item.rule.metric
        assert m is not None and m.num is not None and m.den is not None
        dp_n, dp_d = self.places(m.num), self.places(m.den)
        f = Fraction(r) / 100
        current = self.eval(m.den)
        tries: list[Decimal] = []
        if current > 0 and self.rng.random() < 0.6:
            tries.append(current)
        num_now = Fraction(self.eval(m.num))
        if f != 0 and num_now != 0:  # keep the numerator (it may be pinned by another rule)
            d = num_now / f
            if (d * 10**dp_d).denominator == 1 and d > 0:
                tries.append(Decimal(d.numerator) / Decimal(d.denominator))
        # the smallest den step with an exact numerator, scaled to a plausible size
        step = Fraction((f * Fraction(10) ** (dp_n - dp_d)).denominator, 10**dp_d) if exact else None
        for _ in range(3):
            scale = self._den_scale(m.den)
            if step is None:
                tries.append(scale.quantize(Decimal(1).scaleb(-dp_d)))
            else:
                k = max(1, round(Fraction(scale) / step))
                if step * k <= 10**6:
                    tries.append(Decimal(step.numerator * k) / step.denominator)
        for d in tries:
            n = Fraction(d) * f
            if exact and (n * 10**dp_n).denominator != 1:
                continue
            num = (Decimal(n.numerator) / Decimal(n.denominator)).quantize(Decimal(1).scaleb(-dp_n))
            if d > 0 and self._both([(m.den, d), (m.num, num)]):
                return True
        return False

    def zero_den(self, item: Item, num_zero: bool) -> bool:
        m = item.rule.metric
        assert m is not None and m.num is not None and m.den is not None
        if num_zero:
            return self._both([(m.den, ZERO), (m.num, ZERO)])
        current = self.eval(m.num)
        if current != 0 and self._both([(m.den, ZERO), (m.num, current)]):
            return True
        for _ in range(3):
            n = self._den_scale(m.num).quantize(Decimal(1).scaleb(-self.places(m.num)))
            if n > 0 and self._both([(m.den, ZERO), (m.num, n)]):
                return True
        return False

    def value_edge(self, item: Item, k: int) -> bool:
        m = item.rule.metric
        assert m is not None and m.value is not None
        bound, off = _bounds(item)[k]
        if (
            not isinstance(bound, expr.Num)
            and self.eval(bound) == 0
            and not any(e == bound for e, _ in self.fixed)
        ):
            self.solve(bound, Decimal(self.rng.randint(1, 40)) + Decimal(self.rng.randint(1, 99)) / 100)
        if isinstance(bound, expr.Num):
            return self.solve(m.value, bound.value + off)
        return self.solve(expr.Bin("-", m.value, bound), off)

    def edge(self, item: Item, kind: str, target: Decimal | None) -> bool:
        """Apply one of :func:`edge_targets`; False when it cannot be reached from here."""
        if kind == "zero_both":
            return self.zero_den(item, True)
        if kind == "zero_den":
            return self.zero_den(item, False)
        assert target is not None
        if kind == "value":
            return self.value_edge(item, int(target))
        return self.rate(item, target)

    def best(self, item: Item) -> bool:
        """Put the metric inside the band (or below the threshold) that scores full marks."""
        rule, m = item.rule, item.rule.metric
        assert m is not None
        if rule.kind != "ladder":
            return self.rate(item, rule.threshold)
        band = max(rule.bands, key=lambda b: b.score)
        if band.low is not None and (band.low.closed or band.high is None):
            bound, off = band.low.value, ZERO if band.low.closed else CENT
        else:
            assert band.high is not None
            bound, off = band.high.value, ZERO if band.high.closed else -CENT
        if m.is_rate:
            assert isinstance(bound, expr.Num)
            return self.rate(item, bound.value + off)
        assert m.value is not None
        if isinstance(bound, expr.Num):
            return self.solve(m.value, bound.value + off)
        return self.solve(expr.Bin("-", m.value, bound), off)

    def scenario(self, item: Item, kind: str) -> None:
        rule, m = item.rule, item.rule.metric
        assert m is not None
        rng = self.rng
        if not m.is_rate:
            if kind in ("edge", "zero_both", "zero_den", "half", "over", "fraction"):
                self.value_edge(item, rng.randrange(len(_bounds(item))))
            return
        if kind == "edge":
            kinds = [t for t in edge_targets(item) if t[0] == "rate"]
            self.edge(item, *rng.choice(kinds))
            return
        if kind in ("zero_both", "zero_den"):
            self.zero_den(item, kind == "zero_both")
            return
        edges = (
            [rule.threshold]
            if rule.kind == "per_point"
            else [
                b.value.value
                for band in rule.bands
                for b in (band.low, band.high)
                if b is not None and isinstance(b.value, expr.Num)
            ]
        )
        lo, hi = min(edges) - 25, max(edges) + 15
        if kind == "over":
            self.rate(item, Decimal(100) + Decimal(rng.randint(1, 3000)) / 100)
        elif kind == "fraction":
            lose = -1 if rule.direction == "under" else 1
            base = rule.threshold if rule.kind == "per_point" else rng.choice(edges)
            self.rate(
                item, base + lose * Decimal(rng.randint(0, 12)) + Decimal(2 * rng.randint(0, 49) + 1) / 100
            )
        elif kind == "half":
            r = Decimal(rng.randint(int(lo * 100), int(hi * 100))) / 100 + HALF_CENT
            if not self.rate(item, r):
                self.rate(item, abs(r))
        else:
            r = Decimal(rng.randint(int(lo * 100), int(hi * 100))) / 100
            if not self.rate(item, r, exact=False):
                self.rate(item, abs(r), exact=False)

    # ------------------------------------------------------------- the rest of the form

    def fill(self, profile: str) -> None:
        """Every input a plausible value (blank with the profile's probability)."""
        rng, plan = self.rng, self.plan
        blank = _BLANK[profile]
        ed = plan.edition
        rows = unit_rows(ed, plan.options)[1:]
        budget = {rid: rng.uniform(200, 3000) if rid == "org" else rng.uniform(0, 800) for rid, _ in rows}
        empty = {
            rid for rid, _ in rows if rid != "org" and rng.random() < (0.5 if profile == "sparse" else 0.15)
        }
        for table in ed.form.tables:
            shares = _SHARES.get(table.id, {})
            cols = [c for c in table.columns if c.formula is None]
            for rid, _ in rows:
                zero_row = profile != "plausible" and rng.random() < 0.05
                for col in cols:
                    fid = f"{table.id}.{rid}.{col.id}"
                    if rid in empty:
                        continue
                    share = shares.get(col.id, 1 / len(cols))
                    scale = budget[rid] * _TABLE_SCALE.get(table.id, 1.0) * share * 1.3
                    if zero_row or rng.random() < 0.1:
                        self.values[fid] = Decimal("0.00")
                    elif rng.random() >= blank:
                        self.values[fid] = _amount(rng, scale, 0.55)
        for cell in plan.inputs():
            if cell.sheet == plan.sheet("finance").name or cell.id.startswith("score."):
                continue
            if cell.id.startswith("report."):  # filled last (see narrative): the stream above stays as it was
                continue
            if rng.random() < blank and not cell.id.startswith("unit.name"):
                continue
            self.values[cell.id] = self._plain(cell.id)

    def _plain(self, fid: str) -> object:
        cell, rng = self.plan.cells[fid], self.rng
        if cell.type == "yesno":
            return rng.choices(["是", "否"], weights=[8, 2])[0]
        if cell.type == "count":
            return Decimal(rng.choices(range(9), weights=[30, 8, 5, 4, 3, 2, 2, 1, 1])[0])
        if cell.type == "integer":
            lo = int(cell.min) if cell.min is not None else 0
            hi = int(cell.max) if cell.max is not None else 200
            if fid == "unit.year" or (lo >= 2000 and hi <= 2100):
                return Decimal(rng.randint(max(lo, 2018), min(hi, 2024)))
            return Decimal(rng.randint(lo, min(hi, lo + 200)))
        if cell.type == "percent":
            return Decimal(rng.randint(6000, 10000)) / 100
        if cell.type == "amount":
            return _amount(rng, rng.choice([10, 100, 1000, 5000]))
        if cell.type == "score":
            assert cell.max is not None
            return cell.max
        leaf = fid.rsplit(".", 1)[-1]
        if "phone" in leaf:
            return rng.choice(["0730-", "186", "139"]) + "".join(rng.choices("0123456789", k=8))
        if leaf == "code":
            return "".join(rng.choices("0123456789", k=6))
        if leaf == "name" and fid.startswith("unit."):
            return rng.choice(_UNITS)
        if leaf in ("name", "contact"):
            return rng.choice(_PEOPLE)
        if leaf == "title":
            return rng.choice(_TITLES)
        if leaf == "org":
            return rng.choice(_UNITS)
        if cell.type == "longtext":
            return "；".join(rng.sample(_PHRASES, rng.randint(1, 4))) + "。"
        return rng.choice(_PHRASES)

    def narrative(self, rng: random.Random, blank: float) -> None:
        """The 评价报告's text cells: a few phrases, or blank (from their own stream)."""
        for cell in self.plan.inputs():
            if cell.id.startswith("report."):
                text = "；".join(rng.sample(_PHRASES, rng.randint(1, 4))) + "。"
                self.values[cell.id] = None if rng.random() < blank else text

    def identities(self, profile: str) -> None:
        """Identity inputs (经济分类): consistent, blank, or (rarely) inconsistent."""
        for ident in self.plan.edition.rubric.identities:
            free = [f for f in self.leaves(ident.right) if f not in self.leaves(ident.left)]
            roll = self.rng.random()
            if roll < (0.0 if profile == "plausible" else 0.3):
                for f in free:
                    self.values[f] = None
                continue
            left = self.eval(ident.left)
            for f in free:
                self.set(f, _amount(self.rng, float(left) / max(1, len(free)) + 0.01))
            if roll < 0.9 or profile == "plausible":
                self.fixed.append((ident.left, left))
                if not self.solve(expr.Bin("-", ident.right, ident.left), ZERO):
                    self.fixed.pop()

    def blank_zeros(self, p: float) -> None:
        """Write some zeros as blank cells (the form reads both as 0)."""
        for fid, v in self.values.items():
            if isinstance(v, Decimal) and v == 0 and not fid.startswith("score.") and self.rng.random() < p:
                self.values[fid] = None

    def _filled(self) -> dict[str, object]:
        return {k: v for k, v in self.values.items() if v is not None}

    def self_scores(self, profile: str) -> None:
        rng, rubric = self.rng, self.plan.edition.rubric
        calc = compute(self.plan, self._filled())
        blank = _BLANK[profile] if rng.random() > 0.1 or profile == "plausible" else 1.0
        for item in rubric.items:
            fid = f"score.{item.id}.self"
            if rng.random() < blank:
                self.values[fid] = None
                continue
            if item.rule.kind == "judgement":
                v = item.max - Decimal("0.5") * rng.choices(range(5), weights=[10, 4, 2, 1, 1])[0]
            else:
                ref = calc.outcomes[item.id].score
                v = (ref * 2).to_integral_value() / 2 + Decimal("0.5") * rng.choice([0, 0, 0, 0, 1, -1])
            if profile == "edgy" and rng.random() < 0.1:
                v += Decimal(rng.randint(-40, 40)) / 100
            self.values[fid] = min(item.max, max(ZERO, v)).quantize(CENT)

    def grade_edge(self, part: str, target: Decimal) -> bool:
        """Move self-scores so that total.<part> == target (judgement items move both totals)."""
        rubric = self.plan.edition.rubric
        judged = [i for i in rubric.items if i.rule.kind == "judgement"]
        if part == "ref":
            movable = judged
            current = compute(self.plan, self._filled()).values["total.ref"]
        else:
            movable = [i for i in rubric.items if i.rule.kind != "judgement"]
            current = sum(
                (v for i in rubric.items if isinstance(v := self.values[f"score.{i.id}.self"], Decimal)), ZERO
            )
        assert isinstance(current, Decimal)
        rest = target - current
        items = list(movable)
        self.rng.shuffle(items)
        for item in items:
            if rest == 0:
                break
            fid = f"score.{item.id}.self"
            old = self.values[fid] if isinstance(self.values[fid], Decimal) else ZERO
            assert isinstance(old, Decimal)
            new = min(item.max, max(ZERO, old + rest))
            self.values[fid] = new.quantize(CENT)
            rest -= new - old
        return rest == 0


# Exact ties that binary floating point misses (found by the LibreOffice agreement test): a
# balance of exactly 0 or exactly the carryover summed from many cells, a rate of exactly
# x.xx5 %, and scores of exactly x.xx5 (5 - 0.5 * 9.31 = 0.345, 5 - 0.5 * 9.99 = 0.005,
# 3 - 0.1 * 24.95 = 0.505).
_TIES = {
    "float_ties_zero_balance": {
        "income.org.carryover": "40.45",
        "income.org.fiscal": "824.38",
        "income.org.fund": "32.45",
        "income.org.special": "43.76",
        "income.org.other": "0.00",
        "income.sub1.carryover": "1017.96",
        "income.sub2.carryover": "19.65",
        "income.sub2.fiscal": "438.51",
        "income.sub2.special": "25.85",
        "expense.org.personnel": "401.18",
        "expense.org.public": "284.89",
        "expense.org.project": "1281.63",
        "expense.sub2.personnel": "209.55",
        "expense.sub2.public": "115.20",
        "expense.sub2.project": "150.56",
        # (600.03 - 600) / 600 = 0.005 %
        "basis.sangong_prev": "600.00",
        "sangong.org.reception": "14.86",
        "sangong.org.vehicle_ops": "10.44",
        "sangong.org.vehicle_buy": "0.00",
        "sangong.org.abroad": "1.56",
        "sangong.sub2.reception": "1.07",
        "sangong.sub2.vehicle_ops": "1.18",
        "sangong.sub2.vehicle_buy": "570.80",
        "sangong.sub2.abroad": "0.12",
        # 2272.04 / 3027.37 = 75.05 %
        "assets.org.in_use": "1185.96",
        "assets.sub1.in_use": "850.36",
        "assets.sub2.in_use": "235.72",
        "assets.org.leased": "72.56",
        "assets.org.other": "35.19",
        "assets.sub1.leased": "20.99",
        "assets.sub1.other": "16.51",
        "assets.sub2.leased": "600.90",
        "assets.sub2.other": "9.18",
    },
    "float_ties_carryover": {
        "income.org.carryover": "74.89",
        "income.org.fiscal": "1194.02",
        "income.org.fund": "69.37",
        "income.org.special": "53.75",
        "income.org.other": "62.79",
        "income.sub2.carryover": "8.57",
        "income.sub2.fiscal": "0.00",
        "income.sub2.fund": "8.35",
        "income.sub2.special": "7.72",
        "income.sub2.other": "5.68",
        "expense.org.personnel": "1190.07",
        "expense.org.public": "0.00",
        "expense.org.project": "88.10",
        "expense.sub2.personnel": "72.91",
        "expense.sub2.public": "50.60",
        "expense.sub2.project": "0.00",
        "unit.staff_quota": "10000",
        "unit.staff_actual": "10931",  # 109.31 %
        "basis.sangong_prev": "100.00",
        "sangong.org.reception": "109.99",  # 9.99 %
    },
}


def _float_ties(plan: Plan) -> list[tuple[str, Values]]:
    out = []
    inputs = {c.id for c in plan.inputs()}
    finance = plan.sheet("finance").name
    for n, (name, known) in enumerate(_TIES.items()):
        if not set(known) <= inputs:
            continue
        b = _Builder(plan, random.Random(50 + n))
        b.fill("plausible")
        for cell in plan.inputs():
            if cell.sheet == finance:
                b.values[cell.id] = None
        b.values.update({fid: Decimal(v) for fid, v in known.items()})
        b.self_scores("plausible")
        out.append((name, b.values))
    return out


def _seed_values(plan: Plan) -> Values | None:
    """岳阳市君山区信访局 2020 (the seed document), where the plan has its fields."""
    known = {
        "unit.name": "岳阳市君山区信访局",
        "unit.year": 2020,
        "unit.contact": "张毅宏",
        "unit.phone": "18673072559",
        "unit.staff_quota": 10,
        "unit.staff_actual": 10,
        "unit.duties": "代表区委、区政府受理人民给区委、区政府及主要领导人的来信，接待群众来访。",
        "unit.work": "任务1：夯实基层基础工作；任务2：高度重视初信初访的办理。",
        "unit.achievements": "通过信访信息系统办理信访事项92件，群众满意率达到95%。",
        "income.org.carryover": "3.67",
        "income.org.fiscal": "256.32",
        "expense.org.personnel": "115.25",
        "expense.org.public": "141.45",
        "expense.org.project": "0",
        "sangong.org.reception": "4.79",
        "assets.org.in_use": "69.54",
        "basis.sangong_budget": "4.86",
        "basis.sangong_prev": "4.79",
        "basis.satisfaction": "95",
        "basis.econ_wages": "102.93",
        "basis.econ_goods": "110.55",
        "basis.econ_family": "12.32",
        "basis.econ_capital": "30.90",
    }
    inputs = {c.id for c in plan.inputs()}
    if not set(known) <= inputs:
        return None
    values: Values = {fid: None for fid in inputs}
    for fid, raw in known.items():
        values[fid] = raw if plan.cells[fid].type in ("text", "longtext") else Decimal(str(raw))
    for item in plan.edition.rubric.items:
        values[f"score.{item.id}.self"] = item.max
        for f, _ in item.rule.checks:
            values[f] = "是"
    values["score.P1.self"] = Decimal(2)
    values["score.P11.self"] = Decimal(3)
    return values
