"""Coverage-guided fuzzing of the policy-file loader with atheris (libFuzzer). Not part of the test suite.

hypothesis (tests/test_fuzz.py) draws inputs from strategies; atheris instead mutates a corpus towards
new branches of the Python code (the composer in loader.py, schema.py, rules.py), which finds inputs
no strategy describes. Any exception escaping `check` is a bug: bad input must give diagnostics.

    python3 -m venv /tmp/atheris && /tmp/atheris/bin/pip install atheris pyyaml
    PYTHONPATH=src /tmp/atheris/bin/python bench/fuzz_loader_atheris.py -max_total_time=60 \
        -max_len=4096 /tmp/xtap-corpus tests/data/invalid/partner policies/partners

The first corpus folder receives new interesting inputs; the others seed it. A crash writes
`crash-<sha1>` with the input; re-run the script with that file as its only argument to reproduce.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from reconciler.core import rules, schema
    from reconciler.core.documents import parse_yaml


def check(raw: bytes) -> None:
    """parse_yaml, then the schema and semantic rules of a partner and of a default file."""
    doc, diagnostics = parse_yaml(raw, "f")
    for d in diagnostics:
        if d.severity != "error" or d.line < 1 or d.col < 1:
            raise AssertionError(f"badly located diagnostic: {d}")
    if doc is None:
        return
    for problem in schema.check("partner", doc.data) + rules.check_partner(doc.data):
        doc.diagnostic(problem)
    for problem in schema.check("default", doc.data) + rules.check_default(doc.data):
        doc.diagnostic(problem)


def main() -> None:
    atheris.Setup(sys.argv, check)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
