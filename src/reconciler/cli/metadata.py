"""`python -m reconciler.cli.metadata --write`: write `core/metadata_shipped.py` from the shipped XML.

The parsed metadata ships as Python data so that start-up neither parses XML nor imports xml.etree and
importlib.resources (core/metadata.py); a test keeps the committed module equal to what this writes.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from reconciler.core import metadata

TARGET = Path(metadata.__file__).with_name("metadata_shipped.py")


def generated() -> str:
    return metadata.source(metadata.parse(metadata.shipped_xml()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reconciler.cli.metadata",
        description="Write core/metadata_shipped.py, the parsed Graph metadata, from the shipped XML.",
    )
    parser.add_argument("--write", action="store_true", required=True, help=f"write {TARGET.name}")
    parser.parse_args(argv)
    TARGET.write_text(generated(), encoding="utf-8")
    sys.stdout.write(f"wrote {TARGET}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
