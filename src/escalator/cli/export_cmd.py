"""`escalator export`: registers built from the decision log (escalator.log.export)."""

from __future__ import annotations

import sys
from enum import Enum
from typing import Optional

import typer

class What(str, Enum):
    complaints = "complaints"

class Format(str, Enum):
    csv = "csv"

HELP = """Export a register from the decision log.

complaints: one row per case that entered the formal complaint procedure, in the order received: case_id, date_received, date_acknowledged, acknowledge_due, final_answer_due, handler, outcome, adr_referral. How each column is derived is described in the docs (docs/service.md).

URL is the log: a file path, sqlite:///FILE or postgresql://USER@HOST:PORT/DB.
"""

EXAMPLES = """Examples:

  escalator export complaints decisions.db --format csv > complaints.csv

  escalator export complaints postgresql://escalator@db:5432/decisions --since 2026-11-01
"""


def export(
    what: What = typer.Argument(..., help="The register: complaints."),
    url: str = typer.Argument(..., metavar="URL", help="The decision log."),
    fmt: Format = typer.Option(Format.csv, "--format", "-f", help="csv."),
    since: Optional[str] = typer.Option(None, "--since", help="Only rows logged at or after this date/instant."),
) -> None:
    from escalator.cli._console import bad_input

    with bad_input():
        from escalator.log.export import complaints, write_csv
        from escalator.log.record import instant_bound
        from escalator.log.store import DecisionLog

        with DecisionLog(url, create=False) as log:
            register = complaints(log.records(instant_bound(since) if since else None))
    write_csv(register, sys.stdout)

def register(app: typer.Typer) -> None:
    app.command("export", help=HELP, short_help="Export the complaint register (CSV) from the decision log.",
                no_args_is_help=True)(export)
