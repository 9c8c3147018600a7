"""The emulator's identity platform, driven by stock msal (unmodified) and by plain httpx: client secret,
certificate assertions (SHA-1 x5t/RS256 and SHA-256 x5t#S256/PS256), federated assertions, Entra-shaped
errors, token expiry and 401s on Graph."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import msal  # type: ignore[import-untyped,unused-ignore]
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from reconciler.emulator import App, Emulator, FederatedCredential
from tests.support.auth import make_certificate
from tests.support.emulator import FABRIKAM, PARTNERS, error, tls, token

GITHUB = "https://token.actions.githubusercontent.com"
SUBJECT = "repo:contoso/xtap-policies:environment:production"


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    with Emulator(seed="demo") as emulator:
        # requests (under msal) lets REQUESTS_CA_BUNDLE override the `verify` msal passes it.
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(emulator.ca_file))
        yield emulator


def _msal(emu: Emulator, client_id: str, credential: Any) -> Any:
    return msal.ConfidentialClientApplication(
        client_id,
        client_credential=credential,
        authority=f"{emu.url}/{emu.tenant_id}",
        instance_discovery=False,
        verify=str(emu.ca_file),
        timeout=10,
    )


def _graph_get(emu: Emulator, access_token: str, path: str = f"{PARTNERS}/{FABRIKAM}") -> httpx.Response:
    with httpx.Client(verify=tls(emu), timeout=10) as http:
        return http.get(emu.url + path, headers={"Authorization": f"Bearer {access_token}"})


def _certificate(name: str = "xtap-ci") -> tuple[str, str, str]:
    """(private key PEM, certificate PEM, SHA-1 thumbprint hex) of a self-signed RSA certificate (one per name)."""
    made = make_certificate(name)
    thumbprint = x509.load_pem_x509_certificate(made.cert_pem).fingerprint(hashes.SHA1()).hex()
    return made.key_pem.decode(), made.cert_pem.decode(), thumbprint


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _federated_jwt(
    iss: str = GITHUB, sub: str = SUBJECT, aud: str = "api://AzureADTokenExchange", exp_in: int = 300
) -> str:
    now = int(time.time())
    header = {"typ": "JWT", "alg": "RS256", "kid": "github"}
    payload = {"iss": iss, "sub": sub, "aud": aud, "iat": now, "nbf": now, "exp": now + exp_in}
    return f"{_b64(header)}.{_b64(payload)}.c2lnbmF0dXJl"


def test_openid_configuration_has_what_msal_needs(emu: Emulator) -> None:
    with httpx.Client(verify=tls(emu)) as http:
        doc = http.get(f"{emu.url}/{emu.tenant_id}/v2.0/.well-known/openid-configuration").json()
        unknown = http.get(
            f"{emu.url}/11111111-2222-3333-4444-555555555555/v2.0/.well-known/openid-configuration"
        )
    assert doc["token_endpoint"] == f"{emu.url}/{emu.tenant_id}/oauth2/v2.0/token"
    assert doc["authorization_endpoint"] == f"{emu.url}/{emu.tenant_id}/oauth2/v2.0/authorize"
    assert doc["issuer"] == f"{emu.url}/{emu.tenant_id}/v2.0"
    assert unknown.status_code == 400 and unknown.json()["error_codes"] == [90002]


def test_stock_msal_with_a_client_secret(emu: Emulator) -> None:
    app = _msal(emu, emu.writer.client_id, emu.writer.client_secret)
    first = app.acquire_token_for_client(scopes=[f"{emu.url}/.default"])
    second = app.acquire_token_for_client(scopes=[f"{emu.url}/.default"])
    assert (first["token_source"], second["token_source"]) == ("identity_provider", "cache")
    assert first["expires_in"] == 3600
    assert _graph_get(emu, first["access_token"]).status_code == 200
    tokens = [e for e in emu.journal if e.path.endswith("/oauth2/v2.0/token")]
    assert len(tokens) == 1 and tokens[0].status == 200 and tokens[0].body["client_secret"] == "<redacted>"
    assert emu.writer.client_secret not in repr(emu.journal)


def test_graph_root_scope_is_accepted_too(emu: Emulator) -> None:
    result = _msal(emu, emu.reader.client_id, emu.reader.client_secret).acquire_token_for_client(
        scopes=["https://graph.microsoft.com/.default"]
    )
    assert _graph_get(emu, result["access_token"]).status_code == 200


@pytest.mark.parametrize("sha256", [True, False], ids=["x5t#S256-PS256", "x5t-RS256"])
def test_stock_msal_with_a_certificate(emu: Emulator, sha256: bool) -> None:
    key_pem, cert_pem, thumbprint = _certificate()
    app = emu.register_app(
        App("7d2c3b4a-1111-4222-8333-944455556666", roles=("Policy.Read.All",), certificate_pem=cert_pem)
    )
    credential: dict[str, str] = {"private_key": key_pem}
    credential.update({"public_certificate": cert_pem} if sha256 else {"thumbprint": thumbprint})
    result = _msal(emu, app.client_id, credential).acquire_token_for_client(scopes=[f"{emu.url}/.default"])
    assert "access_token" in result, result
    assert _graph_get(emu, result["access_token"]).status_code == 200


def test_certificate_assertion_signed_by_another_key_is_refused(emu: Emulator) -> None:
    _, registered_pem, _ = _certificate("registered")
    other_key, other_cert, _ = _certificate("other")
    app = emu.register_app(
        App(
            "7d2c3b4a-2222-4222-8333-944455556666", roles=("Policy.Read.All",), certificate_pem=registered_pem
        )
    )
    result = _msal(
        emu, app.client_id, {"private_key": other_key, "public_certificate": other_cert}
    ).acquire_token_for_client(scopes=[f"{emu.url}/.default"])
    assert result["error"] == "invalid_client" and result["error_codes"] == [700027]


def test_stock_msal_with_a_federated_assertion(emu: Emulator) -> None:
    app = emu.register_app(
        App(
            "5a6b7c8d-0000-4111-8222-933344445555",
            roles=("Policy.ReadWrite.CrossTenantAccess",),
            federated=(FederatedCredential(GITHUB, SUBJECT),),
        )
    )
    result = _msal(emu, app.client_id, {"client_assertion": _federated_jwt}).acquire_token_for_client(
        scopes=[f"{emu.url}/.default"]
    )
    assert "access_token" in result, result
    assert _graph_get(emu, result["access_token"]).status_code == 200


@pytest.mark.parametrize(
    ("assertion", "code"),
    [
        (_federated_jwt(sub="repo:contoso/other:ref:refs/heads/main"), 70021),
        (_federated_jwt(aud="api://SomethingElse"), 70021),
        (_federated_jwt(iss="https://issuer.example"), 700211),
        (_federated_jwt(exp_in=-3600), 700024),
        ("not-a-jwt", 50027),
    ],
    ids=["subject", "audience", "issuer", "expired", "malformed"],
)
def test_federated_assertion_mismatches(emu: Emulator, assertion: str, code: int) -> None:
    app = emu.register_app(
        App(
            "5a6b7c8d-1111-4111-8222-933344445555",
            roles=("Policy.Read.All",),
            federated=(FederatedCredential(GITHUB, SUBJECT),),
        )
    )
    result = _msal(emu, app.client_id, {"client_assertion": lambda: assertion}).acquire_token_for_client(
        scopes=[f"{emu.url}/.default"]
    )
    assert result["error_codes"] == [code]
    assert set(result) >= {
        "error",
        "error_description",
        "error_codes",
        "timestamp",
        "trace_id",
        "correlation_id",
    }
    assert result["error_description"].startswith(f"AADSTS{code}: ")


@pytest.mark.parametrize(
    ("form", "status", "error_name", "code"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client", 7000215),
        ({}, 401, "invalid_client", 7000218),
        ({"client_id": "00000000-0000-0000-0000-000000000000"}, 400, "unauthorized_client", 700016),
        ({"scope": "https://graph.microsoft.com/Policy.Read.All"}, 400, "invalid_scope", 1002012),
        ({"scope": "https://management.azure.com/.default"}, 400, "invalid_resource", 500011),
        ({"grant_type": "password"}, 400, "unsupported_grant_type", 70003),
    ],
    ids=["secret", "no-credential", "unknown-app", "scope", "resource", "grant"],
)
def test_token_endpoint_errors_look_like_entra(
    emu: Emulator, form: dict[str, str], status: int, error_name: str, code: int
) -> None:
    body = {
        "grant_type": "client_credentials",
        "client_id": emu.writer.client_id,
        "scope": f"{emu.url}/.default",
        **form,
    }
    with httpx.Client(verify=tls(emu)) as http:
        response = http.post(f"{emu.url}/{emu.tenant_id}/oauth2/v2.0/token", data=body)
    result = response.json()
    assert (response.status_code, result["error"], result["error_codes"]) == (status, error_name, [code])
    assert result["error_description"].startswith(f"AADSTS{code}: ")


def test_unknown_tenant_token_request(emu: Emulator) -> None:
    with httpx.Client(verify=tls(emu)) as http:
        response = http.post(
            f"{emu.url}/11111111-2222-3333-4444-555555555555/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": emu.writer.client_id,
                "client_secret": emu.writer.client_secret,
                "scope": f"{emu.url}/.default",
            },
        )
    assert (response.status_code, response.json()["error_codes"]) == (400, [90002])


def test_tokens_expire() -> None:
    with Emulator(seed="demo", token_lifetime=0) as emu:
        response = _graph_get(emu, token(emu, emu.reader))
    assert error(response) == (
        401,
        "InvalidAuthenticationToken",
        "Lifetime validation failed, the token is expired.",
    )
    assert response.headers["www-authenticate"].startswith("Bearer ")


def test_expire_tokens_invalidates_every_token_issued_so_far(emu: Emulator) -> None:
    old = token(emu, emu.reader)
    assert _graph_get(emu, old).status_code == 200
    emu.expire_tokens()
    assert error(_graph_get(emu, old))[:2] == (401, "InvalidAuthenticationToken")
    assert _graph_get(emu, token(emu, emu.reader)).status_code == 200


def test_missing_and_forged_tokens_are_401(emu: Emulator) -> None:
    with httpx.Client(verify=tls(emu)) as http:
        missing = http.get(f"{emu.url}{PARTNERS}")
    real = token(emu, emu.writer)
    head, payload, sig = real.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["roles"] = ["Policy.ReadWrite.CrossTenantAccess", "Directory.ReadWrite.All"]
    forged = f"{head}.{_b64(claims)}.{sig}"
    assert error(missing) == (401, "InvalidAuthenticationToken", "Access token is empty.")
    assert error(_graph_get(emu, forged))[:2] == (401, "InvalidAuthenticationToken")
    assert error(_graph_get(emu, "garbage"))[:2] == (401, "InvalidAuthenticationToken")


def test_lookup_needs_its_own_permission(emu: Emulator) -> None:
    policy_only = emu.register_app(
        App(
            "3c4d5e6f-0000-4000-8000-900000000001",
            roles=("Policy.Read.All",),
            client_secret="s3cret-for-a-loopback-test",
        )
    )
    url = f"/v1.0/tenantRelationships/findTenantInformationByTenantId(tenantId='{FABRIKAM}')"
    assert error(_graph_get(emu, token(emu, policy_only), url))[:2] == (403, "Authorization_RequestDenied")
    assert _graph_get(emu, token(emu, policy_only)).status_code == 200
    assert _graph_get(emu, token(emu, emu.reader), url).status_code == 200
