"""Benchmark of bulk runs: the Python path vs DuckDB vs a Dask LocalCluster, in one run.

    python benchmarks/bulk_bench.py                      # 1M and 10M cases
    python benchmarks/bulk_bench.py --sizes 1000000 --python-subset 20000
    python benchmarks/bulk_bench.py --policies bundled   # the bundled policies (time rules: Python)

Policies: --policies DIR (a folder with policies/ and rules/), default tests/fixtures/timeless:
the bundled policies as they were before time support, which the SQL path expresses (the
bundled ones use calendars and time rules, so their cases go to the Python engine).
Cases: DISTINCT seeded cases from `benchmarks/cli_batch.py` (every request kind, amounts
around the thresholds, JSON numbers), tiled to each size by DuckDB itself (case ids made
unique per tile, row groups of 122,880 rows) and written once to a cache folder (--cache,
default $TMPDIR/escalator-bulk-bench) as Parquet (flattened cases) and, up to --jsonl-max
cases, as JSON Lines. "decide" runs the SQL path in-process and keeps no output: the check
query, then the decision query with every decision column folded into one hash (so DuckDB
computes them all), i.e. the cost of deciding without the cost of writing a file. Every figure is the real CLI in a subprocess
(`escalator evaluate ... --engine E --output decisions.parquet`, `escalator impact
--engine duckdb`), timed from start to exit, with the peak RSS of its process tree
(psutil, sampled every 50 ms). The Python path is measured on --python-subset cases and
its rate extrapolated (said in the output). Ratios are against that rate, in this run.
The machine's load average is printed before and after: it is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from benchmarks.cli_batch import PeakMemory, generate_lines  # noqa: E402

DISTINCT = 20_000
SUMMARY = re.compile(r"(?:cases|errors) in ([0-9.]+) s")


def build_inputs(cache: Path, sizes: list[int], jsonl_max: int, subset: int, policies: Path) -> dict[str, Path]:
    """The input files, generated once (kept in `cache` between runs)."""
    import pyarrow.parquet as pq

    from escalator.bulk.io import cases_table

    cache.mkdir(parents=True, exist_ok=True)
    import duckdb

    lines = generate_lines(DISTINCT)
    files: dict[str, Path] = {}
    distinct = cache / "distinct.parquet"
    if not distinct.exists():
        pq.write_table(cases_table(json.loads(line) for line in lines), distinct)
    for size in sorted(set(sizes + [subset])):
        parquet = cache / f"cases-{size}.parquet"
        if not parquet.exists():
            copies = -(-size // DISTINCT)
            con = duckdb.connect()
            con.execute("SET enable_progress_bar = false")
            con.execute(f"COPY (SELECT c.* REPLACE (case_id || '-' || t.range AS case_id) FROM range({copies}) t, "
                        f"read_parquet('{distinct}') c ORDER BY t.range LIMIT {size}) TO '{parquet}' "
                        "(FORMAT parquet, ROW_GROUP_SIZE 122880)")
            con.close()
        files[f"parquet-{size}"] = parquet
        if size <= jsonl_max:
            jsonl = cache / f"cases-{size}.jsonl"
            if not jsonl.exists():
                with open(jsonl, "w", encoding="utf-8") as out:
                    for i in range(size):
                        out.write(lines[i % DISTINCT] + "\n")
            files[f"jsonl-{size}"] = jsonl
    candidate = cache / f"candidate-{policies.name}"
    if not candidate.exists():
        shutil.copytree(policies / "policies", candidate / "policies")
        shutil.copytree(policies / "rules", candidate / "rules")
        nl = candidate / "policies" / "nl.yaml"
        nl.write_text(nl.read_text().replace("large_win:", "large_win: 5000.00 #", 1))  # a lower NL large-win threshold
    files["candidate"] = candidate
    return files


def run(args: list[str], cwd: Path) -> dict[str, Any]:
    """The CLI (or, for args starting with "--decide-only", this script) in a subprocess, timed, with its peak RSS."""
    cmd = [sys.executable, *(["-m", "escalator"] if args[0] != "--decide-only" else [__file__]), *args]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env=env)
    sampler = PeakMemory(proc.pid)
    out, err = proc.communicate()
    seconds = time.perf_counter() - start
    peak = sampler.result()
    text = err.decode()
    found = SUMMARY.search(text)  # evaluate's own summary: the run without interpreter start-up and loading
    return {"command": "escalator " + " ".join(args), "exit_code": proc.returncode, "seconds": round(seconds, 2),
            "in_run_seconds": float(found.group(1)) if found else None,
            "peak_rss_tree_mb": peak["tree_rss"], "stderr_tail": text[-300:].strip(), "stdout_bytes": len(out)}


def decide_only(files: list[str], policies: str, at: str) -> None:
    """In-process: decide every row of the Parquet files with the SQL path, keep no output (prints a summary line)."""
    from datetime import datetime

    from sqlglot import exp

    from escalator.bulk.columnar import CARRY, ColumnarRun
    from escalator.bulk.run import BulkRun
    from escalator.bulk.sql import decisions_select
    from escalator.bulk.stage import FLAT, stage_select
    from escalator.runtime.engine import Engine

    engine = (Engine.default("compiled") if policies == "bundled"
              else Engine.load(Path(policies) / "policies", Path(policies) / "rules", "compiled"))
    run = BulkRun(engine.policies, "duckdb", backend="compiled", render=None, reasons=False,
                  instant=(datetime.fromisoformat(at.replace("Z", "+00:00")), True))
    start = time.perf_counter()
    columnar = ColumnarRun(run)
    types = columnar.source(files)
    python = columnar.not_ok(types).num_rows
    staged = stage_select(FLAT, "_batch", run.policies, set(run.sql_policies), types, CARRY, checked=False)
    rows = exp.select(exp.Star()).from_(exp.alias_(exp.paren(staged), "_s")).where(exp.column("_ok", quoted=True))
    decided = decisions_select(list(run.sql_policies.values()), "duckdb", exp.paren(rows), CARRY)
    names = ", ".join(f'"{e.alias_or_name}"' for e in decided.expressions)
    count, folded = run.con.sql(f"SELECT count(*), sum(hash({names})) FROM ({decided.sql('duckdb')})").fetchall()[0]  # type: ignore[union-attr]
    seconds = time.perf_counter() - start
    print(f"{count:,} cases in {seconds:.2f} s: decided in SQL ({python:,} rows for the Python engine not decided here; "
          f"hash {folded})", file=sys.stderr)


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000000,10000000", help="case counts, comma-separated")
    parser.add_argument("--python-subset", type=int, default=20_000, help="cases the Python path decides")
    parser.add_argument("--jsonl-max", type=int, default=1_000_000, help="largest size also written as JSON Lines")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "escalator-bulk-bench")
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--no-impact", action="store_true")
    parser.add_argument("--no-evaluate", action="store_true", help="skip evaluate --output decisions.parquet")
    parser.add_argument("--policies", default=str(ROOT / "tests" / "fixtures" / "timeless"),
                        help="folder with policies/ and rules/, or 'bundled'")
    parser.add_argument("--at", default="2026-11-25T10:00:00Z", help="the instant every run decides at")
    parser.add_argument("--decide-only", nargs="+", metavar="PARQUET", help=argparse.SUPPRESS)
    ns = parser.parse_args(argv)
    if ns.decide_only:
        decide_only(ns.decide_only, ns.policies, ns.at)
        return {}
    sizes = [int(s) for s in ns.sizes.split(",") if s]
    if ns.policies == "bundled":
        from escalator.language.sources import bundled_dir

        policies_dir = bundled_dir("policies").parent
        folders: list[str] = []
    else:
        policies_dir = Path(ns.policies).resolve()
        folders = ["--policies", str(policies_dir / "policies"), "--rules", str(policies_dir / "rules")]
    common = [*folders, "--at", ns.at, "--no-progress"]
    files = build_inputs(ns.cache, sizes, ns.jsonl_max, ns.python_subset, policies_dir)
    out = ns.cache / "out"
    out.mkdir(exist_ok=True)
    results: dict[str, Any] = {"load_before": load(), "cpus": os.cpu_count(), "runs": []}

    def measure(name: str, cases: int, args: list[str]) -> dict[str, Any]:
        figures = run(args, ns.cache)
        figures.update(name=name, cases=cases, cases_per_s=round(cases / figures["seconds"]))
        if figures["in_run_seconds"]:
            figures["in_run_cases_per_s"] = round(cases / figures["in_run_seconds"])
        results["runs"].append(figures)
        print(json.dumps(figures), flush=True)
        return figures

    subset = ns.python_subset
    python = measure("python (Parquet subset)", subset,
                     ["evaluate", str(files[f"parquet-{subset}"]), "--engine", "python", *common,
                      "--output", str(out / "python.parquet")])
    measure("duckdb (same subset)", subset,
            ["evaluate", str(files[f"parquet-{subset}"]), "--engine", "duckdb", *common,
             "--output", str(out / "duckdb-subset.parquet")])
    import pyarrow.parquet as pq

    results["subset_outputs_equal"] = pq.read_table(out / "python.parquet").equals(
        pq.read_table(out / "duckdb-subset.parquet"))
    python_rate = python["cases_per_s"]
    base = "bundled" if ns.policies == "bundled" else str(policies_dir)
    for size in sizes:
        measure(f"duckdb decide (no output) Parquet {size:,}", size,
                ["--decide-only", str(files[f"parquet-{size}"]), "--policies", ns.policies, "--at", ns.at])
        if not ns.no_evaluate:
            measure(f"duckdb Parquet -> Parquet {size:,}", size, ["evaluate", str(files[f"parquet-{size}"]), "--engine",
                                                                  "duckdb", *common, "--output", str(out / f"duckdb-{size}.parquet")])
        if f"jsonl-{size}" in files:
            measure(f"duckdb JSON Lines {size:,}", size,
                    ["evaluate", str(files[f"jsonl-{size}"]), "--engine", "duckdb", *common,
                     "--output", str(out / f"duckdb-{size}.jsonl")])
        if not ns.no_dask:
            measure(f"dask LocalCluster (2 workers) Parquet {size:,}", size,
                    ["evaluate", str(files[f"parquet-{size}"]), "--engine", "dask", *common,
                     "--output", str(out / f"dask-{size}.parquet")])
        if not ns.no_impact:
            measure(f"impact duckdb Parquet {size:,}", size,
                    ["impact", "--base", base, "--candidate", str(files["candidate"]), str(files[f"parquet-{size}"]),
                     "--engine", "duckdb", "--format", "json", "--no-progress", "--at", ns.at])
    in_run_rate = python.get("in_run_cases_per_s")
    for figures in results["runs"]:
        figures["x_python"] = round(figures["cases_per_s"] / python_rate, 1) if python_rate else None
        if in_run_rate and figures.get("in_run_cases_per_s"):
            figures["x_python_in_run"] = round(figures["in_run_cases_per_s"] / in_run_rate, 1)
    results["python_rate_note"] = (f"the Python path was measured on {subset:,} cases ({python_rate:,} cases/s) "
                                   "and its rate is extrapolated to the larger sizes")
    results["load_after"] = load()
    print(json.dumps({k: v for k, v in results.items() if k != "runs"}), flush=True)
    print("\n| run | cases | wall s | cases/s (wall) | x Python (wall) | in-run s | cases/s (in run) | x Python (in run) "
          "| peak RSS (MB) |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for f in results["runs"]:
        print(f"| {f['name']} | {f['cases']:,} | {f['seconds']} | {f['cases_per_s']:,} | {f['x_python']} | "
              f"{f.get('in_run_seconds') or '-'} | {f.get('in_run_cases_per_s', '-')} | {f.get('x_python_in_run', '-')} "
              f"| {f['peak_rss_tree_mb']} |")
    return results


if __name__ == "__main__":
    main()
