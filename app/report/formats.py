"""The export formats, one table: each row names a format, its file suffix, its writer and where it is offered.

Three places read it and nothing else lists formats: the File menu (a row with `menu`), the session browser's
buttons (a row with `label`) and the command line's flags (a row with `flag`: on `report` for a format made
from whole sessions, on `trace` for one made from a window's span). Adding a format is one row here and its
writer (a function taking an ExportSource and a path).

Writers import their modules when called, so reading the table (the command line's --help) stays quick and
this module imports no Qt: figures are drawn by app.report.figures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# what a format is made from; the command line offers each kind's flags on its command
SESSIONS = "sessions"        # one or more whole sessions (the CLI's `report`; the browser's session on show)
SELECTION = "selection"      # one window of one run, between two times (the CLI's `trace`; the markers' span)
FIGURE = "figure"            # the review plot as drawn on screen (the desktop app only)
COMMAND_OF = {SESSIONS: "report", SELECTION: "trace"}


@dataclass(frozen=True)
class ExportSource:
    """What an export is made from: the session files, and for a selection its run, window and time span
    (None: from the window's start, to its end), and for a figure the drawing (a pyqtgraph scene)."""

    sessions: tuple[Path, ...]
    run: int | None = None
    window: int | None = None
    start_s: float | None = None
    stop_s: float | None = None
    every: int = 1
    figure: Any = None
    width_px: int | None = None


Writer = Callable[[ExportSource, "str | Path"], str]


@dataclass(frozen=True)
class ExportFormat:
    name: str                    # the key the menu, the buttons and the tests use
    suffix: str                  # the file suffix, without its dot
    writer: Writer               # writes the file; returns what it wrote for a "wrote PATH: …" line ("" for none)
    label: str | None = None     # the session browser's button; None: not offered there
    of: str = SESSIONS           # what it is made from: SESSIONS, SELECTION or FIGURE
    menu: str | None = None      # the File menu's entry (& marks its key); None: not in the menu
    shortcut: str | None = None  # the menu entry's shortcut
    flag: str | None = None      # the command line's flag on the command of its kind; None: not on the command line
    required: bool = False       # the command's flag must be given
    help: str | None = None      # the flag's help
    default_name: str = "{stem}"  # the file name the save dialog offers, without the suffix ({stem}, {run}, {window})

    @property
    def dest(self) -> str:
        """The flag's attribute name in argparse's namespace."""
        return (self.flag or "").lstrip("-").replace("-", "_")

    def file_name(self, stem: str, run: Any = None, window: Any = None) -> str:
        return f"{self.default_name.format(stem=stem, run=run, window=window)}.{self.suffix}"


# -- writers ----------------------------------------------------------------------------------
def _report_csv(source: ExportSource, path: str | Path) -> str:
    from app.report.tables import write_report_csv
    n_runs, n_workloads = write_report_csv(source.sessions, path)
    return f"{n_runs} run rows, {n_workloads} workload summary rows"


def _trace_csv(source: ExportSource, path: str | Path) -> str:
    from app.report.tables import export_trace
    result = export_trace(source.sessions[0], source.run, source.window, path, start_s=source.start_s,
                          stop_s=source.stop_s, every=source.every)
    return f"{result.rows} samples from {result.t_first_s:.9g} s to {result.t_last_s:.9g} s"


def _figure(kind: str) -> Writer:
    def write(source: ExportSource, path: str | Path) -> str:
        from app.report.figures import export_scene
        export_scene(source.figure, path, kind, width_px=source.width_px)
        return ""
    return write


def _comparison_png(source: ExportSource, path: str | Path) -> str:
    from app.report.figures import comparison_png
    from app.report.tables import build_report
    _, summaries = build_report(source.sessions)
    return f"{comparison_png(summaries, path)} by workload"


def _html(source: ExportSource, path: str | Path) -> str:
    from app.report.html import write_html_report
    write_html_report(source.sessions, path)
    return ""


FORMATS: tuple[ExportFormat, ...] = (
    ExportFormat("report", "csv", _report_csv, "Export CSV report…", SESSIONS, flag="--csv", required=True,
                 help="where to write the report", default_name="{stem}_report"),
    ExportFormat("trace", "csv", _trace_csv, "Export marker range as CSV…", SELECTION,
                 menu="Export selection as &CSV…", flag="--csv", required=True,
                 default_name="{stem}_run{run}_window{window}_selection"),
    ExportFormat("png", "png", _figure("png"), "Export plot as PNG… (Ctrl+E)", FIGURE,
                 menu="&Export plot as PNG…", shortcut="Ctrl+E", default_name="{stem}_run{run}_window{window}"),
    ExportFormat("svg", "svg", _figure("svg"), "SVG…", FIGURE, menu="Export plot as S&VG…",
                 default_name="{stem}_run{run}_window{window}"),
    ExportFormat("comparison", "png", _comparison_png, None, SESSIONS, flag="--plot",
                 help="also draw a comparison figure of the workloads", default_name="{stem}_comparison"),
    ExportFormat("html", "html", _html, None, SESSIONS, flag="--html",
                 help="also write a one-page HTML report (table, figure, bench, board, method), self-contained",
                 default_name="{stem}_report"),
)


def export_format(name: str) -> ExportFormat:
    for fmt in FORMATS:
        if fmt.name == name:
            return fmt
    raise KeyError(f"no export format {name!r}; the formats are {', '.join(f.name for f in FORMATS)}")


def browser_formats() -> list[ExportFormat]:
    """The session browser's export buttons, in the table's order."""
    return [f for f in FORMATS if f.label]


def menu_formats() -> list[ExportFormat]:
    """The File menu's export entries, in the table's order."""
    return [f for f in FORMATS if f.menu]


def command_formats(command: str) -> list[ExportFormat]:
    """The formats a command-line command writes (`report`, `trace`), each with its flag, in the table's order."""
    return [f for f in FORMATS if f.flag and COMMAND_OF.get(f.of) == command]
