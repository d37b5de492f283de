"""单位一览: one row per roster unit of a year, with its status, and the status words.

Status, from the unit's current return (``db.current``: the one order of ``batch.current``):

- 未报送  nothing uploaded yet;
- 有错误  the current return has 错误, or no upload so far could be used;
- 待说明  no 错误, but 警告 neither fixed nor explained (已说明), and the bureau has not accepted them;
- 已通过  no 错误 and no open 警告 (each fixed or explained), or the bureau marked this very return 已通过.

Counts are open findings, as ``perfxl check`` counts them: an explained 警告 is not among them.

A bureau's mark is bound to the return it looked at (its SHA-256): a new upload needs a new look.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Connection

from perfxl.web import db

STATUSES = ("未报送", "有错误", "待说明", "已通过")
# Sort keys of the table's columns; ties keep the roster's order, in either direction.
SORTS = {
    "seq": lambda r: r["seq"],
    "code": lambda r: r["code"] or "\uffff",
    "name": lambda r: r["name"],
    "status": lambda r: STATUSES.index(r["status"]),
    "round": lambda r: r["round"] or 0,
    "self": lambda r: _num(r["reported_total"]),
    "total": lambda r: _num(r["recomputed_total"]),
    "errors": lambda r: r["errors"] or 0,
    "warnings": lambda r: r["warnings"] or 0,
    "uploaded": lambda r: r["uploaded_at"] or "",
}


def _num(text: str | None) -> Decimal:
    return Decimal(text) if text else Decimal("-1")


def status(current: dict[str, Any] | None, uploads: list[dict[str, Any]], approved_sha: str | None) -> str:
    if not uploads:
        return "未报送"
    if current is None or (current["errors"] or 0) > 0:
        return "有错误"
    if (current["warnings"] or 0) > 0 and approved_sha != current["sha256"]:
        return "待说明"
    return "已通过"


def unit_row(unit: dict[str, Any], uploads: list[dict[str, Any]]) -> dict[str, Any]:
    """The unit's row: who it is, its status, and its current return's numbers."""
    checked = [u for u in uploads if u["state"] == "done"]
    current = db.current(checked)
    latest = uploads[0] if uploads else None  # newest first
    row = {
        "id": unit["id"],
        "seq": unit["seq"],
        "code": unit["code"],
        "name": unit["name"],
        "status": status(current, uploads, unit["approved_sha"]),
        "approved": bool(current and unit["approved_sha"] == current["sha256"]),
        "round": max((u["round"] for u in uploads if u["round"]), default=None),  # the store's: 第几次报送
        "uploads": len(uploads),
        "pending": sum(1 for u in uploads if u["state"] in ("queued", "checking")),
        "uploaded_at": latest["uploaded_at"] if latest else None,
        "latest_problem": _problem(latest) if latest else None,
        "current": current["id"] if current else None,
        "file": current["filename"] if current else None,
        "sha256": current["sha256"] if current else None,
        "review": bool(current and current["review"]),
    }
    for key in ("reported_total", "recomputed_total", "reported_grade", "recomputed_grade"):
        row[key] = current[key] if current else None
    for key in ("errors", "warnings", "infos", "explained"):
        row[key] = current[key] if current else None
    return row


def _problem(upload: dict[str, Any]) -> str | None:
    """Why the latest upload did not become the current return, if it did not."""
    if upload["state"] != "done":
        return None
    if upload["note"]:
        return str(upload["note"])
    if upload["status"] == "unusable":
        return f"文件无法使用：{upload['reason'] or '无法读取'}"
    return None


def rows(conn: Connection, year: int) -> list[dict[str, Any]]:
    by_unit: dict[int, list[dict[str, Any]]] = {}
    for u in db.uploads(conn, year=year):
        if u["unit_id"] is not None:
            by_unit.setdefault(u["unit_id"], []).append(u)
    return [unit_row(u, by_unit.get(u["id"], [])) for u in db.units(conn, year)]


def table_of(
    all_rows: list[dict[str, Any]], *, sort: str = "seq", desc: bool = False, status: str = "", q: str = ""
) -> list[dict[str, Any]]:
    """The rows filtered by status and by a text in the code or name, and sorted."""
    out = all_rows
    if status in STATUSES:
        out = [r for r in out if r["status"] == status]
    if q.strip():
        needle = q.strip()
        out = [r for r in out if needle in r["name"] or needle in (r["code"] or "")]
    in_roster_order = sorted(out, key=SORTS["seq"])
    return sorted(in_roster_order, key=SORTS.get(sort, SORTS["seq"]), reverse=desc)  # stable both ways


def counts(all_rows: list[dict[str, Any]]) -> dict[str, int]:
    return {s: sum(1 for r in all_rows if r["status"] == s) for s in STATUSES}
