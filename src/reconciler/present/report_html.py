"""`xtap report`: the cross-tenant posture on one page, as one self-contained HTML file. Pure.

Everything is in the file: inline CSS, no script, no font, no image, and a Content-Security-Policy that
forbids the browser to fetch anything, so the page works offline, sends nothing anywhere and prints as it
shows (A4 landscape, sections kept whole where they fit). Meaning never rests on colour alone: each cell
says `open`, `some` or `closed` with a symbol, and `inherited` in words.

Every text from the files or from Graph (names, descriptions, ids, values, messages) goes through `_e`
(made printable, then HTML-escaped). No template engine: the page is a handful of small functions over
the same data `xtap lint` and `xtap access` use (core/posture, core/lint, core/access).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from reconciler.core import access, drift, effective, impact, lint
from reconciler.core.posture import Posture, Subject
from reconciler.core.text import printable
from reconciler.core.values import format_value

CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


@dataclass(frozen=True)
class Report:
    tenant: str  # the tenant's name in xtap.yaml
    posture: Posture
    findings: Sequence[lint.Finding]
    generated_at: str  # ISO 8601, UTC
    version: str
    drift: drift.DriftReport | None = None  # with --live


def _e(text: object) -> str:
    return html.escape(printable(str(text)), quote=True)


def _anchor(subject: Subject) -> str:
    return f"p-{subject.key}"  # a lowercase GUID or "default": safe in an id


# --- the matrix --------------------------------------------------------------------------------------------

_SHORT = {
    "b2b-collaboration": "B2B collaboration",
    "b2b-direct-connect": "B2B direct connect",
    "tenant-restrictions": "Tenant restrictions",
    "m365-collaboration": "Microsoft 365",
    "app-service-connect": "App service connect",
}
_KEYWORDS = ("AllUsers", "AllApplications")


def _slot_words(rule: access.Rule) -> str:
    """users/apps in a word or two: all, none, only 2, all but 1, not set."""
    if not rule.is_set:
        return "not set"
    everyone = any(t in _KEYWORDS for _, t in rule.targets)
    count = len(rule.targets)
    if rule.access_type == "allowed":
        return "all" if everyone else f"only {count}"
    return "none" if everyone else f"all but {count}"


_VERDICT = {"open": "✔ open", "some": "◐ some", "closed": "✖ closed"}


def _verdict(config: access.Configuration, channel: access.Channel) -> tuple[str, str]:
    kind = lint.reach(config, channel)
    return kind, _VERDICT[kind]


def _origin(rules: Sequence[access.Rule]) -> str:
    origins = {r.origin for r in rules if r.is_set} | {r.targets_origin for r in rules if r.is_set}
    if origins <= {"default"} and origins:
        return "inherited"
    return "partly inherited" if "default" in origins else ""


def _cell(subject: Subject, channel: access.Channel) -> str:
    config = subject.config
    rules = [config.rule(channel, s) for s in (channel.users, channel.apps) if s is not None]
    kind, verdict = _verdict(config, channel)
    slots = " · ".join(f"{'users' if r.slot != 'applications' else 'apps'}: {_slot_words(r)}" for r in rules)
    origin = "" if subject.is_default else _origin(rules)
    mark = f'<span class="origin">↳ {origin}</span>' if origin else ""
    css = f"{kind} inherited" if origin == "inherited" else kind
    return f'<td class="{css}"><span class="verdict">{verdict}</span><span class="slots">{slots}</span>{mark}</td>'


def _row(subject: Subject) -> str:
    label = "default (every other tenant)" if subject.is_default else subject.name
    attr = ' class="default-row"' if subject.is_default else f' data-partner="{_e(subject.key)}"'
    head = f'<th scope="row"><a href="#{_anchor(subject)}">{_e(label)}</a></th>'
    return f"<tr{attr}>{head}{''.join(_cell(subject, c) for c in access.CHANNELS)}</tr>"


def _matrix(report: Report) -> str:
    heads = "".join(
        f'<th scope="col">{_SHORT[c.name]}<br><span class="dir">{c.direction}</span></th>'
        for c in access.CHANNELS
    )
    rows = "".join(_row(s) for s in report.posture.subjects)
    legend = (
        '<p class="legend">Each cell: who of the partner\'s users (inbound) or of yours (outbound) get through, '
        "and to which applications. <b>✔ open</b>: everyone, to every application; <b>◐ some</b>: some users "
        "or some applications; <b>✖ closed</b>: nobody. <i>users/apps</i>: <i>all</i>, <i>none</i>, "
        "<i>only N</i> (an allow list), <i>all but N</i> (a block list). <b>↳ inherited</b>: the partner "
        "leaves the channel to the default.</p>"
    )
    table = f'<table class="matrix" id="matrix"><thead><tr><th scope="col">Partner</th>{heads}</tr></thead><tbody>{rows}</tbody></table>'
    return f'<section id="access"><h2>Partners × channels</h2>{legend}<div class="scroll">{table}</div></section>'


# --- summary, findings, partners ---------------------------------------------------------------------------


def widening(report: Report) -> list[Subject]:
    """The partners that let more in than the default (any channel or setting widens)."""
    baseline = report.posture.baseline()
    return [
        s
        for s in report.posture.partners
        if any(e.impact in ("widens", "changes") for e in impact.effects(baseline, s.config, s.name))
    ]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _summary(report: Report) -> str:
    counts = lint.counts(report.findings)
    wider = widening(report)
    names = ", ".join(f'<a href="#{_anchor(s)}">{_e(s.name)}</a>' for s in wider) or "none"
    items = [
        ("Partners", f"{len(report.posture.partners)}"),
        ("Wider than the default", f"{len(wider)} ({names})"),
        (
            "Findings",
            ", ".join(_plural(counts[k], k) for k in lint.LEVELS) + f"; {counts['suppressed']} suppressed",
        ),
    ]
    if report.drift is not None:
        real = [i for i in report.drift.items if i.drift]
        info = len(report.drift.items) - len(real)
        items.append(
            ("Drift", f"{_plural(len(real), 'item')} differing from the files; {info} for information")
        )
    rows = "".join(f"<div><dt>{k}</dt><dd>{v}</dd></div>" for k, v in items)
    return f'<section id="summary"><h2>Summary</h2><dl class="summary">{rows}</dl></section>'


def _finding_rows(findings: Iterable[lint.Finding]) -> str:
    rows = []
    for f in findings:
        state = (
            f"suppressed: {f.suppression.reason or 'lint.disable'}" if f.suppression is not None else f.level
        )
        rows.append(
            f'<tr class="{f.level}{" suppressed" if f.suppressed else ""}"><td>{_e(state)}</td>'
            f'<td><a href="{_e(f.rule.help_uri)}">{f.rule.id}</a></td><td>{_e(f.message)}</td>'
            f"<td><code>{_e(f.where)}</code></td></tr>"
        )
    return "".join(rows)


def _findings(report: Report) -> str:
    if not report.findings:
        return '<section id="findings"><h2>Findings</h2><p>No finding.</p></section>'
    head = "<thead><tr><th>Level</th><th>Rule</th><th>Finding</th><th>Where</th></tr></thead>"
    body = _finding_rows(report.findings)
    return f'<section id="findings"><h2>Findings</h2><table class="findings">{head}<tbody>{body}</tbody></table></section>'


_GROUPS = (
    ("Trust, consent, sync", ("inboundTrust.", "automaticUserConsentSettings.", "identitySynchronization.")),
    ("Access settings", ("",)),
)


def _settings(subject: Subject) -> str:
    leaves = [subject.config.leaf(path) for path in effective.leaf_paths()]
    out = []
    taken: set[str] = set()
    for title, prefixes in _GROUPS:
        mine = [leaf for leaf in leaves if leaf.path not in taken and leaf.path.startswith(prefixes)]
        taken.update(leaf.path for leaf in mine)
        rows = "".join(
            f"<tr><td><code>{_e(leaf.path)}</code></td><td>{_e(format_value(leaf.value) if leaf.origin != 'none' else '—')}</td>"
            f"<td>{_e(subject.where(leaf.path, leaf.origin))}</td></tr>"
            for leaf in mine
        )
        out.append(
            f'<h4>{title}</h4><table class="settings"><thead><tr><th>Setting</th><th>Effective value</th>'
            f"<th>From</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    return "".join(out)


def _partner(subject: Subject, findings: Sequence[lint.Finding]) -> str:
    title = "Default configuration" if subject.is_default else _e(subject.name)
    facts = [] if subject.is_default else [f"tenantId <code>{_e(subject.key)}</code>"]
    if subject.anchor is not None:
        facts.append(f"declared in <code>{_e(subject.anchor)}</code>")
    elif subject.source == "live" and not subject.is_default:
        facts.append("no policy file declares it" if subject.declared is None else "")
    description = f'<p class="description">{_e(subject.description)}</p>' if subject.description else ""
    mine = [f for f in findings if f.subject == subject.key]
    found = (
        f'<table class="findings"><tbody>{_finding_rows(mine)}</tbody></table>'
        if mine
        else "<p>No finding.</p>"
    )
    return (
        f'<article id="{_anchor(subject)}"><h3>{title}</h3><p class="facts">{" · ".join(x for x in facts if x)}</p>'
        f"{description}{_settings(subject)}<h4>Findings</h4>{found}</article>"
    )


def _drift(report: Report) -> str:
    if report.drift is None:
        return ""
    items = [i for i in report.drift.items if i.drift]
    if not items:
        return '<section id="drift"><h2>Drift</h2><p>The tenant matches the files.</p></section>'
    rows = "".join(
        f"<tr><td>{_e(i.kind)}</td><td>{_e(i.name)}</td><td>{_e(i.message)}</td></tr>" for i in items
    )
    head = "<thead><tr><th>Kind</th><th>Resource</th><th>What</th></tr></thead>"
    return f'<section id="drift"><h2>Drift</h2><table class="findings">{head}<tbody>{rows}</tbody></table></section>'


STYLE = """
:root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --open: #dafbe1; --some: #fff8c5;
  --closed: #ffebe9; --error: #cf222e; --warning: #9a6700; --note: #0969da; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); margin: 0 auto;
  max-width: 1400px; padding: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 19px; border-bottom: 1px solid var(--line);
  padding-bottom: 4px; margin-top: 32px; } h3 { font-size: 16px; margin: 0 0 4px; } h4 { margin: 14px 0 6px; }
.meta, .facts, .legend, .dir, .origin, footer { color: var(--muted); }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; word-break: break-all; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid var(--line); padding: 5px 7px; text-align: left; vertical-align: top; }
thead th { background: #f6f8fa; }
.scroll { overflow-x: auto; }
.matrix td { min-width: 112px; }
.matrix td span { display: block; }
.matrix .verdict { font-weight: 600; }
.matrix .slots { font-size: 12px; }
.matrix .origin { font-size: 12px; font-style: italic; }
.matrix td.open { background: var(--open); } .matrix td.some { background: var(--some); }
.matrix td.closed { background: var(--closed); }
.matrix td.inherited { background-image: repeating-linear-gradient(135deg, transparent 0 6px, rgba(0,0,0,.05) 6px 8px); }
.matrix tr.default-row th { font-style: italic; }
dl.summary { display: grid; grid-template-columns: repeat(auto-fit, minmax(240px, 1fr)); gap: 8px; margin: 0; }
dl.summary div { border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; }
dt { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; } dd { margin: 2px 0 0; }
tr.error td:first-child { color: var(--error); font-weight: 600; }
tr.warning td:first-child { color: var(--warning); font-weight: 600; }
tr.note td:first-child { color: var(--note); }
tr.suppressed td { color: var(--muted); text-decoration: line-through; }
tr.suppressed td:first-child { text-decoration: none; }
article { border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; margin: 14px 0; }
.settings td:first-child { width: 45%; }
.description { font-style: italic; }
footer { border-top: 1px solid var(--line); margin-top: 32px; padding-top: 8px; font-size: 12px; }
@page { size: A4 landscape; margin: 12mm; }
@media print {
  body { font-size: 9pt; padding: 0; max-width: none; }
  .scroll { overflow: visible; }
  a { color: inherit; text-decoration: none; }
  article, tr, .summary div { break-inside: avoid; }
  h2, h3, h4 { break-after: avoid; }
  .matrix td { min-width: 0; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def render(report: Report) -> str:
    """The whole page."""
    source = "the tenant, as it is (--live)" if report.posture.source == "live" else "the policy files"
    tenant = _e(report.tenant)
    partners = "".join(_partner(s, report.findings) for s in report.posture.subjects)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>xtap posture report — tenant {tenant}</title><style>{STYLE}</style></head><body>"
        f"<header><h1>Cross-tenant access posture — tenant {tenant}</h1>"
        f'<p class="meta">From {source} · generated {_e(report.generated_at)} · xtap {_e(report.version)}</p></header>'
        f"{_summary(report)}{_matrix(report)}{_findings(report)}{_drift(report)}"
        f'<section id="partners"><h2>Effective settings, partner by partner</h2>{partners}</section>'
        f"<footer>Generated by xtap {_e(report.version)} at {_e(report.generated_at)} from {source}. "
        "Rules: docs/lint.md; the access model: docs/access.md.</footer>"
        "</body></html>\n"
    )
