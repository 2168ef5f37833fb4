"""The cost of time support, measured in one process with the same code (spec section 8).

    git archive main | tar -x -C /tmp/main        # policies and rules without calendars or time rules
    PYTHONPATH=src python benchmarks/time_cost.py /tmp/main/policies /tmp/main/rules [CASES]

Decides the seeded NL workload (workload.py) under PLAIN policies (no calendars, no time rules)
and under the bundled ones, rounds interleaved, with and without the on-duty roster, and prints
the median microseconds per case and the ratio.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.workload import generate  # noqa: E402
from escalator import Engine  # noqa: E402


def main(argv: list[str]) -> None:
    plain = Engine.load(argv[0], argv[1], backend="compiled")
    timed = Engine.default(backend="compiled")
    cases = generate(int(argv[2]) if len(argv) > 2 else 5000)
    no_roster = [{k: v for k, v in c.items() if k != "on_duty"} for c in cases]
    runs = (("plain", plain, cases), ("timed", timed, cases),
            ("plain-noroster", plain, no_roster), ("timed-noroster", timed, no_roster))
    for _, engine, work in runs:
        for case in work[:300]:
            engine.evaluate(case)
    results: dict[str, list[int]] = {}
    for _ in range(3):
        for name, engine, work in runs:
            for case in work:
                start = time.perf_counter_ns()
                engine.evaluate(case)
                results.setdefault(name, []).append(time.perf_counter_ns() - start)
    median = {name: statistics.median(times) / 1000 for name, times in results.items()}
    for name, value in median.items():
        print(f"{name:16s} median {value:.2f} us")
    print(f"timed/plain with a roster: {median['timed'] / median['plain']:.2f}")
    print(f"timed/plain without a roster: {median['timed-noroster'] / median['plain-noroster']:.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
