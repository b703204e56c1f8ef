"""The runner's one error: a problem found before anything ran."""

from __future__ import annotations


class UsageError(Exception):
    """A problem with the command line or the data, found before anything ran (exit code 2)."""
