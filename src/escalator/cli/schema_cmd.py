"""`escalator schema`: JSON Schemas for policies, rule packs, cases, decisions and impact reports."""

from __future__ import annotations

from enum import Enum

import typer


class Kind(str, Enum):
    policy = "policy"
    rules = "rules"
    case = "case"
    decision = "decision"
    impact = "impact"

HELP = """Print a JSON Schema (draft 2020-12), so editors validate YAML as people type.

policy: a file in policies/;  rules: a rule pack in rules/;  case: a case file; decision: the decision JSON that `escalator evaluate --format json` prints (money as strings);  impact: the report of `escalator impact --format json`.

Then in VS Code (YAML extension), settings.json: "yaml.schemas": {"schemas/policy.json": "policies/*.yaml", "schemas/case.json": "cases/*.yaml"}

Exit codes: 0 ok, 2 bad input (an unknown kind, or a schema this build does not have).
"""

EXAMPLES = """Examples:

  escalator schema case > schemas/case.json

  escalator schema policy > schemas/policy.json
"""


def schema(kind: Kind = typer.Argument(..., help="policy, rules, case, decision or impact.")) -> None:
    import json
    import sys

    from escalator.cli import EXIT_BAD_INPUT

    from escalator.authoring.schemas import schema_for

    try:
        result = schema_for(kind.value)
    except ImportError as exc:
        sys.stderr.write(f"the {kind.value} schema is not available in this build ({exc})\n")
        raise typer.Exit(EXIT_BAD_INPUT) from None
    sys.stdout.write(json.dumps(result, indent=2, ensure_ascii=False) + "\n")

def register(app: typer.Typer) -> None:
    app.command("schema", help=HELP, short_help="Print a JSON Schema: policy, rules, case, decision or impact.",
                no_args_is_help=True)(schema)
