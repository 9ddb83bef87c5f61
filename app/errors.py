"""Typed errors of the application layer.

Every error carries a message a bench operator can act on: what went wrong,
where, and what to do. The CLI and the GUI show the message as it is; they
never show a traceback for these.
"""


class JoulebenchError(Exception):
    """Base of the expected failures of Joulebench (bad input, faults)."""


class BenchError(JoulebenchError):
    """The bench file is missing, unreadable or invalid."""


class SessionError(JoulebenchError):
    """A session file cannot be written or read."""


class AnalysisError(JoulebenchError):
    """The captured data cannot be analysed as asked (e.g. an empty interval)."""


class ReportError(JoulebenchError):
    """A report or trace export cannot be produced."""
