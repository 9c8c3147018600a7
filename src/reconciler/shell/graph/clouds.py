"""The national clouds: where to sign in, where Graph lives, and which audience a federated token carries.

Built from our own table (learn.microsoft.com/graph/deployments; docs/authentication.md) rather than
msal's constants, which were renamed in 1.39.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.core.errors import XtapError


@dataclass(frozen=True)
class Cloud:
    name: str
    authority_host: str  # host only, e.g. "login.microsoftonline.com"
    graph_root: str  # scheme + host, no trailing slash, no version
    federation_audience: str  # `aud` of a workload-identity-federation token


CLOUDS: dict[str, Cloud] = {
    c.name: c
    for c in (
        Cloud(
            "global", "login.microsoftonline.com", "https://graph.microsoft.com", "api://AzureADTokenExchange"
        ),
        Cloud(
            "usgov",
            "login.microsoftonline.us",
            "https://graph.microsoft.us",
            "api://AzureADTokenExchangeUSGov",
        ),
        Cloud(
            "usgovdod",
            "login.microsoftonline.us",
            "https://dod-graph.microsoft.us",
            "api://AzureADTokenExchangeUSGov",
        ),
        Cloud(
            "china",
            "login.chinacloudapi.cn",
            "https://microsoftgraph.chinacloudapi.cn",
            "api://AzureADTokenExchangeChina",
        ),
    )
}


def get_cloud(name: str) -> Cloud:
    try:
        return CLOUDS[name]
    except KeyError:
        raise XtapError(f"unknown cloud {name!r}: use one of {', '.join(CLOUDS)}") from None
