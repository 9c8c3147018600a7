"""GraphClient against the emulator over real HTTPS: exact request counts under paging and faults.

Sleeps are recorded, not slept (RetryPolicy.sleep); everything else is real: TLS, msal, $batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.core.errors import XtapError
from reconciler.core.state import Request
from reconciler.emulator import Emulator, FaultRule
from reconciler.shell.graph import GraphClient, GraphError, RetryPolicy, connect

PARTNERS = "/policies/crossTenantAccessPolicy/partners"
NEW = "aaaaaaaa-1111-4222-8333-944445555666"


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(seed="demo") as emulator:
        yield emulator


def client_for(emu: Emulator, sleeps: list[float], app: str = "writer", **retry: float) -> GraphClient:
    client = connect(emu.env(app), retry=RetryPolicy(jitter=0, sleep=sleeps.append, **retry))  # type: ignore[arg-type]
    client.get_default()  # sign in now, so the journal below holds Graph calls only
    emu.clear_journal()
    client.transport.request_count = client.transport.retry_count = 0
    return client


def outer(emu: Emulator) -> list[tuple[str, str, int]]:
    return [(e.method, e.path, e.status) for e in emu.journal if not e.in_batch]


def subs(emu: Emulator) -> list[tuple[str | None, str, int]]:
    return [(e.batch_id, e.method, e.status) for e in emu.journal if e.in_batch]


def patch(i: int, tid: str, body: dict[str, object] | None = None) -> Request:
    return Request(
        f"r{i}", "PATCH", f"{PARTNERS}/{tid}", body if body is not None else {"inboundTrust": None}
    )


def test_paging_over_one_item_pages_takes_n_plus_one_requests() -> None:
    with Emulator(seed="demo", page_size=1) as emu:
        sleeps: list[float] = []
        client = client_for(emu, sleeps)
        state = client.read_live_state()
        n = len(emu.partners())
        assert n >= 3
        assert sorted(state.partners) == sorted(emu.partners())
        partner_gets = [e for e in emu.journal if e.path == f"/v1.0{PARTNERS}"]
        assert len(partner_gets) == n
        assert all(e.query.startswith("$expand=identitySynchronization") for e in partner_gets)
        assert client.request_count == n + 1
        for tid, live in state.partners.items():
            assert "identitySynchronization" not in live.raw
            expected = emu.get_sync(tid)
            if expected is not None:
                expected = {k: v for k, v in expected.items() if not k.startswith("@odata")}
            assert live.sync == expected


def test_429_with_retry_after_is_honoured(emu: Emulator) -> None:
    sleeps: list[float] = []
    client = client_for(emu, sleeps)
    emu.add_fault(FaultRule(method="GET", path_contains="/default", status=429, retry_after=3))
    client.get_default()
    assert sleeps == [3.0]
    assert outer(emu) == [("GET", "/v1.0/policies/crossTenantAccessPolicy/default", s) for s in (429, 200)]


def test_429_without_retry_after_backs_off(emu: Emulator) -> None:
    sleeps: list[float] = []
    client = client_for(emu, sleeps, base_delay=0.25)
    emu.add_fault(FaultRule(method="GET", path_contains="/default", status=429, retry_after=None, times=2))
    client.get_default()
    assert sleeps == [0.25, 0.5]
    assert [s for _, _, s in outer(emu)] == [429, 429, 200]
    assert (client.request_count, client.retry_count) == (3, 2)


def test_a_503_burst_on_a_batch(emu: Emulator) -> None:
    sleeps: list[float] = []
    client = client_for(emu, sleeps)
    tid = sorted(emu.partners())[0]
    emu.add_fault(FaultRule(method="POST", path_contains="$batch", status=503, retry_after=None, times=3))
    results = client.execute([patch(0, tid)])
    assert sleeps == [1.0, 2.0, 4.0]
    assert [s for _, _, s in outer(emu)] == [503, 503, 503, 200]
    assert subs(emu) == [("r0", "PATCH", 204)]
    assert results["r0"].status == 204 and results["r0"].attempts == 4


def test_a_429_on_one_sub_request_resends_only_that_one(emu: Emulator) -> None:
    sleeps: list[float] = []
    client = client_for(emu, sleeps)
    tids = sorted(emu.partners())
    emu.add_fault(FaultRule(method="PATCH", path_contains=tids[1], status=429, retry_after=2))
    results = client.execute([patch(i, t) for i, t in enumerate(tids)])
    assert outer(emu) == [("POST", "/v1.0/$batch", 200)] * 2
    assert subs(emu) == [(f"r{i}", "PATCH", 429 if i == 1 else 204) for i in range(len(tids))] + [
        ("r1", "PATCH", 204)
    ]
    assert sleeps == [2.0]
    assert {k: (v.status, v.attempts) for k, v in results.items()} == {
        f"r{i}": (204, 2 if i == 1 else 1) for i in range(len(tids))
    }


def test_a_dropped_connection_during_a_patch_has_no_duplicate_effect(emu: Emulator) -> None:
    sleeps: list[float] = []
    client = client_for(emu, sleeps)
    tid = sorted(emu.partners())[0]
    trust = {
        "isMfaAccepted": True,
        "isCompliantDeviceAccepted": False,
        "isHybridAzureADJoinedDeviceAccepted": False,
    }
    emu.add_fault(FaultRule(method="PATCH", path_contains=tid, drop=True, after_effect=True))
    results = client.execute([patch(0, tid, {"inboundTrust": trust})])
    assert outer(emu) == [("POST", "/v1.0/$batch", 0), ("POST", "/v1.0/$batch", 200)]
    # Applied, its answer lost with the connection (journaled as 0), then applied again: same end state.
    assert subs(emu) == [("r0", "PATCH", 0), ("r0", "PATCH", 204)]
    assert sleeps == [1.0]
    assert results["r0"].status == 204 and results["r0"].attempts == 2
    assert emu.get_partner(tid)["inboundTrust"] == trust  # type: ignore[index]
    assert len(emu.partners()) == len(client.read_live_state().partners)


def test_a_dropped_create_is_reread_not_repeated(emu: Emulator) -> None:
    sleeps: list[float] = []
    client = client_for(emu, sleeps)
    before = len(emu.partners())
    emu.add_fault(FaultRule(method="POST", path_contains="/partners", drop=True, after_effect=True))
    results = client.execute([Request("c", "POST", PARTNERS, {"tenantId": NEW})])
    assert outer(emu) == [("POST", "/v1.0/$batch", 0), ("GET", f"/v1.0{PARTNERS}/{NEW}", 200)]
    assert subs(emu) == [("c", "POST", 0)]  # created, but the answer was lost with the connection
    assert results["c"].status == 201 and results["c"].headers == {"x-xtap-recovered": "reread"}
    assert results["c"].body["tenantId"] == NEW
    assert len(emu.partners()) == before + 1


def test_a_dropped_create_that_did_not_happen_is_sent_again(emu: Emulator) -> None:
    sleeps: list[float] = []
    client = client_for(emu, sleeps)
    emu.add_fault(FaultRule(method="POST", path_contains="/partners", drop=True, after_effect=False))
    results = client.execute([Request("c", "POST", PARTNERS, {"tenantId": NEW})])
    assert outer(emu) == [
        ("POST", "/v1.0/$batch", 0),
        ("GET", f"/v1.0{PARTNERS}/{NEW}", 404),
        ("POST", "/v1.0/$batch", 200),
    ]
    assert subs(emu) == [("c", "POST", 0), ("c", "POST", 201)]  # dropped before it ran, then created once
    assert results["c"].status == 201 and "x-xtap-recovered" not in results["c"].headers


def test_a_dropped_sync_put_is_reread_not_repeated(emu: Emulator) -> None:
    sleeps: list[float] = []
    client = client_for(emu, sleeps)
    tid = next(t for t in sorted(emu.partners()) if emu.get_sync(t) is None)
    emu.add_fault(FaultRule(method="PUT", path_contains=tid, drop=True, after_effect=True))
    body = {"displayName": "Fabrikam", "userSyncInbound": {"isSyncAllowed": True}}
    results = client.execute([Request("s", "PUT", f"{PARTNERS}/{tid}/identitySynchronization", body)])
    assert outer(emu)[1] == ("GET", f"/v1.0{PARTNERS}/{tid}/identitySynchronization", 200)
    assert len(outer(emu)) == 2
    assert results["s"].status == 204 and results["s"].headers == {"x-xtap-recovered": "reread"}


def test_delete_sync_then_partner_in_one_serial_batch(emu: Emulator) -> None:
    sleeps: list[float] = []
    client = client_for(emu, sleeps)
    tid = next(
        t
        for t in sorted(emu.partners())
        if emu.get_sync(t) is not None and not emu.get_partner(t).get("isInMultiTenantOrganization")
    )  # type: ignore[union-attr]
    results = client.execute(
        [
            Request("p", "DELETE", f"{PARTNERS}/{tid}", depends_on=("s",)),
            Request("s", "DELETE", f"{PARTNERS}/{tid}/identitySynchronization"),
        ]
    )
    assert outer(emu) == [("POST", "/v1.0/$batch", 200)]
    assert subs(emu) == [("s", "DELETE", 204), ("p", "DELETE", 204)]
    assert (results["s"].status, results["p"].status) == (204, 204)
    assert emu.get_partner(tid) is None


def test_403_on_a_write_with_the_read_only_app_names_the_permission(emu: Emulator) -> None:
    sleeps: list[float] = []
    client = client_for(emu, sleeps, app="reader")
    tid = sorted(emu.partners())[0]
    result = client.execute([patch(0, tid)])["r0"]
    assert result.status == 403 and result.error is not None
    error = result.error
    assert isinstance(error, GraphError) and isinstance(error, XtapError) and error.exit_code == 1
    assert error.code == "Authorization_RequestDenied"
    assert str(error).startswith(
        f"Graph refused PATCH {PARTNERS}/{tid}: 403 Authorization_RequestDenied: Insufficient privileges to "
        "complete the operation. This operation needs the application permission "
        "Policy.ReadWrite.CrossTenantAccess (request-id "
    )
    assert error.request_id is not None and error.request_id in str(error)
    assert sleeps == []


def test_403_on_a_read_names_the_read_permission(emu: Emulator) -> None:
    from reconciler.emulator import App

    emu.register_app(App("5d2b8f4e-0000-4000-8000-000000000001", roles=(), client_secret="no-roles-secret"))
    env = emu.env(App("5d2b8f4e-0000-4000-8000-000000000001", client_secret="no-roles-secret"))
    with connect(env) as client, pytest.raises(GraphError) as info:
        client.read_live_state()
    assert info.value.status == 403
    assert "This operation needs the application permission Policy.Read.All (request-id " in str(info.value)


def test_tenant_lookups(emu: Emulator) -> None:
    sleeps: list[float] = []
    client = client_for(emu, sleeps)
    tid = sorted(emu.partners())[0]
    found = client.find_tenant(tenant_id=tid)
    assert found is not None and found["tenantId"] == tid
    assert client.find_tenant(domain=found["defaultDomainName"])["tenantId"] == tid  # type: ignore[index]
    assert client.find_tenant(domain="nowhere.example") is None


def test_403_through_xtap_apply_with_the_read_only_app_exits_1_and_names_the_permission(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from reconciler.cli import main as cli

    tid = sorted(emu.partners())[0]
    partners = tmp_path / "policies" / "partners"
    partners.mkdir(parents=True)
    (partners / "one.yaml").write_text(
        f"tenantId: {tid}\n"
        "inboundTrust:\n"
        "  isMfaAccepted: true\n"
        "  isCompliantDeviceAccepted: true\n"
        "  isHybridAzureADJoinedDeviceAccepted: true\n"
    )
    emu.put_partner({"tenantId": tid})  # so that the file is a change to apply
    monkeypatch.chdir(tmp_path)
    for key, value in emu.env("reader").items():
        monkeypatch.setenv(key, value)
    emu.clear_journal()
    code = cli.main(["apply", "--auto-approve"])
    out = capsys.readouterr().out
    assert code == 1
    assert (
        f"  failed: update partner {tid}: Graph refused PATCH {PARTNERS}/{tid}: 403 Authorization_RequestDenied: "
        "Insufficient privileges to complete the operation. This operation needs the application permission "
        "Policy.ReadWrite.CrossTenantAccess (request-id "
    ) in out
    writes = [(e.method, e.status) for e in emu.journal if e.in_batch]
    assert writes == [("PATCH", 403)]  # a 403 is final: not retried


def test_one_sign_in_serves_the_pages_and_the_default_read_side_by_side(emu: Emulator) -> None:
    """msal's discovery request and one token request, then the reads: never a second sign-in because
    two reads started at once."""
    with connect(emu.env("reader")) as client:
        client.read_live_state()
    paths = [e.path for e in emu.journal]
    assert sum(p.endswith("/.well-known/openid-configuration") for p in paths) == 1
    assert sum(p.endswith("/oauth2/v2.0/token") for p in paths) == 1
    assert paths[:2] == [
        f"/{emu.tenant_id}/v2.0/.well-known/openid-configuration",
        f"/{emu.tenant_id}/oauth2/v2.0/token",
    ]
    assert sorted(paths[2:]) == [
        "/v1.0/policies/crossTenantAccessPolicy/default",
        f"/v1.0{PARTNERS}",
    ]


def test_a_failed_sign_in_is_tried_once_not_once_per_read(emu: Emulator) -> None:
    from reconciler.shell.graph import AuthError

    unknown = "7e7e7e7e-0000-4000-8000-000000000007"  # no such tenant: discovery answers 400
    with connect(emu.env("reader") | {"AZURE_TENANT_ID": unknown}) as client, pytest.raises(AuthError):
        client.read_live_state()
    assert [e.path for e in emu.journal] == [f"/{unknown}/v2.0/.well-known/openid-configuration"]


def test_a_whole_batch_answered_424_is_sent_again(emu: Emulator) -> None:
    sleeps: list[float] = []
    client = client_for(emu, sleeps)
    tid = sorted(emu.partners())[0]
    emu.add_fault(FaultRule(status=424, retry_after=2, batch=True))
    results = client.execute([patch(0, tid)])
    assert outer(emu) == [("POST", "/v1.0/$batch", 424), ("POST", "/v1.0/$batch", 200)]
    assert subs(emu) == [("r0", "PATCH", 204)]
    assert sleeps == [2.0] and (results["r0"].status, results["r0"].attempts) == (204, 2)
