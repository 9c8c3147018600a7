"""The credential chain from the environment, certificate loading, assertions — no network."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.core.errors import XtapError
from reconciler.shell.graph import connect
from reconciler.shell.graph.assertions import certificate_credential, federated_token_file_assertion
from reconciler.shell.graph.auth import (
    ManagedIdentityCredential,
    MsalCredential,
    StaticTokenCredential,
    credential_from_env,
    github_masker,
)
from reconciler.shell.graph.clouds import CLOUDS, Cloud
from reconciler.shell.graph.errors import AuthError
from tests.support.auth import make_certificate

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT = "0d3a5f6e-1111-4222-8333-944445555666"


def full_env(tmp_path: Path) -> dict[str, str]:
    cert = make_certificate().write_pem(tmp_path / "cert.pem")
    token_file = tmp_path / "token"
    token_file.write_text("federated-jwt")
    return {
        "XTAP_ACCESS_TOKEN": "static-token",
        "AZURE_FEDERATED_TOKEN_FILE": str(token_file),
        "ACTIONS_ID_TOKEN_REQUEST_URL": "http://127.0.0.1:9/token?x=1",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "gh-request",
        "AZURE_CLIENT_CERTIFICATE_PATH": str(cert),
        "AZURE_CLIENT_SECRET": "s3cret",
        "AZURE_TENANT_ID": TENANT,
        "AZURE_CLIENT_ID": CLIENT,
    }


def test_first_match_wins_in_the_documented_order(tmp_path: Path) -> None:
    env = full_env(tmp_path)
    order = [
        ("XTAP_ACCESS_TOKEN", None),
        ("AZURE_FEDERATED_TOKEN_FILE", "federated token file"),
        ("ACTIONS_ID_TOKEN_REQUEST_URL", "GitHub Actions OIDC"),
        ("AZURE_CLIENT_CERTIFICATE_PATH", "certificate"),
        ("AZURE_CLIENT_SECRET", "client secret"),
    ]
    for variable, kind in order:
        credential = credential_from_env(env)
        if kind is None:
            assert isinstance(credential, StaticTokenCredential)
        else:
            assert isinstance(credential, MsalCredential) and credential.kind == kind
        del env[variable]
    assert isinstance(credential_from_env(env, managed_identity=True), ManagedIdentityCredential)
    with pytest.raises(XtapError) as info:
        credential_from_env(env)
    assert str(info.value) == (
        "no Graph credentials: set XTAP_ACCESS_TOKEN, or AZURE_TENANT_ID and AZURE_CLIENT_ID with one of "
        "AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_CERTIFICATE_PATH or AZURE_CLIENT_SECRET (in GitHub Actions, "
        "`permissions: id-token: write` provides ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN), or use a managed identity"
    )


def test_github_oidc_needs_both_variables() -> None:
    env = {
        "ACTIONS_ID_TOKEN_REQUEST_URL": "http://x/?a=1",
        "AZURE_CLIENT_SECRET": "s",
        "AZURE_TENANT_ID": TENANT,
    }
    env["AZURE_CLIENT_ID"] = CLIENT
    credential = credential_from_env(env)
    assert isinstance(credential, MsalCredential) and credential.kind == "client secret"


def test_missing_ids_are_named_and_the_tenant_must_be_a_guid() -> None:
    with pytest.raises(
        XtapError,
        match=r"^signing in with a client secret needs AZURE_TENANT_ID and AZURE_CLIENT_ID to be set$",
    ):
        credential_from_env({"AZURE_CLIENT_SECRET": "s"})
    with pytest.raises(XtapError, match=r"^tenant id 'contoso\.com' is not a GUID$"):
        credential_from_env(
            {"AZURE_CLIENT_SECRET": "s", "AZURE_CLIENT_ID": CLIENT, "AZURE_TENANT_ID": "contoso.com"}
        )
    with pytest.raises(XtapError, match=r"^tenant id '../x' is not a GUID$"):
        connect({"XTAP_ACCESS_TOKEN": "t"}, tenant_id="../x")


@pytest.mark.parametrize("name", sorted(CLOUDS))
def test_each_cloud_sets_authority_scope_and_audience(name: str) -> None:
    cloud = CLOUDS[name]
    env = {"AZURE_CLIENT_SECRET": "s", "AZURE_CLIENT_ID": CLIENT, "AZURE_TENANT_ID": TENANT.upper()}
    credential = credential_from_env(env, cloud=name)
    assert isinstance(credential, MsalCredential)
    assert credential.authority == f"https://{cloud.authority_host}/{TENANT}"
    assert credential.scope == f"{cloud.graph_root}/.default"
    assert connect(env, cloud=name).base == f"{cloud.graph_root}/v1.0"


def test_cloud_table() -> None:
    assert CLOUDS["usgovdod"] == Cloud(
        "usgovdod",
        "login.microsoftonline.us",
        "https://dod-graph.microsoft.us",
        "api://AzureADTokenExchangeUSGov",
    )
    assert CLOUDS["china"].federation_audience == "api://AzureADTokenExchangeChina"
    with pytest.raises(XtapError, match=r"^unknown cloud 'mars': use one of global, usgov, usgovdod, china$"):
        connect({"XTAP_ACCESS_TOKEN": "t"}, cloud="mars")


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1:8443", "https://127.0.0.1:8443", "https://127.0.0.1:8443/", " https://127.0.0.1:8443 "],
)
def test_authority_host_and_graph_url_overrides(host: str) -> None:
    env = {
        "AZURE_CLIENT_SECRET": "s",
        "AZURE_CLIENT_ID": CLIENT,
        "AZURE_TENANT_ID": TENANT,
        "AZURE_AUTHORITY_HOST": host,
        "XTAP_GRAPH_URL": "https://127.0.0.1:9443/",
    }
    credential = credential_from_env(env)
    assert isinstance(credential, MsalCredential)
    assert credential.authority == f"https://127.0.0.1:8443/{TENANT}"
    assert credential.scope == "https://127.0.0.1:9443/.default"


def test_connect_does_no_network_io(tmp_path: Path) -> None:
    # Port 9 on loopback is closed: any sign-in attempt would fail loudly. connect() must not try.
    env = {
        "AZURE_CLIENT_SECRET": "s",
        "AZURE_CLIENT_ID": CLIENT,
        "AZURE_TENANT_ID": TENANT,
        "AZURE_AUTHORITY_HOST": "127.0.0.1:9",
        "XTAP_GRAPH_URL": "https://127.0.0.1:9",
    }
    with connect(env) as client:
        assert client.request_count == 0
        assert isinstance(client.credential, MsalCredential)


def test_a_missing_ca_file_is_named() -> None:
    with pytest.raises(XtapError, match=r"^SSL_CERT_FILE /nope/ca\.pem does not exist$"):
        connect({"XTAP_ACCESS_TOKEN": "t", "SSL_CERT_FILE": "/nope/ca.pem"})


def test_static_token_cannot_be_refreshed() -> None:
    credential = StaticTokenCredential("tok")
    assert credential.get_token() == "tok"
    credential.invalidate()
    with pytest.raises(AuthError) as info:
        credential.get_token()
    assert str(info.value) == (
        "Graph refused the token in XTAP_ACCESS_TOKEN (401) and it cannot be refreshed: set a fresh one, "
        "or unset it to sign in with AZURE_CLIENT_ID and a credential"
    )
    assert "tok" not in repr(credential)


def test_the_federated_token_file_is_read_again_on_every_call(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("first\n")
    assertion = federated_token_file_assertion(str(path))
    assert assertion() == "first"
    path.write_text("second")
    assert assertion() == "second"
    path.write_text("")
    with pytest.raises(AuthError, match=rf"^AZURE_FEDERATED_TOKEN_FILE {path} is empty$"):
        assertion()
    path.unlink()
    with pytest.raises(
        AuthError, match=rf"^cannot read AZURE_FEDERATED_TOKEN_FILE {path}: No such file or directory$"
    ):
        assertion()


def test_pem_certificate_uses_the_sha256_form(tmp_path: Path) -> None:
    cert = make_certificate()
    credential = certificate_credential(str(cert.write_pem(tmp_path / "c.pem")), None)
    assert set(credential) == {"private_key", "public_certificate"}  # no "thumbprint": that would mean SHA-1
    assert credential["public_certificate"].startswith("-----BEGIN CERTIFICATE-----")
    assert credential["private_key"].startswith("-----BEGIN PRIVATE KEY-----")

    encrypted = certificate_credential(str(cert.write_pem(tmp_path / "e.pem", "pw")), "pw")
    assert encrypted["passphrase"] == "pw"
    assert encrypted["private_key"].startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    with pytest.raises(XtapError) as info:
        certificate_credential(str(tmp_path / "e.pem"), "wrong")
    assert str(info.value) == (
        f"cannot load the private key in {tmp_path / 'e.pem'}: wrong or missing AZURE_CLIENT_CERTIFICATE_PASSWORD?"
    )


def test_pfx_certificate(tmp_path: Path) -> None:
    cert = make_certificate()
    path = cert.write_pfx(tmp_path / "c.pfx", "pw")
    assert certificate_credential(str(path), "pw") == {"private_key_pfx_path": str(path), "passphrase": "pw"}
    with pytest.raises(XtapError, match="wrong or missing AZURE_CLIENT_CERTIFICATE_PASSWORD"):
        certificate_credential(str(path), None)
    (tmp_path / "only.pem").write_bytes(cert.cert_pem)
    with pytest.raises(XtapError, match="must hold both a private key and its certificate"):
        certificate_credential(str(tmp_path / "only.pem"), None)
    with pytest.raises(
        XtapError, match=r"^cannot read AZURE_CLIENT_CERTIFICATE_PATH /nope\.pfx: No such file or directory$"
    ):
        certificate_credential("/nope.pfx", None)


def test_add_mask_only_under_github_actions(capsys: pytest.CaptureFixture[str]) -> None:
    github_masker({"GITHUB_ACTIONS": "true"})("jwt-value")
    github_masker({})("other-value")
    StaticTokenCredential("static-value", mask=github_masker({"GITHUB_ACTIONS": "true"}))
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "::add-mask::jwt-value\n::add-mask::static-value\n")


def test_a_failed_sign_in_message_has_msal_error_description_and_correlation_id() -> None:
    credential = MsalCredential(
        kind="client secret",
        tenant_id=TENANT,
        client_id=CLIENT,
        authority=f"https://login.example/{TENANT}",
        scope="https://graph.microsoft.com/.default",
        client_credential=lambda: "s3cret",
    )
    result = {
        "error": "invalid_client",
        "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: t1 Correlation ID: c1",
        "error_codes": [7000215],
        "correlation_id": "c1",
    }
    assert credential._failure_message(result) == (
        f"sign-in failed for app {CLIENT} at https://login.example/{TENANT} (client secret): invalid_client: "
        "AADSTS7000215: Invalid client secret provided. Trace ID: t1 Correlation ID: c1 — the client secret is "
        "wrong or expired (correlation_id c1)"
    )
    assert "s3cret" not in repr(credential)
