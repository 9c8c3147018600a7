"""One YAML file → located data (core.documents): positions, the YAML subset, and what it refuses."""

from __future__ import annotations

import pytest

from reconciler.core.documents import parse_yaml


def test_positions_of_keys_and_values() -> None:
    doc, diagnostics = parse_yaml(
        b"tenantId: x\ninboundTrust:\n  isMfaAccepted: true\nlist: [a, {b: 1}]\n", "f"
    )
    assert diagnostics == []
    assert doc is not None
    assert doc.positions[("tenantId",)] == ((1, 1), (1, 11))
    assert doc.positions[("inboundTrust", "isMfaAccepted")] == ((3, 3), (3, 18))
    assert doc.positions[("list", 1)] == (None, (4, 11))
    assert doc.positions[("list", 1, "b")] == ((4, 12), (4, 15))
    assert doc.pos(("inboundTrust", "missing", 3)) == (3, 3)  # nearest known ancestor: its value
    assert doc.pos(("inboundTrust",), on_key=True) == (2, 1)


def test_columns_count_characters_not_bytes() -> None:
    doc, _ = parse_yaml("description: Société\nx: 1\n".encode(), "f")
    assert doc is not None
    assert doc.positions[("x",)] == ((2, 1), (2, 4))
    doc, _ = parse_yaml("é: [a, é, b]\n".encode(), "f")
    assert doc is not None
    assert doc.positions[("é", 2)] == (None, (1, 11))


def test_scalars_resolve_like_yaml_1_2_core() -> None:
    text = (
        "a: yes\nb: on\nc: 2024-01-01\nd: 012\ne: 12\nf: 1.5\ng: ~\nh:\ni: True\nj: 'true'\nk: !!str 3\n"
        "l: .inf\nm: 0x1F\nn: |\n  text\n"
    )
    doc, diagnostics = parse_yaml(text.encode(), "f")
    assert diagnostics == []
    assert doc is not None
    assert doc.data == {
        "a": "yes",
        "b": "on",
        "c": "2024-01-01",
        "d": "012",
        "e": 12,
        "f": 1.5,
        "g": None,
        "h": None,
        "i": True,
        "j": "true",
        "k": "3",
        "l": ".inf",
        "m": "0x1F",
        "n": "text\n",
    }


def test_bom_and_crlf_are_accepted() -> None:
    doc, diagnostics = parse_yaml(b"\xef\xbb\xbftenantId: x\r\ndescription: y\r\n", "f")
    assert diagnostics == []
    assert doc is not None
    assert doc.data == {"tenantId": "x", "description": "y"}
    assert doc.positions[("description",)] == ((2, 1), (2, 14))


def test_billion_laughs_is_refused_quickly() -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    doc, diagnostics = parse_yaml("\n".join(lines).encode(), "f")
    # Every alias is reported where it is written; nothing is expanded.
    assert len(diagnostics) == 81
    assert str(diagnostics[0]) == "f:2:10: error: YAML aliases are not allowed"
    assert doc is not None
    assert doc.data["a1"] == [None] * 9


def test_deep_nesting_does_not_crash_the_interpreter() -> None:
    # PyYAML's own composer recurses in C and segfaults on ~100k nested brackets.
    depth = 200_000
    _doc, diagnostics = parse_yaml(b"a: " + b"[" * depth + b"]" * depth + b"\n", "f")
    assert [str(d) for d in diagnostics] == ["f:1:35: error: nesting is deeper than 32 levels"]


@pytest.mark.parametrize(
    "prefix",
    [b"? ", b"a: 1\na: ", b"a: !!set "],
    ids=["complex-key", "duplicate-key-value", "refused-tag"],
)
def test_deep_nesting_inside_a_skipped_subtree_stops_reading(prefix: bytes) -> None:
    # Skipped subtrees count towards the depth too: libyaml does O(depth) work per token.
    depth = 200_000
    _, diagnostics = parse_yaml(prefix + b"[" * depth + b"]" * depth + b"\n", "f")
    assert str(diagnostics[-1]).endswith("error: nesting is deeper than 32 levels")


def test_recursive_alias_is_refused() -> None:
    _, diagnostics = parse_yaml(b"a: &x [*x]\n", "f")
    assert [str(d) for d in diagnostics] == ["f:1:8: error: YAML aliases are not allowed"]


def test_undefined_alias_is_refused() -> None:
    _, diagnostics = parse_yaml(b"a: *nowhere\n", "f")
    assert [str(d) for d in diagnostics] == ["f:1:4: error: YAML aliases are not allowed"]


def test_python_tags_are_refused() -> None:
    text = b"a: !!python/object/apply:os.system ['echo hi']\n"
    _, diagnostics = parse_yaml(text, "f")
    assert [str(d) for d in diagnostics] == [
        "f:1:4: error: unsupported YAML tag '!!python/object/apply:os.system'"
    ]


def test_invalid_utf8_position_counts_characters() -> None:
    _, diagnostics = parse_yaml("a: é\nb: x\xff\n".encode("utf-8", "surrogateescape"), "f")
    assert diagnostics == []  # \xff is the latin-1 character ÿ once encoded as UTF-8
    _, diagnostics = parse_yaml(b"a: \xc3\xa9\nb: x\xff\n", "f")
    assert [str(d) for d in diagnostics] == ["f:2:5: error: file is not valid UTF-8 (byte 0xff at offset 10)"]


def test_every_yaml_problem_is_reported_not_just_the_first() -> None:
    text = b"a: 1\na: 2\nb: *x\nc: !foo 3\n"
    _, diagnostics = parse_yaml(text, "f")
    assert [str(d) for d in diagnostics] == [
        "f:2:1: error: duplicate key 'a' (first defined at line 1)",
        "f:3:4: error: YAML aliases are not allowed",
        "f:4:4: error: unsupported YAML tag '!foo'",
    ]


# --- policy folders -------------------------------------------------------------------------------------------


def test_how_scalars_were_written_is_kept_where_a_message_needs_it() -> None:
    text = 'a: \'x\'\nb: "true"\nc: |\n  t\nd:\ne: null\nf: plain\ng: ["q", p]\n'
    doc, diagnostics = parse_yaml(text.encode(), "f")
    assert diagnostics == [] and doc is not None
    assert doc.styles == {
        ("a",): "quoted",
        ("b",): "quoted",
        ("c",): "block",
        ("d",): "empty",
        ("g", 0): "quoted",
    }


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "a: " + "9" * 5000 + "\n",
            "1:4: integer out of range: a 5000-digit integer (integers must fit in 64 bits)",
        ),
        (
            "a: 9223372036854775808\n",
            "1:4: integer out of range: 9223372036854775808 (integers must fit in 64 bits)",
        ),
        ("a: -1e999\n", "1:4: number out of range: -1e999 is too large to be a finite number"),
        (
            "a: !!int 99999999999999999999\n",
            "1:4: integer out of range: 99999999999999999999 (integers must fit in 64 bits)",
        ),
    ],
)
def test_numbers_json_cannot_carry_are_located_errors(text: str, expected: str) -> None:
    doc, diagnostics = parse_yaml(text.encode(), "f")
    assert [f"{d.line}:{d.col}: {d.message}" for d in diagnostics] == [expected]
    assert doc is not None and doc.data == {"a": None}


def test_the_largest_numbers_that_fit_are_read() -> None:
    doc, diagnostics = parse_yaml(b"a: 9223372036854775807\nb: -9223372036854775808\nc: 1e308\n", "f")
    assert diagnostics == [] and doc is not None
    assert doc.data == {"a": 2**63 - 1, "b": -(2**63), "c": 1e308}


INDENTED = (
    "invalid YAML: this line is indented {} than its siblings above (line {}, column {}); align it with them"
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a: x\nb:\n  c: 1\n    d: 2\n", ("4:5", "more", 3, 3)),
        ("a: x\n  b: y\n", ("2:3", "more", 1, 1)),
        ("b:\n  c: 1  # note\n\n  # more\n    d: 2\n", ("5:5", "more", 2, 3)),
        ("b:\n  c: 1\n d: 2\n", ("3:2", "less", 2, 3)),
        ("b:\n  c:\n      d: 1\n    e: []\n", ("4:5", "less", 3, 7)),
        ("t:\n  - target: x\n      targetType: user\n", ("3:7", "more", 2, 5)),
        ("t:\n  - target: x\n   targetType: user\n", ("3:4", "less", 2, 5)),
        ("t:\n  - target: x\n  targetType: user\n", ("3:3", "less", 2, 5)),
    ],
    ids=[
        "more",
        "more-top",
        "more-after-comment",
        "less",
        "less-nested",
        "more-in-item",
        "less-in-item",
        "at-dash",
    ],
)
def test_a_line_out_of_alignment_is_named_in_plain_words(
    text: str, expected: tuple[str, str, int, int]
) -> None:
    _, diagnostics = parse_yaml(text.encode(), "f")
    where, how, line, column = expected
    assert [f"{d.line}:{d.col}: {d.message}" for d in diagnostics] == [
        f"{where}: {INDENTED.format(how, line, column)}"
    ]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("tenantId:x\ninboundTrust:\n", "2:13: invalid YAML: mapping values are not allowed in this context"),
        (
            "a: [1, 2\nb: 3\n",
            "2:2: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence at line 1, column 4)",
        ),
    ],
)
def test_other_syntax_errors_keep_libyamls_words(text: str, expected: str) -> None:
    _, diagnostics = parse_yaml(text.encode(), "f")
    assert [f"{d.line}:{d.col}: {d.message}" for d in diagnostics] == [expected]
