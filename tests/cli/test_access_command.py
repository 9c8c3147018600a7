"""`xtap access`: one question answered from the files or the tenant, with the rule that decides (issue 16)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reconciler.emulator import Emulator
from tests.support import REPO
from tests.support.builders import ALL_APPS, CON, FAB
from tests.support.e2e import use_emulator, write_policies, xtap

GROUP = "6f546279-4da5-4b53-a095-09ea0cef9971"
USER = "0a9e8a2b-5e0e-4b0b-9d8c-1c2f3a4b5c6d"
APP = "1fec8e78-bce4-4aaf-ab1b-5451cc387264"
SCHEMA = json.loads((REPO / "schemas" / "access.schema.json").read_text(encoding="utf-8"))
PARTNER = {
    "tenantId": FAB,
    "b2bCollaborationInbound": {
        "usersAndGroups": {"accessType": "allowed", "targets": [{"target": GROUP, "targetType": "group"}]},
        "applications": ALL_APPS,
    },
    "b2bDirectConnectInbound": {
        "applications": {"accessType": "blocked", "targets": [{"target": APP, "targetType": "application"}]}
    },
}
DEFAULT = {
    "b2bDirectConnectInbound": {
        "usersAndGroups": {
            "accessType": "allowed",
            "targets": [{"target": "AllUsers", "targetType": "user"}],
        },
        "applications": ALL_APPS,
    }
}


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return write_policies(tmp_path, {"fabrikam": PARTNER}, DEFAULT)


def ask(capsys: Any, *args: str) -> dict[str, Any]:
    code, out, err = xtap(capsys, "access", "--format", "json", *args)
    assert (code, err) == (0, "")
    data: dict[str, Any] = json.loads(out)
    jsonschema.validate(data, SCHEMA)
    return data


def decisions(data: dict[str, Any]) -> dict[str, str]:
    return {f"{c['channel']} {c['direction']}": c["decision"] for c in data["channels"]}


def test_text_says_the_decision_and_the_rule_with_its_line(files: Path, capsys: Any) -> None:
    code, out, err = xtap(
        capsys, "access", "--tenant-id", FAB, "--group", GROUP, "--app", APP, "--direction", "inbound"
    )
    assert (code, err) == (0, "")
    assert out == (
        f"Access from tenant {FAB} (policies/partners/fabrikam.yaml), as the policy files have it\n"
        f"for a member of {GROUP}, to {APP}:\n"
        "\n"
        f"  B2B collaboration inbound: allowed — usersAndGroups allows {GROUP} — policies/partners/fabrikam.yaml:3:3\n"
        f"  B2B direct connect inbound: blocked — applications blocks {APP} — policies/partners/fabrikam.yaml:14:3\n"
        "  Microsoft 365 collaboration inbound: blocked — nobody sets this channel (neither the partner nor the "
        "default), so nobody gets in\n"
        "  app service connect inbound: blocked — nobody sets this channel (neither the partner nor the default), "
        "so nobody gets in\n"
        "\n"
        "Inbound trust: MFA no (service default, not in files); compliant device no (service default, not in "
        "files); hybrid joined device no (service default, not in files)\n"
        "Automatic consent: inbound no (service default, not in files); outbound no (service default, not in "
        "files)\n"
        "Identity sync inbound: no\n"
    )


def test_a_member_the_partner_leaves_out_is_inherited_from_default_yaml(files: Path, capsys: Any) -> None:
    data = ask(capsys, "--tenant-id", FAB, "--channel", "b2b-direct-connect", "--direction", "inbound")
    [channel] = data["channels"]
    assert channel["decision"] == "allowed"
    # usersAndGroups comes from default.yaml (the partner sets only applications), applications from the file.
    assert channel["usersAndGroups"]["origin"] == "default"
    assert channel["usersAndGroups"]["location"] == "policies/default.yaml:2:3"
    assert channel["applications"]["location"] == "policies/partners/fabrikam.yaml:14:3"


def test_a_tenant_without_a_partner_file_gets_the_default(files: Path, capsys: Any) -> None:
    data = ask(capsys, "--tenant-id", CON, "--user", USER)
    assert data["partnerFile"] is None
    assert decisions(data) == {
        "b2b-collaboration inbound": "allowed",
        "b2b-collaboration outbound": "allowed",
        "b2b-direct-connect inbound": "allowed",
        "b2b-direct-connect outbound": "blocked",
        "tenant-restrictions outbound": "blocked",
        "m365-collaboration inbound": "blocked",
        "m365-collaboration outbound": "blocked",
        "app-service-connect inbound": "blocked",
    }
    inbound = next(
        c for c in data["channels"] if c["channel"] == "b2b-collaboration" and c["direction"] == "inbound"
    )
    assert (inbound["source"], inbound["location"]) == ("default", "service default, not in files")


@pytest.mark.parametrize(
    "args, message",
    [
        (("--tenant-id", "fabrikam"), "xtap: error: --tenant-id must be a GUID, got 'fabrikam'\n"),
        (("--tenant-id", FAB, "--group", "g1"), "xtap: error: --group must be a GUID, got 'g1'\n"),
        (
            ("--tenant-id", FAB, "--channel", "app-service-connect", "--direction", "outbound"),
            "xtap: error: app-service-connect has no outbound direction\n",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_1(
    files: Path, capsys: Any, args: tuple[str, ...], message: str
) -> None:
    assert xtap(capsys, "access", *args) == (1, "", message)


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch, files: Path) -> Iterator[Emulator]:
    with Emulator(seed="empty") as emulator:
        use_emulator(monkeypatch, emulator)
        yield emulator


@pytest.mark.parametrize(
    "principal",
    [(), ("--group", GROUP), ("--user", USER), ("--user", USER, "--group", GROUP)],
    ids=["anyone", "group", "user", "user-in-group"],
)
@pytest.mark.parametrize(
    "app", [(), ("--app", APP), ("--app", "Office365")], ids=["any-app", "app", "office"]
)
def test_the_files_and_the_tenant_agree_once_applied(
    emu: Emulator, capsys: Any, principal: tuple[str, ...], app: tuple[str, ...]
) -> None:
    # The emulator starts from Microsoft's service default, which is what the files fall back to.
    assert xtap(capsys, "apply", "--auto-approve")[0] == 0
    for tenant in (FAB, CON):
        from_files = ask(capsys, "--tenant-id", tenant, *principal, *app)
        live = ask(capsys, "--tenant-id", tenant, "--live", *principal, *app)
        assert decisions(live) == decisions(from_files)
        assert [c["source"] for c in live["channels"]] == [c["source"] for c in from_files["channels"]]
