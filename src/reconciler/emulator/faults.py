"""Fault injection: one-shot rules, random 5xx and drops, the write-quota window, rejected partners."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass

from reconciler.emulator.config import FaultRule, Faults


@dataclass(frozen=True)
class Rejection:
    status: int
    code: str
    message: str


def _matches(rule: FaultRule, method: str, path: str, outer: bool) -> bool:
    if rule.method is not None and rule.method.upper() != method.upper():
        return False
    if rule.path_contains is not None and rule.path_contains not in path:
        return False
    if rule.batch:  # a whole $batch only
        return outer and method.upper() == "POST" and path.rstrip("/").lower().endswith("/$batch")
    return True


class FaultEngine:
    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._lock = threading.Lock()
        self._rules: list[list[object]] = []  # [rule, remaining]
        self._rejections: dict[str, Rejection] = {}
        self._rng = random.Random(faults.rng_seed)
        self._rng_seed = faults.rng_seed
        self._windows: dict[str, tuple[float, int]] = {}  # client id -> (window start, writes in it)

    def add_rule(self, rule: FaultRule) -> None:
        with self._lock:
            self._rules.append([rule, rule.times])

    def take_rule(self, method: str, path: str, outer: bool = True) -> FaultRule | None:
        """The first rule matching this request (`outer`: not a `$batch` sub-request), consuming one use."""
        with self._lock:
            for entry in self._rules:
                rule, remaining = entry
                assert isinstance(rule, FaultRule) and isinstance(remaining, int)
                if remaining <= 0 or not _matches(rule, method, path, outer):
                    continue
                entry[1] = remaining - 1
                return rule
        return None

    def _random(self) -> float:
        if self._rng_seed != self.faults.rng_seed:
            self._rng = random.Random(self.faults.rng_seed)
            self._rng_seed = self.faults.rng_seed
        return self._rng.random()

    def random_drop(self) -> bool:
        if self.faults.drop_rate <= 0:
            return False
        with self._lock:
            return self._random() < self.faults.drop_rate

    def random_error(self) -> int | None:
        if self.faults.error_rate <= 0:
            return None
        with self._lock:
            if self._random() >= self.faults.error_rate:
                return None
            return 503 if self._random() < 0.5 else 504

    def take_write(self, client_id: str) -> bool:
        """Count one write against the caller's quota window; False when the quota is used up."""
        quota = self.faults.write_quota
        if quota is None:
            return True
        now = time.monotonic()
        with self._lock:
            start, count = self._windows.get(client_id, (now, 0))
            if now - start >= self.faults.write_window_s:
                start, count = now, 0
            if count >= quota:
                self._windows[client_id] = (start, count)
                return False
            self._windows[client_id] = (start, count + 1)
            return True

    def reject_writes(self, tid: str, rejection: Rejection | None) -> None:
        with self._lock:
            if rejection is None:
                self._rejections.pop(tid.lower(), None)
            else:
                self._rejections[tid.lower()] = rejection

    def rejection(self, tid: str) -> Rejection | None:
        with self._lock:
            return self._rejections.get(tid.lower())
