"""The one thread that writes to the database: every batch waiting at that moment goes into one transaction.

SQLite takes one writer at a time, and each commit costs an fsync: a group
commit keeps the fsyncs few under load, and the request of each batch is
answered only once its transaction is on disk.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from typing import Any

from gazesite.collect.protocol import Batch
from gazesite.collect.storage import Outcome, Storage, StorageError

log = logging.getLogger(__name__)

#: Most batches committed in one transaction.
MAX_GROUP = 500


class Writer:
    """One thread that stores batches: each round commits every batch waiting at that moment in one transaction."""

    def __init__(self, storage: Storage, loop: asyncio.AbstractEventLoop) -> None:
        self.storage, self.loop = storage, loop
        self.queue: queue.SimpleQueue[tuple[Batch, asyncio.Future[Outcome]] | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name="gazesite-collect-writer", daemon=True)
        self.thread.start()

    async def submit(self, batch: Batch) -> Outcome:
        """Store one batch; resolves once it is committed (StorageError if it could not be)."""
        future: asyncio.Future[Outcome] = self.loop.create_future()
        self.queue.put((batch, future))
        return await future

    def _run(self) -> None:
        stopping = False
        while not stopping:
            item = self.queue.get()
            if item is None:
                break
            group = [item]
            while len(group) < MAX_GROUP:
                try:
                    item = self.queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                group.append(item)
            try:
                outcomes: list[Any] = self.storage.store([batch for batch, _ in group])
            except StorageError as exc:
                log.error("%s", exc)
                outcomes = [exc] * len(group)
            except Exception as exc:  # a bug must not stop the writer: every waiting request still gets an answer
                log.exception("storing %d batches failed", len(group))
                outcomes = [StorageError(f"cannot store batches ({type(exc).__name__})")] * len(group)
            for (_, future), outcome in zip(group, outcomes, strict=True):
                self.loop.call_soon_threadsafe(_settle, future, outcome)

    def close(self) -> None:
        """Finish the waiting batches, then stop the thread."""
        self.queue.put(None)
        self.thread.join(timeout=30)


def _settle(future: asyncio.Future[Outcome], outcome: Outcome | Exception) -> None:
    if future.done():
        return
    if isinstance(outcome, Exception):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
