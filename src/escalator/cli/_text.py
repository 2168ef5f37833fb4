"""Plain text for a terminal or a pipe: the width to fit, and lines wrapped to it (never cut)."""

from __future__ import annotations

import shutil
import textwrap


def width() -> int:
    """The terminal's width; in a pipe $COLUMNS, else 80."""
    return shutil.get_terminal_size((80, 24)).columns


def fit(text: str, columns: int | None = None) -> str:
    """Every line wrapped to `columns`, continuation lines indented under the first one's text."""
    columns = columns or width()
    out = []
    for line in text.splitlines():
        if len(line) <= columns:
            out.append(line)
            continue
        indent = " " * (len(line) - len(line.lstrip()) + 4)
        out.extend(textwrap.wrap(line, columns, subsequent_indent=indent, break_on_hyphens=False,
                                 break_long_words=True) or [""])
    return "\n".join(out)
