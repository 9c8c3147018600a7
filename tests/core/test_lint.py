"""Posture rules (core/lint.py): every rule on a minimal policy that triggers it at its exact line, one
that does not, and a suppressed case; the effective configuration decides, not the raw YAML."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given

from reconciler.core import access, lint, posture
from reconciler.core.desired import ReadFile, build_desired
from reconciler.core.documents import parse_yaml
from reconciler.core.state import LivePartner, LiveState, SourceRef
from tests.core.test_access import PRINCIPALS, PROPERTY, QUESTIONS, changes
from tests.support import REPO

TID = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
GROUP = "6f546279-4da5-4b53-a095-09ea0cef9971"
APP = "4a5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d"
PARTNER = "policies/partners/p.yaml"
DEFAULT = "policies/default.yaml"
ALL_IN = (
    "  usersAndGroups: {accessType: allowed, targets: [{target: AllUsers, targetType: user}]}\n"
    "  applications: {accessType: allowed, targets: [{target: AllApplications, targetType: application}]}\n"
)
ALL_OUT = (
    "  usersAndGroups: {accessType: blocked, targets: [{target: AllUsers, targetType: user}]}\n"
    "  applications: {accessType: blocked, targets: [{target: AllApplications, targetType: application}]}\n"
)
CLOSED_DEFAULT = f"b2bCollaborationInbound:\n{ALL_OUT}b2bCollaborationOutbound:\n{ALL_OUT}"


def read(path: str, text: str) -> ReadFile:
    document, diagnostics = parse_yaml(text.encode(), path)
    return ReadFile(path, document, diagnostics)


def load(partner: str | None = None, default: str | None = CLOSED_DEFAULT) -> posture.Posture:
    """A posture from the files: one partner file (its text after the tenantId line) and default.yaml."""
    partners = [read(PARTNER, f"tenantId: {TID}\n{partner}")] if partner is not None else []
    result = build_desired(partners, read(DEFAULT, default) if default is not None else None)
    assert result.ok, [str(d) for d in result.diagnostics]
    return posture.from_files(result.desired)


def found(p: posture.Posture, disabled: tuple[str, ...] = ()) -> list[tuple[str, str, str]]:
    return [(f.rule.id, f.where, "suppressed" if f.suppressed else f.level) for f in lint.lint(p, disabled)]


def messages(p: posture.Posture) -> dict[str, str]:
    return {f.rule.id: f.message for f in lint.lint(p)}


# --- the rules, one by one ------------------------------------------------------------------------------


def test_xtap001_default_inbound_open_at_the_default_setting() -> None:
    p = load(
        default=f"description: d\nb2bCollaborationInbound:\n{ALL_IN}b2bCollaborationOutbound:\n{ALL_OUT}"
    )
    assert found(p) == [("XTAP001", f"{DEFAULT}:2:1", "note")]
    assert messages(p)["XTAP001"] == (
        "the default lets every user of every tenant without a partner configuration reach every application "
        "by B2B collaboration inbound"
    )
    assert found(load()) == []  # closed both ways
    assert found(p, ("XTAP001",)) == [("XTAP001", f"{DEFAULT}:2:1", "suppressed")]


def test_microsofts_service_default_is_open_both_ways_and_in_no_file() -> None:
    p = load(default=None)
    assert found(p) == [
        ("XTAP001", "Microsoft's service default (no default.yaml sets it)", "note"),
        ("XTAP006", "Microsoft's service default (no default.yaml sets it)", "note"),
    ]
    assert [f.location for f in lint.lint(p)] == [None, None]
    # A default.yaml that leaves the property out: the finding points at the file, where it would go.
    assert found(load(default="description: d\n"))[0] == ("XTAP001", f"{DEFAULT}:1:1", "note")


def test_xtap006_default_outbound_open() -> None:
    p = load(default=f"b2bCollaborationInbound:\n{ALL_OUT}\nb2bCollaborationOutbound:\n{ALL_IN}")
    assert found(p) == [("XTAP006", f"{DEFAULT}:5:1", "note")]
    assert found(p, ("XTAP006",))[0][2] == "suppressed"


def test_xtap010_default_direct_connect_inbound_open() -> None:
    p = load(
        default=f"{CLOSED_DEFAULT}b2bDirectConnectInbound:\n{ALL_IN}inboundTrust:\n  isMfaAccepted: true\n  isCompliantDeviceAccepted: false\n  isHybridAzureADJoinedDeviceAccepted: false\n"
    )
    assert [f for f in found(p) if f[0] == "XTAP010"] == [("XTAP010", f"{DEFAULT}:7:1", "warning")]
    assert messages(p)["XTAP010"].endswith("by B2B direct connect inbound (Microsoft's default blocks it)")
    assert "XTAP010" not in messages(load())
    assert ("XTAP010", f"{DEFAULT}:7:1", "suppressed") in found(p, ("XTAP010",))


def test_xtap008_default_trusts_every_tenant_at_the_trusted_leaf() -> None:
    trust = "inboundTrust:\n  isMfaAccepted: false\n  isCompliantDeviceAccepted: true\n  isHybridAzureADJoinedDeviceAccepted: false\n"
    p = load(default=CLOSED_DEFAULT + trust)
    assert found(p) == [("XTAP008", f"{DEFAULT}:9:3", "warning")]
    assert messages(p)["XTAP008"] == (
        "the default trusts compliant device claims from every tenant without a partner configuration"
    )
    assert found(load(default=CLOSED_DEFAULT + trust.replace("true", "false"))) == []
    assert found(p, ("XTAP008",)) == [("XTAP008", f"{DEFAULT}:9:3", "suppressed")]


DIRECT_CONNECT = (
    "description: Teams shared channels\n"
    "b2bDirectConnectInbound:\n"
    "  usersAndGroups: {accessType: allowed, targets: [{target: AllUsers, targetType: user}]}\n"
    "  applications: {accessType: allowed, targets: [{target: Office365, targetType: application}]}\n"
)


def test_xtap002_direct_connect_without_mfa_trust_at_the_partners_setting() -> None:
    p = load(DIRECT_CONNECT)
    assert found(p) == [("XTAP002", f"{PARTNER}:3:1", "warning")]
    assert messages(p)["XTAP002"] == (
        "p: B2B direct connect inbound lets users in, but their MFA is not trusted "
        "(inboundTrust.isMfaAccepted is false): they cannot satisfy a Conditional Access policy that requires MFA"
    )
    trusted = (
        DIRECT_CONNECT
        + "inboundTrust:\n  isMfaAccepted: true\n  isCompliantDeviceAccepted: false\n  isHybridAzureADJoinedDeviceAccepted: false\n"
    )
    assert found(load(trusted)) == []


def test_xtap002_suppressed_by_the_partners_lint_ignore_keeps_its_reason() -> None:
    p = load(
        DIRECT_CONNECT
        + 'lintIgnore:\n  - {rule: XTAP002, reason: "MFA is enforced by the partner, SEC-77"}\n'
    )
    [finding] = lint.lint(p)
    assert finding.suppression == lint.Suppression(
        "file", "MFA is enforced by the partner, SEC-77", SourceRef(PARTNER, 7, 5)
    )
    assert lint.counts([finding]) == {"error": 0, "warning": 0, "note": 0, "suppressed": 1}
    assert lint.failing([finding], "note") == []


def test_xtap002_for_a_default_cause_is_the_defaults_finding_not_every_partners() -> None:
    open_default = f"{CLOSED_DEFAULT}b2bDirectConnectInbound:\n{ALL_IN}"
    p = load("description: only a note\n", default=open_default)
    assert [(f.rule.id, f.subject) for f in lint.lint(p)] == [("XTAP002", "default"), ("XTAP010", "default")]
    # A partner that refuses MFA trust itself takes part: its own finding, at its own leaf.
    own = "description: d\ninboundTrust:\n  isMfaAccepted: false\n  isCompliantDeviceAccepted: false\n  isHybridAzureADJoinedDeviceAccepted: false\n"
    p = load(own, default=open_default)
    assert [(f.rule.id, f.subject, f.where) for f in lint.lint(p)][-1] == ("XTAP002", TID, f"{PARTNER}:4:3")


def test_xtap003_trust_without_access() -> None:
    text = (
        "description: closed\n"
        f"b2bCollaborationInbound:\n{ALL_OUT}"
        "inboundTrust:\n  isMfaAccepted: true\n  isCompliantDeviceAccepted: false\n  isHybridAzureADJoinedDeviceAccepted: false\n"
    )
    p = load(text)
    assert found(p) == [("XTAP003", f"{PARTNER}:6:1", "note")]
    assert messages(p)["XTAP003"] == (
        "p: trusts MFA claims but lets nobody in by B2B collaboration or B2B direct connect inbound, so the "
        "trust has no effect"
    )
    assert found(load(text.replace("blocked", "allowed"))) == []
    assert (
        found(load(text + "lintIgnore: [{rule: XTAP003, reason: kept for the merger}]\n"))[0][2]
        == "suppressed"
    )


def test_xtap004_sync_without_automatic_consent_at_the_sync_leaf() -> None:
    sync = "description: d\nidentitySynchronization:\n  userSyncInbound:\n    isSyncAllowed: true\n"
    p = load(sync)
    assert found(p) == [("XTAP004", f"{PARTNER}:5:5", "warning")]
    assert messages(p)["XTAP004"] == (
        "p: identity sync inbound is allowed but automatic consent inbound is false: synchronized users get "
        "a consent prompt"
    )
    # Written false: the consent leaf is the cause.
    refused = sync + "automaticUserConsentSettings: {inboundAllowed: false, outboundAllowed: false}\n"
    assert found(load(refused)) == [("XTAP004", f"{PARTNER}:6:32", "warning")]
    consent = sync + "automaticUserConsentSettings: {inboundAllowed: true, outboundAllowed: false}\n"
    assert found(load(consent)) == []
    assert found(load(sync), ("XTAP004",))[0][2] == "suppressed"


def test_xtap005_wider_than_the_default_without_a_description() -> None:
    wider = f"b2bDirectConnectOutbound:\n{ALL_IN}"
    p = load(wider)
    assert found(p) == [("XTAP005", f"{PARTNER}:1:1", "note")]
    assert messages(p)["XTAP005"] == (
        "p: lets more in than the default (b2b-direct-connect outbound) and its file has no description saying why"
    )
    assert found(load("description: audit, SEC-1\n" + wider)) == []
    assert found(load(f"b2bCollaborationInbound:\n{ALL_OUT}")) == []  # narrower: nothing to explain
    assert found(load(wider + "lintIgnore: [{rule: XTAP005, reason: see the wiki}]\n"))[0][2] == "suppressed"


def test_xtap007_device_trust_from_a_partner_open_to_all_users() -> None:
    text = (
        "description: joint venture\n"
        f"b2bCollaborationInbound:\n{ALL_IN}"
        "inboundTrust:\n  isMfaAccepted: true\n  isCompliantDeviceAccepted: true\n  isHybridAzureADJoinedDeviceAccepted: false\n"
    )
    p = load(text)
    assert found(p) == [("XTAP007", f"{PARTNER}:8:3", "warning")]
    assert messages(p)["XTAP007"] == (
        "p: compliant device claims are trusted for all of its users: B2B collaboration inbound lets in any "
        "of them, not only the users and groups it names"
    )
    scoped = text.replace(
        "targets: [{target: AllUsers, targetType: user}]",
        f"targets: [{{target: {GROUP}, targetType: group}}]",
    )
    assert found(load(scoped)) == []  # an allow list: only that group's users get in
    assert found(load(text), ("XTAP007",))[0][2] == "suppressed"


def test_xtap009_a_channel_that_allows_yet_lets_nobody_in_through_inheritance() -> None:
    # The partner blocks every application; usersAndGroups, allowed for AllUsers, comes from the default.
    open_default = f"b2bCollaborationInbound:\n{ALL_IN}b2bCollaborationOutbound:\n{ALL_OUT}"
    text = "description: d\nb2bCollaborationInbound:\n  applications: {accessType: blocked, targets: [{target: AllApplications, targetType: application}]}\n"
    p = load(text, default=open_default)
    assert [f for f in found(p) if f[0] == "XTAP009"] == [("XTAP009", f"{PARTNER}:3:1", "error")]
    assert messages(p)["XTAP009"] == (
        "p: B2B collaboration inbound lets nobody in although it allows: usersAndGroups allowed for AllUsers; "
        "applications blocked for AllApplications (usersAndGroups from the default)"
    )
    assert lint.failing(lint.lint(p), "error")[0].rule.id == "XTAP009"
    assert [f[2] for f in found(p, ("XTAP009",)) if f[0] == "XTAP009"] == ["suppressed"]


@pytest.mark.parametrize(
    "users, apps",
    [
        # A block list next to allowed applications is the documented "g1 can't, everyone else can use a1".
        (
            f"{{accessType: blocked, targets: [{{target: {GROUP}, targetType: group}}]}}",
            f"{{accessType: allowed, targets: [{{target: {APP}, targetType: application}}]}}",
        ),
        (
            f"{{accessType: allowed, targets: [{{target: {GROUP}, targetType: group}}]}}",
            f"{{accessType: blocked, targets: [{{target: {APP}, targetType: application}}]}}",
        ),
        (
            f"{{accessType: blocked, targets: [{{target: {GROUP}, targetType: group}}]}}",
            "{accessType: allowed, targets: [{target: AllApplications, targetType: application}]}",
        ),
    ],
)
def test_a_mix_of_allowed_and_blocked_that_lets_someone_in_is_no_finding(users: str, apps: str) -> None:
    text = f"description: d\nb2bCollaborationInbound:\n  usersAndGroups: {users}\n  applications: {apps}\n"
    assert "XTAP009" not in messages(load(text))


# --- the whole run -------------------------------------------------------------------------------------


def test_fingerprints_do_not_move_with_lines() -> None:
    [before] = lint.lint(load(DIRECT_CONNECT))
    [after] = lint.lint(load("# a comment\n\n" + DIRECT_CONNECT))
    assert before.location != after.location
    assert before.fingerprint == after.fingerprint
    assert len(before.fingerprint) == 32


def test_the_rule_table_is_complete_and_stable() -> None:
    assert tuple(f"XTAP{n:03d}" for n in range(1, 11)) == lint.RULE_IDS
    assert (
        lint.BY_ID["XTAP002"].help_uri
        == "https://xtap.dev/docs/lint.md#xtap002-direct-connect-without-mfa-trust"
    )
    assert {r.level for r in lint.RULES} == {"error", "warning", "note"}


def test_failing_counts_levels_at_and_above_the_threshold() -> None:
    p = load(
        default=f"b2bCollaborationInbound:\n{ALL_IN}b2bCollaborationOutbound:\n{ALL_OUT}b2bDirectConnectInbound:\n{ALL_IN}"
    )
    levels = sorted(f.level for f in lint.lint(p))
    assert levels == ["note", "warning", "warning"]
    assert len(lint.failing(lint.lint(p), "error")) == 0
    assert len(lint.failing(lint.lint(p), "warning")) == 2
    assert len(lint.failing(lint.lint(p), "note")) == 3


def live_partner(**props: Any) -> LivePartner:
    return LivePartner(TID, {"tenantId": TID, **props})


def test_from_the_tenant_nothing_is_located_in_a_file_and_the_files_give_names() -> None:
    dc = {
        "b2bDirectConnectInbound": {
            "usersAndGroups": {
                "accessType": "allowed",
                "targets": [{"target": "AllUsers", "targetType": "user"}],
            },
            "applications": {
                "accessType": "allowed",
                "targets": [{"target": "Office365", "targetType": "application"}],
            },
        }
    }
    default = {
        "b2bCollaborationInbound": {
            "usersAndGroups": {
                "accessType": "blocked",
                "targets": [{"target": "AllUsers", "targetType": "user"}],
            },
            "applications": {
                "accessType": "blocked",
                "targets": [{"target": "AllApplications", "targetType": "application"}],
            },
        }
    }
    live = LiveState({TID: live_partner(**dc)}, default)
    p = posture.from_live(live, build_desired([], None).desired)
    assert [(f.rule.id, f.name, f.where, f.location) for f in lint.lint(p)] == [
        ("XTAP002", TID, "the partner's setting in the tenant", None),
        ("XTAP005", TID, "the partner's setting in the tenant", None),
    ]
    assert lint.lint(p)[1].message.endswith("and no policy file describes it saying why")
    declared = build_desired(
        [read(PARTNER, f"tenantId: {TID}\ndescription: known\nlintIgnore: [{{rule: XTAP002, reason: r}}]\n")],
        None,
    )
    p = posture.from_live(live, declared.desired)
    assert [(f.rule.id, f.name, f.suppressed) for f in lint.lint(p)] == [("XTAP002", "p", True)]


def _github_slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading: lowercase, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_docs_lint_md_documents_every_rule_under_its_help_uri() -> None:
    text = (REPO / "docs" / "lint.md").read_text(encoding="utf-8")
    sections = re.split(r"^### ", text, flags=re.M)[1:]
    by_anchor = {_github_slug(s.splitlines()[0]): s for s in sections}
    for rule in lint.RULES:
        anchor = rule.help_uri.split("#", 1)[1]
        assert anchor in by_anchor, f"docs/lint.md has no section #{anchor}"
        body = by_anchor[anchor]
        for part in ("**What**", "**Why**", "**Fix**", "**Suppress**", "**Source**"):
            assert part in body, f"{rule.id}: {part} missing"
        assert f"| {rule.id} | {rule.level} | {rule.short} |" in text


@PROPERTY
@given(changes())
def test_reach_over_two_principals_and_two_apps_equals_brute_force(case: Any) -> None:
    """lint.reach asks four questions; every principal and app of the access tests must agree with it."""
    channel, (partner, default), _ = case
    config = access.configuration(partner, default)
    decisions = {access.decide(config, channel, who, app).decision for who in PRINCIPALS for app in QUESTIONS}
    expected = "open" if decisions == {"allowed"} else "closed" if decisions == {"blocked"} else "some"
    assert lint.reach(config, channel) == expected
