"""GUI drawing and responsiveness, offscreen.

    python benchmarks/gui_draw.py --points 10000000 --json

frame_ms_median   redraw of a 2×N-point window after a pan (median of 20 pans), rendered offscreen
open_session_s    opening a session whose window holds 2×10·N points, to its first rendered picture
max_stall_ms      the event loop's longest stall (beyond its 10 ms tick) during a demo capture
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def write_big_session(path: Path, n: int) -> None:
    from analysis import make_codes

    from app.measure.energy import PowerTrace, summarise
    from app.session.writer import SessionWriter
    from instruments.waveform import Waveform
    v, i = make_codes(n)
    dx = 1e-7
    vw = Waveform(codes=v, y_increment=0.2, y_origin=0, y_reference=0, x_increment=dx, x_origin=-0.1 * n * dx,
                  code_min=-128, code_max=127, channel=1)
    iw = Waveform(codes=i, y_increment=1e-3, y_origin=0, y_reference=0, x_increment=dx, x_origin=-0.1 * n * dx,
                  code_min=-128, code_max=127, channel=2)
    s = summarise(PowerTrace(vw, iw, shunt_ohm=0.01))
    with SessionWriter(path, bench_toml="", resource="bench") as w:
        run = w.begin_run()
        run.add_window(vw, iw, s, current_scaling={"shunt_ohm": 0.01})
        run.finish({"duration_s": 1.0})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", type=int, default=10_000_000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from app.bench.config import DEMO_BENCH, load_bench
    from app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    tmp = Path(tempfile.mkdtemp(prefix="jb-gui-"))
    n = args.points
    small, big = tmp / "sessions" / "small.h5", tmp / "sessions" / "big.h5"
    write_big_session(small, n)
    write_big_session(big, 10 * n)
    w = MainWindow(load_bench(DEMO_BENCH), demo=True, sessions_dir=tmp / "sessions",
                   settings=QSettings(str(tmp / "s.ini"), QSettings.IniFormat))
    w.resize(1280, 860)
    w.show()
    w.tabs.setCurrentWidget(w.sessions)
    app.processEvents()

    t = time.perf_counter()
    w.sessions.open_path(big)
    w.sessions.plot.grab()
    open_s = time.perf_counter() - t

    w.sessions.open_path(small)
    plot = w.sessions.plot
    vb = plot.plots[0][0]
    lo, hi = vb.viewRange()[0]
    width = (hi - lo) * 0.5
    frames = []
    for k in range(20):
        start = lo + (k % 10) * width * 0.1
        t = time.perf_counter()
        vb.setXRange(start, start + width, padding=0)
        plot.grab()
        frames.append((time.perf_counter() - t) * 1000)

    # responsiveness during a demo capture
    w.tabs.setCurrentWidget(w.capture_panel)
    w.capture_panel.workload_box.setCurrentText("heat-slab-numpy")
    w.capture_panel.params.setText("trials=300")
    gaps = []
    stalls = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.elapsed()]

    def tick():
        now = clock.elapsed()
        gaps.append(now - last[0])
        if now - last[0] > 60:
            stalls.append((now - last[0], w.capture_panel.stage.text()[:60]))
        last[0] = now
    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(10)
    done = {}
    w.capture_done.connect(lambda o: done.setdefault("ok", o))
    w.capture_failed.connect(lambda m: done.setdefault("err", m))
    w.capture_panel.capture_button.click()
    while not done:
        loop = QEventLoop()
        QTimer.singleShot(50, loop.quit)
        loop.exec()
    timer.stop()
    max_stall = max(gaps) - 10 if gaps else None
    out = {"points": n, "frame_ms_median": statistics.median(frames), "open_session_s": open_s,
           "max_stall_ms": max_stall, "stalls_over_60ms": stalls,
           "capture": "ok" if "ok" in done else done.get("err"),
           "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}}
    print(json.dumps(out) if args.json else "\n".join(f"{k:16s} {v}" for k, v in out.items()))
    w.close()
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
