"""Notes at the markers (app/session/annotations.py): those of the window on show drawn on the voltage plot,
a new one saved into the session (append-only; the raw data untouched) and shown again."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog

from app.errors import JoulebenchError
from app.session.annotations import add_annotation, read_annotations
from app.session.reader import RunView
from app.ui.trace_context import note_brush

NOTE_COLOR = (120, 0, 160)


class NoteController:
    """review: the session browser, or anything with its members: `current` and `reader` (the session on
    show), `shown()` (run, window), the `plot`, `show_run`, `close_reader` and an `error` signal; it is also
    the note dialog's parent widget."""

    def __init__(self, review):
        self.review = review
        self.items: list = []                      # the drawn notes of the window on show

    def show(self, run: RunView, window: int) -> None:
        plot0 = self.review.plot.plots[0][0]
        self.clear()
        for a in read_annotations(run.group):
            if a.window != window:
                continue
            if a.t1_s > a.t0_s:
                item = pg.LinearRegionItem((a.t0_s, a.t1_s), movable=False, brush=note_brush())
                item.setToolTip(a.text)
                label = pg.InfLineLabel(item.lines[0], text=a.text, position=0.9, color=NOTE_COLOR)
                item._label = label
            else:
                item = pg.InfiniteLine(a.t0_s, angle=90, movable=False, pen=pg.mkPen(NOTE_COLOR, style=Qt.DotLine),
                                       label=a.text, labelOpts={"position": 0.9, "color": NOTE_COLOR})
            plot0.addItem(item, ignoreBounds=True)
            self.items.append(item)
        self.review.plot.overlay.update_legend(notes=len(self.items))

    def clear(self) -> None:
        plot0 = self.review.plot.plots[0][0]
        for item in self.items:
            plot0.removeItem(item)
        self.items = []
        self.review.plot.overlay.update_legend(notes=0)

    def ask_note(self) -> None:
        if self.review.current is None:
            self.review.error.emit("open a session first (Ctrl+O)")
            return
        text, ok = QInputDialog.getText(self.review, "Note at the markers", "Name or note (saved in the session):")
        if ok:
            self.add_note(text)

    def add_note(self, text: str) -> bool:
        """Save the markers' span with a note into the session (append-only) and show it again."""
        r = self.review
        if r.current is None or r.reader is None:
            return False
        run, window = r.shown()
        t0, t1 = r.plot.marker_times()
        path = r.current
        r.close_reader()
        try:
            add_annotation(path, run, window, t0, t1, text)
        except JoulebenchError as exc:
            r.error.emit(str(exc))
            return False
        finally:
            r.show_run(path, run, window)
            r.plot.set_markers(t0, t1)
        return True
