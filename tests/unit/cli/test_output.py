"""What nodes and containers say reaches tables and lines cleaned: no terminal escapes, no markup."""

from __future__ import annotations

import pytest

from sshorch.cli.output import clean_text, print_error, print_table, say, warn

ESCAPES = "\x1b]0;owned\x07\x1b[2J\x1b[31mred\x9b1m\u202eevil"


@pytest.mark.parametrize(
    ("text", "cleaned", "one_line"),
    [
        ("Back-off restarting", "Back-off restarting", "Back-off restarting"),
        (ESCAPES, "?]0;owned??[2J?[31mred?1m?evil", "?]0;owned??[2J?[31mred?1m?evil"),
        ("two\nlines\r\n", "two\nlines?\n", "two lines "),
        ("a\tb\x00c\x7f", "a b?c?", "a b?c?"),
        ("naïve 中文 ✓", "naïve 中文 ✓", "naïve 中文 ✓"),
    ],
)
def test_clean_text(text: str, cleaned: str, one_line: str) -> None:
    assert clean_text(text) == cleaned
    assert clean_text(text, one_line=True) == one_line


def test_tables_show_node_strings_as_plain_text(capsys: pytest.CaptureFixture[str]) -> None:
    print_table(["POD", "REASON"], [["web-1", f"[bold]x[/] [/unclosed] {ESCAPES}\nsecond line"], ["web-2", None]])
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "[bold]x[/] [/unclosed] ?]0;owned??[2J?[31mred?1m?evil second line" in out
    assert len(out.strip().splitlines()) == 3


def test_lines_and_messages_are_cleaned(capsys: pytest.CaptureFixture[str]) -> None:
    say(f"node1: create-pod web: {ESCAPES}")
    warn(f"node1: {ESCAPES} [red]")
    print_error(f"node1: {ESCAPES}")
    captured = capsys.readouterr()
    assert captured.out == "node1: create-pod web: ?]0;owned??[2J?[31mred?1m?evil\n"
    assert "\x1b]0" not in captured.err and "\u202e" not in captured.err and "[red]" in captured.err
