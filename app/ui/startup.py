"""The app's start: the main window on a bench file (the demo bench when the file has problems), and the Qt
application around it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

from app.bench.config import DEMO_BENCH, load_bench
from app.errors import JoulebenchError
from app.ui.main_window import MainWindow


def make_main_window(bench_path: str | None, *, demo: bool = False, sessions_dir: str | Path = "sessions",
                     settings: QSettings | None = None) -> MainWindow:
    """The main window on a bench file; a bench file with problems still opens the app (on the demo bench),
    with the file's values in the Bench panel and every problem flagged at its field."""
    problem = None
    if bench_path:
        try:
            return MainWindow(load_bench(bench_path), demo=demo, sessions_dir=sessions_dir, settings=settings)
        except JoulebenchError as exc:
            problem = exc
    window = MainWindow(load_bench(DEMO_BENCH), demo=True, sessions_dir=sessions_dir, settings=settings)
    if problem is not None:
        window.show_bench_file_problems(bench_path, problem)
    return window


def run_gui(bench_path: str | None = None, demo: bool = False, sessions_dir: str = "sessions") -> int:
    import os
    import sys
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY") \
            and "QT_QPA_PLATFORM" not in os.environ:
        print("no display found: set DISPLAY, or QT_QPA_PLATFORM=offscreen to run without one", file=sys.stderr)
        return 2
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("Joulebench")
    window = make_main_window(bench_path, demo=demo, sessions_dir=sessions_dir)
    window.show()
    code = app.exec()
    window.deleteLater()
    app.processEvents()
    sys.stdout.flush()
    sys.stderr.flush()
    # PySide6 6.12 can crash while the interpreter tears down Qt objects of finished worker threads;
    # the window has saved everything by now, so leave without that teardown
    os._exit(code)
