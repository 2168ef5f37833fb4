"""The NL policy as a GoRules zen-engine JDM decision graph (benchmarks/nl.jdm.json).

The whole decision is in the graph, nothing is computed in Python:
  input -> `rules` (decision table, hit policy collect: one row per rule, each
  cell a null-safe condition) -> `route` (expressions: locked, handler by level
  and priority) -> `tier` (decision table, first hit: the handler tier's level,
  fallback and NL limits) -> `decision` (expressions: escalate, transfer,
  authority with caps and denials, forward, flags, deadlines via d().add()).
Zen's comparisons fail on null (`null > 25` is an error), so every optional
field is guarded with `!= null`; money is compared as the JSON number it arrived as.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import zen

JDM = Path(__file__).with_name("nl.jdm.json")


class ZenNL:
    def __init__(self, path: Path = JDM) -> None:
        self._engine = zen.ZenEngine()
        self._decision = self._engine.create_decision(zen.ZenDecisionContent(path.read_text()))

    def decide(self, case: dict[str, Any]) -> dict[str, Any]:
        return self._decision.evaluate(case)["result"]


def version() -> str:
    from importlib.metadata import version as v

    return v("zen-engine")
