"""Rendering: every page is a Jinja2 template over a plain dict, and the same dict is the page's
JSON (ask for the path with ``.json`` appended), as datasette does.

Templates autoescape everything: unit names, file names and messages come from untrusted files.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.templating import Jinja2Templates

from perfxl.report.words import local_time
from perfxl.web import auth

HERE = Path(__file__).parent
NAV = [
    ("tasks", "/tasks", "年度任务"),
    ("templates", "/templates", "模板"),
    ("intake", "/intake", "收表"),
    ("units", "/units", "单位一览"),
    ("summary", "/summary", "汇总"),
    ("history", "/history", "历年"),
]

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
templates = Jinja2Templates(env=_env)


def number(value: Any) -> str:
    """A total or score as people write it: 97, 97.5 (never 97.50000 or 9.75E+1)."""
    if value is None or value == "":
        return "—"
    try:
        d = Decimal(str(value))
    except ArithmeticError:
        return str(value)
    return format(d.normalize(), "f") if d.is_finite() else str(d)


_env.filters["number"] = number
_env.filters["when"] = lambda text: local_time(text) or "—"
_env.filters["urlpart"] = lambda text: quote(str(text), safe="")


Endpoint = Callable[[Request], Awaitable[Response]]


def closing(endpoint: Endpoint) -> Endpoint:
    """The endpoint, closing the request's uploaded files (spooled to temporary files) however it
    ends: Starlette leaves that to the handler, and a refused form (CSRF, 413) would leak them."""

    @functools.wraps(endpoint)
    async def handle(request: Request) -> Response:
        try:
            return await endpoint(request)
        finally:
            await request.close()

    return handle


def wants_json(request: Request) -> bool:
    return request.url.path.endswith(".json")


def jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def render(
    request: Request,
    template: str,
    data: dict[str, Any],
    *,
    page: str = "",
    extra: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    """The page as HTML, or ``data`` as JSON for a ``.json`` path. ``extra`` is for the HTML only."""
    if wants_json(request):
        return JSONResponse(jsonable(data), status_code=status_code)
    extra = extra or {}
    context = {**data, **extra, "nav": NAV, "page": page, "signed_in": auth.signed_in(request)}
    # A unit page has its own form token and must not start a session (it has no sign-in).
    context["csrf"] = extra.get("unit_csrf") or auth.csrf_token(request)
    return templates.TemplateResponse(request, template, context, status_code=status_code)
