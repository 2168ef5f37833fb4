"""Decisions and explanations for people: rich tables over the decision JSON."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

from escalator.cli._console import pretty, yes


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
    table.add_row("escalate", yes(decision["escalate"]))
    table.add_row("transfer", decision["transfer"])
    table.add_row("procedure", decision["procedure"] or "-")
    table.add_row("locked", yes(decision["locked"]))
    for action, cap in decision["authority"].items():
        table.add_row(f"authority.{action}", f"{pretty(cap)} EUR")
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
