"""The bureau's pages: sign-in, 年度任务 (edition, year, roster, unit links), 模板, 收表, 单位一览 with
each unit's findings, 汇总 and 历年. Each page is also JSON (append ``.json``).

Handlers only read the request, call the database, the job runner or ``perfxl.api`` (through the
job processes of ``work``), and render. Anything that parses an uploaded file runs in a job.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import shutil
from pathlib import Path
from typing import Any

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from perfxl import api
from perfxl.form.template import file_name
from perfxl.web import auth, board, db, intake, summary, work
from perfxl.web.files import display_name, suffix_of
from perfxl.web.jobs import JobFailed
from perfxl.web.state import Site
from perfxl.web.views import closing, render

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def site_of(request: Request) -> Site:
    return request.app.state.site  # type: ignore[no-any-return]


def flash(request: Request, text: str) -> None:
    request.session["flash"] = text


def take_flash(request: Request) -> str | None:
    if "flash" not in request.session:  # popping an absent key would still rewrite the cookie
        return None
    return str(request.session.pop("flash"))


def back(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def year_of(request: Request, tasks: list[dict[str, Any]]) -> int | None:
    """The year asked for (``?year=``), else the newest task's."""
    raw = request.query_params.get("year", "")
    if raw.isdigit():
        return int(raw)
    return tasks[0]["year"] if tasks else None


def int_param(request: Request, name: str) -> int:
    raw = str(request.path_params.get(name, ""))
    if not raw.isdigit():
        raise HTTPException(404)
    return int(raw)


async def context(request: Request) -> tuple[Site, list[dict[str, Any]], int | None]:
    """Every bureau page: the bureau signed in, the tasks and the year shown."""
    auth.bureau(request)
    site = site_of(request)
    tasks = await site.aread(db.tasks)
    return site, tasks, year_of(request, tasks)


def frame(request: Request, tasks: list[dict[str, Any]], year: int | None) -> dict[str, Any]:
    """What the page frame shows (HTML only): the year picker and a message left for this page."""
    return {"tasks": tasks, "year": year, "flash": take_flash(request)}


def no_task(request: Request, page: str) -> Response:
    """There is no yearly task yet: the page's empty JSON, or off to 年度任务 to set one up."""
    if request.url.path.endswith(".json"):
        return JSONResponse({"year": None, page: []})
    flash(request, "请先在“年度任务”中选择年度与版本、上传单位名册")
    return back("/tasks")


# ------------------------------------------------------------------ sign-in


async def home(request: Request) -> Response:
    auth.bureau(request)
    return back("/units")


async def login(request: Request) -> Response:
    next_url = auth.safe_next(request.query_params.get("next"))
    if request.method == "GET":
        return render(request, "login.html", {}, extra={"next": next_url, "error": None})
    form = await request.form()
    auth.check_csrf(request, form)
    if auth.sign_in(request, str(form.get("password", ""))):
        return back(auth.safe_next(str(form.get("next", "")) or next_url))
    extra = {"next": next_url, "error": "密码不正确"}
    return render(request, "login.html", {}, extra=extra, status_code=401)


async def logout(request: Request) -> Response:
    form = await request.form()
    auth.check_csrf(request, form)
    auth.sign_out(request)
    return back("/login")


# ------------------------------------------------------------------ 年度任务


async def tasks_page(request: Request) -> Response:
    site, tasks, year = await context(request)
    editions = [dataclasses.asdict(e) for e in api.editions()]
    data = {"tasks": tasks, "editions": editions}
    return render(request, "tasks.html", data, page="tasks", extra=frame(request, tasks, year))


async def save_task(request: Request) -> Response:
    site, tasks, _ = await context(request)
    form = await request.form(max_files=1, max_fields=10, max_part_size=64 * 1024)
    auth.check_csrf(request, form)
    year_text, edition = str(form.get("year", "")).strip(), str(form.get("edition", "")).strip()
    roster = form.get("roster")
    if not year_text.isdigit() or not 2000 <= int(year_text) <= 2100:
        return _task_error(request, "年度应为四位数字，如 2020")
    if edition not in {e.name for e in api.editions()}:
        return _task_error(request, "请选择表样版本")
    if not isinstance(roster, UploadFile) or not roster.filename:
        return _task_error(request, "请选择单位名册文件（CSV 或 .xlsx）")
    name = display_name(roster.filename)
    suffix = suffix_of(name)
    if suffix not in (".csv", ".xlsx"):
        return _task_error(request, f"名册“{name}”应为 CSV（UTF-8 或 GBK）或 .xlsx 文件")
    year = int(year_text)
    sha, _size = await site.files.save(intake.chunks(roster), suffix, site.settings.max_upload_bytes)
    path = str(site.files.path(sha, suffix))
    try:
        units = await site.jobs.run(site.settings.job_seconds, work.roster, path, edition, year)
    except JobFailed as e:
        return _task_error(request, f"名册无法使用：{e}")
    counts = await site.awrite(lambda c: db.save_task(c, year, edition, units, (sha, suffix, name)))
    said = f"新增 {counts['added']} 个，保留 {counts['kept']} 个" + (
        f"，移出 {counts['removed']} 个（其链接已停用）" if counts["removed"] else ""
    )
    if request.url.path.endswith(".json"):
        return JSONResponse({"year": year, "edition": edition, **counts})
    flash(request, f"{year} 年度名册已导入：{said}")
    return back(f"/tasks/{year}")


def _task_error(request: Request, text: str) -> Response:
    if request.url.path.endswith(".json"):
        return JSONResponse({"error": text}, status_code=400)
    flash(request, text)
    return back("/tasks")


def link_base(request: Request) -> str:
    public = site_of(request).settings.public_url
    return (public or str(request.base_url)).rstrip("/")


async def task_page(request: Request) -> Response:
    site, tasks, _ = await context(request)
    year = int_param(request, "year")
    task = next((t for t in tasks if t["year"] == year), None)
    if task is None:
        raise HTTPException(404, "没有这个年度的任务")
    units = await site.aread(lambda c: db.units(c, year))
    base = link_base(request)
    listed = [
        {
            "id": u["id"],
            "code": u["code"],
            "name": u["name"],
            "link": f"{base}/u/{u['token']}" if u["token"] else None,
        }
        for u in units
    ]
    data = {"task": task, "units": listed}
    return render(request, "task.html", data, page="tasks", extra=frame(request, tasks, year))


async def link_action(request: Request) -> Response:
    site, _, _ = await context(request)
    year, unit_id = int_param(request, "year"), int_param(request, "unit")
    form = await request.form()
    auth.check_csrf(request, form)
    unit = await site.aread(lambda c: db.unit(c, unit_id))
    if unit is None or unit["year"] != year:
        raise HTTPException(404)
    action = request.path_params["action"]
    if action not in ("reissue", "revoke"):
        raise HTTPException(404)
    await site.awrite(lambda c: (db.reissue if action == "reissue" else db.revoke)(c, unit_id))
    done = "已重新生成链接，旧链接已失效" if action == "reissue" else "已停用链接"
    flash(request, f"{unit['name']}：{done}")
    return back(f"/tasks/{year}")


async def links_csv(request: Request) -> Response:
    site, _, _ = await context(request)
    year = int_param(request, "year")
    units = await site.aread(lambda c: db.units(c, year))
    base = link_base(request)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["预算编码", "单位名称", "报送链接"])
    for u in units:
        writer.writerow(
            [
                _cell(u["code"] or ""),
                _cell(u["name"]),
                f"{base}/u/{u['token']}" if u["token"] else "（已停用）",
            ]
        )
    # UTF-8 with BOM: Excel on Chinese Windows opens it with the right characters.
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": _attachment(f"{year}年度_单位报送链接.csv")},
    )


def _cell(text: str) -> str:
    """Text that Excel would take for a formula (=, +, -, @) is kept as text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _attachment(name: str) -> str:
    from urllib.parse import quote

    return f"attachment; filename=\"download{Path(name).suffix}\"; filename*=UTF-8''{quote(name)}"


# ------------------------------------------------------------------ 模板


async def templates_page(request: Request) -> Response:
    site, tasks, year = await context(request)
    if year is None:
        return no_task(request, "units")
    units = await site.aread(lambda c: db.units(c, year))
    listed = [{"id": u["id"], "code": u["code"], "name": u["name"]} for u in units]
    return render(
        request,
        "templates.html",
        {"year": year, "units": listed},
        page="templates",
        extra=frame(request, tasks, year),
    )


async def template_file(request: Request) -> Response:
    site, _, _ = await context(request)
    year, unit_id = int_param(request, "year"), int_param(request, "unit")
    unit = await site.aread(lambda c: db.unit(c, unit_id))
    if unit is None or unit["year"] != year:
        raise HTTPException(404)
    return await unit_template(site, unit)


async def unit_template(site: Site, unit: dict[str, Any]) -> Response:
    """One unit's template, prefilled from the roster and from last year's store."""
    task = await site.aread(lambda c: db.task(c, unit["year"]))
    assert task is not None
    scratch = site.files.scratch()
    out = scratch / "template.xlsx"
    who = (unit["name"], unit["code"] or "", unit["year"])
    try:
        await site.jobs.run(
            site.settings.job_seconds,
            work.template,
            str(out),
            task["edition"],
            who,
            unit["options"],
            unit["prefill"],
            site.settings.store_url,
        )
    except JobFailed as e:
        shutil.rmtree(scratch, ignore_errors=True)
        raise HTTPException(500, f"模板生成失败：{e}") from None
    return FileResponse(
        out,
        media_type=XLSX,
        filename=file_name(api.Unit(*who)),
        background=BackgroundTask(shutil.rmtree, scratch, ignore_errors=True),
    )


async def templates_zip(request: Request) -> Response:
    site, tasks, _ = await context(request)
    year = int_param(request, "year")
    task = next((t for t in tasks if t["year"] == year), None)
    if task is None:
        raise HTTPException(404)
    units = await site.aread(lambda c: db.units(c, year))
    entries, taken = [], set()
    for u in units:
        name = file_name(api.Unit(u["name"], u["code"] or "", year))
        if name in taken:  # two units of one name: keep both files
            name = f"{Path(name).stem}_{u['id']}.xlsx"
        taken.add(name)
        entries.append((name, (u["name"], u["code"] or "", year), u["options"], u["prefill"]))
    scratch = site.files.scratch()
    out = scratch / "templates.zip"
    try:
        await site.jobs.run(
            site.settings.summary_seconds,
            work.templates_zip,
            str(out),
            task["edition"],
            entries,
            site.settings.store_url,
        )
    except JobFailed as e:
        shutil.rmtree(scratch, ignore_errors=True)
        raise HTTPException(500, f"模板生成失败：{e}") from None
    return FileResponse(
        out,
        media_type="application/zip",
        filename=f"{year}年度_全部单位模板.zip",
        background=BackgroundTask(shutil.rmtree, scratch, ignore_errors=True),
    )


# ------------------------------------------------------------------ 收表


async def intake_page(request: Request) -> Response:
    site, tasks, year = await context(request)
    if year is None:
        return no_task(request, "uploads")
    uploads = await site.aread(lambda c: db.uploads(c, year=year, limit=500))
    names = {u["id"]: u["name"] for u in await site.aread(lambda c: db.units(c, year, listed_only=False))}
    rows = [_upload_row(u, names) for u in uploads]
    data = {"year": year, "uploads": rows}
    extra = {**frame(request, tasks, year), "max_mb": site.settings.max_upload_bytes // (1024 * 1024)}
    return render(request, "intake.html", data, page="intake", extra=extra)


def _upload_row(u: dict[str, Any], names: dict[int, str]) -> dict[str, Any]:
    keys = ("id", "filename", "uploaded_at", "source", "state", "status", "reason", "note")
    row = {k: u[k] for k in keys}
    row |= {k: u[k] for k in ("errors", "warnings", "infos", "explained", "round")}
    row |= {k: u[k] for k in ("recomputed_total", "recomputed_grade", "review")}
    row["unit_id"] = u["unit_id"]
    row["unit"] = names.get(u["unit_id"]) if u["unit_id"] is not None else None
    return row


async def upload_returns(request: Request) -> Response:
    """One or many returns (field ``file``); JSON for the page's script, else back to the page."""
    site, tasks, year = await context(request)
    form = await request.form(max_files=site.settings.max_files_per_request, max_fields=10)
    auth.check_csrf(request, form)
    files = [f for f in form.getlist("file") if isinstance(f, UploadFile) and f.filename]
    if year is None or not any(t["year"] == year for t in tasks):
        raise HTTPException(400, "请先建立本年度的任务")
    made = []
    for f in files:
        upload_id, _task = await intake.receive(site, f, year=year, unit_id=None, source="bureau")
        made.append({"id": upload_id, "filename": display_name(f.filename)})
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"uploads": made})
    flash(request, f"已收到 {len(made)} 个文件，正在审核" if made else "没有选择文件")
    return back(f"/intake?year={year}")


async def upload_page(request: Request) -> Response:
    """One upload: its check, its findings, its files (bureau view)."""
    site, tasks, _ = await context(request)
    upload_id = int_param(request, "upload")
    u = await site.aread(lambda c: db.upload(c, upload_id))
    if u is None:
        raise HTTPException(404)
    unit = await site.aread(lambda c: db.unit(c, u["unit_id"])) if u["unit_id"] is not None else None
    data = {"upload": upload_data(u), "unit": unit_brief(unit)}
    extra = {**frame(request, tasks, u["year"]), "base": "", "own": None}
    return render(request, "upload.html", data, page="intake", extra=extra)


def unit_brief(unit: dict[str, Any] | None) -> dict[str, Any] | None:
    return {k: unit[k] for k in ("id", "code", "name", "year")} if unit else None


def upload_data(u: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "year", "filename", "sha256", "size", "uploaded_at", "source", "state", "status")
    data = {k: u[k] for k in keys}
    data |= {k: u[k] for k in ("reason", "note", "review", "round", "explained")}
    data["check"] = u["result"]
    return data


async def upload_file(request: Request) -> Response:
    site, _, _ = await context(request)
    u = await site.aread(lambda c: db.upload(c, int_param(request, "upload")))
    if u is None:
        raise HTTPException(404)
    kind = request.path_params["kind"]
    if kind not in ("file", "review"):
        raise HTTPException(404)
    return stored_file(site, u, kind)


def stored_file(site: Site, u: dict[str, Any], kind: str) -> Response:
    """An upload's original (``file``) or its review copy (``review``), under the name it was sent as."""
    if kind == "review":
        path = site.files.review(u["sha256"])
        if not u["review"] or not path.is_file():
            raise HTTPException(404, "这份文件没有审核副本（文件无法使用，或尚未审核完）")
        name = f"{Path(u['filename']).stem}_审核.xlsx"
        return FileResponse(path, media_type=XLSX, filename=name)
    path = site.files.path(u["sha256"], u["suffix"])
    if not path.is_file():
        raise HTTPException(404)
    return FileResponse(path, media_type="application/octet-stream", filename=u["filename"])


# ------------------------------------------------------------------ 单位一览


async def units_page(request: Request) -> Response:
    site, tasks, year = await context(request)
    if year is None:
        return no_task(request, "units")
    q = request.query_params
    sort, desc = q.get("sort", "seq"), q.get("desc") == "1"
    status, text = q.get("status", ""), q.get("q", "")
    everyone = await site.aread(lambda c: board.rows(c, year))
    shown = board.table_of(everyone, sort=sort, desc=desc, status=status, q=text)
    data = {"year": year, "counts": board.counts(everyone), "units": shown}
    extra = {**frame(request, tasks, year), "sort": sort, "desc": desc, "status": status, "q": text}
    extra["statuses"] = board.STATUSES
    return render(request, "units.html", data, page="units", extra=extra)


async def unit_page(request: Request) -> Response:
    site, tasks, _ = await context(request)
    unit_id = int_param(request, "unit")
    unit = await site.aread(lambda c: db.unit(c, unit_id))
    if unit is None:
        raise HTTPException(404)
    data = await unit_data(site, unit)
    extra = {**frame(request, tasks, unit["year"]), "base": "", "bureau": True}
    return render(request, "unit.html", data, page="units", extra=extra)


async def unit_data(site: Site, unit: dict[str, Any]) -> dict[str, Any]:
    """A unit's row, its uploads, and its current return's check (the unit page shows the same)."""
    uploads = await site.aread(lambda c: db.uploads(c, unit_id=unit["id"]))
    row = board.unit_row(unit, uploads)
    current = None
    if row["current"] is not None:
        current = await site.aread(lambda c: db.upload(c, row["current"]))
    listed = [_upload_row(u, {unit["id"]: unit["name"]}) for u in uploads]
    return {
        "unit": {**unit_brief(unit), **row},  # type: ignore[dict-item]
        "current": upload_data(current) if current else None,
        "uploads": listed,
    }


async def approve(request: Request) -> Response:
    site, _, _ = await context(request)
    unit_id = int_param(request, "unit")
    form = await request.form()
    auth.check_csrf(request, form)
    unit = await site.aread(lambda c: db.unit(c, unit_id))
    if unit is None:
        raise HTTPException(404)
    data = await unit_data(site, unit)
    row, sha = data["unit"], str(form.get("sha256", ""))
    if form.get("action") == "withdraw":
        await site.awrite(lambda c: db.approve(c, unit_id, None))
        flash(request, "已撤销“已通过”")
    elif row["sha256"] is None or sha != row["sha256"]:
        flash(request, "该单位的报表已更新，请查看最新报表后再标记")
    elif row["errors"]:
        flash(request, "有“错误”的报表不能标记为已通过：错误必须改正")
    else:
        await site.awrite(lambda c: db.approve(c, unit_id, sha))
        flash(request, f"{unit['name']}：已标记为已通过")
    return back(f"/units/{unit_id}")


# ------------------------------------------------------------------ 汇总 and 历年


async def summary_page(request: Request) -> Response:
    site, tasks, year = await context(request)
    if year is None:
        return no_task(request, "rules")
    data = await summary.state(site, year)
    return render(request, "summary.html", data, page="summary", extra=frame(request, tasks, year))


async def summary_start(request: Request) -> Response:
    site, _, _ = await context(request)
    year = int_param(request, "year")
    form = await request.form()
    auth.check_csrf(request, form)
    await summary.start(site, year)
    if request.url.path.endswith(".json"):
        return JSONResponse(await summary.state(site, year))
    return back(f"/summary?year={year}")


async def summary_file(request: Request) -> Response:
    site, _, _ = await context(request)
    year = int_param(request, "year")
    path = await summary.workbook(site, year)
    if path is None:
        raise HTTPException(404, "汇总工作簿尚未生成或已过期，请在“汇总”页面重新生成")
    return FileResponse(path, media_type=XLSX, filename=f"{year}年度_绩效自评汇总.xlsx")


async def history_page(request: Request) -> Response:
    """``perfxl history``: every round of a unit in the store, across years (the CLI's function)."""
    site, tasks, year = await context(request)
    code, name = request.query_params.get("code", "").strip(), request.query_params.get("name", "").strip()
    known = await site.aread(_known_units)
    rounds: list[dict[str, Any]] = []
    if code or name:
        found = await run_in_threadpool(api.history, site.settings.store_url, code or name)
        sent_as = await site.aread(lambda c: db.names_of(c, [r.sha256 for r in found]))
        for r in sorted(found, key=lambda r: (r.year, r.round)):
            row = dataclasses.asdict(r)
            row["file"] = sent_as.get(r.sha256) or Path(r.file).name  # the name the web app got it as
            rounds.append(row)
    data = {"code": code, "name": name, "rounds": rounds, "units": known}
    return render(request, "history.html", data, page="history", extra=frame(request, tasks, year))


def _known_units(conn: Any) -> list[dict[str, Any]]:
    """Every unit of any year's roster, once (the 历年 page's list to choose from)."""
    seen: dict[str, dict[str, Any]] = {}
    for t in db.tasks(conn):
        for u in db.units(conn, t["year"]):
            seen.setdefault(u["unit_key"], {"code": u["code"], "name": u["name"], "years": []})[
                "years"
            ].append(t["year"])
    return sorted(seen.values(), key=lambda u: (u["code"] or "\uffff", u["name"]))


def routes() -> list[Route]:
    def both(path: str, endpoint: Any, methods: list[str] | None = None) -> list[Route]:
        return [Route(path, endpoint, methods=methods), Route(path + ".json", endpoint, methods=methods)]

    def post(path: str, endpoint: Any) -> Route:
        return Route(path, closing(endpoint), methods=["POST"])

    return [
        Route("/", home),
        Route("/login", closing(login), methods=["GET", "POST"]),
        post("/logout", logout),
        *both("/tasks", tasks_page),
        post("/tasks", save_task),
        post("/tasks.json", save_task),
        *both("/tasks/{year:int}", task_page),
        Route("/tasks/{year:int}/links.csv", links_csv),
        post("/tasks/{year:int}/units/{unit:int}/{action:str}", link_action),
        *both("/templates", templates_page),
        Route("/templates/{year:int}/all.zip", templates_zip),
        Route("/templates/{year:int}/{unit:int}.xlsx", template_file),
        *both("/intake", intake_page),
        post("/intake", upload_returns),
        *both("/uploads/{upload:int}", upload_page),
        Route("/uploads/{upload:int}/{kind:str}", upload_file),
        *both("/units", units_page),
        *both("/units/{unit:int}", unit_page),
        post("/units/{unit:int}/approve", approve),
        *both("/summary", summary_page),
        post("/summary/{year:int}", summary_start),
        Route("/summary/{year:int}.xlsx", summary_file),
        *both("/history", history_page),
    ]
