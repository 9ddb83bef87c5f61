"""The command line (docs/command-line.md). Each command is a small function; expected failures
print one paragraph on stderr and exit non-zero, never a traceback."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from app.errors import BenchError, JoulebenchError
from instruments.families import persona_names

log = logging.getLogger("joulebench")
EXIT_FAILURE = 2
EXIT_INTERRUPTED = 130


def sentence(text: str) -> str:
    """A message ending in exactly one full stop (or its own ? or !)."""
    text = text.rstrip()
    return text if text.endswith((".", "?", "!")) else text + "."


def _check_sessions(paths) -> tuple[list[Path], dict[str, str], list[str]]:
    """The sessions to report, the ones left out whole (unreadable, raw data or their own metadata damaged) and
    the damaged runs left out of the others ('PATH: run N: why'), by the checks of docs/sessions.md."""
    from app.errors import SessionError
    from app.session.reader import SessionReader
    good: list[Path] = []
    bad: dict[str, str] = {}
    runs_out: list[str] = []
    for p in paths:
        try:
            with SessionReader(p) as s:
                own, damaged, raw = s.session_damage, dict(s.damaged_runs), s.verify_raw()
        except SessionError as exc:
            bad[str(p)] = str(exc)
            continue
        if own:
            bad[str(p)] = f"the session's own metadata is damaged: {own}"
        elif raw:
            bad[str(p)] = "damaged raw data: " + "; ".join(raw[:5]) + (" …" if len(raw) > 5 else "")
        else:
            good.append(Path(p))
            runs_out += [f"{p}: run {n}: {why}" for n, why in damaged.items()]
    return good, bad, runs_out


def _cmd_report(args: argparse.Namespace) -> int:
    from app.report.formats import ExportSource, command_formats
    good, bad, runs_out = _check_sessions(args.sessions)
    for path, why in bad.items():
        print(f"left out {path}: {why}", file=sys.stderr)
    for line in runs_out:
        print(f"left out {line}", file=sys.stderr)
    if not good:
        raise BenchError("no session could be read without damage; nothing to report")
    source = ExportSource(tuple(good))
    for fmt in command_formats("report"):       # the CSV report, then the figure and the HTML when asked for
        _write_export(fmt, source, getattr(args, fmt.dest))
    for path in good:
        from app.capture.campaign import (
            campaign_summary,
            format_table,
            records_of_session,
        )
        records, campaign = records_of_session(path)
        if campaign:                        # a campaign session: the comparison table, as `campaign` printed it
            import json as _json
            order = campaign.get("order")
            order = _json.loads(order) if isinstance(order, str) else order
            print(f"session: {path}")
            print(format_table(campaign_summary(records, campaign.get("suite", ""), order)))
    if bad:
        print(f"error: {len(bad)} of {len(bad) + len(good)} session(s) were left out (listed above); the report "
              "holds the others.", file=sys.stderr)
        return EXIT_FAILURE
    if runs_out:
        print(f"error: {len(runs_out)} damaged run(s) were left out (listed above); the report holds the others.",
              file=sys.stderr)
        return EXIT_FAILURE
    return 0


def _cmd_trace(args: argparse.Namespace) -> int:
    from app.report.formats import ExportSource, command_formats
    source = ExportSource((Path(args.session),), run=args.run, window=args.window, start_s=args.start,
                          stop_s=args.stop, every=args.every)
    for fmt in command_formats("trace"):
        _write_export(fmt, source, getattr(args, fmt.dest))
    return 0


def _write_export(fmt, source, path) -> None:
    """One export format's file, when its flag was given (app/report/formats.py), and its "wrote" line."""
    if path:
        what = fmt.writer(source, path)
        print(f"wrote {path}" + (f": {what}" if what else ""), file=sys.stderr)


def _export_flags(parser: argparse.ArgumentParser, command: str) -> None:
    """The command's export flags, one per format of app/report/formats.py that it writes."""
    from app.report.formats import command_formats
    for fmt in command_formats(command):
        parser.add_argument(fmt.flag, required=fmt.required, metavar=f"OUT.{fmt.suffix}", help=fmt.help)


def _cmd_sim_scope(args: argparse.Namespace) -> int:
    from instruments.sim.server import SimScope
    from instruments.sim.sources import SourceError
    try:
        sim = SimScope(persona=args.persona, source=args.source, host=args.host, port=args.port,
                       max_points=args.max_points, link_mbps=args.link_mbps)
    except (SourceError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}. Choose another --port.",
              file=sys.stderr)
        return EXIT_FAILURE
    print(f"simulated {args.persona} scope ({args.source} source) listening on {sim.host}:{sim.port}; "
          f"VISA resource {sim.resource}; Ctrl-C stops it", file=sys.stderr)
    try:
        sim.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


def _bench_from_args(args: argparse.Namespace):
    from app.bench.config import DEMO_BENCH, load_bench
    if getattr(args, "demo", False):
        return load_bench(DEMO_BENCH)
    if not args.bench:
        raise BenchError("no bench file: give --bench FILE.toml, or --demo for the demo bench")
    return load_bench(args.bench)


def _params(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise BenchError(f"--param {pair!r}: write it as NAME=VALUE")
        out[key] = value
    return out


def _password(args: argparse.Namespace, bench) -> str | None:
    """Asked for only when the operator says so; never stored."""
    if not getattr(args, "ask_password", False) or bench.target.kind != "ssh":
        return None
    import getpass
    return getpass.getpass(f"SSH password for {bench.target.user + '@' if bench.target.user else ''}"
                           f"{bench.target.host}: ")


def _cmd_capture(args: argparse.Namespace) -> int:
    import json

    from app.capture.procedure import Capture, CaptureFailed, CaptureRequest
    from workloads.spec import find_workload
    bench = _bench_from_args(args)
    spec = find_workload(args.workload)
    if args.repeats < 1 or args.windows < 0:
        raise BenchError("--repeats must be 1 or more and --windows 0 or more")
    if args.trust_host_key and bench.target.kind == "ssh":
        _trust_host_key(bench, args.trust_host_key)
    cancel, previous = _cancel_on_signals("workload")
    last = {"msg": "", "stage": "", "at": 0.0}

    def progress(p):
        import time
        now = time.monotonic()
        # a new stage at once; the same stage's changing text (time left) at most every 5 s
        if p.message != last["msg"] and (p.stage != last["stage"] or now - last["at"] >= 5.0):
            last.update(msg=p.message, stage=p.stage, at=now)
            print(f"[{p.fraction * 100:5.1f} %] {p.stage}: {p.message}", file=sys.stderr)

    def on_line(stream, line):
        if args.verbose and not line.startswith("@joulebench"):
            print(f"  {stream}: {line}", file=sys.stderr)

    request = CaptureRequest(bench=bench, workload=spec, params=_params(args.param), repeats=args.repeats,
                             windows=args.windows, out_dir=Path(args.out), label=args.label or "",
                             password=_password(args, bench))
    try:
        outcome = Capture(request, progress=progress, on_line=on_line, cancel=cancel).run()
        failed = False
    except CaptureFailed as exc:
        outcome = exc.outcome
        failed = True
    finally:
        _restore_signals(previous)
    if args.json:
        print(json.dumps(outcome.document(), allow_nan=False))
    else:
        _print_table(outcome)
    if failed:
        where = f" What was captured is saved in {outcome.session_path} (marked incomplete)." \
            if outcome.session_path else ""
        print(f"error: {sentence(outcome.error)}{where}", file=sys.stderr)
        return EXIT_INTERRUPTED if cancel.is_set() else EXIT_FAILURE
    if outcome.failed_runs:
        for n in outcome.failed_runs:
            print(f"error: run {n} failed: {outcome.failures.get(n, 'no reason recorded')}", file=sys.stderr)
        print(f"Its exit status, output and reason are recorded in {outcome.session_path}.", file=sys.stderr)
        return EXIT_FAILURE
    return 0


def _print_table(outcome) -> None:
    if outcome.session_path is not None:
        print(f"session: {outcome.session_path}")
    print(f"workload: {outcome.workload}")
    if not outcome.runs:
        print("no run completed")
        return
    from app.report.numbers import format_value, with_uncertainty   # one way of writing numbers, as the GUI's

    def f(x, unit=""):
        return format_value(x, unit, missing="—")
    head = f"{'run':>3} {'T':>10} {'P avg':>10} {'P idle':>10} {'E ± U (k≈2)':>20} {'E dyn':>10} " \
           f"{'J/GOp':>9} method"
    print(head)
    for r in outcome.runs:
        print(f"{r['run']:>3} {f(r['duration_s'], 's'):>10} {f(r['avg_power_w'], 'W'):>10} "
              f"{f(r['idle_power_w'], 'W'):>10} "
              f"{with_uncertainty(r['energy_j'], r['uncertainty_j'], 'J', missing='—'):>20} "
              f"{f(r['dynamic_energy_j'], 'J'):>10} {f(r['j_per_gop']):>9} {r['energy_method']}"
              + (" (partial)" if r.get("partial") else ""))
        if r.get("launch_to_begin_j") is not None or r.get("end_to_exit_j") is not None:
            idle = f"; idle from {r['idle_source']}" if r.get("idle_source") else ""
            print(f"    start-up tax: launch → begin {f(r.get('launch_to_begin_j'), 'J')}, "
                  f"end → exit {f(r.get('end_to_exit_j'), 'J')} (outside E){idle}")
        if r.get("measurand"):
            print(f"    NO SCOPE: measured {r['measurand']} by {r.get('energy_source')}; fidelity: {r.get('fidelity')}")
        for w in r["warnings"]:
            print(f"    warning: {w}")
    s = outcome.summary()
    if s["runs"]:
        mean = with_uncertainty(s["energy_j_mean"], s["energy_j_ci95"], "J")
        ci = " (95 % CI)" if s["energy_j_ci95"] else ""
        print(f"mean energy over {s['runs']} run(s): {mean}{ci}")


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _cancel_on_signals(what):
    """The first Ctrl-C or SIGTERM sets the returned event (the board's process stopped, what was captured saved,
    exit 130); a second aborts at once (the session is still closed). Returns (event, the previous handlers)
    for `_restore_signals`."""
    cancel = threading.Event()

    def on_signal(signum, frame):
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()
        name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        # straight to the file descriptor: the handler runs between two bytecodes of the main thread, which may
        # be inside sys.stderr's own write (a progress line), and the buffered writer refuses a reentrant call
        try:
            os.write(sys.stderr.fileno(), f"\nstopping ({name}): the {what} is being stopped and what was captured "
                     "saved (Ctrl-C again to abort)\n".encode())
        except (OSError, ValueError):
            pass
    return cancel, {s: signal.signal(s, on_signal) for s in STOP_SIGNALS}


def _restore_signals(previous) -> None:
    for s, handler in previous.items():
        signal.signal(s, handler)


def _trust_host_key(bench, fingerprint: str) -> None:
    """Trust the board's host key only if it is the one whose fingerprint the operator read on the board."""
    from app.bench.connections import make_target
    from workloads.errors import HostKeyError
    target = make_target(bench)
    try:
        target.connect()
        print(f"the host key of {bench.target.host} is already trusted", file=sys.stderr)
    except HostKeyError as exc:
        if exc.changed or not exc.fingerprint:
            raise
        target.trust_host_key(fingerprint)
        print(f"trusted the host key of {exc.host} (port {exc.port}): {exc.fingerprint}, as read on the board",
              file=sys.stderr)
    finally:
        target.close()


def _cmd_check(args: argparse.Namespace) -> int:
    from app.bench.connections import probe_bench
    bench = _bench_from_args(args)
    print(f"bench: {bench.source_path}: valid")
    if args.conformance:
        from app.bench.conformance import conformance_report
        lines, ok = conformance_report(bench)
        print("\n".join(lines))
        return 0 if ok else EXIT_FAILURE
    if args.trust_host_key and bench.target.kind == "ssh":
        _trust_host_key(bench, args.trust_host_key)
    idn, driver, facts, description = probe_bench(bench, _password(args, bench))
    print(f"scope: {idn}\n  driver: {driver}\n  resource: {bench.scope.resource}")
    print(f"target: {description}")
    for key, value in facts.items():
        text = str(value).replace("\n", "\n    ")
        print(f"  {key}: {text}")
    return 0


def _cmd_campaign(args: argparse.Namespace) -> int:
    import json

    from app.bench.suite import load_suite
    from app.capture.campaign import document, format_table, plan_runs, run_campaign
    from app.capture.procedure import CaptureFailed
    bench = _bench_from_args(args)
    suite = load_suite(args.suite)
    if args.trust_host_key and bench.target.kind == "ssh":
        _trust_host_key(bench, args.trust_host_key)
    cancel, previous = _cancel_on_signals("run")
    last = {"msg": ""}

    def progress(p):
        if p.message != last["msg"]:
            last["msg"] = p.message
            print(f"[{p.fraction * 100:5.1f} %] {p.stage}: {p.message}", file=sys.stderr)
    order = [p.label for p in plan_runs(suite) if p.scored]
    try:
        outcome, _ = run_campaign(bench, suite, Path(args.out), progress=progress, cancel=cancel,
                                  password=_password(args, bench))
        failed = None
    except CaptureFailed as exc:
        outcome, failed = exc.outcome, exc
    finally:
        _restore_signals(previous)
    doc = document(outcome, suite, order)
    if args.json:
        print(json.dumps(doc, allow_nan=False))
    else:
        print(f"session: {outcome.session_path}")
        print(format_table(doc))
    if failed is not None:
        print(f"error: {sentence(outcome.error or str(failed))} The finished runs are saved in "
              f"{outcome.session_path} (marked incomplete); `report` prints their table.", file=sys.stderr)
        return EXIT_INTERRUPTED if cancel.is_set() else EXIT_FAILURE
    return EXIT_FAILURE if outcome.failed_runs else 0


def _cmd_zero(args: argparse.Namespace) -> int:
    from app.bench.zero import measure_zero, write_zero
    bench = _bench_from_args(args)
    print("measuring the current channel's offset: no current may flow (board unpowered or the probe's inputs "
          "shorted)", file=sys.stderr)
    reading = measure_zero(bench)
    print(reading.describe(bench.current.a_per_v))
    if abs(reading.offset_v) > 2 * reading.volts_per_div:
        print(f"warning: {reading.offset_v * 1e3:+.4g} mV is more than two divisions: is current still flowing?",
              file=sys.stderr)
    if args.write:
        if getattr(args, "demo", False):
            raise BenchError("--write needs a bench file of your own (--bench FILE.toml), not the demo bench")
        write_zero(args.bench, reading.offset_v)
        print(f"stored current.zero_offset_v = {reading.offset_v!r} in {args.bench}", file=sys.stderr)
    else:
        print("not stored: add --write to keep it as current.zero_offset_v in the bench file", file=sys.stderr)
    return 0


def _cmd_workloads(args: argparse.Namespace) -> int:
    from workloads.spec import builtin_workloads
    for w in builtin_workloads():
        params = ", ".join(f"{k}={v}" for k, v in w.params.items())
        print(f"{w.name:18s} {w.description}")
        if params:
            print(f"{'':18s} parameters: {params}")
    return 0


def _cmd_index(args: argparse.Namespace) -> int:
    """A lab index of a folder of sessions (app/session/index.py): only new and changed files are read."""
    from app.session.index import build_index
    r = build_index(args.folder, args.out)
    for path, why in r.bad.items():
        print(f"left out {path}: {why}", file=sys.stderr)
    print(f"wrote {r.out}: {len(r.runs)} runs of {len(r.files) - len(r.bad)} sessions ({len(r.read)} read, "
          f"{len(r.checked)} checked unchanged, {len(r.unchanged)} not opened, {len(r.removed)} gone, "
          f"{len(r.bad)} left out); the files and their reasons: {r.files_out}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python main.py",
        description="Joulebench: measure the energy a computation costs on a target board, with an "
                    "oscilloscope, a shunt resistor and the workload started over SSH. Without a command, "
                    "the desktop app opens (on the demo bench unless --bench is given).")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail on stderr")
    parser.add_argument("--demo", action="store_true", dest="gui_demo",
                        help="open the desktop app on the demo bench (the default when no bench is given)")
    parser.add_argument("--bench", dest="gui_bench", metavar="FILE.toml", help="open the desktop app on this bench")
    parser.add_argument("--sessions", dest="gui_sessions", default="sessions", metavar="DIR",
                        help="the desktop app's session folder (default sessions/)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("report", help="CSV report of sessions (one row per run, one summary row per workload)")
    p.add_argument("sessions", nargs="+", metavar="SESSION.h5", help="session files")
    _export_flags(p, "report")              # --csv, --plot, --html
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("trace", help="one capture window as CSV: time_s, voltage_v, current_a, power_w")
    p.add_argument("session", metavar="SESSION.h5")
    p.add_argument("--run", type=int, required=True, metavar="N", help="run number (1, 2, …)")
    p.add_argument("--window", type=int, default=1, metavar="K", help="window number (default 1)")
    _export_flags(p, "trace")               # --csv
    p.add_argument("--start", type=float, metavar="S", help="first time to export, seconds from the trigger")
    p.add_argument("--stop", type=float, metavar="S", help="last time to export, seconds from the trigger")
    p.add_argument("--every", type=int, default=1, metavar="M", help="export every M-th sample (default 1)")
    p.set_defaults(func=_cmd_trace)

    p = sub.add_parser("capture", help="headless capture: N runs of a workload into one session file")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--bench", metavar="FILE.toml", help="the bench file")
    g.add_argument("--demo", action="store_true", help="the demo bench (simulated scope, this computer as target)")
    p.add_argument("--workload", required=True, metavar="NAME_OR_FILE", help="a built-in name or a workload file")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="override a workload parameter")
    p.add_argument("--repeats", type=int, default=1, metavar="N", help="runs (default 1)")
    p.add_argument("--windows", type=int, default=3, metavar="K",
                   help="sampled windows per run when the run is longer than the scope window (default 3)")
    p.add_argument("--out", default="sessions", metavar="DIR", help="where the session file goes (default sessions/)")
    p.add_argument("--label", metavar="TEXT", help="a label stored in the session")
    p.add_argument("--json", action="store_true", help="print the result document (docs/command-line.md) on stdout")
    p.add_argument("--trust-host-key", metavar="SHA256:…",
                   help="trust the board's SSH host key if its fingerprint is this one, read on the board's own "
                        "console (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub); never a changed key")
    p.add_argument("--ask-password", action="store_true",
                   help="prompt for the board's SSH password (keys and the agent are tried first; never stored)")
    p.set_defaults(func=_cmd_capture)

    p = sub.add_parser("check", help="connect to the scope and the target, print what was found; change nothing")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--bench", metavar="FILE.toml")
    g.add_argument("--demo", action="store_true")
    p.add_argument("--trust-host-key", metavar="SHA256:…", help="trust the board's SSH host key (see capture)")
    p.add_argument("--ask-password", action="store_true", help="prompt for the board's SSH password")
    p.add_argument("--conformance", action="store_true",
                   help="configure the scope as the bench says and print a conformance report (settings written "
                        "and read back, the self-check on a forced acquisition, the capability table); the "
                        "board is not touched")
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("campaign", help="run a suite of workloads as one comparison: interleaved repeats, settling, "
                                        "ranging; prints the comparison table (docs/campaigns.md)")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--bench", metavar="FILE.toml")
    g.add_argument("--demo", action="store_true")
    p.add_argument("--suite", required=True, metavar="SUITE.toml|NAME",
                   help="a suite file, or a built-in suite: heat-slab-backends, heat-slab-quick")
    p.add_argument("--out", default="sessions", metavar="DIR", help="where the session file goes (default sessions/)")
    p.add_argument("--json", action="store_true", help="print the campaign document on stdout")
    p.add_argument("--trust-host-key", metavar="SHA256:…", help="trust the board's SSH host key (see capture)")
    p.add_argument("--ask-password", action="store_true", help="prompt for the board's SSH password")
    p.set_defaults(func=_cmd_campaign)

    p = sub.add_parser("zero", help="measure the current channel's offset with no current flowing; --write stores "
                                    "it as current.zero_offset_v")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--bench", metavar="FILE.toml")
    g.add_argument("--demo", action="store_true")
    p.add_argument("--write", action="store_true", help="store the offset in the bench file")
    p.set_defaults(func=_cmd_zero)

    p = sub.add_parser("workloads", help="list the built-in workloads")
    p.set_defaults(func=_cmd_workloads)

    p = sub.add_parser("index", help="one Parquet table of every run of every session under a folder; only new or "
                                     "changed files are read again")
    p.add_argument("folder", metavar="FOLDER", help="the folder of sessions (walked with its subfolders)")
    p.add_argument("--out", metavar="OUT.parquet", help="the index (default FOLDER/joulebench-index.parquet)")
    p.set_defaults(func=_cmd_index)

    p = sub.add_parser("sim-scope", help="the simulated scope as a standalone SCPI server (for trying without "
                                         "hardware)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=5025, help="TCP port (default 5025)")
    p.add_argument("--persona", choices=persona_names(),
                   default="keysight", help="dialect (default keysight)")
    p.add_argument("--source", default="demo", metavar="demo|cpu|PROFILE.toml",
                   help="what the simulated board draws (default demo)")
    p.add_argument("--max-points", type=int, default=4_000_000, help="acquisition memory (Keysight persona)")
    p.add_argument("--link-mbps", type=float, metavar="R",
                   help="pace replies like a link of R Mbit/s (a real scope's LAN: 8 to 1000); default: loopback")
    p.set_defaults(func=_cmd_sim_scope)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if args.command is None:
        from app.ui.startup import run_gui
        return run_gui(args.gui_bench, demo=args.gui_demo, sessions_dir=args.gui_sessions)
    try:
        return args.func(args)
    except JoulebenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED

