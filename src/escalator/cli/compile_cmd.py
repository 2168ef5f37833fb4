"""`escalator compile`: what a policy compiles to, for review (durable_rules ruleset or SQL)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any, Optional

import typer

from escalator.cli._options import POLICIES, POLICY_ID, RULES



class Target(str, Enum):
    durable = "durable"
    sql = "sql"


class Dialect(str, Enum):  # only the dialects the tests execute (escalator.bulk.sql.DIALECTS)
    duckdb = "duckdb"
    postgres = "postgres"


HELP = """Print what each policy compiles to, for review: the durable_rules ruleset (JSON; rule names are the rule ids; money travels as integer cents; every rule carries the guards the durable backend adds), or with --target sql the one SQL query that decides a table of flattened cases (`cases`, one column per case field; see docs/bulk.md).

Exit codes: 0 ok, 2 bad input (a bad policy, an unknown --policy, or a policy the SQL path cannot express).
"""

EXAMPLES = """Examples:

  escalator compile --policy nl

  escalator compile --policies my/policies --rules my/rules > rulesets.json

  escalator compile --policy nl --target sql --dialect postgres
"""


def compile_(
    policy: Optional[str] = POLICY_ID,
    policies: Optional[Path] = POLICIES,
    rules: Optional[Path] = RULES,
    target: Target = typer.Option(Target.durable, "--target", "-t", help="durable (ruleset JSON) or sql (one query per policy)."),
    dialect: Dialect = typer.Option(Dialect.duckdb, "--dialect", help="SQL dialect for --target sql: duckdb or postgres."),
) -> None:
    import json
    import sys

    from escalator.cli._console import bad_input
    from escalator.cli._folders import compiled_policies

    with bad_input():
        compiled = compiled_policies(policies, rules, policy)
    if target is Target.sql:
        _sql(compiled, dialect.value)
        return
    from escalator.runtime.backends.rete import (
        ruleset_json,  # pure translation: works where durable_rules does not import
    )
    merged: dict[str, Any] = {}
    for policy_id in sorted(compiled):
        merged.update(json.loads(ruleset_json(compiled[policy_id])))
    sys.stdout.write(json.dumps(merged, indent=2, ensure_ascii=False) + "\n")


def _sql(compiled: dict[str, Any], dialect: str) -> None:
    import sys

    from escalator.bulk.sql import Unsupported, decision_query
    from escalator.cli._console import bad_input
    from escalator.errors import EscalatorError

    with bad_input():
        for policy_id in sorted(compiled):
            try:
                query = decision_query(compiled[policy_id], dialect, pretty=True)
            except Unsupported as exc:
                raise EscalatorError(f"policy {policy_id}: the SQL path cannot express it ({exc}); "
                                  "bulk runs decide it with the Python engine") from None
            sys.stdout.write(f"-- policy {policy_id} {compiled[policy_id].version} ({dialect})\n{query};\n\n")
def register(app: typer.Typer) -> None:
    app.command("compile", help=HELP, short_help="Print the durable_rules ruleset or the SQL query each policy compiles to.")(compile_)
