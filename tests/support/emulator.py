"""Shared helpers for the emulator tests (no tests here): plain httpx clients with real TLS verification."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from reconciler.emulator import App, Emulator
from tests.support import DATA as _DATA

DATA = _DATA / "emulator"
POLICY = "/v1.0/policies/crossTenantAccessPolicy"
PARTNERS = f"{POLICY}/partners"
FABRIKAM = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
CONTOSO = "9c5d131d-b1c3-4fc4-9e3f-c6557947d551"
MTO = "123f4846-ba00-4fd7-ba43-dac1f8f63013"
UNMANAGED = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5e"
WOODGROVE = "3d0f5dec-5d3d-455c-8016-e2af1ae4d31a"


def data(name: str) -> Any:
    return json.loads((DATA / name).read_text("utf-8"))


def tls(emu: Emulator) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(emu.ca_file))


def token(emu: Emulator, app: App, scope: str | None = None) -> str:
    form = {
        "grant_type": "client_credentials",
        "client_id": app.client_id,
        "client_secret": app.client_secret or "",
        "scope": scope or f"{emu.url}/.default",
    }
    with httpx.Client(verify=tls(emu)) as http:
        response = http.post(f"{emu.url}/{emu.tenant_id}/oauth2/v2.0/token", data=form)
    response.raise_for_status()
    return str(response.json()["access_token"])


@contextmanager
def graph(emu: Emulator, app: str | App = "writer") -> Iterator[httpx.Client]:
    """An httpx client for the emulator's Graph, signed in as the reader, the writer or a given app."""
    chosen = emu.writer if app == "writer" else emu.reader if app == "reader" else app
    assert isinstance(chosen, App)
    headers = {"Authorization": f"Bearer {token(emu, chosen)}"}
    with httpx.Client(base_url=emu.url, verify=tls(emu), headers=headers, timeout=10) as http:
        yield http


def error(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()["error"]
    return response.status_code, body["code"], body["message"]
