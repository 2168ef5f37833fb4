"""`escalator check`: property checks with hypothesis over generated cases."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer


EXAMPLES = """Examples:

  escalator check

  escalator check my-policies --max-examples 1000 --seed 7

  escalator check --property invariants --strict
"""


def register(app: typer.Typer) -> None:
    app.command("check")(check)


def check(
    directory: Optional[Path] = typer.Argument(
        None, help="A folder holding policies/ and rules/ (default: ./ if it has both, else the bundled ones)."),
    policies: Optional[Path] = typer.Option(None, "--policies", help="Policy folder."),
    rules: Optional[Path] = typer.Option(None, "--rules", help="Rule-pack folder."),
    max_examples: int = typer.Option(300, "--max-examples", min=1, help="Generated cases per property."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed (printed, so a run can be repeated)."),
    out: Path = typer.Option(Path("counterexamples"), "--out", help="Where counterexample case files are written."),
    prop: Optional[List[str]] = typer.Option(
        None, "--property", "-p", help="Only these properties (repeatable; `invariants` = all declared ones)."),
    backend: str = typer.Option("auto", "--backend", help="auto, compiled or durable."),
    strict: bool = typer.Option(False, "--strict", help="A property that could not run (skipped) fails too."),
) -> None:
    """Check built-in and declared properties on generated cases.

    Built in: every case gets a decision; a locked case stays with the complaints
    tier; authority never exceeds the handler's limit; no internal tier handles a
    case; both backends agree; escalation is monotone in money. Policies add their
    own under `invariants:`. A counterexample is shrunk and written as a case file
    for `escalator evaluate`. A property that cannot run here (e.g. backends
    agree, where durable_rules does not import) is reported as skipped.

    Exit codes: 0 every property holds (skipped ones allowed without --strict);
    1 a property fails, or one was skipped with --strict; 2 bad input.
    """
    from escalator.cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK
    from escalator.errors import EscalatorError
    from escalator.authoring.properties import check_folders

    from escalator.cli._console import bad_input
    from escalator.cli._folders import folders

    with bad_input():
        source = folders(policies, rules, directory)
    try:
        results, used_seed = check_folders(source, None, out, max_examples, seed, backend, prop)
    except EscalatorError as exc:
        for problem in exc.problems:
            typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    for result in results:
        typer.echo(result.report())
    failed = [r for r in results if r.failed]
    skipped = [r for r in results if r.skipped and not r.failed]
    held = len(results) - len(failed) - len(skipped)
    typer.echo(f"{held} properties hold, {len(failed)} fail, {len(skipped)} skipped (seed {used_seed}; "
               f"repeat with --seed {used_seed})" + (" (skipped ones fail with --strict)" if strict and skipped else ""))
    if failed:
        typer.echo(f"evaluate a counterexample: escalator evaluate {failed[0].files[0] if failed[0].files else '...'} "
                   f"--policies {source.policies}" + (f" --rules {source.rules}" if source.rules else ""))
    raise typer.Exit(EXIT_FAILED if failed or (strict and skipped) else EXIT_OK)
