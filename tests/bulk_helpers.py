"""Helpers for the bulk tests: cases as JSON Lines (numbers as JSON numbers) and the Python engine's answers."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from escalator.bulk.run import BulkRun
from escalator.operations.batch import Outcome, evaluate_stream, iter_inputs

_NUMBER = re.compile(r'"__decimal__([-0-9.E+]+)"')


def dumps(case: dict[str, Any], numbers: bool = True) -> str:
    """A case as one JSON line; Decimals as JSON numbers (numbers=True) or as decimal text."""
    text = json.dumps(case, default=lambda d: f"__decimal__{d}" if numbers else str(d))
    return _NUMBER.sub(r"\1", text) if numbers else text


def write_jsonl(path: Path, cases: list[dict[str, Any]], numbers: bool = True) -> Path:
    path.write_text("".join(dumps(c, numbers) + "\n" for c in cases), encoding="utf-8")
    return path


AT = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)  # both paths decide at one pinned instant


def python_outcomes(paths: list[str], policies: dict, render: str | None = "jsonl") -> list[Outcome]:
    return list(evaluate_stream(iter_inputs(paths), policies, "compiled", 1, render, at=AT))


def bulk_outcomes(paths: list[str], policies: dict, engine: str = "duckdb") -> tuple[list[Outcome], BulkRun]:
    run = BulkRun(policies, engine, backend="compiled", instant=(AT, True))
    try:
        return [o for chunk in run.chunks(paths) for o in run.outcomes(chunk)], run
    finally:
        run.close()


def same(got: list[Outcome], want: list[Outcome]) -> list[tuple[Outcome, Outcome]]:
    """The pairs that differ (decision bytes, problems, source line)."""
    assert len(got) == len(want)
    return [(g, w) for g, w in zip(got, want) if (g.text, g.problems, g.line, g.source) != (w.text, w.problems, w.line, w.source)]


def is_decimal(value: Any) -> bool:
    return isinstance(value, Decimal)


def draw_cases(n: int, engine: Any) -> list[dict[str, Any]]:
    """n generated cases (escalator.authoring.strategies), one per hypothesis example, ids G-0..G-n.

    Without a status history, an as_of or a pausing status: those cases are the Python engine's
    (test_bulk_sql checks that the SQL path hands them back), and these tests measure the SQL path.
    """
    from hypothesis import HealthCheck, Phase, given, settings

    from escalator.authoring.strategies import cases

    drawn: list[dict[str, Any]] = []

    @settings(max_examples=n, deadline=None, database=None, phases=[Phase.generate], derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(cases(engine=engine))
    def draw(case: dict[str, Any]) -> None:
        drawn.append(case)

    draw()
    for i, case in enumerate(drawn):
        case["case_id"] = f"G-{i}"
        case.pop("history", None)
        case.pop("as_of", None)
        if case.get("status") == "awaiting_player":
            case["status"] = "open"
    return drawn


# The bundled policies use time (calendars, SLA clocks from history, time rules), which the SQL
# path does not express: bulk runs decide them with the Python engine (tested in test_bulk_sql).
# The SQL path itself is tested on the bundled policies as they were before time support.
TIMELESS = Path(__file__).resolve().parent / "fixtures" / "timeless"


def timeless_engine() -> Any:
    from escalator.runtime.engine import Engine

    return Engine.load(TIMELESS / "policies", TIMELESS / "rules", backend="compiled")


def timeless_examples() -> list[Path]:
    """The example cases that carry no history or as_of (the ones the timeless policies decide)."""
    folder = Path(__file__).resolve().parent.parent / "examples" / "cases"
    return sorted(p for p in folder.iterdir()
                  if "history:" not in p.read_text() and '"history"' not in p.read_text()
                  and "as_of" not in p.read_text())
