"""Issue 20 finding 3, the pure part: fences and code spans that no letter text can close.

What Redmine makes of them is checked on the real Redmine in ``test_redmine_markup``.
"""

from __future__ import annotations

import pytest

from connector.rendering import Literal, fenced, inline_literal, table


def test_a_commonmark_fence_is_longer_than_any_tilde_run_in_the_text() -> None:
    text = "a\n~~~\n~~~~~ b\n"
    fence = fenced(text, "common_mark")
    first, *_, last = fence.split("\n")
    assert first == last == "~" * 6 and text.rstrip("\n") in fence


def test_textile_pre_and_code_tags_in_the_text_cannot_end_the_fence() -> None:
    fence = fenced("x </pre> y <PRE> <code> </Notextile>", "textile")
    assert fence.startswith("<pre>\n") and fence.endswith("\n</pre>")
    inner = fence.removeprefix("<pre>\n").removesuffix("\n</pre>")
    for tag in ("</pre", "<PRE", "<code", "</Notextile"):
        assert tag not in inner
    assert inner.replace("\u2060", "") == "x </pre> y <PRE> <code> </Notextile>"


@pytest.mark.parametrize(("text", "expected"), [
    ("@kadis", "`@kadis`"), ("a `b` c", "``a `b` c``"), ("`x", "`` `x ``"),
    ("a\nb  c", "`a b c`"), ("", "`-`")])
def test_a_code_span_is_longer_than_any_backtick_run(text: str, expected: str) -> None:
    assert inline_literal(text, "common_mark") == expected


def test_only_literal_values_of_a_table_become_code() -> None:
    rows = [["Perihal", Literal("!http://x/p.png!")], ["Diterima", "2026-11-30"]]
    assert table(rows, ["Data", "Isi"], "textile").splitlines()[1:] == [
        "| Perihal | <code>!http://x/p.png!</code> |", "| Diterima | 2026-11-30 |"]
    assert table(rows, ["Data", "Isi"], "common_mark").splitlines()[2] == \
        "| Perihal | `!http://x/p.png!` |"


def test_a_redcarpet_markdown_block_is_indented_line_by_line() -> None:
    assert fenced("a\n~~~\n\n# b", "markdown") == "    a\n    ~~~\n    \n    # b"
