"""Where Graph and the sign-in service are, and which CA to trust: from the environment, https only.

Every request to Graph carries the bearer token and every sign-in carries a credential, so neither host
may be plain http.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from reconciler.core.errors import XtapError
from reconciler.shell.graph.clouds import Cloud


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


# Every variable the credential chain and the client read (docs/authentication.md), for callers that must run with a
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
