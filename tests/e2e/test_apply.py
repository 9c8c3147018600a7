"""plan and apply end to end: CLI in-process, emulator over HTTPS, stock msal."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.emulator import Emulator
from tests.support import REPO
from tests.support.builders import CON, CONSENT, FAB, MTO, TRUST
from tests.support.e2e import PARTNERS, use_emulator, write_policies, writes, xtap

LIT = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5e"
WOOD = "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a"


@pytest.fixture
def empty(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    with Emulator(seed="empty") as emu:
        use_emulator(monkeypatch, emu)
        monkeypatch.chdir(tmp_path)
        yield emu


@pytest.fixture
def demo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    with Emulator(seed="demo") as emu:
        use_emulator(monkeypatch, emu)
        monkeypatch.chdir(tmp_path)
        yield emu


def test_update_page_examples_send_exactly_those_two_bodies(
    empty: Emulator, tmp_path: Path, capsys: Any
) -> None:
    empty.put_partner({"tenantId": FAB})
    empty.put_partner({"tenantId": CON})
    write_policies(
        tmp_path,
        {
            "fabrikam": {"tenantId": FAB, "inboundTrust": TRUST},
            "contoso": {"tenantId": CON, "automaticUserConsentSettings": CONSENT},
        },
    )
    empty.clear_journal()
    code, out, err = xtap(capsys, "apply", "--auto-approve")
    assert (code, err) == (0, "")
    assert sorted(writes(empty)) == sorted(
        [
            ("PATCH", f"{PARTNERS}/{FAB}", {"inboundTrust": TRUST}),
            ("PATCH", f"{PARTNERS}/{CON}", {"automaticUserConsentSettings": CONSENT}),
        ]
    )
    assert (
        "Apply complete: 2 applied, 0 failed.\nVerified: the tenant matches the policy files for everything applied.\n"
        in out
    )
    code, out, _ = xtap(capsys, "plan", "--detailed-exitcode")
    assert code == 0
    assert "No changes. The tenant matches the policy files." in out


def test_example_policies_apply_and_next_plan_is_empty(demo: Emulator, tmp_path: Path, capsys: Any) -> None:
    shutil.copytree(REPO / "policies", tmp_path / "policies")
    code, out, _ = xtap(capsys, "plan", "--detailed-exitcode")
    assert code == 2
    code, out, err = xtap(capsys, "apply", "--auto-approve")
    assert code == 0, out + err
    demo.clear_journal()
    code, out, _ = xtap(capsys, "plan", "--detailed-exitcode")
    assert code == 0
    assert writes(demo) == []
    # prune is off by default: the portal-made partner and the MTO partner are reported, never deleted
    assert f"? partner {LIT}: unmanaged, not in the policy files; deleted only with --prune" in out
    assert demo.get_partner(LIT) is not None and demo.get_partner(MTO) is not None


def test_prune_never_deletes_the_mto_partner(demo: Emulator, tmp_path: Path, capsys: Any) -> None:
    shutil.copytree(REPO / "policies", tmp_path / "policies")
    code, out, err = xtap(capsys, "apply", "--auto-approve", "--prune")
    assert code == 0, out + err
    assert demo.get_partner(LIT) is None
    assert demo.get_partner(MTO) is not None
    assert (
        f"? partner {MTO}: unmanaged, never deleted (a multitenant organization member, isInMultiTenantOrganization)"
        in out
    )
    assert ("DELETE", f"{PARTNERS}/{MTO}", None) not in writes(demo)


def test_saved_plan_refused_when_tenant_changed(empty: Emulator, tmp_path: Path, capsys: Any) -> None:
    empty.put_partner({"tenantId": FAB})
    write_policies(tmp_path, {"fabrikam": {"tenantId": FAB, "inboundTrust": TRUST}})
    code, _, _ = xtap(capsys, "plan", "--out", "plan.json")
    assert code == 0
    empty.put_partner({"tenantId": FAB, "automaticUserConsentSettings": CONSENT})  # a portal change
    empty.clear_journal()
    code, _out, err = xtap(capsys, "apply", "plan.json", "--auto-approve")
    assert code == 3
    assert err == (
        f"xtap: error: the saved plan is refused: the tenant changed since it was made (partner:{FAB}); make a new plan. "
        "Nothing was changed.\n"
    )
    assert writes(empty) == []


def test_saved_plan_refused_when_files_changed_and_applied_when_fresh(
    empty: Emulator, tmp_path: Path, capsys: Any
) -> None:
    empty.put_partner({"tenantId": FAB})
    policies = write_policies(tmp_path, {"fabrikam": {"tenantId": FAB, "inboundTrust": TRUST}})
    assert xtap(capsys, "plan", "--out", "plan.json")[0] == 0
    (policies / "partners" / "fabrikam.yaml").write_text(f"tenantId: {FAB}\n")
    code, _, err = xtap(capsys, "apply", "plan.json", "--auto-approve")
    assert (code, err) == (
        3,
        "xtap: error: the saved plan is refused: the policy files changed since it was made; make a new plan. Nothing was changed.\n",
    )
    write_policies(tmp_path, {"fabrikam": {"tenantId": FAB, "inboundTrust": TRUST}})
    empty.clear_journal()
    code, out, err = xtap(capsys, "apply", "plan.json", "--auto-approve")
    assert code == 0, out + err
    assert writes(empty) == [("PATCH", f"{PARTNERS}/{FAB}", {"inboundTrust": TRUST})]


def test_safety_gate_refuses_with_exit_3_and_force_overrides(
    empty: Emulator, tmp_path: Path, capsys: Any
) -> None:
    ids = [f"00000000-0000-4000-8000-{i:012d}" for i in range(10)]
    for tid in ids:
        empty.put_partner({"tenantId": tid})
    write_policies(
        tmp_path, {f"p{i}": {"tenantId": tid, "inboundTrust": TRUST} for i, tid in enumerate(ids[:4])}
    )
    empty.clear_journal()
    code, out, err = xtap(capsys, "apply", "--auto-approve")
    assert code == 3
    assert "Refused by safety gate: 4 of 10 existing partners would change, more than 30 %\n" in out
    assert err == (
        "xtap: error: the plan was refused by a safety gate (see above); nothing was changed. If these "
        "changes are meant, re-run with --force (or raise the limit under `safety:` in xtap.yaml)\n"
    )
    assert writes(empty) == []
    code, _, _ = xtap(capsys, "plan")
    assert code == 3
    code, out, err = xtap(capsys, "apply", "--auto-approve", "--force")
    assert code == 0, out + err
    assert (
        "Safety gate overridden by --force: 4 of 10 existing partners would change, more than 30 %\n" in out
    )
    assert "re-run with --force" not in out + err
    assert len(writes(empty)) == 4


def test_apply_refuses_without_auto_approve_off_a_terminal(
    empty: Emulator, tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_policies(tmp_path, {"fabrikam": {"tenantId": FAB, "inboundTrust": TRUST}})
    monkeypatch.setattr(sys, "stdin", open(os.devnull))  # noqa: SIM115
    code, _, err = xtap(capsys, "apply")
    assert (code, err) == (
        1,
        "xtap: error: refusing to apply without --auto-approve when not on a terminal\n",
    )
    assert writes(empty) == []


def test_one_partner_rejected_others_applied_then_rerun_converges(
    empty: Emulator, tmp_path: Path, capsys: Any
) -> None:
    for tid in (FAB, CON, WOOD):
        empty.put_partner({"tenantId": tid})
    write_policies(
        tmp_path,
        {n: {"tenantId": t, "inboundTrust": TRUST} for n, t in (("fab", FAB), ("con", CON), ("wood", WOOD))},
    )
    empty.reject_writes(
        CON, status=400, code="Request_BadRequest", message="Licence required for this setting."
    )
    code, out, _ = xtap(capsys, "apply", "--auto-approve")
    assert code == 1
    assert "Apply complete: 2 applied, 1 failed." in out
    assert f"  failed: update partner {CON}: " in out and "Request_BadRequest" in out and "request-id" in out
    assert empty.get_partner(FAB)["inboundTrust"] == TRUST  # type: ignore[index]
    assert empty.get_partner(WOOD)["inboundTrust"] == TRUST  # type: ignore[index]
    empty.accept_writes(CON)  # Graph accepts it again
    empty.clear_journal()
    code, out, err = xtap(capsys, "apply", "--auto-approve")
    assert code == 0, out + err
    assert writes(empty) == [("PATCH", f"{PARTNERS}/{CON}", {"inboundTrust": TRUST})]


def test_post_conflict_falls_back_to_patch(empty: Emulator, tmp_path: Path) -> None:
    """A partner created between plan and apply (portal, another admin): the POST conflicts, apply re-plans it."""
    from reconciler.core.planner import PlanOptions, make_plan
    from reconciler.core.state import LiveState
    from reconciler.shell.applier import Applier
    from reconciler.shell.files import load_desired
    from reconciler.shell.graph import connect

    policies = write_policies(
        tmp_path,
        {
            "fabrikam": {
                "tenantId": FAB,
                "inboundTrust": TRUST,
                "identitySynchronization": {"userSyncInbound": {"isSyncAllowed": True}},
            }
        },
    )
    desired = load_desired(policies).desired
    plan = make_plan(desired, LiveState(default={}))
    assert [r.method for r in plan.requests] == ["POST", "PUT"]
    empty.put_partner({"tenantId": FAB, "automaticUserConsentSettings": CONSENT})
    empty.clear_journal()
    with connect(os.environ) as client:
        result = Applier(client).apply(plan, desired, PlanOptions())
    assert result.ok, result
    # The dependent PUT is answered 424 without reaching Graph's store; the re-plan sends PATCH + PUT.
    assert [w[:2] for w in writes(empty)] == [
        ("POST", PARTNERS),
        ("PATCH", f"{PARTNERS}/{FAB}"),
        ("PUT", f"{PARTNERS}/{FAB}/identitySynchronization"),
    ]
    assert writes(empty)[1][2] == {"inboundTrust": TRUST, "automaticUserConsentSettings": None}
    assert empty.get_sync(FAB) is not None


def test_kill_mid_apply_then_rerun_converges(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [f"00000000-0000-4000-8000-{i:012d}" for i in range(60)]
    with Emulator(seed="empty") as emu:
        use_emulator(monkeypatch, emu)
        monkeypatch.chdir(tmp_path)
        write_policies(
            tmp_path, {f"p{i:02d}": {"tenantId": t, "inboundTrust": TRUST} for i, t in enumerate(ids)}
        )
        emu.faults.latency_ms = 150
        env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
        proc = subprocess.Popen(
            [sys.executable, "-m", "reconciler", "apply", "--auto-approve", "--parallel", "1"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(e.method == "POST" and e.in_batch for e in emu.journal):
            time.sleep(0.02)
        proc.kill()
        proc.wait()
        # The server finishes the batch it was handed even though its client is gone: wait until the
        # tenant stops changing, so "created" counts everything the killed run did.
        created, stable_since = len(emu.partners()), time.monotonic()
        while time.monotonic() - stable_since < 1.0:
            time.sleep(0.05)
            now = len(emu.partners())
            if now != created:
                created, stable_since = now, time.monotonic()
        assert 0 < created < 60, created  # killed part-way
        emu.faults.latency_ms = 0
        emu.clear_journal()
        code, out, err = xtap(capsys, "apply", "--auto-approve")
        assert code == 0, out + err
        posted = [p for m, p, _ in writes(emu) if m == "POST"]
        assert len(posted) == 60 - created  # finished work is not repeated
        assert sorted(emu.partners()) == sorted(ids)
        code, _, _ = xtap(capsys, "plan", "--detailed-exitcode")
        assert code == 0


targets = st.lists(
    st.sampled_from(
        [
            {"target": "AllUsers", "targetType": "user"},
            {"target": "6f546279-4da5-4b53-a095-09ea0cef9971", "targetType": "group"},
        ]
    ),
    min_size=1,
    max_size=2,
    unique_by=lambda t: t["target"],
).filter(lambda ts: not (len(ts) > 1 and any(t["target"] == "AllUsers" for t in ts)))
apps = st.just([{"target": "AllApplications", "targetType": "application"}])
b2b = st.fixed_dictionaries(
    {
        "usersAndGroups": st.fixed_dictionaries({"accessType": st.just("allowed"), "targets": targets}),
        "applications": st.fixed_dictionaries({"accessType": st.just("allowed"), "targets": apps}),
    }
)
bools = st.sampled_from([True, False])
partner_settings = st.fixed_dictionaries(
    {},
    optional={
        "inboundTrust": st.fixed_dictionaries({k: bools for k in TRUST}),
        "automaticUserConsentSettings": st.fixed_dictionaries({k: bools for k in CONSENT}),
        "b2bCollaborationInbound": b2b,
        "b2bDirectConnectOutbound": b2b,
    },
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(want=partner_settings, have=partner_settings)
def test_random_desired_and_live_converge_with_minimal_bodies(
    want: dict[str, Any], have: dict[str, Any], empty: Emulator, tmp_path: Path, capsys: Any
) -> None:
    empty.put_partner({"tenantId": FAB, **have})
    write_policies(tmp_path, {"fab": {"tenantId": FAB, **want}})
    before = empty.get_partner(FAB)
    empty.clear_journal()
    code, out, err = xtap(capsys, "apply", "--auto-approve")
    assert code == 0, out + err
    for method, _path, body in writes(empty):
        assert method == "PATCH"
        for name in body:  # only properties that differ are sent
            assert json.dumps(want.get(name), sort_keys=True) != json.dumps(have.get(name), sort_keys=True)
    assert before is not None
    empty.clear_journal()
    assert xtap(capsys, "plan", "--detailed-exitcode")[0] == 0
    empty.delete_partner(FAB)


def test_managed_identity_flag_signs_in_through_the_identity_endpoint(
    empty: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Any
) -> None:
    """`--managed-identity` with no other credential: stock msal asks the (App Service-style) identity
    endpoint, a loopback stand-in handing out emulator tokens; without the flag the chain says what to set."""
    from reconciler.shell.graph.auth import credential_from_env
    from tests.support.auth import ManagedIdentityStandIn

    issuer = credential_from_env(empty.env("reader"))
    for key in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"):
        monkeypatch.delenv(key)
    write_policies(tmp_path, {"fabrikam": {"tenantId": FAB}})
    code, _, err = xtap(capsys, "plan")
    assert code == 1 and err.startswith("xtap: error: no Graph credentials: set XTAP_ACCESS_TOKEN")
    with ManagedIdentityStandIn(issuer.get_token) as identity:
        for key, value in identity.env().items():
            monkeypatch.setenv(key, value)
        code, out, err = xtap(capsys, "plan", "--managed-identity", "--detailed-exitcode")
        assert (code, err) == (2, "")
        assert "Plan: 1 to add, 0 to change, 0 to destroy." in out
        assert identity.resources == [empty.url]
