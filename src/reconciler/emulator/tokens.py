"""The identity platform's part the client talks to: OIDC discovery and the client-credentials token endpoint.

Tokens are JWTs signed HS256 with a per-emulator key; Graph requests are checked against them. Errors look
like Entra's (`error`, `error_description` with the AADSTS text, `error_codes`, `timestamp`, `trace_id`,
`correlation_id`), because msal passes them through to the client unchanged.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from reconciler.emulator.config import App

GRAPH_RESOURCE = "https://graph.microsoft.com"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CLOCK_SKEW_S = 300  # Entra tolerates five minutes of skew on assertions


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class TokenError(Exception):
    """An Entra token-endpoint error: HTTP status, OAuth `error` and the AADSTS code and text."""

    status: int
    error: str
    code: int
    description: str


@dataclass(frozen=True)
class Caller:
    """Who a valid Graph bearer token belongs to."""

    client_id: str
    roles: frozenset[str]


@dataclass(frozen=True)
class BearerError(Exception):
    """Why a Graph bearer token was refused (401 InvalidAuthenticationToken)."""

    message: str


def _signed_by(
    certificate_pem: str, presented: str, alg: Any, signing_input: bytes, signature: bytes
) -> bool:
    """Whether the assertion names this certificate's thumbprint and carries its RS256/PS256 signature."""
    cert = x509.load_pem_x509_certificate(certificate_pem.encode("ascii"))
    der = cert.public_bytes(Encoding.DER)
    thumbs = {b64url(hashlib.sha1(der).digest()), b64url(hashlib.sha256(der).digest())}
    key = cert.public_key()
    if presented not in thumbs or not isinstance(key, rsa.RSAPublicKey):
        return False
    try:
        if alg == "RS256":
            key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
        elif alg == "PS256":
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)
            key.verify(signature, signing_input, pss, hashes.SHA256())
        else:
            return False
    except InvalidSignature:
        return False
    return True


def error_body(err: TokenError) -> dict[str, Any]:
    trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    return {
        "error": err.error,
        "error_description": (
            f"AADSTS{err.code}: {err.description} Trace ID: {trace} Correlation ID: {correlation} "
            f"Timestamp: {stamp}"
        ),
        "error_codes": [err.code],
        "timestamp": stamp,
        "trace_id": trace,
        "correlation_id": correlation,
        "error_uri": f"https://login.microsoftonline.com/error?code={err.code}",
    }


def _parse_jwt(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """Header, payload, signing input and signature of a compact JWS; ValueError when malformed."""
    parts = token.split(".")
    if len(parts) != 3 or not all(parts[:2]):
        raise ValueError("not three segments")
    try:
        header = json.loads(b64url_decode(parts[0]))
        payload = json.loads(b64url_decode(parts[1]))
        signature = b64url_decode(parts[2])
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(str(exc)) from exc
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise ValueError("header or payload is not an object")
    return header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"), signature


def _audiences(payload: Mapping[str, Any]) -> list[str]:
    aud = payload.get("aud")
    if isinstance(aud, str):
        return [aud]
    if isinstance(aud, list):
        return [a for a in aud if isinstance(a, str)]
    return []


def _check_times(payload: Mapping[str, Any], now: float) -> None:
    exp, nbf = payload.get("exp"), payload.get("nbf")
    if not isinstance(exp, int | float):
        raise TokenError(401, "invalid_client", 50027, "JWT token is invalid or malformed.")
    if exp + CLOCK_SKEW_S < now or (isinstance(nbf, int | float) and nbf - CLOCK_SKEW_S > now):
        raise TokenError(
            401, "invalid_client", 700024, "Client assertion is not within its valid time range."
        )


class IdentityPlatform:
    """Issues and checks tokens for the home tenant's registered apps. Thread-safe."""

    def __init__(
        self, tenant_id: str, apps: Callable[[], Mapping[str, App]], token_lifetime: int = 3600
    ) -> None:
        self.tenant_id = tenant_id
        self._apps = apps
        self.token_lifetime = token_lifetime
        self._key = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._seq = 0
        self._revoked_through = 0
        self._verified: dict[str, dict[str, Any]] = {}
        self.canonical_base = ""  # the emulator's own URL, whatever Host a client used

    # -- discovery ---------------------------------------------------------------------------------
    def knows_tenant(self, tenant: str) -> bool:
        return tenant.lower() in (self.tenant_id, "organizations", "common")

    def openid_configuration(self, base: str, tenant: str) -> dict[str, Any]:
        root = f"{base}/{self.tenant_id}"
        return {
            "token_endpoint": f"{root}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "jwks_uri": f"{base}/{self.tenant_id}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{root}/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": f"{base}/oidc/userinfo",
            "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{root}/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "ver"],
            "kerberos_endpoint": f"{root}/kerberos",
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": base.split("://", 1)[-1],
        }

    # -- token endpoint ----------------------------------------------------------------------------
    def issue(self, base: str, tenant: str, form: Mapping[str, str]) -> tuple[dict[str, Any], str | None]:
        """Handle a token request; returns (success body, client id) or raises TokenError."""
        if not self.knows_tenant(tenant):
            raise TokenError(
                400,
                "invalid_request",
                90002,
                f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are "
                "signing into the correct cloud.",
            )
        grant = form.get("grant_type", "")
        if grant != "client_credentials":
            raise TokenError(
                400,
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{grant}'.",
            )
        client_id = form.get("client_id", "")
        app = self._apps().get(client_id.lower())
        if app is None:
            raise TokenError(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory "
                f"'{self.tenant_id}'. This can happen if the application has not been installed by the "
                "administrator of the tenant or consented to by any user in the tenant.",
            )
        resource = self._resource(base, form.get("scope", ""))
        self._authenticate(base, tenant, app, form)
        return self._mint(app, resource), app.client_id

    def _resource(self, base: str, scope: str) -> str:
        scopes = [s for s in scope.split() if s not in ("openid", "profile", "offline_access")]
        if len(scopes) != 1 or not scopes[0].endswith("/.default"):
            raise TokenError(
                400,
                "invalid_scope",
                1002012,
                f"The provided value for scope {scope} is not valid. Client credential flows must have a "
                "scope value with /.default suffixed to the resource identifier (application ID URI).",
            )
        resource = scopes[0][: -len("/.default")].rstrip("/")
        if resource not in (base, GRAPH_RESOURCE, GRAPH_APP_ID):
            raise TokenError(
                400,
                "invalid_resource",
                500011,
                f"The resource principal named {resource} was not found in the tenant named "
                f"{self.tenant_id}. This can happen if the application has not been installed by the "
                "administrator of the tenant or consented to by any user in the tenant.",
            )
        return GRAPH_RESOURCE if resource == GRAPH_APP_ID else resource

    def _authenticate(self, base: str, tenant: str, app: App, form: Mapping[str, str]) -> None:
        secret, assertion = form.get("client_secret"), form.get("client_assertion")
        if secret is not None:
            if app.client_secret is None or not hmac.compare_digest(secret, app.client_secret):
                raise TokenError(
                    401,
                    "invalid_client",
                    7000215,
                    "Invalid client secret provided. Ensure the secret being sent in the request is the "
                    f"client secret value, not the client secret ID, for a secret added to app '{app.client_id}'.",
                )
            return
        if assertion is None:
            raise TokenError(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            )
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise TokenError(
                400,
                "invalid_request",
                7000219,
                f"'client_assertion_type' must be '{ASSERTION_TYPE}'.",
            )
        try:
            header, payload, signing_input, signature = _parse_jwt(assertion)
        except ValueError:
            raise TokenError(401, "invalid_client", 50027, "JWT token is invalid or malformed.") from None
        if "x5t" in header or "x5t#S256" in header:
            self._check_certificate_assertion(base, tenant, app, header, payload, signing_input, signature)
        else:
            self._check_federated_assertion(app, payload)

    def _check_certificate_assertion(
        self,
        base: str,
        tenant: str,
        app: App,
        header: Mapping[str, Any],
        payload: Mapping[str, Any],
        signing_input: bytes,
        signature: bytes,
    ) -> None:
        if payload.get("iss") != app.client_id or payload.get("sub") != app.client_id:
            raise TokenError(
                401,
                "invalid_client",
                700023,
                "Client assertion audience claim does not match Realm issuer, or the iss/sub claims are "
                "not the client id.",
            )
        allowed = {f"{base}/{t}/oauth2/v2.0/token" for t in (tenant, self.tenant_id)}
        if not allowed.intersection(_audiences(payload)):
            raise TokenError(
                401,
                "invalid_client",
                700212,
                f"Client assertion audience claim does not match the token endpoint '{base}/{tenant}"
                "/oauth2/v2.0/token'.",
            )
        _check_times(payload, time.time())
        if app.certificate_pem is None:
            raise TokenError(
                401,
                "invalid_client",
                700027,
                f"Client assertion failed signature validation. [Reason - The key was not found., "
                f"Thumbprint of key used by client: '{header.get('x5t#S256') or header.get('x5t')}']",
            )
        # msal keeps the base64 padding on thumbprints; RFC 7515 says base64url without it: accept both.
        presented = str(header.get("x5t#S256") or header.get("x5t") or "").rstrip("=")
        if not _signed_by(app.certificate_pem, presented, header.get("alg"), signing_input, signature):
            raise TokenError(
                401,
                "invalid_client",
                700027,
                f"Client assertion failed signature validation. [Reason - The key was not found., "
                f"Thumbprint of key used by client: '{presented}']",
            )

    def _check_federated_assertion(self, app: App, payload: Mapping[str, Any]) -> None:
        # A federated token is signed by its issuer (GitHub, a managed identity, ...), whose keys the
        # emulator cannot fetch; it checks shape, lifetime and the issuer/subject/audience triple only.
        _check_times(payload, time.time())
        iss, sub = payload.get("iss"), payload.get("sub")
        auds = _audiences(payload)
        if not isinstance(iss, str) or not isinstance(sub, str) or not auds:
            raise TokenError(401, "invalid_client", 50027, "JWT token is invalid or malformed.")
        if not any(fc.issuer == iss for fc in app.federated):
            raise TokenError(
                400,
                "invalid_request",
                700211,
                f"No matching federated identity record found for presented assertion issuer '{iss}'. "
                "Please check your federated identity credential Subject, Audience and Issuer against the "
                "presented assertion.",
            )
        if not any(fc.issuer == iss and fc.subject == sub and fc.audience in auds for fc in app.federated):
            raise TokenError(
                400,
                "invalid_request",
                70021,
                f"No matching federated identity record found for presented assertion. Assertion Issuer: "
                f"'{iss}'. Assertion Subject: '{sub}'. Assertion Audience: '{','.join(auds)}'.",
            )

    def _mint(self, app: App, resource: str) -> dict[str, Any]:
        with self._lock:
            self._seq += 1
            seq = self._seq
        now = int(time.time())
        claims = {
            "aud": resource,
            "iss": f"https://sts.windows.net/{self.tenant_id}/",
            "iat": now,
            "nbf": now,
            "exp": now + self.token_lifetime,
            "appid": app.client_id,
            "idtyp": "app",
            "roles": list(app.roles),
            "tid": self.tenant_id,
            "ver": "1.0",
            "xms_seq": seq,
        }
        token = self.sign(claims)
        return {
            "token_type": "Bearer",
            "expires_in": self.token_lifetime,
            "ext_expires_in": self.token_lifetime,
            "access_token": token,
        }

    def sign(self, claims: Mapping[str, Any]) -> str:
        head = b64url(json.dumps({"typ": "JWT", "alg": "HS256"}, separators=(",", ":")).encode())
        body = b64url(json.dumps(claims, separators=(",", ":")).encode())
        mac = hmac.new(self._key, f"{head}.{body}".encode("ascii"), hashlib.sha256).digest()
        return f"{head}.{body}.{b64url(mac)}"

    def expire_all(self) -> None:
        """Every token issued so far counts as expired from now on."""
        with self._lock:
            self._revoked_through = self._seq

    # -- Graph side --------------------------------------------------------------------------------
    def check_bearer(self, authorization: str | None, base: str) -> Caller:
        if (
            not authorization
            or not authorization.lower().startswith("bearer ")
            or not authorization[7:].strip()
        ):
            raise BearerError("Access token is empty.")
        token = authorization[7:].strip()
        cached = self._verified.get(token)
        if cached is not None:
            payload = cached
        else:
            payload = self._verify_signature(token)
            if len(self._verified) > 4096:  # a bounded cache of tokens whose signature checked out
                self._verified.clear()
            self._verified[token] = payload
        exp = payload.get("exp")
        with self._lock:
            revoked = payload.get("xms_seq", 0) <= self._revoked_through
        if not isinstance(exp, int) or exp <= time.time() or revoked:
            raise BearerError("Lifetime validation failed, the token is expired.")
        if (
            payload.get("aud") not in (base, self.canonical_base, GRAPH_RESOURCE)
            or payload.get("tid") != self.tenant_id
        ):
            raise BearerError("Access token validation failure. Invalid audience.")
        return Caller(str(payload.get("appid", "")), frozenset(payload.get("roles") or ()))

    def _verify_signature(self, token: str) -> dict[str, Any]:
        try:
            _header, payload, signing_input, signature = _parse_jwt(token)
        except ValueError:
            raise BearerError("Invalid JWT token. Token format not valid.") from None
        expected = hmac.new(self._key, signing_input, hashlib.sha256).digest()
        if not hmac.compare_digest(expected, signature):
            raise BearerError("Access token validation failure. Invalid signature.")
        return payload
