"""The house's floors (docs/architecture.md), read from the source with ast: imports only go down, no module
takes another module's private name, no import circles, and no module, class or function outgrows its job."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("app", "instruments", "workloads")

# app's floors, lowest first; a module may import its own floor's folder and any floor below it
FLOORS = {"errors": 0, "system": 1, "bench": 2, "measure": 3, "session": 4, "capture": 5, "report": 5, "ui": 6,
          "cli": 7}
MAX_MODULE_LINES, MAX_CLASS_LINES, MAX_FUNCTION_LINES = 600, 300, 120


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


MODULES = all_modules()


def imports_of(name: str, path: Path) -> list[tuple[str, list[str], int]]:
    """(module imported, names taken from it, line) for every import in the file, lazy ones included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, [], node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(up + ([node.module] if node.module else []))
            names = [a.name for a in node.names]
            # `from app.measure import energy` imports the module app.measure.energy
            subs = [f"{base}.{n}" for n in names if f"{base}.{n}" in MODULES]
            out += [(s, [], node.lineno) for s in subs]
            if len(subs) < len(names):
                out.append((base, [n for n in names if f"{base}.{n}" not in MODULES], node.lineno))
    return [(m, n, line) for m, n, line in out if m.split(".")[0] in PACKAGES]


def floor_of(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "app" or len(parts) < 2:
        return None
    return FLOORS.get(parts[1])


def stage(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2])


def test_every_app_module_sits_on_a_floor():
    loose = [m for m in MODULES if m.startswith("app.") and floor_of(m) is None]
    assert loose == [], f"modules outside the floors of docs/architecture.md: {loose}"
    top_level = [p.name for p in (ROOT / "app").glob("*.py") if p.name != "__init__.py"]
    assert len(top_level) <= 8, top_level


def test_imports_only_go_down():
    wrong = []
    for name, path in MODULES.items():
        for target, _, line in imports_of(name, path):
            # app.errors is the root of every error type and imports nothing: the one name all may share
            if name.split(".")[0] in ("instruments", "workloads") and target.split(".")[0] == "app" \
                    and target != "app.errors":
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {target} (instruments and workloads "
                             "never import app)")
            mine, theirs = floor_of(name), floor_of(target)
            if mine is None or theirs is None or stage(name) == stage(target):
                continue
            if theirs >= mine:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {target}: "
                             f"{stage(name)} may not import {stage(target)}")
    assert wrong == [], "\n".join(wrong)


def test_the_shared_error_root_imports_nothing():
    assert imports_of("app.errors", MODULES["app.errors"]) == []


def test_no_private_name_crosses_modules():
    wrong = []
    for name, path in MODULES.items():
        for target, names, line in imports_of(name, path):
            for n in names:
                if n.startswith("_") and not n.startswith("__"):
                    wrong.append(f"{path.relative_to(ROOT)}:{line} takes {target}.{n}")
    assert wrong == [], "\n".join(wrong)


def test_no_import_circles():
    graph = {name: {t for t, _, _ in imports_of(name, path) if t in MODULES and t != name}
             for name, path in MODULES.items()}
    # a package's __init__ importing its own modules is not a circle of two jobs
    for name in graph:
        graph[name] = {t for t in graph[name] if not name.startswith(t + ".") or t not in graph}
    state: dict[str, int] = {}
    circles = []

    def visit(node, trail):
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                circles.append(" -> ".join(trail[trail.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert circles == [], "\n".join(circles)


def test_the_checks_themselves_catch_what_they_guard(tmp_path, monkeypatch):
    """The checks above would see a planted upward arrow, a private name and a circle."""
    bad = tmp_path / "app" / "measure"
    bad.mkdir(parents=True)
    (bad / "planted.py").write_text("from app.capture.procedure import Capture\nfrom app.measure.energy import _x\n")
    path = bad / "planted.py"
    found = imports_of("app.measure.planted", path)
    assert ("app.capture.procedure", ["Capture"], 1) in found
    assert floor_of("app.capture.procedure") >= floor_of("app.measure.planted")
    assert any(n.startswith("_") for _, names, _ in found for n in names)


def _sizes():
    for name, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        yield ("module", name, None, len(text.splitlines()), MAX_MODULE_LINES)
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef):
                yield ("class", name, node.name, node.end_lineno - node.lineno + 1, MAX_CLASS_LINES)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield ("function", name, node.name, node.end_lineno - node.lineno + 1, MAX_FUNCTION_LINES)


@pytest.mark.parametrize("kind", ["module", "class", "function"])
def test_no_size_outliers(kind):
    big = [f"{name}{'.' + what if what else ''}: {lines} lines (at most {limit})"
           for k, name, what, lines, limit in _sizes() if k == kind and lines > limit and name.startswith("app")]
    assert big == [], "\n".join(big)
