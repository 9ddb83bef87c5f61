"""Capturing: the procedure (one capture of one or more runs), capture without a scope, the record streamed
to disk as it downloads (stream), the run's live events (live_run) and campaigns. No Qt. May import session,
measure, bench, system, instruments and workloads; never report or ui."""
