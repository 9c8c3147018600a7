"""Loader: YAML with positions, the invalid-file corpus, the valid files and their canonical data."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.core import model
from reconciler.core.documents import MAX_BYTES, Diagnostic, parse_yaml
from reconciler.core.state import SourceRef
from reconciler.shell.config import load_policies
from reconciler.shell.files import display_path, find_policy_files, load_desired, load_files
from tests.support import REPO
from tests.support.strategies import partners, rewrite

DATA = REPO / "tests" / "data"
FABRIKAM = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
CONTOSO = "9c5d131d-b1c3-4fc4-9e3f-c6557947d551"


@pytest.fixture(autouse=True)
def _repo_cwd(monkeypatch: pytest.MonkeyPatch) -> None:
    # Diagnostics show paths relative to the current directory.
    monkeypatch.chdir(REPO)


def expectations(path: Path) -> list[str]:
    """The `# expect: LINE:COL: SEVERITY: MESSAGE` lines at the top of a corpus file."""
    lines = path.read_bytes().decode("utf-8", errors="replace").splitlines()
    return [line.removeprefix("# expect: ") for line in lines if line.startswith("# expect: ")]


def found(diagnostics: tuple[Diagnostic, ...]) -> list[str]:
    return [f"{d.line}:{d.col}: {d.severity}: {d.message}" for d in diagnostics]


def corpus(folder: str) -> list[Path]:
    return sorted((DATA / folder).glob("*.yaml"))


def test_corpus_is_large_enough() -> None:
    invalid = [
        p for p in (DATA / "invalid").rglob("*.yaml") if any(": error: " in e for e in expectations(p))
    ]
    assert len(invalid) >= 40


@pytest.mark.parametrize("path", corpus("invalid/partner"), ids=lambda p: p.stem)
def test_invalid_partner_file(path: Path) -> None:
    expected = expectations(path)
    assert expected, f"{path.name} states no expectation"
    result = load_files([path], None)
    assert found(result.diagnostics) == expected
    assert {d.path for d in result.diagnostics} == {display_path(path)}
    assert not result.ok


@pytest.mark.parametrize("path", corpus("invalid/default"), ids=lambda p: p.stem)
def test_invalid_default_file(path: Path) -> None:
    result = load_files([], path)
    assert found(result.diagnostics) == expectations(path)
    assert not result.ok


def mistakes(kind: str) -> list[Path]:
    return sorted((DATA / "mistakes" / kind).glob("*.yaml"))


def test_the_mistakes_corpus_is_large_enough() -> None:
    assert len(mistakes("partner") + mistakes("default") + mistakes("config")) >= 15


@pytest.mark.parametrize(
    "path", mistakes("partner") + mistakes("default"), ids=lambda p: f"{p.parent.name}/{p.stem}"
)
def test_newcomer_mistake_in_a_policy_file(path: Path) -> None:
    expected = expectations(path)
    assert expected, f"{path.name} states no expectation"
    result = load_files([], path) if path.parent.name == "default" else load_files([path], None)
    assert found(result.diagnostics) == expected


@pytest.mark.parametrize("path", mistakes("config"), ids=lambda p: p.stem)
def test_newcomer_mistake_in_xtap_yaml(path: Path) -> None:
    from reconciler.shell.config import check_config

    _, diagnostics = check_config(path, cwd=REPO)
    assert found(tuple(diagnostics)) == expectations(path)


@pytest.mark.parametrize("path", corpus("valid/warnings"), ids=lambda p: p.stem)
def test_warnings_only_file_is_valid(path: Path) -> None:
    result = load_files([], path) if path.stem.startswith("default-") else load_files([path], None)
    assert found(result.diagnostics) == expectations(path)
    assert {d.severity for d in result.diagnostics} == {"warning"}
    assert result.ok


# --- YAML layer -------------------------------------------------------------------------------------------


def test_file_over_one_mib_is_refused_without_parsing(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"description: " + b"x" * MAX_BYTES + b"\n")
    result = load_files([big], None)
    size = MAX_BYTES + 14
    assert found(result.diagnostics) == [f"1:1: error: file is larger than 1 MiB ({size} bytes)"]


def test_example_policies_are_valid_and_complete() -> None:
    result = load_desired(REPO / "policies")
    assert result.diagnostics == ()
    assert result.ok
    assert result.files == (
        "policies/partners/contoso.yaml",
        "policies/partners/fabrikam.yaml",
        "policies/partners/northwind.yaml",
        "policies/partners/tailspin.yaml",
        "policies/partners/woodgrove.yaml",
        "policies/default.yaml",
    )
    used: set[str] = set()
    for partner in result.desired.partners.values():
        used |= set(partner.properties)
        if partner.sync is not None:
            used.add(model.SYNC_PROPERTY)
    assert used == {*model.PARTNER_PROPERTIES, model.SYNC_PROPERTY}
    assert any(p.ignore for p in result.desired.partners.values())


def test_example_files_carry_the_schema_modeline_and_a_description() -> None:
    for path in sorted((REPO / "policies" / "partners").glob("*.yaml")):
        text = path.read_text("utf-8")
        assert text.startswith("# yaml-language-server: $schema=../../schemas/partner.schema.json\n"), path
        assert "\ndescription: " in text, path
    default = (REPO / "policies" / "default.yaml").read_text("utf-8")
    assert default.startswith("# yaml-language-server: $schema=../schemas/default.schema.json\n")


def _loaded_canonical(path: Path) -> dict[str, Any]:
    result = load_files([path], None)
    assert result.diagnostics == (), [str(d) for d in result.diagnostics]
    (partner,) = result.desired.partners.values()
    return {
        "tenantId": partner.tenant_id,
        "properties": {
            name: model.canonical_property("crossTenantAccessPolicyConfigurationPartner", name, value)
            for name, value in partner.properties.items()
        },
        "sync": model.canonical(partner.sync) if partner.sync is not None else None,
        "ignore": sorted(partner.ignore),
        "description": partner.description,
    }


VALID = sorted((DATA / "valid").glob("*.y*ml")) + sorted((REPO / "policies" / "partners").glob("*.yaml"))


@pytest.mark.parametrize("path", VALID, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_valid_partner_file_loads_to_its_canonical_data(path: Path) -> None:
    expected_file = DATA / "valid" / "expected" / f"{path.stem}.json"
    expected = json.loads(expected_file.read_text("utf-8"))
    assert _loaded_canonical(path) == expected


def test_default_file_loads_as_written() -> None:
    result = load_files([], REPO / "policies" / "default.yaml")
    assert result.ok
    default = result.desired.default
    assert default is not None
    assert default.source == SourceRef("policies/default.yaml", 1, 1)
    assert set(default.properties) == {
        "b2bCollaborationInbound",
        "b2bCollaborationOutbound",
        "b2bDirectConnectInbound",
        "b2bDirectConnectOutbound",
        "inboundTrust",
        "invitationRedemptionIdentityProviderConfiguration",
    }
    assert default.properties["invitationRedemptionIdentityProviderConfiguration"] == {
        "primaryIdentityProviderPrecedenceOrder": [
            "externalFederation",
            "azureActiveDirectory",
            "socialIdentityProviders",
        ],
        "fallbackIdentityProvider": "emailOneTimePasscode",
    }


def test_partner_source_points_at_the_tenant_id_value() -> None:
    result = load_desired(REPO / "policies")
    fabrikam = result.desired.partners[FABRIKAM]
    assert fabrikam.source == SourceRef("policies/partners/fabrikam.yaml", 2, 11)
    assert fabrikam.description == "Fabrikam — joint venture, ticket SEC-1234"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_duplicate_tenant_id_across_files_names_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "policies/partners/a.yaml", f"# first\ntenantId: {FABRIKAM}\n")
    write(tmp_path / "policies/partners/b.yaml", f"tenantId: {FABRIKAM.upper()}\n")
    result = load_desired(Path("policies"))
    assert [str(d) for d in result.diagnostics] == [
        f"policies/partners/b.yaml:1:11: error: tenantId {FABRIKAM} is also declared in policies/partners/a.yaml:2:11"
    ]
    assert list(result.desired.partners) == [FABRIKAM]
    assert result.desired.partners[FABRIKAM].source.path == "policies/partners/a.yaml"


def test_any_file_name_and_subfolders_under_partners(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "policies/partners/Fabrikam Ltd.YML", f"tenantId: {FABRIKAM}\n")
    write(
        tmp_path / "policies/partners/emea/contoso.yaml", "tenantId: 9c5d131d-b1c3-4fc4-9e3f-c6557947d551\n"
    )
    write(tmp_path / "policies/partners/README.md", "not policy\n")
    write(tmp_path / "policies/partners/.hidden.yaml", "not: read\n")
    found_files = find_policy_files(Path("policies"))
    assert [p.as_posix() for p in found_files.partners] == [
        "policies/partners/Fabrikam Ltd.YML",
        "policies/partners/emea/contoso.yaml",
    ]
    assert load_desired(Path("policies")).ok


def test_symlink_leading_outside_the_policies_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    outside = write(tmp_path / "secret.yaml", f"tenantId: {FABRIKAM}\n")
    write(tmp_path / "policies/partners/ok.yaml", "tenantId: 9c5d131d-b1c3-4fc4-9e3f-c6557947d551\n")
    (tmp_path / "policies/partners/link.yaml").symlink_to(outside)
    result = load_desired(Path("policies"))
    assert [str(d) for d in result.diagnostics] == [
        f"policies/partners/link.yaml: error: symbolic link leads outside policies (to {outside.resolve()})"
    ]


def test_symlink_inside_the_policies_folder_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "policies/shared/fabrikam.yaml", f"tenantId: {FABRIKAM}\n")
    (tmp_path / "policies/partners").mkdir(parents=True)
    (tmp_path / "policies/partners/fabrikam.yaml").symlink_to(tmp_path / "policies/shared/fabrikam.yaml")
    result = load_desired(Path("policies"))
    assert result.ok and list(result.desired.partners) == [FABRIKAM]


def test_missing_and_empty_policies_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    missing = load_desired(Path("policies"))
    assert [str(d) for d in missing.diagnostics] == ["policies: error: policies folder not found"]
    (tmp_path / "policies").mkdir()
    empty = load_desired(Path("policies"))
    assert [str(d) for d in empty.diagnostics] == ["policies: warning: no policy files found"]
    assert empty.ok


def test_both_default_yaml_and_yml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "policies/default.yaml", "description: a\n")
    write(tmp_path / "policies/default.yml", "description: b\n")
    result = load_desired(Path("policies"))
    assert [str(d) for d in result.diagnostics] == [
        "policies/default.yml: error: both default.yaml and default.yml exist; keep one"
    ]


def test_paths_outside_the_current_directory_are_absolute(tmp_path: Path) -> None:
    file = write(tmp_path / "p.yaml", "tenantId: nope\n")
    result = load_files([file], None)
    assert result.diagnostics[0].path == file.as_posix()
    assert os.path.isabs(result.diagnostics[0].path)


def test_home_tenant_as_partner_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reconciler.shell.config import load_config

    monkeypatch.chdir(tmp_path)
    write(tmp_path / "xtap.yaml", f"tenants:\n  prod: {{tenantId: {FABRIKAM}}}\n")
    write(tmp_path / "policies/partners/self.yaml", f"tenantId: {FABRIKAM}\n")
    config = load_config(None, cwd=tmp_path)
    result = load_policies(config.tenant(None).policies, config)
    assert [str(d) for d in result.diagnostics] == [
        f"policies/partners/self.yaml:1:11: error: tenantId {FABRIKAM} is the home tenant itself; "
        "a tenant cannot be its own partner"
    ]


def test_global_ignore_joins_the_file_ignore(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reconciler.shell.config import load_config

    monkeypatch.chdir(tmp_path)
    write(tmp_path / "xtap.yaml", "ignore: [tenantRestrictions]\n")
    write(tmp_path / "policies/partners/f.yaml", f"tenantId: {FABRIKAM}\nignore: [inboundTrust]\n")
    write(tmp_path / "policies/default.yaml", "ignore: [b2bDirectConnectInbound]\n")
    config = load_config(None, cwd=tmp_path)
    result = load_policies(config.tenant(None).policies, config)
    assert result.ok
    assert result.desired.partners[FABRIKAM].ignore == frozenset({"inboundTrust", "tenantRestrictions"})
    assert result.desired.default is not None
    assert result.desired.default.ignore == frozenset({"b2bDirectConnectInbound", "tenantRestrictions"})


@settings(max_examples=100, deadline=None)
@given(partners, st.randoms(use_true_random=False))
def test_any_partner_written_as_yaml_loads_to_the_same_canonical_data(
    value: dict[str, Any], rnd: Any
) -> None:
    # Written by PyYAML's own emitter (block style, quoting as it sees fit), after reordering targets,
    # keys and GUID case: the loader must give back data with the same canonical form.
    data = {"tenantId": FABRIKAM, **rewrite(value, rnd)}
    doc, diagnostics = parse_yaml(yaml.safe_dump(data, sort_keys=False).encode(), "f")
    assert diagnostics == []
    assert doc is not None
    assert model.canonical(doc.data) == model.canonical({"tenantId": FABRIKAM, **value})


# --- files in the wrong place, names with control characters ------------------------------------------


def layout(root: Path) -> None:
    tid = f"tenantId: {FABRIKAM}\n"
    for name in (
        "policies/default.yaml",
        "policies/policy.yaml",
        "policies/partners/ok.yaml",
        "policies/partners/emea/ok.yml",
        "policies/x.yaml",
        "policies/.hidden.yml",
        "policies/Default.yaml",
        "policies/policy.yml",
        "policies/partner/y.yaml",
        "policies/old/2025/z.YAML",
        "policies/partners/.z.yaml",
        "policies/partners/.old/w.yaml",
        "policies/partners/emea/.draft/v.yaml",
    ):
        text = "description: d\n" if "default" in name.lower() or "policy" in name else tid
        write(root / name, text.replace(FABRIKAM, CONTOSO) if name.endswith("emea/ok.yml") else text)
    write(root / "policies/README.md", "not policy\n")
    write(root / "policies/partners/.gitkeep", "")
    write(root / "policies/partners/notes.txt", "not policy\n")


MISPLACED = [
    "policies/.hidden.yml: {partner}: not read: hidden files are skipped; move it to policies/partners/hidden.yml{prune}",
    "policies/Default.yaml: warning: not read: the default configuration has its own name; rename it to policies/default.yaml (names are case-sensitive)",
    "policies/old/2025/z.YAML: {partner}: not read: partner files belong under policies/partners/; move it to policies/partners/z.YAML{prune}",
    "policies/partner/y.yaml: {partner}: not read: partner files belong under policies/partners/; move it to policies/partners/y.yaml{prune}",
    "policies/partners/.old/w.yaml: {partner}: not read: it is inside the hidden folder .old; move it to policies/partners/w.yaml{prune}",
    "policies/partners/.z.yaml: {partner}: not read: hidden files are skipped; rename it to policies/partners/z.yaml{prune}",
    "policies/partners/emea/.draft/v.yaml: {partner}: not read: it is inside the hidden folder .draft; move it to policies/partners/v.yaml{prune}",
    "policies/policy.yml: warning: not read: the root policy file has one name; rename it to policies/policy.yaml",
    "policies/x.yaml: {partner}: not read: partner files belong under policies/partners/; move it to policies/partners/x.yaml{prune}",
]


def test_yaml_files_in_the_wrong_place_are_named_with_the_right_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    layout(tmp_path)
    found_files = find_policy_files(Path("policies"))
    assert [p.as_posix() for p in found_files.partners] == [
        "policies/partners/emea/ok.yml",
        "policies/partners/ok.yaml",
    ]
    result = load_desired(Path("policies"))
    assert [str(d) for d in result.diagnostics] == [m.format(partner="warning", prune="") for m in MISPLACED]
    assert result.ok
    assert result.files == (
        "policies/partners/emea/ok.yml",
        "policies/partners/ok.yaml",
        "policies/default.yaml",
        "policies/policy.yaml",  # the root policy's file
    )


def test_with_prune_a_misplaced_partner_file_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    layout(tmp_path)
    result = load_desired(Path("policies"), prune=True)
    prune = "; with prune on, the partner it declares would be deleted"
    assert [str(d) for d in result.diagnostics] == [m.format(partner="error", prune=prune) for m in MISPLACED]
    assert not result.ok


def test_the_prune_of_xtap_yaml_applies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reconciler.shell.config import load_config

    monkeypatch.chdir(tmp_path)
    write(tmp_path / "xtap.yaml", "prune: true\n")
    write(tmp_path / "policies/x.yaml", f"tenantId: {FABRIKAM}\n")
    config = load_config(None, cwd=tmp_path)
    assert [d.severity for d in load_policies(config.tenant(None).policies, config).diagnostics] == ["error"]
    write(tmp_path / "xtap.yaml", "prune: false\n")
    config = load_config(None, cwd=tmp_path)
    assert [d.severity for d in load_policies(config.tenant(None).policies, config).diagnostics] == [
        "warning"
    ]
    assert [
        d.severity for d in load_policies(config.tenant(None).policies, config, prune=True).diagnostics
    ] == ["error"]


def test_names_with_control_characters_are_refused_and_shown_escaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "policies/partners/ok.yaml", f"tenantId: {FABRIKAM}\n")
    write(
        tmp_path / "policies/partners/a\n::stop-commands::x.yaml",
        "tenantId: 9c5d131d-b1c3-4fc4-9e3f-c6557947d551\n",
    )
    write(tmp_path / "policies/partners/b\x1b[31m/c.yaml", "tenantId: 9c5d131d-b1c3-4fc4-9e3f-c6557947d551\n")
    write(tmp_path / "policies/notes\u2028.txt", "x\n")
    result = load_desired(Path("policies"))
    # Folders of a level come before its files.
    assert [str(d) for d in result.diagnostics] == [
        "policies/partners/b\\x1b[31m: error: the name has a control character (shown escaped); rename it",
        "policies/partners/a\\n::stop-commands::x.yaml: error: the name has a control character (shown escaped); rename it",
        "policies/notes\\u2028.txt: error: the name has a control character (shown escaped); rename it",
    ]
    assert list(result.desired.partners) == [FABRIKAM]
    explicit = load_files([tmp_path / "policies/partners/a\n::stop-commands::x.yaml"], None)
    assert [str(d) for d in explicit.diagnostics] == [
        "policies/partners/a\\n::stop-commands::x.yaml: error: the name has a control character (shown escaped); rename it"
    ]
