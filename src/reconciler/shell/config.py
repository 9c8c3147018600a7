"""`xtap.yaml`: tenants, clouds, policies folders, ignore rules, pruning, safety gates.

The file is optional. Without it there is one implicit tenant named "default": `policies/` next to the
current directory and the tenant of `AZURE_TENANT_ID` (read by the CLI and passed in as
`fallback_tenant_id`; this module never reads the environment).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.core import lint_rules, model, rules, schema
from reconciler.core.desired import LoadResult
from reconciler.core.documents import Diagnostic, YamlDocument
from reconciler.core.errors import XtapError
from reconciler.core.text import printable
from reconciler.shell.files import display_path, link_problem, load_desired, read_yaml

log = logging.getLogger("reconciler.config")

CONFIG_NAMES = ("xtap.yaml", "xtap.yml")
DEFAULT_TENANT = "default"
DEFAULT_CLOUD = "global"
DEFAULT_POLICIES = "policies"


@dataclass(frozen=True)
class Safety:
    max_deletes: int | None = None  # None: the default gate (0 without prune, 5 with)
    max_update_percent: float = 30.0


@dataclass(frozen=True)
class TenantConfig:
    name: str
    tenant_id: str | None
    cloud: str
    policies: Path


@dataclass(frozen=True)
class Config:
    root: Path
    tenants: tuple[TenantConfig, ...]
    ignore: frozenset[str] = frozenset()
    prune: bool = False
    protected_partners: frozenset[str] = frozenset()  # lowercase GUIDs
    safety: Safety = Safety()
    source: Path | None = None
    lint_disable: frozenset[str] = frozenset()  # posture rules turned off (`lint.disable`, docs/lint.md)

    def home_tenants(self, policies_dir: Path) -> frozenset[str]:
        """The tenant ids whose policies folder is `policies_dir`: none of them may be its own partner."""
        target = policies_dir.resolve()
        return frozenset(
            t.tenant_id.lower()
            for t in self.tenants
            if t.tenant_id and model.is_guid(t.tenant_id) and t.policies.resolve() == target
        )

    def tenant(self, name: str | None) -> TenantConfig:
        names = ", ".join(t.name for t in self.tenants)
        if name is None:
            if len(self.tenants) == 1:
                return self.tenants[0]
            raise XtapError(f"xtap.yaml names several tenants; pick one with --tenant (one of: {names})")
        for tenant in self.tenants:
            if tenant.name == name:
                return tenant
        if self.source is None:
            raise XtapError(
                f"no tenant named '{name}': without xtap.yaml the only tenant is '{DEFAULT_TENANT}'"
            )
        raise XtapError(f"no tenant named '{name}' in {display_path(self.source)} (one of: {names})")


def implicit_config(cwd: Path, *, fallback_tenant_id: str | None = None) -> Config:
    policies = cwd / DEFAULT_POLICIES
    # The same rule as a policies folder named in xtap.yaml: in CI a pull request controls this link, and
    # what xtap reads may be quoted in errors that end up in the log.
    problem = link_problem(policies, cwd)
    if problem is not None:
        raise XtapError(f"{display_path(policies)}: {problem}")
    tenant = TenantConfig(
        name=DEFAULT_TENANT,
        tenant_id=fallback_tenant_id or None,
        cloud=DEFAULT_CLOUD,
        policies=policies,
    )
    return Config(root=cwd, tenants=(tenant,))


def find_config(cwd: Path) -> Path | None:
    for name in CONFIG_NAMES:
        if (cwd / name).is_file() or (cwd / name).is_symlink():
            return cwd / name
    return None


def check_config(
    path: Path, *, cwd: Path, fallback_tenant_id: str | None = None
) -> tuple[Config | None, list[Diagnostic]]:
    """Read and check one xtap.yaml: a best-effort Config (None if unreadable) and every problem found."""
    file = path if path.is_absolute() else cwd / path
    if not file.is_file() and not file.is_symlink():
        return None, [Diagnostic(display_path(file), 0, 0, "error", "configuration file not found")]
    # A link may stay beside the file it replaces, never lead elsewhere (a runner's files, say).
    doc, diagnostics = read_yaml(file, root=file.parent)
    if doc is None:
        return None, diagnostics
    problems = schema.check("config", doc.data, doc.styles) + rules.check_config(doc.data)
    diagnostics.extend(doc.diagnostic(p) for p in problems)
    config, more = _build(doc, file.parent.resolve(), file, fallback_tenant_id)
    diagnostics.extend(more)
    diagnostics.sort(key=lambda d: (d.line, d.col))
    return config, diagnostics


def load_config(path: Path | None, *, cwd: Path, fallback_tenant_id: str | None = None) -> Config:
    """The configuration to run with; XtapError (every error, located) when xtap.yaml is wrong."""
    file = path if path is not None else find_config(cwd)
    if file is None:
        return implicit_config(cwd, fallback_tenant_id=fallback_tenant_id)
    config, diagnostics = check_config(file, cwd=cwd, fallback_tenant_id=fallback_tenant_id)
    errors = [d for d in diagnostics if d.is_error]
    for warning in (d for d in diagnostics if not d.is_error):
        log.warning("%s", warning)
    if errors or config is None:
        raise XtapError(
            "\n".join(
                printable(f"{d.path}:{d.line}:{d.col}: {d.message}" if d.line else f"{d.path}: {d.message}")
                for d in errors
            )
        )
    return config


def _build(
    doc: YamlDocument, root: Path, source: Path, fallback_tenant_id: str | None
) -> tuple[Config, list[Diagnostic]]:
    """A Config from checked data, skipping parts the checks refused (they are reported already)."""
    data: Mapping[str, Any] = doc.data
    diagnostics: list[Diagnostic] = []
    tenants: list[TenantConfig] = []
    raw_tenants = data.get("tenants")
    if isinstance(raw_tenants, dict) and raw_tenants:
        for name, raw in raw_tenants.items():
            if isinstance(raw, dict):
                fallback = fallback_tenant_id if len(raw_tenants) == 1 else None
                tenant = _tenant(doc, root, name, raw, fallback, diagnostics)
                tenants.extend([tenant] if tenant is not None else [])
    elif raw_tenants is None:
        tenants.append(implicit_config(root, fallback_tenant_id=fallback_tenant_id).tenants[0])
    ignore = data.get("ignore")
    protected = data.get("protectedPartners")
    config = Config(
        root=root,
        tenants=tuple(tenants),
        ignore=frozenset(n for n in ignore if n in schema.config_ignorable())
        if isinstance(ignore, list)
        else frozenset(),
        prune=data.get("prune") is True,
        protected_partners=frozenset(p.lower() for p in protected if model.is_guid(p))
        if isinstance(protected, list)
        else frozenset(),
        safety=_safety(data.get("safety")),
        source=source,
        lint_disable=_lint_disable(data.get("lint")),
    )
    return config, diagnostics


def _lint_disable(lint: Any) -> frozenset[str]:
    disable = lint.get("disable") if isinstance(lint, dict) else None
    if not isinstance(disable, list):
        return frozenset()
    return frozenset(r for r in disable if isinstance(r, str) and r in lint_rules.BY_ID)


def _tenant(
    doc: YamlDocument,
    root: Path,
    name: str,
    raw: Mapping[str, Any],
    fallback_tenant_id: str | None,
    diagnostics: list[Diagnostic],
) -> TenantConfig | None:
    policies_text = raw.get("policies", DEFAULT_POLICIES)
    if not isinstance(policies_text, str) or not policies_text or rules.has_control(policies_text):
        policies_text = DEFAULT_POLICIES  # reported by the checks; a NUL would crash resolve()
    policies = (root / policies_text).resolve()
    if not policies.is_relative_to(root):
        line, col = doc.pos(("tenants", name, "policies"))
        message = f"policies folder must be inside {display_path(root)}, got '{policies_text}'"
        diagnostics.append(Diagnostic(doc.path, line, col, "error", message))
        return None
    tenant_id = raw.get("tenantId")
    if not model.is_guid(tenant_id):
        tenant_id = None
    if tenant_id is None:
        tenant_id = fallback_tenant_id or None
    cloud = raw.get("cloud")
    return TenantConfig(
        name=name,
        tenant_id=tenant_id.lower() if tenant_id and model.is_guid(tenant_id) else tenant_id,
        cloud=cloud if cloud in schema.CLOUDS else DEFAULT_CLOUD,
        policies=policies,
    )


def _safety(raw: Any) -> Safety:
    safety: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
    max_deletes = safety.get("maxDeletes")
    max_update = safety.get("maxUpdatePercent")
    return Safety(
        max_deletes=max_deletes
        if isinstance(max_deletes, int) and not isinstance(max_deletes, bool) and max_deletes >= 0
        else None,
        max_update_percent=float(max_update)
        if isinstance(max_update, int | float) and not isinstance(max_update, bool) and 0 <= max_update <= 100
        else 30.0,
    )


def load_policies(policies_dir: Path, config: Config | None, *, prune: bool = False) -> LoadResult:
    """One policies folder, with the configuration's ignore list and home tenants applied. Pruning (the
    `--prune` flag or `prune: true`) makes a misplaced partner file an error."""
    if config is None:
        return load_desired(policies_dir, prune=prune)
    return load_desired(
        policies_dir,
        global_ignore=config.ignore,
        home_tenants=config.home_tenants(policies_dir),
        prune=prune or config.prune,
    )
