"""`xtap lint --format sarif`: the findings as SARIF 2.1.0, as GitHub code scanning takes it. Pure.

One run; `tool.driver` carries every rule (id, name, short and full description, help, helpUri, default
level), so an alert explains itself in GitHub without the docs at hand. A result names its rule, level
and message, where it is (the policy file relative to the repository root, line and column in Unicode
code points, as YAML counts them: `columnKind`), a fingerprint that survives edits that move lines
(`partialFingerprints`, so an alert stays the same alert from commit to commit), and, when suppressed,
how: `inSource` for a partner file's `lintIgnore` (with its reason), `external` for `lint.disable` in
xtap.yaml. Code scanning shows suppressed results as dismissed.

A finding written in no file (Microsoft's service default where there is no default.yaml, or a tenant read
with --live) is placed at `fallback_uri`, the default.yaml that would set it, so that code scanning, which
shows only results with a file, still lists it; its logical location names what it is about.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from reconciler.core import lint
from reconciler.present.formats import json_text

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://xtap.dev/"
FINGERPRINT_KEY = "xtapFinding/v1"
_SARIF_LEVEL = {"error": "error", "warning": "warning", "note": "note"}


def _help(rule: lint.Rule) -> dict[str, str]:
    suppress = (
        f'lintIgnore: [{{rule: {rule.id}, reason: "…"}}] in the partner file, or lint: {{disable: [{rule.id}]}} '
        "in xtap.yaml"
    )
    text = f"{rule.short}\n\nFix: {rule.fix}\n\nSuppress: {suppress}.\n\nDocumentation: {rule.help_uri}"
    markdown = (
        f'{rule.short}\n\n**Fix:** {rule.fix}\n\n**Suppress:** `lintIgnore: [{{rule: {rule.id}, reason: "…"}}]` '
        f"in the partner file, or `lint: {{disable: [{rule.id}]}}` in `xtap.yaml`.\n\n"
        f"[{rule.id} in docs/lint.md]({rule.help_uri})"
    )
    return {"text": text, "markdown": markdown}


def rule_descriptor(rule: lint.Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": "".join(word.capitalize() for word in rule.name.split("-")),
        "shortDescription": {"text": rule.short},
        "fullDescription": {"text": f"{rule.short} {rule.fix}"},
        "helpUri": rule.help_uri,
        "help": _help(rule),
        "defaultConfiguration": {"level": _SARIF_LEVEL[rule.level]},
        "properties": {"tags": ["security", "entra", "cross-tenant-access"], "precision": "very-high"},
    }


def artifact_uri(path: str) -> str:
    """A file as a URI reference: relative paths stay relative (to the repository root, where CI runs)."""
    posix = path.replace("\\", "/")
    if posix.startswith("/"):
        return "file://" + quote(posix)
    return quote(posix)


def _physical(path: str, line: int, col: int) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(path)}}
    if line:
        location["region"] = {"startLine": line, "startColumn": max(col, 1)}
    return location


def _location(finding: lint.Finding, fallback_uri: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if finding.location is not None:
        out["physicalLocation"] = _physical(
            finding.location.path, finding.location.line, finding.location.col
        )
    elif fallback_uri is not None:
        out["physicalLocation"] = _physical(fallback_uri, 1, 1)
    owner = "default" if finding.subject == "default" else f"partners/{finding.subject}"
    out["logicalLocations"] = [
        {"name": finding.path, "fullyQualifiedName": f"{owner}/{finding.path}", "kind": "member"}
    ]
    return out


def _suppression(suppression: lint.Suppression) -> dict[str, Any]:
    if suppression.kind == "file":
        out: dict[str, Any] = {"kind": "inSource", "status": "accepted"}
        if suppression.reason:
            out["justification"] = suppression.reason
        if suppression.location is not None:
            ref = suppression.location
            out["location"] = {"physicalLocation": _physical(ref.path, ref.line, ref.col)}
        return out
    return {"kind": "external", "status": "accepted", "justification": "disabled in xtap.yaml (lint.disable)"}


def result(finding: lint.Finding, index: int, fallback_uri: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ruleId": finding.rule.id,
        "ruleIndex": index,
        "level": _SARIF_LEVEL[finding.level],
        "message": {"text": finding.message},
        "locations": [_location(finding, fallback_uri)],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": {"subject": finding.subject, "setting": finding.path, "where": finding.where},
    }
    if finding.suppression is not None:
        out["suppressions"] = [_suppression(finding.suppression)]
    return out


def log(findings: Iterable[lint.Finding], *, version: str, fallback_uri: str | None = None) -> dict[str, Any]:
    """The SARIF log of one lint run."""
    index = {rule.id: n for n, rule in enumerate(lint.RULES)}
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "xtap",
                        "version": version,
                        "semanticVersion": version,
                        "informationUri": INFORMATION_URI,
                        "rules": [rule_descriptor(rule) for rule in lint.RULES],
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": [result(f, index[f.rule.id], fallback_uri) for f in findings],
            }
        ],
    }


def render(findings: Iterable[lint.Finding], *, version: str, fallback_uri: str | None = None) -> str:
    """The log as JSON that no character in it can act on a terminal or a CI log (formats.json_text)."""
    return json_text(log(findings, version=version, fallback_uri=fallback_uri))
