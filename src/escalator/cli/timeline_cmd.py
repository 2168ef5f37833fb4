"""`escalator timeline CASE`: how the decision on one case changes with time alone (spec section 8)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any, Optional

import typer

from escalator.cli._options import AT, BACKEND, POLICIES, RULES, BackendName, parse_at

HELP = """Evaluate one case at an instant, then again at each next_review_at, and show how the decision changes: who handles it, how the player is reached, which deadlines passed, which rules started or stopped firing.

CASE is a case file (.yaml, .yml, .json) or - for one case on stdin.

Exit codes: 0 ok, 2 bad input (a bad case, policy, path or option).
"""

EXAMPLES = """Examples:

  escalator timeline examples/cases/uk-complaint-adr-after-8-weeks.yaml

  escalator timeline examples/cases/nl-escalated-not-acknowledged.yaml --until 2w --format json
"""

# the decision fields a change is reported for, in this order (evaluated_at and next_review_at always change)
FIELDS = ("handler", "escalate", "transfer", "contact_at", "procedure", "locked", "authority", "forward", "flags",
          "deadlines")


class Format(str, Enum):
    table = "table"
    json = "json"


def changes(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    """What differs between two consecutive decisions, in words."""
    if before is None:
        return ["first evaluation"]
    out = [f"{key}: {_show(before[key])} -> {_show(after[key])}" for key in FIELDS if before[key] != after[key]]
    old = {r["rule"] for r in before["reasons"]}
    new = {r["rule"] for r in after["reasons"]}
    out.extend(f"+ {rule}" for rule in sorted(new - old))
    out.extend(f"- {rule}" for rule in sorted(old - new))
    return out


def _show(value: Any) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def timeline(
    case: str = typer.Argument(..., metavar="CASE", help="A case file, or - for one case on stdin."),
    until: str = typer.Option("12w", "--until", help="How far ahead to follow the case (an elapsed duration: 30m 24h 3d 8w)."),
    at: Optional[str] = AT,
    policies: Optional[Path] = POLICIES,
    rules: Optional[Path] = RULES,
    backend: BackendName = BACKEND,
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table or json."),
) -> None:
    from datetime import timedelta

    from escalator.cli._console import bad_input, console, print_json
    from escalator.cli._folders import compiled_policies
    from escalator.cli.explain_cmd import read_case_document
    from escalator.language.time import parse_duration

    try:
        period = parse_duration(until)
        if period.working:
            raise ValueError(f"{until!r}: --until is elapsed time (m, h, d, w)")
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--until") from None
    instant = parse_at(at)
    with bad_input():
        document = read_case_document(case)
        from escalator.runtime.engine import Engine

        with Engine(compiled_policies(policies, rules), backend.value) as engine:
            steps = [d.to_dict() for d in engine.timeline(document, instant, timedelta(seconds=period.seconds))]
    rows = [{"at": step["evaluated_at"], "changes": changes(previous, step), "decision": step}
            for previous, step in zip([None, *steps[:-1]], steps)]
    if fmt is Format.json:
        print_json(rows)
        return
    # one line per instant, what changed indented under it: reads at 80 columns and in a pipe
    from escalator.cli._text import fit

    lines = [f"case {steps[0]['case_id']}: decision over time (until +{until})"]
    for row in rows:
        decision = row["decision"]
        transfer = decision["transfer"] + (f" (at {decision['contact_at']})" if decision["contact_at"] else "")
        lines.append(f"{row['at']}  {decision['handler']}  {transfer}")
        lines.extend(f"    {change}" for change in row["changes"])
    out = console()
    out.print(fit("\n".join(lines)), markup=False, highlight=False, soft_wrap=True)
    last = steps[-1]["next_review_at"]
    out.print(f"next review: {last}" if last else "no further change through time alone", markup=False)


def register(app: typer.Typer) -> None:
    app.command("timeline", help=HELP, short_help="Follow one case through time: how its decision changes.",
                no_args_is_help=True)(timeline)
