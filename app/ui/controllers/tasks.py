"""One-off work off the window's thread (find instruments, test the connection, auto-range, zero, trust a
host key): fn() on a worker thread, done(result) back on the window's, a failure shown to the operator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject

from app.ui.workers import TaskWorker


class TaskRunner(QObject):
    """Runs tasks and keeps the running ones (the window waits for them when it closes). A failure is shown
    as "what: message"; a board's host key not yet trusted goes to on_host_key instead (the question)."""

    def __init__(self, notices, on_host_key: Callable[[Exception], None] | None = None, parent=None):
        super().__init__(parent)
        self.notices = notices
        self.on_host_key = on_host_key
        self.workers: list[TaskWorker] = []

    def run(self, fn: Callable[[], Any], done: Callable[[Any], None], what: str) -> TaskWorker:
        worker = TaskWorker(fn)
        worker.done.connect(done)
        worker.failed.connect(lambda msg, exc: self._failed(what, msg, exc))
        worker.thread.finished.connect(lambda: self.workers.remove(worker) if worker in self.workers else None)
        self.workers.append(worker)
        worker.start()
        return worker

    def _failed(self, what: str, message: str, exc) -> None:
        from workloads.errors import HostKeyError
        if isinstance(exc, HostKeyError) and self.on_host_key is not None:
            self.on_host_key(exc)
            return
        self.notices.show_error(f"{what}: {message}")

    def wait(self, ms: int = 10000) -> None:
        """Wait for the running tasks to end (each up to ms)."""
        for t in list(self.workers):
            t.thread.wait(ms)
