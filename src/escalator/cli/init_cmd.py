"""`escalator init`: write a starter project that builds on a bundled policy."""

from __future__ import annotations

from pathlib import Path

import typer

HELP = """Write a starter project in DIR (default: the current folder): a policy that extends a bundled one (its overrides written out as comments), one local rule pack with one rule, three cases, a policy test file, the JSON Schemas editors use, and a five-line README. Its tests pass at once.

Exit codes: 0 written, 2 bad input (an unknown --from, or files that already exist).
"""

EXAMPLES = """Examples:

  escalator init my-policies --from uk

  cd my-policies && escalator validate && escalator test && escalator check

  escalator init . --from nl --force
"""


def init(
    directory: Path = typer.Argument(Path("."), help="Where to write the project (created if needed)."),
    base: str = typer.Option("uk", "--from", help="The bundled policy to extend (see escalator --version)."),
    force: bool = typer.Option(False, "--force", help="Overwrite files that already exist."),
) -> None:
    from escalator.authoring.init import init_project
    from escalator.cli._console import bad_input

    with bad_input():
        starter = init_project(directory, base, force)
    for name in starter.files:
        typer.echo(f"wrote {starter.folder / name}")
    typer.echo(f"next: cd {starter.folder} && escalator validate && escalator test")


def register(app: typer.Typer) -> None:
    app.command("init", help=HELP, short_help="Write a starter project that extends a bundled policy.")(init)
