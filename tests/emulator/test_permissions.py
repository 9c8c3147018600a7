"""Who may call what: each endpoint's documented least-privileged permission, and nothing else."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from reconciler.emulator import App, Emulator
from reconciler.emulator.config import LOOKUP_ROLE, READ_ROLE, WRITE_ROLE
from tests.support.emulator import POLICY, WOODGROVE, error, graph

BY_ID = f"/v1.0/tenantRelationships/findTenantInformationByTenantId(tenantId='{WOODGROVE}')"
BY_DOMAIN = "/v1.0/tenantRelationships/findTenantInformationByDomainName(domainName='woodgrovebank.com')"
DENIED = (403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")


@pytest.fixture
def demo() -> Iterator[Emulator]:
    with Emulator(seed="demo") as emu:
        yield emu


def _app(emu: Emulator, *roles: str) -> App:
    return emu.register_app(App(str(uuid.uuid4()), roles, client_secret=f"secret-{uuid.uuid4()}"))


@pytest.mark.parametrize("roles", [(WRITE_ROLE,), (READ_ROLE,), (READ_ROLE, WRITE_ROLE)], ids=str)
def test_tenant_lookup_is_refused_without_cross_tenant_information_read(
    demo: Emulator, roles: tuple[str, ...]
) -> None:
    with graph(demo, _app(demo, *roles)) as http:
        assert error(http.get(BY_ID)) == DENIED
        assert error(http.get(BY_DOMAIN)) == DENIED
        assert http.get(f"{POLICY}/default").status_code == 200  # the policy itself is readable


def test_tenant_lookup_needs_only_cross_tenant_information_read(demo: Emulator) -> None:
    with graph(demo, _app(demo, LOOKUP_ROLE)) as http:
        assert http.get(BY_ID).json()["displayName"] == "Woodgrove Bank"
        assert http.get(BY_DOMAIN).json()["tenantId"] == WOODGROVE
        assert error(http.get(f"{POLICY}/default")) == DENIED


def test_the_default_apps_can_look_tenants_up(demo: Emulator) -> None:
    assert LOOKUP_ROLE in demo.reader.roles and LOOKUP_ROLE in demo.writer.roles
    for app in ("reader", "writer"):
        with graph(demo, app) as http:
            assert http.get(BY_ID).status_code == 200
