"""The JSON API for scripts (``Authorization: Bearer <token>``; without it, 401):

- ``POST /api/check`` (multipart field ``file``): exactly the ``perfxl check --json`` object of the
  file, ``file`` being the name it was sent as. Nothing is kept but the file itself.
- ``POST /api/returns?year=2020`` (field ``file``): 收表 for scripts — the return is kept, checked,
  matched to the roster and stored like one uploaded on the 收表 page; answers when it is checked:
  ``{"upload": {...}, "check": <perfxl check --json>}``.
- ``GET /api/units?year=2020``: the 单位一览 table (as ``/units.json``).
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from perfxl.web import auth, board, db, intake, work
from perfxl.web.files import display_name, suffix_of
from perfxl.web.jobs import JobFailed
from perfxl.web.pages import site_of, upload_data
from perfxl.web.views import closing, jsonable


async def _file(request: Request) -> UploadFile:
    form = await request.form(max_files=1, max_fields=5)
    f = form.get("file")
    if not isinstance(f, UploadFile) or not f.filename:
        raise HTTPException(400, "请用 multipart/form-data 的 file 字段上传一个文件")
    return f


async def check(request: Request) -> Response:
    auth.bureau(request, api=True)
    site = site_of(request)
    f = await _file(request)
    name = display_name(f.filename)
    suffix = suffix_of(name)
    sha, _ = await site.files.save(intake.chunks(f), suffix, site.settings.max_upload_bytes)
    path = str(site.files.path(sha, suffix))
    try:
        data = await site.jobs.run(site.settings.job_seconds, work.check_only, path, name)
    except JobFailed as e:
        data = intake.unusable(name, str(e)).to_json()
    return JSONResponse(data)


async def returns(request: Request) -> Response:
    auth.bureau(request, api=True)
    site = site_of(request)
    raw = request.query_params.get("year", "")
    if not raw.isdigit() or await site.aread(lambda c: db.task(c, int(raw))) is None:
        raise HTTPException(400, "请用 ?year= 指定一个已建立任务的年度")
    f = await _file(request)
    _id, task = await intake.receive(site, f, year=int(raw), unit_id=None, source="api")
    row: dict[str, Any] = await task
    return JSONResponse({"upload": jsonable({**upload_data(row), "check": None}), "check": row["result"]})


async def units(request: Request) -> Response:
    auth.bureau(request, api=True)
    site = site_of(request)
    raw = request.query_params.get("year", "")
    if not raw.isdigit():
        raise HTTPException(400, "请用 ?year= 指定年度")
    year = int(raw)
    rows = await site.aread(lambda c: board.rows(c, year))
    return JSONResponse(jsonable({"year": year, "counts": board.counts(rows), "units": rows}))


def routes() -> list[Route]:
    return [
        Route("/api/check", closing(check), methods=["POST"]),
        Route("/api/returns", closing(returns), methods=["POST"]),
        Route("/api/units", units),
    ]
