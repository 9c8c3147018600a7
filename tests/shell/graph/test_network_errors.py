"""Reaching Graph and the sign-in service: https only, and every failure to connect is one line.

`xtap plan` runs in-process against the emulator over real HTTPS with stock msal; the failures are real:
a closed loopback port, a certificate signed by a CA the client was not given, a `.invalid` host name
(reserved: it never resolves, so nothing real is looked up). Each prints exactly one line naming what
failed, the host and the likely fix, exits 1 and sends nothing; `-v` adds the library's own words.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.emulator import Emulator
from reconciler.shell.graph.auth import credential_from_env
from tests.support.builders import FAB
from tests.support.e2e import ENV_KEYS, write_policies, xtap


@pytest.fixture
def emu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    write_policies(tmp_path, {"fabrikam": {"tenantId": FAB}})
    monkeypatch.chdir(tmp_path)
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    for key in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_DIR"):
        monkeypatch.delenv(key, raising=False)
    with Emulator(seed="demo") as emulator:
        yield emulator


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def use(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)


def static_token(emu: Emulator) -> str:
    return credential_from_env(emu.env("reader")).get_token()


def test_graph_refusing_connections(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = closed_port()
    use(monkeypatch, {"XTAP_ACCESS_TOKEN": static_token(emu), "XTAP_GRAPH_URL": f"https://127.0.0.1:{port}"})
    emu.clear_journal()
    assert xtap(capsys, "plan") == (
        1,
        "",
        f"xtap: error: cannot reach Graph at 127.0.0.1:{port}: the connection was refused — check the host "
        "and port in XTAP_GRAPH_URL\n",
    )
    code, _, err = xtap(capsys, "plan", "-v")
    assert code == 1 and "Connection refused" in err  # -v: the library's own words as well


def test_the_sign_in_service_refusing_connections(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = closed_port()
    use(monkeypatch, emu.env("reader") | {"AZURE_AUTHORITY_HOST": f"127.0.0.1:{port}"})
    emu.clear_journal()
    assert xtap(capsys, "plan") == (
        1,
        "",
        f"xtap: error: cannot reach the sign-in service at 127.0.0.1:{port}: the connection was refused — "
        "check the host and port in AZURE_AUTHORITY_HOST\n",
    )
    assert emu.journal == []


@pytest.mark.parametrize("service", ["graph", "sign-in"])
def test_a_certificate_from_an_unknown_ca_names_ssl_cert_file(
    service: str, emu: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = emu.env("reader")
    if service == "graph":
        env = {"XTAP_ACCESS_TOKEN": static_token(emu), "XTAP_GRAPH_URL": emu.url}
    env.pop("SSL_CERT_FILE", None)  # the emulator's CA is not in the default trust store
    use(monkeypatch, env)
    emu.clear_journal()
    code, out, err = xtap(capsys, "plan")
    host = emu.url.removeprefix("https://")
    name = "Graph" if service == "graph" else "the sign-in service"
    assert (code, out, err) == (
        1,
        "",
        f"xtap: error: cannot reach {name} at {host}: its TLS certificate is not trusted — set SSL_CERT_FILE "
        "to the CA bundle that signed it (a proxy or a private CA)\n",
    )
    assert emu.journal == []  # the handshake failed: no request was made
    code, _, err = xtap(capsys, "plan", "-v")
    assert code == 1 and "CERTIFICATE_VERIFY_FAILED" in err


@pytest.mark.parametrize(
    ("variable", "name"),
    [("XTAP_GRAPH_URL", "Graph"), ("AZURE_AUTHORITY_HOST", "the sign-in service")],
)
def test_a_host_name_that_does_not_resolve(
    variable: str,
    name: str,
    emu: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = emu.env("reader") | {variable: "https://xtap-test.invalid"}
    if variable == "XTAP_GRAPH_URL":
        env = {"XTAP_ACCESS_TOKEN": static_token(emu), variable: "https://xtap-test.invalid"}
    use(monkeypatch, env)
    assert xtap(capsys, "plan") == (
        1,
        "",
        f"xtap: error: cannot reach {name} at xtap-test.invalid: the host name does not resolve — check the "
        f"host name in {variable}\n",
    )


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "XTAP_GRAPH_URL",
            "http://127.0.0.1:9",
            "XTAP_GRAPH_URL must be an https:// URL (the access token must not travel in clear text), "
            "got 'http://127.0.0.1:9'",
        ),
        (
            "AZURE_AUTHORITY_HOST",
            "http://127.0.0.1:9",
            "AZURE_AUTHORITY_HOST must be an https host (credentials must not travel in clear text), "
            "got 'http://127.0.0.1:9'",
        ),
    ],
)
def test_plain_http_is_refused_before_anything_is_sent(
    variable: str,
    value: str,
    message: str,
    emu: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use(monkeypatch, emu.env("reader") | {variable: value})
    emu.clear_journal()
    assert xtap(capsys, "plan") == (1, "", f"xtap: error: {message}\n")
    assert emu.journal == []


def test_a_bare_authority_host_means_https(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use(monkeypatch, emu.env("reader") | {"AZURE_AUTHORITY_HOST": emu.url.removeprefix("https://")})
    code, out, err = xtap(capsys, "plan")
    assert (code, err) == (0, "") and "Plan:" in out
    assert any(e.path.endswith("/oauth2/v2.0/token") for e in emu.journal)
