"""kill -9 at random moments of a capture: every session file left behind opens, and every run that had
finished is in it (the writer flushes each finished run; a killed capture leaves NAME.h5.partial)."""

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from app.report.tables import session_run_rows
from app.session.reader import SessionReader

ROOT = Path(__file__).resolve().parents[2]


def test_kill_9_at_random_moments_leaves_readable_sessions(tmp_path):
    rng = random.Random(2026)
    finished_total = 0
    for k in range(3):
        folder = tmp_path / f"k{k}"
        proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "capture", "--demo", "--workload", "idle",
                                 "--param", "seconds=0.3", "--repeats", "4", "--windows", "0", "--out", str(folder)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        # wait until the session file exists, then kill at a random moment of the runs
        deadline = time.monotonic() + 60
        while not list(folder.glob("*.h5*")) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(rng.uniform(0.5, 6.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        files = list(folder.glob("*.h5")) + list(folder.glob("*.h5.partial"))
        assert len(files) == 1
        with SessionReader(files[0]) as s:
            finished = [r.number for r in s.runs() if r.status == "complete"]
            assert finished == list(range(1, len(finished) + 1))
        rows = session_run_rows(files[0])                 # `report` works on it, .partial or not
        assert [r["run"] for r in rows if r["run_status"] == "complete"] == finished
        finished_total += len(finished)
    assert finished_total >= 1                            # the kills did not all land before the first run
