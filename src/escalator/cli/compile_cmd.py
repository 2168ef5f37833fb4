"""`escalator compile`: the durable_rules ruleset a policy compiles to, for review."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from escalator.cli._options import POLICIES, POLICY_ID, RULES

HELP = """Print the durable_rules ruleset (JSON) each policy compiles to, for review. Rule names are the rule ids; money travels as integer cents; every rule carries the guards the durable backend adds (see docs).

Examples:

  escalator compile --policy nl

  escalator compile --policies my/policies --rules my/rules > rulesets.json

Exit codes: 0 ok, 2 bad input (a bad policy, an unknown --policy, or durable-rules missing).
"""


def compile_(
    policy: Optional[str] = POLICY_ID,
    policies: Optional[Path] = POLICIES,
    rules: Optional[Path] = RULES,
) -> None:
    import json
    import sys

    from escalator.cli._render import bad_input, compiled_policies

    with bad_input():
        compiled = compiled_policies(policies, rules, policy)
    from escalator.runtime.backends.rete import (
        ruleset_json,  # pure translation: works where durable_rules does not import
    )
    merged: dict[str, Any] = {}
    for policy_id in sorted(compiled):
        merged.update(json.loads(ruleset_json(compiled[policy_id])))
    sys.stdout.write(json.dumps(merged, indent=2, ensure_ascii=False) + "\n")


def register(app: typer.Typer) -> None:
    app.command("compile", help=HELP, short_help="Print the durable_rules ruleset each policy compiles to.")(compile_)
