"""`--engine python|duckdb|dask` for evaluate and impact: choosing the engine and writing bulk output.

The decisions come from `escalator.bulk`; this module only picks the engine,
writes files and prints progress, bad rows and the summary.
"""

from __future__ import annotations

from datetime import datetime

from enum import Enum
from pathlib import Path
from typing import Any, Callable

import typer

# Measured (benchmarks/README.md, bulk section): DuckDB's fixed cost (building and
# planning the query, about 1-2 s) is paid back from about this many cases on.
AUTO_THRESHOLD = 5_000
BYTES_PER_JSON_CASE = 450  # a typical case as one JSON line


class EngineName(str, Enum):
    auto = "auto"
    python = "python"
    duckdb = "duckdb"
    dask = "dask"


ENGINE = typer.Option(
    EngineName.auto, "--engine", "-e",
    help=f"python (case by case), duckdb (policies as SQL, in-process), dask (the same query per partition on a "
         f"Dask cluster); auto = python below about {AUTO_THRESHOLD:,} cases, duckdb above.")
SCHEDULER = typer.Option(None, "--scheduler", help="--engine dask: a scheduler address (default: a LocalCluster on this machine).")
OUTPUT = typer.Option(None, "--output", "-o", help="Write decisions to FILE (.jsonl, .csv or .parquet) instead of stdout.")


def estimate_cases(paths: list[str]) -> int | None:
    """About how many cases the paths hold (None: unknown, e.g. stdin)."""
    from escalator.bulk.run import expand

    total = 0
    for raw in expand(paths):
        if raw == "-":
            return None
        path = Path(raw)
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            total += pq.ParquetFile(path).metadata.num_rows
        elif path.name.lower().endswith((".jsonl", ".ndjson", ".csv")):
            total += path.stat().st_size // BYTES_PER_JSON_CASE
        else:
            total += 1
    return total


def choose(engine: EngineName, paths: list[str]) -> str:
    if engine is not EngineName.auto:
        return str(engine.value)
    count = estimate_cases(paths)
    return "duckdb" if count is not None and count >= AUTO_THRESHOLD else "python"  # noqa


def needs_bulk(engine: str, paths: list[str], output: Path | None) -> bool:
    """The bulk path: a SQL engine, a Parquet/CSV input, or an output file."""
    from escalator.bulk.run import expand, is_flat

    return engine != "python" or output is not None or any(p != "-" and is_flat(Path(p)) for p in expand(paths))


def report_policies(summary: Any, err: Callable[[str], None]) -> None:
    for pid, reasons in summary.python_policies.items():
        err(f"policy {pid}: the SQL path cannot express {'; '.join(reasons)}; its cases are decided by the "
            "Python engine")


def evaluate(paths: list[str], policies: dict[str, Any], engine: str, backend: str, output: Path | None,
             stdout_writer: Any, bar: Any, err: Callable[[str], None], scheduler: str | None,
             at: datetime | None = None) -> int:
    """Decide every case (at `at`, else each case's as_of, else the run's start); decisions to `output`
    (or `stdout_writer`); returns the number of bad rows."""
    from escalator.operations.batch import run_instant
    from escalator.bulk.io import DecisionWriter, output_format
    from escalator.bulk.run import BulkRun, decision_table

    table_output = output is not None and output_format(output) != "jsonl"
    render = None if table_output or (output is None and stdout_writer.fmt.value == "table") else (
        "json" if output is None and stdout_writer.fmt.value == "json" else "jsonl")
    if engine == "dask":
        from escalator.bulk.cluster import DaskRun

        run: Any = DaskRun(policies, backend=backend, render=render, scheduler=scheduler, instant=run_instant(at))
    else:
        run = BulkRun(policies, engine, backend=backend, render=render, reasons=not table_output,
                      instant=run_instant(at))
    report_policies(run.summary, err)
    if engine == "duckdb" and output is not None and output_format(output) == "parquet":
        written = _columnar(run, paths, output, bar)
        if written is not None:  # Parquet in, Parquet out: DuckDB end to end
            err(run.summary.line() + f"; decisions in {output}")
            return written
    writer = DecisionWriter(output, run.actions) if output is not None else None
    bad = 0
    try:
        for chunk in run.chunks(paths):
            for i, outcome in sorted(chunk.fallback.items()):
                if not outcome.ok:
                    bad += 1
                    for line in outcome.error_lines():
                        bar.print(line)
            if table_output:
                assert writer is not None
                writer.write_table(decision_table(chunk, run.actions))
            else:
                for outcome in run.outcomes(chunk):
                    if writer is not None:
                        import json

                        writer.write_json(outcome.text if outcome.ok else json.dumps(
                            outcome.error_record(), ensure_ascii=False, separators=(",", ":")))
                    else:
                        stdout_writer.write(outcome)
            bar.advance(chunk.size)
        if writer is None:
            stdout_writer.close()
    finally:
        bar.stop()
        if writer is not None:
            writer.close()
        run.close()
    err(run.summary.line() + (f"; decisions in {output}" if output is not None else ""))
    return bad


def _columnar(run: Any, paths: list[str], output: Path, bar: Any) -> int | None:
    """Parquet inputs to a Parquet output without a row through Python (None: not all inputs are Parquet,
    or too many rows for the Python engine; the chunked path then runs). Returns the number of bad rows."""
    import time

    from escalator.bulk.columnar import ColumnarRun, columnar_inputs

    files = columnar_inputs(paths)
    if files is None:
        return None
    columnar = ColumnarRun(run)
    if columnar.too_many_for_python(files):
        return None
    try:
        started = time.perf_counter()
        written = columnar.write(files, output)
        run.summary.seconds = time.perf_counter() - started
        for outcome in written.bad:
            for line in outcome.error_lines():
                bar.print(line)
        bar.advance(written.rows)
    finally:
        bar.stop()
        run.close()
    return len(written.bad)
