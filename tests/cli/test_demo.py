from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.support import REPO
from tests.support.e2e import xtap


def test_demo_runs_the_whole_loop_and_restores_the_environment(
    capsys: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "the-callers-own-secret")
    monkeypatch.delenv("XTAP_GRAPH_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    code, out, err = xtap(capsys, "demo", "--policies", str(REPO / "policies"))
    assert code == 0, out + err
    steps = [line for line in out.splitlines() if line.startswith("==> ")]
    assert steps == [
        "==> [1/6] xtap validate",
        "==> [2/6] xtap plan --out plan.json",
        "==> [3/6] xtap apply plan.json --auto-approve",
        "==> [4/6] xtap plan",
        "==> [5/6] someone changes the tenant in the portal",
        "==> [6/6] xtap drift",
    ]
    step3 = out.split("==> [3/6]")[1].split("==> [4/6]")[0]
    # Apply names the plan shown in step 2 by its summary instead of printing it again.
    applied = re.findall(r"^(?:Applying|Apply|Verified).*$", step3, flags=re.M)
    assert applied[1:] == [
        "Apply complete: 7 applied, 0 failed.",
        "Verified: the tenant matches the policy files for everything applied.",
    ]
    assert re.fullmatch(
        rf"Applying the plan saved in {re.escape(tempfile.gettempdir())}/xtap-demo-\w+/plan\.json: "
        r"Plan: 5 to add, 2 to change, 0 to destroy\.",
        applied[0],
    )
    assert out.count("+ partner northwind") == 1
    assert "No changes. The tenant matches the policy files." in out
    assert "| <code>inboundTrust.isMfaAccepted</code> | <code>true</code> | <code>false</code> |" in out
    assert out.endswith(
        "xtap demo: every step behaved as expected.\n"
        "\n"
        "What next:\n"
        "  Try the files against an emulator of your own (`xtap demo --keep DIR` keeps the demo's): start\n"
        "  it in another terminal, from this folder,\n"
        "    xtap emulator --env-file ./emulator.env\n"
        "  then, in this one,\n"
        f"    set -a; . ./emulator.env; set +a; xtap plan {REPO / 'policies'}\n"
        "  shows the demo tenant as it was before step 3.\n"
        "  For your own tenant: docs/setup.md (app registrations, permissions, the GitHub workflows).\n"
    )
    assert os.environ["AZURE_CLIENT_SECRET"] == "the-callers-own-secret"
    assert "XTAP_GRAPH_URL" not in os.environ


def test_demo_keeps_its_folder_and_says_how_to_go_on(
    capsys: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = xtap(capsys, "demo", "--policies", str(REPO / "policies"), "--keep", "kept")
    assert code == 0, out + err
    kept = tmp_path / "kept"
    assert sorted(p.name for p in kept.iterdir()) == ["plan.json", "policies", "xtap.yaml"]
    assert sorted(p.name for p in (kept / "policies" / "partners").iterdir()) == sorted(
        p.name for p in (REPO / "policies" / "partners").iterdir()
    )
    assert "Applying the plan saved in kept/plan.json: Plan: 5 to add, 2 to change, 0 to destroy.\n" in out
    assert out.endswith(
        "What next:\n"
        f"  The demo's files are kept in {kept}.\n"
        "  Try them against an emulator of your own: start it in another terminal,\n"
        f"    xtap emulator --env-file {kept}/emulator.env\n"
        "  then, in this one,\n"
        f"    set -a; . {kept}/emulator.env; set +a; cd {kept} && xtap plan\n"
        "  shows the demo tenant as it was before step 3.\n"
        "  For your own tenant: docs/setup.md (app registrations, permissions, the GitHub workflows).\n"
    )


def test_demo_keep_refuses_a_folder_that_holds_anything(
    capsys: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me\n", encoding="utf-8")
    code, out, err = xtap(capsys, "demo", "--policies", str(REPO / "policies"), "--keep", "mine")
    assert (code, out) == (1, "")
    assert (
        err
        == "xtap: error: mine: not an empty folder; --keep needs a new or empty one (nothing is overwritten)\n"
    )
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["notes.txt"]


def test_demo_passes_its_verbosity_to_every_step(
    capsys: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = xtap(capsys, "demo", "--policies", str(REPO / "policies"), "-v")
    assert code == 0, out + err
    # -v lists each Graph request; the plan, apply, plan and drift steps each read the partners.
    assert (
        len(re.findall(r"^GET /v1.0/policies/crossTenantAccessPolicy/partners\S* 200 ", err, flags=re.M)) >= 4
    )


def test_demo_without_policies_is_a_clean_error(
    capsys: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = xtap(capsys, "demo")
    assert (code, out) == (1, "")
    assert err == (
        "xtap: error: policies: no partners/ folder here; run `xtap demo` from the xtap repository "
        "or pass --policies DIR\n"
    )
