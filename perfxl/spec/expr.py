"""A tiny arithmetic language over field ids, shared by the template's formulas and the checker.

One parsed expression is both evaluated exactly in Python (``Decimal``) and rendered as an
Excel formula, so the template and the recomputation cannot drift apart.
Grammar: numbers, field ids (``income.org.carryover``), ``+ - * /``, unary minus, parentheses,
``abs(x)``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|([A-Za-z_{][\w.{}]*)|(.))")


class ExprError(ValueError):
    """The expression text cannot be parsed."""


@dataclass(frozen=True)
class Num:
    value: Decimal


@dataclass(frozen=True)
class Ref:
    field: str


@dataclass(frozen=True)
class Neg:
    arg: Expr


@dataclass(frozen=True)
class Abs:
    arg: Expr


@dataclass(frozen=True)
class Bin:
    op: str
    left: Expr
    right: Expr


Expr = Num | Ref | Neg | Abs | Bin


def parse(text: str) -> Expr:
    tokens = _tokenize(str(text))
    pos = 0

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> str:
        nonlocal pos
        if pos >= len(tokens):
            raise ExprError(f"表达式“{text}”不完整")
        pos += 1
        return tokens[pos - 1]

    def expr() -> Expr:
        node = term()
        while peek() in ("+", "-"):
            op = take()
            node = Bin(op, node, term())
        return node

    def term() -> Expr:
        node = unary()
        while peek() in ("*", "/"):
            op = take()
            node = Bin(op, node, unary())
        return node

    def unary() -> Expr:
        if peek() == "-":
            take()
            return Neg(unary())
        if peek() == "+":
            take()
            return unary()
        return atom()

    def atom() -> Expr:
        tok = take()
        if tok == "(":
            node = expr()
            if take() != ")":
                raise ExprError(f"表达式“{text}”缺少右括号")
            return node
        if tok == "abs" and peek() == "(":
            take()
            node = expr()
            if take() != ")":
                raise ExprError(f"表达式“{text}”缺少右括号")
            return Abs(node)
        if tok[0].isdigit():
            return Num(Decimal(tok))
        if tok[0].isalpha() or tok[0] in "_{":
            return Ref(tok)
        raise ExprError(f"表达式“{text}”中有无法识别的“{tok}”")

    node = expr()
    if pos != len(tokens):
        raise ExprError(f"表达式“{text}”在“{tokens[pos]}”处多余")
    return node


def _tokenize(text: str) -> list[str]:
    out = []
    for m in _TOKEN.finditer(text):
        tok = m.group(1) or m.group(2) or m.group(3)
        if tok and not tok.isspace():
            out.append(tok)
    return out


def refs(node: Expr) -> Iterator[str]:
    """Every field id the expression reads."""
    if isinstance(node, Ref):
        yield node.field
    elif isinstance(node, Neg | Abs):
        yield from refs(node.arg)
    elif isinstance(node, Bin):
        yield from refs(node.left)
        yield from refs(node.right)


def map_refs(node: Expr, fn: Callable[[str], str]) -> Expr:
    """A copy with every field id replaced by ``fn(id)``."""
    if isinstance(node, Ref):
        return Ref(fn(node.field))
    if isinstance(node, Neg):
        return Neg(map_refs(node.arg, fn))
    if isinstance(node, Abs):
        return Abs(map_refs(node.arg, fn))
    if isinstance(node, Bin):
        return Bin(node.op, map_refs(node.left, fn), map_refs(node.right, fn))
    return node


def evaluate(node: Expr, value: Callable[[str], Decimal]) -> Decimal:
    """Exact value; blank fields must be given as 0 by ``value`` (as Excel reads them).

    Raises ZeroDivisionError on division by zero: callers declare what that means.
    """
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Ref):
        return value(node.field)
    if isinstance(node, Neg):
        return -evaluate(node.arg, value)
    if isinstance(node, Abs):
        return abs(evaluate(node.arg, value))
    left, right = evaluate(node.left, value), evaluate(node.right, value)
    if node.op == "+":
        return left + right
    if node.op == "-":
        return left - right
    if node.op == "*":
        return left * right
    if right == 0:
        raise ZeroDivisionError(str(node))
    return left / right


def to_excel(node: Expr, cell: Callable[[str], str]) -> str:
    """Excel formula text (without '=') with each field id replaced by ``cell(id)``."""
    if isinstance(node, Num):
        return _num(node.value)
    if isinstance(node, Ref):
        return cell(node.field)
    if isinstance(node, Neg):
        return f"-{_wrap(node.arg, cell, tight=True)}"
    if isinstance(node, Abs):
        return f"ABS({to_excel(node.arg, cell)})"
    tight = node.op in "*/"
    left = _wrap(node.left, cell, tight=tight)
    right = _wrap(node.right, cell, tight=tight or node.op == "-")
    return f"{left}{node.op}{right}"


def _wrap(node: Expr, cell: Callable[[str], str], tight: bool) -> str:
    text = to_excel(node, cell)
    return f"({text})" if tight and isinstance(node, Bin) else text


def _num(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def num(value: Decimal | int | float | str) -> str:
    """A number as Excel formula text (no exponent, no trailing zeros)."""
    return _num(Decimal(str(value)))
