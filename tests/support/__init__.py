"""Shared test support: builders, strategies, the e2e harness, sign-in stand-ins, the fake Actions runner."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
