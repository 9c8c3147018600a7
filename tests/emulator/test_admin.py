"""`xtap emulator set` / `delete`: portal changes in a running emulator over its HTTPS port, authenticated by
the admin secret of its env file. The CLI runs in-process against an in-process emulator here; the
subprocess version (`source`d env file, SIGINT/SIGTERM) is in test_command.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.cli.commands.emulator import env_values
from reconciler.cli.main import main
from reconciler.emulator import Emulator, envfile
from tests.support.emulator import CONTOSO, FABRIKAM, WOODGROVE

Run = tuple[int, str, str]


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(seed="demo") as emu:
        SECRETS.append(emu.admin_secret)
        yield emu


SECRETS: list[str] = []  # every admin secret of this module's emulators: never in any output


def _xtap(capsys: pytest.CaptureFixture[str], env: dict[str, str], *args: str) -> Run:
    capsys.readouterr()
    code = main(["emulator", *args], env)
    out, err = capsys.readouterr()
    assert not [secret for secret in SECRETS if secret in out + err]
    return code, out, err


@pytest.fixture
def xtap(emu: Emulator, capsys: pytest.CaptureFixture[str]) -> Iterator[object]:
    env = env_values(emu)

    def run(*args: str) -> Run:
        return _xtap(capsys, env, *args)

    yield run


def test_set_a_partner_member(emu: Emulator, xtap: object) -> None:
    assert callable(xtap)
    assert xtap("set", FABRIKAM.upper(), "inboundTrust.isMfaAccepted", "true") == (
        0,
        f"partner {FABRIKAM}: set inboundTrust.isMfaAccepted\n",
        "",
    )
    assert (emu.get_partner(FABRIKAM) or {})["inboundTrust"] == {
        "isMfaAccepted": True,
        "isCompliantDeviceAccepted": False,
        "isHybridAzureADJoinedDeviceAccepted": False,
    }
    assert [e.path for e in emu.journal] == []  # a portal change, not a Graph request


def test_set_whole_objects_nulls_and_new_partners(emu: Emulator, xtap: object) -> None:
    assert callable(xtap)
    value = "{usersAndGroups: {accessType: blocked, targets: [{target: AllUsers, targetType: user}]}}"
    assert xtap("set", WOODGROVE, "b2bDirectConnectOutbound", value)[:2] == (
        0,
        f"partner {WOODGROVE}: set b2bDirectConnectOutbound (new partner)\n",
    )
    created = emu.get_partner(WOODGROVE) or {}
    assert created["b2bDirectConnectOutbound"] == {
        "usersAndGroups": {"accessType": "blocked", "targets": [{"target": "AllUsers", "targetType": "user"}]}
    }
    assert (created["isInMultiTenantOrganization"], created["isServiceProvider"]) == (False, None)
    assert xtap("set", FABRIKAM, "b2bCollaborationInbound", "null")[0] == 0
    assert (emu.get_partner(FABRIKAM) or {})["b2bCollaborationInbound"] is None


def test_set_the_default_the_policy_and_a_sync_policy(emu: Emulator, xtap: object) -> None:
    assert callable(xtap)
    assert xtap("set", "default", "b2bCollaborationOutbound.usersAndGroups.accessType", "blocked") == (
        0,
        "default: set b2bCollaborationOutbound.usersAndGroups.accessType\n",
        "",
    )
    default = emu.get_default()
    assert default["b2bCollaborationOutbound"]["usersAndGroups"]["accessType"] == "blocked"
    assert default["isServiceDefault"] is False
    assert xtap("set", "policy", "allowedCloudEndpoints", '["microsoftonline.us"]')[1] == (
        "policy: set allowedCloudEndpoints\n"
    )
    assert emu.get_policy()["allowedCloudEndpoints"] == ["microsoftonline.us"]
    assert xtap("set", CONTOSO, "identitySynchronization.userSyncInbound.isSyncAllowed", "false")[0] == 0
    assert (emu.get_sync(CONTOSO) or {})["userSyncInbound"] == {"isSyncAllowed": False}
    assert xtap("set", FABRIKAM, "identitySynchronization.displayName", "Fabrikam sync")[0] == 0
    assert (emu.get_sync(FABRIKAM) or {})["displayName"] == "Fabrikam sync"


def test_allow_unknown_sets_a_member_v1_does_not_know(emu: Emulator, xtap: object) -> None:
    assert callable(xtap)
    args = ("set", FABRIKAM, "inboundTrust.isCompliantNetworkAccepted", "true")
    code, out, err = xtap(*args)
    assert (code, out) == (1, "")
    assert err == (
        "xtap: error: emulator set: 'inboundTrust.isCompliantNetworkAccepted': the v1.0 metadata has no member "
        "'isCompliantNetworkAccepted' on crossTenantAccessPolicyInboundTrust (--allow-unknown sets it anyway, "
        "as a member Graph returns but v1.0 does not know)\n"
    )
    assert xtap(*args, "--allow-unknown")[0] == 0
    assert (emu.get_partner(FABRIKAM) or {})["inboundTrust"]["isCompliantNetworkAccepted"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            (FABRIKAM, "inboundTrust.isMfaAccepted", "yes please"),
            "'inboundTrust.isMfaAccepted': Cannot convert the literal 'yes please' to the expected type "
            "'Edm.Boolean'.",
        ),
        (
            (FABRIKAM, "b2bCollaborationInbound.usersAndGroups.targets.target", "AllUsers"),
            "'b2bCollaborationInbound.usersAndGroups.targets' is not an object: it has no member 'target'",
        ),
        (
            ("fabrikam", "inboundTrust", "null"),
            "PARTNER_OR_DEFAULT must be a tenant id (GUID), 'default' or 'policy', got 'fabrikam'",
        ),
        ((FABRIKAM, "tenantId", WOODGROVE), "tenantId is the partner's key and cannot be set"),
        (
            (FABRIKAM, "inboundTrust..isMfaAccepted", "true"),
            "PROPERTY must be a dotted path like inboundTrust.isMfaAccepted, got 'inboundTrust..isMfaAccepted'",
        ),
        (("default", "inboundTrust.isMfaAccepted", "[unclosed"), "VALUE must be YAML or JSON data: "),
    ],
    ids=["type", "through-a-collection", "target", "key", "path", "yaml"],
)
def test_set_errors_are_one_line_and_change_nothing(
    emu: Emulator, xtap: object, args: tuple[str, ...], message: str
) -> None:
    assert callable(xtap)
    before = emu.state()
    code, out, err = xtap("set", *args)
    assert (code, out) == (1, "")
    assert err.startswith(f"xtap: error: emulator set: {message}") and err.count("\n") == 1
    assert emu.state() == before


def test_delete(emu: Emulator, xtap: object) -> None:
    assert callable(xtap)
    assert xtap("delete", CONTOSO, "--sync") == (
        0,
        f"partner {CONTOSO}: deleted its identitySynchronization policy\n",
        "",
    )
    assert emu.get_sync(CONTOSO) is None and emu.get_partner(CONTOSO) is not None
    assert xtap("delete", CONTOSO, "--sync") == (
        1,
        "",
        f"xtap: error: emulator delete: partner {CONTOSO} has no identitySynchronization policy\n",
    )
    assert xtap("delete", CONTOSO)[1] == f"deleted partner {CONTOSO}\n"
    assert xtap("delete", CONTOSO)[2] == f"xtap: error: emulator delete: there is no partner {CONTOSO}\n"
    emu.set_sync(FABRIKAM, {"displayName": "F"})
    assert (
        xtap("delete", FABRIKAM)[1] == f"deleted partner {FABRIKAM} and its identitySynchronization policy\n"
    )
    assert emu.get_partner(FABRIKAM) is None and emu.get_sync(FABRIKAM) is None


def test_env_file_instead_of_the_environment(
    emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env_file = tmp_path / "emu.env"
    envfile.write(env_file, env_values(emu))
    code, out, _ = _xtap(
        capsys, {}, "set", FABRIKAM, "isServiceProvider", "true", "--env-file", str(env_file)
    )
    assert (code, out) == (0, f"partner {FABRIKAM}: set isServiceProvider\n")
    code, out, _ = _xtap(capsys, {}, "--env-file", str(env_file), "delete", FABRIKAM)
    assert (code, out) == (0, f"deleted partner {FABRIKAM}\n")


def test_where_the_admin_commands_refuse_to_go(
    emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = env_values(emu)
    args = ("set", FABRIKAM, "isServiceProvider", "true")
    assert _xtap(capsys, {}, *args) == (
        1,
        "",
        "xtap: error: emulator set: no XTAP_GRAPH_URL, SSL_CERT_FILE, XTAP_EMULATOR_ADMIN_SECRET in the "
        "environment: `source` the file that `xtap emulator --env-file FILE` wrote, or pass --env-file FILE\n",
    )
    real = {**env, "XTAP_GRAPH_URL": "https://graph.microsoft.com"}
    assert _xtap(capsys, real, *args)[2] == (
        "xtap: error: emulator set: XTAP_GRAPH_URL https://graph.microsoft.com is not a loopback address; "
        "set and delete talk to a local `xtap emulator` only\n"
    )
    wrong = {**env, "XTAP_EMULATOR_ADMIN_SECRET": "not-the-secret"}
    assert _xtap(capsys, wrong, *args)[2] == (
        "xtap: error: emulator set: missing or wrong admin secret (the emulator's XTAP_EMULATOR_ADMIN_SECRET)\n"
    )
    missing = tmp_path / "missing.env"
    code, _, err = _xtap(capsys, {}, *args, "--env-file", str(missing))
    assert (code, err.startswith(f"xtap: error: emulator set: cannot read env file {missing}: ")) == (1, True)
    assert (emu.get_partner(FABRIKAM) or {})["isServiceProvider"] is None


def test_an_emulator_that_is_not_running(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ca = tmp_path / "ca.pem"
    with Emulator(seed="empty") as emu:
        env = env_values(emu)
        ca.write_bytes(emu.ca_file.read_bytes())  # removed on stop; a copy gets the client to the connect
    env["SSL_CERT_FILE"] = str(ca)
    code, out, err = _xtap(capsys, env, "delete", FABRIKAM)
    assert (code, out) == (1, "")
    assert err.startswith(
        f"xtap: error: emulator delete: cannot reach the emulator at {env['XTAP_GRAPH_URL']} ("
    )
