"""The bench: the bench file (config), campaign suites, opening a bench's scope and target (connections),
zeroing the current channel and the conformance check. May import app.system, app.errors, instruments and
workloads; nothing above it (measure, session, capture, report, ui, cli)."""
