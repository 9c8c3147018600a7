"""The credential chain (docs/authentication.md): who we are to Graph, as a bearer token, via msal.

First match wins, azure-identity's variable names: XTAP_ACCESS_TOKEN → AZURE_FEDERATED_TOKEN_FILE →
GitHub Actions OIDC → AZURE_CLIENT_CERTIFICATE_PATH → AZURE_CLIENT_SECRET → managed identity (when asked).
msal facts that shape this module (msal 1.39's `application.py`): its constructor does network I/O, so the app is built
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
from concurrent.futures import Future
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

from reconciler.core import urls
from reconciler.core.errors import XtapError
from reconciler.shell import console
from reconciler.shell.graph.assertions import (
    Masker,
    certificate_credential,
    federated_token_file_assertion,
    github_oidc_assertion,
)
from reconciler.shell.graph.clouds import Cloud, get_cloud
from reconciler.shell.graph.errors import AuthError, NetworkError, unreachable
from reconciler.shell.graph.settings import CREDENTIAL_ENV as CREDENTIAL_ENV  # the chain's variables
from reconciler.shell.graph.settings import (
    _get,
    authority_base_from_env,
    graph_root_from_env,
    verify_from_env,
)

log = logging.getLogger("reconciler.graph")

MSAL_TIMEOUT = 30.0

# Entra error codes worth a hint (Entra's AADSTS error reference); the service's own text comes first,
# these only add.
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


def github_masker(env: Mapping[str, str]) -> Masker:
    """Registers secrets with the Actions log redactor — the one sanctioned way a token is ever written.

    On stderr: the runner reads workflow commands from both streams, and stdout is often redirected into a
    file that gets published (`xtap plan --format markdown > plan.md`), which must never hold a token.
    """

    def mask(value: str) -> None:
        if env.get("GITHUB_ACTIONS") == "true" and value:
            console.add_mask(sys.stderr, value)

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
        try:
            # First the credential: one that cannot be loaded (a wrong certificate password) sends nothing.
            credential = self._client_credential()
            # Our own session: msal's `verify=` loses to REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE in the process
            # environment (requests merges them over the session's setting), and the CA for sign-in must be
            # the one Graph calls use. msal's first request, its OIDC discovery, is sent before msal is
            # imported: the round trip and msal's import (about 0.1 s of CPU) take the time of the longer.
            session = pinned_session(self._verify, self._timeout)
            session.send_early(oidc_discovery_url(self.authority))
            import msal  # type: ignore[import-untyped,unused-ignore]  # lazily: offline commands never pay for it

            return msal.ConfidentialClientApplication(
                self.client_id,
                authority=self.authority,
                client_credential=credential,
                # No instance discovery and no region detection: msal must talk to the authority host only
                # (a national cloud, a proxy or the emulator), never to login.microsoftonline.com.
                instance_discovery=False,
                azure_region=False,
                http_client=session,
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
    """An Azure managed identity (self-hosted runners on Azure only; msal's `managed_identity.py`)."""

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


def oidc_discovery_url(authority: str) -> str:
    """Where msal reads an Entra authority's OpenID configuration (its `Authority` with instance discovery
    off: the authority's path, then `/v2.0/.well-known/openid-configuration`; port and query kept)."""
    parts = urlsplit(authority)
    return parts._replace(path=f"{parts.path}/v2.0/.well-known/openid-configuration").geturl()


def pinned_session(verify: bool | str, timeout: float) -> Any:
    """A requests.Session for msal with a fixed CA setting and timeout (msal's default has no timeout).
    `send_early(url)` GETs `url` in a thread now; the session's first GET of that URL gets its answer (or
    its exception) instead of asking again."""
    import requests  # type: ignore[import-untyped,unused-ignore]
    from requests.adapters import HTTPAdapter  # type: ignore[import-untyped,unused-ignore]

    class PinnedSession(requests.Session):  # type: ignore[misc,unused-ignore]
        early: tuple[str, Future[Any]] | None = None

        def merge_environment_settings(self, *args: Any, **kwargs: Any) -> Any:
            settings = super().merge_environment_settings(*args, **kwargs)
            settings["verify"] = verify
            return settings

        def request(self, *args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("timeout", timeout)
            return super().request(*args, **kwargs)

        def send_early(self, url: str) -> None:
            answer: Future[Any] = Future()

            def fetch() -> None:
                try:
                    answer.set_result(super(PinnedSession, self).get(url))
                except BaseException as exc:  # handed to the caller that asks for it, as if it had asked
                    answer.set_exception(exc)

            self.early = (url, answer)
            threading.Thread(target=fetch, name="xtap-discovery", daemon=True).start()

        def get(self, url: Any, *args: Any, **kwargs: Any) -> Any:
            early, self.early = self.early, None
            if early is not None and early[0] == url and not args and not kwargs:
                return early[1].result()
            return super().get(url, *args, **kwargs)

    session = PinnedSession()
    session.verify = verify
    adapter = HTTPAdapter(max_retries=1)  # what msal mounts itself: connection errors only
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def _client_credential(
    env: Mapping[str, str], cloud: Cloud, verify: bool | str, mask: Masker
) -> tuple[str, ClientCredentialFactory] | None:
    """The first of credentials 2–5 the environment configures: (kind, msal's client_credential)."""
    token_file = _get(env, "AZURE_FEDERATED_TOKEN_FILE")
    oidc_url, oidc_token = (
        _get(env, "ACTIONS_ID_TOKEN_REQUEST_URL"),
        _get(env, "ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
    )
    cert_path = _get(env, "AZURE_CLIENT_CERTIFICATE_PATH")
    secret = _get(env, "AZURE_CLIENT_SECRET")
    if token_file:
        assertion = federated_token_file_assertion(token_file, mask=mask)
        return "federated token file", lambda: {"client_assertion": assertion}
    if oidc_url and oidc_token:
        audience = _get(env, "AZURE_FEDERATED_AUDIENCE") or cloud.federation_audience
        github = github_oidc_assertion(oidc_url, oidc_token, audience, verify=verify, mask=mask)
        return "GitHub Actions OIDC", lambda: {"client_assertion": github}
    if cert_path:
        password = env.get("AZURE_CLIENT_CERTIFICATE_PASSWORD") or None
        return "certificate", lambda: certificate_credential(cert_path, password)
    if secret:
        return "client secret", lambda: secret
    return None


def credential_from_env(
    env: Mapping[str, str],
    *,
    tenant_id: str | None = None,
    cloud: str | Cloud = "global",
    managed_identity: bool = False,
) -> TokenCredential:
    """The first credential the environment configures (docs/authentication.md). No network I/O here."""
    the_cloud = get_cloud(cloud) if isinstance(cloud, str) else cloud
    mask = github_masker(env)
    static = _get(env, "XTAP_ACCESS_TOKEN")
    if static:
        return StaticTokenCredential(static, mask=mask)

    graph_root = graph_root_from_env(env, the_cloud)
    verify = verify_from_env(env)
    tenant = tenant_id or _get(env, "AZURE_TENANT_ID")
    client_id = _get(env, "AZURE_CLIENT_ID")
    chosen = _client_credential(env, the_cloud, verify, mask)
    if chosen is None and managed_identity:
        return ManagedIdentityCredential(resource=graph_root, client_id=client_id, mask=mask)
    if chosen is None:
        raise XtapError(
            "no Graph credentials: set XTAP_ACCESS_TOKEN, or AZURE_TENANT_ID and AZURE_CLIENT_ID with one "
            "of AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_CERTIFICATE_PATH or AZURE_CLIENT_SECRET (in GitHub "
            "Actions, `permissions: id-token: write` provides ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN), "
            "or use a managed identity"
        )
    kind, factory = chosen
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
