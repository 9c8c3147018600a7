"""Test helpers for sign-in: self-signed certificates and a stand-in for the GitHub Actions OIDC endpoint."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
GITHUB_SUBJECT = "repo:org/repo:environment:production"
AZURE_AUDIENCE = "api://AzureADTokenExchange"


@dataclass(frozen=True)
class Certificate:
    key_pem: bytes  # unencrypted PKCS#8
    cert_pem: bytes

    def write_pem(self, path: Path, password: str | None = None) -> Path:
        key = serialization.load_pem_private_key(self.key_pem, None)
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password.encode())
            if password
            else serialization.NoEncryption()
        )
        key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
        path.write_bytes(self.cert_pem + key_pem)  # certificate first: the loader must not care about order
        return path

    def write_pfx(self, path: Path, password: str | None = None) -> Path:
        key = serialization.load_pem_private_key(self.key_pem, None)
        cert = x509.load_pem_x509_certificate(self.cert_pem)
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password.encode())
            if password
            else serialization.NoEncryption()
        )
        path.write_bytes(pkcs12.serialize_key_and_certificates(b"xtap", key, cert, None, encryption))  # type: ignore[arg-type]
        return path


@functools.cache  # RSA key generation is the slowest thing in these tests; one key per name is enough
def make_certificate(common_name: str = "xtap-test") -> Certificate:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return Certificate(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        cert.public_bytes(serialization.Encoding.PEM),
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint_jwt(claims: dict[str, object], key: bytes = b"github-standin") -> str:
    """A signed-looking JWT (HS256): the emulator checks the federated token's claims, not GitHub's keys."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(claims).encode())
    signature = _b64(hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    return f"{header}.{payload}.{signature}"


def github_claims(
    subject: str = GITHUB_SUBJECT, audience: str = AZURE_AUDIENCE, lifetime: int = 300
) -> dict[str, object]:
    now = int(time.time())
    return {
        "iss": GITHUB_ISSUER,
        "sub": subject,
        "aud": audience,
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
    }


class _JsonHandler(BaseHTTPRequestHandler):
    """A quiet loopback handler that answers JSON."""

    def _reply(self, status: int, body: dict[str, object]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _LoopbackStandIn:
    """A JSON endpoint on 127.0.0.1 served from a thread while the `with` block runs."""

    def _serve(self, handler: type[_JsonHandler]) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class OidcStandIn(_LoopbackStandIn):
    """`GET <url>&audience=…` with `Authorization: bearer <request token>` → {"value": <fresh JWT>}."""

    request_token: str = "gh-request-token-0123456789"
    subject: str = GITHUB_SUBJECT
    issued: list[str] = field(default_factory=list)
    audiences: list[str] = field(default_factory=list)
    refused: int = 0

    def __post_init__(self) -> None:
        standin = self

        class Handler(_JsonHandler):
            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                if self.headers.get("Authorization") != f"bearer {standin.request_token}":
                    standin.refused += 1
                    self._reply(401, {"message": "Bad credentials"})
                    return
                audience = query.get("audience", [""])[0]
                standin.audiences.append(audience)
                token = mint_jwt(github_claims(standin.subject, audience) | {"jti": str(len(standin.issued))})
                standin.issued.append(token)
                self._reply(200, {"count": 1, "value": token})

        self._serve(Handler)

    @property
    def url(self) -> str:
        # Like the real ACTIONS_ID_TOKEN_REQUEST_URL, it already has a query string.
        return f"http://127.0.0.1:{self.port}/_apis/token?api-version=2.0"

    def env(self) -> dict[str, str]:
        return {
            "ACTIONS_ID_TOKEN_REQUEST_URL": self.url,
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": self.request_token,
        }


class ManagedIdentityStandIn(_LoopbackStandIn):
    """An App Service-style managed-identity endpoint (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`) on loopback,
    handing out whatever token `mint()` returns."""

    header = "mi-header-secret"

    def __init__(self, mint: Callable[[], str]) -> None:
        self.mint = mint
        self.resources: list[str] = []
        self.refused = 0
        standin = self

        class Handler(_JsonHandler):
            def do_GET(self) -> None:
                if self.headers.get("X-IDENTITY-HEADER") != standin.header:
                    standin.refused += 1
                    self._reply(401, {"statusCode": 401, "message": "bad header"})
                    return
                resource = parse_qs(urlsplit(self.path).query).get("resource", [""])[0]
                standin.resources.append(resource)
                expires = int(time.time()) + 3600
                self._reply(
                    200, {"access_token": standin.mint(), "expires_on": str(expires), "resource": resource}
                )

        self._serve(Handler)

    def env(self) -> dict[str, str]:
        return {
            "IDENTITY_ENDPOINT": f"http://127.0.0.1:{self.port}/msi/token",
            "IDENTITY_HEADER": self.header,
        }
