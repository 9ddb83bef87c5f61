"""The live view on the demo bench, offscreen: frames per second, and that it keeps running.

    python benchmarks/live_view.py --seconds 10 --json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from app.bench.config import DEMO_BENCH, load_bench
    from app.ui.live_view import LiveView
    from app.ui.workers import LiveWorker

    _app = QApplication.instance() or QApplication(sys.argv)      # kept alive for the whole run
    bench = load_bench(DEMO_BENCH)
    view = LiveView()
    view.bench = bench
    view.resize(1200, 800)
    view.show()
    worker = LiveWorker(bench)
    errors = []
    worker.frame.connect(view.show_frame)
    worker.failed.connect(errors.append)
    worker.start()

    def wait(s: float) -> None:
        loop = QEventLoop()
        QTimer.singleShot(int(s * 1000), loop.quit)
        loop.exec()
    wait(2.0)
    f0, t0 = view.frames, time.monotonic()
    wait(args.seconds)
    fps = (view.frames - f0) / (time.monotonic() - t0)
    worker.stop()
    out = {"seconds": args.seconds, "frames": view.frames, "fps": fps, "errors": errors,
           "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}}
    print(json.dumps(out) if args.json else "\n".join(f"{k:8s} {v}" for k, v in out.items()), flush=True)
    sys.stderr.flush()
    os._exit(0 if not errors else 1)


if __name__ == "__main__":
    sys.exit(main())
