"""Bench and connection: the bench in use (the Bench panel's, once applied), find instruments, test the
connection, auto-range and zero the current channel."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from app.bench.config import BenchConfig
from app.ui.bench_panel import BenchPanel
from app.ui.controllers.tasks import TaskRunner


class BenchController(QObject):
    """The Bench panel's actions. show_panel(widget) brings a panel to the front; stop_live() stops the live
    view (auto-range and zero use the scope)."""

    changed = Signal(object)        # the bench in use, when it or what its scope answered changed

    def __init__(self, panel: BenchPanel, bench: BenchConfig, *, demo: bool, notices, tasks: TaskRunner,
                 show_panel: Callable[[QWidget], None], stop_live: Callable[[], None], parent: QWidget | None = None):
        super().__init__(parent)
        self.panel = panel
        self.bench = bench
        self.demo = demo
        self.scope_idn = ""              # the scope's answer to *IDN?, once the connection was tested
        self.notices = notices
        self.tasks = tasks
        self.show_panel = show_panel
        self.stop_live = stop_live
        self.dialog_parent = parent
        panel.bench_changed.connect(self.set_bench)
        panel.find_requested.connect(self.find_instruments)
        panel.test_requested.connect(self.test_connection)
        panel.autorange_requested.connect(self.auto_range)
        panel.zero_requested.connect(self.zero_current)

    def set_bench(self, bench: BenchConfig) -> None:
        self.bench = bench
        self.demo = self.demo and bench.scope.resource.startswith("sim")
        self.notices.clear()
        self.changed.emit(bench)

    def current(self) -> BenchConfig | None:
        """The Bench panel's bench, applied; None (the problem shown, the panel in front) when it has an error."""
        bench = self.panel.apply()
        if bench is None:
            self.notices.show_error("the bench has an error (see the Bench tab): " + self.panel.info.text())
            self.show_panel(self.panel)
        return bench

    def show_file_problems(self, path: str, error: Exception) -> None:
        """A bench file that does not load: its values in the panel, each problem at its field."""
        import tomllib

        from app.bench.config import bench_problems
        problems = [error]
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            data = None
        if isinstance(data, dict):
            self.panel.set_raw(data, str(path))
            problems = bench_problems(data, str(path)) or problems
            self.panel.show_problems(problems)
        self.show_panel(self.panel)
        n = len(problems)
        self.notices.show_error(f"the bench file {path} has {n} problem{'s' if n != 1 else ''} (shown at the "
                                f"fields of the Bench panel): {problems[0]} Fix them and press Apply; until then the "
                                "demo bench is in use.")

    def find_instruments(self) -> None:
        from instruments.visa import list_resources
        visa = self.bench.scope.visa_library
        self.tasks.run(lambda: list_resources(visa),
                       lambda found: self.panel.info.setText("Instruments found: " + (", ".join(found) or
                                                             "none (LAN scopes on raw sockets are not listed: "
                                                             "type TCPIP::address::port::SOCKET)")),
                       "Find instruments")

    def test_connection(self) -> None:
        bench = self.current()
        if bench is None:
            return

        def probe():
            from app.bench.connections import probe_bench
            idn, driver, facts, _ = probe_bench(bench)
            return idn, driver, facts

        def done(result):
            idn, driver, facts = result
            self.scope_idn = idn
            self.changed.emit(self.bench)
            lines = "".join(f"<br>&nbsp;&nbsp;{k}: {str(v)[:200]}" for k, v in facts.items())
            self.panel.info.setText(f"<b>Scope</b>: {idn} (driver {driver})<br><b>Target</b>:{lines}")
            self.notices.show_info("connection tested: scope and target answered")
        self.panel.info.setText("testing the connection…")
        self.tasks.run(probe, done, "Test connection")

    def auto_range(self) -> None:
        bench = self.current()
        if bench is None:
            return
        self.stop_live()

        def work():
            from app.bench.connections import (
                acquisition_setup,
                channel_setup,
                open_bench_scope,
            )
            from instruments.ranging import auto_range
            scope = open_bench_scope(bench)
            try:
                return auto_range(scope, channel_setup(bench.voltage), channel_setup(bench.current),
                                  acquisition_setup(bench))
            finally:
                scope.close()

        def done(r):
            c = bench.current
            level_a = None
            if r.trigger_level_v is not None:
                level_a = r.trigger_level_v * c.a_per_v
            new = dataclasses.replace(
                bench, voltage=dataclasses.replace(bench.voltage, volts_per_div=r.voltage.volts_per_div,
                                                   offset_v=r.voltage.offset_v),
                current=dataclasses.replace(c, volts_per_div=r.current.volts_per_div, offset_v=r.current.offset_v),
                acquisition=dataclasses.replace(bench.acquisition, trigger_level_a=level_a)
                if level_a is not None else bench.acquisition)
            self.panel.set_bench(new)
            self.set_bench(new)
            self.notices.show_info(f"auto-range: {r.message}" + (f"; trigger level {level_a:.4g} A" if level_a else ""))
        self.tasks.run(work, done, "Auto-range")

    def zero_current(self) -> None:
        """Measure the current channel's offset (no current may flow) and put it in the bench's zero_offset_v;
        Save bench keeps it."""
        bench = self.current()
        if bench is None:
            return
        self.stop_live()
        answer = QMessageBox.question(self.dialog_parent, "Zero the current channel",
                                      "No current may flow now: power the board off or short the probe's inputs. "
                                      "Measure the current channel's offset?")
        if answer != QMessageBox.Yes:
            return

        def work():
            from app.bench.zero import measure_zero
            return measure_zero(bench)

        def done(reading):
            new = dataclasses.replace(bench, current=dataclasses.replace(bench.current,
                                                                         zero_offset_v=reading.offset_v))
            self.panel.set_bench(new)
            self.set_bench(new)
            self.notices.show_info(reading.describe(bench.current.a_per_v)
                                   + "; stored as zero_offset_v (Save bench to keep it)")
        self.tasks.run(work, done, "Zero")
