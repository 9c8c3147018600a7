"""The plan comment as a reviewer sees it: a pull request's plan, through the steps of the plan workflow
(`xtap plan --out`, `xtap lint`, `xtap github plan-comment`) against the emulator, rendered as GitHub
renders a comment (tests/support/comment_png.py) in headless Chromium, and read as a person would."""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import REPO, browser, comment_png
from tests.support.builders import MTO
from tests.support.comment_png import PullRequest

TAILSPIN = "7b3c5e2a-1d4f-4a6b-8c9d-0e1f2a3b4c5d"
FABRIKAM = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
SHOT = REPO / "docs" / "img" / "plan-comment.png"


@pytest.fixture(scope="module")
def pull_request() -> PullRequest:
    return comment_png.pull_request_comment()


@pytest.fixture
def tab(tmp_path: Path, pull_request: PullRequest) -> Iterator[Any]:
    if not browser.CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{browser.CHROMIUM} is missing: .ci/run installs Debian's chromium package")
        pytest.skip(f"{browser.CHROMIUM} is not installed (apt-get install -y chromium)")
    with browser.page() as page:
        comment_png.show(page, pull_request.comment, tmp_path)
        yield page


def texts(tab: Any, selector: str) -> list[str]:
    found: list[str] = tab.locator(selector).all_inner_texts()
    return [" ".join(t.split()) for t in found]


def summaries(pull_request: PullRequest, impact: str) -> list[str]:
    return [e["summary"] for c in pull_request.plan["changes"] for e in c["effects"] if e["impact"] == impact]


def test_no_markdown_or_markup_shows_as_text(tab: Any) -> None:
    seen = tab.inner_text("article")
    for raw in ("**", "`", "|---", "[!", "####", "```", "<code>", "<details", "&lt;", "&#", "&amp;"):
        assert raw not in seen, raw
    assert re.search(r"(^|\s)_\S|\S_(\s|$)", seen) is None  # an emphasis left as underscores


def test_the_risk_comes_first_the_alerts_are_alerts(tab: Any, pull_request: PullRequest) -> None:
    assert texts(tab, "article > *:nth-child(-n+3)")[:2] == [
        "xtap plan — tenant prod",
        "Plan: 1 to add, 1 to change, 1 to destroy.",
    ]
    assert texts(tab, ".markdown-alert-caution") == [
        f"Caution This plan deletes 1 resource(s): partner Tailspin Toys ({TAILSPIN})"
    ]
    # Who gains access, under GitHub's warning; who loses it, in the list after it: the plan's effects.
    assert texts(tab, ".markdown-alert-warning li") == summaries(pull_request, "widens") != []
    narrows = tab.locator("p:has-text('Narrows access:') + ul li").all_inner_texts()
    assert narrows == summaries(pull_request, "narrows") != []
    assert texts(tab, ".markdown-alert-warning li strong") == ["adatum", "fabrikam", "Tailspin Toys"]
    # The alert boxes come before the first change.
    boxes = tab.evaluate(
        "[...document.querySelectorAll('.markdown-alert, h4')].map(e => e.tagName + ':' + e.className)"
    )
    assert boxes[:3] == [
        "DIV:markdown-alert markdown-alert-caution",
        "H4:",
        "DIV:markdown-alert markdown-alert-warning",
    ]


def test_each_change_is_headed_by_its_name_and_shows_a_coloured_diff(tab: Any) -> None:
    assert texts(tab, "h4") == [
        "Access changes",
        "+ create partner adatum (2f6a8c1e-4b3d-4e5f-9a7b-1c2d3e4f5a6b) — 7 values",
        f"~ update partner fabrikam ({FABRIKAM}) — 6 values",
        f"- delete partner Tailspin Toys ({TAILSPIN}) — 6 values",
        "Unmanaged — not changed by this plan",
        "Posture (xtap lint)",
    ]
    assert texts(tab, "h4 code") == ["+", "~", "-", "xtap lint"]
    assert texts(tab, "h4 + p > em") == [
        "Adatum — pilot project, ticket SEC-1610",
        "Fabrikam — joint venture, ticket SEC-1234",
    ]
    assert tab.locator(".highlight-source-diff").count() == 3
    deleted, inserted = tab.locator(".pl-md"), tab.locator(".pl-mi1")
    assert (deleted.count(), inserted.count()) == (6 + 6, 7 + 6)
    style = "e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]"
    assert deleted.first.evaluate(style) == ["rgb(130, 7, 30)", "rgb(255, 235, 233)"]
    assert inserted.first.evaluate(style) == ["rgb(17, 99, 41)", "rgb(218, 251, 225)"]
    assert inserted.nth(7).inner_text() == (
        "+ b2bCollaborationInbound.applications.targets: [Office365 (application)]"
    )
    assert texts(tab, "h4:has-text('Unmanaged') + ul li") == [
        f"? unmanaged partner {MTO}: never deleted (a multitenant organization member, "
        "isInMultiTenantOrganization)"
    ]
    assert tab.locator("a").evaluate_all("all => all.map(a => [a.innerText, a.href])") == [
        ["Run log and full plan", comment_png.RUN_URL]
    ]


def test_everything_is_visible_without_a_click(tab: Any) -> None:
    """Each change's values are a visible diff block: no `<details>` to open, no table (a table GitHub
    failed to parse would show its pipes as text)."""
    assert (tab.locator("details").count(), tab.locator("table").count()) == (0, 0)
    assert tab.locator("p, li").evaluate_all("all => all.filter(e => e.innerText.includes('|')).length") == 0


def test_nothing_is_wider_than_the_comment(tab: Any) -> None:
    assert tab.evaluate("document.documentElement.scrollWidth") <= browser.VIEWPORT["width"]
    article = tab.locator("article")
    assert article.evaluate("a => a.scrollWidth <= a.clientWidth")
    # A diff line cut off at the right edge hides the value a reviewer must read.
    assert (
        tab.locator("pre").evaluate_all("all => all.filter(p => p.scrollWidth > p.clientWidth).length") == 0
    )


def test_the_readme_shows_the_committed_screenshot() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "](docs/img/plan-comment.png)" in readme
    head = SHOT.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", head[16:24])[0] == comment_png.WIDTH
    assert SHOT.stat().st_size < 400_000
