"""Sessions with known contents, written through the real writer."""

from __future__ import annotations

import numpy as np

from app.bench.config import UncertaintyConfig
from app.measure.analysis import WindowData, analyse_run
from app.measure.energy import PowerTrace, summarise
from app.session.writer import SessionWriter
from instruments.waveform import Waveform

SHUNT = 0.01
VOLTS = 20.0
BENCH_TOML = '[scope]\nresource = "sim"\n'


def int8_window(p_idle_w: float, p_busy_w: float, *, n: int = 1000, pre: int = 100, dx: float = 1e-3):
    """20 V on int8 codes of 0.2 V (100 codes); the current's int8 codes of 1 mV across 0.01 ohm (0.1 A each)."""
    v_codes = np.full(n, 100, dtype=np.int8)
    i_codes = np.full(n, round(p_idle_w / VOLTS / 0.1), dtype=np.int8)
    i_codes[pre:] = round(p_busy_w / VOLTS / 0.1)
    vw = Waveform(codes=v_codes, y_increment=0.2, y_origin=0.0, y_reference=0.0, x_increment=dx,
                  x_origin=-pre * dx, code_min=-128, code_max=127, channel=1)
    iw = Waveform(codes=i_codes, y_increment=1e-3, y_origin=0.0, y_reference=0.0, x_increment=dx,
                  x_origin=-pre * dx, code_min=-128, code_max=127, channel=2)
    return vw, iw


def write_session(path, runs, *, workload="test-load", label="unit test", ops=1e9, incomplete_last=False):
    """runs: list of (p_idle_w, p_busy_w, duration_s). Returns the list of run records."""
    records = []
    with SessionWriter(path, bench_toml=BENCH_TOML, resource="sim", scope_idn="SIM,0,0,0",
                       scope_driver="keysight-infiniivision",
                       voltage_applied={"channel": 1, "volts_per_div": 2.0, "offset_v": 19.0, "probe_ratio": 10.0},
                       current_applied={"channel": 2, "volts_per_div": 0.01, "offset_v": 0.0, "probe_ratio": 1.0,
                                        "shunt_ohm": SHUNT},
                       target={"kind": "local", "host": "localhost", "facts": {"uname": "Linux"}},
                       workload={"name": workload, "toml": 'name = "x"', "command": "true"}, label=label) as w:
        for k, (idle, busy, duration) in enumerate(runs):
            run = w.begin_run()
            vw, iw = int8_window(idle, busy)
            trace = PowerTrace(vw, iw, shunt_ohm=SHUNT)
            summary = summarise(trace)
            run.add_window(vw, iw, summary, current_scaling={"shunt_ohm": SHUNT, "deskew_s": 0.0},
                           voltage_extra={"measured_at": "board"})
            if incomplete_last and k == len(runs) - 1:
                run.finish({"duration_s": duration}, status="incomplete", reason="scope dropped the connection")
                w.mark_incomplete("run 2 failed: scope dropped the connection")
                continue
            res = analyse_run(WindowData(trace, summary), duration, ops=ops, unc=UncertaintyConfig())
            record = {"run": run.number, **res.record()}
            run.finish({"duration_s": duration, "ops": ops, "exit_status": 0, "stdout": "ok\n", "stderr": "",
                        "events": []}, record=record, details=res.details())
            records.append(record)
    return records
