"""The credential chain of DESIGN §5: who we are to Graph, as a bearer token, via msal.

First match wins, azure-identity's variable names: XTAP_ACCESS_TOKEN → AZURE_FEDERATED_TOKEN_FILE →
GitHub Actions OIDC → AZURE_CLIENT_CERTIFICATE_PATH → AZURE_CLIENT_SECRET → managed identity (when asked).
msal facts that shape this module (auth-ci.md §1): its constructor does network I/O, so the app is built
lazily on the first token; `force_refresh` raises, so a token Graph refused is removed from the app's own
cache instead; a static assertion expires, so assertions are zero-argument callables that fetch afresh.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import quote, urlsplit

import httpx

from reconciler.core import urls
from reconciler.core.errors import XtapError
from reconciler.shell.graph.clouds import Cloud, get_cloud
from reconciler.shell.graph.errors import AuthError, NetworkError, unreachable

log = logging.getLogger("reconciler.graph")

MSAL_TIMEOUT = 30.0
GITHUB_OIDC_TIMEOUT = 10.0

# Entra error codes worth a hint (auth-ci.md §1.6); the service's own text comes first, these only add.
AADSTS_HINTS = {
    "AADSTS700024": "the federated token expired; it must be fetched fresh for each sign-in",
    "AADSTS700027": "the certificate or signature does not match one registered on the app",
    "AADSTS700211": "no federated credential on the app has this token's issuer",
    "AADSTS70021": "no federated credential on the app matches this token's issuer, subject and audience",
    "AADSTS7000215": "the client secret is wrong or expired",
    "AADSTS700016": "no app with this client id exists in the tenant",
}


@runtime_checkable
class TokenCredential(Protocol):
    """Something that yields a bearer token for Graph: cached, refreshed when needed."""

    def get_token(self) -> str: ...

    def invalidate(self) -> None:
        """Graph refused the current token (401): the next get_token() must not return it again."""


Masker = Callable[[str], None]


def github_masker(env: Mapping[str, str]) -> Masker:
    """Registers secrets with the Actions log redactor — the one sanctioned way a token is ever written.

    On stderr: the runner reads workflow commands from both streams, and stdout is often redirected into a
    file that gets published (`xtap plan --format markdown > plan.md`), which must never hold a token.
    """

    def mask(value: str) -> None:
        if env.get("GITHUB_ACTIONS") == "true" and value:
            sys.stderr.write(f"::add-mask::{value}\n")
            sys.stderr.flush()

    return mask


class StaticTokenCredential:
    """XTAP_ACCESS_TOKEN: a ready token. It cannot be refreshed, so once Graph refuses it we say so."""

    def __init__(self, token: str, *, mask: Masker | None = None) -> None:
        self._token = token
        self._refused = False
        if mask:
            mask(token)

    def get_token(self) -> str:
        if self._refused:
            raise AuthError(
                "Graph refused the token in XTAP_ACCESS_TOKEN (401) and it cannot be refreshed: "
                "set a fresh one, or unset it to sign in with AZURE_CLIENT_ID and a credential"
            )
        return self._token

    def invalidate(self) -> None:
        self._refused = True

    def __repr__(self) -> str:
        return "StaticTokenCredential(<redacted>)"


ClientCredentialFactory = Callable[[], "str | dict[str, Any]"]


class MsalCredential:
    """A confidential-client app (secret, certificate or assertion) for one tenant, built on first use."""

    def __init__(
        self,
        *,
        kind: str,
        tenant_id: str,
        client_id: str,
        authority: str,
        scope: str,
        client_credential: ClientCredentialFactory,
        verify: bool | str = True,
        timeout: float = MSAL_TIMEOUT,
        mask: Masker | None = None,
    ) -> None:
        self.kind = kind
        self.tenant_id = tenant_id
        self.client_id = client_id
        self.authority = authority
        self.scope = scope
        self._client_credential = client_credential
        self._verify = verify
        self._timeout = timeout
        self._mask = mask
        self._app: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"MsalCredential(kind={self.kind!r}, client_id={self.client_id!r}, authority={self.authority!r})"
        )

    def _build(self) -> Any:
        import msal  # type: ignore[import-untyped,unused-ignore]  # lazily: offline commands never pay for it

        try:
            return msal.ConfidentialClientApplication(
                self.client_id,
                authority=self.authority,
                client_credential=self._client_credential(),
                # No instance discovery and no region detection: msal must talk to the authority host only
                # (a national cloud, a proxy or the emulator), never to login.microsoftonline.com.
                instance_discovery=False,
                azure_region=False,
                # Our own session: msal's `verify=` loses to REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE in the
                # process environment (requests merges them over the session's setting), and the CA for
                # sign-in must be the one Graph calls use.
                http_client=pinned_session(self._verify, self._timeout),
            )
        except XtapError:
            raise
        except OSError as exc:  # requests' errors: the sign-in host could not be reached
            raise self._unreachable(exc) from None
        except Exception as exc:  # msal: ValueError for a failed tenant discovery
            raise AuthError(
                f"sign-in setup failed for app {self.client_id} at {self.authority}: {exc}"
            ) from None

    def get_token(self) -> str:
        with self._lock:
            started = time.monotonic()  # the first sign-in includes msal's OIDC discovery
            if self._app is None:
                self._app = self._build()
            try:
                result = self._app.acquire_token_for_client(scopes=[self.scope])
            except XtapError:
                raise
            except OSError as exc:
                raise self._unreachable(exc) from None
            except Exception as exc:
                raise AuthError(
                    f"sign-in failed for app {self.client_id} at {self.authority} ({self.kind}): "
                    f"{type(exc).__name__}: {exc}"
                ) from None
            if "access_token" not in result:
                raise AuthError(self._failure_message(result))
            token: str = result["access_token"]
            if result.get("token_source") == "identity_provider":
                if self._mask:
                    self._mask(token)
                log.info(
                    "signed in as app %s (%s) at %s in %dms; token valid %ss",
                    self.client_id,
                    self.kind,
                    self.authority,
                    (time.monotonic() - started) * 1000,
                    result.get("expires_in", "?"),
                )
            return token

    def _unreachable(self, exc: OSError) -> XtapError:
        """One line for a sign-in host that cannot be reached; msal's own words only with -v."""
        problem = unreachable(exc)
        log.info("sign-in at %s: %s: %s", self.authority, type(exc).__name__, problem.detail)
        host = urlsplit(self.authority).netloc
        if problem.final:
            return NetworkError(problem.sentence("the sign-in service", host, "AZURE_AUTHORITY_HOST"))
        return AuthError(
            f"sign-in failed for app {self.client_id} at {self.authority} ({self.kind}): "
            f"{problem.sentence('the sign-in service', host, 'AZURE_AUTHORITY_HOST')} ({type(exc).__name__})"
        )

    def invalidate(self) -> None:
        import msal  # type: ignore[import-untyped,unused-ignore]

        with self._lock:
            if self._app is None:
                return
            cache = self._app.token_cache
            for item in list(cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)):
                cache.remove_at(item)

    def _failure_message(self, result: Mapping[str, Any]) -> str:
        error = result.get("error", "unknown_error")
        description = " ".join(str(result.get("error_description", "")).split())
        text = f"sign-in failed for app {self.client_id} at {self.authority} ({self.kind}): {error}"
        if description:
            text += f": {description}"
        match = re.match(r"(AADSTS\d+)", description)
        if match and match.group(1) in AADSTS_HINTS:
            text += f" — {AADSTS_HINTS[match.group(1)]}"
        if result.get("correlation_id"):
            text += f" (correlation_id {result['correlation_id']})"
        return text


class ManagedIdentityCredential:
    """An Azure managed identity (self-hosted runners on Azure only; auth-ci.md §1.7)."""

    def __init__(self, *, resource: str, client_id: str | None = None, mask: Masker | None = None) -> None:
        self.resource = resource
        self.client_id = client_id
        self._mask = mask
        self._client: Any = None
        self._cache: Any = None
        self._lock = threading.Lock()

    def get_token(self) -> str:
        import msal  # type: ignore[import-untyped,unused-ignore]

        with self._lock:
            if self._client is None:
                identity: Any = (
                    msal.UserAssignedManagedIdentity(client_id=self.client_id)
                    if self.client_id
                    else msal.SystemAssignedManagedIdentity()
                )
                session = pinned_session(True, MSAL_TIMEOUT)
                self._cache = msal.TokenCache()
                self._client = msal.ManagedIdentityClient(
                    identity, http_client=session, token_cache=self._cache
                )
            try:
                result = self._client.acquire_token_for_client(resource=self.resource)
            except Exception as exc:
                raise AuthError(f"managed identity sign-in failed: {type(exc).__name__}: {exc}") from None
            if "access_token" not in result:
                description = " ".join(str(result.get("error_description", "")).split())
                raise AuthError(f"managed identity sign-in failed: {result.get('error')}: {description}")
            token: str = result["access_token"]
            if result.get("token_source") == "identity_provider" and self._mask:
                self._mask(token)
            return token

    def invalidate(self) -> None:
        import msal  # type: ignore[import-untyped,unused-ignore]

        with self._lock:
            if self._cache is not None:
                for item in list(self._cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)):
                    self._cache.remove_at(item)


def pinned_session(verify: bool | str, timeout: float) -> Any:
    """A requests.Session for msal with a fixed CA setting and timeout (msal's default has no timeout)."""
    import requests  # type: ignore[import-untyped,unused-ignore]
    from requests.adapters import HTTPAdapter  # type: ignore[import-untyped,unused-ignore]

    class PinnedSession(requests.Session):  # type: ignore[misc,unused-ignore]
        def merge_environment_settings(self, *args: Any, **kwargs: Any) -> Any:
            settings = super().merge_environment_settings(*args, **kwargs)
            settings["verify"] = verify
            return settings

        def request(self, *args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("timeout", timeout)
            return super().request(*args, **kwargs)

    session = PinnedSession()
    session.verify = verify
    adapter = HTTPAdapter(max_retries=1)  # what msal mounts itself: connection errors only
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


# --- assertions: zero-argument on purpose (msal passes a context dict to callables with a parameter) ---


def federated_token_file_assertion(path: str, *, mask: Masker | None = None) -> Callable[[], str]:
    """AZURE_FEDERATED_TOKEN_FILE, re-read every time msal asks: the file is rotated under us (k8s, CI)."""

    def assertion() -> str:
        try:
            token = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise AuthError(f"cannot read AZURE_FEDERATED_TOKEN_FILE {path}: {exc.strerror}") from None
        if not token:
            # msal drops empty values silently and would send no assertion at all (auth-ci.md §1.2).
            raise AuthError(f"AZURE_FEDERATED_TOKEN_FILE {path} is empty")
        if mask:
            mask(token)
        return token

    return assertion


def github_oidc_assertion(
    request_url: str,
    request_token: str,
    audience: str,
    *,
    verify: bool | str = True,
    mask: Masker | None = None,
) -> Callable[[], str]:
    """GitHub Actions OIDC (actions/toolkit oidc-utils): a fresh ~5-minute JWT for every msal call."""

    def assertion() -> str:
        separator = "&" if "?" in request_url else "?"
        url = f"{request_url}{separator}audience={quote(audience, safe='')}"
        try:
            with httpx.Client(verify=ssl_verify(verify), timeout=GITHUB_OIDC_TIMEOUT) as http:
                response = http.get(url, headers={"Authorization": f"bearer {request_token}"})
        except httpx.HTTPError as exc:
            problem = unreachable(exc)
            log.info("GitHub Actions OIDC token request: %s: %s", type(exc).__name__, problem.detail)
            if problem.final:
                host = urlsplit(request_url).netloc
                sentence = problem.sentence(
                    "GitHub's OIDC token service", host, "ACTIONS_ID_TOKEN_REQUEST_URL"
                )
                raise NetworkError(sentence) from None
            raise AuthError(f"GitHub Actions OIDC token request failed: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise AuthError(
                f"GitHub Actions OIDC token request failed: HTTP {response.status_code} "
                "(does the job have `permissions: id-token: write`?)"
            )
        try:
            value = response.json()["value"]
        except (ValueError, KeyError, TypeError):
            value = None
        if not isinstance(value, str) or not value:
            raise AuthError("GitHub Actions OIDC token request returned no token")
        if mask:
            mask(value)
        return value

    return assertion


_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----.+?-----END \1-----", re.S)


def certificate_credential(path: str, password: str | None) -> dict[str, Any]:
    """msal's SHA-256 certificate form (PS256, x5t#S256): PEM with key + certificate, or PFX."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key, pkcs12

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise XtapError(f"cannot read AZURE_CLIENT_CERTIFICATE_PATH {path}: {exc.strerror}") from None
    secret = password.encode() if password else None
    if b"-----BEGIN" in data:
        text = data.decode("ascii", errors="replace")
        blocks = [(m.group(1), m.group(0)) for m in _PEM_BLOCK.finditer(text)]
        keys = [body for label, body in blocks if label.endswith("PRIVATE KEY")]
        certs = [body for label, body in blocks if label == "CERTIFICATE"]
        if not keys or not certs:
            raise XtapError(
                f"AZURE_CLIENT_CERTIFICATE_PATH {path} must hold both a private key and its certificate (PEM)"
            )
        try:
            load_pem_private_key(keys[0].encode(), secret)
        except (ValueError, TypeError):
            raise XtapError(
                f"cannot load the private key in {path}: wrong or missing AZURE_CLIENT_CERTIFICATE_PASSWORD?"
            ) from None
        # No "thumbprint" key: with it msal would fall back to SHA-1 (auth-ci.md §1.2).
        credential: dict[str, Any] = {"private_key": keys[0], "public_certificate": certs[0]}
    else:
        try:
            key, cert, _ = pkcs12.load_key_and_certificates(data, secret)
        except (ValueError, TypeError):
            raise XtapError(
                f"cannot load the PFX file {path}: wrong or missing AZURE_CLIENT_CERTIFICATE_PASSWORD?"
            ) from None
        if key is None or cert is None:
            raise XtapError(f"the PFX file {path} must hold both a private key and its certificate")
        credential = {"private_key_pfx_path": path}
    if password:
        credential["passphrase"] = password
    return credential


# --- configuration from the environment ---


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    return value.strip() if value and value.strip() else None


def graph_root_from_env(env: Mapping[str, str], cloud: Cloud) -> str:
    """XTAP_GRAPH_URL or the cloud's Graph root; https only: every request carries the bearer token."""
    root = _get(env, "XTAP_GRAPH_URL") or cloud.graph_root
    parts = urlsplit(root)
    if parts.scheme != "https" or not parts.netloc:
        raise XtapError(
            f"XTAP_GRAPH_URL must be an https:// URL (the access token must not travel in clear text), "
            f"got {root!r}"
        )
    return root.rstrip("/")


def authority_base_from_env(env: Mapping[str, str], cloud: Cloud) -> str:
    """`https://host[:port]` from AZURE_AUTHORITY_HOST (a bare host means https) or the cloud."""
    host = _get(env, "AZURE_AUTHORITY_HOST") or cloud.authority_host
    if "://" not in host:
        host = f"https://{host}"
    parts = urlsplit(host)
    if parts.scheme != "https" or not parts.netloc:
        raise XtapError(
            f"AZURE_AUTHORITY_HOST must be an https host (credentials must not travel in clear text), "
            f"got {host!r}"
        )
    return f"https://{parts.netloc}"


def verify_from_env(env: Mapping[str, str]) -> bool | str:
    """SSL_CERT_FILE, for Graph and msal alike; else the default trust store."""
    path = _get(env, "SSL_CERT_FILE")
    if path is None:
        return True
    if not Path(path).is_file():
        raise XtapError(f"SSL_CERT_FILE {path} does not exist")
    return path


def ssl_verify(verify: bool | str) -> Any:
    # httpx 0.28 deprecates a CA path as `verify`; an SSLContext loaded from it is the supported form.
    if isinstance(verify, str):
        import ssl

        return ssl.create_default_context(cafile=verify)
    return verify


# Every variable the credential chain and the client read (DESIGN §5), for callers that must run with a
# clean slate (the demo, tests): clearing these leaves no credential of the caller in effect.
CREDENTIAL_ENV: tuple[str, ...] = (
    "XTAP_ACCESS_TOKEN",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_FEDERATED_AUDIENCE",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_AUTHORITY_HOST",
    "XTAP_GRAPH_URL",
    "SSL_CERT_FILE",
)


def credential_from_env(
    env: Mapping[str, str],
    *,
    tenant_id: str | None = None,
    cloud: str | Cloud = "global",
    managed_identity: bool = False,
) -> TokenCredential:
    """The first credential the environment configures (DESIGN §5). No network I/O happens here."""
    the_cloud = get_cloud(cloud) if isinstance(cloud, str) else cloud
    mask = github_masker(env)
    static = _get(env, "XTAP_ACCESS_TOKEN")
    if static:
        return StaticTokenCredential(static, mask=mask)

    graph_root = graph_root_from_env(env, the_cloud)
    verify = verify_from_env(env)
    tenant = tenant_id or _get(env, "AZURE_TENANT_ID")
    client_id = _get(env, "AZURE_CLIENT_ID")
    token_file = _get(env, "AZURE_FEDERATED_TOKEN_FILE")
    oidc_url, oidc_token = (
        _get(env, "ACTIONS_ID_TOKEN_REQUEST_URL"),
        _get(env, "ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
    )
    cert_path = _get(env, "AZURE_CLIENT_CERTIFICATE_PATH")
    secret = _get(env, "AZURE_CLIENT_SECRET")

    factory: ClientCredentialFactory | None = None
    kind = ""
    if token_file:
        kind, assertion = "federated token file", federated_token_file_assertion(token_file, mask=mask)
        factory = lambda: {"client_assertion": assertion}  # noqa: E731
    elif oidc_url and oidc_token:
        audience = _get(env, "AZURE_FEDERATED_AUDIENCE") or the_cloud.federation_audience
        github = github_oidc_assertion(oidc_url, oidc_token, audience, verify=verify, mask=mask)
        kind, factory = "GitHub Actions OIDC", lambda: {"client_assertion": github}
    elif cert_path:
        password = env.get("AZURE_CLIENT_CERTIFICATE_PASSWORD") or None
        kind, factory = "certificate", lambda: certificate_credential(cert_path, password)
    elif secret:
        kind, factory = "client secret", lambda: secret
    elif managed_identity:
        return ManagedIdentityCredential(resource=graph_root, client_id=client_id, mask=mask)

    if factory is None:
        raise XtapError(
            "no Graph credentials: set XTAP_ACCESS_TOKEN, or AZURE_TENANT_ID and AZURE_CLIENT_ID with one "
            "of AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_CERTIFICATE_PATH or AZURE_CLIENT_SECRET (in GitHub "
            "Actions, `permissions: id-token: write` provides ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN), "
            "or use a managed identity"
        )
    missing = [
        name for name, value in (("AZURE_TENANT_ID", tenant), ("AZURE_CLIENT_ID", client_id)) if not value
    ]
    if missing:
        raise XtapError(f"signing in with a {kind} needs {' and '.join(missing)} to be set")
    assert tenant is not None and client_id is not None
    tenant = urls.tenant_id(tenant)  # it goes into the authority URL
    return MsalCredential(
        kind=kind,
        tenant_id=tenant,
        client_id=client_id,
        authority=f"{authority_base_from_env(env, the_cloud)}/{tenant}",
        scope=f"{graph_root}/.default",
        client_credential=factory,
        verify=verify,
        mask=mask,
    )
