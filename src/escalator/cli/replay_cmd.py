"""`escalator replay`: re-decide the cases of a decision log (escalator.log.replay)."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from escalator.cli._options import BACKEND, BackendName

class Format(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"

HELP = """Re-decide every logged case and compare with the logged decision.

Without --policies each case is decided again with the very policy set that answered it (rebuilt from the files the log stored for its digest): every decision must come out byte for byte the same, and any that does not is listed (exit code 1). With --policies (and --rules) the cases are decided with that candidate set instead: impact analysis over real history, reported like `escalator impact`.

URL is the log: a file path, sqlite:///FILE or postgresql://USER@HOST:PORT/DB. --since/--until take a date (2026-11-20) or an instant with a zone and select rows by when they were logged.

Masked fields stay masked: no rule reads a field a policy masks (policies are refused otherwise), so replay needs no key and cannot unmask.

Exit codes: 0 ok (every logged decision reproduced, or the candidate report); 1 a logged decision did not reproduce; 2 bad input (an unreadable log, or rows that could not be replayed).
"""

EXAMPLES = """Examples:

  escalator replay decisions.db

  escalator replay decisions.db --policies ./candidate/policies --rules ./candidate/rules --since 2026-11-01
"""


def replay(
    url: str = typer.Argument(..., metavar="URL", help="The decision log."),
    policies: Optional[Path] = typer.Option(None, "--policies", help="Candidate policy folder (default: the logged sets)."),
    rules: Optional[Path] = typer.Option(None, "--rules", help="Candidate rule-pack folder (with --policies; default: bundled)."),
    since: Optional[str] = typer.Option(None, "--since", help="Only rows logged at or after this date/instant."),
    until: Optional[str] = typer.Option(None, "--until", help="Only rows logged before this date/instant."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, json or markdown."),
    sample: int = typer.Option(20, "--sample", min=0, max=100_000, help="How many differing cases to show."),
    backend: BackendName = BACKEND,
) -> None:
    from escalator.cli import EXIT_BAD_INPUT, EXIT_FAILED
    from escalator.cli._console import bad_input, err

    if rules is not None and policies is None:
        raise typer.BadParameter("--rules needs --policies", param_hint="--rules")
    with bad_input():
        from escalator.log.record import instant_bound
        from escalator.log.replay import replay as run
        from escalator.log.store import DecisionLog
        from escalator.runtime.engine import Engine

        low = instant_bound(since) if since else None
        high = instant_bound(until) if until else None
        candidate = Engine.load(policies, rules, backend.value) if policies is not None else None
        with DecisionLog(url, create=False) as log:
            report = run(log, candidate, since=low, until=high, sample=sample, backend=backend.value,
                         candidate_label=str(policies))
    if fmt is Format.json:
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
    else:
        from escalator.cli.impact_cmd import markdown, tables

        if fmt is Format.markdown:
            sys.stdout.write(markdown(report.impact))
        else:
            from escalator.cli._console import console

            out = console()
            for block in tables(report.impact):
                out.print(block)
        if report.mode == "logged":
            print(f"{report.reproduced} of {report.rows} logged decisions reproduced byte for byte")
            for miss in report.mismatches:
                print(f"log#{miss.row} {miss.case_id}:\n  logged   {miss.logged}\n  replayed {miss.replayed}")
    if report.impact.bad:
        err(f"{report.impact.bad} row{'s' if report.impact.bad != 1 else ''} could not be replayed; exit code 2")
        raise typer.Exit(EXIT_BAD_INPUT)
    if report.mode == "logged" and report.not_reproduced:
        err(f"{report.not_reproduced} logged decision(s) did not reproduce; exit code 1")
        raise typer.Exit(EXIT_FAILED)

def register(app: typer.Typer) -> None:
    app.command("replay", help=HELP, short_help="Re-decide logged cases: the logged or a candidate policy set.",
                no_args_is_help=True)(replay)
