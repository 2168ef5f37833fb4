"""Terminal output every command shares: stderr lines, bad input (exit 2), rich consoles, JSON.

Imported only inside command bodies (it imports rich), never at `escalator --help` time.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import typer
from rich.console import Console

from escalator.cli import EXIT_BAD_INPUT


def err(message: str) -> None:
    """One line on stderr (plain text: no markup, no wrapping)."""
    sys.stderr.write(message.rstrip("\n") + "\n")


@contextmanager
def bad_input() -> Iterator[None]:
    """Turn escalator's own errors (and unreadable paths) into messages on stderr and exit 2."""
    from escalator.operations.batch import InputError
    from escalator.errors import EscalatorError

    try:
        yield
    except EscalatorError as exc:
        for problem in exc.problems:
            err(problem.with_hint())
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except InputError as exc:
        err(str(exc))
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except (FileNotFoundError, NotADirectoryError) as exc:
        err(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))
        raise typer.Exit(EXIT_BAD_INPUT) from None


def console(stderr: bool = False) -> Console:
    """A console that does not invent a width in pipes (wide tables stay readable in files)."""
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else 140
    return Console(file=stream, width=width, highlight=False, soft_wrap=False)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def indent_json(text: str, prefix: str = "  ") -> str:
    """An indent=2 JSON text as an element of an indent=2 array (same bytes as json.dumps)."""
    return "\n".join(prefix + line for line in text.split("\n"))


def yes(value: bool) -> str:
    return "yes" if value else "no"


def pretty(amount: str) -> str:
    """"250000.00" -> "250,000.00" for people (the JSON keeps the plain form)."""
    from escalator.money import pretty_money

    return pretty_money(Decimal(amount))


def md(text: object) -> str:
    """Text for a Markdown table cell: pipes escaped, line breaks flattened."""
    return str(text).replace("|", "\\|").replace("\n", " ")
