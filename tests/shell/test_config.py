"""xtap.yaml: the config corpus, defaults, tenant selection and located XtapErrors."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.core.errors import XtapError
from reconciler.shell.config import Config, Safety, TenantConfig, check_config, implicit_config, load_config
from tests.support import REPO

CORPUS = REPO / "tests" / "data" / "invalid" / "config"
FABRIKAM = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
CONTOSO = "9c5d131d-b1c3-4fc4-9e3f-c6557947d551"


@pytest.fixture(autouse=True)
def _repo_cwd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.delenv("AZURE_TENANT_ID", raising=False)


def expectations(path: Path) -> list[str]:
    lines = path.read_text("utf-8").splitlines()
    return [line.removeprefix("# expect: ") for line in lines if line.startswith("# expect: ")]


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.yaml")), ids=lambda p: p.stem)
def test_invalid_config_file(path: Path) -> None:
    _, diagnostics = check_config(path.relative_to(REPO), cwd=REPO)
    assert [f"{d.line}:{d.col}: {d.severity}: {d.message}" for d in diagnostics] == expectations(path)


def test_load_config_raises_every_error_located() -> None:
    with pytest.raises(XtapError) as caught:
        load_config(Path("tests/data/invalid/config/safety-bounds.yaml"), cwd=REPO)
    assert str(caught.value) == (
        "tests/data/invalid/config/safety-bounds.yaml:4:15: maxDeletes must be at least 0, got -1\n"
        "tests/data/invalid/config/safety-bounds.yaml:5:21: maxUpdatePercent must be between 0 and 100, got 150"
    )


def test_no_config_file_means_one_implicit_tenant(tmp_path: Path) -> None:
    # The CLI reads AZURE_TENANT_ID and passes it in; the config module never reads the environment.
    config = load_config(None, cwd=tmp_path, fallback_tenant_id=FABRIKAM)
    assert config == Config(
        root=tmp_path,
        tenants=(TenantConfig("default", FABRIKAM, "global", tmp_path / "policies"),),
        ignore=frozenset(),
        prune=False,
        protected_partners=frozenset(),
        safety=Safety(max_deletes=None, max_update_percent=30.0),
        source=None,
    )
    assert config.tenant(None).name == "default"
    assert config == implicit_config(tmp_path, fallback_tenant_id=FABRIKAM)


def test_full_config(tmp_path: Path) -> None:
    (tmp_path / "xtap.yaml").write_text(
        "tenants:\n"
        f"  prod: {{tenantId: {FABRIKAM.upper()}, cloud: global, policies: policies/prod}}\n"
        f"  gov: {{tenantId: {CONTOSO}, cloud: usgov, policies: policies/gov}}\n"
        "ignore: [tenantRestrictions]\n"
        "prune: true\n"
        f"protectedPartners: [{CONTOSO.upper()}]\n"
        "safety: {maxDeletes: 3, maxUpdatePercent: 12.5}\n",
        encoding="utf-8",
    )
    config = load_config(None, cwd=tmp_path)
    root = tmp_path.resolve()
    assert config == Config(
        root=root,
        tenants=(
            TenantConfig("prod", FABRIKAM, "global", root / "policies/prod"),
            TenantConfig("gov", CONTOSO, "usgov", root / "policies/gov"),
        ),
        ignore=frozenset({"tenantRestrictions"}),
        prune=True,
        protected_partners=frozenset({CONTOSO}),
        safety=Safety(max_deletes=3, max_update_percent=12.5),
        source=tmp_path / "xtap.yaml",
    )
    assert config.tenant("gov").cloud == "usgov"


def test_several_tenants_need_a_choice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "xtap.yaml").write_text(
        f"tenants:\n  a: {{tenantId: {FABRIKAM}}}\n  b: {{tenantId: {CONTOSO}}}\n", encoding="utf-8"
    )
    config = load_config(None, cwd=tmp_path)
    with pytest.raises(XtapError) as caught:
        config.tenant(None)
    assert str(caught.value) == "xtap.yaml names several tenants; pick one with --tenant (one of: a, b)"
    with pytest.raises(XtapError) as caught:
        config.tenant("c")
    assert str(caught.value) == "no tenant named 'c' in xtap.yaml (one of: a, b)"


def test_unknown_tenant_without_config(tmp_path: Path) -> None:
    with pytest.raises(XtapError) as caught:
        load_config(None, cwd=tmp_path).tenant("prod")
    assert str(caught.value) == "no tenant named 'prod': without xtap.yaml the only tenant is 'default'"


def test_single_tenant_without_id_uses_the_environment(tmp_path: Path) -> None:
    (tmp_path / "xtap.yml").write_text("tenants:\n  only: {cloud: china}\n", encoding="utf-8")
    tenant = load_config(None, cwd=tmp_path, fallback_tenant_id=CONTOSO).tenant(None)
    assert tenant == TenantConfig("only", CONTOSO, "china", tmp_path.resolve() / "policies")


def test_config_without_tenants_section(tmp_path: Path) -> None:
    (tmp_path / "xtap.yaml").write_text("prune: false\n", encoding="utf-8")
    config = load_config(None, cwd=tmp_path)
    assert [t.name for t in config.tenants] == ["default"]
    assert config.tenant(None).policies == tmp_path.resolve() / "policies"


def test_explicit_config_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(XtapError) as caught:
        load_config(Path("nope.yaml"), cwd=REPO)
    assert str(caught.value) == "nope.yaml: configuration file not found"


def test_yaml_errors_in_config_are_located(tmp_path: Path) -> None:
    (tmp_path / "xtap.yaml").write_text("prune: true\nprune: false\n", encoding="utf-8")
    with pytest.raises(XtapError) as caught:
        load_config(None, cwd=tmp_path)
    assert (
        str(caught.value) == f"{tmp_path / 'xtap.yaml'}:2:1: duplicate key 'prune' (first defined at line 1)"
    )


def test_example_config_is_valid() -> None:
    config, diagnostics = check_config(Path("xtap.example.yaml"), cwd=REPO)
    assert diagnostics == []
    assert config is not None
    assert [t.name for t in config.tenants] == ["contoso-prod", "contoso-gov"]
