"""A local Microsoft Graph and identity platform for xtap's tests, demo and benchmarks.

Shares nothing with the client but the public API shapes (`reconciler.metadata`, Graph's CSDL).
See docs/emulator.md for every switch, fault, seed and the choices made where Graph is undocumented.
"""

from __future__ import annotations

from reconciler.emulator.config import App, FaultRule, Faults, FederatedCredential, JournalEntry, Quirks
from reconciler.emulator.server import Emulator

__all__ = ["App", "Emulator", "FaultRule", "Faults", "FederatedCredential", "JournalEntry", "Quirks"]
