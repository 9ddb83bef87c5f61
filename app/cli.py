"""The command line (CONTRACTS.md §1). Each command is a small function; expected failures
print one paragraph on stderr and exit non-zero, never a traceback."""

from __future__ import annotations

import argparse
import logging
import sys

from app.errors import JoulebenchError

log = logging.getLogger("joulebench")
EXIT_FAILURE = 2
EXIT_INTERRUPTED = 130


def _cmd_report(args: argparse.Namespace) -> int:
    from app.report import build_report, session_paths_exist, write_report_csv
    session_paths_exist(args.sessions)
    n_runs, n_workloads = write_report_csv(args.sessions, args.csv)
    print(f"wrote {args.csv}: {n_runs} run rows, {n_workloads} workload summary rows", file=sys.stderr)
    if args.plot:
        from app.ui.figures import comparison_png
        _, summaries = build_report(args.sessions)
        metric = comparison_png(summaries, args.plot)
        print(f"wrote {args.plot}: {metric} by workload", file=sys.stderr)
    return 0


def _cmd_trace(args: argparse.Namespace) -> int:
    from app.report import export_trace
    result = export_trace(args.session, args.run, args.window, args.csv, start_s=args.start, stop_s=args.stop,
                          every=args.every)
    print(f"wrote {args.csv}: {result.rows} samples from {result.t_first_s:.9g} s to {result.t_last_s:.9g} s",
          file=sys.stderr)
    return 0


def _cmd_sim_scope(args: argparse.Namespace) -> int:
    from instruments.sim.server import SimScope
    from instruments.sim.sources import SourceError
    try:
        sim = SimScope(persona=args.persona, source=args.source, host=args.host, port=args.port,
                       max_points=args.max_points)
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


def _cmd_workloads(args: argparse.Namespace) -> int:
    from workloads.spec import builtin_workloads
    for w in builtin_workloads():
        params = ", ".join(f"{k}={v}" for k, v in w.params.items())
        print(f"{w.name:18s} {w.description}")
        if params:
            print(f"{'':18s} parameters: {params}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python main.py",
        description="Joulebench: measure the energy a computation costs on a target board, with an "
                    "oscilloscope, a shunt resistor and the workload started over SSH.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail on stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("report", help="CSV report of sessions (one row per run, one summary row per workload)")
    p.add_argument("sessions", nargs="+", metavar="SESSION.h5", help="session files")
    p.add_argument("--csv", required=True, metavar="OUT.csv", help="where to write the report")
    p.add_argument("--plot", metavar="OUT.png", help="also draw a comparison figure of the workloads")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("trace", help="one capture window as CSV: time_s, voltage_v, current_a, power_w")
    p.add_argument("session", metavar="SESSION.h5")
    p.add_argument("--run", type=int, required=True, metavar="N", help="run number (1, 2, …)")
    p.add_argument("--window", type=int, default=1, metavar="K", help="window number (default 1)")
    p.add_argument("--csv", required=True, metavar="OUT.csv")
    p.add_argument("--start", type=float, metavar="S", help="first time to export, seconds from the trigger")
    p.add_argument("--stop", type=float, metavar="S", help="last time to export, seconds from the trigger")
    p.add_argument("--every", type=int, default=1, metavar="M", help="export every M-th sample (default 1)")
    p.set_defaults(func=_cmd_trace)

    p = sub.add_parser("workloads", help="list the built-in workloads")
    p.set_defaults(func=_cmd_workloads)

    p = sub.add_parser("sim-scope", help="the simulated scope as a standalone SCPI server (for trying without "
                                         "hardware)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=5025, help="TCP port (default 5025)")
    p.add_argument("--persona", choices=("keysight", "rigol"), default="keysight", help="dialect (default keysight)")
    p.add_argument("--source", default="demo", metavar="demo|cpu|PROFILE.toml",
                   help="what the simulated board draws (default demo)")
    p.add_argument("--max-points", type=int, default=4_000_000, help="acquisition memory (Keysight persona)")
    p.set_defaults(func=_cmd_sim_scope)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if args.command is None:
        parser.print_help(sys.stderr)
        print("\nThe desktop application is not part of this build yet; use the commands above.",
              file=sys.stderr)
        return EXIT_FAILURE
    try:
        return args.func(args)
    except JoulebenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED

