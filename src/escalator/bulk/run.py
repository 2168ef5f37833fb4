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

import json
import re
import time
from datetime import datetime
from decimal import Decimal
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)
from sqlglot import exp

from escalator.bulk.compose import Composer, quoted_fields, quotes_unknown_field
from escalator.bulk.schema import row_to_case
from escalator.bulk.sql import decisions_select, unsupported
from escalator.bulk.stage import FLAT, JSON, TEXT_CELLS, stage_select
from escalator.language.ir import CompiledPolicy
from escalator.operations.batch import (
    STDIN, CaseInput, Outcome, RunInstant, decided, evaluate_one, is_case_file, iter_inputs, run_instant,
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
    files: pa.Array  # where each row came from: file, and line (JSON Lines, CSV) or row (Parquet)
    lines: pa.Array
    table: pa.Table | None
    fallback: dict[int, Outcome] = field(default_factory=dict)

    def where(self, i: int) -> tuple[str, int | None]:
        return self.files[i].as_py(), self.lines[i].as_py()


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
                 render: str | None = "jsonl", threads: int | None = None, reasons: bool = True,
                 instant: RunInstant | None = None):
        from escalator.runtime.engine import Engine

        if engine not in ("python", "duckdb"):
            raise ValueError(f"unknown engine {engine!r}")
        self.policies = policies
        self.engine_name = engine
        self.render = render
        self.reasons = reasons  # False: decision tables only (the query need not pass the quoted fields through)
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
        # one instant for the whole run (cases with as_of are decided at it, by the Python engine)
        self.instant: RunInstant = instant or run_instant(None)
        self.composers = {pid: Composer(p, instant=self.instant[0]) for pid, p in self.sql_policies.items()}
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
        keep = ("_i",) + tuple(dict.fromkeys(f for p in self.sql_policies.values() for f in quoted_fields(p))
                               if self.reasons else ())
        rows = exp.select(exp.Star(), copy=False).from_("_staged", copy=False).where(
            exp.column("_ok", quoted=True), copy=False)
        decided = decisions_select(list(self.sql_policies.values()), "duckdb", exp.paren(rows, copy=False), keep)
        query = decided.with_("_staged", staged, copy=False)
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

    # -- deciding ---------------------------------------------------------------------------
    def decide(self, raw: "Raw") -> Chunk:
        """One chunk: SQL for the rows it reads exactly, the Python engine for the others."""
        table = self._decide_sql(raw.table, raw.form)
        done = _positions(table)
        fallback: dict[int, Outcome] = {}
        for i in range(raw.size):
            if i not in done:
                fallback[i] = self._python(raw, i)
        return Chunk(raw.size, raw.files, raw.lines, table, fallback)

    def _python(self, raw: "Raw", i: int) -> Outcome:
        if raw.form == JSON:
            return evaluate_one(raw.items[i], self.python, self.render, at=self.instant)
        row = raw.table.slice(i, 1).to_pylist()[0]
        return self.decide_flat_row(row, raw.files[i].as_py(), raw.lines[i].as_py(), raw.form == TEXT_CELLS)

    def decide_flat_row(self, row: dict[str, Any], source: str, line: int | None, text_cells: bool = False) -> Outcome:
        """One flat row (Parquet, CSV) decided or reported by the Python engine."""
        from escalator.errors import EscalatorError
        from escalator.operations.batch import problem_dicts

        case = row_to_case(row, text_cells)
        case_id = case.get("case_id") if isinstance(case.get("case_id"), str) else None
        try:
            at, forced = self.instant
            decision = self.python.evaluate(case, None if not forced and case.get("as_of") is not None else at).to_dict()
        except EscalatorError as exc:
            return Outcome(source, line, case_id, problems=problem_dicts(exc.problems))
        return decided(source, line, case_id, decision, self.render)

    def chunks(self, paths: Iterable[str]) -> Iterator[Chunk]:
        """Every chunk of the inputs, decided; `summary` counts them."""
        started = time.perf_counter()
        try:
            for raw in read_chunks(paths):
                chunk = self.decide(raw)
                self.count(chunk)
                yield chunk
        finally:
            self.summary.seconds = time.perf_counter() - started

    def count(self, chunk: Chunk) -> None:
        self.summary.cases += chunk.size
        self.summary.sql += chunk.table.num_rows if chunk.table is not None else 0
        for outcome in chunk.fallback.values():
            if outcome.ok:
                self.summary.python += 1
            else:
                self.summary.bad += 1

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
            source, line = chunk.where(i)
            yield decided(source, line, row["case_id"], decision, self.render)


# -- case documents in memory (differential tests, other callers) -------------------------------
_DECIMAL = re.compile(r'"\\u0000decimal:([-0-9.E+]+)"')


def case_input(source: str, line: int | None, case: dict[str, Any]) -> CaseInput:
    """A case document as the JSON line the Python path reads (Decimals as JSON numbers, exactly)."""
    def encode(value: Any) -> str:
        if isinstance(value, Decimal):
            return f"\u0000decimal:{value}"
        return value.isoformat() if isinstance(value, datetime) else str(value)

    text = _DECIMAL.sub(r"\1", json.dumps(case, default=encode))
    return CaseInput(source, line, text.encode("utf-8"))


def decide_documents(policies: dict[str, CompiledPolicy], cases: list[dict[str, Any]],
                     backend: str = "auto", at: datetime | None = None) -> tuple[list[Outcome], Summary]:
    """Decide case documents with the SQL path (DuckDB) in one chunk: a hook for differential harnesses.

    Outcomes are in input order, rendered as "jsonl" (compare `outcome.text` with `Decision.to_json()`
    at the same instant `at`)."""
    run = BulkRun(policies, "duckdb", backend=backend, render="jsonl", instant=run_instant(at))
    try:
        raw = _json_raw([case_input("<memory>", i + 1, case) for i, case in enumerate(cases)])
        chunk = run.decide(raw)
        run.count(chunk)
        return list(run.outcomes(chunk)), run.summary
    finally:
        run.close()


# -- reading ----------------------------------------------------------------------------------
@dataclass
class Raw:
    """A chunk of input rows as read: an Arrow table with `_i`, where each row came from, and the raw rows."""

    form: str  # stage.JSON, FLAT or TEXT_CELLS
    table: pa.Table
    files: pa.Array
    lines: pa.Array
    items: list[CaseInput] = field(default_factory=list)  # form JSON: the inputs themselves

    @property
    def size(self) -> int:
        return len(self.lines)

    def case(self, i: int) -> dict[str, Any]:
        """Row i of a flat chunk as the case document the Python engine validates."""
        row = self.table.slice(i, 1).to_pylist()[0]
        return row_to_case(row, self.form == TEXT_CELLS)


def read_chunks(paths: Iterable[str]) -> Iterator[Raw]:
    """The inputs in chunks, in order: JSON Lines, case files and stdin as JSON text, Parquet and CSV as columns."""
    pending: list[str] = []
    for raw in expand(paths):
        if raw != STDIN and is_flat(Path(raw)):
            if pending:
                yield from json_chunks(pending)
                pending = []
            yield from flat_chunks(raw)
        else:
            pending.append(raw)
    if pending:
        yield from json_chunks(pending)


def json_chunks(paths: list[str]) -> Iterator[Raw]:
    items: list[CaseInput] = []
    for item in iter_inputs(paths):
        items.append(item)
        if len(items) >= JSON_CHUNK_ROWS:
            yield _json_raw(items)
            items = []
    if items:
        yield _json_raw(items)


def _json_raw(items: list[CaseInput]) -> Raw:
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
    files = pa.array([item.source for item in items], pa.string()).dictionary_encode()
    return Raw(JSON, table, files, pa.array([item.line for item in items], pa.int64()), items)


def flat_chunks(path: str, row_groups: list[int] | None = None, offset: int = 0) -> Iterator[Raw]:
    """A Parquet or CSV file in chunks (Parquet: only `row_groups`, whose first row is row `offset` + 1)."""
    form = TEXT_CELLS if path.lower().endswith(".csv") else FLAT
    for table in _read_flat(path, form, row_groups):
        n = table.num_rows
        table = table.append_column("_i", pa.array(range(n), pa.int64()))
        first_line = offset + (2 if form == TEXT_CELLS else 1)  # CSV: line 1 is the header
        offset += n
        files = pa.DictionaryArray.from_arrays(pa.nulls(n, pa.int32()).fill_null(0), pa.array([path], pa.string()))
        lines = pa.compute.add(pa.array(range(n), pa.int64()), first_line)
        yield Raw(form, table, files, lines)


def _lists(column: Any) -> Any:
    """Comma-joined text (see `escalator.bulk.sql.joined`) -> lists of text."""
    import pyarrow.compute as pc

    empty = pa.scalar([], pa.list_(pa.string()))
    return pc.if_else(pc.equal(column, ""), empty, pc.split_pattern(column, ","))


def _positions(table: pa.Table | None) -> set[int]:
    if table is None or not table.num_rows:
        return set()
    return set(table.column("_i").to_pylist())


def _duck_type(con: duckdb.DuckDBPyConnection, table: pa.Table, name: str) -> str:
    """The DuckDB type an Arrow column of `table` is scanned as."""
    arrow_type = table.schema.field(name).type
    return str(con.from_arrow(pa.table({name: pa.array([], arrow_type)})).types[0])


def _read_flat(path: str, form: str, row_groups: list[int] | None = None) -> Iterator[pa.Table]:
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
    for batch in file.iter_batches(batch_size=CHUNK_ROWS, row_groups=row_groups):
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



def decision_table(chunk: Chunk, actions: tuple[str, ...]) -> pa.Table:
    """The chunk's decisions in input order as a decision table (`escalator.bulk.io.decision_schema`).

    Bad rows are left out (they are reported); Python-decided rows need `render=None`.
    """
    from escalator.bulk.io import decision_row, decision_schema

    schema = decision_schema(actions)
    parts: list[pa.Table] = []
    if chunk.table is not None and chunk.table.num_rows:
        t = chunk.table
        positions = t.column("_i")
        columns = {"_i": positions, "source": chunk.files.take(positions).cast(pa.string()),
                   "line": chunk.lines.take(positions)}
        for field_ in schema:
            if field_.name in ("source", "line"):
                continue
            if field_.name in t.column_names:
                column = t.column(field_.name)
                if field_.name.startswith("deadlines."):
                    column = column.cast(pa.int64()).cast(pa.timestamp("s", tz="UTC")).cast(field_.type)  # epoch seconds
                elif field_.name in ("forward", "flags", "rules"):
                    column = _lists(column)
                columns[field_.name] = column.cast(field_.type)
            else:
                columns[field_.name] = pa.nulls(t.num_rows, field_.type)
        parts.append(pa.table(columns))
    rows = [dict(decision_row(o.source, o.line, o.decision), _i=i) for i, o in sorted(chunk.fallback.items())
            if o.ok and o.decision is not None]
    if rows:
        with_i = pa.schema([("_i", pa.int64()), *schema])
        parts.append(pa.Table.from_pylist(rows, schema=with_i).select(parts[0].column_names if parts else
                                                                       with_i.names))
    if not parts:
        return pa.Table.from_pylist([], schema=schema)
    table = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
    return table.sort_by("_i").drop(["_i"])  # the union of the policies' queries has no order
