"""`escalator validate`: load policies and rule packs and run the static checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer


EXAMPLES = """Examples:

  escalator validate

  escalator validate my-policies --strict

  escalator validate --format json > findings.json
"""


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)


def validate(
    directory: Optional[Path] = typer.Argument(
        None, help="A folder holding policies/ and rules/ (default: ./ if it has both, else the bundled ones)."),
    policies: Optional[Path] = typer.Option(None, "--policies", help="Policy folder."),
    rules: Optional[Path] = typer.Option(None, "--rules", help="Rule-pack folder."),
    strict: bool = typer.Option(False, "--strict", help="Warnings fail too."),
    format: str = typer.Option("text", "--format", help="text or json."),
) -> None:
    """Check policies and rule packs: errors fail; warnings fail only with --strict.

    Exit codes: 0 clean; 1 the checks failed (an error, or a warning with
    --strict); 2 bad input: a file could not be read (YAML syntax, unknown
    fields, bad values) or a policy does not compile (unknown tier, parameter,
    field...), reported with file:line:column.

    Codes: E-FIELD unknown case path, E-PARAM unknown parameter, E-TYPE wrong
    type, E-TIER unknown tier, E-INTERNAL rule requires an internal tier,
    E-DUPLICATE duplicate rule id, E-NEVER-FIRES contradictory condition;
    warnings W-SHADOWED, W-TIER-MONOTONE, W-UNHANDLED-KIND, W-UNUSED-PARAM.
    """
    from escalator.cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK
    from escalator.authoring.checks import validate_folders

    if format not in ("text", "json"):
        typer.echo("--format is text or json", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    from escalator.cli._console import bad_input
    from escalator.cli._folders import folders

    with bad_input():
        source = folders(policies, rules, directory)
    report = validate_folders(source)
    failed = report.failed(strict)
    if format == "json":
        typer.echo(json.dumps({
            "ok": not report.load_problems and not failed,
            "policies": sorted(report.policies),
            "load_errors": [p.to_dict() for p in report.load_problems],
            "findings": [f.to_dict() for f in report.findings],
        }, indent=2))
    else:
        for problem in report.load_problems + report.findings:
            typer.echo(problem.with_hint())
        if not report.load_problems:
            typer.echo(f"{len(report.policies)} policies checked ({', '.join(sorted(report.policies)) or 'none'}): "
                       f"{len(report.errors)} errors, {len(report.warnings)} warnings"
                       + (" (warnings fail with --strict)" if strict and report.warnings else ""))
    if report.bad_input:
        raise typer.Exit(EXIT_BAD_INPUT)
    raise typer.Exit(EXIT_FAILED if failed else EXIT_OK)
