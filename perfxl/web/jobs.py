"""Heavy work off the request thread: each job runs in a process of its own, at most ``workers``
at a time, and is stopped when it overruns its time.

A check runs exactly as ``perfxl check`` runs it (``api.check_files``, with the same resource
limits inside the reader); the process around it adds what a server needs on top: a hostile file
that makes the reader crash or spin costs one process, never the server, and the other uploads
go on. Processes come from a fork server that has already imported perfxl, so starting one
costs milliseconds, and they are never forked from the threaded server itself.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

T = TypeVar("T")

_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["perfxl.web.work"])


class JobFailed(Exception):
    """The job's process ran out of time, died, or raised; the message is Chinese."""


class Jobs:
    """Runs jobs in separate processes, ``workers`` at a time (the rest wait their turn)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._slots: asyncio.Semaphore | None = None

    async def run(self, seconds: float, fn: Callable[..., T], *args: Any) -> T:
        if self._slots is None:  # made on first use, inside the server's event loop
            self._slots = asyncio.Semaphore(self.workers)
        async with self._slots:
            return await asyncio.to_thread(run_in_process, seconds, fn, *args)


def run_in_process(seconds: float, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a new process; its return value, or ``JobFailed``. Blocks the calling thread."""
    receive, send = _CONTEXT.Pipe(duplex=False)
    process = _CONTEXT.Process(target=_child, args=(send, fn, args), daemon=True)
    process.start()
    send.close()
    try:
        if not receive.poll(seconds):
            raise JobFailed(f"处理超过 {seconds:g} 秒仍未完成，已停止（文件可能异常复杂或被恶意构造）")
        ok, value = receive.recv()
    except EOFError:
        raise JobFailed("处理进程意外退出（可能内存不足或文件被恶意构造）") from None
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        receive.close()
    if not ok:
        raise JobFailed(value)
    return value  # type: ignore[no-any-return]


def _child(send: Connection, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        value = fn(*args)
    except Exception as e:  # a bug or a user mistake: the parent says it in the page
        send.send((False, f"{type(e).__name__}: {e}" if not _is_user_error(e) else str(e)))
    else:
        send.send((True, value))
    finally:
        send.close()


def _is_user_error(e: Exception) -> bool:
    from perfxl.api import PerfxlError

    return isinstance(e, PerfxlError)
