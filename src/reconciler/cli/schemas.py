"""`python -m reconciler.cli.schemas --write schemas/`: write the JSON Schemas built from the metadata.

A test keeps the committed `schemas/*.schema.json` equal to what `reconciler.core.schema` builds.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from reconciler.core.schema import FILE_NAMES, render


def write(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, name in FILE_NAMES.items():
        target = directory / name
        target.write_text(render(kind), encoding="utf-8")
        written.append(target)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reconciler.cli.schemas", description="Write the JSON Schemas built from the metadata."
    )
    parser.add_argument("--write", metavar="DIR", type=Path, required=True, help="directory to write into")
    args = parser.parse_args(argv)
    for path in write(args.write):
        sys.stdout.write(f"wrote {path}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
