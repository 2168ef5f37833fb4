"""Before and after in ONE process: this tree's escalator against a git revision's, interleaved.

    python benchmarks/ab_revision.py 7902408                      # compiled backend, 3,000 NL cases
    python benchmarks/ab_revision.py 7902408 --backends compiled,durable --cases 5000 --rounds 5

The revision's `src/escalator` (with its bundled policies and packs) is copied to a temporary
folder as the package `escalator_rev` (its absolute imports renamed), so both versions run side by
side: the same cases, timed per case like bench.py, rounds interleaved, ratios to the hand-written
limit of the same run. Before timing, every decision of both versions must be the same JSON.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import handwritten_nl, workload  # noqa: E402

_IMPORT = re.compile(r"\b(from|import) escalator(?=[.\s])")
_DOTTED = re.compile(r"([\"'])escalator\.")


def install_revision(revision: str, folder: Path) -> str:
    """Copy the revision's package into `folder` as `escalator_rev`; returns the package name."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "src/escalator", "policies", "rules"],
                             check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(folder / "tree", filter="data")
    package = folder / "escalator_rev"
    (folder / "tree" / "src" / "escalator").rename(package)
    for name in ("policies", "rules"):  # the bundled folders, where an installed package keeps them
        (package / "_bundled").mkdir(exist_ok=True)
        (folder / "tree" / name).rename(package / "_bundled" / name)
    for path in package.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        path.write_text(_DOTTED.sub(r"\1escalator_rev.", _IMPORT.sub(r"\1 escalator_rev", text)), encoding="utf-8")
    sys.path.insert(0, str(folder))
    return "escalator_rev"


def time_cases(decide: Callable[[Any], Any], cases: list[Any]) -> list[int]:
    clock = time.perf_counter_ns
    out = []
    for case in cases:
        t0 = clock()
        decide(case)
        out.append(clock() - t0)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("revision", help="the git revision to compare with (e.g. main, a commit)")
    parser.add_argument("--backends", default="compiled")
    parser.add_argument("--cases", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261125)
    args = parser.parse_args(argv)
    import escalator

    cases = workload.generate(args.cases, args.seed)
    with tempfile.TemporaryDirectory() as folder:
        before = importlib.import_module(install_revision(args.revision, Path(folder)))
        impls: dict[str, Callable[[Any], Any]] = {"hand-written Python": handwritten_nl.decide}
        for backend in args.backends.split(","):
            old, new = before.Engine.default(backend=backend), escalator.Engine.default(backend=backend)
            for case in cases:
                if old.evaluate(case).to_json() != new.evaluate(case).to_json():
                    print(f"REFUSING TO REPORT: {case['case_id']} decided differently by {args.revision} and this tree")
                    return 1
            impls[f"{backend}, {args.revision}"] = old.evaluate
            impls[f"{backend}, this tree"] = new.evaluate
        print(f"{len(cases)} cases: the same decision JSON from {args.revision} and this tree")
        for decide in impls.values():  # warm-up
            time_cases(decide, cases[:500])
        samples: dict[str, list[int]] = {name: [] for name in impls}
        for _ in range(args.rounds):
            for name, decide in impls.items():
                gc.collect()
                samples[name] += time_cases(decide, cases)
    medians = {name: sorted(values)[len(values) // 2] for name, values in samples.items()}
    base = medians["hand-written Python"]
    print("| implementation | median us | p99 us | ratio to hand-written |\n|---|---:|---:|---:|")
    for name, values in samples.items():
        values.sort()
        print(f"| {name} | {medians[name] / 1000:.2f} | {values[int(len(values) * 0.99)] / 1000:.2f} | "
              f"{medians[name] / base:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
