"""What one installation of ``perfxl serve`` is configured with: where its data lives, its store,
its secrets and its limits. Every limit is a named setting."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from perfxl.check.limits import LIMITS

MiB = 1024 * 1024

# The largest file accepted (one return, or one roster); past it: 413. The checker's own limit on a
# file's size: a file it would refuse anyway is not kept at all. (A real return is under 1 MB.)
MAX_UPLOAD_BYTES = LIMITS.max_file_size
# Files one multi-file form post (the bureau's 收表 page without JavaScript) may carry.
MAX_FILES_PER_REQUEST = 50
# Wall-clock time one check (or one summary, one zip of templates) may take in its process before
# it is stopped: a hostile file cannot hold a worker for longer.
JOB_SECONDS = 120.0
SUMMARY_SECONDS = 900.0


@dataclass(frozen=True)
class Settings:
    """An installation. ``password`` signs the bureau in; ``token`` authenticates API scripts;
    ``secret`` signs session cookies and CSRF tokens (kept in the data dir, so sessions survive a
    restart); ``workers`` is how many checks run at once (each in its own process)."""

    data_dir: Path
    password: str
    token: str
    secret: str
    db: str = ""  # SQLAlchemy URL or SQLite path; "" = <data_dir>/perfxl.sqlite
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    max_files_per_request: int = MAX_FILES_PER_REQUEST
    job_seconds: float = JOB_SECONDS
    summary_seconds: float = SUMMARY_SECONDS
    workers: int = field(default_factory=lambda: max(1, os.cpu_count() or 1))
    https: bool = False  # behind a TLS proxy: mark cookies Secure
    public_url: str = ""  # how units reach this server (for their links); "" = as the bureau does

    @property
    def store_url(self) -> str:
        return self.db or str(self.data_dir / "perfxl.sqlite")


@dataclass(frozen=True)
class Secrets:
    """Where each secret came from, so ``serve`` prints the generated ones once (and only those)."""

    password: str
    token: str
    generated: tuple[str, ...]  # "password", "token": made up at this start


def load_secrets(data_dir: Path, password_file: Path | None = None) -> tuple[Secrets, str]:
    """The bureau password (``PERFXL_PASSWORD``, else ``password_file``, else generated), the API
    token (``PERFXL_TOKEN``, else generated) and the cookie-signing secret (kept in the data dir)."""
    generated = []
    password = os.environ.get("PERFXL_PASSWORD", "")
    if not password and password_file is not None:
        password = password_file.read_text(encoding="utf-8").strip()
    if not password:
        password, generated = secrets.token_urlsafe(12), ["password"]
    token = os.environ.get("PERFXL_TOKEN", "")
    if not token:
        token = secrets.token_urlsafe(24)
        generated.append("token")
    return Secrets(password, token, tuple(generated)), _cookie_secret(data_dir)


def _cookie_secret(data_dir: Path) -> str:
    path = data_dir / "secret.key"
    if path.is_file():
        return path.read_text(encoding="ascii").strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # readable by this account only
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(value)
    return value
