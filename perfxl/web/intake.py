"""What happens to an uploaded return: keep the file, record the upload, check it in a job
process, store the result, and record what the check said.

A return sent through a unit's private link belongs to that unit whatever the file says; if the
file names another unit, or another year, it is recorded with a note saying so and goes neither
into the unit's status nor into the store (one unit's link cannot write another unit's data).
A return the bureau uploads is matched to the roster by its 预算编码, else its name.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from perfxl.batch.store import canonical, save_result
from perfxl.check import CheckResult
from perfxl.engine.text import squash_spaces
from perfxl.web import db, work
from perfxl.web.files import display_name, suffix_of
from perfxl.web.jobs import JobFailed
from perfxl.web.state import Site

CHUNK = 256 * 1024


async def chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK):
        yield chunk


async def receive(
    site: Site, upload: UploadFile, *, year: int | None, unit_id: int | None, source: str
) -> tuple[int, Any]:
    """Keep the file and record it; its check starts in the background. (upload id, the task)."""
    name = display_name(upload.filename)
    suffix = suffix_of(name)
    sha, size = await site.files.save(chunks(upload), suffix, site.settings.max_upload_bytes)
    values = {"year": year, "unit_id": unit_id, "source": source, "filename": name}
    values |= {"sha256": sha, "suffix": suffix, "size": size}
    upload_id = await site.awrite(lambda c: db.add_upload(c, **values))
    return upload_id, site.spawn(check_upload(site, upload_id))


async def check_upload(site: Site, upload_id: int) -> dict[str, Any] | None:
    """Check one recorded upload and record the outcome; the upload row as it ends up."""
    row = await site.awrite(lambda c: _claim(c, upload_id))
    if row is None:
        return None
    path = site.files.path(row["sha256"], row["suffix"])
    review = site.files.review(row["sha256"])
    try:
        result, reviewed, _problem = await site.jobs.run(
            site.settings.job_seconds, work.check, str(path), str(review)
        )
    except JobFailed as e:
        result, reviewed = unusable(row["filename"], str(e)), False
    result = dataclasses.replace(result, file=row["filename"])  # the name it was sent as, as the CLI shows it
    unit_id, note = await site.aread(lambda c: _whose(c, row, result))
    if note is None and result.status != "unusable":
        await run_in_threadpool(save_result, site.store, result, modified_at=row["uploaded_at"])
    return await site.awrite(lambda c: _record(c, row["id"], unit_id, note, result, reviewed))


def unusable(name: str, reason: str) -> CheckResult:
    """The result of a file whose check could not finish (the same shape the checker gives)."""
    from perfxl.engine.catalogue import finding

    return CheckResult(
        file=name,
        status="unusable",
        reason=reason,
        findings=[finding("file.unusable", file=name, reason=reason)],
    )


def _claim(conn: Any, upload_id: int) -> dict[str, Any] | None:
    row = db.upload(conn, upload_id)
    if row is None or row["state"] not in ("queued", "checking"):
        return None
    db.set_upload(conn, upload_id, state="checking")
    return row


def _whose(conn: Any, row: dict[str, Any], result: CheckResult) -> tuple[int | None, str | None]:
    """The roster unit the upload counts for, and a note if it does not count at all."""
    unit_id, year = row["unit_id"], row["year"]
    if result.status == "unusable":
        return unit_id, None
    if row["source"] == "unit" and unit_id is not None:
        unit = db.unit(conn, unit_id)
        note = _not_this_unit(unit, result) if unit is not None else None
        if note is not None:
            return unit_id, note
    elif unit_id is None and year is not None:
        unit_id = db.match_unit(conn, result.year or year, result.code, result.unit)
    if year is not None and result.year is not None and result.year != year:
        return unit_id, f"文件中的年度是 {result.year} 年，本次收表是 {year} 年度；未计入本年度"
    return unit_id, None


def _record(
    conn: Any, upload_id: int, unit_id: int | None, note: str | None, result: CheckResult, reviewed: bool
) -> dict[str, Any]:
    counts = result.counts
    db.set_upload(
        conn,
        upload_id,
        state="done",
        unit_id=unit_id,
        status=result.status,
        reason=result.reason,
        note=note,
        generated_at=result.generated_at,
        code=result.code,
        unit_name=result.unit,
        errors=counts["错误"],
        warnings=counts["警告"],
        infos=counts["提示"],
        reported_total=_text(result.reported_total),
        recomputed_total=_text(result.recomputed_total),
        reported_grade=result.reported_grade,
        recomputed_grade=result.recomputed_grade,
        review=reviewed,
        result=json.dumps(result.to_json(), ensure_ascii=False),
    )
    return db.upload(conn, upload_id) or {}


def _not_this_unit(unit: dict[str, Any], result: CheckResult) -> str | None:
    """Why a return sent through ``unit``'s link is not that unit's, or None if it is (or says
    nothing about whom it is for: the checker's own findings speak to that)."""
    code, name = squash_spaces(result.code, nfkc=True), squash_spaces(result.unit, nfkc=True)
    own_code, own_name = squash_spaces(unit["code"], nfkc=True), squash_spaces(unit["name"], nfkc=True)
    if code and own_code:
        same = code == own_code
    elif name:
        same = name == own_name
    else:
        return None
    if same:
        return None
    said = f"“{result.unit or '（未填）'}”" + (f"（预算编码 {result.code}）" if result.code else "")
    return f"这份文件填写的单位是{said}，不是本单位“{unit['name']}”，未计入本单位；请上传本单位的报表"


def _text(value: Any) -> str | None:
    return None if value is None else canonical(value)


async def resume(site: Site) -> None:
    """Check the uploads a previous run of the server left unchecked."""
    for upload_id in await site.aread(db.unfinished):
        site.spawn(check_upload(site, upload_id))
