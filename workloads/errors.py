"""Typed errors of the target/workload layer."""

from app.errors import JoulebenchError


class TargetError(JoulebenchError):
    """The board cannot be reached, refused us, or a command on it failed to start or finish."""


class HostKeyError(TargetError):
    """The board's SSH host key is unknown or has changed; carries what the operator needs to decide."""

    def __init__(self, message: str, host: str, port: int, fingerprint: str, changed: bool, key_line: str = ""):
        super().__init__(message)
        self.host = host
        self.port = port
        self.fingerprint = fingerprint
        self.changed = changed
        self.key_line = key_line


class WorkloadError(JoulebenchError):
    """A workload file is missing or invalid."""
