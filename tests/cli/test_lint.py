"""`xtap lint`: every format, --out by extension, --fail-on and its exit codes, suppressions, bad input,
and --live against the emulator (issue 17)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reconciler.cli.main import main
from reconciler.emulator import Emulator, seeds
from tests.support import REPO
from tests.support.e2e import graph_calls, use_emulator, writes, xtap

SCHEMA = json.loads((REPO / "schemas" / "lint.schema.json").read_text(encoding="utf-8"))
TID = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
EXAMPLE_TEXT = (
    "policies/default.yaml:4:1: note: the default lets every user of every tenant without a partner configuration "
    "reach every application by B2B collaboration inbound [XTAP001]\n"
    "policies/default.yaml:7:1: note: the default lets every one of your users reach every application of every "
    "tenant without a partner configuration by B2B collaboration outbound [XTAP006]\n"
    "policies/partners/contoso.yaml:8:3: warning: contoso: compliant device claims are trusted for all of its "
    "users: B2B direct connect inbound lets in any of them, not only the users and groups it names [XTAP007]\n"
    "policies/partners/fabrikam.yaml:10:3: warning: fabrikam: compliant device and hybrid joined device claims are "
    "trusted for all of its users: B2B collaboration inbound lets in any of them, not only the users and groups "
    "it names [XTAP007]\n"
    "2 warnings, 2 notes\n"
)
DIRECT_CONNECT = (
    f"tenantId: {TID}\n"
    "description: Teams shared channels\n"
    "b2bDirectConnectInbound:\n"
    "  usersAndGroups: {accessType: allowed, targets: [{target: AllUsers, targetType: user}]}\n"
    "  applications: {accessType: allowed, targets: [{target: Office365, targetType: application}]}\n"
)
CLOSED = (
    "  usersAndGroups: {accessType: blocked, targets: [{target: AllUsers, targetType: user}]}\n"
    "  applications: {accessType: blocked, targets: [{target: AllApplications, targetType: application}]}\n"
)


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tenant whose default is closed both ways, with one partner open to direct connect."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "policies" / "partners").mkdir(parents=True)
    (tmp_path / "policies" / "default.yaml").write_text(
        f"b2bCollaborationInbound:\n{CLOSED}b2bCollaborationOutbound:\n{CLOSED}"
    )
    (tmp_path / "policies" / "partners" / "p.yaml").write_text(DIRECT_CONNECT)
    return tmp_path


def test_text_on_the_example_tenant(example: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert xtap(capsys, "lint") == (0, EXAMPLE_TEXT, "")


@pytest.mark.parametrize("fail_on, code", [("error", 0), ("warning", 2), ("note", 2)])
def test_fail_on_sets_the_threshold_of_exit_2(
    example: None, capsys: pytest.CaptureFixture[str], fail_on: str, code: int
) -> None:
    assert xtap(capsys, "lint", "--fail-on", fail_on)[0] == code


def test_a_suppressed_finding_never_fails_and_shows_with_v(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    warning = (
        "policies/partners/p.yaml:3:1: warning: p: B2B direct connect inbound lets users in, but their MFA is not "
        "trusted (inboundTrust.isMfaAccepted is false): they cannot satisfy a Conditional Access policy that "
        "requires MFA [XTAP002]"
    )
    assert xtap(capsys, "lint", "--fail-on", "warning") == (2, f"{warning}\n1 warning\n", "")
    file = folder / "policies" / "partners" / "p.yaml"
    file.write_text(DIRECT_CONNECT + "lintIgnore: [{rule: XTAP002, reason: MFA enforced there}]\n")
    assert xtap(capsys, "lint", "--fail-on", "warning") == (0, "no findings (1 suppressed)\n", "")
    assert xtap(capsys, "lint", "-v", "--fail-on", "warning") == (
        0,
        f"{warning} (suppressed: MFA enforced there)\nno findings (1 suppressed)\n",
        "",
    )
    file.write_text(DIRECT_CONNECT)
    (folder / "xtap.yaml").write_text("lint:\n  disable: [XTAP002]\n")
    assert xtap(capsys, "lint", "--fail-on", "note") == (0, "no findings (1 suppressed)\n", "")


def test_json_follows_its_schema_and_keeps_suppressed_findings(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (folder / "policies" / "partners" / "p.yaml").write_text(
        DIRECT_CONNECT + "lintIgnore: [{rule: XTAP002, reason: MFA enforced there}]\n"
    )
    code, out, err = xtap(capsys, "lint", "--format", "json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    jsonschema.validate(data, SCHEMA)
    assert data["summary"] == {"error": 0, "warning": 0, "note": 0, "suppressed": 1}
    [finding] = data["findings"]
    assert {k: finding[k] for k in ("ruleId", "level", "subject", "setting", "location", "suppressed")} == {
        "ruleId": "XTAP002",
        "level": "warning",
        "subject": TID,
        "setting": "b2bDirectConnectInbound",
        "location": {"path": "policies/partners/p.yaml", "line": 3, "col": 1},
        "suppressed": True,
    }
    assert finding["suppression"] == {
        "kind": "file",
        "reason": "MFA enforced there",
        "location": {"path": "policies/partners/p.yaml", "line": 6, "col": 14},
    }
    assert [r["id"] for r in data["rules"]] == [f"XTAP{n:03d}" for n in range(1, 11)]


def test_github_annotations_pass_the_command_guard(example: None, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    code = main(["lint", "--format", "github"], env={"GITHUB_ACTIONS": "true"})
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines() == [
        "::notice file=policies/default.yaml,line=4,col=1,title=XTAP001 default-inbound-open::the default lets "
        "every user of every tenant without a partner configuration reach every application by B2B collaboration inbound",
        "::notice file=policies/default.yaml,line=7,col=1,title=XTAP006 default-outbound-open::the default lets "
        "every one of your users reach every application of every tenant without a partner configuration by B2B "
        "collaboration outbound",
        "::warning file=policies/partners/contoso.yaml,line=8,col=3,title=XTAP007 device-trust-open-to-all-users::"
        "contoso: compliant device claims are trusted for all of its users: B2B direct connect inbound lets in any "
        "of them, not only the users and groups it names",
        "::warning file=policies/partners/fabrikam.yaml,line=10,col=3,title=XTAP007 device-trust-open-to-all-users::"
        "fabrikam: compliant device and hybrid joined device claims are trusted for all of its users: B2B "
        "collaboration inbound lets in any of them, not only the users and groups it names",
        "2 warnings, 2 notes",
    ]


def test_a_description_cannot_forge_a_workflow_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "policies" / "partners").mkdir(parents=True)
    (tmp_path / "policies" / "partners" / "x%0A::error::pwned.yaml").write_text(
        f"tenantId: {TID}\nb2bDirectConnectOutbound:\n{CLOSED.replace('blocked', 'allowed')}"
    )
    capsys.readouterr()
    assert main(["lint", "--format", "github"], env={"GITHUB_ACTIONS": "true"}) == 0
    lines = capsys.readouterr().out.splitlines()
    partner = [line for line in lines if "XTAP005" in line]
    assert partner == [
        "::notice file=policies/partners/x%250A%3A%3Aerror%3A%3Apwned.yaml,line=1,col=1,title=XTAP005 "
        "wider-than-default-without-description::x%250A::error::pwned: lets more in than the default "
        "(b2b-direct-connect outbound) and its file has no description saying why"
    ]


def test_out_writes_each_file_in_the_format_of_its_extension(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = xtap(
        capsys, "lint", "--out", "lint.sarif", "--out", "lint.json", "--out", "lint.txt", "--out", "other"
    )
    assert (code, err) == (0, "")
    assert out.endswith("1 warning\n")
    assert json.loads((folder / "lint.sarif").read_text())["version"] == "2.1.0"
    assert json.loads((folder / "lint.json").read_text())["format_version"] == 1
    assert (folder / "lint.txt").read_text() == out
    assert (folder / "other").read_text() == out  # no known extension: --format (text)


def test_bad_input_is_one_located_message_and_exit_1(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (folder / "policies" / "partners" / "p.yaml").write_text(
        DIRECT_CONNECT + "lintIgnore: [{rule: XTAP002}]\n"
    )
    assert xtap(capsys, "lint") == (
        1,
        "",
        "policies/partners/p.yaml:6:14: error: missing required property 'reason'\n"
        "xtap: error: the policy files have 1 error; nothing was sent to Graph\n",
    )
    (folder / "policies" / "partners" / "p.yaml").write_text(DIRECT_CONNECT)
    (folder / "elsewhere").write_text("keep")
    (folder / "lint.sarif").symlink_to(folder / "elsewhere")
    assert xtap(capsys, "lint", "--out", "lint.sarif")[0::2] == (
        1,
        "xtap: error: cannot write lint.sarif: it is a symbolic link (remove it, or write elsewhere)\n",
    )
    assert (folder / "elsewhere").read_text() == "keep"
    assert xtap(capsys, "lint", "--fail-on", "warn")[0] == 1


def test_live_lints_the_tenant_with_reads_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with Emulator(seed="demo") as emu:
        use_emulator(monkeypatch, emu, app="reader")
        monkeypatch.chdir(tmp_path)
        (tmp_path / "policies" / "partners").mkdir(parents=True)
        code, out, err = xtap(capsys, "lint", "--live", "--format", "json")
        # The demo's MTO partner sets only direct connect's applications, allowed: with usersAndGroups
        # blocked for AllUsers from the default, nobody gets in (an error, so exit 2).
        assert (code, err) == (2, "policies: warning: no policy files found\n")
        data: dict[str, Any] = json.loads(out)
        jsonschema.validate(data, SCHEMA)
        assert data["source"] == "live"
        assert [(f["ruleId"], f["subject"], f["where"]) for f in data["findings"]] == [
            ("XTAP001", "default", "the tenant's default"),
            ("XTAP006", "default", "the tenant's default"),
            ("XTAP005", seeds.MTO, "the partner's setting in the tenant"),
            ("XTAP009", seeds.MTO, "the partner's setting in the tenant"),
            ("XTAP005", seeds.CONTOSO, "the partner's setting in the tenant"),
            ("XTAP007", seeds.CONTOSO, "the partner's setting in the tenant"),
            ("XTAP005", seeds.UNMANAGED, "the partner's setting in the tenant"),
        ]
        assert {f["location"] is None for f in data["findings"]} == {True}
        assert writes(emu) == []
        assert {call.method for call in graph_calls(emu)} == {"GET"}
