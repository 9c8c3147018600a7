"""The `--env-file` of `xtap emulator`: `export KEY=value` lines, each value quoted for a POSIX shell.

`source emu.env` and `set -a; . emu.env; set +a` both put every key into the environment of the commands
that follow (`export` makes the first work; the `KEY=value` assignment after it makes the second work).
"""

from __future__ import annotations

import os
import shlex
import tempfile
from collections.abc import Mapping
from pathlib import Path


def render(env: Mapping[str, str]) -> str:
    return "".join(f"export {key}={shlex.quote(value)}\n" for key, value in env.items())


def write(path: Path, env: Mapping[str, str]) -> None:
    """Write atomically (a reader polling for the file never sees half of it), readable by the owner only:
    it holds the emulator's client secrets and admin secret."""
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(render(env))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def parse(text: str) -> dict[str, str]:
    """The keys and values of an env file (`export KEY=value` or `KEY=value` lines, shell quoting)."""
    env: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            words = shlex.split(stripped, comments=True)
        except ValueError as exc:
            raise ValueError(f"line {number}: {exc}") from None
        if words and words[0] == "export":
            words = words[1:]
        if len(words) != 1 or "=" not in words[0]:
            raise ValueError(f"line {number}: expected KEY=value")
        key, _, value = words[0].partition("=")
        env[key] = value
    return env


def read(path: Path) -> dict[str, str]:
    return parse(path.read_text(encoding="utf-8"))
