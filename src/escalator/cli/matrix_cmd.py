"""`escalator matrix`: each policy's authority matrix, tiers by actions."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from escalator.cli._options import POLICIES, POLICY_ID, RULES

class Format(str, Enum):
    table = "table"
    markdown = "markdown"
    json = "json"

HELP = """Print the authority matrix of each policy: its tiers (by level) against the actions, with each tier's money cap in EUR, whether players may reach it, and its fallback contact mode when nobody of that tier is on duty. Markdown output pastes into compliance documents.

Exit codes: 0 ok, 2 bad input (a bad policy or an unknown --policy).
"""

EXAMPLES = """Examples:

  escalator matrix

  escalator matrix --policy nl --format markdown > nl-authority.md
"""


def matrix(
    policy: Optional[str] = POLICY_ID,
    policies: Optional[Path] = POLICIES,
    rules: Optional[Path] = RULES,
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, markdown or json."),
) -> None:
    from escalator.cli._console import bad_input, console, print_json
    from escalator.cli._folders import compiled_policies
    from escalator.cli._matrix import matrix_data, matrix_markdown, matrix_table

    with bad_input():
        compiled = compiled_policies(policies, rules, policy)
    data = [matrix_data(compiled[policy_id]) for policy_id in sorted(compiled)]
    if fmt is Format.json:
        print_json(data)
    elif fmt is Format.markdown:
        sys.stdout.write("\n\n".join(matrix_markdown(d) for d in data) + "\n")
    else:
        out = console()
        for item in data:
            out.print(matrix_table(item))

def register(app: typer.Typer) -> None:
    app.command("matrix", help=HELP, short_help="Print each policy's authority matrix: tiers by actions.")(matrix)
