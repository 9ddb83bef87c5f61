"""The window's controllers each built alone, on their own panel and stubs for the rest; and the export
format table read by the File menu, the session browser's buttons and the command line."""

import dataclasses
import threading

import pytest
from PySide6.QtWidgets import QFileDialog

from app.bench.config import DEMO_BENCH, load_bench
from app.report import formats
from app.report.formats import (
    ExportFormat,
    ExportSource,
    browser_formats,
    command_formats,
    menu_formats,
)
from app.ui.bench_panel import BenchPanel
from app.ui.campaign_panel import CampaignPanel
from app.ui.controllers.bench import BenchController
from app.ui.controllers.campaign import CampaignController
from app.ui.controllers.live import LiveController
from app.ui.controllers.tasks import TaskRunner
from app.ui.live_view import LiveView
from app.ui.session_browser import SessionBrowser
from tests.session_factory import write_session


class Notices:
    """What the window's message bar is to a controller."""

    def __init__(self):
        self.errors, self.infos, self.cleared = [], [], 0

    def show_error(self, text):
        self.errors.append(text)

    def show_info(self, text):
        self.infos.append(text)

    def clear(self):
        self.cleared += 1


def test_a_task_runs_off_the_window_thread_and_a_failure_is_shown(qtbot):
    notices = Notices()
    tasks = TaskRunner(notices)
    seen = []
    tasks.run(lambda: threading.current_thread().name, seen.append, "Probe")
    qtbot.waitUntil(lambda: bool(seen) and not tasks.workers, timeout=5000)
    assert seen[0] != threading.current_thread().name

    def boom():
        from app.errors import BenchError
        raise BenchError("no route to host")
    tasks.run(boom, seen.append, "Find instruments")
    qtbot.waitUntil(lambda: bool(notices.errors), timeout=5000)
    assert notices.errors == ["Find instruments: no route to host"] and len(seen) == 1


def test_bench_controller_alone_applies_the_panel_and_flags_its_errors(qtbot):
    panel = BenchPanel()
    qtbot.addWidget(panel)
    notices, shown, changed = Notices(), [], []
    bench = load_bench(DEMO_BENCH)
    panel.set_bench(bench)
    ctl = BenchController(panel, bench, demo=True, notices=notices, tasks=TaskRunner(notices),
                          show_panel=shown.append, stop_live=lambda: None)
    ctl.changed.connect(changed.append)
    assert ctl.current() is not None and changed and notices.cleared
    panel.fields["current.shunt_ohm"].setText("-1")
    assert ctl.current() is None
    assert shown == [panel] and "the bench has an error" in notices.errors[-1]
    edited = dataclasses.replace(bench, scope=dataclasses.replace(bench.scope, resource="TCPIP::10.0.0.2::INSTR"))
    ctl.set_bench(edited)
    assert ctl.bench is edited and not ctl.demo          # a real scope: no longer the demo bench


def test_live_controller_alone_refuses_while_busy(qtbot):
    view = LiveView()
    qtbot.addWidget(view)
    notices = Notices()
    ctl = LiveController(view, bench_source=lambda: load_bench(DEMO_BENCH), busy=lambda: True, notices=notices)
    view.run_button.click()
    assert ctl.worker is None and not view.run_button.isChecked()


def test_campaign_controller_alone_shows_a_bad_suite(qtbot, tmp_path, monkeypatch):
    panel = CampaignPanel()
    qtbot.addWidget(panel)
    notices = Notices()
    ctl = CampaignController(panel, sessions_dir=tmp_path, bench_source=lambda: load_bench(DEMO_BENCH),
                             busy=lambda: False, stop_live=lambda: None, sessions_changed=lambda: None,
                             notices=notices)
    from app.errors import JoulebenchError

    def no_suite():
        raise JoulebenchError("choose at least one workload")
    monkeypatch.setattr(panel, "suite", no_suite)
    ctl.start()
    assert notices.errors == ["choose at least one workload"] and ctl.worker is None


def test_the_export_table_feeds_menu_buttons_and_command_line(qtbot, tmp_path, monkeypatch):
    written = []

    def write_fake(source: ExportSource, path):
        written.append((source.sessions, source.run, source.window, path))
        (tmp_path / "fake.txt").write_text("made")
        return "a fake export"
    fake = ExportFormat("fake", "txt", write_fake, "Export fake…", formats.SELECTION, menu="Export &fake…",
                        flag="--fake", help="a fake export", default_name="{stem}_run{run}_fake")
    monkeypatch.setattr(formats, "FORMATS", formats.FORMATS + (fake,))
    assert fake in browser_formats() and fake in menu_formats() and fake in command_formats("trace")
    assert fake not in command_formats("report")
    # the command line: a flag on `trace`, written with the run and window asked for
    from app.cli import main
    session = tmp_path / "s.h5"
    write_session(session, [(4.0, 10.0, 0.5)], workload="known")
    assert main(["trace", str(session), "--run", "1", "--csv", str(tmp_path / "t.csv"),
                 "--fake", str(tmp_path / "f.txt")]) == 0
    assert written[-1][1:] == (1, 1, str(tmp_path / "f.txt"))
    # the session browser: a button, whose save dialog offers the format's name and suffix
    browser = SessionBrowser(tmp_path)
    qtbot.addWidget(browser)
    assert browser.export_buttons["fake"].text() == "Export fake…"
    browser.open_path(session)
    offered = []

    def save_as(parent, title, default, filt):
        offered.append((default, filt))
        return str(tmp_path / "out.txt"), filt
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(save_as))
    browser.export_buttons["fake"].click()
    assert offered[-1][0].endswith("s_run1_fake.txt") and offered[-1][1] == "*.txt"
    assert written[-1][3] == str(tmp_path / "out.txt")


def test_the_file_menu_exports_through_the_browsers_export_controller(make_window, tmp_path, monkeypatch):
    w = make_window()
    labels = [a.text() for a in w.menuBar().actions()[0].menu().actions()]
    assert [f.menu for f in menu_formats()] == [t for t in labels if t in {f.menu for f in menu_formats()}]
    asked = []
    monkeypatch.setattr(w.sessions.exports, "ask_export", asked.append)
    for a in w.menuBar().actions()[0].menu().actions():
        if a.text() == formats.export_format("png").menu:
            a.trigger()
    assert asked == ["png"]


def test_an_unknown_format_is_named():
    with pytest.raises(KeyError, match="no export format 'pdf'"):
        formats.export_format("pdf")
