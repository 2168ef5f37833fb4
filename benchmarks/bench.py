"""One-command benchmark: escalator against its peers and the hand-written limit.

    python benchmarks/bench.py                 # default run, a few minutes
    python benchmarks/bench.py --quick         # smoke run (a few hundred cases)
    python benchmarks/bench.py --full          # + CLI batch, impact and 1M-evaluation soak
    python benchmarks/bench.py --startup       # only `escalator --help` and engine load, 10 fresh processes each

On one seeded workload of NL cases it first checks that all five
implementations return the same decisions (the comparable projection below) on
every case, and refuses to report (exit 1) if any differs. Then it times each
one per case (median and p99 over all rounds, timer overhead subtracted) and
prints a table with ratios to the hand-written Python limit.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import platform
import shutil
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import handwritten_nl, workload  # noqa: E402

CENT = Decimal("0.01")
NAMES = ("handwritten", "compiled", "durable", "durable-handwritten", "durable-handwritten-api", "zen")
LABELS = {
    "handwritten": "hand-written Python (limit)",
    "compiled": "escalator, compiled backend",
    "durable": "escalator, durable backend",
    "durable-handwritten": "hand-written durable_rules (fastest: reads the action queue)",
    "durable-handwritten-api": "hand-written durable_rules (public do_actions API)",
    "zen": "GoRules zen-engine (JDM)",
}


# -- the comparable projection -------------------------------------------------
# handler, escalate, transfer, procedure, locked, authority (2-decimal strings),
# forward, flags, deadlines (UTC "...Z" strings), and the SET of fired rule ids.
# Reason messages and the policy digest are left out: only escalator writes them.

def _money(value: Any) -> str:
    return str(Decimal(str(value)).quantize(CENT))


def _when(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def project(d: Any) -> tuple:
    """Any implementation's decision -> one comparable tuple."""
    if not isinstance(d, dict):  # an escalator Decision
        d = dict(d.to_dict(), fired=d.fired)
    return (
        d["handler"], bool(d["escalate"]), d["transfer"], d.get("procedure"), bool(d["locked"]),
        tuple((k, _money(v)) for k, v in sorted(d["authority"].items())),
        tuple(d["forward"]), tuple(d["flags"]),
        (_when(d["deadlines"]["acknowledge_by"]), _when(d["deadlines"]["resolve_by"])),
        frozenset(d["fired"]),
    )


# -- implementations -----------------------------------------------------------

def implementations(names: tuple[str, ...] = NAMES, skipped: dict[str, str] | None = None) -> dict[str, Callable[[dict], Any]]:
    """name -> decide(case_dict), each built once (load time is measured separately).

    A peer whose package does not import here (zen-engine, or durable_rules on Python 3.13)
    is left out and named in `skipped`, so the run says so instead of crashing.
    """
    impls: dict[str, Callable[[dict], Any]] = {}
    for name in names:
        try:
            impls[name] = _build(name)
        except ImportError as exc:
            if skipped is None:
                raise
            skipped[name] = f"{exc} (pip install -e '.[bench]')"
    return impls


def _build(name: str) -> Callable[[dict], Any]:
    if name == "handwritten":
        return handwritten_nl.decide
    if name in ("compiled", "durable"):
        from escalator import Engine
        from escalator.runtime.backends import durable_available

        if name == "durable" and not durable_available():
            raise ImportError("durable_rules does not import")
        return Engine.default(backend=name).evaluate
    if name in ("durable-handwritten", "durable-handwritten-api"):
        from benchmarks.handwritten_durable import HandwrittenDurable

        return HandwrittenDurable(via_actions=name.endswith("-api")).decide
    if name == "zen":
        from benchmarks.zen_nl import ZenNL

        return ZenNL().decide
    raise ValueError(f"unknown implementation {name!r}")


def sabotaged(decide: Callable[[dict], Any]) -> Callable[[dict], Any]:
    """A deliberately wrong implementation (for the agreement-check test): every 50th case's handler."""
    def broken(case: dict) -> Any:
        result = decide(case)
        if int(case["case_id"].rsplit("-", 1)[-1]) % 50 == 7:
            result = dict(result.to_dict(), fired=result.fired) if not isinstance(result, dict) else dict(result)
            result["handler"] = "director"
        return result

    return broken


class Disagreement(Exception):
    pass


def check_agreement(impls: dict[str, Callable[[dict], Any]], cases: list[dict]) -> None:
    """Every implementation must give the reference's projection on every case."""
    names = list(impls)
    reference = names[0]
    problems: list[str] = []
    for case in cases:
        expected = project(impls[reference](case))
        for name in names[1:]:
            try:
                got = project(impls[name](case))
            except Exception as exc:  # a crash is a disagreement too
                got = ("error", repr(exc))
            if got != expected:
                problems.append(f"{case['case_id']}: {name} {got} != {reference} {expected}")
    if problems:
        raise Disagreement(f"{len(problems)} disagreement(s); first: {problems[0]}")


# -- timing ----------------------------------------------------------------------

def _timer_overhead() -> float:
    noop = lambda case: None  # noqa: E731
    clock = time.perf_counter_ns
    samples = []
    for _ in range(20000):
        t0 = clock()
        noop(None)
        samples.append(clock() - t0)
    return float(statistics.median(samples))


def time_cases(decide: Callable[[dict], Any], cases: list[dict]) -> list[int]:
    clock = time.perf_counter_ns
    out = []
    append = out.append
    for case in cases:
        t0 = clock()
        decide(case)
        append(clock() - t0)
    return out


def measure(impls: dict[str, Callable[[dict], Any]], cases: list[dict], rounds: int) -> dict[str, dict]:
    overhead = _timer_overhead()
    samples: dict[str, list[int]] = {name: [] for name in impls}
    totals: dict[str, list[float]] = {name: [] for name in impls}
    for name, decide in impls.items():  # warm-up
        time_cases(decide, cases[: min(len(cases), 500)])
    for _ in range(rounds):
        for name, decide in impls.items():  # interleaved, so drift hits everyone alike
            gc.collect()
            t0 = time.perf_counter()
            samples[name].extend(time_cases(decide, cases))
            totals[name].append(time.perf_counter() - t0)
    stats = {}
    for name, values in samples.items():
        values.sort()
        median = max(values[len(values) // 2] - overhead, 1.0)
        p99 = max(values[int(len(values) * 0.99)] - overhead, 1.0)
        stats[name] = {
            "median_us": median / 1000, "p99_us": p99 / 1000,
            "cases_per_s": len(cases) / min(totals[name]),
        }
    base = stats[next(iter(impls))]["median_us"]
    for value in stats.values():
        value["ratio"] = value["median_us"] / base
    return stats


def breakdown(cases: list[dict], backend: str, rounds: int = 3) -> dict[str, float]:
    """Engine.evaluate split into the stages it runs, each timed on its own like the table (median us/case).

    The top-level stages are exactly what `Engine.evaluate` does one after the other, each given
    the inputs the previous ones produced (the same policy facts, view and instant), so their
    medians add up to about the total; lines starting with "of which" are parts of the stage above.
    """
    from escalator import Engine
    from escalator.language.cases import parse_case
    from escalator.language.fields import flat_view
    from escalator.runtime.decide import decide, evaluation_instant

    engine = Engine.default(backend=backend)
    backend_ = engine._backend
    prepared = [engine.prepare(c) for c in cases]
    models = [m for m, _ in prepared]
    instants = [evaluation_instant(m) for m in models]
    views = [engine.view(m, p, at) for (m, p), at in zip(prepared, instants)]
    facts = engine._facts
    fired = [backend_.fired(p, v) for (_, p), v in zip(prepared, views)]
    decide_inputs = [(p, m, [p.rules[i] for i in f], v, facts[p.id], None, at)
                     for (m, p), f, v, at in zip(prepared, fired, views, instants)]
    decide_calls = [(m, p, at) for (m, p), at in zip(prepared, instants)]
    for case, args, call in zip(cases, decide_inputs, decide_calls):  # the stages compute what evaluate does
        whole = engine.evaluate(case).to_dict()
        staged = dict(decide(*args).to_dict(), next_review_at=whole.get("next_review_at"))
        if engine._decide(*call).to_dict() != whole or staged != whole:
            raise Disagreement(f"{case['case_id']}: the breakdown's stages do not give evaluate's decision")
    stages: dict[str, tuple[Callable[[Any], Any], list]] = {
        "evaluate (total)": (engine.evaluate, cases),
        "prepare: validation, policy and tier checks": (engine.prepare, cases),
        "  of which parse_case (pydantic validation)": (parse_case, cases),
        "decide stage: an already validated case": (lambda t: engine._decide(*t), decide_calls),
        "  of which the view (flat view + time fields)": (lambda t: engine.view(*t), decide_calls),
        "    of which flat_view": (flat_view, models),
        f"  of which backend.fired ({backend})": (lambda pv: backend_.fired(*pv), [(p, v) for (_, p), v in zip(prepared, views)]),
        "  of which decide (Decision, reasons, messages)": (lambda a: decide(*a), decide_inputs),
    }
    overhead = _timer_overhead()
    out = {}
    for name, (run, items) in stages.items():
        samples: list[int] = []
        for _ in range(rounds):
            gc.collect()
            samples.extend(time_cases(run, items))
        samples.sort()
        out[name] = max(samples[len(samples) // 2] - overhead, 1.0) / 1000
    out["  of which the rest (time rules, next_review)"] = max(
        out["decide stage: an already validated case"] - sum(out[k] for k in (
            "  of which the view (flat view + time fields)", f"  of which backend.fired ({backend})",
            "  of which decide (Decision, reasons, messages)")), 0.0)
    out["sum of the stages (prepare + decide stage)"] = (
        out["prepare: validation, policy and tier checks"] + out["decide stage: an already validated case"])
    engine.close()
    return out


# -- start-up and load -------------------------------------------------------------

STARTS = 10  # fresh processes per start-up figure (issue 19: median of 10 process starts)


def _process(argv: list[str], repeat: int) -> tuple[float, float]:
    """A whole process, `repeat` times: median wall ms (seen by the parent) and median CPU ms (its
    user + system time, which other jobs on a shared machine inflate far less than wall time)."""
    import resource

    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True, cwd=ROOT)
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000


_LOAD = (
    "import time; w0, c0 = time.perf_counter(), time.process_time(); import escalator.runtime.engine; "
    "from escalator import Engine; w1, c1 = time.perf_counter(), time.process_time(); "
    "Engine.default(backend='{b}'); w2, c2 = time.perf_counter(), time.process_time(); "
    "print(w2 - w1, c2 - c1, w2 - w0, c2 - c0)"
)


def engine_load(repeat: int) -> dict[str, float]:
    """`Engine.default()` in a fresh process: the call alone (escalator's modules already imported,
    as a service or CLI has them), and the imports plus the call (what a script pays from nothing);
    wall and CPU time, measured inside the process."""
    out: dict[str, float] = {}
    for backend in ("auto", "compiled", "durable"):
        runs = []
        for _ in range(repeat):
            done = subprocess.run([sys.executable, "-c", _LOAD.format(b=backend)], capture_output=True, text=True,
                                  check=True, cwd=ROOT)
            runs.append([float(x) * 1000 for x in done.stdout.split()[-4:]])
        for i, key in enumerate(("load_ms", "load_cpu_ms", "import_and_load_ms", "import_and_load_cpu_ms")):
            out[f"{backend}_{key}"] = statistics.median(run[i] for run in runs)
    return out


def startup(repeat: int = STARTS) -> dict[str, float | None]:
    """Every start-up figure, each the median of `repeat` fresh processes."""
    figures: dict[str, float | None] = {"starts": repeat}
    figures["python_ms"], figures["python_cpu_ms"] = _process([sys.executable, "-c", "pass"], repeat)
    exe = shutil.which("escalator", path=str(Path(sys.executable).parent)) or shutil.which("escalator")
    figures["help_ms"] = figures["help_cpu_ms"] = None
    if exe is not None:  # the console script, as users start it
        figures["help_ms"], figures["help_cpu_ms"] = _process([exe, "--help"], repeat)
    figures.update(engine_load(repeat))
    return figures


def print_startup(figures: dict[str, float | None]) -> None:
    print(f"\nstart-up (median of {figures['starts']:.0f} fresh processes; wall ms, CPU ms):")
    print(f"  python -c pass                        {figures['python_ms']:7.1f}  {figures['python_cpu_ms']:7.1f}")
    if figures["help_ms"] is not None:
        print(f"  escalator --help                      {figures['help_ms']:7.1f}  {figures['help_cpu_ms']:7.1f}")
    else:
        print("  escalator --help: not installed")
    for backend in ("auto", "compiled", "durable"):
        print(f"  Engine.default(backend={backend + ')':9s} the call  {figures[f'{backend}_load_ms']:7.1f}  "
              f"{figures[f'{backend}_load_cpu_ms']:7.1f}   with its imports  {figures[f'{backend}_import_and_load_ms']:7.1f}  "
              f"{figures[f'{backend}_import_and_load_cpu_ms']:7.1f}")


def optional(module: str, argv: list[str]) -> dict | str:
    """Run another helper's benchmark module (main(argv) -> dict) if it exists."""
    try:
        mod = importlib.import_module(f"benchmarks.{module}")
    except ModuleNotFoundError as exc:
        if exc.name == f"benchmarks.{module}":
            return "not present"
        raise
    return mod.main(argv)


# -- report ------------------------------------------------------------------------

def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version(), "platform": platform.platform()}
    for package in ("escalator", "pydantic", "pydantic-core", "durable-rules", "zen-engine"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = "not installed"
    return out


def table(stats: dict[str, dict]) -> str:
    lines = [
        "| implementation | median us/case | p99 us/case | cases/s (best round) | ratio to hand-written |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, s in stats.items():
        lines.append(f"| {LABELS.get(name, name)} | {s['median_us']:.2f} | {s['p99_us']:.2f} | "
                     f"{s['cases_per_s']:,.0f} | {s['ratio']:.2f}x |")
    return "\n".join(lines)


def targets(stats: dict[str, dict], start: dict[str, float | None]) -> list[tuple[str, bool, str]]:
    """Issue 19's targets (ratios from this one run), then the standing ones this run can check."""
    out = []
    if "compiled" in stats and "handwritten" in stats:
        base = stats["handwritten"]
        ratio = stats["compiled"]["median_us"] / base["median_us"]
        out.append(("compiled median <= 4x hand-written Python", ratio <= 4, f"{ratio:.2f}x"))
        ratio = stats["compiled"]["p99_us"] / base["p99_us"]
        out.append(("compiled p99 <= 6x hand-written Python's p99", ratio <= 6, f"{ratio:.2f}x"))
    if "durable" in stats and "durable-handwritten" in stats:
        r = stats["durable"]["median_us"] / stats["durable-handwritten"]["median_us"]
        out.append(("durable median <= 1.5x hand-written durable_rules (fastest form)", r <= 1.5, f"{r:.2f}x"))
    if start.get("help_ms") is not None:
        help_ms = start["help_ms"]
        assert help_ms is not None
        out.append((f"`escalator --help` < 250 ms (wall, median of {start['starts']:.0f} starts)", help_ms < 250,
                    f"{help_ms:.0f} ms (CPU {start['help_cpu_ms']:.0f} ms)"))
    load = start.get("auto_load_ms")
    if load is not None:
        out.append((f"Engine.default() load < 100 ms (the call, wall, median of {start['starts']:.0f} fresh processes)",
                    load < 100, f"{load:.0f} ms (CPU {start['auto_load_cpu_ms']:.0f} ms; with imports "
                    f"{start['auto_import_and_load_ms']:.0f} ms, CPU {start['auto_import_and_load_cpu_ms']:.0f} ms)"))
    if "compiled" in stats and "zen" in stats:
        c, z = stats["compiled"]["median_us"], stats["zen"]["median_us"]
        out.append(("compiled faster than zen-engine", c < z, f"{c:.1f} vs {z:.1f} us"))
    return out


def full_targets(result: dict) -> list[tuple[str, bool, str]]:
    """Targets from the other helpers' benchmarks (--full), when their figures are there."""
    out = []
    batch = result.get("cli_batch")
    if isinstance(batch, dict):
        speed = {run.get("workers"): run.get("cases_per_second") for run in batch.get("runs", [])}
        if speed.get(1) and speed.get(2):
            ratio = speed[2] / speed[1]
            out.append(("--workers 2 >= 1.7x --workers 1", ratio >= 1.7, f"{ratio:.2f}x ({speed[1]:,} -> {speed[2]:,} cases/s)"))
    soak = result.get("soak")
    if isinstance(soak, dict) and "flat" in soak:
        out.append(("flat memory over 1M evaluations", bool(soak["flat"]), f"RSS growth {soak.get('rss_growth_pct')}%"))
    return out


def startup_only(json_path: Path | None, repeat: int) -> int:
    start = startup(repeat)
    print_startup(start)
    checks = targets({}, start)
    print()
    for target, ok, value in checks:
        print(f"[{'met' if ok else 'NOT met'}] {target}: {value}")
    if json_path:
        json_path.write_text(json.dumps({"startup": start, "versions": versions(),
                                         "targets": [{"target": t, "met": ok, "value": v} for t, ok, v in checks]},
                                        indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, help="workload size (default 20000; 300 with --quick)")
    parser.add_argument("--rounds", type=int, help="timed rounds per implementation (default 5; 2 with --quick)")
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--quick", action="store_true", help="smoke run: 300 cases, 2 rounds (unless given), no load/start-up timing")
    parser.add_argument("--full", action="store_true", help="also CLI batch (100k JSONL), impact and 1M soak")
    parser.add_argument("--only", default=",".join(NAMES), help="comma-separated implementations to include")
    parser.add_argument("--breakdown", action="store_true", help="also time the stages of Engine.evaluate")
    parser.add_argument("--startup", action="store_true",
                        help=f"only the start-up figures: `escalator --help` and Engine.default(), median of {STARTS} fresh processes")
    parser.add_argument("--starts", type=int, default=STARTS, help=f"fresh processes per start-up figure (default {STARTS})")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--sabotage", choices=NAMES, help=argparse.SUPPRESS)  # for the agreement-check test
    args = parser.parse_args(argv)
    args.cases = args.cases or (300 if args.quick else 20000)
    args.rounds = args.rounds or (2 if args.quick else 5)
    names = tuple(n for n in NAMES if n in args.only.split(","))
    if args.startup:
        return startup_only(args.json, args.starts)

    cases = workload.generate(args.cases, args.seed)
    skipped: dict[str, str] = {}
    impls = implementations(names, skipped)
    for name, why in skipped.items():
        print(f"SKIPPED {name}: {why}", file=sys.stderr)
    if "handwritten" not in impls or len(impls) < 2:
        print("nothing to compare", file=sys.stderr)
        return 2
    if args.sabotage in impls:
        impls[args.sabotage] = sabotaged(impls[args.sabotage])
    print(f"workload: {len(cases)} NL cases (seed {args.seed}); checking agreement of {', '.join(impls)} ...",
          flush=True)
    try:
        check_agreement(impls, cases)
    except Disagreement as exc:
        print(f"REFUSING TO REPORT: the implementations disagree. {exc}", file=sys.stderr)
        return 1
    print("all implementations agree on every case.", flush=True)

    stats = measure(impls, cases, args.rounds)
    result: dict[str, Any] = {"cases": len(cases), "rounds": args.rounds, "per_case": stats, "skipped": skipped,
                              "versions": versions()}
    print()
    print(table(stats))
    if args.breakdown:
        result["breakdown"] = {}
        for backend in ("compiled", "durable"):
            if backend in impls:
                parts = result["breakdown"][backend] = breakdown(cases, backend)
                print(f"\nwhere escalator's time goes ({backend} backend, median us/case):")
                for stage, value in parts.items():
                    print(f"  {stage:52s} {value:8.2f}")
    start: dict[str, float | None] = {}
    if not args.quick:
        start = result["startup"] = startup(args.starts)
        print_startup(start)
    if args.full:
        for module, argv_ in (("cli_batch", []), ("impact_bench", []), ("soak", ["--quiet"])):
            print(f"\n{module}: running ...", flush=True)
            result[module] = optional(module, argv_)
            print(json.dumps(result[module], indent=2, default=str))
    checks = targets(stats, start) + full_targets(result)
    result["targets"] = [{"target": t, "met": ok, "value": v} for t, ok, v in checks]
    print()
    for target, ok, value in checks:
        print(f"[{'met' if ok else 'NOT met'}] {target}: {value}")
    print(f"\n{json.dumps(versions())}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
