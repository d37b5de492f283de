"""Suite-wide settings: in CI, tests that need LibreOffice must run, never silently skip."""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest

# Parsed editions are stored in a cache directory of the session's own (spec/stored.py), never in
# the user's: commands the tests start inherit it.
os.environ.setdefault("PERFXL_CACHE_DIR", tempfile.mkdtemp(prefix="perfxl-test-cache-"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    needs_lo = [i for i in items if i.get_closest_marker("libreoffice")]
    if needs_lo and os.environ.get("CI") and shutil.which("soffice") is None:
        raise pytest.UsageError(
            "CI=true but soffice is not installed: the LibreOffice recalculation tests would be skipped. "
            "Run .ci/install-system-deps.sh first."
        )
    needs_chromium = [i for i in items if i.get_closest_marker("chromium")]
    if needs_chromium and os.environ.get("CI"):
        missing = [] if os.path.exists("/usr/bin/chromium") else ["the chromium package"]
        for module in ("playwright", "starlette", "uvicorn"):
            if importlib.util.find_spec(module) is None:
                missing.append(f"the Python package {module} (pip install -e '.[test]')")
        if missing:
            raise pytest.UsageError(
                f"CI=true but {', '.join(missing)} is not installed: the browser tests would be skipped. "
                "Run .ci/install-system-deps.sh first."
            )
    if needs_lo and os.environ.get("CI"):
        from lo_edit import uno_python

        if uno_python() is None:
            raise pytest.UsageError(
                "CI=true but no Python with LibreOffice's uno module (python3-uno): the tests that insert "
                "rows in LibreOffice would be skipped. Run .ci/install-system-deps.sh first."
            )


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server for the whole session (CI must have it: it is never skipped there)."""
    from pgserver import postgres_server, server_bin

    if server_bin() is None:
        if os.environ.get("CI"):
            raise pytest.UsageError(
                "CI=true but PostgreSQL is not installed. Run .ci/install-system-deps.sh first."
            )
        pytest.skip("PostgreSQL server not installed")
    with postgres_server() as url:
        yield url
