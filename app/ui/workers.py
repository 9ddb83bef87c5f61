"""Everything slow runs here, off the GUI thread: the capture, the live view, one-off tasks.

Workers re-emit the core's progress as Qt signals; panels only render.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Signal

from app.errors import JoulebenchError

log = logging.getLogger(__name__)


def friendly(exc: BaseException) -> str:
    """The operator's message: the core's own text for expected failures, a short line otherwise."""
    if isinstance(exc, JoulebenchError):
        return str(exc)
    log.error("unexpected error: %s", "".join(traceback.format_exception(exc)))
    return f"unexpected error: {type(exc).__name__}: {exc} (details in the log)"


class _Thread(QThread):
    def __init__(self, fn: Callable[[], None]):
        super().__init__()
        self._fn = fn

    def run(self) -> None:
        self._fn()


class TaskWorker(QObject):
    """Runs fn() on a thread; emits done(result) or failed(message, exception)."""

    done = Signal(object)
    failed = Signal(str, object)

    def __init__(self, fn: Callable[[], Any]):
        super().__init__()
        self._fn = fn
        self.thread = _Thread(self._run)

    def _run(self) -> None:
        try:
            result = self._fn()
        except BaseException as exc:  # noqa: BLE001 - reported to the operator, never raised into Qt
            self.failed.emit(friendly(exc), exc)
            return
        self.done.emit(result)

    def start(self) -> None:
        self.thread.start()


class CaptureWorker(QObject):
    """Runs app.capture.procedure.Capture on a thread."""

    progress = Signal(object)          # app.capture.procedure.Progress
    line = Signal(str, str)            # stream, text
    finished = Signal(object)          # CaptureOutcome
    failed = Signal(str, object, object)   # message, CaptureOutcome or None, the exception behind it
    run_analysed = Signal(object)      # app.ui.memory_run.MemoryRun: a finished run, while the capture goes on

    def __init__(self, request):
        super().__init__()
        self.request = request
        inner = request.after_run

        def after_run(capture, n, item, record):
            if inner is not None:
                inner(capture, n, item, record)
            # a run with more to come is shown from memory; the last one opens from its file when the capture
            # ends (drawing it twice would stall the window twice)
            if record is not None and capture.last_windows and n < len(capture.plan):
                from app.ui.memory_run import MemoryRun
                self.run_analysed.emit(MemoryRun(n, record, capture.last_windows[0], capture.last_details or {},
                                                 capture.last_attrs or {}))
        request.after_run = after_run
        self.cancel = threading.Event()
        self.thread = _Thread(self._run)
        self.started_at = 0.0

    def _run(self) -> None:
        from app.capture.procedure import Capture, CaptureFailed
        self.started_at = time.monotonic()
        try:
            outcome = Capture(self.request, progress=self.progress.emit, on_line=self.line.emit,
                              cancel=self.cancel).run()
        except CaptureFailed as exc:
            self.failed.emit(str(exc), exc.outcome, exc.__cause__)
            return
        except BaseException as exc:  # noqa: BLE001
            self.failed.emit(friendly(exc), None, exc)
            return
        self.finished.emit(outcome)

    def start(self) -> None:
        self.thread.start()


class CampaignWorker(QObject):
    """Runs app.capture.campaign.run_campaign on a thread; `table` carries the comparison after every finished run."""

    progress = Signal(object)
    table = Signal(object)             # the campaign document so far
    finished = Signal(object)          # the final document
    failed = Signal(str, object)       # message, the document of what finished

    def __init__(self, bench, suite, out_dir):
        super().__init__()
        self.bench, self.suite, self.out_dir = bench, suite, out_dir
        self.cancel = threading.Event()
        self.thread = _Thread(self._run)

    def _run(self) -> None:
        from app.capture.campaign import document, plan_runs, run_campaign
        from app.capture.procedure import CaptureFailed
        order = [p.label for p in plan_runs(self.suite) if p.scored]

        def on_run(outcome):
            self.table.emit(document(outcome, self.suite, order))
        try:
            outcome, _ = run_campaign(self.bench, self.suite, self.out_dir, progress=self.progress.emit,
                                      cancel=self.cancel, on_run=on_run)
        except CaptureFailed as exc:
            self.failed.emit(str(exc), document(exc.outcome, self.suite, order))
            return
        except BaseException as exc:  # noqa: BLE001
            self.failed.emit(friendly(exc), None)
            return
        self.finished.emit(document(outcome, self.suite, order))

    def start(self) -> None:
        self.thread.start()


class LiveWorker(QObject):
    """Streams live frames of both channels from its own scope connection until stopped."""

    frame = Signal(object, object)     # voltage Waveform, current Waveform
    failed = Signal(str)

    def __init__(self, bench, min_period_s: float = 0.1):
        super().__init__()
        self.bench = bench
        self.min_period_s = min_period_s
        self._stop = threading.Event()
        self.thread = _Thread(self._run)

    def _run(self) -> None:
        from app.bench.connections import (
            acquisition_setup,
            channel_setup,
            open_bench_scope,
        )
        scope = None
        try:
            scope = open_bench_scope(self.bench)
            scope.configure(channel_setup(self.bench.voltage), channel_setup(self.bench.current),
                            acquisition_setup(self.bench))
            scope.run()
            while not self._stop.is_set():
                t0 = time.monotonic()
                v = scope.live_frame(self.bench.voltage.channel)
                i = scope.live_frame(self.bench.current.channel)
                self.frame.emit(v, i)
                self._stop.wait(max(0.0, self.min_period_s - (time.monotonic() - t0)))
        except BaseException as exc:  # noqa: BLE001
            self.failed.emit(friendly(exc))
        finally:
            if scope is not None:
                try:
                    scope.close()
                except JoulebenchError:
                    pass

    def start(self) -> None:
        self.thread.start()

    def stop(self, wait_ms: int = 5000) -> None:
        self._stop.set()
        self.thread.wait(wait_ms)
