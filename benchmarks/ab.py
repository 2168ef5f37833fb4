"""Two source trees of escalator, timed against each other on a shared, loaded machine.

    git archive REV src policies rules | tar -x -C /tmp/before
    python benchmarks/ab.py /tmp/before/src $PWD/src [--backends compiled,durable] [--cases 20000] [--rounds 2]

One worker process per (tree, backend) loads `Engine.default` from its tree and decides the
seeded NL workload (workload.py). The parent hands the workers the same 50 cases in turn, so
a burst of load from other processes hits every variant alike (separate runs of bench.py on
a machine shared by other jobs differed by 30% from one minute to the next). Each worker
times each case itself (`perf_counter_ns`); the parent prints medians, p99 and the ratio of
medians, tree B over tree A. It does not check agreement: bench.py does, per tree.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHUNK = 50

WORKER = r"""
import json, sys, time
sys.path.insert(0, {root!r})
from benchmarks.workload import generate
from escalator import Engine
engine = Engine.default(backend={backend!r})
cases = generate({cases})
for case in cases[:500]:
    engine.evaluate(case)
clock, evaluate = time.perf_counter_ns, engine.evaluate
print("ready", flush=True)
for line in sys.stdin:
    start, end = map(int, line.split())
    out = []
    for case in cases[start:end]:
        t0 = clock()
        evaluate(case)
        out.append(clock() - t0)
    print(json.dumps(out), flush=True)
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tree_a", help="the src folder of tree A (before)")
    parser.add_argument("tree_b", help="the src folder of tree B (after)")
    parser.add_argument("--backends", default="compiled,durable")
    parser.add_argument("--cases", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    workers = {}
    for backend in args.backends.split(","):
        for label, tree in (("A", args.tree_a), ("B", args.tree_b)):
            env = dict(os.environ, PYTHONPATH=str(Path(tree).resolve()))
            code = WORKER.format(root=str(ROOT), backend=backend, cases=args.cases)
            process = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       text=True, env=env)
            workers[(backend, label)] = process
    for process in workers.values():
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    samples: dict[tuple[str, str], list[int]] = {key: [] for key in workers}
    for _ in range(args.rounds):
        for turn, start in enumerate(range(0, args.cases, CHUNK)):
            order = list(workers.items())
            for key, process in order[turn % len(order):] + order[:turn % len(order)]:  # each goes first in turn
                assert process.stdin is not None and process.stdout is not None
                process.stdin.write(f"{start} {start + CHUNK}\n")
                process.stdin.flush()
                samples[key].extend(json.loads(process.stdout.readline()))
    for process in workers.values():
        assert process.stdin is not None
        process.stdin.close()
        process.wait()
    print(f"{args.cases} NL cases x {args.rounds} rounds, interleaved per {CHUNK} cases; A = {args.tree_a}, "
          f"B = {args.tree_b}")
    for backend in args.backends.split(","):
        stats = {}
        for label in ("A", "B"):
            values = sorted(samples[(backend, label)])
            stats[label] = (statistics.median(values) / 1000, values[int(len(values) * 0.99)] / 1000)
        print(f"{backend:9s} A median {stats['A'][0]:7.2f} us p99 {stats['A'][1]:7.2f} | "
              f"B median {stats['B'][0]:7.2f} us p99 {stats['B'][1]:7.2f} | B/A {stats['B'][0] / stats['A'][0]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
