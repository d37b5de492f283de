"""What the running application holds: its settings, the store (and the web tables in the same
database), the kept files, the job runner, and the checks in flight."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool

from perfxl.batch.store import Store, open_store
from perfxl.web import db
from perfxl.web.files import Files
from perfxl.web.jobs import Jobs
from perfxl.web.settings import Settings

T = TypeVar("T")


class Site:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.files = Files(settings.data_dir)
        url = settings.store_url
        # Write-ahead log: pages read while checks write. Not for a database on a network drive,
        # which is why it is only used for the server's own SQLite file.
        self.store: Store = open_store(url, wal="://" not in url)
        db.create(self.store.engine)
        self.jobs = Jobs(settings.workers)
        self.tasks: set[asyncio.Task[Any]] = set()
        self.summaries: dict[int, asyncio.Task[Any]] = {}  # year -> the summary being made

    def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        self.store.close()

    def read(self, fn: Callable[[Connection], T]) -> T:
        with self.store.engine.connect() as conn:
            return fn(conn)

    def write(self, fn: Callable[[Connection], T]) -> T:
        with self.store.engine.begin() as conn:
            return fn(conn)

    async def aread(self, fn: Callable[[Connection], T]) -> T:
        return await run_in_threadpool(self.read, fn)

    async def awrite(self, fn: Callable[[Connection], T]) -> T:
        return await run_in_threadpool(self.write, fn)

    def spawn(self, work: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Run ``work`` in the background, kept referenced until it is done."""
        task = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task
