"""The web app's own tables, in the same database as the store: yearly tasks, the roster's units
with their private link tokens, and every upload with its check result.

The store (``perfxl.batch.store``) keeps checked returns across years for everyone (the CLI too);
these tables keep what only the web app knows: which unit a file came from (its link says so,
whatever the file says), when it arrived, and the exact ``perfxl check --json`` object it got.

A unit's link token is stored as is (the bureau must be able to show it again) and as its
SHA-256, which is what a request is looked up by; the digests are then compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from perfxl.batch.current import recency_key
from perfxl.engine.text import squash_spaces

metadata = sa.MetaData()

tasks_t = sa.Table(
    "web_tasks",
    metadata,
    sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("edition", sa.String(64), nullable=False),
    sa.Column("roster_sha", sa.String(64)),  # the roster file as uploaded, kept by content hash
    sa.Column("roster_suffix", sa.String(8)),
    sa.Column("roster_name", sa.Text),
    sa.Column("updated_at", sa.String(40), nullable=False),
)

units_t = sa.Table(
    "web_units",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("year", sa.Integer, sa.ForeignKey("web_tasks.year"), nullable=False, index=True),
    sa.Column("seq", sa.Integer, nullable=False),  # order in the roster
    sa.Column("code", sa.String(64)),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("unit_key", sa.String(300), nullable=False),
    sa.Column("options", sa.Text, nullable=False),  # JSON: the roster row's layout counts
    sa.Column("prefill", sa.Text, nullable=False),  # JSON: the roster row's field values
    sa.Column("listed", sa.Boolean, nullable=False),  # still on the year's roster
    sa.Column("token", sa.String(64)),  # NULL: the link is revoked
    sa.Column("token_digest", sa.String(64), unique=True),
    sa.Column("approved_sha", sa.String(64)),  # the return the bureau marked 已通过
    sa.Column("approved_at", sa.String(40)),
    sa.UniqueConstraint("year", "unit_key"),
)

uploads_t = sa.Table(
    "web_uploads",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("year", sa.Integer, index=True),
    sa.Column("unit_id", sa.Integer, sa.ForeignKey("web_units.id"), index=True),
    sa.Column("source", sa.String(8), nullable=False),  # bureau | unit | api
    sa.Column("filename", sa.Text, nullable=False),  # as sent, for people to read; never a path
    sa.Column("sha256", sa.String(64), nullable=False, index=True),
    sa.Column("suffix", sa.String(8), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("uploaded_at", sa.String(40), nullable=False),
    sa.Column("state", sa.String(8), nullable=False),  # queued | checking | done | failed
    sa.Column("status", sa.String(16)),  # ok | errors | unusable (the check's)
    sa.Column("reason", sa.Text),  # why the file cannot be used (the check's reason)
    sa.Column("note", sa.Text),  # why the web app did not take it for this unit, if so
    sa.Column("generated_at", sa.String(40)),
    sa.Column("code", sa.String(64)),
    sa.Column("unit_name", sa.String(255)),
    sa.Column("errors", sa.Integer),  # open findings per severity, as the check counts them
    sa.Column("warnings", sa.Integer),
    sa.Column("infos", sa.Integer),
    sa.Column("explained", sa.Integer),  # 已说明: explained 警告/提示, not among the counts above
    sa.Column("round", sa.Integer),  # its round in the store (第几次报送), when stored
    sa.Column("reported_total", sa.String(40)),
    sa.Column("recomputed_total", sa.String(40)),
    sa.Column("reported_grade", sa.String(16)),
    sa.Column("recomputed_grade", sa.String(16)),
    sa.Column("review", sa.Boolean, nullable=False, default=False),  # its review copy was written
    sa.Column("result", sa.Text),  # the perfxl check --json object
)


def create(engine: Engine) -> None:
    metadata.create_all(engine)


def now() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


def unit_key(code: str | None, name: str | None) -> str:
    """One roster unit per key: its 预算编码 when it has one, else its name (spaces and
    full-width forms aside), as the store identifies units."""
    code = squash_spaces(code, nfkc=True)
    return f"c:{code}" if code else f"n:{squash_spaces(name, nfkc=True)}"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(24)  # 192 bits: not guessable, short enough to mail


# ------------------------------------------------------------------ tasks and rosters


def tasks(conn: Connection) -> list[dict[str, Any]]:
    counts = (
        sa.select(units_t.c.year, sa.func.count().label("units"))
        .where(units_t.c.listed == sa.true())
        .group_by(units_t.c.year)
        .subquery()
    )
    rows = conn.execute(
        sa.select(tasks_t, sa.func.coalesce(counts.c.units, 0).label("units"))
        .outerjoin(counts, counts.c.year == tasks_t.c.year)
        .order_by(tasks_t.c.year.desc())
    )
    return [dict(r._mapping) for r in rows]


def task(conn: Connection, year: int) -> dict[str, Any] | None:
    row = conn.execute(sa.select(tasks_t).where(tasks_t.c.year == year)).first()
    return dict(row._mapping) if row else None


def save_task(
    conn: Connection,
    year: int,
    edition: str,
    roster: Iterable[tuple[str, str, Mapping[str, Any], Mapping[str, Any]]],
    roster_file: tuple[str, str, str],
) -> dict[str, int]:
    """Set a year's edition and roster: (code, name, options, prefill) per unit, in order, and the
    roster file (sha256, suffix, name as sent). A unit already on the roster (same code, else same
    name) keeps its link; one no longer listed loses it. Returns counts: added, kept, removed."""
    values = {"edition": edition, "roster_sha": roster_file[0], "roster_suffix": roster_file[1]}
    values |= {"roster_name": roster_file[2], "updated_at": now()}
    if task(conn, year) is None:
        conn.execute(sa.insert(tasks_t).values(year=year, **values))
    else:
        conn.execute(sa.update(tasks_t).where(tasks_t.c.year == year).values(**values))
    old = {r.unit_key: r for r in conn.execute(sa.select(units_t).where(units_t.c.year == year))}
    seen, counts = set(), {"added": 0, "kept": 0, "removed": 0}
    for seq, (code, name, options, prefill) in enumerate(roster):
        key = unit_key(code, name)
        if key in seen:
            continue  # the roster names a unit twice: the first row stands
        seen.add(key)
        row = {
            "seq": seq,
            "code": code or None,
            "name": name,
            "options": json.dumps(dict(options), ensure_ascii=False),
            "prefill": json.dumps(dict(prefill), ensure_ascii=False),
            "listed": True,
        }
        if key in old:
            update = sa.update(units_t).where(units_t.c.id == old[key].id).values(**row)
            if old[key].token is None:  # back on the roster: a new link
                update = update.values(**_token_values())
            conn.execute(update)
            counts["kept"] += 1
        else:
            conn.execute(sa.insert(units_t).values(year=year, unit_key=key, **row, **_token_values()))
            counts["added"] += 1
    for key, r in old.items():
        if key not in seen and r.listed:
            conn.execute(
                sa.update(units_t)
                .where(units_t.c.id == r.id)
                .values(listed=False, token=None, token_digest=None)
            )
            counts["removed"] += 1
    return counts


def _token_values() -> dict[str, str]:
    token = new_token()
    return {"token": token, "token_digest": digest(token)}


def reissue(conn: Connection, unit_id: int) -> None:
    """A new link for the unit; the old one stops working at once."""
    conn.execute(sa.update(units_t).where(units_t.c.id == unit_id).values(**_token_values()))


def revoke(conn: Connection, unit_id: int) -> None:
    conn.execute(sa.update(units_t).where(units_t.c.id == unit_id).values(token=None, token_digest=None))


def units(conn: Connection, year: int, *, listed_only: bool = True) -> list[dict[str, Any]]:
    query = sa.select(units_t).where(units_t.c.year == year)
    if listed_only:
        query = query.where(units_t.c.listed == sa.true())
    return [_unit(r) for r in conn.execute(query.order_by(units_t.c.seq, units_t.c.id))]


def unit(conn: Connection, unit_id: int) -> dict[str, Any] | None:
    row = conn.execute(sa.select(units_t).where(units_t.c.id == unit_id)).first()
    return _unit(row) if row else None


def unit_by_token(conn: Connection, token: str) -> dict[str, Any] | None:
    """The unit whose live link token this is, or None. Looked up by the token's digest (an
    index lookup reveals nothing about the token itself), then compared in constant time."""
    wanted = digest(token)
    row = conn.execute(sa.select(units_t).where(units_t.c.token_digest == wanted)).first()
    if row is None or row.token_digest is None or not hmac.compare_digest(row.token_digest, wanted):
        return None
    return _unit(row)


def _unit(row: Any) -> dict[str, Any]:
    d = dict(row._mapping)
    d["options"], d["prefill"] = json.loads(d["options"]), json.loads(d["prefill"])
    return d


def match_unit(conn: Connection, year: int | None, code: str | None, name: str | None) -> int | None:
    """The listed roster unit of ``year`` a return names (its code, else its name), or None."""
    if year is None:
        return None
    for key in dict.fromkeys(
        k for k in (unit_key(code, None), unit_key(None, name)) if k not in ("c:", "n:")
    ):
        found = conn.execute(
            sa.select(units_t.c.id).where(
                units_t.c.year == year, units_t.c.unit_key == key, units_t.c.listed == sa.true()
            )
        ).scalar()
        if found is not None:
            return int(found)
    return None


def approve(conn: Connection, unit_id: int, sha256: str | None) -> None:
    """Mark the unit's current return 已通过 (None: withdraw the mark)."""
    conn.execute(
        sa.update(units_t)
        .where(units_t.c.id == unit_id)
        .values(approved_sha=sha256, approved_at=now() if sha256 else None)
    )


# ------------------------------------------------------------------ uploads


def add_upload(conn: Connection, **values: Any) -> int:
    values.setdefault("uploaded_at", now())
    key = conn.execute(
        sa.insert(uploads_t).values(state="queued", review=False, **values)
    ).inserted_primary_key
    assert key is not None
    return int(key[0])


def set_upload(conn: Connection, upload_id: int, **values: Any) -> None:
    conn.execute(sa.update(uploads_t).where(uploads_t.c.id == upload_id).values(**values))


def upload(conn: Connection, upload_id: int) -> dict[str, Any] | None:
    row = conn.execute(sa.select(uploads_t).where(uploads_t.c.id == upload_id)).first()
    return _upload(row) if row else None


def uploads(
    conn: Connection,
    *,
    year: int | None = None,
    unit_id: int | None = None,
    limit: int | None = None,
    with_result: bool = False,
) -> list[dict[str, Any]]:
    """Uploads, newest first; the check's JSON (large) only ``with_result``."""
    cols = [c for c in uploads_t.c if with_result or c.name != "result"]
    query = sa.select(*cols)
    if year is not None:
        query = query.where(uploads_t.c.year == year)
    if unit_id is not None:
        query = query.where(uploads_t.c.unit_id == unit_id)
    query = query.order_by(uploads_t.c.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return [_upload(r) for r in conn.execute(query)]


def unfinished(conn: Connection) -> list[int]:
    """Uploads whose check had not finished when the server stopped."""
    query = sa.select(uploads_t.c.id).where(uploads_t.c.state.in_(("queued", "checking")))
    return [int(i) for i in conn.execute(query.order_by(uploads_t.c.id)).scalars()]


def _upload(row: Any) -> dict[str, Any]:
    d = dict(row._mapping)
    d["result"] = json.loads(d["result"]) if d.get("result") else None
    return d


def current(uploads_of_unit: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The unit's current return among its checked, usable uploads: the first in the one order
    consolidation and the store use (``batch.current``), with the upload time as the file's time."""
    usable = [
        u for u in uploads_of_unit if u["state"] == "done" and u["status"] != "unusable" and not u["note"]
    ]
    if not usable:
        return None
    return min(
        usable, key=lambda u: recency_key(u["generated_at"], u["uploaded_at"], u["filename"], u["sha256"])
    )


def uploads_of_sha(conn: Connection, unit_id: int, sha256: str) -> list[int]:
    """The unit's uploads of one file (a unit may send the same bytes twice)."""
    query = sa.select(uploads_t.c.id).where(uploads_t.c.unit_id == unit_id, uploads_t.c.sha256 == sha256)
    return [int(i) for i in conn.execute(query).scalars()]


def names_of(conn: Connection, shas: list[str]) -> dict[str, str]:
    """{sha256: the name it was first sent as} of files the web app received."""
    if not shas:
        return {}
    query = sa.select(uploads_t.c.sha256, uploads_t.c.filename).where(uploads_t.c.sha256.in_(shas))
    out: dict[str, str] = {}
    for sha, name in conn.execute(query.order_by(uploads_t.c.id)):
        out.setdefault(sha, name)
    return out
