"""`lobby run --demo` prints its tables aligned in a terminal (issue 11 item 6): columns
are padded by display width, so 张伟 (two columns a character) lines up with Ada."""

import unicodedata

from server.cli import aligned, display_width, padded


def test_wide_characters_take_two_columns_and_combining_marks_none():
    assert display_width("Ada") == 3
    assert display_width("张伟") == 4
    assert display_width(unicodedata.normalize("NFD", "José")) == 4
    assert padded("张伟", 6) == "张伟  "


def test_the_demo_visitors_codes_start_in_one_column():
    rows = [
        ("Ada Lovelace", "code-ada"),
        ("张伟", "code-zhang"),
        ("José Müller", "code-jose"),
        ("欧阳娜娜娜娜娜娜", "code-long"),
    ]
    lines = aligned(rows)
    starts = {display_width(line[: line.index("code-")]) for line in lines}
    assert len(starts) == 1, "\n".join(lines)
