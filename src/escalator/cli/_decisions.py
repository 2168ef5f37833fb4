"""Decisions for people: a rich table over the decision JSON (explain renders a tree: runtime/messages/explain_text)."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from escalator.cli._console import pretty, table_box, yes


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
    table.add_row("escalate", yes(decision["escalate"]))
    table.add_row("transfer", decision["transfer"])
    table.add_row("procedure", decision["procedure"] or "-")
    table.add_row("locked", yes(decision["locked"]))
    for action, cap in decision["authority"].items():
        table.add_row(f"authority.{action}", f"{pretty(cap)} {currency}")
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
