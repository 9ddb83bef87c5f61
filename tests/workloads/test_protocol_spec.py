"""The workload protocol parser and workload files."""

import pytest

from workloads.errors import WorkloadError
from workloads.protocol import ProtocolState, emit
from workloads.spec import builtin_workloads, find_workload, load_workload


def test_begin_end_ops_result_and_duration():
    p = ProtocolState()
    p.feed("starting")
    p.feed('@joulebench {"event": "begin", "t": 100.5}')
    p.feed(emit("end", 112.75, ops=1.85e8, result={"loss": 0.1}))
    assert p.duration_s() == pytest.approx(12.25)
    assert p.ops == 1.85e8 and p.result == {"loss": 0.1}
    assert p.warnings == []


@pytest.mark.parametrize("line,warning", [
    ("@joulebench {not json", "bad JSON"),
    ('@joulebench {"t": 1}', '"event" name'),
    ('@joulebench {"event": "begin"}', '"t" must be'),
    ('@joulebench {"event": "begin", "t": "soon"}', '"t" must be'),
    ('@joulebench {"event": "begin", "t": NaN}', '"t" must be'),
    ("@joulebench ", "without a JSON object"),
    ('@joulebench {"event": "end", "t": 5, "ops": -3}', "operation count"),
    ('@joulebench ["event", "begin"]', 'without a JSON object'),
])
def test_garbage_becomes_warnings_never_exceptions(line, warning):
    p = ProtocolState()
    p.feed(line)
    assert any(warning in w for w in p.warnings), p.warnings


def test_partial_and_unrelated_lines_are_log():
    p = ProtocolState()
    for line in ("@joule", "@joulebenchmark is not us", "\x00\xff garbage", ""):
        assert p.feed(line) is None
    assert p.events == [] and p.duration_s() is None


def test_end_before_begin_is_refused_with_a_warning():
    p = ProtocolState()
    p.feed(emit("begin", 10.0))
    p.feed(emit("end", 9.0))
    assert p.duration_s() is None and "not after" in p.warnings[-1]


def test_workload_file_validation(tmp_path):
    (tmp_path / "w.py").write_text("print(1)\n")
    good = 'name = "w"\nfiles = ["w.py"]\ncommand = "python3 w.py --n {n}"\n[params]\nn = 3\n'
    (tmp_path / "w.toml").write_text(good)
    spec = load_workload(tmp_path / "w.toml")
    assert spec.files == ((tmp_path / "w.py").resolve(),) and spec.render_command() == "python3 w.py --n 3"
    for text, match in [
        (good.replace('name = "w"\n', ""), r"\[name\] is missing"),
        ("colour = 1\n" + good, r"\[colour\] is not a known key"),
        (good.replace('"w.py"', '"nope.py"'), "not a file"),
        (good.replace('name = "w"', 'name = 5'), "non-empty string"),
        ("timeout_s = -1\n" + good, r"\[timeout_s\].*above 0"),
        (good.replace("n = 3", "n = [1]"), "string or a number"),
    ]:
        (tmp_path / "bad.toml").write_text(text)
        with pytest.raises(WorkloadError, match=match):
            load_workload(tmp_path / "bad.toml")


def test_parameters_are_shell_quoted(tmp_path):
    (tmp_path / "w.toml").write_text('name = "w"\ncommand = "echo {msg}"\n[params]\nmsg = "hi"\n')
    spec = load_workload(tmp_path / "w.toml")
    assert spec.render_command({"msg": "x; rm -rf ~"}) == "echo 'x; rm -rf ~'"
    assert spec.render_command({"msg": "$(reboot)"}) == "echo '$(reboot)'"
    with pytest.raises(WorkloadError, match="no parameter 'other'"):
        spec.render_command({"other": 1})


def test_builtins_load_and_are_found_by_name():
    names = {w.name for w in builtin_workloads()}
    assert {"heat-slab-python", "heat-slab-numpy", "heat-slab-torch", "heat-slab-jax", "gemm-fp32", "gemm-fp16",
            "idle", "cpu-burn"} <= names
    assert find_workload("idle").name == "idle"
    with pytest.raises(WorkloadError, match="not a built-in"):
        find_workload("no-such-workload")
