"""The parsed metadata ships as Python data (core/metadata_shipped.py) so start-up parses no XML: it must
stay exactly what the shipped XML says."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli import metadata as tool
from reconciler.core import metadata
from tests.cli.test_startup import imported


def test_the_committed_module_is_what_the_xml_generates() -> None:
    committed = tool.TARGET.read_text(encoding="utf-8")
    assert committed == metadata.source(metadata.parse(metadata.shipped_xml())), (
        "run: python -m reconciler.cli.metadata --write"
    )


def test_the_metadata_in_force_equals_the_parsed_xml() -> None:
    assert metadata.load() == metadata.parse(metadata.shipped_xml())


def test_source_reads_back_to_the_same_metadata() -> None:
    md = metadata.parse(metadata.shipped_xml())
    namespace: dict[str, object] = {}
    exec(metadata.source(md), namespace)
    assert metadata.from_data(namespace["TYPES"], namespace["ENUMS"]) == md  # type: ignore[arg-type]


def test_write_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "metadata_shipped.py"
    monkeypatch.setattr(tool, "TARGET", target)
    assert tool.main(["--write"]) == 0
    assert target.read_text(encoding="utf-8") == tool.generated()
    assert capsys.readouterr().out == f"wrote {target}\n"


def test_validate_parses_no_xml_at_start_up() -> None:
    code, modules = imported("validate")
    assert code == 0
    assert {"xml.etree.ElementTree", "importlib.resources"} & modules == set()
