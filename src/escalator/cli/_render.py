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
    """A console that does not invent a width in pipes (wide tables stay readable in files)."""
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else 140
    return Console(file=stream, width=width, highlight=False, soft_wrap=False)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def indent_json(text: str, prefix: str = "  ") -> str:
    """An indent=2 JSON text as an element of an indent=2 array (same bytes as json.dumps)."""
    return "\n".join(prefix + line for line in text.split("\n"))


# -- decisions ----------------------------------------------------------------------
def _yes(value: bool) -> str:
    return "yes" if value else "no"


def decision_table(decision: dict[str, Any]) -> Table:
    """One decision for people; the fields and values are those of the decision JSON."""
    policy = decision["policy"]
    table = Table(
        title=f"{decision['case_id']}  ·  policy {policy['id']} {policy['version']}",
        title_justify="left", show_header=False, box=box.SIMPLE_HEAD, pad_edge=False,
    )
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_row("handler", Text(decision["handler"], style="bold"))
    table.add_row("escalate", _yes(decision["escalate"]))
    table.add_row("transfer", decision["transfer"])
    table.add_row("procedure", decision["procedure"] or "-")
    table.add_row("locked", _yes(decision["locked"]))
    for action, cap in decision["authority"].items():
        table.add_row(f"authority.{action}", f"{_pretty(cap)} EUR")
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


def explanation_tables(explanation: dict[str, Any]) -> list[Table]:
    """The decision, then one row per rule with its comparisons and margin notes."""
    rules = Table(title="Rules", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, show_lines=False)
    rules.add_column("rule", no_wrap=True)
    rules.add_column("fired", no_wrap=True)
    rules.add_column("comparison")
    rules.add_column("value")
    rules.add_column("result", no_wrap=True)
    results = {True: "true", False: "false", None: "unknown"}
    for rule in explanation["rules"]:
        fired = Text("FIRED", style="bold green") if rule["fired"] else Text("no", style="dim")
        comparisons = rule["comparisons"] or [None]
        for i, comparison in enumerate(comparisons):
            head = (Text(rule["rule"], style="cyan"), fired) if i == 0 else ("", "")
            if comparison is None:
                rules.add_row(*head, "-", "", results[rule["result"]])
                continue
            value = _shown(comparison["value"])
            text = Text(comparison["comparison"])
            if comparison.get("note"):
                text.append(f"\n{comparison['note']}", style="italic yellow")
            rules.add_row(*head, text, value, results[comparison["result"]])
        rules.add_section()
    return [decision_table(explanation["decision"]), rules]


def margin_notes(explanation: dict[str, Any]) -> list[str]:
    """Threshold notes of the comparisons that decided the outcome (fired rules first)."""
    notes: list[str] = []
    for rule in sorted(explanation["rules"], key=lambda r: not r["fired"]):
        for comparison in rule["comparisons"]:
            note = comparison.get("note")
            if note and comparison.get("against_source") and note not in notes:
                notes.append(f"{rule['rule']}: {note}" if rule["fired"] else f"{rule['rule']} (not fired): {note}")
    return notes


def _shown(value: Any) -> str:
    if value is None:
        return "(missing)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    return str(value)


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
              "  ·  caps in EUR",
        title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
    )
    table.add_column("tier", no_wrap=True)
    table.add_column("name", overflow="fold")
    table.add_column("level", justify="right")
    table.add_column("reachable")
    table.add_column("fallback")
    for action in data["actions"]:
        table.add_column(action, justify="right", no_wrap=True)
    for tier in data["tiers"]:
        table.add_row(
            tier["id"], tier["name"], str(tier["level"]), _yes(tier["player_reachable"]),
            tier["fallback"] if tier["player_reachable"] else "-",
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
        + " | ".join(f"{_header(a).capitalize()} (EUR)" for a in data["actions"]) + " |",
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
