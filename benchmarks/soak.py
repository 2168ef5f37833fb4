"""Soak: 1,000,000 evaluations in one process, with resident memory at every 100,000.

Memory must be flat: RSS at the end within 10% of RSS after the first 100,000
(the first 100k warm up caches, pydantic, the durable engine). Decisions must not
drift either: a sample of cases is re-checked against its first decision on
every pass, and no evaluation may fail closed.

    python benchmarks/soak.py --evaluations 1000000 --backend compiled|durable
    python benchmarks/soak.py --threads 8 --evaluations 10000   # 8 x 10,000 against one Engine

`main(argv)` returns the report as a dict (benchmarks/bench.py --full calls it).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import workload  # noqa: E402

FLAT_WITHIN = 0.10
SAMPLE_EVERY = 97  # pool indices re-checked against their first decision


def rss_bytes() -> int:
    """Resident set size of this process now (psutil when installed, else /proc)."""
    try:
        import psutil

        return psutil.Process().memory_info().rss
    except ImportError:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _mb(value: int) -> float:
    return round(value / (1024 * 1024), 1)


def soak(evaluations: int, backend: str, pool_size: int, checkpoint: int, progress: bool) -> dict[str, Any]:
    from escalator import Engine

    pool = workload.generate(pool_size)
    first: dict[int, str] = {}
    drift = failed = 0
    checkpoints: list[dict[str, Any]] = []
    with Engine.default(backend=backend) as engine:
        start = time.perf_counter()
        for n in range(1, evaluations + 1):
            i = (n - 1) % pool_size
            decision = engine.evaluate(pool[i])
            if "evaluation_failed" in decision.flags:
                failed += 1
            if i % SAMPLE_EVERY == 0:
                text = decision.to_json()
                if first.setdefault(i, text) != text:
                    drift += 1
            if n % checkpoint == 0 or n == evaluations:
                gc.collect()
                elapsed = time.perf_counter() - start
                checkpoints.append({"evaluations": n, "rss_mb": _mb(rss_bytes()), "seconds": round(elapsed, 1)})
                if progress:
                    print(f"  {n:>9,} evaluations  rss {checkpoints[-1]['rss_mb']:.1f} MB  {elapsed:.0f} s",
                          file=sys.stderr, flush=True)
        backend_name = engine.backend
    seconds = time.perf_counter() - start
    # the baseline: after 100,000 evaluations (warm), or the first checkpoint in a shorter run
    base = next((c for c in checkpoints if c["evaluations"] == 100_000), checkpoints[0])
    end = checkpoints[-1]
    growth = (end["rss_mb"] - base["rss_mb"]) / base["rss_mb"] if base["rss_mb"] else 0.0
    return {
        "mode": "soak",
        "backend": backend_name,
        "evaluations": evaluations,
        "distinct_cases": pool_size,
        "seconds": round(seconds, 1),
        "evaluations_per_second": round(evaluations / seconds),
        f"rss_mb_at_{base['evaluations']}": base["rss_mb"],
        f"rss_mb_at_{end['evaluations']}": end["rss_mb"],
        "rss_growth_pct": round(100 * growth, 2),
        "flat": growth <= FLAT_WITHIN,
        "failed_closed": failed,
        "decision_drift": drift,
        "ok": growth <= FLAT_WITHIN and failed == 0 and drift == 0,
        "checkpoints": checkpoints,
    }


def threaded(threads: int, per_thread: int, backend: str, pool_size: int) -> dict[str, Any]:
    """`threads` threads x `per_thread` evaluations on one Engine, checked against a sequential run."""
    from escalator import Engine

    pool = workload.generate(pool_size)
    with Engine.default(backend=backend) as engine:
        t0 = time.perf_counter()
        expected = [engine.evaluate(case).to_json() for case in pool]
        sequential = time.perf_counter() - t0
        mismatches: list[int] = []
        errors: list[str] = []
        barrier = threading.Barrier(threads)

        def work(n: int) -> None:
            try:
                barrier.wait()
                for k in range(per_thread):
                    i = (n * 7919 + k * (2 * n + 1)) % pool_size
                    if engine.evaluate(pool[i]).to_json() != expected[i]:
                        mismatches.append(i)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(f"{type(exc).__name__}: {exc}")

        workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
        t0 = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        seconds = time.perf_counter() - t0
        backend_name = engine.backend
    total = threads * per_thread
    return {
        "mode": "threads",
        "backend": backend_name,
        "threads": threads,
        "evaluations": total,
        "seconds": round(seconds, 2),
        "evaluations_per_second": round(total / seconds),
        "sequential_seconds_per_1000": round(1000 * sequential / pool_size, 3),
        "mismatches": len(mismatches),
        "errors": errors[:5],
        "ok": not mismatches and not errors,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--evaluations", type=int, default=1_000_000,
                        help="total evaluations (soak) or evaluations per thread (--threads)")
    parser.add_argument("--backend", default="auto", choices=("auto", "compiled", "durable"))
    parser.add_argument("--pool", type=int, default=5_000, help="distinct generated cases, evaluated round robin")
    parser.add_argument("--checkpoint", type=int, default=100_000, help="record RSS every N evaluations")
    parser.add_argument("--threads", type=int, default=0, help="run N threads on one Engine instead of the soak")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    if args.threads:
        report = threaded(args.threads, args.evaluations, args.backend, args.pool)
    else:
        report = soak(args.evaluations, args.backend, args.pool, args.checkpoint, not args.quiet)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    result = main()
    print(json.dumps(result, indent=2))
    sys.exit(0 if result["ok"] else 1)
