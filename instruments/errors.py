"""Typed errors of the instrument layer."""

from app.errors import JoulebenchError


class InstrumentError(JoulebenchError):
    """The oscilloscope cannot be reached, refused a setting, or sent something unusable.

    The message says which instrument, which command, and what the operator can do.
    """


class TriggerTimeoutError(InstrumentError):
    """The armed acquisition did not complete in time: the trigger never came."""


class CancelledError(InstrumentError):
    """The operation was cancelled by the operator."""
