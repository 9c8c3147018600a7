"""The drift report as a person reads it: text on a terminal (Terraform-like), Markdown in an issue."""

from __future__ import annotations

import io
import re

import pytest

from reconciler.cli.commands.drift import out_format, stdout_format
from reconciler.cli.context import use_color
from reconciler.core import drift, drift_json
from reconciler.core.planner import PlanOptions, make_plan
from reconciler.core.state import (
    DesiredDefault,
    DesiredPolicy,
    DesiredState,
    LivePartner,
    LiveState,
    SourceRef,
)
from reconciler.emulator import seeds
from reconciler.present import drift_markdown, drift_text, formats
from tests.support.builders import ALL_APPS, ALL_USERS, CON, FAB, LIT, MTO, TRUST, WOOD, desired, fresh, live

BLOCKED = {
    "usersAndGroups": {**ALL_USERS, "accessType": "blocked"},
    "applications": {**ALL_APPS, "accessType": "blocked"},
}
SYNC = {"displayName": "Contoso", "userSyncInbound": {"isSyncAllowed": True}}


def tenant() -> LiveState:
    """Every kind at once: a value changed, one set to the default's, a sync policy added, a partner
    deleted and one made in the portal, plus an MTO member (information)."""
    return live(
        LivePartner(
            FAB, fresh(FAB, b2bDirectConnectOutbound=BLOCKED, inboundTrust={**TRUST, "isMfaAccepted": False})
        ),
        LivePartner(CON, fresh(CON), sync={"tenantId": CON, **SYNC}),
        LivePartner(WOOD, fresh(WOOD)),
        LivePartner(MTO, fresh(MTO, isInMultiTenantOrganization=True)),
        default=seeds.system_default(),
    )


def files() -> DesiredState:
    return DesiredState(
        {FAB: desired(FAB, {"inboundTrust": TRUST}), CON: desired(CON, {}), LIT: desired(LIT, {})}
    )


def report(previous: drift.Previous | None = None, have: LiveState | None = None) -> drift.DriftReport:
    have = have or tenant()
    return drift.build_report(
        make_plan(files(), have), have, previous=previous, generated_at="2026-12-01T05:00:00Z"
    )


BLOCKS = (
    "xtap drift for tenant default\n"
    "Read at 2026-12-01T05:00:00Z.\n"
    "\n"
    "  ~ partner 90e2 (90e29127-71ad-49c7-9ce8-db3f41ea06f1)   (policies/partners/90e2.yaml:1:1)\n"
    "      = b2bDirectConnectOutbound: {applications: {accessType: blocked, targets: [AllApplications (application)]}, "
    "usersAndGroups: {accessType: blocked, targets: [AllUsers (user)]}} in the tenant, the default's own value, "
    "which the file inherits (effective value unchanged)\n"
    "        # the next apply sets it back to inherit, so the partner follows the default again\n"
    "      ~ inboundTrust.isMfaAccepted: false in the tenant, true in the file\n"
    "  ~ partner 9c5d (9c5d131d-b1c3-4fc4-9e3f-c6557947d551)   (policies/partners/9c5d.yaml:1:1)\n"
    "      + identitySynchronization: {displayName: Contoso, userSyncInbound: {isSyncAllowed: true}} in the tenant, "
    "none in the file\n"
    "        # the next apply leaves it alone (it is deleted only with --prune)\n"
    "  - partner a1b2 (a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5e)   (policies/partners/a1b2.yaml:1:1)\n"
    "      - declared in the file, absent from the tenant (deleted in the portal?)\n"
    "        # the next apply creates it again\n"
    "  + partner 3d0f5dec-5d3d-455c-8016-e2af1ae4d31a\n"
    "      + in the tenant, in no policy file (made in the portal?)\n"
    "        # the next apply leaves it alone: add a file for it (xtap export) or delete it with --prune\n"
    "\n"
    "Drift: 5 items in 4 resources.\n"
    "Where a value differs, the file wins on the next apply.\n"
)


def test_text_is_one_block_per_resource_and_information_only_with_v() -> None:
    r = report()
    assert drift_text.render_text(r) == BLOCKS + "\n1 information item (not drift): -v lists them.\n"
    assert drift_text.render_text(r, verbose=1) == BLOCKS + (
        "\n1 information item (not drift):\n"
        f"  # partner {MTO} is in the tenant but in no policy file; xtap never deletes it (a multitenant "
        "organization member, isInMultiTenantOrganization)\n"
    )


def test_text_colours_the_blocks_only_when_asked() -> None:
    plain = drift_text.render_text(report())
    painted = drift_text.render_text(report(), color=True)
    assert "\x1b[" not in plain
    assert "\x1b[33m  ~ partner 90e2 (90e29127-71ad-49c7-9ce8-db3f41ea06f1)\x1b[0m   (policies/" in painted
    assert "\x1b[31m  - partner a1b2" in painted and "\x1b[32m  + partner 3d0f5dec" in painted
    assert "\x1b[1mDrift: 5 items in 4 resources.\x1b[0m" in painted
    assert re.sub(r"\x1b\[\d+m", "", painted) == plain  # colour adds nothing but the escape sequences


def test_text_without_drift_and_with_a_previous_report() -> None:
    clean = live(LivePartner(FAB, fresh(FAB, inboundTrust=TRUST)), default=seeds.system_default())
    r = drift.build_report(
        make_plan(DesiredState({FAB: desired(FAB, {"inboundTrust": TRUST})}), clean), clean
    )
    assert drift_text.render_text(r) == (
        "xtap drift for tenant default\n\nNo drift. The tenant matches the policy files.\n"
    )
    first = report()
    previous = drift_json.read_previous(drift_json.to_json(first) | {"generated_at": "2026-11-30T05:00:00Z"})
    again = report(previous)
    text = drift_text.render_text(again)
    assert "      ~ inboundTrust.isMfaAccepted: false in the tenant, true in the file\n" in text  # not new
    fresh_eyes = drift_text.render_text(report(drift.Previous(None, ())))
    assert "      ~ inboundTrust.isMfaAccepted: false in the tenant, true in the file (new)\n" in fresh_eyes
    assert "Compared with an earlier report: 0 resolved since.\n" in fresh_eyes
    assert text.endswith(
        "Drift: 5 items in 4 resources, 0 new since the previous report.\n"
        "Where a value differs, the file wins on the next apply.\n"
        "Compared with the report of 2026-11-30T05:00:00Z: 0 resolved since.\n"
        "\n1 information item (not drift): -v lists them.\n"
    )


def test_text_names_the_default_and_the_root_policy_and_the_tenant_and_says_a_sync_policy_comes_back() -> (
    None
):
    default = seeds.system_default()
    files = DesiredState(
        {CON: desired(CON, {}, sync={"userSyncInbound": {"isSyncAllowed": True}})},
        default=DesiredDefault({"inboundTrust": default["inboundTrust"]}, SourceRef("policies/default.yaml")),
        policy=DesiredPolicy(
            {"allowedCloudEndpoints": ["microsoftonline.us"]}, SourceRef("policies/policy.yaml")
        ),
    )
    have = LiveState(
        {CON: LivePartner(CON, fresh(CON))},
        {**default, "inboundTrust": {**default["inboundTrust"], "isMfaAccepted": True}},
        {"allowedCloudEndpoints": []},
    )
    options = PlanOptions(tenant_name="contoso", tenant_id=LIT, prune=True)
    r = drift.build_report(make_plan(files, have, options), have)
    assert drift_text.render_text(r) == (
        f"xtap drift for tenant contoso ({LIT})\n"
        "\n"
        "  ~ cross-tenant access policy   (policies/policy.yaml:1:1)\n"
        "      ~ allowedCloudEndpoints: [] in the tenant, [microsoftonline.us] in the file\n"
        "  ~ default configuration   (policies/default.yaml:1:1)\n"
        "      ~ inboundTrust.isMfaAccepted: true in the tenant, false in the file\n"
        f"  ~ partner 9c5d ({CON})   (policies/partners/9c5d.yaml:1:1)\n"
        "      - identitySynchronization: none in the tenant, {userSyncInbound: {isSyncAllowed: true}} in the "
        "file\n"
        "        # the next apply creates it again\n"
        "\n"
        "Drift: 3 items in 3 resources.\n"
        "Where a value differs, the file wins on the next apply.\n"
    )
    data = drift_json.to_json(r)
    assert (data["tenant"], data["prune"]) == ({"name": "contoso", "id": LIT}, True)


def test_markdown_has_three_columns_and_a_fourth_with_a_header_only_next_to_a_previous_report() -> None:
    text = drift_markdown.render_markdown(report())
    assert "| property | file (wins on next apply) | tenant |\n|---|---|---|\n" in text
    assert (
        "| <code>inboundTrust.isMfaAccepted</code> | <code>true</code> | <code>false</code> |\n\n"
        "Declared in <code>policies/partners/90e2.yaml:1:1</code>." in text
    )
    empty = drift.Previous("2026-11-30T05:00:00Z", ())
    compared = drift_markdown.render_markdown(report(empty))
    assert "| property | file (wins on next apply) | tenant | new |\n|---|---|---|---|\n" in compared
    assert (
        "| <code>inboundTrust.isMfaAccepted</code> | <code>true</code> | <code>false</code> | new |"
        in compared
    )


def test_markdown_names_the_set_to_default_and_sync_values_and_folds_the_information() -> None:
    text = drift_markdown.render_markdown(report())
    assert (
        "- set-to-default: b2bDirectConnectOutbound of partner 90e2 (90e29127-71ad-49c7-9ce8-db3f41ea06f1) is "
        "set in the tenant to the default&#x27;s own value ({applications: {accessType: blocked, targets: "
        "&#91;AllApplications (application)]}, usersAndGroups: {accessType: blocked, targets: &#91;AllUsers "
        "(user)]}}), where the file inherits it: the effective value is unchanged; the next apply sets it back "
        "to inherit, so the partner follows the default again\n" in text
    )
    assert (
        "the next apply leaves it alone (it is deleted only with --prune) (tenant: <code>{displayName: Contoso, "
        "userSyncInbound: {isSyncAllowed: true}}</code>; file: <code>none</code>)\n" in text
    )
    assert text.endswith(
        "<details><summary>Information (not drift) — 1 item</summary>\n\n"
        f"- partner {MTO} is in the tenant but in no policy file; xtap never deletes it (a multitenant "
        "organization member, isInMultiTenantOrganization)\n\n</details>\n"
    )


@pytest.mark.parametrize(
    ("chosen", "tty", "actions", "expected"),
    [
        (None, True, None, "text"),
        (None, False, None, "markdown"),
        (None, True, "true", "markdown"),
        ("json", True, None, "json"),
        ("text", False, "true", "text"),
    ],
)
def test_the_default_format_is_text_for_a_person_and_markdown_for_programs_and_ci(
    chosen: str | None, tty: bool, actions: str | None, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdout", _Stream(tty))
    env = {"GITHUB_ACTIONS": actions} if actions else {}
    assert stdout_format(chosen, env) == expected


def test_out_files_follow_their_extension_then_format_then_markdown() -> None:
    assert [out_format(p, "markdown") for p in ("a.json", "a.md", "a.MARKDOWN", "a.txt", "a")] == [
        "json",
        "markdown",
        "markdown",
        "text",
        "markdown",
    ]
    assert out_format("report", "text") == "text"


@pytest.mark.parametrize(
    ("tty", "env", "expected"),
    [
        (True, {}, True),
        (False, {}, False),
        (True, {"NO_COLOR": "1"}, False),
        (True, {"NO_COLOR": ""}, True),  # no-color.org: set *and not empty*
    ],
)
def test_colour_on_a_terminal_unless_no_color(tty: bool, env: dict[str, str], expected: bool) -> None:
    assert use_color(env, _Stream(tty)) is expected


def test_the_registry_renders_text_with_the_verbosity() -> None:
    r = report()
    assert formats.DRIFT.render(r, "text", formats.RenderOptions(verbose=1)) == drift_text.render_text(
        r, verbose=1
    )
    assert formats.DRIFT.names == ("text", "markdown", "json")


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty
