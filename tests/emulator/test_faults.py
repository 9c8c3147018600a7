"""$batch, faults on request, the journal, the state file, seeds and the `xtap emulator` command."""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.cli.commands import emulator as command
from reconciler.cli.main import build_parser
from reconciler.emulator import Emulator, FaultRule, Faults, JournalEntry, envfile
from reconciler.emulator.seeds import generated
from tests.support.builders import TRUST
from tests.support.emulator import (
    CONTOSO,
    FABRIKAM,
    MTO,
    PARTNERS,
    POLICY,
    UNMANAGED,
    WOODGROVE,
    error,
    graph,
    token,
)

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def demo() -> Iterator[Emulator]:
    with Emulator(seed="demo") as emu:
        yield emu


def _batch(http: httpx.Client, requests: list[dict[str, Any]]) -> httpx.Response:
    return http.post("/v1.0/$batch", json={"requests": requests})


def _by_id(response: httpx.Response) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in response.json()["responses"]}


def _patch(rid: str, tid: str, body: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": rid,
        "method": "PATCH",
        "url": f"/policies/crossTenantAccessPolicy/partners/{tid}",
        "headers": JSON,
        "body": body,
        **extra,
    }


# -- $batch ----------------------------------------------------------------------------------------


def test_batch_runs_sub_requests_and_answers_in_another_order(demo: Emulator) -> None:
    with graph(demo) as http:
        response = _batch(
            http,
            [
                {"id": "1", "method": "GET", "url": f"/policies/crossTenantAccessPolicy/partners/{FABRIKAM}"},
                _patch("2", FABRIKAM, {"inboundTrust": TRUST}),
                {
                    "id": "3",
                    "method": "POST",
                    "url": "/policies/crossTenantAccessPolicy/partners",
                    "headers": JSON,
                    "body": {"tenantId": WOODGROVE},
                },
            ],
        )
    assert response.status_code == 200
    ids = [r["id"] for r in response.json()["responses"]]
    assert sorted(ids) == ["1", "2", "3"] and ids != ["1", "2", "3"]
    replies = _by_id(response)
    assert (replies["1"]["status"], replies["2"]["status"], replies["3"]["status"]) == (200, 204, 201)
    assert replies["1"]["body"]["tenantId"] == FABRIKAM and "body" not in replies["2"]
    assert demo.get_partner(FABRIKAM)["inboundTrust"] == TRUST  # type: ignore[index]
    assert demo.get_partner(WOODGROVE) is not None
    subs = [(e.method, e.path, e.status, e.batch_id) for e in demo.journal if e.in_batch]
    assert subs == [
        ("GET", f"{PARTNERS}/{FABRIKAM}", 200, "1"),
        ("PATCH", f"{PARTNERS}/{FABRIKAM}", 204, "2"),
        ("POST", PARTNERS, 201, "3"),
    ]
    outer = [e for e in demo.journal if e.path == "/v1.0/$batch"]
    assert len(outer) == 1 and not outer[0].in_batch and outer[0].status == 200


def test_depends_on_orders_and_a_failed_dependency_is_424(demo: Emulator) -> None:
    delete_sync = {
        "id": "sync",
        "method": "DELETE",
        "url": f"/policies/crossTenantAccessPolicy/partners/{CONTOSO}/identitySynchronization",
    }
    delete_partner = {
        "id": "partner",
        "method": "DELETE",
        "url": f"/policies/crossTenantAccessPolicy/partners/{CONTOSO}",
        "dependsOn": ["sync"],
    }
    failing = _patch("bad", FABRIKAM, {"b2BCollaborationInbound": None})
    dependent = _patch("after", FABRIKAM, {"inboundTrust": TRUST}, dependsOn=["bad"])
    with graph(demo) as http:
        replies = _by_id(_batch(http, [delete_partner, delete_sync, dependent, failing]))
    assert {k: v["status"] for k, v in replies.items()} == {
        "sync": 204,
        "partner": 204,
        "bad": 400,
        "after": 424,
    }
    assert replies["after"]["body"]["error"]["code"] == "FailedDependency"
    assert demo.get_partner(CONTOSO) is None
    assert demo.get_partner(FABRIKAM)["inboundTrust"] != TRUST  # type: ignore[index]


@pytest.mark.parametrize(
    ("requests", "message"),
    [
        (
            [
                {"id": str(i), "method": "GET", "url": "/policies/crossTenantAccessPolicy/default"}
                for i in range(21)
            ],
            "Number of batch requests exceeds the maximum of 20.",
        ),
        (
            [{"id": "1", "method": "GET", "url": "/policies/crossTenantAccessPolicy/default"}] * 2,
            "Batch request contains a duplicate request id '1'.",
        ),
        (
            [{"id": "1", "method": "PATCH", "url": "/policies/crossTenantAccessPolicy/default", "body": {}}],
            "Write request id : 1 does not contain Content-Type header or body.",
        ),
        (
            [
                {
                    "id": "1",
                    "method": "GET",
                    "url": "/policies/crossTenantAccessPolicy/default",
                    "dependsOn": ["9"],
                }
            ],
            "Request id '1' depends on an unknown request id.",
        ),
    ],
    ids=["over-20", "duplicate-id", "no-content-type", "unknown-dependency"],
)
def test_malformed_batches_are_400(demo: Emulator, requests: list[dict[str, Any]], message: str) -> None:
    with graph(demo) as http:
        assert error(_batch(http, requests)) == (400, "BadRequest", message)
    assert [e for e in demo.journal if e.in_batch] == []


def test_sub_request_429_carries_retry_after_in_its_headers(demo: Emulator) -> None:
    demo.add_fault(FaultRule(method="PATCH", path_contains=FABRIKAM, status=429, retry_after=7))
    with graph(demo) as http:
        replies = _by_id(
            _batch(
                http,
                [_patch("1", FABRIKAM, {"inboundTrust": TRUST}), _patch("2", MTO, {"inboundTrust": TRUST})],
            )
        )
        again = _by_id(_batch(http, [_patch("1", FABRIKAM, {"inboundTrust": TRUST})]))
    assert (replies["1"]["status"], replies["1"]["headers"]["Retry-After"]) == (429, "7")
    assert replies["1"]["body"]["error"]["code"] == "TooManyRequests"
    assert replies["2"]["status"] == 204 and again["1"]["status"] == 204


@pytest.mark.parametrize("retry_after", [True, False], ids=["with-retry-after", "without"])
def test_write_quota_window_throttles_writes_not_reads(retry_after: bool) -> None:
    faults = Faults(write_quota=2, write_window_s=600, throttle_retry_after=retry_after, retry_after_s=3)
    with Emulator(seed="demo", faults=faults) as emu, graph(emu) as http:
        replies = _by_id(
            _batch(
                http,
                [
                    _patch(str(i), tid, {"inboundTrust": TRUST})
                    for i, tid in enumerate((FABRIKAM, MTO, UNMANAGED))
                ],
            )
        )
        outer = http.patch(f"{PARTNERS}/{CONTOSO}", json={"inboundTrust": TRUST})
        read = http.get(f"{PARTNERS}/{CONTOSO}")
    assert sorted(r["status"] for r in replies.values()) == [204, 204, 429]
    throttled = next(r for r in replies.values() if r["status"] == 429)
    assert ("Retry-After" in throttled["headers"]) is retry_after
    assert error(outer)[:2] == (429, "TooManyRequests")
    assert outer.headers.get("retry-after") == ("3" if retry_after else None)
    assert outer.headers["x-ms-throttle-information"] == "WriteLimitExceeded"
    assert read.status_code == 200


# -- faults ----------------------------------------------------------------------------------------


def test_one_shot_fault_rule_on_an_outer_request(demo: Emulator) -> None:
    demo.add_fault(FaultRule(method="GET", path_contains="/default", times=2, status=503, retry_after=None))
    with graph(demo, "reader") as http:
        statuses = [http.get(f"{POLICY}/default").status_code for _ in range(3)]
        first = http.get(f"{PARTNERS}/{FABRIKAM}")
    assert statuses == [503, 503, 200] and first.status_code == 200


def test_dropped_connection_before_and_after_the_write(demo: Emulator) -> None:
    demo.add_fault(FaultRule(method="PATCH", path_contains=FABRIKAM, drop=True))
    demo.add_fault(FaultRule(method="PATCH", path_contains=MTO, drop=True, after_effect=True))
    with graph(demo) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            http.patch(f"{PARTNERS}/{FABRIKAM}", json={"inboundTrust": TRUST})
        with pytest.raises(httpx.RemoteProtocolError):
            http.patch(f"{PARTNERS}/{MTO}", json={"inboundTrust": TRUST})
        assert http.get(f"{PARTNERS}/{FABRIKAM}").status_code == 200  # a new connection works
    assert demo.get_partner(FABRIKAM)["inboundTrust"] != TRUST  # type: ignore[index]
    assert demo.get_partner(MTO)["inboundTrust"] == TRUST  # type: ignore[index]
    assert [e.status for e in demo.journal if e.method == "PATCH"] == [0, 0]


def test_random_errors_and_drops_follow_the_rates() -> None:
    with Emulator(seed="demo", faults=Faults(error_rate=1.0)) as emu, graph(emu, "reader") as http:
        statuses = {http.get(f"{POLICY}/default").status_code for _ in range(10)}
        emu.faults.error_rate = 0.0
        assert http.get(f"{POLICY}/default").status_code == 200
    assert statuses <= {503, 504} and statuses
    with Emulator(seed="demo") as emu, graph(emu, "reader") as http:
        emu.faults.drop_rate = 1.0
        with pytest.raises(httpx.RemoteProtocolError):
            http.get(f"{POLICY}/default")


def test_read_after_write_lag(demo: Emulator) -> None:
    demo.faults.read_lag_s = 0.4
    with graph(demo) as http:
        assert http.patch(f"{PARTNERS}/{FABRIKAM}", json={"inboundTrust": TRUST}).status_code == 204
        assert http.post(PARTNERS, json={"tenantId": WOODGROVE}).status_code == 201
        stale = http.get(f"{PARTNERS}/{FABRIKAM}").json()["inboundTrust"]
        listed = {p["tenantId"] for p in http.get(PARTNERS).json()["value"]}
        missing = http.get(f"{PARTNERS}/{WOODGROVE}").status_code
        assert demo.get_partner(FABRIKAM)["inboundTrust"] == TRUST  # type: ignore[index]
        time.sleep(0.5)
        fresh = http.get(f"{PARTNERS}/{FABRIKAM}").json()["inboundTrust"]
    assert stale != TRUST and WOODGROVE not in listed and missing == 404 and fresh == TRUST


def test_reject_writes_keeps_rejecting_one_partner(demo: Emulator) -> None:
    demo.reject_writes(FABRIKAM, status=400, code="Request_BadRequest", message="Licence required.")
    with graph(demo) as http:
        for _ in range(2):
            assert error(http.patch(f"{PARTNERS}/{FABRIKAM}", json={"inboundTrust": TRUST})) == (
                400,
                "Request_BadRequest",
                "Licence required.",
            )
        assert http.patch(f"{PARTNERS}/{MTO}", json={"inboundTrust": TRUST}).status_code == 204
        assert http.get(f"{PARTNERS}/{FABRIKAM}").status_code == 200


# -- journal and direct state ----------------------------------------------------------------------


def test_journal_records_every_request_and_can_be_cleared(demo: Emulator) -> None:
    with graph(demo) as http:
        http.patch(f"{PARTNERS}/{FABRIKAM}?x=1", json={"inboundTrust": TRUST})
    entries = demo.journal
    assert [e.path for e in entries] == [f"/{demo.tenant_id}/oauth2/v2.0/token", f"{PARTNERS}/{FABRIKAM}"]
    patch = entries[1]
    assert (patch.method, patch.query, patch.body, patch.status, patch.in_batch, patch.batch_id) == (
        "PATCH",
        "x=1",
        {"inboundTrust": TRUST},
        204,
        False,
        None,
    )
    assert patch.client_id == demo.writer.client_id
    demo.clear_journal()
    assert demo.journal == []


def test_direct_state_access_is_a_portal_change(demo: Emulator) -> None:
    partner = demo.get_partner(FABRIKAM)
    assert partner is not None
    demo.put_partner({**partner, "inboundTrust": TRUST})
    demo.set_sync(FABRIKAM, {"displayName": "Fabrikam", "userSyncInbound": {"isSyncAllowed": False}})
    demo.patch_default({"inboundTrust": TRUST})
    with graph(demo, "reader") as http:
        assert http.get(f"{PARTNERS}/{FABRIKAM}").json() == {**partner, "inboundTrust": TRUST}
        assert http.get(f"{PARTNERS}/{FABRIKAM}/identitySynchronization").json() == demo.get_sync(FABRIKAM)
        assert http.get(f"{POLICY}/default").json() == demo.get_default()
    assert demo.get_default()["isServiceDefault"] is False
    demo.delete_partner(FABRIKAM)
    assert demo.get_partner(FABRIKAM) is None and demo.get_sync(FABRIKAM) is None
    assert sorted(demo.partners()) == sorted([CONTOSO, MTO, UNMANAGED])
    assert all(e.path.endswith("/token") or e.method == "GET" for e in demo.journal)


# -- state file, seeds -----------------------------------------------------------------------------


def test_state_file_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with Emulator(seed="demo", state_file=state) as emu, graph(emu) as http:
        http.patch(f"{PARTNERS}/{FABRIKAM}", json={"inboundTrust": TRUST})
        writer = emu.writer
    saved = json.loads(state.read_text())
    assert saved["partners"][FABRIKAM]["inboundTrust"] == TRUST
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]  # no temp files left behind
    with Emulator(seed="empty", state_file=state) as emu:
        assert emu.writer == writer
        assert emu.get_partner(FABRIKAM)["inboundTrust"] == TRUST  # type: ignore[index]
        assert token(emu, emu.writer)


def test_generated_seed_is_deterministic_and_in_the_directory() -> None:
    first, again, other = generated(25), generated(25), generated(25, seed=1)
    assert first == again and first["partners"] != other["partners"]
    assert len(first["partners"]) == 25 and set(first["partners"]) <= set(first["directory"])
    with Emulator(seed=first) as emu, graph(emu) as http:
        for tid in list(first["partners"])[:5]:
            body = http.get(f"{PARTNERS}/{tid}").json()
            response = http.patch(
                f"{PARTNERS}/{tid}", json={k: body[k] for k in ("b2bCollaborationInbound", "inboundTrust")}
            )
            assert response.status_code == 204


def test_loopback_only() -> None:
    with pytest.raises(ValueError, match="loopback"):
        Emulator(host="0.0.0.0")


# -- the command -----------------------------------------------------------------------------------


def test_xtap_emulator_writes_the_env_file_and_serves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env_file = tmp_path / "emulator.env"
    parser = build_parser("emulator")
    args = parser.parse_args(["emulator", "--seed", "empty", "--env-file", str(env_file), "--page-size", "5"])
    stop = threading.Event()
    worker = threading.Thread(target=command.serve, args=(args, stop))
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while not env_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        env = envfile.read(env_file)
        assert set(env) == {
            "XTAP_GRAPH_URL",
            "AZURE_AUTHORITY_HOST",
            "SSL_CERT_FILE",
            "AZURE_TENANT_ID",
            "AZURE_CLIENT_ID",
            "AZURE_CLIENT_SECRET",
            "XTAP_READER_CLIENT_ID",
            "XTAP_READER_CLIENT_SECRET",
            "XTAP_WRITER_CLIENT_ID",
            "XTAP_WRITER_CLIENT_SECRET",
            "XTAP_EMULATOR_ADMIN_SECRET",
        }
        assert env["XTAP_GRAPH_URL"] == env["AZURE_AUTHORITY_HOST"] and env["XTAP_GRAPH_URL"].startswith(
            "https://127.0.0.1:"
        )
        form = {
            "grant_type": "client_credentials",
            "client_id": env["XTAP_READER_CLIENT_ID"],
            "client_secret": env["XTAP_READER_CLIENT_SECRET"],
            "scope": "https://graph.microsoft.com/.default",
        }
        import ssl

        with httpx.Client(verify=ssl.create_default_context(cafile=env["SSL_CERT_FILE"])) as http:
            access = http.post(
                f"{env['XTAP_GRAPH_URL']}/{env['AZURE_TENANT_ID']}/oauth2/v2.0/token", data=form
            ).json()
            listed = http.get(
                f"{env['XTAP_GRAPH_URL']}{PARTNERS}",
                headers={"Authorization": f"Bearer {access['access_token']}"},
            )
        assert listed.json()["value"] == []
    finally:
        stop.set()
        worker.join(10)
    assert not worker.is_alive()
    assert f"export XTAP_GRAPH_URL={env['XTAP_GRAPH_URL']}\n" in capsys.readouterr().out


def test_journal_entry_fields() -> None:
    entry = JournalEntry("GET", "/v1.0/x", "", None, 200)
    assert (entry.in_batch, entry.batch_id) == (False, None)
    assert isinstance(argparse.Namespace(), argparse.Namespace)


def test_a_dropping_sub_request_drops_the_batch_connection(demo: Emulator) -> None:
    demo.add_fault(FaultRule(method="PATCH", path_contains=MTO, drop=True))
    requests = [
        _patch("1", FABRIKAM, {"inboundTrust": TRUST}),
        _patch("2", MTO, {"inboundTrust": TRUST}),
        _patch("3", UNMANAGED, {"inboundTrust": TRUST}),
    ]
    with graph(demo) as http, pytest.raises(httpx.RemoteProtocolError):
        _batch(http, requests)
    trust = {tid: (demo.get_partner(tid) or {}).get("inboundTrust") for tid in (FABRIKAM, MTO, UNMANAGED)}
    assert trust == {FABRIKAM: TRUST, MTO: None, UNMANAGED: None}
    assert [(e.batch_id, e.status) for e in demo.journal if e.in_batch] == [("1", 204), ("2", 0)]


def test_random_faults_are_deterministic_per_seed() -> None:
    runs = []
    for _ in range(2):
        with (
            Emulator(seed="demo", faults=Faults(error_rate=0.5, rng_seed=7)) as emu,
            graph(emu, "reader") as http,
        ):
            runs.append([http.get(f"{POLICY}/default").status_code for _ in range(12)])
    assert runs[0] == runs[1] and 200 in runs[0] and set(runs[0]) - {200}
