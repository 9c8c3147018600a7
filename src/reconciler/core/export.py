"""Export: a live tenant → policy files, so adoption starts with an empty plan (docs/drift-export.md). Pure; no I/O.

`export_files(live, directory)` gives `{relative path: YAML text}`: `default.yaml` and one
`partners/<name>.yaml` per live partner. The contract is *export, then plan, is empty*, for any live state:

- values are Graph's own shapes, reduced to the v1.0 metadata members (`tenantRestrictions.devices`,
  `@odata.*` and members Graph does not document are not written); nulls are left out, since a managed
  property absent from a partner file means "inherit the default" (docs/plan-apply.md), which is what null means —
  except inside an object of plain values (`schema.is_plain`), which files write whole, null for "not set";
- read-only and unknown properties (`isInMultiTenantOrganization`, `isServiceProvider`,
  `crossCloudMeetingConfiguration`, ...) are never written: the planner never compares them;
- `identitySynchronization` is written when the partner has a policy (its non-null `displayName` and
  `userSyncInbound`);
- `default.yaml` names every managed default property that is set; the planner manages only what
  that file names, so a property that is null in the tenant stays unmanaged (listed in a comment).

The YAML is written by hand, so it is deterministic and reviewable: properties in the order of Graph's
resource pages and examples (`DOC_ORDER`: `tenantId`, `inboundTrust`, `automaticUserConsentSettings`, the B2B
settings, ...; `usersAndGroups` before `applications`; `identitySynchronization` last), then any member
the order does not name in the order of the v1.0 metadata (so a property Graph adds later still has a place), `targets`
sorted by (targetType, target) with duplicates dropped, one target per line in flow style. A string is
written plain only when every YAML reader reads it back as the same string; otherwise it is
double-quoted with JSON escapes (JSON strings are YAML 1.2 double-quoted scalars).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.core import metadata, model, schema
from reconciler.core.state import LivePartner, LiveState

SCHEMA_MODELINE = "# yaml-language-server: $schema={path}"
MAX_SLUG = 60

# Words some YAML reader (1.1 or 1.2) turns into something other than a string when written plain.
_RESERVED_PLAIN = frozenset(
    [
        "null",
        "Null",
        "NULL",
        "true",
        "True",
        "TRUE",
        "false",
        "False",
        "FALSE",
        "y",
        "Y",
        "yes",
        "Yes",
        "YES",
        "n",
        "N",
        "no",
        "No",
        "NO",
        "on",
        "On",
        "ON",
        "off",
        "Off",
        "OFF",
    ]
)
_PLAIN_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
# Windows refuses these as file names, whatever the extension.
_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
)
# Characters YAML does not allow raw in a double-quoted scalar, or that it reads as line breaks.
_YAML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class ExportResult:
    files: Mapping[str, str]  # relative path ("default.yaml", "partners/x.yaml") -> YAML text
    partner_files: Mapping[str, str]  # lowercase tenantId -> its relative path
    notes: tuple[str, ...] = ()  # what could not be exported, for the command to show


# --- YAML writing --------------------------------------------------------------------------------------


def scalar(value: Any) -> str:
    """One YAML scalar that every reader reads back as exactly `value`."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        # fullmatch: `$` would let a trailing newline through.
        if (_PLAIN_RE.fullmatch(value) and value not in _RESERVED_PLAIN) or model.is_guid(value):
            return value
        text = json.dumps(value, ensure_ascii=False)
        return _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return json.dumps(value)


def _flat(value: Any) -> bool:
    return isinstance(value, dict) and all(not isinstance(v, (dict, list)) for v in value.values())


def _emit(key: str, value: Any, indent: int, lines: list[str]) -> None:
    pad = "  " * indent
    if isinstance(value, dict):
        if not value:
            lines.append(f"{pad}{key}: {{}}")
            return
        lines.append(f"{pad}{key}:")
        for k, v in value.items():
            _emit(k, v, indent + 1, lines)
    elif isinstance(value, list):
        if not value:
            lines.append(f"{pad}{key}: []")
        elif all(not isinstance(v, (dict, list)) for v in value):
            lines.append(f"{pad}{key}: [{', '.join(scalar(v) for v in value)}]")
        elif all(_flat(v) for v in value):
            lines.append(f"{pad}{key}:")
            for item in value:
                members = ", ".join(f"{k}: {scalar(v)}" for k, v in item.items())
                lines.append(f"{pad}  - {{{members}}}")
        else:  # not a shape Graph uses here; JSON is valid YAML flow style
            lines.append(f"{pad}{key}: {json.dumps(value, ensure_ascii=True)}")
    else:
        lines.append(f"{pad}{key}: {scalar(value)}")


def comment(text: str) -> str:
    """A one-line comment: control characters and line breaks in names from the directory become spaces."""
    clean = "".join(" " if unicodedata.category(c)[0] in "CZ" and c != " " else c for c in text)
    return "# " + " ".join(clean.split())


# --- values -----------------------------------------------------------------------------------------------


def clean(type_name: str, value: Any) -> Any:
    """`value` reduced to the managed members of its metadata type, in documented order, nulls left out and
    `targets` as a sorted set; None when nothing is left."""

    def keep(_path: str, member: model.Member | None, child: Any) -> Any:
        if member is None or not member.managed or child is None:
            return model.DROP
        if member.collection and isinstance(child, list):
            child = [_whole(member.type, item) for item in child if item is not None and item != {}]
            return model.canonical_set(child) if member.name in model.UNORDERED else child
        return model.DROP if child == {} else _whole(member.type, child)  # all members empty: empty itself

    return _whole(type_name, model.transform(type_name, value, keep, documented_order=True)) or None


def _whole(type_name: str, value: Any) -> Any:
    """Files write an object of plain values complete (schema.is_plain; a member left out is an error), so a
    member Graph does not set is written as null."""
    if not isinstance(value, dict) or not value or not schema.is_plain(type_name):
        return value
    known = model.members(type_name)
    return {name: value.get(name) for name in model.ordered(known) if known[name].managed}


def _property(owner: str, name: str, raw: Mapping[str, Any], where: str, notes: list[str]) -> Any:
    prop = metadata.load().type(owner).property(name)
    assert prop is not None
    value = clean(prop.type, raw.get(name))
    if model.canonical_property(owner, name, value) != model.canonical_property(owner, name, raw.get(name)):
        # Only members Graph does not document can differ; they cannot be written (the schema refuses them).
        notes.append(
            f"{where}: {name} holds members that are not in the Graph v1.0 metadata; they are not exported"
        )
    return value


def partner_document(partner: LivePartner, notes: list[str] | None = None) -> dict[str, Any]:
    """The partner file's data: tenantId, the set managed properties, the identity-sync policy."""
    where = f"partner {partner.tenant_id}"
    notes = notes if notes is not None else []
    doc: dict[str, Any] = {"tenantId": partner.tenant_id}
    for name in model.ordered(model.PARTNER_PROPERTIES):
        value = _property(metadata.PARTNER_TYPE, name, partner.raw, where, notes)
        if value is not None:
            doc[name] = value
    if partner.sync is not None:
        sync: dict[str, Any] = {}
        for name in model.ordered(model.SYNC_PROPERTIES):
            value = _property(metadata.SYNC_TYPE, name, partner.sync, where, notes)
            if value is not None:
                sync[name] = value
        doc[model.SYNC_PROPERTY] = sync
    return doc


def default_document(
    default: Mapping[str, Any], notes: list[str] | None = None
) -> tuple[dict[str, Any], list[str]]:
    """The default file's data and the managed default properties left out because they are null."""
    doc: dict[str, Any] = {}
    unset: list[str] = []
    for name in model.ordered(model.DEFAULT_PROPERTIES):
        value = _property(
            metadata.DEFAULT_TYPE, name, default, "default configuration", notes if notes is not None else []
        )
        if value is None:
            unset.append(name)
        else:
            doc[name] = value
    return doc, unset


def to_yaml(doc: Mapping[str, Any]) -> str:
    lines: list[str] = []
    for key, value in doc.items():
        _emit(key, value, 0, lines)
    return "\n".join(lines) + "\n"


# --- file names ------------------------------------------------------------------------------------------


def slug(name: str) -> str:
    """A file-name stem from a display name: "Fabrikam, Inc." → "fabrikam-inc"; "" when nothing is left."""
    # Accents go (é → e); every other character that is not an ASCII letter or digit separates words.
    folded = "".join(
        c if c.isascii() and c.isalnum() else "" if unicodedata.category(c) == "Mn" else "-"
        for c in unicodedata.normalize("NFKD", name)
    )
    text = re.sub(r"-+", "-", folded.lower()).strip("-")
    return text[:MAX_SLUG].rstrip("-")


def display_name(info: Mapping[str, Any] | None) -> str | None:
    if not info:
        return None
    name = info.get("displayName")
    return name if isinstance(name, str) and name.strip() else None


def file_names(tenant_ids: list[str], infos: Mapping[str, Mapping[str, Any] | None]) -> dict[str, str]:
    """tenantId → file stem: the slug of the display name, the tenantId when unknown.

    Stems that collide (two partners called "Contoso") all get the first 8 characters of their tenantId,
    so a name never depends on which of them happened to sort first.
    """
    wanted = {}
    for tid in tenant_ids:
        stem = slug(display_name(infos.get(tid)) or "")
        wanted[tid] = stem or tid
    counts: dict[str, int] = {}
    for stem in wanted.values():
        counts[stem] = counts.get(stem, 0) + 1
    out = {}
    for tid, stem in wanted.items():
        if stem != tid and (counts[stem] > 1 or stem in _WINDOWS_RESERVED):
            stem = f"{stem}-{tid[:8]}"
        out[tid] = stem
    return out


# --- files -----------------------------------------------------------------------------------------------


def _partner_header(partner: LivePartner, info: Mapping[str, Any] | None, schema_path: str) -> list[str]:
    lines = [SCHEMA_MODELINE.format(path=schema_path)]
    name = display_name(info)
    domain = info.get("defaultDomainName") if info else None
    if name is not None:
        lines.append(comment(f"{name} ({domain})" if isinstance(domain, str) and domain else name))
    else:
        lines.append("# Display name unknown (the tenant lookup was not available).")
    if partner.is_mto:
        lines.append(
            "# Member of a multitenant organization (isInMultiTenantOrganization): xtap never deletes it."
        )
    lines.append("# Exported by xtap: properties that inherit the default (null in Graph) are left out.")
    return lines


def export_files(
    live: LiveState,
    infos: Mapping[str, Mapping[str, Any] | None] | None = None,
    *,
    schemas: str = "../schemas",
) -> ExportResult:
    """Policy files for `live`. `infos`: tenantId → tenantInformation (or None when unknown);
    `schemas`: the schemas folder relative to the output folder, for the editor modeline."""
    infos = infos or {}
    files: dict[str, str] = {}
    notes: list[str] = []
    if live.default:
        doc, unset = default_document(live.default, notes)
        if doc:
            header = [
                SCHEMA_MODELINE.format(path=f"{schemas}/default.schema.json"),
                "# The tenant's default cross-tenant access settings, exported by xtap.",
            ]
            if live.default.get("isServiceDefault") is True:
                header.append("# isServiceDefault: true - the tenant still has Microsoft's system defaults.")
            if unset:
                header.append(f"# Not set in the tenant, so not managed here: {', '.join(unset)}.")
            files["default.yaml"] = "\n".join(header) + "\n" + to_yaml(doc)
    tids = sorted(live.partners)
    stems = file_names(tids, infos)
    partner_files: dict[str, str] = {}
    for tid in sorted(tids, key=lambda t: (stems[t], t)):
        partner = live.partners[tid]
        path = f"partners/{stems[tid]}.yaml"
        header = _partner_header(partner, infos.get(tid), f"../{schemas}/partner.schema.json")
        files[path] = "\n".join(header) + "\n" + to_yaml(partner_document(partner, notes))
        partner_files[tid] = path
    return ExportResult(files, partner_files, tuple(notes))
