from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.core import export, metadata, model, schema
from reconciler.core.documents import parse_yaml
from reconciler.core.planner import make_plan
from reconciler.core.state import LivePartner, LiveState
from reconciler.emulator import App, Emulator, seeds
from reconciler.shell.files import load_desired
from tests.support.builders import FAB, LIT, MTO
from tests.support.e2e import use_emulator, xtap

CON = "9c5d131d-b1c3-4fc4-9e3f-c6557947d551"
FORBIDDEN_KEYS = {
    "isInMultiTenantOrganization",
    "isServiceProvider",
    "crossCloudMeetingConfiguration",
    "protectedContentSharing",
    "devices",
    "isServiceDefault",
    "id",
}


def live_from_seed(state: dict[str, Any]) -> LiveState:
    """A seed dict (the emulator's state format) as the client would read it."""
    syncs = state.get("identitySynchronization", {})
    partners = {
        tid.lower(): LivePartner(tid.lower(), dict(p), syncs.get(tid)) for tid, p in state["partners"].items()
    }
    return LiveState(partners, state["default"])


def roundtrip(live: LiveState, infos: dict[str, Any] | None = None) -> tuple[Any, Any, dict[str, str]]:
    """Export, write to a folder, load through the real loader, plan against the same live state."""
    result = export.export_files(live, infos)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "policies"
        for relative, text in result.files.items():
            (root / relative).parent.mkdir(parents=True, exist_ok=True)
            (root / relative).write_text(text, encoding="utf-8")
        loaded = load_desired(root)
    return loaded, make_plan(loaded.desired, live), dict(result.files)


def keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys(v)}
    return set()


# --- export, then plan is empty ----------------------------------------------------------------------------


def test_demo_tenant_exports_to_files_that_load_cleanly_and_plan_empty() -> None:
    state = seeds.demo()
    loaded, plan, files = roundtrip(live_from_seed(state), state["directory"])
    assert [str(d) for d in loaded.diagnostics] == []
    assert plan.requests == ()
    assert not plan.has_changes
    assert [c.action for c in plan.changes] == ["noop"] * 6  # default, 4 partners, contoso's sync
    assert list(files) == [
        "default.yaml",
        "partners/adatum-corporation.yaml",
        "partners/contoso-ltd.yaml",
        "partners/fabrikam-inc.yaml",
        "partners/litware-inc.yaml",
    ]


def test_partner_file_text_is_canonical_and_commented() -> None:
    state = seeds.demo()
    files = export.export_files(live_from_seed(state), state["directory"]).files
    assert files["partners/fabrikam-inc.yaml"] == (
        "# yaml-language-server: $schema=../../schemas/partner.schema.json\n"
        "# Fabrikam, Inc. (fabrikam.com)\n"
        "# Exported by xtap: properties that inherit the default (null in Graph) are left out.\n"
        "tenantId: 90e29127-71ad-49c7-9ce8-db3f41ea06f1\n"
        "inboundTrust:\n"
        "  isMfaAccepted: false\n"
        "  isCompliantDeviceAccepted: false\n"
        "  isHybridAzureADJoinedDeviceAccepted: false\n"
        "b2bCollaborationInbound:\n"
        "  usersAndGroups:\n"
        "    accessType: allowed\n"
        "    targets:\n"
        "      - {target: AllUsers, targetType: user}\n"
        "  applications:\n"
        "    accessType: allowed\n"
        "    targets:\n"
        "      - {target: AllApplications, targetType: application}\n"
    )
    mto = files["partners/adatum-corporation.yaml"]
    # Objects of objects stay partial, objects of plain values are written whole (null: not set), targets
    # are sorted by (targetType, target), GUIDs keep Graph's case.
    assert mto.split("\n", 4)[3] == (
        "# Exported by xtap: properties that inherit the default (null in Graph) are left out."
    )
    assert "      - {target: 6F546279-4DA5-4B53-A095-09EA0CEF9971, targetType: group}\n" in mto
    assert (
        "automaticUserConsentSettings:\n  inboundAllowed: true\n  outboundAllowed: null\nb2bDirectConnectInbound:\n"
        in mto
    )
    assert files["partners/contoso-ltd.yaml"].endswith(
        'identitySynchronization:\n  displayName: "Contoso Ltd"\n  userSyncInbound:\n    isSyncAllowed: true\n'
    )


def test_default_file_names_what_is_set_and_lists_what_is_not() -> None:
    files = export.export_files(LiveState({}, seeds.system_default())).files
    text = files["default.yaml"]
    assert text.startswith(
        "# yaml-language-server: $schema=../schemas/default.schema.json\n"
        "# The tenant's default cross-tenant access settings, exported by xtap.\n"
        "# isServiceDefault: true - the tenant still has Microsoft's system defaults.\n"
        "# Not set in the tenant, so not managed here: appServiceConnectInbound, m365CollaborationInbound, "
        "m365CollaborationOutbound.\n"
        "inboundTrust:\n"
    )
    assert (
        "invitationRedemptionIdentityProviderConfiguration:\n  primaryIdentityProviderPrecedenceOrder: "
        in text
    )
    assert "automaticUserConsentSettings" not in text  # read-only on the default (graph-api.md §3)
    assert list(export.export_files(LiveState({}, {})).files) == []


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_generated_tenants_plan_empty_after_export(seed: int) -> None:
    state = seeds.generated(40, seed=seed)
    loaded, plan, files = roundtrip(live_from_seed(state))
    assert plan.requests == ()
    assert len(files) == 41
    # No schema problem: any diagnostic is a semantic rule the live data itself breaks.
    assert [d for d in loaded.diagnostics if "does not fit" not in d.message] == []


# Random live states in Graph's shapes, built from the metadata: partial objects, nulls at every level,
# targets in any order and GUID case, duplicates, unknown and read-only properties, annotations, devices.
KEYWORDS = ("AllUsers", "AllApplications", "Office365", "AllMicrosoftApps")
guids = st.uuids().map(str).flatmap(lambda g: st.sampled_from((g, g.upper())))


def value_of(type_name: str, name: str = "") -> st.SearchStrategy[Any]:
    md = metadata.load()
    if type_name == "crossTenantAccessPolicyTarget":  # Graph always returns both members of a target
        return st.fixed_dictionaries(
            {
                "target": value_of("Edm.String", "target"),
                "targetType": value_of("crossTenantAccessPolicyTargetType"),
            }
        )
    if type_name == schema.IDP_TYPE:  # Graph keeps to the documented providers, and always has a fallback
        fallback = schema.DOCUMENTED[(type_name, "fallbackIdentityProvider")].values
        primary = schema.DOCUMENTED[(type_name, "primaryIdentityProviderPrecedenceOrder")].values
        return st.fixed_dictionaries(
            {
                "fallbackIdentityProvider": st.sampled_from(fallback),
                "primaryIdentityProviderPrecedenceOrder": st.one_of(
                    st.none(), st.lists(st.sampled_from(primary), unique=True, max_size=3)
                ),
            }
        )
    if type_name in md.types:
        members = {p.name: member_of(p) for p in md.type(type_name).properties}
        return st.fixed_dictionaries({}, optional=members)
    if md.is_enum(type_name):
        # unknownFutureValue is Graph's evolvable-enum sentinel, sent only to clients that opt in.
        return st.sampled_from([m for m in md.enums[type_name] if m != "unknownFutureValue"])
    if type_name == "Edm.Boolean":
        return st.booleans()
    if name == "target":
        return st.one_of(st.sampled_from(KEYWORDS), guids)
    return st.text(max_size=12)


def member_of(prop: metadata.Property) -> st.SearchStrategy[Any]:
    one = value_of(prop.type, prop.name)
    many = st.lists(one, max_size=3) if prop.collection else one
    return st.one_of(st.none(), many)


def partner_raw(tid: str) -> st.SearchStrategy[dict[str, Any]]:
    props = {
        name: value_of(metadata.load().type(metadata.PARTNER_TYPE).property(name).type)  # type: ignore[union-attr]
        for name in model.PARTNER_PROPERTIES
    }
    extras = {
        "isServiceProvider": st.one_of(st.none(), st.booleans()),
        "isInMultiTenantOrganization": st.one_of(st.none(), st.booleans()),
        "crossCloudMeetingConfiguration": st.just({"inboundAllowed": None, "outboundAllowed": None}),
        "protectedContentSharing": st.fixed_dictionaries({"inboundAllowed": st.booleans()}),
    }
    return st.fixed_dictionaries(
        {"tenantId": st.just(tid), "@odata.context": st.just("https://graph.microsoft.com/v1.0/$metadata#x")},
        optional={**{k: st.one_of(st.none(), v) for k, v in props.items()}, **extras},
    )


syncs = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {},
        optional={
            "displayName": st.one_of(st.none(), st.text(max_size=20)),
            "userSyncInbound": st.one_of(
                st.none(),
                st.fixed_dictionaries({}, optional={"isSyncAllowed": st.one_of(st.none(), st.booleans())}),
            ),
        },
    ),
)


@st.composite
def live_states(draw: st.DrawFn) -> LiveState:
    tids = draw(st.lists(st.uuids().map(str), max_size=4, unique=True))
    partners = {}
    for tid in tids:
        sync = draw(syncs)
        partners[tid] = LivePartner(
            tid, draw(partner_raw(tid)), {**sync, "tenantId": tid} if sync is not None else None
        )
    default = draw(value_of(metadata.DEFAULT_TYPE))
    return LiveState(partners, default)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(live_states())
def test_export_then_plan_is_empty_for_any_live_state(live: LiveState) -> None:
    _loaded, plan, files = roundtrip(live)
    assert plan.requests == ()
    for name, text in files.items():
        doc, problems = parse_yaml(text.encode("utf-8"), name)
        assert problems == [] and doc is not None
        # Never a read-only, unknown or unmanaged property, never an annotation.
        assert keys(doc.data) & FORBIDDEN_KEYS == set()
        assert not any(k.startswith("@") for k in keys(doc.data))
        # The schema (what editors and `xtap validate` check) accepts every exported file.
        assert schema.check("default" if name == "default.yaml" else "partner", doc.data) == []


@given(st.text(max_size=40))
def test_any_string_scalar_reads_back_as_itself(text: str) -> None:
    doc, problems = parse_yaml(f"value: {export.scalar(text)}\n".encode(), "x.yaml")
    assert problems == []
    assert doc is not None and doc.data == {"value": text}


@pytest.mark.parametrize(
    "text",
    [
        "yes",
        "no",
        "on",
        "null",
        "~",
        "true",
        "012",
        "1e3",
        "a: b",
        "#x",
        "- x",
        "{x}",
        "",
        " x",
        "x\n",
        "\u2028",
        "\x85",
    ],
)
def test_strings_yaml_would_misread_are_quoted(text: str) -> None:
    assert export.scalar(text).startswith('"')
    doc, _ = parse_yaml(f"value: {export.scalar(text)}\n".encode(), "x.yaml")
    assert doc is not None and doc.data == {"value": text}


def test_display_names_cannot_break_out_of_their_comment() -> None:
    tid = "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a"
    infos = {
        tid: {
            "displayName": "Evil\ntenantId: 00000000-0000-0000-0000-000000000000\u2028x",
            "defaultDomainName": "e.com",
        }
    }
    loaded, plan, files = roundtrip(LiveState({tid: LivePartner(tid, {"tenantId": tid})}, {}), infos)
    [(name, text)] = files.items()
    assert name == "partners/evil-tenantid-00000000-0000-0000-0000-000000000000-x.yaml"
    assert text.splitlines()[1] == "# Evil tenantId: 00000000-0000-0000-0000-000000000000 x (e.com)"
    assert list(loaded.desired.partners) == [tid]
    assert plan.requests == ()


# --- file names -------------------------------------------------------------------------------------------


def test_file_names_come_from_display_names_with_collisions_and_unknowns_handled() -> None:
    a, b, c, d, e = (f"{i}0000000-0000-4000-8000-000000000000" for i in range(1, 6))
    infos = {
        a: {"displayName": "Contoso Ltd"},
        b: {"displayName": "contoso ltd."},
        c: None,
        d: {"displayName": "株式会社"},
        e: {"displayName": "CON"},
    }
    assert export.file_names([a, b, c, d, e], infos) == {
        a: "contoso-ltd-10000000",
        b: "contoso-ltd-20000000",
        c: c,
        d: d,
        e: "con-50000000",
    }
    assert export.slug("Ünïcödé  Bank, Inc. — EU") == "unicode-bank-inc-eu"
    assert len(export.slug("x" * 200)) == 60


# --- end to end -------------------------------------------------------------------------------------------


@pytest.fixture
def demo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    with Emulator(seed="demo") as emu:
        use_emulator(monkeypatch, emu, app="reader")
        monkeypatch.chdir(tmp_path)
        yield emu


def test_export_end_to_end_writes_files_and_then_drift_is_empty(
    demo: Emulator, tmp_path: Path, capsys: Any
) -> None:
    code, out, err = xtap(capsys, "export")
    assert (code, err) == (0, "")
    assert out == (
        "Exported 4 partners and the default configuration to policies/\n"
        "  default.yaml\n"
        f"  partners/adatum-corporation.yaml  {MTO}  Adatum Corporation\n"
        f"  partners/contoso-ltd.yaml  {CON}  Contoso Ltd\n"
        f"  partners/fabrikam-inc.yaml  {FAB}  Fabrikam, Inc.\n"
        f"  partners/litware-inc.yaml  {LIT}  Litware Inc.\n"
        "Next: `xtap plan` shows no changes; commit the files.\n"
    )
    state = seeds.demo()
    expected = export.export_files(live_from_seed(state), state["directory"]).files
    for relative, text in expected.items():
        assert (tmp_path / "policies" / relative).read_text(encoding="utf-8") == text
    code, out, err = xtap(capsys, "drift", "--format", "json")
    assert (code, err) == (0, "")


def test_tenant_lookups_go_in_one_batch(demo: Emulator, capsys: Any) -> None:
    demo.clear_journal()
    assert xtap(capsys, "export")[0] == 0
    lookups = [e for e in demo.journal if "findTenantInformationByTenantId" in e.path]
    assert len(lookups) == 4 and all(e.in_batch for e in lookups)
    assert [e.path for e in demo.journal if not e.in_batch and e.path.startswith("/v1.0")].count(
        "/v1.0/$batch"
    ) == 1


def test_export_refuses_to_overwrite_unless_forced(demo: Emulator, tmp_path: Path, capsys: Any) -> None:
    (tmp_path / "policies" / "partners").mkdir(parents=True)
    (tmp_path / "policies" / "partners" / "fabrikam-inc.yaml").write_text("# mine\n", encoding="utf-8")
    demo.clear_journal()
    code, out, err = xtap(capsys, "export")
    assert (code, out) == (3, "")
    assert err == (
        "xtap: error: policies already holds policy files (partners/fabrikam-inc.yaml); nothing was written. "
        "Re-run with --force to overwrite them, or choose another --out-dir\n"
    )
    assert [e for e in demo.journal if e.path.startswith("/v1.0")] == []
    assert sorted(p.name for p in (tmp_path / "policies").rglob("*.yaml")) == ["fabrikam-inc.yaml"]
    code, out, err = xtap(capsys, "export", "--force")
    assert (code, err) == (0, "")
    assert (
        (tmp_path / "policies" / "partners" / "fabrikam-inc.yaml")
        .read_text()
        .startswith("# yaml-language-server")
    )


def test_export_to_another_folder_points_the_modeline_at_the_schemas(
    demo: Emulator, tmp_path: Path, capsys: Any
) -> None:
    code, _, err = xtap(capsys, "export", "--out-dir", "adopt/contoso")
    assert (code, err) == (0, "")
    text = (tmp_path / "adopt" / "contoso" / "partners" / "litware-inc.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=../../../schemas/partner.schema.json\n")
    assert (
        (tmp_path / "adopt" / "contoso" / "default.yaml")
        .read_text()
        .startswith("# yaml-language-server: $schema=../../schemas/default.schema.json\n")
    )


def test_export_without_the_tenant_lookup_permission_names_files_by_tenant_id(
    demo: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Any
) -> None:
    app = demo.register_app(
        App(
            "6d1f3c7a-0000-4000-8000-00000000a001",
            roles=("Policy.Read.All",),
            client_secret="s3cr3t-value-never-shown",
        )
    )
    use_emulator(monkeypatch, demo, app=app)
    code, out, err = xtap(capsys, "export")
    assert code == 0
    assert err == (
        "xtap: warning: the tenant lookup failed (the app lacks CrossTenantInformation.ReadBasic.All); "
        "partners without a display name are named by tenantId\n"
    )
    names = sorted(p.name for p in (tmp_path / "policies" / "partners").iterdir())
    assert names == sorted(f"{t}.yaml" for t in (FAB, CON, MTO, LIT))
    assert (tmp_path / "policies" / "partners" / f"{FAB}.yaml").read_text().splitlines()[1] == (
        "# Display name unknown (the tenant lookup was not available)."
    )
    secret = "s3cr3t-value-never-shown"
    written = "".join(p.read_text() for p in (tmp_path / "policies").rglob("*.yaml"))
    assert secret not in out + err + written
    assert "Bearer" not in out + err + written


def test_export_never_writes_secrets(
    demo: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Any
) -> None:
    env = demo.env(app="writer")
    use_emulator(monkeypatch, demo, app="writer")
    code, out, err = xtap(capsys, "export", "-vv")
    assert code == 0
    written = "".join(p.read_text() for p in (tmp_path / "policies").rglob("*.yaml"))
    assert env["AZURE_CLIENT_SECRET"] not in out + err + written
    assert "eyJ" not in out + err + written  # no JWT (access token) anywhere


def test_exported_targets_are_a_sorted_set() -> None:
    group = "6f546279-4da5-4b53-a095-09ea0cef9971"
    users = {"target": "AllUsers", "targetType": "user"}
    targets = [
        users,
        {"target": group, "targetType": "group"},
        {"target": group.upper(), "targetType": "group"},
    ]
    cleaned = export.clean("crossTenantAccessPolicyB2BSetting", {"usersAndGroups": {"targets": targets}})
    assert cleaned == {"usersAndGroups": {"accessType": None, "targets": [targets[1], users]}}
