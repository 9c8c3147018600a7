from __future__ import annotations

import sys
from pathlib import Path

# Test modules import shared fixtures from each other (e.g. `from test_planner import fresh`).
sys.path.insert(0, str(Path(__file__).parent))
