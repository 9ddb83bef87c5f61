"""Drive the app offscreen through a demo capture and a review; save PNGs for the README.

    QT_QPA_PLATFORM=offscreen python3 tools/screenshots.py [--out resources/screenshots] [--size 1366x768]

The README's pictures are taken at 1 366×768, a laptop's screen (the window must fit it); --size 1920x1080
takes them at Full HD (into a folder of their own with --out).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
log = logging.getLogger("screenshots")


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="resources/screenshots")
    ap.add_argument("--size", default="1366x768", help="the window's size, WIDTHxHEIGHT (default 1366x768)")
    args = ap.parse_args()
    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        ap.error(f"--size {args.size!r}: write it as WIDTHxHEIGHT, e.g. 1366x768")
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from app.bench.config import DEMO_BENCH, load_bench
    from app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="jb-shots-"))
    w = MainWindow(load_bench(DEMO_BENCH), demo=True, sessions_dir=tmp / "sessions",
                   settings=QSettings(str(tmp / "s.ini"), QSettings.IniFormat))
    w.resize(width, height)
    w.show()

    def wait(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def shot(name: str) -> None:
        app.processEvents()
        if (w.width(), w.height()) != (width, height):     # the window grew past the screen it is meant for
            raise SystemExit(f"{name}: the window is {w.width()}x{w.height()}, not {width}x{height}: something "
                             "in it asks for more room than the screen has")
        w.grab().save(str(out / f"{name}.png"))
        log.info("saved %s.png", out / name)

    w.tabs.setCurrentWidget(w.bench_panel)
    shot("bench")
    w.tabs.setCurrentWidget(w.live)
    w.live.run_button.click()
    wait(2500)
    shot("live")
    w.live.run_button.click()
    w.tabs.setCurrentWidget(w.capture_panel)
    w.capture_panel.workload_box.setCurrentText("heat-slab-numpy")
    w.capture_panel.params.setText("trials=400")
    done = {}
    w.capture_done.connect(lambda o: done.setdefault("o", o))
    w.capture_failed.connect(lambda m: done.setdefault("err", m))
    w.capture_panel.capture_button.click()
    wait(1500)
    shot("capture")
    while not done:
        wait(200)
    if "err" in done:
        log.error("capture failed: %s", done["err"])
        return 1
    wait(800)                          # the review draws the new run on later turns of the event loop
    shot("results")
    w.tabs.setCurrentWidget(w.sessions)
    w.sessions.refresh()
    w.sessions.open_path(done["o"].session_path)
    tr = w.sessions.plot.trace
    w.sessions.plot.set_markers(0.0, min(tr.t_last, 0.8))
    shot("review")
    # a campaign: the quick heat-slab suite, its entries named in the table, Results and the review
    from app.bench.config import DEMO_BENCH as _bench
    suite = _bench.parent / "suites" / "heat-slab-quick.toml"
    campaign = {}
    w.campaign_done.connect(lambda doc: campaign.setdefault("doc", doc))
    w.tabs.setCurrentWidget(w.campaign_panel)
    w.campaign_panel.load(str(suite))
    w.campaign_panel.run_button.click()
    while not campaign:
        wait(200)
    if campaign["doc"] is None:
        log.error("the campaign failed: %s", w.message.text)
        return 1
    w.sessions.show_run(Path(campaign["doc"]["session"]), 1)     # the review names the run's entry
    wait(800)
    shot("campaign")
    w.close()
    w.deleteLater()
    app.processEvents()
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # PySide6 6.12 can crash while the interpreter tears down Qt objects of finished worker threads;
    # everything is saved by now, so leave without that teardown
    os._exit(code)
