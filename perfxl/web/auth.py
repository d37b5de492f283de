"""Who may do what: the bureau signs in with a password (a signed, HttpOnly, SameSite cookie
session); scripts send ``Authorization: Bearer <token>``; a unit holds its private link.

Every secret is compared in constant time (``hmac.compare_digest`` over SHA-256 digests, so not
even the length leaks). Every form carries a CSRF token: the session's own for the bureau, an
HMAC of the link token for a unit page (a unit has no session); a POST without the right one is
refused with 403. Requests authenticated by the Bearer header carry no cookie, so need none.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request

from perfxl.web.settings import Settings


class SignInRequired(Exception):
    """A bureau page was asked for without a session: the app sends the browser to sign in."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def same(given: str, expected: str) -> bool:
    """``given == expected`` in constant time (also for different lengths)."""
    a = hashlib.sha256(given.encode("utf-8")).digest()
    b = hashlib.sha256(expected.encode("utf-8")).digest()
    return hmac.compare_digest(a, b) and bool(expected)


def settings(request: Request) -> Settings:
    return request.app.state.site.settings  # type: ignore[no-any-return]


def bearer_ok(request: Request) -> bool:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and same(token.strip(), settings(request).token)


def signed_in(request: Request) -> bool:
    return request.session.get("bureau") is True


def sign_in(request: Request, password: str) -> bool:
    if not same(password, settings(request).password):
        return False
    request.session.clear()  # a new session, with a new CSRF token
    request.session.update({"bureau": True, "csrf": secrets.token_urlsafe(24)})
    return True


def sign_out(request: Request) -> None:
    request.session.clear()


def bureau(request: Request, *, api: bool = False) -> None:
    """Let the bureau through (signed in, or a script with the API token); else 401 for JSON and
    the API, or off to the sign-in page."""
    if bearer_ok(request) or (not api and signed_in(request)):
        return
    if api or request.url.path.endswith(".json"):
        raise HTTPException(401, "需要登录或 API 令牌（Authorization: Bearer <令牌>）")
    raise SignInRequired(safe_next(request.url.path + (f"?{request.url.query}" if request.url.query else "")))


def safe_next(url: str | None) -> str:
    """A place to go back to after signing in: a path on this site only (no ``//host``)."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return "/"
    return url


def login_url(next_url: str) -> str:
    return "/login?next=" + quote(next_url, safe="")


# ------------------------------------------------------------------ CSRF


def csrf_token(request: Request, unit_token: str | None = None) -> str:
    """The token a form of this page must send back."""
    if unit_token is not None:
        key = settings(request).secret.encode("utf-8")
        return hmac.new(key, b"unit-form:" + unit_token.encode("utf-8"), hashlib.sha256).hexdigest()
    if "csrf" not in request.session:  # the sign-in form, before any session exists
        request.session["csrf"] = secrets.token_urlsafe(24)
    return str(request.session["csrf"])


def check_csrf(request: Request, form: Any, unit_token: str | None = None) -> None:
    """403 unless the form sent this page's CSRF token (script requests with the API token pass)."""
    if unit_token is None and bearer_ok(request):
        return
    sent = form.get("csrf") or request.headers.get("x-csrf-token") or ""
    expected = csrf_token(request, unit_token) if unit_token or "csrf" in request.session else ""
    if not isinstance(sent, str) or not same(sent, expected):
        raise HTTPException(403, "表单已过期或来源不明（CSRF 校验未通过），请刷新页面后重试")
