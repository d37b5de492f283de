"""A unit's private page, ``/u/<token>``: its template, its uploads, its findings and review copy.

The link token is the unit's only credential, so every handler starts from it: the token names
one unit, and only that unit's uploads are ever looked up (an upload of another unit is 404,
exactly as one that does not exist). A revoked or unknown token is 404 too. Pages are not cached
and send no referrer, so the token does not leak from the browser.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from perfxl.batch.store import StoreError
from perfxl.web import auth, db, intake
from perfxl.web.files import display_name
from perfxl.web.pages import site_of, stored_file, unit_brief, unit_data, unit_template, upload_data
from perfxl.web.state import Site
from perfxl.web.views import closing, render

_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


async def _unit(request: Request) -> tuple[Site, dict[str, Any], str]:
    token = str(request.path_params["token"])
    site = site_of(request)
    unit = await site.aread(lambda c: db.unit_by_token(c, token)) if _TOKEN.fullmatch(token) else None
    if unit is None:
        raise HTTPException(404, "链接无效或已停用，请向财政局索取新的报送链接")
    return site, unit, token


async def _own_upload(request: Request, site: Site, unit: dict[str, Any]) -> dict[str, Any]:
    raw = str(request.path_params["upload"])
    u = await site.aread(lambda c: db.upload(c, int(raw))) if raw.isdigit() else None
    if u is None or u["unit_id"] != unit["id"]:  # another unit's upload is as absent as none
        raise HTTPException(404)
    return u


async def page(request: Request) -> Response:
    site, unit, token = await _unit(request)
    data = await unit_data(site, unit)
    base = f"/u/{token}"
    extra = {
        "base": base,
        "bureau": False,
        "unit_csrf": auth.csrf_token(request, token),
        "max_mb": site.settings.max_upload_bytes // (1024 * 1024),
        "flash": MESSAGES.get(request.query_params.get("msg", "")),
    }
    return render(request, "unit.html", data, extra=extra)


MESSAGES = {
    "sent": "已收到，正在审核；几秒钟后刷新本页即可看到审核结果",
    "none": "没有选择文件",
    "explained": "说明已保存；财政局可以看到，以后再报送时同一处的说明会沿用（数值改动后需重新说明）",
    "withdrawn": "说明已撤回",
}


async def template(request: Request) -> Response:
    site, unit, _ = await _unit(request)
    return await unit_template(site, unit)


async def upload(request: Request) -> Response:
    site, unit, token = await _unit(request)
    form = await request.form(max_files=1, max_fields=5)
    auth.check_csrf(request, form, token)
    f = form.get("file")
    made = None
    if isinstance(f, UploadFile) and f.filename:
        upload_id, _task = await intake.receive(site, f, year=unit["year"], unit_id=unit["id"], source="unit")
        made = {"id": upload_id, "filename": display_name(f.filename)}
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"uploads": [made] if made else []})
    return RedirectResponse(f"/u/{token}?msg={'sent' if made else 'none'}", status_code=303)


async def explain(request: Request) -> Response:
    """The unit's explanation of one 警告 of its return (fix or explain), kept by the store for
    later rounds too."""
    site, unit, token = await _unit(request)
    form = await request.form(max_files=0, max_fields=10, max_part_size=8 * 1024)
    auth.check_csrf(request, form, token)
    raw = str(form.get("upload", ""))
    u = await site.aread(lambda c: db.upload(c, int(raw))) if raw.isdigit() else None
    if u is None or u["unit_id"] != unit["id"] or u["state"] != "done" or u["note"] or u["round"] is None:
        raise HTTPException(404, "没有这份报表，或它没有计入本单位")
    where = (str(form.get("rule", "")), str(form.get("sheet", "")) or None, str(form.get("cell", "")) or None)
    text = str(form.get("text", "")).strip()
    try:
        await run_in_threadpool(site.store.explain, u["sha256"], *where, text)
    except StoreError as e:
        raise HTTPException(400, str(e)) from None
    await site.awrite(lambda c: intake.record_explanation(c, unit["id"], u["sha256"], where, text))
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"explained": bool(text)})
    return RedirectResponse(f"/u/{token}?msg={'explained' if text else 'withdrawn'}", status_code=303)


async def upload_page(request: Request) -> Response:
    site, unit, token = await _unit(request)
    u = await _own_upload(request, site, unit)
    data = {"upload": upload_data(u), "unit": unit_brief(unit)}
    extra = {"base": f"/u/{token}", "unit_csrf": auth.csrf_token(request, token), "own": True}
    return render(request, "upload.html", data, extra=extra)


async def upload_file(request: Request) -> Response:
    site, unit, _ = await _unit(request)
    u = await _own_upload(request, site, unit)
    return stored_file(site, u, "review")


def routes() -> list[Route]:
    # The ``.json`` forms first: a token never has a dot, but ``{token}`` alone would match one.
    return [
        Route("/u/{token}.json", page),
        Route("/u/{token}", page),
        Route("/u/{token}/template.xlsx", template),
        Route("/u/{token}/upload", closing(upload), methods=["POST"]),
        Route("/u/{token}/explain", closing(explain), methods=["POST"]),
        Route("/u/{token}/uploads/{upload:int}.json", upload_page),
        Route("/u/{token}/uploads/{upload:int}", upload_page),
        Route("/u/{token}/uploads/{upload:int}/review", upload_file),
    ]
