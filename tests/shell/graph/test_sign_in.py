"""Sign-in end to end: stock msal against the emulator's identity platform, for every credential kind.

The emulator is both the authority host and Graph; a resolver guard proves nothing else is contacted.
"""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli import main as cli
from reconciler.core.state import Request
from reconciler.emulator import App, Emulator, FederatedCredential
from reconciler.shell.graph import RetryPolicy, connect
from reconciler.shell.graph.auth import MsalCredential, credential_from_env
from reconciler.shell.graph.errors import AuthError
from tests.support.auth import (
    AZURE_AUDIENCE,
    GITHUB_ISSUER,
    GITHUB_SUBJECT,
    ManagedIdentityStandIn,
    OidcStandIn,
    github_claims,
    make_certificate,
    mint_jwt,
)

READ = ("Policy.Read.All",)
PARTNERS = "/policies/crossTenantAccessPolicy/partners"


@pytest.fixture
def hosts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every host name resolved while the test runs; anything but loopback is refused outright."""
    seen: list[str] = []
    real = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(str(host))
        if str(host) not in ("127.0.0.1", "localhost", "::1"):
            raise OSError(f"test refused to resolve {host}")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    return seen


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(seed="demo") as emulator:
        yield emulator


def app_env(emu: Emulator, app: App, **extra: str) -> dict[str, str]:
    env = emu.env(app)
    env.pop("AZURE_CLIENT_SECRET", None)
    env.update(extra)
    return env


def token_calls(emu: Emulator) -> int:
    return sum(1 for e in emu.journal if e.path.endswith("/oauth2/v2.0/token") and e.status == 200)


def graph_statuses(emu: Emulator) -> list[tuple[str, str, int]]:
    return [(e.method, e.path, e.status) for e in emu.journal if e.path.startswith("/v1.0")]


def test_client_secret(emu: Emulator, hosts: list[str]) -> None:
    with connect(emu.env("reader")) as client:
        assert len(client.read_live_state().partners) == len(emu.partners())
        client.get_default()
    assert token_calls(emu) == 1  # msal's cache serves the second call
    discovery = [e.path for e in emu.journal if e.path.endswith("/.well-known/openid-configuration")]
    assert discovery == [f"/{emu.tenant_id}/v2.0/.well-known/openid-configuration"]
    assert set(hosts) == {"127.0.0.1"}


@pytest.mark.parametrize("form", ["pem", "pem-encrypted", "pfx"])
def test_certificate(emu: Emulator, hosts: list[str], tmp_path: Path, form: str) -> None:
    cert = make_certificate()
    app = emu.register_app(App(str(uuid.uuid4()), roles=READ, certificate_pem=cert.cert_pem.decode()))
    password = "pfx-pass" if form != "pem" else None
    path = (
        cert.write_pfx(tmp_path / "c.pfx", password)
        if form == "pfx"
        else cert.write_pem(tmp_path / "c.pem", password)
    )
    env = app_env(emu, app, AZURE_CLIENT_CERTIFICATE_PATH=str(path))
    if password:
        env["AZURE_CLIENT_CERTIFICATE_PASSWORD"] = password
    with connect(env) as client:
        assert isinstance(client.credential, MsalCredential) and client.credential.kind == "certificate"
        client.get_default()
    assert token_calls(emu) == 1
    assert set(hosts) == {"127.0.0.1"}


def test_a_certificate_the_app_does_not_know_fails_with_msal_details(emu: Emulator, tmp_path: Path) -> None:
    app = emu.register_app(
        App(str(uuid.uuid4()), roles=READ, certificate_pem=make_certificate().cert_pem.decode())
    )
    other = make_certificate("another").write_pem(tmp_path / "other.pem")
    with (
        connect(app_env(emu, app, AZURE_CLIENT_CERTIFICATE_PATH=str(other))) as client,
        pytest.raises(AuthError) as info,
    ):
        client.get_default()
    message = str(info.value)
    assert message.startswith(
        f"sign-in failed for app {app.client_id} at {emu.url}/{emu.tenant_id} (certificate): invalid_client: AADSTS"
    )
    assert "(correlation_id " in message


def test_a_certificate_that_cannot_be_loaded_sends_nothing(emu: Emulator, tmp_path: Path) -> None:
    """The credential is loaded before msal's discovery is sent early: a wrong password fails the sign-in
    with xtap's sentence and the authority hears nothing."""
    from reconciler.core.errors import XtapError

    app = emu.register_app(App(str(uuid.uuid4()), roles=READ))
    pem = make_certificate().write_pem(tmp_path / "locked.pem", password="right")
    env = app_env(emu, app, AZURE_CLIENT_CERTIFICATE_PATH=str(pem), AZURE_CLIENT_CERTIFICATE_PASSWORD="wrong")
    with connect(env) as client, pytest.raises(XtapError) as info:
        client.get_default()
    assert str(info.value) == (
        f"cannot load the private key in {pem}: wrong or missing AZURE_CLIENT_CERTIFICATE_PASSWORD?"
    )
    assert emu.journal == []


def test_federated_token_file_is_reread_when_msal_asks(emu: Emulator, tmp_path: Path) -> None:
    issuer = "https://oidc.example.test"
    app = emu.register_app(
        App(
            str(uuid.uuid4()),
            roles=READ,
            federated=(FederatedCredential(issuer, "system:sa", AZURE_AUDIENCE),),
        )
    )
    token_file = tmp_path / "token"
    claims = github_claims("system:sa") | {"iss": issuer}
    token_file.write_text(mint_jwt(claims))
    with connect(app_env(emu, app, AZURE_FEDERATED_TOKEN_FILE=str(token_file))) as client:
        client.get_default()
        emu.expire_tokens()
        # The file is rotated; the next sign-in must read the new content, not replay the old token.
        token_file.write_text(mint_jwt(claims | {"sub": "system:other"}))
        with pytest.raises(AuthError) as info:
            client.get_default()
    assert "AADSTS70021" in str(info.value)
    assert "no federated credential on the app matches this token's issuer, subject and audience" in str(
        info.value
    )


def test_github_oidc_fetches_a_fresh_jwt_for_each_sign_in(
    emu: Emulator, hosts: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    app = emu.register_app(
        App(
            str(uuid.uuid4()),
            roles=READ,
            federated=(FederatedCredential(GITHUB_ISSUER, GITHUB_SUBJECT, AZURE_AUDIENCE),),
        )
    )
    with OidcStandIn() as github:
        env = app_env(emu, app, **github.env(), GITHUB_ACTIONS="true")
        with connect(env) as client:
            client.get_default()
            client.get_default()  # msal's cache: no new assertion
            assert len(github.issued) == 1
            emu.expire_tokens()
            client.get_default()  # 401 → new token → msal calls the assertion again
            assert len(github.issued) == 2
            access_tokens = {client.credential.get_token()}
    assert github.audiences == [AZURE_AUDIENCE, AZURE_AUDIENCE]
    assert github.refused == 0
    assert github.issued[0] != github.issued[1]
    masks = capsys.readouterr().err.splitlines()
    assert [m for m in masks if m.startswith("::add-mask::")] == masks
    masked = {m.removeprefix("::add-mask::") for m in masks}
    assert set(github.issued) <= masked and access_tokens <= masked
    assert len(masks) == 4  # two GitHub JWTs, two Graph tokens
    assert set(hosts) == {"127.0.0.1"}


def test_github_oidc_audience_follows_the_cloud(emu: Emulator) -> None:
    app = emu.register_app(
        App(
            str(uuid.uuid4()),
            roles=READ,
            federated=(
                FederatedCredential(GITHUB_ISSUER, GITHUB_SUBJECT, "api://AzureADTokenExchangeUSGov"),
            ),
        )
    )
    with OidcStandIn() as github:
        with connect(app_env(emu, app, **github.env()), cloud="usgov") as client:
            client.get_default()
        assert github.audiences == ["api://AzureADTokenExchangeUSGov"]


def test_github_oidc_refused_request_token_is_a_clean_error(emu: Emulator) -> None:
    app = emu.register_app(App(str(uuid.uuid4()), roles=READ))
    with OidcStandIn() as github:
        env = app_env(emu, app, **github.env())
        env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = "wrong"
        with connect(env) as client, pytest.raises(AuthError) as info:
            client.get_default()
    assert str(info.value) == (
        "GitHub Actions OIDC token request failed: HTTP 401 (does the job have `permissions: id-token: write`?)"
    )


def test_static_token_works_until_it_expires(emu: Emulator) -> None:
    token = credential_from_env(emu.env("reader")).get_token()
    env = {"XTAP_ACCESS_TOKEN": token, "XTAP_GRAPH_URL": emu.url, "SSL_CERT_FILE": str(emu.ca_file)}
    with connect(env) as client:
        client.get_default()
        emu.expire_tokens()
        with pytest.raises(AuthError, match=r"^Graph refused the token in XTAP_ACCESS_TOKEN \(401\)"):
            client.get_default()
    assert [s for _, _, s in graph_statuses(emu)] == [200, 401]


def test_a_token_expiring_mid_run_is_refreshed_once(emu: Emulator) -> None:
    sleeps: list[float] = []
    with connect(emu.env("writer"), retry=RetryPolicy(jitter=0, sleep=sleeps.append)) as client:
        client.get_default()
        emu.expire_tokens()
        tid = sorted(emu.partners())[0]
        results = client.execute([Request("r", "PATCH", f"{PARTNERS}/{tid}", {"inboundTrust": None})])
        emu.expire_tokens()
        client.read_live_state()
    assert results["r"].status == 204 and results["r"].attempts == 1
    calls = [(m, p, s) for m, p, s in graph_statuses(emu) if not m.startswith("PATCH")]
    assert [(m, s) for m, _, s in calls[:3]] == [("GET", 200), ("POST", 401), ("POST", 200)]
    # The partner page and the default are read side by side: each may meet the expired token once, and
    # the token is renewed once however many of them saw it refused.
    for path in (f"/v1.0{PARTNERS}", "/v1.0/policies/crossTenantAccessPolicy/default"):
        statuses = [s for _, p, s in calls[3:] if p == path]
        assert statuses in ([401, 200], [200])
    assert len(calls) in (6, 7) and 401 in [s for _, _, s in calls[3:]]
    assert token_calls(emu) == 3
    assert sleeps == []


def test_a_wrong_secret_shows_msal_error_and_correlation_id_but_never_the_secret(emu: Emulator) -> None:
    env = emu.env("reader") | {"AZURE_CLIENT_SECRET": "wrong-secret-canary-4711"}
    with connect(env) as client, pytest.raises(AuthError) as info:
        client.get_default()
    message = str(info.value)
    assert message.startswith(
        f"sign-in failed for app {emu.reader.client_id} at {emu.url}/{emu.tenant_id} (client secret): "
        "invalid_client: AADSTS7000215: "
    )
    assert message.endswith(")") and "(correlation_id " in message
    assert "the client secret is wrong or expired" in message
    assert "wrong-secret-canary-4711" not in message


@pytest.fixture
def restore_logging() -> Iterator[None]:
    logger = logging.getLogger("reconciler")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved[0], saved[1], saved[2]


def test_canary_no_secret_or_token_in_any_output_at_the_highest_verbosity(
    emu: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    restore_logging: None,
) -> None:
    secret = emu.reader.client_secret
    assert secret
    env = emu.env("reader")
    # The CLI at -vv: `xtap drift -vv` reads live state through the client and signs in with the secret.
    partners = tmp_path / "policies" / "partners"
    partners.mkdir(parents=True)
    tid = sorted(emu.partners())[0]
    (partners / "one.yaml").write_text(f"tenantId: {tid}\n")
    monkeypatch.chdir(tmp_path)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    code = cli.main(["drift", "-vv"])
    assert code in (0, 2)
    # And the library directly, at DEBUG, through a token expiry, a refused write and a failed sign-in.
    emu.expire_tokens()
    errors: list[str] = []
    with connect(env) as client:
        client.read_live_state()
        result = client.execute([Request("w", "PATCH", f"{PARTNERS}/{tid}", {"inboundTrust": None})])["w"]
        errors.append(str(result.error))
        token = client.credential.get_token()
    with connect(env | {"AZURE_CLIENT_SECRET": secret + "x"}) as bad, pytest.raises(AuthError) as info:
        bad.get_default()
    errors.append(str(info.value))
    captured = capsys.readouterr()
    text = "\n".join([captured.out, captured.err, *errors])
    assert (
        "GET /v1.0/policies/crossTenantAccessPolicy/partners?$expand=identitySynchronization 200"
        in captured.err
    )
    assert "$batch 1 w: PATCH" in captured.err  # DEBUG lines were on
    assert "403" in errors[0]
    assert secret not in text
    assert token not in text
    assert token.split(".")[2] not in text  # not even the signature part
    assert "Bearer " not in text and "Authorization:" not in text and "client_assertion" not in text


def test_managed_identity_when_asked(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch, hosts: list[str]
) -> None:
    # msal detects the managed-identity flavour from the process environment (App Service here).
    issuer = credential_from_env(emu.env("reader"))
    minted: list[str] = []

    def mint() -> str:
        issuer.invalidate()  # a new token every time the identity endpoint is asked
        minted.append(issuer.get_token())
        return minted[-1]

    with ManagedIdentityStandIn(mint) as identity:
        for key, value in identity.env().items():
            monkeypatch.setenv(key, value)
        env = {"XTAP_GRAPH_URL": emu.url, "SSL_CERT_FILE": str(emu.ca_file), "AZURE_TENANT_ID": emu.tenant_id}
        with connect(env, managed_identity=True) as client:
            client.get_default()
            client.get_default()
            emu.expire_tokens()
            client.get_default()
        assert identity.resources == [emu.url, emu.url]
        assert identity.refused == 0
    assert len(minted) == 2
    assert [s for _, _, s in graph_statuses(emu)] == [200, 200, 401, 200]
    assert set(hosts) == {"127.0.0.1"}


# -- msal's discovery, sent before msal is imported -----------------------------------------------------


def test_the_discovery_sent_early_is_the_one_msal_asks_for(emu: Emulator) -> None:
    """The session GETs the discovery URL at once, in a thread; the first GET of that URL gets its answer,
    so the tenant sees one discovery request, and any other GET goes out as usual."""
    from reconciler.shell.graph.auth import oidc_discovery_url, pinned_session

    authority = f"{emu.url}/{emu.tenant_id}"
    url = oidc_discovery_url(authority)
    assert url == f"{emu.url}/{emu.tenant_id}/v2.0/.well-known/openid-configuration"
    session = pinned_session(str(emu.ca_file), 10.0)
    session.send_early(url)
    first = session.get(url)
    assert first.status_code == 200 and first.json()["token_endpoint"].startswith(authority)
    again = session.get(url)  # only the first GET is answered from the early one
    assert again.status_code == 200
    discovery = f"/{emu.tenant_id}/v2.0/.well-known/openid-configuration"
    assert [e.path for e in emu.journal] == [discovery, discovery]


def test_a_discovery_that_failed_early_fails_when_msal_asks_for_it() -> None:
    """Nothing listens on the port: the early GET's exception is raised by the GET msal makes, as if msal
    had sent it itself (requests' ConnectionError, an OSError, which sign-in reports as unreachable)."""
    import requests  # type: ignore[import-untyped,unused-ignore]

    from reconciler.shell.graph.auth import pinned_session

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"https://127.0.0.1:{port}/tenant/v2.0/.well-known/openid-configuration"
    session = pinned_session(True, 5.0)
    session.send_early(url)
    with pytest.raises(requests.ConnectionError):
        session.get(url)


def test_a_sign_in_makes_one_discovery_request_and_one_token_request_whatever_the_case_of_the_tenant(
    emu: Emulator,
) -> None:
    env = emu.env("reader") | {"AZURE_TENANT_ID": emu.tenant_id.upper()}
    with connect(env) as client:
        client.get_default()
    assert [e.path for e in emu.journal][:2] == [
        f"/{emu.tenant_id}/v2.0/.well-known/openid-configuration",
        f"/{emu.tenant_id}/oauth2/v2.0/token",
    ]
    assert len(emu.journal) == 3
