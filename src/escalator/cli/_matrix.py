"""The authority matrix (tiers by actions): plain data, a rich table, Markdown."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich import box
from rich.table import Table

from escalator.cli._console import md, pretty, yes

if TYPE_CHECKING:
    from escalator.language.ir import CompiledPolicy


def matrix_data(policy: CompiledPolicy) -> dict[str, Any]:
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
            tier["id"], tier["name"], str(tier["level"]), yes(tier["player_reachable"]),
            tier["fallback"] if tier["player_reachable"] else "-",
            *(pretty(tier["authority"][a]) for a in data["actions"]),
        )
    return table


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
            f"{md(tier['name'])} (`{tier['id']}`)", str(tier["level"]), yes(tier["player_reachable"]),
            tier["fallback"] if tier["player_reachable"] else "-",
            *(pretty(tier["authority"][a]) for a in data["actions"]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(f"Complaints are handled by `{data['complaints_tier']}`; a case in the complaint "
                 "procedure is locked at that tier.")
    return "\n".join(lines)
