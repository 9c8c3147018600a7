from __future__ import annotations

import dataclasses
import json
import re

from reconciler.core.plan import Change, Effect, Fingerprints, Plan, PropertyDiff
from reconciler.core.planner import make_plan
from reconciler.core.state import DesiredState, LivePartner
from reconciler.present import github
from reconciler.present.formats import plan_json as render_json
from reconciler.present.plan_markdown import _md_section, access_changes, render_markdown
from reconciler.present.plan_text import SYMBOL, render_text
from tests.support import REPO
from tests.support.builders import ALL_USERS, CON, CONSENT, FAB, LIT, MTO, TRUST, desired, fresh, live


def sample_plan() -> Plan:
    falses = dict.fromkeys(TRUST, False)
    have = fresh(
        FAB,
        inboundTrust=falses,
        tenantRestrictions={"usersAndGroups": {**ALL_USERS, "accessType": "blocked"}},
    )
    want = DesiredState(
        {
            FAB: desired(FAB, {"inboundTrust": TRUST}),
            CON: desired(CON, {"automaticUserConsentSettings": CONSENT}),
        }
    )
    state = live(
        LivePartner(FAB, have),
        LivePartner(MTO, fresh(MTO, isInMultiTenantOrganization=True)),
        default={"tenantRestrictions": {"usersAndGroups": ALL_USERS}},
    )
    return make_plan(want, state)


def test_text_is_terraform_like_with_effective_defaults() -> None:
    assert render_text(sample_plan()) == (
        "xtap plan for tenant default\n"
        "\n"
        "  ~ partner 90e2 (90e29127-71ad-49c7-9ce8-db3f41ea06f1)   (policies/partners/90e2.yaml:1:1)\n"
        "      ~ inboundTrust.isCompliantDeviceAccepted: false → true\n"
        "      ~ inboundTrust.isHybridAzureADJoinedDeviceAccepted: false → true\n"
        "      ~ inboundTrust.isMfaAccepted: false → true\n"
        "      ~ tenantRestrictions.usersAndGroups.accessType: blocked → inherit (default: allowed)\n"
        "      ~ tenantRestrictions.usersAndGroups.targets: [AllUsers (user)] → inherit (default: [AllUsers (user)])\n"
        "      ! access widens: inbound trust — isMfaAccepted true, isCompliantDeviceAccepted true, "
        "isHybridAzureADJoinedDeviceAccepted true\n"
        "  + partner 9c5d (9c5d131d-b1c3-4fc4-9e3f-c6557947d551)   (policies/partners/9c5d.yaml:1:1)\n"
        "      + automaticUserConsentSettings.inboundAllowed: true\n"
        "      + automaticUserConsentSettings.outboundAllowed: true\n"
        "      ! access widens: automatic consent — inboundAllowed true, outboundAllowed true\n"
        "  ? partner 123f4846-ba00-4fd7-ba43-dac1f8f63013: unmanaged, never deleted (a multitenant organization member, isInMultiTenantOrganization)\n"
        "\n"
        "Plan: 1 to add, 1 to change, 0 to destroy.\n"
    )


def test_text_colour_only_when_asked() -> None:
    plan = sample_plan()
    assert "\x1b[" not in render_text(plan)
    assert "\x1b[33m  ~ partner 90e2" in render_text(plan, color=True)


def test_markdown_escapes_values_and_has_marker_and_banner() -> None:
    evil = "<img src=x onerror=alert(1)>|`x`"
    change = Change(
        "delete", "partner", evil, CON, None, (PropertyDiff("inboundTrust.isMfaAccepted", evil, None),)
    )
    plan = Plan((change,), Fingerprints({}, ""), tenant_name="prod")
    text = render_markdown(plan)
    assert text.startswith("<!-- xtap-plan:prod -->\n### xtap plan — tenant <code>prod</code>\n")
    assert "> [!CAUTION]\n> **This plan deletes 1 resource(s):** <code>partner &lt;img" in text
    # Outside code blocks every value is escaped; inside the diff block it is literal text, in a fence
    # its own backticks cannot close.
    outside = re.sub(r"```diff\n.*?\n```\n", "", text, flags=re.S)
    assert "<img" not in outside and "`x`" not in outside
    assert "&lt;img src=x onerror=alert(1)&gt;&#124;&#96;x&#96;" in outside
    assert "```diff\n- inboundTrust.isMfaAccepted: <img src=x onerror=alert(1)>|`x`\n```\n" in text


def test_markdown_puts_the_risk_first_descriptions_under_headings_and_unmanaged_last() -> None:
    fab, con, mto = sample_plan().changes
    gone = Change(
        "delete",
        "partner",
        "Litware Inc.",
        LIT,
        None,
        (PropertyDiff("inboundTrust.isMfaAccepted", True, None),),
    )
    plan = Plan(
        (dataclasses.replace(fab, description="Fabrikam — joint venture, ticket SEC-1234"), mto, con, gone),
        Fingerprints({}, ""),
        tenant_name="prod",
        defaults=sample_plan().defaults,
    )
    assert render_markdown(plan) == (
        "<!-- xtap-plan:prod -->\n"
        "### xtap plan — tenant <code>prod</code>\n\n"
        "**Plan: 1 to add, 1 to change, 1 to destroy.**\n\n"
        "> [!CAUTION]\n"
        f"> **This plan deletes 1 resource(s):** <code>partner Litware Inc. ({LIT})</code>\n\n"
        "#### Access changes\n\n"
        "> [!WARNING]\n"
        "> **Widens access** — review these first:\n"
        "> - **90e2**: inbound trust — isMfaAccepted true, isCompliantDeviceAccepted true, isHybridAzureADJoinedDeviceAccepted true\n"
        "> - **9c5d**: automatic consent — inboundAllowed true, outboundAllowed true\n\n"
        f"#### <code>~</code> update partner 90e2 ({FAB}) — 5 values\n\n"
        "_Fabrikam — joint venture, ticket SEC-1234_\n\n"
        "```diff\n"
        "- inboundTrust.isCompliantDeviceAccepted: false\n"
        "+ inboundTrust.isCompliantDeviceAccepted: true\n"
        "- inboundTrust.isHybridAzureADJoinedDeviceAccepted: false\n"
        "+ inboundTrust.isHybridAzureADJoinedDeviceAccepted: true\n"
        "- inboundTrust.isMfaAccepted: false\n"
        "+ inboundTrust.isMfaAccepted: true\n"
        "- tenantRestrictions.usersAndGroups.accessType: blocked\n"
        "+ tenantRestrictions.usersAndGroups.accessType: inherit (default: allowed)\n"
        "- tenantRestrictions.usersAndGroups.targets: [AllUsers (user)]\n"
        "+ tenantRestrictions.usersAndGroups.targets: inherit (default: [AllUsers (user)])\n"
        "```\n\n"
        "Declared in <code>policies/partners/90e2.yaml:1:1</code>.\n\n"
        f"#### <code>+</code> create partner 9c5d ({CON}) — 2 values\n\n"
        "```diff\n"
        "+ automaticUserConsentSettings.inboundAllowed: true\n"
        "+ automaticUserConsentSettings.outboundAllowed: true\n"
        "```\n\n"
        "Declared in <code>policies/partners/9c5d.yaml:1:1</code>.\n\n"
        f"#### <code>-</code> delete partner Litware Inc. ({LIT}) — 1 value\n\n"
        "```diff\n"
        "- inboundTrust.isMfaAccepted: true\n"
        "```\n\n"
        "#### Unmanaged — not changed by this plan\n\n"
        f"- <code>?</code> unmanaged partner {MTO}: never deleted (a multitenant organization member, "
        "isInMultiTenantOrganization)\n"
    )


def test_a_description_is_escaped_under_its_heading() -> None:
    change = Change("create", "partner", "p", CON, None, (), description="*bold* _it_ <b>|")
    text = render_markdown(Plan((change,), Fingerprints({}, "")))
    assert "— 0 values\n\n_&#42;bold&#42; &#95;it&#95; &lt;b&gt;&#124;_\n\n_no property values_\n" in text


def test_access_changes_list_widenings_under_a_warning_then_narrowings_then_both_names_in_bold() -> None:
    def change(name: str, *effects: Effect) -> Change:
        return Change("update", "partner", name, FAB, None, (), effects=effects)

    plan = Plan(
        (
            change(
                "a*b",
                Effect(
                    "b2b-collaboration", "inbound", "narrows", "a*b: any user can no longer reach any app"
                ),
                Effect("inbound-trust", None, "widens", "a*b: inbound trust — isMfaAccepted true"),
            ),
            change(
                "c",
                Effect("b2b-direct-connect", "outbound", "changes", "c: x may now reach y; z can no longer"),
            ),
            change("default", Effect("identity-sync", None, "widens", "every partner that inherits: sync")),
        ),
        Fingerprints({}, ""),
    )
    assert access_changes(plan) == (
        "#### Access changes\n\n"
        "> [!WARNING]\n"
        "> **Widens access** — review these first:\n"
        "> - **a&#42;b**: inbound trust — isMfaAccepted true\n"
        "> - every partner that inherits: sync\n\n"
        "**Narrows access:**\n\n"
        "- **a&#42;b**: any user can no longer reach any app\n\n"
        "**Changes access both ways:**\n\n"
        "- **c**: x may now reach y; z can no longer\n\n"
    )
    assert access_changes(Plan((change("c"),), Fingerprints({}, ""))) == ""


def huge_create_first() -> Plan:
    """A 100 KB create sorted first (2,500 group targets), then the changes it used to push out."""
    groups = [{"target": f"00000000-0000-4000-8000-{i:012d}", "targetType": "group"} for i in range(2500)]
    create = Change(
        "create",
        "partner",
        "aaa-huge",
        "00000000-0000-4000-8000-00000000aaaa",
        "policies/partners/aaa-huge.yaml:1:1",
        (
            PropertyDiff("b2bCollaborationInbound.usersAndGroups.accessType", None, "allowed"),
            PropertyDiff("b2bCollaborationInbound.usersAndGroups.targets", None, groups),
        ),
    )
    updates = tuple(
        Change(
            "update",
            "partner",
            f"partner-{i:02d}",
            f"00000000-0000-4000-8000-0000000000{i:02d}",
            f"policies/partners/partner-{i:02d}.yaml:1:1",
            (PropertyDiff("b2bDirectConnectInbound.usersAndGroups.accessType", "blocked", "allowed"),),
        )
        for i in range(20)
    )
    delete = Change(
        "delete",
        "partner",
        "zzz-gone",
        "00000000-0000-4000-8000-00000000ffff",
        None,
        (PropertyDiff("inboundTrust.isMfaAccepted", True, None),),
    )
    return Plan((create, *updates, delete), Fingerprints({}, ""), tenant_name="contoso", prune=True)


def headers(plan: Plan) -> list[str]:
    return [
        f"<code>{SYMBOL[c.action]}</code> {c.action} {c.resource} {c.name} ({c.tenant_id}) — "
        for c in plan.changes
    ]


def test_a_huge_create_sorted_first_hides_no_change_header_from_the_comment() -> None:
    plan = huge_create_first()
    assert len(render_markdown(plan, limit=10_000_000)) > 100_000
    comment = github.plan_comment_body("contoso", plan, 2, run_url="https://gh/run/9")
    assert len(comment) <= 65_536
    assert all(h in comment for h in headers(plan))  # every change is listed
    # The create's table is what gave way; the updates and the deletion keep theirs.
    assert comment.count("00000000-0000-4000-8000-000000000000 (group)") == 0
    assert (
        "#### <code>+</code> create partner aaa-huge (00000000-0000-4000-8000-00000000aaaa) — "
        "2 values, detail left out\n\n_Left out to fit; see the note below._\n\n" in comment
    )
    assert (
        comment.count(
            "```diff\n- b2bDirectConnectInbound.usersAndGroups.accessType: blocked\n"
            "+ b2bDirectConnectInbound.usersAndGroups.accessType: allowed\n```\n"
        )
        == 20
    )
    assert "```diff\n- inboundTrust.isMfaAccepted: true\n```\n" in comment
    assert (
        "\n\n**The detail of 1 change(s) is left out** (every change is listed above) to keep this under 65,536 "
        "characters. The full plan is in the job summary and the `xtap-plan-contoso` artifact of "
        "[this run](https://gh/run/9).\n\n---\n**Changes planned.**"
    ) in comment


def test_the_job_summary_holds_every_change_in_full() -> None:
    plan = huge_create_first()
    summary = github.plan_summary("contoso", plan, 2, run_url="https://gh/run/9")
    for change in plan.changes:
        assert _md_section(change, plan.defaults) in summary
    assert "left out" not in summary and "not listed" not in summary
    assert summary.count("00000000-0000-4000-8000-000000000000 (group)") == 1


def test_when_even_the_headers_do_not_fit_the_notice_counts_what_is_not_listed() -> None:
    changes = tuple(
        Change(
            "update",
            "partner",
            f"p{i}",
            f"00000000-0000-4000-8000-{i:012d}",
            None,
            (PropertyDiff("x", 1, 2),),
        )
        for i in range(300)
    )
    text = render_markdown(Plan(changes, Fingerprints({}, "")), limit=8_000)
    assert len(text) <= 8_000
    listed = text.count(", detail left out\n")
    assert 0 < listed < 300
    assert (
        f"_Left out to fit; see the note below._\n\n**{300 - listed} more change(s) are not listed**, and the detail of the {listed} above is "
        "left out, to keep this under 8,000 characters. The full plan is in `xtap plan --format text` or "
        "`--format json`.\n"
    ) in text


def test_json_has_format_version_and_requests() -> None:
    data = json.loads(render_json(sample_plan()))
    assert data["format_version"] == 2
    assert data["summary"] == {"create": 1, "update": 1, "delete": 0, "unmanaged": 1, "noop": 0}
    assert data["changes"][0]["requests"] == [
        {
            "id": "1",
            "method": "PATCH",
            "url": f"/policies/crossTenantAccessPolicy/partners/{FAB}",
            "body": {"inboundTrust": TRUST, "tenantRestrictions": None},
        }
    ]


def test_json_plan_matches_its_schema() -> None:

    import jsonschema

    schema = json.loads((REPO / "schemas" / "plan.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(json.loads(render_json(sample_plan())), schema)


def test_unchanged_resources_are_counted_not_listed() -> None:
    plan = make_plan(
        DesiredState({FAB: desired(FAB, {"inboundTrust": TRUST})}),
        live(LivePartner(FAB, fresh(FAB, inboundTrust=TRUST))),
    )
    assert render_text(plan).endswith(
        "  (1 resource unchanged)\n\nNo changes. The tenant matches the policy files.\n"
    )
    assert render_markdown(plan).endswith("\n1 resource unchanged.\n")
