"""Client assertions and certificates for msal: a federated token file, GitHub Actions OIDC, a certificate.

Assertions are zero-argument callables on purpose: msal calls them for every token request (a GitHub
OIDC token lives about five minutes, a mounted token file is rotated), and msal passes a context dict to
callables that take a parameter.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from reconciler.core.errors import XtapError
from reconciler.shell.graph.errors import AuthError, NetworkError, unreachable
from reconciler.shell.graph.settings import ssl_verify

log = logging.getLogger("reconciler.graph")

GITHUB_OIDC_TIMEOUT = 10.0

Masker = Callable[[str], None]  # registers a secret with the GitHub Actions log masker


def federated_token_file_assertion(path: str, *, mask: Masker | None = None) -> Callable[[], str]:
    """AZURE_FEDERATED_TOKEN_FILE, re-read every time msal asks: the file is rotated under us (k8s, CI)."""

    def assertion() -> str:
        try:
            token = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise AuthError(f"cannot read AZURE_FEDERATED_TOKEN_FILE {path}: {exc.strerror}") from None
        if not token:
            # msal drops empty values silently and would send no assertion at all (msal's oauth2cli/oauth2.py).
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
        # No "thumbprint" key: with it msal would fall back to SHA-1 (ClientApplication docs, msal >= 1.35).
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
