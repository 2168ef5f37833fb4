"""Bulk runs: read JSON Lines, CSV or Parquet in chunks, decide each chunk in one DuckDB query.

    run = BulkRun(policies, engine="duckdb")
    for chunk in run.chunks(["cases.parquet"]):
        chunk.table        # Arrow: one decision row per SQL-decided case (column `_i`: position in chunk)
        chunk.fallback     # {position: Outcome} decided (or reported) by the Python engine

Rows SQL cannot read exactly, rows of policies the SQL path cannot express and
bad rows go to the Python engine one by one (`escalator.operations.batch.evaluate_one`),
so a bad row is reported with its file and line and never costs the others.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from sqlglot import exp

from escalator.bulk.compose import Composer, quoted_fields, quotes_unknown_field
from escalator.bulk.schema import row_to_case
from escalator.bulk.sql import decision_select, unsupported
from escalator.bulk.stage import FLAT, JSON, TEXT_CELLS, stage_select
from escalator.language.ir import CompiledPolicy
from escalator.operations.batch import (
    STDIN, CaseInput, Outcome, decided, evaluate_one, is_case_file, iter_inputs,
)

ENGINES = ("python", "duckdb", "dask")
FLAT_SUFFIXES = (".parquet", ".csv")
CHUNK_ROWS = 1 << 20  # rows per DuckDB query for flat files
JSON_CHUNK_ROWS = 1 << 16  # JSON lines per query (each line is held as text until decided)


def is_flat(path: Path) -> bool:
    return path.suffix.lower() in FLAT_SUFFIXES


def expand(paths: Iterable[str]) -> list[str]:
    """Folders -> their case files (recursively, name order); files and - stay as given."""
    out: list[str] = []
    for raw in paths:
        path = Path(raw)
        if raw != STDIN and path.is_dir():
            found = [p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")
                     and (is_flat(p) or is_case_file(p))]
            out.extend(str(p) for p in sorted(found, key=lambda p: p.relative_to(path).parts))
        else:
            out.append(raw)
    return out


def check_bulk_paths(paths: Iterable[str]) -> None:
    from escalator.operations.batch import InputError, check_paths

    for raw in paths:
        path = Path(raw)
        if raw != STDIN and path.is_file() and is_flat(path):
            continue
        if raw != STDIN and path.is_dir() and any(is_flat(p) for p in path.rglob("*") if p.is_file()):
            continue
        try:
            check_paths([raw])
        except InputError as exc:
            raise InputError(f"{exc} (or .parquet / .csv)") from None


@dataclass
class Chunk:
    """One chunk's results: SQL-decided rows (Arrow) and the rows the Python engine took."""

    size: int
    sources: list[tuple[str, int | None]]  # (file, line or row) per position
    table: pa.Table | None
    fallback: dict[int, Outcome] = field(default_factory=dict)


@dataclass
class Summary:
    cases: int = 0
    sql: int = 0
    python: int = 0
    bad: int = 0
    seconds: float = 0.0
    python_policies: dict[str, list[str]] = field(default_factory=dict)  # policy -> why not SQL

    def line(self) -> str:
        rate = self.cases / self.seconds if self.seconds else 0.0
        return (f"{self.cases:,} cases in {self.seconds:.1f} s ({rate:,.0f}/s): {self.sql:,} decided in SQL, "
                f"{self.python:,} by the Python engine, {self.bad:,} bad")


class BulkRun:
    """Decides chunks of cases with DuckDB (engine "duckdb") or row by row in Python ("python")."""

    def __init__(self, policies: dict[str, CompiledPolicy], engine: str = "duckdb", backend: str = "auto",
                 render: str | None = "jsonl", threads: int | None = None):
        from escalator.runtime.engine import Engine

        if engine not in ("python", "duckdb"):
            raise ValueError(f"unknown engine {engine!r}")
        self.policies = policies
        self.engine_name = engine
        self.render = render
        self.python = Engine(policies, backend)
        self.summary = Summary()
        self.sql_policies: dict[str, CompiledPolicy] = {}
        if engine == "duckdb":
            for pid, policy in policies.items():
                why = unsupported(policy) + quotes_unknown_field(policy)
                if why:
                    self.summary.python_policies[pid] = why
                else:
                    self.sql_policies[pid] = policy
        self.composers = {pid: Composer(p) for pid, p in self.sql_policies.items()}
        self.actions = tuple(dict.fromkeys(a for p in policies.values() for a in p.actions))
        self.con: duckdb.DuckDBPyConnection | None = None
        if engine == "duckdb":
            self.con = duckdb.connect()
            self.con.execute("SET TimeZone = 'UTC'")
            if threads:
                self.con.execute(f"SET threads = {int(threads)}")

    def close(self) -> None:
        self.python.close()
        if self.con is not None:
            self.con.close()

    # -- the query ------------------------------------------------------------------------
    def _query(self, form: str, types: dict[str, str] | None) -> str | None:
        if not self.sql_policies:
            return None
        staged = stage_select(form, "_batch", self.policies, set(self.sql_policies), types)
        parts: list[exp.Expr] = []
        for pid, policy in self.sql_policies.items():
            keep = ("_i",) + (quoted_fields(policy) if self.render is not None else ())
            rows = exp.select(exp.Star(), copy=False).from_("_staged", copy=False).where(
                exp.and_(exp.column("_ok", quoted=True), exp.EQ(this=exp.column("_policy", quoted=True),
                                                                  expression=exp.Literal.string(pid)), copy=False), copy=False)
            parts.append(decision_select(policy, "duckdb", exp.paren(rows, copy=False), keep))
        union = parts[0]
        for part in parts[1:]:
            union = exp.Union(this=union, expression=part, distinct=False, by_name=True)
        query = exp.select(exp.Star(), copy=False).from_(exp.alias_(exp.paren(union), "_all", copy=False), copy=False).with_("_staged", staged, copy=False)
        return query.sql("duckdb")

    def _decide_sql(self, table: pa.Table, form: str) -> pa.Table | None:
        if self.con is None:
            return None
        types = None
        if form != JSON:
            types = {name: ("VARCHAR" if form == TEXT_CELLS else _duck_type(self.con, table, name))
                     for name in table.column_names if name != "_i"}
        query = self._query(form, types)
        if query is None:
            return None
        self.con.register("_batch", table)
        try:
            return self.con.sql(query).to_arrow_table()
        finally:
            self.con.unregister("_batch")

    # -- chunks -----------------------------------------------------------------------------
    def chunks(self, paths: Iterable[str]) -> Iterator[Chunk]:
        started = time.perf_counter()
        try:
            for chunk in self._chunks(expand(paths)):
                self.summary.cases += chunk.size
                decided_here = chunk.table.num_rows if chunk.table is not None else 0
                self.summary.sql += decided_here
                for outcome in chunk.fallback.values():
                    if outcome.ok:
                        self.summary.python += 1
                    else:
                        self.summary.bad += 1
                yield chunk
        finally:
            self.summary.seconds = time.perf_counter() - started

    def _chunks(self, files: list[str]) -> Iterator[Chunk]:
        pending: list[str] = []
        for raw in files:
            if raw != STDIN and is_flat(Path(raw)):
                if pending:
                    yield from self._json_chunks(pending)
                    pending = []
                yield from self._flat_chunks(raw)
            else:
                pending.append(raw)
        if pending:
            yield from self._json_chunks(pending)

    def _json_chunks(self, paths: list[str]) -> Iterator[Chunk]:
        items: list[CaseInput] = []
        for item in iter_inputs(paths):
            items.append(item)
            if len(items) >= JSON_CHUNK_ROWS:
                yield self._json_chunk(items)
                items = []
        if items:
            yield self._json_chunk(items)

    def _json_chunk(self, items: list[CaseInput]) -> Chunk:
        texts: list[str | None] = []
        for item in items:
            text = None
            if item.text is not None and item.error is None:
                try:
                    text = item.text.decode("utf-8")
                except UnicodeDecodeError:
                    text = None
            texts.append(text)
        table = pa.table({"_i": pa.array(range(len(items)), pa.int64()), "json": pa.array(texts, pa.string())})
        decided_table = self._decide_sql(table, JSON)
        done = _positions(decided_table)
        fallback = {i: evaluate_one(item, self.python, self.render) for i, item in enumerate(items) if i not in done}
        return Chunk(len(items), [(item.source, item.line) for item in items], decided_table, fallback)

    def _flat_chunks(self, path: str) -> Iterator[Chunk]:
        form = TEXT_CELLS if path.lower().endswith(".csv") else FLAT
        offset = 0
        for table in _read_flat(path, form):
            n = table.num_rows
            table = table.append_column("_i", pa.array(range(n), pa.int64()))
            decided_table = self._decide_sql(table, form)
            done = _positions(decided_table)
            first_line = offset + (2 if form == TEXT_CELLS else 1)  # CSV: line 1 is the header
            sources: list[tuple[str, int | None]] = [(path, first_line + i) for i in range(n)]
            fallback: dict[int, Outcome] = {}
            if len(done) < n:
                rest = [i for i in range(n) if i not in done]
                rows = table.take(pa.array(rest, pa.int64())).to_pylist()
                for i, row in zip(rest, rows):
                    fallback[i] = self._python_row(row, path, sources[i][1], form == TEXT_CELLS)
            offset += n
            yield Chunk(n, sources, decided_table, fallback)

    def _python_row(self, row: dict[str, Any], source: str, line: int | None, text_cells: bool) -> Outcome:
        from escalator.errors import EscalatorError
        from escalator.operations.batch import problem_dicts

        case = row_to_case(row, text_cells)
        case_id = case.get("case_id") if isinstance(case.get("case_id"), str) else None
        try:
            decision = self.python.evaluate(case).to_dict()
        except EscalatorError as exc:
            return Outcome(source, line, case_id, problems=problem_dicts(exc.problems))
        return decided(source, line, case_id, decision, self.render)

    # -- composing -----------------------------------------------------------------------
    def outcomes(self, chunk: Chunk) -> Iterator[Outcome]:
        """Every row of the chunk in input order, SQL rows composed into the engine's decision JSON."""
        rows: dict[int, dict[str, Any]] = {}
        if chunk.table is not None and chunk.table.num_rows:
            for row in chunk.table.to_pylist():
                rows[row["_i"]] = row
        for i in range(chunk.size):
            outcome = chunk.fallback.get(i)
            if outcome is not None:
                yield outcome
                continue
            row = rows[i]
            decision = self.composers[row["policy"]].decision(row).to_dict()
            source, line = chunk.sources[i]
            yield decided(source, line, row["case_id"], decision, self.render)


def _positions(table: pa.Table | None) -> set[int]:
    if table is None or not table.num_rows:
        return set()
    return set(table.column("_i").to_pylist())


def _duck_type(con: duckdb.DuckDBPyConnection, table: pa.Table, name: str) -> str:
    """The DuckDB type an Arrow column of `table` is scanned as."""
    arrow_type = table.schema.field(name).type
    return str(con.from_arrow(pa.table({name: pa.array([], arrow_type)})).types[0])


def _read_flat(path: str, form: str) -> Iterator[pa.Table]:
    if form == TEXT_CELLS:
        import pyarrow.csv as pacsv

        names = pacsv.open_csv(path).schema.names
        options = pacsv.ConvertOptions(column_types={n: pa.string() for n in names}, strings_can_be_null=True,
                                       quoted_strings_can_be_null=False)
        reader = pacsv.open_csv(path, convert_options=options, read_options=pacsv.ReadOptions(block_size=1 << 24))
        for batch in _rebatch(reader):
            yield batch
        return
    import pyarrow.parquet as pq

    file = pq.ParquetFile(path)
    for batch in file.iter_batches(batch_size=CHUNK_ROWS):
        yield pa.Table.from_batches([batch])


def _rebatch(reader: Any) -> Iterator[pa.Table]:
    held: list[pa.RecordBatch] = []
    rows = 0
    for batch in reader:
        held.append(batch)
        rows += batch.num_rows
        if rows >= CHUNK_ROWS:
            yield pa.Table.from_batches(held)
            held, rows = [], 0
    if held:
        yield pa.Table.from_batches(held)

