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
    assert start_cmd.endswith(".venv/bin/python main.py") and "requirements.txt" in start_cmd
    assert "python3 -m venv .venv" in start_cmd             # works on Debian's externally managed system Python
    assert "pytest" in test_cmd and "requirements-dev.txt" in test_cmd
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_cmd in [line.strip() for line in ci]


def test_help_lists_the_commands():
    out = subprocess.run([sys.executable, str(ROOT / "main.py"), "--help"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0
    for cmd in ("capture", "check", "report", "trace", "sim-scope", "workloads", "zero"):
        assert re.search(rf"^\s+{cmd}\s", out.stdout, flags=re.M), cmd


def test_no_qt_outside_app_ui():
    for path in list((ROOT / "app").rglob("*.py")) + list((ROOT / "instruments").rglob("*.py")) \
            + list((ROOT / "workloads").rglob("*.py")):
        # figures are drawn with pyqtgraph offscreen (docs/architecture.md): the one module outside app/ui
        if "ui" in path.relative_to(ROOT).parts or path == ROOT / "app" / "report" / "figures.py":
            continue
        text = path.read_text()
        assert not re.search(r"^\s*(from|import)\s+(PySide6|pyqtgraph)", text, flags=re.M), path


def test_nothing_shipped_points_at_design_notes_users_do_not_have():
    tracked = subprocess.run(["git", "ls-files"], capture_output=True, text=True, cwd=ROOT).stdout.split()
    for name in tracked:
        path = ROOT / name
        if name.startswith(".ci/") or name == "tests/test_project.py" or path.suffix not in (".py", ".md", ".toml", ".txt", ".sh") or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        assert "../" + "shared" not in text and "CONTRACTS.md" not in text, name


def test_the_docs_the_readme_links_exist():
    readme = (ROOT / "README.md").read_text()
    for link in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (ROOT / link).is_file(), link
