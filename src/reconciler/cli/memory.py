"""Python's cyclic garbage collector, for a command that builds a large heap that lives until it ends.

By default the collector scans the young objects every 700 allocations and the whole heap whenever it has
grown by a quarter. Loading 10,000 policy files and partners, reading the tenant and planning only build
data that stays until the command exits, and the collector scanning it again and again was a third of
`xtap plan`'s CPU (docs/performance.md, "CPU floor"). So:

- those steps run with the collector paused (`collection_paused`); reference counting still frees
  everything that is not a cycle;
- in a whole `xtap` process (`whole_process`, called by `cli.main` for the process's own command line),
  what they built is then frozen (`gc.freeze`: never scanned again, freed at exit) and young objects are
  scanned every 10,000 allocations. A caller running `main` inside its own process (tests, the demo)
  keeps its collector as it was: only the pause applies, and it ends with the collector as it found it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_WHOLE_PROCESS = [False]


def whole_process() -> None:
    """This process is one xtap command: collect young objects less often, freeze after each pause."""
    _WHOLE_PROCESS[0] = True
    gc.set_threshold(10_000, 20, 20)


@contextmanager
def collection_paused() -> Iterator[None]:
    """No cyclic garbage collection inside; afterwards, the collector as it was."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if _WHOLE_PROCESS[0]:
            gc.freeze()  # what the step built lives until exit: the collector need never scan it
        if enabled:
            gc.enable()
