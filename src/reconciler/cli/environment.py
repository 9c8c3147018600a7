"""The process environment as commands receive it: a plain mapping that `cli.main` read once.

Light on purpose: `xtap validate` needs the tenant id from here and nothing of the Graph wiring.
"""

from __future__ import annotations

from collections.abc import Mapping

Env = Mapping[str, str]


def env_tenant_id(env: Env) -> str | None:
    # As written: a stray newline must be refused as "not a GUID", not quietly stripped.
    return env.get("AZURE_TENANT_ID") or None
