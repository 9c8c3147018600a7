"""`xtap tenants [--json]`: the tenant list a CI matrix is built from."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli import main as cli

CONFIG = """\
tenants:
  contoso:
    tenantId: 5e1a3b0c-1d2e-4f30-9a41-b2c3d4e5f607
    policies: tenants/contoso
  fabrikam:
    tenantId: 90e29127-71ad-49c7-9ce8-db3f41ea06f1
    cloud: usgov
    policies: tenants/fabrikam
"""


def xtap(argv: list[str], monkeypatch: pytest.MonkeyPatch, cwd: Path) -> int:
    monkeypatch.chdir(cwd)
    return cli.main(argv)


def test_without_xtap_yaml_there_is_one_tenant_named_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert xtap(["tenants", "--json"], monkeypatch, tmp_path) == 0
    assert capsys.readouterr().out == '["default"]\n'
    assert xtap(["tenants"], monkeypatch, tmp_path) == 0
    assert capsys.readouterr().out == "default\n"


def test_tenants_of_xtap_yaml_in_file_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "xtap.yaml").write_text(CONFIG)
    assert xtap(["tenants", "--json"], monkeypatch, tmp_path) == 0
    assert capsys.readouterr().out == '["contoso","fabrikam"]\n'
    assert xtap(["tenants"], monkeypatch, tmp_path) == 0
    assert capsys.readouterr().out == "contoso\nfabrikam\n"


def test_config_option_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "ops").mkdir()
    (tmp_path / "ops" / "xtap.yaml").write_text(CONFIG)
    assert xtap(["tenants", "--json", "--config", "ops/xtap.yaml"], monkeypatch, tmp_path) == 0
    assert capsys.readouterr().out == '["contoso","fabrikam"]\n'


def test_tenant_option_selects_one_or_fails_with_the_known_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "xtap.yaml").write_text(CONFIG)
    assert xtap(["tenants", "--json", "--tenant", "fabrikam"], monkeypatch, tmp_path) == 0
    assert capsys.readouterr().out == '["fabrikam"]\n'
    assert xtap(["tenants", "--json", "--tenant", "tailspin"], monkeypatch, tmp_path) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert (
        captured.err == "xtap: error: no tenant named 'tailspin' in xtap.yaml (one of: contoso, fabrikam)\n"
    )


def test_an_invalid_xtap_yaml_is_an_error_not_a_matrix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "xtap.yaml").write_text("tenants:\n  bad name!:\n    cloud: global\n")
    assert xtap(["tenants", "--json"], monkeypatch, tmp_path) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("xtap: error: ")
    assert "xtap.yaml:2:3:" in captured.err
