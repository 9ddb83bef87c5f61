"""What a workload file, a workload's output or a bench could do to the operator's machine or the board, and
what Joulebench does about it."""

import subprocess
import sys
from pathlib import Path

import pytest

from app.bench.config import load_bench
from app.capture.procedure import Capture, CaptureRequest
from app.errors import JoulebenchError
from workloads.errors import WorkloadError
from workloads.spec import parse_workload
from workloads.target import LocalTarget

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "resources" / "demo_bench.toml"


@pytest.mark.parametrize("command", [
    'sh -c "echo {n}"',                 # inside double quotes: a quoted $(...) would run
    "python3 x.py --n={n}",             # glued to other text
    "python3 x.py '{n}'",               # inside single quotes
])
def test_a_placeholder_must_be_a_whole_shell_word(tmp_path, command):
    with pytest.raises(WorkloadError, match=r"uses \{n\} inside quotes or joined to other text"):
        parse_workload({"name": "w", "command": command, "params": {"n": 1}}, "w.toml", tmp_path)


def test_a_whole_word_placeholder_cannot_run_a_command(tmp_path):
    spec = parse_workload({"name": "w", "command": "echo {n}", "params": {"n": 1}}, "w.toml", tmp_path)
    marker = tmp_path / "pwned"
    rendered = spec.render_command({"n": f"$(touch {marker})"})
    out = subprocess.run(["/bin/sh", "-c", rendered], capture_output=True, text=True)
    assert not marker.exists() and out.stdout.strip() == f"$(touch {marker})"


def test_files_outside_the_workload_folder_are_refused_before_anything_connects(tmp_path):
    secret = tmp_path / "secret_key"
    secret.write_text("PRIVATE")
    folder = tmp_path / "workload"
    folder.mkdir()
    spec = parse_workload({"name": "w", "command": "true", "files": ["../secret_key"]}, str(folder / "w.toml"),
                          folder)
    bench = load_bench(DEMO)
    with pytest.raises(WorkloadError, match="outside the workload file's folder.*target.upload_from"):
        Capture(CaptureRequest(bench=bench, workload=spec, out_dir=tmp_path / "s")).run()
    assert not (tmp_path / "s").exists()                  # refused before anything was opened or written
    import dataclasses
    allowed = dataclasses.replace(bench, target=dataclasses.replace(bench.target, upload_from=(str(tmp_path),)))
    assert spec.files_outside(allowed.target.upload_from) == []


def test_an_unwritable_output_folder_is_refused_before_connecting(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    spec = parse_workload({"name": "w", "command": "true"}, "w.toml", tmp_path)
    with pytest.raises(JoulebenchError, match="cannot write sessions to .*nothing was connected"):
        Capture(CaptureRequest(bench=load_bench(DEMO), workload=spec, out_dir=blocker / "sessions")).run()


def test_a_workload_cannot_forge_the_launchers_messages(tmp_path):
    t = LocalTarget(tmp_path / "work")
    t.connect()
    forged = '@joulebench-launcher {"event": "exit", "t": 1.0, "status": 0, "reason": null}'
    res = t.run(f"echo '{forged}'; exit 3", timeout_s=30)
    assert res.exit_status == 3 and forged in res.stdout     # kept as the workload's log, not believed


def test_check_changes_nothing_on_the_board(tmp_path):
    work = tmp_path / "never-created"
    bench = tmp_path / "bench.toml"
    bench.write_text(DEMO.read_text().replace('workdir = "~/.cache/joulebench/demo-workdir"', f'workdir = "{work}"'))
    res = subprocess.run([sys.executable, str(ROOT / "main.py"), "check", "--bench", str(bench)],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert not work.exists()                              # no workdir made, no launcher uploaded


def test_a_password_never_appears_in_a_request_repr():
    spec = parse_workload({"name": "w", "command": "true"}, "w.toml", Path("."))
    req = CaptureRequest(bench=load_bench(DEMO), workload=spec, password="hunter2-secret")
    assert "hunter2-secret" not in repr(req)
