"""Read YAML values at a known place in a data file: every mistake is a SpecError naming file and key.

Shared by the loader and by the rule kinds, which load their own parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from perfxl.spec import expr
from perfxl.spec.model import SpecError


@dataclass
class Ctx:
    """Where we are in a data file, for error messages."""

    file: str
    path: list[str] = field(default_factory=list)

    def at(self, key: object) -> Ctx:
        return Ctx(self.file, [*self.path, str(key)])

    def fail(self, msg: str) -> SpecError:
        where = ".".join(self.path) or "(文件顶层)"
        return SpecError(f"{self.file}: {where}: {msg}")


def get(ctx: Ctx, data: Any, key: str, default: Any = ...) -> Any:
    if not isinstance(data, Mapping):
        raise ctx.fail("应为“键: 值”形式的表")
    if key not in data:
        if default is ...:
            raise ctx.at(key).fail("缺少此项")
        return default
    return data[key]


def as_int(ctx: Ctx, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit():
        raise ctx.fail(f"应为非负整数，实际为 {value!r}")
    return int(value)


def as_dec(ctx: Ctx, value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ctx.fail(f"应为数字，实际为 {value!r}")
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ctx.fail(f"应为数字，实际为 {value!r}") from None


def as_list(ctx: Ctx, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ctx.fail("应为列表")
    return value


def as_expr(ctx: Ctx, text: Any) -> expr.Expr:
    try:
        return expr.parse(str(text))
    except expr.ExprError as e:
        raise ctx.fail(str(e)) from None


def keys(ctx: Ctx, raw: Any, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> Mapping[str, Any]:
    """``raw`` as a mapping with every required key and no key outside required + optional.

    A misspelt key is an error here, not a value silently taken as absent (and then defaulted).
    """
    if not isinstance(raw, Mapping):
        raise ctx.fail("应为“键: 值”形式的表")
    known = (*required, *optional)
    for key in raw:
        if key not in known:
            raise ctx.at(key).fail(f"未知的键；可用：{', '.join(known)}")
    for key in required:
        get(ctx, raw, key)
    return raw
