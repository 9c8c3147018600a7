"""Checked policy documents → DesiredState. Pure: parsed documents in, data and diagnostics out.

Each partner document is checked against its schema and the semantic rules; the cross-file rules (a
tenantId in two files, the home tenant as its own partner) run over all of them together. Reading the
files is the shell's job (`reconciler.shell.files`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.core import model, rules, schema
from reconciler.core.documents import Diagnostic, YamlDocument
from reconciler.core.state import (
    DesiredDefault,
    DesiredPartner,
    DesiredPolicy,
    DesiredState,
    LintIgnore,
    SourceRef,
)


@dataclass(frozen=True)
class LoadResult:
    desired: DesiredState
    diagnostics: tuple[Diagnostic, ...]
    files: tuple[str, ...] = ()  # every file read, as shown in diagnostics

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


@dataclass(frozen=True)
class ReadFile:
    """One file as the shell read it: its shown path, its document (None when unreadable), its problems."""

    shown: str
    document: YamlDocument | None
    diagnostics: Sequence[Diagnostic] = ()


def build_desired(
    partner_files: Sequence[ReadFile],
    default_file: ReadFile | None,
    *,
    global_ignore: frozenset[str] = frozenset(),
    home_tenants: Iterable[str] = (),
    policy_file: ReadFile | None = None,
) -> LoadResult:
    """Check the partner documents, the default document and the root policy's; cross-file rules included."""
    diagnostics: list[Diagnostic] = []
    files: list[str] = []
    partners: dict[str, DesiredPartner] = {}
    declared: list[tuple[str, SourceRef]] = []
    for file in partner_files:
        files.append(file.shown)
        diagnostics.extend(file.diagnostics)
        doc = file.document
        if doc is None:
            continue
        problems = schema.check("partner", doc.data, doc.styles) + rules.check_partner(doc.data)
        diagnostics.extend(doc.diagnostic(p) for p in problems)
        partner = _partner(doc, global_ignore)
        if partner is not None:
            declared.append((partner.tenant_id, partner.source))
            partners.setdefault(partner.tenant_id, partner)
    for ref, message in rules.duplicate_tenants(declared) + rules.home_tenant(
        declared, frozenset(home_tenants)
    ):
        diagnostics.append(Diagnostic(ref.path, ref.line, ref.col, "error", message))
    default: DesiredDefault | None = None
    if default_file is not None:
        doc = _single(default_file, "default", files, diagnostics)
        default = _default(doc, global_ignore) if doc is not None else None
    policy: DesiredPolicy | None = None
    if policy_file is not None:
        doc = _single(policy_file, "policy", files, diagnostics)
        if doc is not None:
            properties = {k: v for k, v in doc.data.items() if k in model.POLICY_PROPERTIES}
            policy = DesiredPolicy(properties, SourceRef(doc.path, 1, 1))
    order = {name: index for index, name in enumerate(files)}
    diagnostics.sort(key=lambda d: (order.get(d.path, -1), d.line, d.col))
    state = DesiredState(partners=partners, default=default, policy=policy)
    return LoadResult(state, tuple(diagnostics), tuple(files))


def _single(
    file: ReadFile, kind: schema.Kind, files: list[str], diagnostics: list[Diagnostic]
) -> YamlDocument | None:
    """One of the single files (default.yaml, policy.yaml), checked: its document, None when unreadable."""
    files.append(file.shown)
    diagnostics.extend(file.diagnostics)
    doc = file.document
    if doc is not None:
        problems = schema.check(kind, doc.data, doc.styles)
        if kind == "default":
            problems += rules.check_default(doc.data)
        diagnostics.extend(doc.diagnostic(p) for p in problems)
    return doc


def _ignore_set(data: Mapping[str, Any], global_ignore: frozenset[str]) -> frozenset[str]:
    own = data.get("ignore")
    names = frozenset(n for n in own if isinstance(n, str)) if isinstance(own, list) else frozenset()
    return names | global_ignore


def _partner(doc: YamlDocument, global_ignore: frozenset[str]) -> DesiredPartner | None:
    data = doc.data
    tenant_id = data.get("tenantId")
    if not model.is_guid(tenant_id):
        return None
    managed = model.PARTNER_PROPERTIES
    line, col = doc.pos(("tenantId",))
    sync = data.get(model.SYNC_PROPERTY)
    description = data.get("description")
    return DesiredPartner(
        tenant_id=tenant_id.lower(),
        properties={k: v for k, v in data.items() if k in managed},
        sync=sync if isinstance(sync, dict) else None,
        source=SourceRef(doc.path, line, col),
        ignore=_ignore_set(data, global_ignore),
        description=description if isinstance(description, str) else None,
        locations=_locations(doc),
        lint_ignore=_lint_ignore(doc),
    )


def _lint_ignore(doc: YamlDocument) -> tuple[LintIgnore, ...]:
    """The well-formed `lintIgnore` entries (the schema reports the others)."""
    entries = doc.data.get("lintIgnore")
    out = []
    for index, entry in enumerate(entries if isinstance(entries, list) else ()):
        if (
            isinstance(entry, dict)
            and isinstance(entry.get("rule"), str)
            and isinstance(entry.get("reason"), str)
        ):
            line, col = doc.pos(("lintIgnore", index))
            out.append(LintIgnore(entry["rule"], entry["reason"], SourceRef(doc.path, line, col)))
    return tuple(out)


def _default(doc: YamlDocument, global_ignore: frozenset[str]) -> DesiredDefault:
    data = doc.data
    return DesiredDefault(
        properties={k: v for k, v in data.items() if k in model.DEFAULT_PROPERTIES},
        source=SourceRef(doc.path, 1, 1),
        ignore=_ignore_set(data, global_ignore),
        locations=_locations(doc),
    )


def _locations(doc: YamlDocument, depth: int = 3) -> dict[str, tuple[int, int]]:
    """dotted path → (line, col) of its key, for the keys of the first `depth` levels of the document."""
    out = {}
    for path, (key_pos, _value) in doc.positions.items():
        if key_pos is not None and len(path) <= depth:
            try:
                out[".".join(path)] = key_pos  # type: ignore[arg-type]
            except TypeError:  # a path through a list item has no dotted name (and is rare: no test first)
                continue
    return out
