"""`escalator explain`: a decision plus why, rule by rule, with the compared values."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from escalator.cli._options import BACKEND, POLICIES, RULES, BackendName

class Format(str, Enum):
    table = "table"
    json = "json"

HELP = """Explain one case's decision: every rule, whether it fired, each comparison with the values compared, and for numeric thresholds how far the case is from them ("amount 2,400.00 is 400.00 above the agent goodwill bonus cap 2,000.00").

CASE is a case file (.yaml, .yml, .json) or - to read one case (YAML or JSON) from stdin.

Exit codes: 0 ok, 2 bad input (a bad case, policy or path).
"""

EXAMPLES = """Examples:

  escalator explain examples/cases/nl-bonus-loss-chasing.yaml

  escalator explain examples/cases/uk-withdrawal-big-win-waiting.yaml --format json
"""


def explain(
    case: str = typer.Argument(..., metavar="CASE", help="A case file, or - for one case on stdin."),
    policies: Optional[Path] = POLICIES,
    rules: Optional[Path] = RULES,
    backend: BackendName = BACKEND,
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table or json."),
) -> None:
    from escalator.cli._console import bad_input, console, print_json
    from escalator.cli._decisions import explanation_tables, margin_notes
    from escalator.cli._folders import compiled_policies

    with bad_input():
        document = _read(case)
        from escalator.runtime.engine import Engine

        with Engine(compiled_policies(policies, rules), backend.value) as engine:
            data = engine.explain(document).to_dict()
    if fmt is Format.json:
        print_json(data)
        return
    out = console()
    for table in explanation_tables(data):
        out.print(table)
    notes = margin_notes(data)
    if notes:
        out.print("[bold]Thresholds[/bold]")
        for note in notes:
            out.print(f"  {note}", markup=False)

def _read(case: str):  # type: ignore[no-untyped-def]
    """The case as a located document (so problems name file, line and column)."""
    from escalator.operations.batch import InputError, is_case_file
    from escalator.language.yamlio import load_file, parse_json, parse_yaml

    if case == "-":
        raw = sys.stdin.buffer.read()
        if raw.lstrip()[:1] in (b"{", b"["):
            return parse_json(raw, "<stdin>")
        return parse_yaml(raw, "<stdin>")
    path = Path(case)
    if not path.is_file():
        raise InputError(f"{case}: no such case file")
    if not is_case_file(path) or path.name.lower().endswith((".jsonl", ".jsonl.gz", ".ndjson")):
        raise InputError(f"{case}: not a case file (expected .yaml, .yml or .json)")
    return load_file(path)

def register(app: typer.Typer) -> None:
    app.command("explain", help=HELP, short_help="Explain one decision, rule by rule, with the compared values.",
                no_args_is_help=True)(explain)
