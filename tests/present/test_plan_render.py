from __future__ import annotations

import json

from reconciler.core.plan import Change, Fingerprints, Plan, PropertyDiff
from reconciler.core.planner import make_plan
from reconciler.core.state import DesiredState, LivePartner
from reconciler.present.formats import plan_json as render_json
from reconciler.present.plan_markdown import render_markdown
from reconciler.present.plan_text import render_text
from tests.support import REPO
from tests.support.builders import ALL_USERS, CON, CONSENT, FAB, MTO, TRUST, desired, fresh, live


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
        "  + partner 9c5d (9c5d131d-b1c3-4fc4-9e3f-c6557947d551)   (policies/partners/9c5d.yaml:1:1)\n"
        "      + automaticUserConsentSettings.inboundAllowed: true\n"
        "      + automaticUserConsentSettings.outboundAllowed: true\n"
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
    assert "> [!CAUTION]\n> **This plan deletes 1 partner configuration(s):** <code>9c5d131d" in text
    assert "<img" not in text and "`x`" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;&#124;&#96;x&#96;" in text


def test_markdown_truncates_under_the_limit_with_a_notice() -> None:
    changes = tuple(
        Change(
            "update",
            "partner",
            f"p{i}",
            f"00000000-0000-4000-8000-{i:012d}",
            None,
            tuple(PropertyDiff(f"inboundTrust.x{j}", False, True) for j in range(40)),
        )
        for i in range(300)
    )
    text = render_markdown(Plan(changes, Fingerprints({}, "")))
    assert len(text) <= 65_536
    assert "more change(s) not shown: the comment would exceed 65,536 characters." in text
    shown = text.count("<details>")
    assert f"**… {300 - shown} more change(s) not shown" in text


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
