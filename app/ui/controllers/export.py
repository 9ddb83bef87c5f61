"""Review and export, the writing half: the session on show exported in a format of app/report/formats.py.
The session browser's buttons and the main window's File menu both call ExportController.ask_export."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox

from app.errors import JoulebenchError, ReportError
from app.report.figures import FigurePage
from app.report.formats import (
    FIGURE,
    SELECTION,
    ExportFormat,
    ExportSource,
    export_format,
)
from app.ui.run_names import run_entry
from app.ui.trace_markers import si, stats_box_text

log = logging.getLogger(__name__)
FIGURE_WIDTH_PX = 1800          # a figure's PNG width: sharp on a slide or a printed page

CSV_BYTES_PER_ROW = 80          # "time_s,voltage_v,current_a,power_w" at full precision: about 80 bytes a row
CSV_ASK_ABOVE_BYTES = 200e6


class ExportController:
    """Exports what the review shows. review: the session browser, or anything with its few members: the
    session file on show (`current`), `shown()` (its run and window), the `plot` (a TracePlot: markers,
    statistics, scene) and an `error` signal; it is also the save dialog's parent widget."""

    def __init__(self, review):
        self.review = review

    def ask_export(self, name: str) -> None:
        """Ask where (the format's default name beside the session), then export; a selection's large CSV is
        confirmed first."""
        r = self.review
        if r.current is None:
            r.error.emit("open a session first (Ctrl+O)")
            return
        fmt = export_format(name)
        if fmt.of == SELECTION:
            size = self.selection_csv_bytes()
            if size > CSV_ASK_ABOVE_BYTES and QMessageBox.question(
                    r, "Export the selection", f"The selection at full rate is about {si(size, 'B')} of CSV. "
                    "Write it?") != QMessageBox.Yes:
                return
        path, _ = QFileDialog.getSaveFileName(r, "Export", str(r.current.parent / self.default_name(name)),
                                              f"*.{fmt.suffix}")
        if path:
            self.export(name, path)

    def default_name(self, name: str) -> str:
        stem = self.review.current.stem if self.review.current is not None else "session"
        run, window = self.review.shown()
        return export_format(name).file_name(stem, run, window)

    def selection_csv_bytes(self) -> float:
        """About how large the full-rate CSV of the markers' span will be."""
        plot = self.review.plot
        if plot.trace is None:
            return 0.0
        t0, t1 = plot.marker_times()
        return max(0.0, (t1 - t0) / plot.trace.dx + 1) * CSV_BYTES_PER_ROW

    def figure_title(self) -> str:
        """The session, run (and a campaign's entry), window and the markers' span."""
        run, window = self.review.shown()
        t0, t1 = self.review.plot.marker_times()
        reader = getattr(self.review, "reader", None)
        entry = ""
        if reader is not None and run is not None:
            attrs = reader.run(run).attrs
            entry = f" ({run_entry(attrs)})" if attrs.get("label") else ""
        return (f"{self.review.current.name} · run {run}{entry} · window {window} · "
                f"markers {si(t0, 's')} – {si(t1, 's')}")

    def source(self, fmt: ExportFormat) -> ExportSource:
        """What the format is made from: the session on show; its run, window and the markers' span."""
        plot = self.review.plot
        run, window = self.review.shown()
        if fmt.of == SELECTION:
            t0, t1 = plot.marker_times()
            return ExportSource((Path(self.review.current),), run=run, window=window, start_s=t0, stop_s=t1)
        if fmt.of == FIGURE:
            # the plots as drawn, as a page: the title above, the statistics below (not the box over the trace);
            # nothing on screen is resized or moved, so the review stays as it was
            stats = stats_box_text(plot.last_stats, plot.last_channels)
            page = FigurePage(view=plot, title=self.figure_title(), caption=tuple(stats.splitlines()),
                              hidden=(plot.stats_box,))
            return ExportSource((Path(self.review.current),), run=run, window=window, figure=page,
                                width_px=FIGURE_WIDTH_PX)
        return ExportSource((Path(self.review.current),))

    def export(self, name: str, path: str) -> bool:
        """Writes the export; whatever goes wrong is said in the window (the review's error signal), never
        only on stderr; what was written is said too (its info signal, when it has one)."""
        fmt = export_format(name)
        try:
            if fmt.of == FIGURE and self.review.plot.trace is None:
                raise ReportError("nothing to export yet: open a session and show a window first")
            what = fmt.writer(self.source(fmt), path)
        except (JoulebenchError, OSError) as exc:
            self.review.error.emit(f"export failed: {exc}")
            return False
        except Exception as exc:
            log.exception("export %s to %s failed", name, path)
            self.review.error.emit(f"export failed ({type(exc).__name__}): {exc}; details in the log")
            return False
        info = getattr(self.review, "info", None)
        if info is not None:
            info.emit(f"wrote {path}" + (f": {what}" if what else ""))
        return True
