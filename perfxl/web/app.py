"""The application assembled — routes, sessions, limits, security headers, error pages — and
``serve``, which runs it with uvicorn."""

from __future__ import annotations

import html
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from perfxl.web import api_routes, auth, intake, pages, unit
from perfxl.web.files import TooLarge
from perfxl.web.settings import Settings
from perfxl.web.state import Site
from perfxl.web.views import render

HERE = Path(__file__).parent
SESSION_HOURS = 12
FORM_SLACK = 64 * 1024  # multipart framing around the file, allowed on top of the file limit

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)


def create_app(settings: Settings) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await intake.resume(app.state.site)
        try:
            yield
        finally:
            app.state.site.close()

    app = Starlette(
        routes=[
            *api_routes.routes(),
            *unit.routes(),
            *pages.routes(),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ],
        middleware=[
            Middleware(LimitBody, limit=settings.max_upload_bytes + FORM_SLACK),
            Middleware(SecurityHeaders),
            Middleware(
                SessionMiddleware,
                secret_key=settings.secret,
                session_cookie="perfxl_session",
                max_age=SESSION_HOURS * 3600,
                same_site="strict",
                https_only=settings.https,
            ),
        ],
        exception_handlers={
            HTTPException: http_error,
            auth.SignInRequired: to_sign_in,
            TooLarge: too_large,
        },
        lifespan=lifespan,
    )
    app.state.site = Site(settings)
    return app


def _json_wanted(request: Request) -> bool:
    path = request.url.path
    return (
        path.startswith("/api/")
        or path.endswith(".json")
        or "application/json" in request.headers.get("accept", "")
    )


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = (
        exc.detail
        if exc.detail and exc.detail != _default_phrase(exc.status_code)
        else _words(exc.status_code)
    )
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    if _json_wanted(request):
        return JSONResponse({"error": detail}, status_code=exc.status_code, headers=headers)
    return render(
        request, "error.html", {"error": detail, "status": exc.status_code}, status_code=exc.status_code
    )


def _default_phrase(code: int) -> str:
    from http import HTTPStatus

    return HTTPStatus(code).phrase


def _words(code: int) -> str:
    return {404: "没有找到这个页面或文件", 405: "不支持这种请求方式", 401: "需要登录"}.get(
        code, "请求无法处理"
    )


async def to_sign_in(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, auth.SignInRequired)
    return RedirectResponse(auth.login_url(exc.next_url), status_code=303)


async def too_large(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": too_large_text(request.app.state.site.settings.max_upload_bytes)}, 413)


def too_large_text(limit: int) -> str:
    size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
    return f"文件超过上限 {size}（max_upload_bytes）；自评表通常不到 1 MB，请检查是否选错了文件"


class LimitBody:
    """Refuse a request body over ``limit`` bytes before reading it (413), and one whose length is
    not declared (411): the server then enforces that the body is as long as declared."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("POST", "PUT", "PATCH"):
            headers = dict(scope["headers"])
            length = headers.get(b"content-length", b"").decode("latin-1")
            if not length.isdigit():
                if b"transfer-encoding" in headers:
                    await _plain(send, 411, "请求须声明长度（Content-Length）", headers)
                    return
            elif int(length) > self.limit:
                await _plain(send, 413, too_large_text(self.limit - FORM_SLACK), headers)
                return
        await self.app(scope, receive, send)


async def _plain(send: Send, status: int, text: str, request_headers: dict[bytes, bytes]) -> None:
    """The refusal, as JSON, or as a short page for a browser's form post (no script to show it)."""
    if b"text/html" in request_headers.get(b"accept", b""):
        page = f'<!doctype html><meta charset="utf-8"><title>{status}</title><p>{html.escape(text)}</p>'
        body, kind = page.encode("utf-8"), b"text/html; charset=utf-8"
    else:
        body, kind = json.dumps({"error": text}, ensure_ascii=False).encode("utf-8"), b"application/json"
    headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode())]
    headers.append((b"connection", b"close"))  # the body was not read: do not reuse the connection
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    """What every response says to the browser: no framing, no sniffing, no referrer (unit links
    carry their token), only our own scripts and styles, and no caching of pages."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer"),
                ]
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def serve(settings: Settings, host: str, port: int, generated: tuple[str, ...]) -> None:
    """Run the server until Ctrl-C; say once where it is and any secret made up at this start."""
    import uvicorn

    app = create_app(settings)
    where = f"http://{host if ':' not in host else f'[{host}]'}:{port}/"
    lines = [f"perfxl 已启动：{where}（按 Ctrl-C 停止）", f"数据目录：{settings.data_dir}"]
    lines.append(f"数据库：{settings.store_url}")
    if "password" in generated:
        lines.append(f"财政局登录密码（本次启动生成；固定密码请设置 PERFXL_PASSWORD）：{settings.password}")
    if "token" in generated:
        lines.append(f"API 令牌（本次启动生成；固定令牌请设置 PERFXL_TOKEN）：{settings.token}")
    print("\n".join(lines), flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=False, server_header=False)
