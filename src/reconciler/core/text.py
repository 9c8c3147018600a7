"""Text from files or Graph, made safe to print: the one escaping function for terminal text. Pure.

A file name, a `description`, a sync `displayName`, a value or an error message from Graph may hold
characters that act on whoever reads the output instead of being read:

- line breaks (`\\n`, `\\r`, U+0085, U+2028/2029) start a new line, where a GitHub Actions runner reads
  `::stop-commands::…` or `::add-mask::…` as a workflow command, and where a fake `xtap:` line can be
  written;
- other C0/C1 controls (`ESC`, the 8-bit `CSI` U+009B) drive the terminal: colours, cursor moves, titles;
- bidirectional overrides (U+202A–U+202E, U+2066–U+2069, U+200E/F, U+061C) make text read in another
  order than it is stored ("Trojan Source");
- a lone surrogate cannot be encoded as UTF-8 at all, so printing it would crash.

`printable` shows each of them as a visible escape (`\\n`, `\\x1b`, `\\u202e`) and leaves every other
character alone, backslashes included, so a value (or a Windows path) still reads as written. It is
idempotent: its output holds none of those characters, so text escaped once may pass through it again.
"""

from __future__ import annotations

import re

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

# Beyond the C0 controls: DEL and C1, the bidirectional formatting characters, the line and paragraph
# separators (U+2028/2029 sit between U+200F and U+202A) and the surrogates. JSON escapes C0 itself.
_BEYOND_C0 = "\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff"
BEYOND_C0 = re.compile(f"[{_BEYOND_C0}]")
UNSAFE = re.compile(f"[\x00-\x1f{_BEYOND_C0}]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with every control, line-breaking, bidi-override and surrogate character made visible."""
    if UNSAFE.search(text) is None:  # the common case: nothing to do, no copy
        return text
    return UNSAFE.sub(_escape, text)
