"""Retry-After parsing and the backoff schedule."""

from __future__ import annotations

import pytest

from reconciler.shell.graph.retry import RetryBudget, RetryPolicy, http_date, parse_retry_after

NOW = 1_790_000_000.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5", 5.0),
        (" 12 ", 12.0),
        ("0", 0.0),
        ("1.5", 1.5),
        (http_date(NOW + 42), 42.0),
        (http_date(NOW - 42), 0.0),  # a date in the past: go now
        (None, None),
        ("", None),
        ("-3", None),
        ("soon", None),
        ("nan", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


def test_backoff_doubles_from_the_base_up_to_the_cap() -> None:
    policy = RetryPolicy(base_delay=1.5, max_delay=10, jitter=0)
    assert [policy.backoff(n) for n in range(1, 6)] == [1.5, 3.0, 6.0, 10.0, 10.0]


def test_budget_is_spent_until_a_wait_does_not_fit() -> None:
    budget = RetryBudget(5)
    assert budget.spend(3)
    assert not budget.spend(2.5)
    assert budget.spend(2)
    assert budget.left == 0
