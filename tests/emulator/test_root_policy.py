"""`/policies/crossTenantAccessPolicy` itself: `allowedCloudEndpoints`, its permissions, its validation
against the v1.0 metadata, the state file and seeds."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.emulator import App, Emulator, seeds
from reconciler.emulator.config import LOOKUP_ROLE
from tests.support.emulator import POLICY, error, graph

CLOUDS = ["microsoftonline.us", "partner.microsoftonline.cn"]


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(seed="demo") as emu:
        yield emu


@pytest.fixture
def http(emu: Emulator) -> Iterator[httpx.Client]:
    with graph(emu) as client:
        yield client


def test_get_shows_every_property_of_the_v1_type(emu: Emulator) -> None:
    with graph(emu, "reader") as http:
        response = http.get(POLICY)
    assert response.status_code == 200
    assert response.json() == {
        "@odata.context": f"{emu.url}/v1.0/$metadata#policies/crossTenantAccessPolicy/$entity",
        "id": "crossTenantAccessPolicy",
        "deletedDateTime": None,
        "description": None,
        "displayName": "CrossTenantAccessPolicy",
        "allowedCloudEndpoints": [],
    }
    assert emu.get_policy() == response.json()


def test_update_page_example_and_sdk_example_are_accepted_and_reflected(
    emu: Emulator, http: httpx.Client
) -> None:
    # The v1.0 Update page sends one cloud; the PowerShell sample of the same call sends two.
    for clouds in (["microsoftonline.us"], CLOUDS, []):
        response = http.patch(POLICY, json={"allowedCloudEndpoints": clouds})
        assert (response.status_code, response.content) == (204, b"")
        assert http.get(POLICY).json()["allowedCloudEndpoints"] == clouds
    assert http.patch(POLICY, json={"displayName": "Ours"}).status_code == 204
    assert emu.get_policy()["displayName"] == "Ours"


def test_select(emu: Emulator, http: httpx.Client) -> None:
    assert http.get(f"{POLICY}?$select=allowedCloudEndpoints").json() == {
        "@odata.context": f"{emu.url}/v1.0/$metadata#policies/crossTenantAccessPolicy(allowedCloudEndpoints)/$entity",
        "allowedCloudEndpoints": [],
    }
    assert error(http.get(f"{POLICY}?$select=allowedCloudEndpoint")) == (
        400,
        "BadRequest",
        "Parsing OData Select and Expand failed: Could not find a property named 'allowedCloudEndpoint' on type "
        "'microsoft.graph.crossTenantAccessPolicy'.",
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"allowedCloudEndpoints": None}, "Property 'allowedCloudEndpoints' cannot be null."),
        (
            {"allowedCloudEndpoints": "microsoftonline.us"},
            "Invalid value for property 'allowedCloudEndpoints': a collection is expected.",
        ),
        ({"allowedCloudEndpoints": [1]}, "Cannot convert the literal '1' to the expected type 'Edm.String'."),
        (
            {"allowedCloudEndpoints": [None]},
            "A null value was found for the property named 'allowedCloudEndpoints', which is a collection.",
        ),
        ({"AllowedCloudEndpoints": CLOUDS}, "Invalid property 'AllowedCloudEndpoints'"),
        ({"partners": []}, "Invalid property 'partners'"),
        ({"id": "x"}, "Property 'id' is read-only and cannot be set."),
    ],
    ids=["null", "string", "number", "null-item", "case", "navigation", "read-only"],
)
def test_invalid_bodies_are_400(
    emu: Emulator, http: httpx.Client, body: dict[str, Any], message: str
) -> None:
    before = emu.get_policy()
    assert error(http.patch(POLICY, json=body)) == (400, "Request_BadRequest", message)
    assert emu.get_policy() == before


def test_permissions(emu: Emulator) -> None:
    denied = (403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
    with graph(emu, "reader") as http:
        assert error(http.patch(POLICY, json={"allowedCloudEndpoints": CLOUDS})) == denied
    lookup_only = emu.register_app(App(str(uuid.uuid4()), (LOOKUP_ROLE,), client_secret="lookup-only-secret"))
    with graph(emu, lookup_only) as http:
        assert error(http.get(POLICY)) == denied
    with graph(emu) as http:
        assert http.get(POLICY).status_code == 200  # the write permission reads too
        assert error(http.delete(POLICY)) == (
            405,
            "Request_BadRequest",
            "Specified HTTP method is not allowed for the request uri.",
        )
    assert emu.get_policy()["allowedCloudEndpoints"] == []


def test_patch_in_a_batch(emu: Emulator, http: httpx.Client) -> None:
    request = {
        "id": "1",
        "method": "PATCH",
        "url": "/policies/crossTenantAccessPolicy",
        "headers": {"Content-Type": "application/json"},
        "body": {"allowedCloudEndpoints": CLOUDS},
    }
    response = http.post("/v1.0/$batch", json={"requests": [request]})
    assert response.json()["responses"][0]["status"] == 204
    assert emu.get_policy()["allowedCloudEndpoints"] == CLOUDS
    assert [(e.method, e.path, e.body) for e in emu.journal if e.in_batch] == [
        ("PATCH", POLICY, {"allowedCloudEndpoints": CLOUDS})
    ]


def test_state_file_seed_and_back_door(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    with Emulator(seed="empty", state_file=state_file) as emu, graph(emu) as http:
        assert http.patch(POLICY, json={"allowedCloudEndpoints": CLOUDS}).status_code == 204
    assert json.loads(state_file.read_text())["policy"] == {
        "displayName": "CrossTenantAccessPolicy",
        "allowedCloudEndpoints": CLOUDS,
    }
    with Emulator(state_file=state_file) as emu:
        assert emu.get_policy()["allowedCloudEndpoints"] == CLOUDS
        emu.patch_policy({"allowedCloudEndpoints": ["microsoftonline.us"]})
        assert emu.state()["policy"]["allowedCloudEndpoints"] == ["microsoftonline.us"]
    seeded = {**seeds.empty(), "policy": {"allowedCloudEndpoints": ["microsoftonline.us"]}}
    with Emulator(seed=seeded) as emu:
        assert emu.get_policy()["allowedCloudEndpoints"] == ["microsoftonline.us"]
        assert emu.get_policy()["displayName"] is None


def test_a_state_file_from_before_the_root_policy_loads_with_its_default(tmp_path: Path) -> None:
    old = seeds.empty()
    del old["policy"]
    state_file = tmp_path / "old.json"
    state_file.write_text(json.dumps(old))
    with Emulator(state_file=state_file) as emu:
        assert emu.get_policy()["allowedCloudEndpoints"] == []
    for seed in ("empty", "demo", "generated:3"):
        assert seeds.resolve(seed)["policy"] == seeds.root_policy()
