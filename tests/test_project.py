"""The project's frame: the README's commands are the ones CI runs and they exist."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands():
    return re.findall(r"```sh\n(.+?)\n```", (ROOT / "README.md").read_text(), flags=re.S)


def test_ci_runs_exactly_the_readme_test_command():
    commands = readme_commands()
    start_cmd, test_cmd = commands[0].strip(), commands[1].strip()
    assert start_cmd.endswith("python3 main.py") and "requirements.txt" in start_cmd
    assert "pytest" in test_cmd and "requirements-dev.txt" in test_cmd
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_cmd in [line.strip() for line in ci]


def test_help_lists_the_commands():
    out = subprocess.run([sys.executable, str(ROOT / "main.py"), "--help"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0
    for cmd in ("capture", "check", "report", "trace", "sim-scope", "workloads"):
        assert re.search(rf"^\s+{cmd}\s", out.stdout, flags=re.M), cmd


def test_no_qt_outside_app_ui():
    for path in list((ROOT / "app").rglob("*.py")) + list((ROOT / "instruments").rglob("*.py")) \
            + list((ROOT / "workloads").rglob("*.py")):
        if "ui" in path.relative_to(ROOT).parts:
            continue
        text = path.read_text()
        assert not re.search(r"^\s*(from|import)\s+(PySide6|pyqtgraph)", text, flags=re.M), path
