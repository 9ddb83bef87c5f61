"""The optional data extra (pandas, xarray, pyarrow, dask, pyjls): the app runs without it, and each use names the
requirements file to install when a package is missing."""

from __future__ import annotations

import importlib

from app.errors import JoulebenchError

DATA_REQUIREMENTS = "requirements-data.txt"


class DataExtraMissing(JoulebenchError):
    """A package of the data extra is not installed."""


def require(module: str, what: str = "sessions as data"):
    """Import `module`, or say which extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise DataExtraMissing(f"{what} needs the Python package '{module.split('.')[0]}', which is not installed. "
                               f"Install the data extra: .venv/bin/pip install -r {DATA_REQUIREMENTS}") from None
