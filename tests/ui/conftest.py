"""The real main window for the GUI tests, with its settings and sessions in the test's own folder."""

import dataclasses

import pytest
from PySide6.QtCore import QSettings

from app.bench.config import DEMO_BENCH, load_bench
from app.ui.main_window import MainWindow


@pytest.fixture
def make_window(qtbot, tmp_path):
    def make(bench=None, demo=True):
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
        bench = bench or load_bench(DEMO_BENCH)
        bench = dataclasses.replace(bench, target=dataclasses.replace(bench.target, workdir=str(tmp_path / "work")))
        w = MainWindow(bench, demo=demo, sessions_dir=tmp_path / "sessions", settings=settings)
        qtbot.addWidget(w)
        w.show()
        return w
    return make
