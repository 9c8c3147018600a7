"""The one exception family the CLI turns into a clean message and an exit code (never a traceback)."""

from __future__ import annotations

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_REFUSED = 3


class XtapError(Exception):
    """An expected failure: bad input, an API error, a refused plan. `str(e)` is the whole message."""

    exit_code = EXIT_ERROR


class RefusedError(XtapError):
    """A safety gate or a stale plan refused the run; nothing was written."""

    exit_code = EXIT_REFUSED
