"""What the decision log costs per decision, in process: building a row, and writing rows
to SQLite (WAL) in batches of 100 and one per transaction.

    python benchmarks/log_cost.py            # 1,000 workload cases, a few seconds
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import workload  # noqa: E402
from escalator.language.cases import parse_case  # noqa: E402
from escalator.log.masking import Masker  # noqa: E402
from escalator.log.record import make_record, policy_set_digest  # noqa: E402
from escalator.log.store import DecisionLog  # noqa: E402
from escalator.runtime.engine import Engine  # noqa: E402


def per_item_us(start: float, count: int) -> float:
    return round((time.perf_counter() - start) / count * 1e6, 1)


def main(count: int = 1000) -> dict[str, float]:
    engine = Engine.default(backend="compiled")
    models = [parse_case(c) for c in workload.generate(count)]
    decisions = [engine.evaluate(m) for m in models]
    texts = [d.to_json() for d in decisions]
    masker, digest = Masker(None), policy_set_digest(engine.policies)
    figures: dict[str, float] = {}
    start = time.perf_counter()
    for model in models:
        engine.evaluate(model)
    figures["evaluate a validated case"] = per_item_us(start, count)
    start = time.perf_counter()
    rows = [make_record(m, d, engine.policies[d.policy.id], masker, digest, "bench", decision_json=t)
            for m, d, t in zip(models, decisions, texts)]
    figures["build a log row"] = per_item_us(start, count)
    with tempfile.TemporaryDirectory() as tmp, DecisionLog(str(Path(tmp) / "d.db")) as log:
        start = time.perf_counter()
        for i in range(0, count, 100):
            log.append(rows[i:i + 100])
        figures["write, 100 rows per transaction (per row)"] = per_item_us(start, count)
        start = time.perf_counter()
        for row in rows[:200]:
            log.append([row])
        figures["write, one row per transaction"] = per_item_us(start, 200)
    for name, value in figures.items():
        print(f"{name}: {value} us")
    return figures


if __name__ == "__main__":
    main()
