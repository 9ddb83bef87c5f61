"""A board's SSH host key not yet trusted: show its fingerprint, and trust it once the operator has typed
the one read on the board's own console (a changed key is never offered)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QDialog, QWidget

from app.bench.config import BenchConfig
from app.ui.controllers.tasks import TaskRunner


class HostKeyController(QObject):
    """bench_source() gives the bench in use (its target is the board asked about)."""

    def __init__(self, *, bench_source: Callable[[], BenchConfig], tasks: TaskRunner, notices,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.bench_source = bench_source
        self.tasks = tasks
        self.notices = notices
        self.dialog_parent = parent
        self.box = None                  # the question on show (the tests answer it)

    def ask_trust(self, exc) -> None:
        if exc.changed or not exc.fingerprint:
            self.notices.show_error(str(exc))
            return
        from app.ui.host_key_dialog import HostKeyDialog
        box = HostKeyDialog(exc.host, exc.port, exc.fingerprint, self.dialog_parent)
        self.box = box
        if box.exec() == QDialog.Accepted:
            bench = self.bench_source()
            typed = box.typed.text().strip()

            def trust_it():
                from app.bench.connections import make_target
                target = make_target(bench)
                try:
                    return target.trust_host_key(typed)
                finally:
                    target.close()
            self.tasks.run(trust_it, lambda fp: self.notices.show_info(f"trusted {exc.host}'s host key {fp}; try again"),
                           "Trust host key")
        else:
            self.notices.show_error(f"not connected: the host key of {exc.host} was not trusted")
