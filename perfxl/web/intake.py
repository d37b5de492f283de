"""What happens to an uploaded return: keep the file, record the upload, check and store it in a
job process (``work.check``), and record what the check said.

A return sent through a unit's private link belongs to that unit whatever the file says; if the
file names another unit, or another year, it is recorded with a note saying so and goes neither
into the unit's status nor into the store (one unit's link cannot write another unit's data).
A return the bureau uploads is matched to the roster by its 预算编码, else its name.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.datastructures import UploadFile

from perfxl.check import CheckResult
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
    """Check one recorded upload (in a job, which also stores it) and record the outcome; the
    upload row as it ends up."""
    row = await site.awrite(lambda c: _claim(c, upload_id))
    if row is None:
        return None
    owner = None
    if row["source"] == "unit" and row["unit_id"] is not None:
        unit = await site.aread(lambda c: db.unit(c, row["unit_id"]))
        owner = (unit["code"] or "", unit["name"]) if unit else None
    how = work.Intake(row["filename"], site.settings.store_url, row["year"], owner)
    path, review = site.files.path(row["sha256"], row["suffix"]), site.files.review(row["sha256"])
    try:
        outcome = await site.jobs.run(site.settings.job_seconds, work.check, str(path), str(review), how)
    except JobFailed as e:
        outcome = work.outcome(unusable(row["filename"], str(e)), False, None)
    return await site.awrite(lambda c: _record(c, row, outcome))


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


def _record(conn: Any, row: dict[str, Any], outcome: dict[str, Any]) -> dict[str, Any]:
    """Record the outcome; a return the bureau sent is matched to the roster unit it names."""
    unit_id = row["unit_id"]
    if unit_id is None and outcome["status"] != "unusable":
        unit_id = db.match_unit(conn, row["year"], outcome["code"], outcome["unit_name"])
    db.set_upload(conn, row["id"], state="done", unit_id=unit_id, **outcome)
    return db.upload(conn, row["id"]) or {}


def record_explanation(
    conn: Any, unit_id: int, sha256: str, where: tuple[str, str | None, str | None], text: str
) -> None:
    """Show an explanation the store has just recorded in the unit's uploads of that file: the
    finding carries it, and the counts are of open findings again (an explained 警告 is not one)."""
    for upload_id in db.uploads_of_sha(conn, unit_id, sha256):
        row = db.upload(conn, upload_id)
        check = row["result"] if row else None
        if not check:
            continue
        for f in check["findings"]:
            if (f["rule"], f["sheet"], f["cell"]) == where:
                f["explanation"] = text or None
                f["explained"] = bool(text) and f["severity"] != "错误"
                break
        still_open = {
            s: sum(1 for f in check["findings"] if f["severity"] == s and not f["explained"])
            for s in check["counts"]
        }
        check["counts"] = still_open
        db.set_upload(
            conn,
            upload_id,
            errors=still_open["错误"],
            warnings=still_open["警告"],
            infos=still_open["提示"],
            explained=sum(1 for f in check["findings"] if f["explained"]),
            result=json.dumps(check, ensure_ascii=False),
        )


async def resume(site: Site) -> None:
    """Check the uploads a previous run of the server left unchecked."""
    for upload_id in await site.aread(db.unfinished):
        site.spawn(check_upload(site, upload_id))
