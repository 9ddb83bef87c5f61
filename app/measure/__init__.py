"""Measurement: power traces and their integration (energy), the compiled row scan, placing [begin, end] on
the scope's axis (region), a run's result (analysis), the GUM budget (uncertainty) and energy from telemetry.
Pure computation, no files: may import app.bench, app.system, app.errors and instruments' waveform types."""
