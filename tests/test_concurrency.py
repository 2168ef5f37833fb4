"""One Engine shared by 8 threads gives, for every case, the decision a sequential
run gives, byte for byte (spec section 7: safe to call from many threads).

The default run is 8 threads x 1,250 evaluations per backend; the soak script
(benchmarks/soak.py --threads 8 --evaluations 10000) runs the full 8 x 10,000.
"""

from __future__ import annotations

import copy
import os
import threading
from decimal import Decimal
from pathlib import Path

import pytest

from escalator import Engine
from escalator.language.yamlio import load_file

from datetime import datetime as _datetime, timezone as _timezone

AT = _datetime(2026, 11, 23, 10, 0, tzinfo=_timezone.utc)  # decisions are taken at an instant: tests pin it

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "cases"
THREADS = 8
PER_THREAD = int(os.environ.get("ESCALATOR_CONCURRENCY_PER_THREAD", "1250"))
BACKENDS = ["compiled", pytest.param("durable", marks=pytest.mark.durable)]


def case_pool() -> list[dict]:
    """Every example case plus variants around the money thresholds, as plain dicts."""
    pool = []
    for path in sorted(EXAMPLES.iterdir()):
        if path.suffix not in (".yaml", ".json"):
            continue
        base = load_file(path).data
        pool.append(base)
        for i, delta in enumerate(("-0.01", "0.00", "0.01", "900.00", "12000.00")):
            variant = copy.deepcopy(base)
            variant["case_id"] = f"{base['case_id']}-v{i}"
            request = variant["request"]
            if request.get("amount") is not None:
                request["amount"] = max(Decimal("0.00"), Decimal(str(request["amount"])) + Decimal(delta))
            if request.get("withdrawal"):
                amount = Decimal(str(request["withdrawal"]["amount"])) + Decimal(delta)
                request["withdrawal"]["amount"] = max(Decimal("0.00"), amount)
            variant["player"]["vip_level"] = i % 6
            variant["on_duty"] = None if i % 2 else ["agent", "supervisor"]
            pool.append(variant)
    return pool


def run_threads(engine: Engine, pool: list, per_thread: int, threads: int = THREADS) -> tuple[list, list]:
    """Each thread walks the pool with its own stride; returns (mismatches, errors)."""
    expected = [engine.evaluate(case, AT).to_json() for case in pool]
    models = [load_case_like(case) for case in pool]
    mismatches: list = []
    errors: list = []
    barrier = threading.Barrier(threads)

    def work(n: int) -> None:
        try:
            barrier.wait()
            stride = 2 * n + 1  # odd strides: every thread visits the pool in a different order
            for k in range(per_thread):
                i = (n * 7 + k * stride) % len(pool)
                case = models[i] if k % 2 else pool[i]  # typed models and raw dicts, mixed
                got = engine.evaluate(case, AT).to_json()
                if got != expected[i]:
                    mismatches.append((n, i, got, expected[i]))
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return mismatches, errors


def load_case_like(data: dict):
    from escalator.language.cases import parse_case

    return parse_case(copy.deepcopy(data))


@pytest.mark.parametrize("backend", BACKENDS)
def test_eight_threads_agree_with_sequential_run(backend):
    if backend == "durable":
        pytest.importorskip("durable_rules_engine")
    pool = case_pool()
    assert len(pool) >= 100
    with Engine.default(backend=backend) as engine:
        mismatches, errors = run_threads(engine, pool, PER_THREAD)
    assert not errors, errors[:3]
    assert not mismatches, mismatches[:2]


def test_threads_do_not_leak_fail_closed_decisions():
    """Under contention no evaluation fails (a failsafe decision would hide a race)."""
    pytest.importorskip("durable_rules_engine")
    pool = case_pool()[:30]
    with Engine.default(backend="durable") as engine:
        flags: list = []
        barrier = threading.Barrier(THREADS)

        def work() -> None:
            barrier.wait()
            for case in pool * 5:
                flags.extend(engine.evaluate(case).flags)

        workers = [threading.Thread(target=work) for _ in range(THREADS)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    assert "evaluation_failed" not in flags
    assert len(flags) > 0

