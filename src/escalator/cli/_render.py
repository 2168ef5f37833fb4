"""Helpers shared by the CLI commands: loading policies, reporting bad input, rich tables, JSON.

Imported only inside command bodies (it imports rich), never at `escalator --help` time.
"""

from __future__ import annotations

import json
from decimal import Decimal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from escalator.cli import EXIT_BAD_INPUT

if TYPE_CHECKING:
    from escalator.language.sources import PolicySource
    from rich.progress import Progress as RichProgress, TaskID



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


def folders(policies: Path | None, rules: Path | None, directory: Path | None = None) -> "PolicySource":
    """The policy source a command uses: DIR or --policies/--rules, else ./policies, else bundled."""
    from escalator.language.sources import default_source, locate

    if directory is not None and policies is None:
        return locate(directory, rules)
    if policies is None and rules is None:
        return default_source()
    return locate(policies, rules)


def folder_pair(policies: Path | None, rules: Path | None) -> tuple[Path, Path]:
    """`folders` as two folders (no rules/ of its own: the bundled rules folder, which is the same packs)."""
    from escalator.language.sources import bundled_dir

    source = folders(policies, rules)
    return source.policies, source.rules or bundled_dir("rules")


def compiled_policies(policies: Path | None, rules: Path | None, only: str | None = None) -> dict[str, Any]:
    """Load and compile the policies (every error raised at once); `only` keeps one policy."""
    from escalator.language.policyset import compile_folders
    from escalator.errors import PolicyError, Problem, did_you_mean

    compiled = compile_folders(folders(policies, rules))
    if only is None:
        return compiled
    if only not in compiled:
        raise PolicyError(Problem(f"unknown policy {only!r}", path="--policy",
                                  hint=did_you_mean(only, compiled, "known policies")))
    return {only: compiled[only]}


def console(stderr: bool = False) -> Console:
    """A console as wide as the terminal; in a pipe $COLUMNS, else 80 columns (tables wrap, never cut)."""
    from escalator.cli._text import width as pipe_width

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else pipe_width()
    return Console(file=stream, width=width, highlight=False, soft_wrap=False)


def table_box(stream: Any = None) -> box.Box | None:
    """Box drawing on a terminal; none in a pipe or a file (plain text that greps and diffs well)."""
    return box.SIMPLE_HEAD if (stream or sys.stdout).isatty() else None


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def indent_json(text: str, prefix: str = "  ") -> str:
    """An indent=2 JSON text as an element of an indent=2 array (same bytes as json.dumps)."""
    return "\n".join(prefix + line for line in text.split("\n"))


# -- decisions ----------------------------------------------------------------------
def _yes(value: bool) -> str:
    return "yes" if value else "no"


def decision_table(decision: dict[str, Any], currency: str = "EUR") -> Table:
    """One decision for people; the fields and values are those of the decision JSON."""
    policy = decision["policy"]
    table = Table(
        title=f"{decision['case_id']}  ·  policy {policy['id']} {policy['version']}",
        title_justify="left", show_header=False, box=table_box(), pad_edge=False,
    )
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_row("summary", decision["summary"])
    if decision["agent_note"]:
        table.add_row("agent note", decision["agent_note"])
    table.add_row("handler", Text(decision["handler"], style="bold"))
    table.add_row("escalate", _yes(decision["escalate"]))
    table.add_row("transfer", decision["transfer"])
    table.add_row("procedure", decision["procedure"] or "-")
    table.add_row("locked", _yes(decision["locked"]))
    for action, cap in decision["authority"].items():
        table.add_row(f"authority.{action}", f"{_pretty(cap)} {currency}")
    table.add_row("forward", ", ".join(decision["forward"]) or "-")
    table.add_row("flags", ", ".join(decision["flags"]) or "-")
    deadlines = decision["deadlines"]
    table.add_row("acknowledge by", deadlines["acknowledge_by"] or "-")
    table.add_row("resolve by", deadlines["resolve_by"] or "-")
    if not decision["reasons"]:
        table.add_row("reasons", "- (no rule fired)")
    for i, reason in enumerate(decision["reasons"]):
        table.add_row("reasons" if i == 0 else "", Text.assemble((reason["rule"], "cyan"), ": ", reason["message"]))
    return table


# -- the authority matrix -------------------------------------------------------------
def matrix_data(policy: Any) -> dict[str, Any]:
    """A compiled policy's tiers by actions, as plain data (money as strings)."""
    from escalator.money import format_money

    tiers = sorted(policy.tiers, key=lambda t: (t.level, t.order))
    return {
        "policy": policy.id,
        "version": policy.version,
        "name": policy.name,
        "jurisdictions": list(policy.jurisdictions),
        "complaints_tier": policy.complaints_tier,
        "currency": policy.currency,
        "actions": list(policy.actions),
        "tiers": [
            {
                "id": t.id,
                "name": t.name,
                "level": t.level,
                "player_reachable": t.player_reachable,
                "fallback": t.fallback,
                "authority": {action: format_money(t.limit(action)) for action in policy.actions},
            }
            for t in tiers
        ],
    }


def _pretty(amount: str) -> str:
    """"250000.00" -> "250,000.00" for people (the JSON keeps the plain form)."""
    from escalator.money import pretty_money

    return pretty_money(Decimal(amount))


def _header(action: str) -> str:
    return action.replace("_", " ")


def matrix_table(data: dict[str, Any]) -> Table:
    table = Table(
        title=f"{data['policy']} {data['version']}  ·  {data['name']}  ·  {', '.join(data['jurisdictions'])}"
              f"  ·  caps in {data['currency']}",
        title_justify="left", box=table_box(), pad_edge=False,
    )
    # Narrow enough for 80 columns with three actions: the display name under the id, headers
    # that wrap at their spaces, how players reach a tier in one column; wider cells wrap.
    table.add_column("tier", overflow="fold", min_width=20)
    table.add_column("level", justify="right")
    table.add_column("contact")
    for action in data["actions"]:
        table.add_column(_header(action), justify="right", overflow="fold", max_width=12)
    for tier in data["tiers"]:
        table.add_row(
            Text.assemble((tier["id"], "bold"), "\n", tier["name"]), str(tier["level"]),
            tier["fallback"] if tier["player_reachable"] else "internal",
            *(_pretty(tier["authority"][a]) for a in data["actions"]),
        )
    return table


def md(text: object) -> str:
    """Text for a Markdown table cell: pipes escaped, line breaks flattened."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def matrix_markdown(data: dict[str, Any]) -> str:
    """A GitHub-flavoured Markdown table, ready to paste into a compliance document."""
    lines = [
        f"### {md(data['name'])} ({data['policy']} {data['version']}; {', '.join(data['jurisdictions'])})",
        "",
        "| Tier | Level | Player reachable | Fallback | "
        + " | ".join(f"{_header(a).capitalize()} ({data['currency']})" for a in data["actions"]) + " |",
        "|---|---:|---|---|" + "---:|" * len(data["actions"]),
    ]
    for tier in data["tiers"]:
        cells = [
            f"{md(tier['name'])} (`{tier['id']}`)", str(tier["level"]), _yes(tier["player_reachable"]),
            tier["fallback"] if tier["player_reachable"] else "-",
            *(_pretty(tier["authority"][a]) for a in data["actions"]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(f"Complaints are handled by `{data['complaints_tier']}`; a case in the complaint "
                 "procedure is locked at that tier.")
    return "\n".join(lines)


class Progress:
    """A rich progress bar on stderr, shown only when wanted (default: stderr is a terminal and
    stdout is not) and only once `after` cases have passed: below that a bar is noise."""

    def __init__(self, wanted: bool | None, label: str, after: int):
        if wanted is None:
            wanted = sys.stderr.isatty() and not sys.stdout.isatty()
        self.wanted, self.label, self.after = wanted, label, after
        self.done, self.shown = 0, 0
        self.bar: RichProgress | None = None
        self.task: TaskID | None = None

    def advance(self, count: int = 1) -> None:
        self.done += count
        if not self.wanted or self.done < self.after:
            return
        if self.bar is None:
            from rich.progress import MofNCompleteColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as Bar

            self.bar = bar = Bar(SpinnerColumn(), TextColumn(self.label), MofNCompleteColumn(), TimeElapsedColumn(),
                           console=console(stderr=True), redirect_stdout=False, redirect_stderr=False,
                           transient=True)
            self.task = bar.add_task("cases", total=None)
            bar.start()
        if self.done - self.shown >= 100 or count > 1:  # redrawing per case would cost more than a case
            assert self.task is not None
            self.bar.update(self.task, completed=self.done)
            self.shown = self.done

    def print(self, line: str) -> None:
        """An error line on stderr, above the bar when one is showing."""
        if self.bar is None:
            err(line)
        else:
            self.bar.console.print(line, markup=False, highlight=False, soft_wrap=True)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()
