"""The parsed edition kept on disk between runs, so that a command does not parse the YAML every time.

Importing PyYAML, parsing and validating an edition costs ≈ 15 ms of a ≈ 140 ms cold ``perfxl check``;
loading the pickled result costs ≈ 2 ms. A stored edition is found by a digest of everything it is
built from: the bytes of its two files and the code that builds it (perfxl's version, and the size and
time of every module of ``perfxl.spec``), so an edited rubric, a new release or a changed checkout is
parsed afresh and stored again. Storing is an optimisation only: a file that cannot be read, loaded or
written is ignored and the edition is parsed as before.

The files live in the user's own cache directory (``%LOCALAPPDATA%\\perfxl\\Cache`` on Windows, not the
roaming profile that a domain logon copies around; ``~/.cache/perfxl`` on Linux), or in
``$PERFXL_CACHE_DIR``; an empty ``PERFXL_CACHE_DIR`` turns storing off. Unpickling runs code, so a file
is loaded only from a directory and a file that the user owns and that nobody else may write.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Callable
from pathlib import Path

from perfxl import __version__
from perfxl.atomic import atomic_target
from perfxl.spec.model import Edition

_SPEC = Path(__file__).resolve().parent


def cache_dir() -> Path | None:
    """Where parsed editions are kept, or None when storing is turned off."""
    chosen = os.environ.get("PERFXL_CACHE_DIR")
    if chosen is not None:
        return Path(chosen) if chosen else None
    import platformdirs  # only on this path: $PERFXL_CACHE_DIR needs no lookup

    return Path(platformdirs.user_cache_dir("perfxl", appauthor=False))


def _code_stamp() -> bytes:
    """What identifies the code that builds an edition: a changed module makes a different digest."""
    parts = [__version__]
    for path in sorted(_SPEC.rglob("*.py")):
        st = path.stat()
        parts.append(f"{path.relative_to(_SPEC)}:{st.st_size}:{st.st_mtime_ns}")
    return "\n".join(parts).encode()


def _digest(files: list[Path]) -> str:
    h = hashlib.sha256(_code_stamp())
    for path in files:
        data = path.read_bytes()
        h.update(f"\n{len(data)}\n".encode())
        h.update(data)
    return h.hexdigest()[:40]


def _trusted(path: Path) -> bool:
    """The file and its directory belong to this user and nobody else may write them (POSIX)."""
    if os.name != "posix":
        return True  # %LOCALAPPDATA% is private to the user by its ACL
    uid = os.getuid()
    for p in (path.parent, path):
        st = p.stat()
        if st.st_uid != uid or st.st_mode & 0o022:
            return False
    return True


def stored_edition(files: list[Path], parse: Callable[[], Edition]) -> Edition:
    """The edition built from ``files``: loaded from the cache when it was stored, else ``parse()``
    and stored. Errors of ``parse`` (a broken edition) propagate; the cache's own never do."""
    folder = cache_dir()
    if folder is None:
        return parse()
    try:
        name = f"{files[0].stem}-{_digest(files)}.pickle"
    except OSError:
        return parse()  # an unreadable file: parsing names it
    path = folder / name
    try:
        if _trusted(path):
            with path.open("rb") as f:
                edition = pickle.load(f)
            if isinstance(edition, Edition):
                return edition
    except Exception:  # noqa: BLE001 - absent, truncated or from another build: parse instead
        pass
    edition = parse()
    _store(folder, path, edition)
    return edition


def _store(folder: Path, path: Path, edition: Edition) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        with atomic_target(path) as tmp:
            tmp.write_bytes(pickle.dumps(edition, protocol=pickle.HIGHEST_PROTOCOL))
        os.chmod(path, 0o600)
        stem = path.name.rsplit("-", 1)[0]
        for old in folder.glob(f"{stem}-{'[0-9a-f]' * 40}.pickle"):  # earlier builds of this edition
            if old != path:
                old.unlink(missing_ok=True)
    except Exception:  # noqa: BLE001 - a read-only or full disk only costs the next run its speed
        pass
