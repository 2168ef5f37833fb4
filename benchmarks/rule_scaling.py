"""Load and decision time against the number of rules, for every backend.

    python benchmarks/rule_scaling.py                     # 10, 100, 1,000, 5,000 rules
    python benchmarks/rule_scaling.py --rules 10,200 --repeat 50

Generated policies (escalator.authoring.policygen.write_scaled_policy: rule i is
`request.amount > A_i and player.vip_level >= M_i`, requiring a tier), the shape that
aborted durable_rules at 200 rules and hung it at 2,000. Each (size, backend) runs in its
own process: load = `Engine.load` (YAML, compile, backend build); decide = median of
`--repeat` evaluations of each of five cases (0 to most rules firing); the table also
gives the rulesets durable splits the policy into and the most rules firing for one case.
Every backend's decisions must be identical, or the run refuses to report (exit 1).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CHILD = """
import json, statistics, time
from datetime import datetime, timezone
from escalator import Engine
from escalator.authoring.policygen import scale_cases
start = time.perf_counter()
engine = Engine.load({policies!r}, {rules!r}, backend={backend!r})
load = time.perf_counter() - start
cases = scale_cases()
at = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)  # one pinned instant for every backend
decisions = [engine.evaluate(case, at).to_json() for case in cases]
times = []
for _ in range({repeat}):
    for case in cases:
        t = time.perf_counter()
        engine.evaluate(case, at)
        times.append(time.perf_counter() - t)
rulesets = None
if {backend!r} == "durable":
    from escalator.runtime.backends.rete import layout
    rulesets = len(layout(engine.policies["xx"]).rulesets)
print(json.dumps({{"load": load, "decide": statistics.median(times), "decisions": decisions,
                  "fired": max(len(json.loads(d)["reasons"]) for d in decisions), "rulesets": rulesets}}))
"""


def measure(policies: Path, rules: Path, backend: str, repeat: int) -> dict[str, object]:
    code = _CHILD.format(policies=str(policies), rules=str(rules), backend=backend, repeat=repeat)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"{backend} failed (exit {done.returncode}): {done.stderr[-2000:]}")
    result: dict[str, object] = json.loads(done.stdout)
    return result


def main() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    from escalator.authoring.policygen import write_scaled_policy
    from escalator.runtime.backends import durable_available

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rules", default="10,100,1000,5000")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    backends = ["compiled"] + (["durable"] if durable_available() else [])
    print("| rules | backend | load (s) | median decision (ms) | most rules firing | durable rulesets |")
    print("|---:|---|---:|---:|---:|---:|")
    for size in (int(n) for n in args.rules.split(",")):
        with tempfile.TemporaryDirectory() as folder:
            policies, rules = write_scaled_policy(Path(folder), size)
            results = {backend: measure(policies, rules, backend, args.repeat) for backend in backends}
        decisions = {json.dumps(r["decisions"]) for r in results.values()}
        if len(decisions) != 1:
            raise SystemExit(f"REFUSING TO REPORT: the backends decide differently at {size} rules")
        for backend, r in results.items():
            print(f"| {size:,} | {backend} | {r['load']:.2f} | {float(r['decide']) * 1000:.3f} | "  # type: ignore[arg-type]
                  f"{r['fired']} | {r['rulesets'] if r['rulesets'] is not None else ''} |", flush=True)


if __name__ == "__main__":
    main()
