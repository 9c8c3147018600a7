"""`xtap report` (present/report_html.py): the page's content and escaping, and the page in a real
headless Chromium: the matrix has one row per partner, nothing leaves the file, no console error, it fits
a printed page, and a screenshot is written."""

from __future__ import annotations

import os
import re
import struct
from pathlib import Path

import pytest

from reconciler.core import drift, lint, posture
from reconciler.core.desired import ReadFile, build_desired
from reconciler.core.documents import parse_yaml
from reconciler.present import report_html
from tests.support import REPO, browser
from tests.support.e2e import xtap

TID = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
GROUP = "6f546279-4da5-4b53-a095-09ea0cef9971"
EXAMPLE_PARTNERS = ["contoso", "fabrikam", "northwind", "tailspin", "woodgrove"]


def report_of(partner: str, *, drift_report: drift.DriftReport | None = None) -> str:
    document, _ = parse_yaml(partner.encode(), "policies/partners/p.yaml")
    result = build_desired([ReadFile("policies/partners/p.yaml", document)], None)
    assert result.ok, result.diagnostics
    state = posture.from_files(result.desired)
    report = report_html.Report(
        "prod", state, lint.lint(state), "2026-12-01T10:00:00Z", "0.1.0", drift_report
    )
    return report_html.render(report)


def test_text_from_the_files_is_escaped() -> None:
    page = report_of(
        f"tenantId: {TID}\n"
        'description: "<script>alert(1)</script> & \\"quoted\\" \\u202e"\n'
        "b2bDirectConnectOutbound:\n"
        "  usersAndGroups: {accessType: allowed, targets: [{target: AllUsers, targetType: user}]}\n"
        "  applications: {accessType: allowed, targets: [{target: AllApplications, targetType: application}]}\n"
    )
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot; \\u202e" in page
    assert "\u202e" not in page


def test_the_page_asks_for_nothing_and_forbids_fetching() -> None:
    page = report_of(f"tenantId: {TID}\ndescription: d\n")
    assert re.search(r"<(script|link|img|iframe|object|embed|svg)\b", page) is None
    assert re.search(r"\b(src|srcset)=", page) is None
    assert "url(" not in page and "@import" not in page
    assert f'<meta http-equiv="Content-Security-Policy" content="{report_html.CSP}">' in page
    assert report_html.CSP.startswith("default-src 'none';")


def test_cells_say_open_some_closed_and_inherited_in_words() -> None:
    page = report_of(
        f"tenantId: {TID}\ndescription: d\n"
        "b2bCollaborationInbound:\n"
        f"  usersAndGroups: {{accessType: allowed, targets: [{{target: {GROUP}, targetType: group}}]}}\n"
    )
    row = re.search(rf'<tr data-partner="{TID}">(.*?)</tr>', page, re.S)
    assert row is not None
    cells = re.findall(
        r'<td class="([^"]+)"><span class="verdict">([^<]+)</span><span class="slots">([^<]+)</span>(.*?)</td>',
        row.group(1),
    )
    assert cells[0] == (
        "some",
        "◐ some",
        "users: only 1 · apps: all",
        '<span class="origin">↳ partly inherited</span>',
    )
    assert cells[1] == (
        "open inherited",
        "✔ open",
        "users: all · apps: all",
        '<span class="origin">↳ inherited</span>',
    )
    assert cells[2][:3] == ("closed inherited", "✖ closed", "users: none · apps: none")
    assert cells[5] == ("closed", "✖ closed", "users: not set", "")  # nobody sets Microsoft 365 inbound


def test_summary_counts_partners_wider_than_the_default_findings_and_drift() -> None:
    item = drift.DriftItem("id1", "changed", True, "partner", "p", TID, "inboundTrust.isMfaAccepted differs")
    info = drift.DriftItem("id2", "unknown-property", False, "partner", "p", TID, "an unknown property")
    page = report_of(
        f"tenantId: {TID}\ninboundTrust: {{isMfaAccepted: true, isCompliantDeviceAccepted: false, "
        "isHybridAzureADJoinedDeviceAccepted: false}\n",
        drift_report=drift.DriftReport((item, info)),
    )
    assert "<dt>Partners</dt><dd>1</dd>" in page
    assert '<dt>Wider than the default</dt><dd>1 (<a href="#p-' + TID + '">p</a>)</dd>' in page
    assert "<dt>Findings</dt><dd>0 errors, 0 warnings, 3 notes; 0 suppressed</dd>" in page
    assert "<dt>Drift</dt><dd>1 item differing from the files; 1 for information</dd>" in page
    assert "<td>changed</td><td>p</td><td>inboundTrust.isMfaAccepted differs</td>" in page
    assert "xtap 0.1.0" in page and "2026-12-01T10:00:00Z" in page


def test_each_value_says_where_it_comes_from() -> None:
    page = report_of(
        f"tenantId: {TID}\ndescription: d\nautomaticUserConsentSettings: {{inboundAllowed: true, outboundAllowed: false}}\n"
    )
    assert (
        "<tr><td><code>automaticUserConsentSettings.inboundAllowed</code></td><td>true</td>"
        "<td>policies/partners/p.yaml:3:32</td></tr>"
    ) in page
    assert (
        "<tr><td><code>inboundTrust.isMfaAccepted</code></td><td>false</td>"
        "<td>Microsoft&#x27;s service default (no default.yaml sets it)</td></tr>"
    ) in page
    assert (
        "<tr><td><code>identitySynchronization.userSyncInbound.isSyncAllowed</code></td><td>—</td><td>not set</td></tr>"
        in page
    )


# --- in a real browser ------------------------------------------------------------------------------------


def _chromium() -> None:
    if not browser.CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{browser.CHROMIUM} is missing: .ci/run installs Debian's chromium package")
        pytest.skip(f"{browser.CHROMIUM} is not installed (apt-get install -y chromium)")


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def test_the_example_tenants_report_in_headless_chromium(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _chromium()
    monkeypatch.chdir(REPO)
    out = tmp_path / "report.html"
    code, said, err = xtap(capsys, "report", "--out", str(out))
    assert (code, err) == (0, "")
    assert said.endswith(": 5 partners, 2 warnings, 2 notes\n")
    requests: list[str] = []
    problems: list[str] = []
    with browser.page() as tab:
        tab.on("request", lambda r: requests.append(r.url))
        tab.on(
            "console",
            lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None,
        )
        tab.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        tab.goto(out.as_uri())
        rows = tab.locator("#matrix tbody tr[data-partner]")
        assert rows.count() == len(EXAMPLE_PARTNERS)
        assert [rows.nth(i).locator("th").inner_text() for i in range(rows.count())] == EXAMPLE_PARTNERS
        assert tab.locator("#matrix thead th").count() == 1 + 8  # the partner column and every channel
        assert tab.locator("#matrix tbody tr.default-row").count() == 1
        assert tab.locator("article").count() == 1 + len(EXAMPLE_PARTNERS)
        shot = tmp_path / "report.png"
        tab.screenshot(path=str(shot))
        # Printed: A4 landscape less the margins is about 1040 CSS pixels wide; nothing may stick out.
        tab.emulate_media(media="print")
        tab.set_viewport_size({"width": 1040, "height": 800})
        assert tab.evaluate("document.documentElement.scrollWidth") <= 1040
        pdf = tab.pdf(format="A4", landscape=True)
    assert requests == [out.as_uri()]  # the file itself, and nothing else
    assert problems == []
    assert _png_size(shot) == (browser.VIEWPORT["width"], browser.VIEWPORT["height"])
    assert pdf.startswith(b"%PDF")


def test_the_readme_shows_the_committed_screenshot() -> None:
    assert "![" in (REPO / "README.md").read_text(encoding="utf-8").split("docs/img/report.png")[0][-200:]
    assert _png_size(REPO / "docs" / "img" / "report.png") == (
        browser.VIEWPORT["width"],
        browser.VIEWPORT["height"],
    )


# --- the command ---------------------------------------------------------------------------------------------


def test_report_live_reads_the_tenant_and_shows_its_drift(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from reconciler.emulator import Emulator, seeds
    from tests.support.e2e import use_emulator, writes

    with Emulator(seed="demo") as emu:
        use_emulator(monkeypatch, emu, app="reader")
        monkeypatch.chdir(tmp_path)
        (tmp_path / "policies" / "partners").mkdir(parents=True)
        code, out, err = xtap(capsys, "report", "--live", "--out", "report.html")
        assert (code, out) == (0, "wrote report.html: 4 partners, 1 error, 1 warning, 5 notes\n")
        assert err == "policies: warning: no policy files found\n"
        assert writes(emu) == []
    page = (tmp_path / "report.html").read_text()
    assert "From the tenant, as it is (--live)" in page
    assert re.findall(r'<tr data-partner="([^"]+)">', page) == sorted(
        [seeds.MTO, seeds.FABRIKAM, seeds.CONTOSO, seeds.UNMANAGED]
    )
    assert "<dt>Drift</dt><dd>3 items differing from the files; 1 for information</dd>" in page
    assert "the tenant&#x27;s default" in page


def test_report_refuses_bad_files_and_a_linked_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "policies" / "partners").mkdir(parents=True)
    (tmp_path / "policies" / "partners" / "p.yaml").write_text("tenantId: nope\n")
    code, out, err = xtap(capsys, "report", "--out", "report.html")
    assert (code, out) == (1, "")
    assert err.endswith("xtap: error: the policy files have 1 error; nothing was sent to Graph\n")
    assert not (tmp_path / "report.html").exists()
    (tmp_path / "policies" / "partners" / "p.yaml").write_text(f"tenantId: {TID}\n")
    (tmp_path / "report.html").symlink_to(tmp_path / "elsewhere")
    assert xtap(capsys, "report", "--out", "report.html") == (
        1,
        "",
        "xtap: error: cannot write report.html: it is a symbolic link (remove it, or write elsewhere)\n",
    )
    assert xtap(capsys, "report")[0] == 1  # --out is required
