"""Mutation score of the modules that decide whether a number can be trusted (issue 28). Not run in CI: slow.

Runs mutmut (https://github.com/boxed/mutmut, a maintained mutation tester) over one module at a time, with only
the tests that cover it, in a throwaway copy of the committed tree (`git archive HEAD`), so the mutants never
touch the working tree other people test against. Prints each module's score (killed / (all − skipped)) and
every mutant that survived, with its diff, for a person to judge.

mutmut and what it brings (libcst, textual, rich, coverage) are not in requirements-dev.txt; install them with

    .venv/bin/pip install mutmut==3.8.1

Usage:

    .venv/bin/python benchmarks/mutation.py                       # every module in MODULES
    .venv/bin/python benchmarks/mutation.py app/measure/uncertainty.py --max-children 2
    .venv/bin/python benchmarks/mutation.py --keep /tmp/mut       # keep the copy (mutmut browse there)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
log = logging.getLogger("mutation")

# module -> the tests that cover it (only these run against its mutants)
MODULES = {
    "app/measure/uncertainty.py": ["tests/app/test_uncertainty_by_hand.py", "tests/app/test_uncertainty_covers_truth.py",
                                   "tests/app/test_analysis.py"],
    "app/measure/energy.py": ["tests/app/test_energy.py", "tests/app/test_statistics_by_hand.py",
                              "tests/app/test_stream.py"],
    "app/bench/connections.py": ["tests/app/test_trigger_level.py"],
}
# whole directories the tests import besides app/ (copied as they are, never mutated)
ALSO_COPY = ["instruments", "workloads", "resources", "main.py"]


def fresh_copy(dest: Path) -> None:
    """The committed tree (HEAD) into dest."""
    archive = subprocess.run(["git", "archive", "--format=tar", "HEAD"], cwd=ROOT, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)


def configure(copy: Path, module: str, tests: list[str], timeout_multiplier: float = 3.0) -> None:
    """mutmut's settings, appended to the copy's pyproject.toml."""
    def toml_list(items: list[str]) -> str:
        return "[" + ", ".join(json.dumps(x) for x in items) + "]"
    settings = (
        "\n[tool.mutmut]\n"
        'source_paths = ["app"]\n'
        f"only_mutate = {toml_list([module])}\n"
        f"also_copy = {toml_list(ALSO_COPY)}\n"
        f"pytest_add_cli_args_test_selection = {toml_list(tests)}\n"
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q"]\n'
        "use_git_change_detection = false\n"
        # a mutant that loops for ever is stopped at 3x its tests' own time (mutmut's default, 15x, spends
        # minutes on each of them on a shared two-core machine); a timeout still counts as killed
        f"timeout_multiplier = {timeout_multiplier}\n"
    )
    with open(copy / "pyproject.toml", "a", encoding="utf-8") as fh:
        fh.write(settings)


def mutmut(copy: Path, *args: str, time_limit_s: float | None = None) -> subprocess.CompletedProcess:
    """mutmut in the copy; past time_limit_s its whole process group (the forked workers too) is stopped, and
    what it finished stays in the copy's results ("not checked" for the rest)."""
    env = dict(os.environ, PYTHONPATH=str(copy), QT_QPA_PLATFORM="offscreen")
    proc = subprocess.Popen([sys.executable, "-m", "mutmut", *args], cwd=copy, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=time_limit_s)
    except subprocess.TimeoutExpired:
        log.warning("mutmut %s: stopped after %.0f s; the mutants not reached are left out of the score",
                    args[0], time_limit_s)
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def results(copy: Path) -> dict[str, str]:
    """mutant name -> status ("killed", "survived", "timeout", "no tests", "skipped", ...)."""
    out = mutmut(copy, "results", "--all", "true").stdout
    found = {}
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and name:
            found[name] = status.strip()
    return found


def score(statuses: dict[str, str]) -> tuple[int, int, float]:
    counted = {k: v for k, v in statuses.items() if v not in ("skipped", "not checked")}
    killed = sum(1 for v in counted.values() if v in ("killed", "timeout", "segfault"))
    return killed, len(counted), (killed / len(counted) if counted else float("nan"))


def run_module(module: str, tests: list[str], max_children: int, keep: Path | None,
               time_limit_s: float | None = None) -> dict:
    work = Path(tempfile.mkdtemp(prefix="joulebench-mutation-")) if keep is None else keep / Path(module).stem
    work.mkdir(parents=True, exist_ok=True)
    try:
        fresh_copy(work)
        configure(work, module, tests)
        started = time.monotonic()
        run = mutmut(work, "run", "--max-children", str(max_children), time_limit_s=time_limit_s)
        elapsed_s = time.monotonic() - started
        if run.returncode not in (0, -signal.SIGTERM, -signal.SIGKILL):
            log.error("mutmut run failed for %s:\n%s\n%s", module, run.stdout[-4000:], run.stderr[-4000:])
        statuses = results(work)
        killed, counted, fraction = score(statuses)
        survivors = {name: mutmut(work, "show", name).stdout for name, s in statuses.items() if s == "survived"}
        not_checked = sum(1 for v in statuses.values() if v == "not checked")
        return {"module": module, "tests": tests, "killed": killed, "counted": counted, "score": fraction,
                "not_checked": not_checked,
                "elapsed_s": round(elapsed_s, 1), "statuses": statuses, "survivors": survivors}
    finally:
        if keep is None:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("modules", nargs="*", help=f"modules to mutate (default: {', '.join(MODULES)})")
    ap.add_argument("--max-children", type=int, default=max(1, (os.cpu_count() or 2) - 1))
    ap.add_argument("--keep", type=Path, help="keep the mutated copies under this folder")
    ap.add_argument("--json", type=Path, help="write the results here")
    ap.add_argument("--time-limit-s", type=float, help="stop each module's run after this long; score what it did")
    args = ap.parse_args(argv)
    try:
        import mutmut as _  # noqa: F401
    except ImportError:
        log.error("mutmut is not installed: .venv/bin/pip install mutmut==3.8.1")
        return 2
    report = []
    for module in args.modules or list(MODULES):
        tests = MODULES.get(module)
        if tests is None:
            log.error("no tests are listed for %s; add it to MODULES with the tests that cover it", module)
            return 2
        res = run_module(module, tests, args.max_children, args.keep, args.time_limit_s)
        report.append(res)
        log.info("%s: %d of %d mutants killed (%.1f %%) in %.0f s%s", module, res["killed"], res["counted"],
                 100 * res["score"], res["elapsed_s"],
                 f"; {res['not_checked']} not reached in the time limit" if res["not_checked"] else "")
        for name, diff in res["survivors"].items():
            log.info("survived: %s\n%s", name, diff)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
