"""The `escalator` command: a thin face over the library.

Each command lives in its own module with a `register(app)` function. Command
modules import only typer and the standard library at the top; the library
(loader, engine, durable_rules, hypothesis) is imported inside the command
body, so `escalator --help` starts fast.

Exit codes: 0 ok, 1 a test or check failed, 2 bad input (3: an internal error, a bug).
"""

from __future__ import annotations

import sys
from importlib import import_module

import typer

from escalator import __version__

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2

COMMANDS = (
    "evaluate", "explain", "timeline", "validate", "test", "check", "init", "matrix", "schema", "compile",
    "impact", "serve", "replay", "export",
)

app = typer.Typer(
    name="escalator",
    help=(
        "Decide who must handle an online casino's support case, with what authority, and why.\n\n"
        "Exit codes: 0 ok, 1 a test or check failed, 2 bad input."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,  # click's plain help: typer's rich help imports rich.markdown and rich.traceback (~100 ms a start)
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from escalator.language.loading import load_policies
        from escalator.language.sources import bundled_dir

        typer.echo(f"escalator {__version__}")
        policies = load_policies(bundled_dir("policies"))
        shown = [f"{pid} {src.model.version or '-'}" + (" (abstract)" if src.model.abstract else "")
                 for pid, src in sorted(policies.items())]
        typer.echo(f"bundled policies: {', '.join(shown)} (extend one with `extends: escalator:ID`)")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """Decide who must handle a casino support case, with what authority, and why."""


def _register_all() -> None:
    for name in COMMANDS:
        try:
            module = import_module(f"{__name__}.{name}_cmd")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name}_cmd":
                continue  # command not part of this build
            raise
        module.register(app)
        examples = getattr(module, "EXAMPLES", None)
        if examples is not None:  # --help ends with them (typer prints the epilog after the options)
            app.registered_commands[-1].epilog = verbatim(examples)


def verbatim(text: str) -> str:
    """Mark every paragraph of `text` so click prints its lines as written (no re-wrapping)."""
    return "\n\n".join("\b\n" + part.strip("\n") for part in text.split("\n\n") if part.strip())


_register_all()


EXIT_INTERNAL = 3


def main() -> None:
    """Run the CLI. An unexpected exception (a bug) is one line on stderr and exit 3,
    unless ESCALATOR_DEBUG is set, which shows the traceback."""
    import os

    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("ESCALATOR_DEBUG"):
            raise
        print(f"escalator: internal error: {type(exc).__name__}: {exc} "
              "(a bug: please report it; set ESCALATOR_DEBUG=1 for the traceback)", file=sys.stderr)
        sys.exit(EXIT_INTERNAL)
