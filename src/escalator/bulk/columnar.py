"""Parquet in, decision table out, in DuckDB end to end: no row passes through Python on the way.

    rows = columnar_inputs(paths)                 # the Parquet files, or None (then `BulkRun.chunks`)
    bad = ColumnarRun(run).write(rows, Path("decisions.parquet"))

Two queries over `read_parquet` (all files at once, DuckDB's threads over their row groups):
1. `ok_select`: the rows SQL cannot read exactly (the stage's checks), by file and row. Only
   those are read into Python and decided (or reported) by the Python engine.
2. `COPY (stage without checks -> decision query -> decision-table columns) TO file`: the
   decision table is composed in SQL (lists, instants, source and line) and written by DuckDB.
   Python-decided rows join it as a small Arrow table, and then the rows are put back in input
   order; when every row is SQL's the query streams in input order with no sort.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlglot import exp

from escalator.bulk.io import decision_row, decision_schema
from escalator.bulk.run import BulkRun, expand
from escalator.bulk.sql import col, decisions_select, text
from escalator.bulk.stage import FLAT, fn, stage_select
from escalator.operations.batch import STDIN, Outcome

CARRY = ("_i", "_file")
LIST_OUTPUTS = ("forward", "flags", "rules")
MAX_PYTHON_ROWS = 200_000  # more rows for the Python engine than this: the chunked path (bounded memory)


def columnar_inputs(paths: Iterable[str]) -> list[str] | None:
    """The input files when every one is Parquet (the columnar path), else None."""
    files = expand(paths)
    if not files or any(f == STDIN or not f.lower().endswith(".parquet") for f in files):
        return None
    return files


@dataclass
class Written:
    """What `ColumnarRun.write` did: rows written, and the outcomes of the rows the Python engine took."""

    rows: int = 0
    python: dict[tuple[int, int], Outcome] = field(default_factory=dict)  # (file index, row) -> outcome

    @property
    def bad(self) -> list[Outcome]:
        return [o for _, o in sorted(self.python.items()) if not o.ok]


class ColumnarRun:
    """Runs a `BulkRun`'s policies over Parquet files with DuckDB's COPY (engine "duckdb" only)."""

    def __init__(self, run: BulkRun):
        if run.con is None:
            raise ValueError("the columnar path needs the duckdb engine")
        self.run = run
        self.con = run.con
        self.con.execute("SET enable_progress_bar = false")

    def source(self, files: list[str]) -> dict[str, str]:
        """Registers the view `_batch` over the files; returns the case columns and their DuckDB types."""
        listing = exp.Array(expressions=[text(f) for f in files]).sql("duckdb")
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW _batch AS SELECT * EXCLUDE (_file, file_row_number), "
                         f"file_row_number AS _i, list_position({listing}, _file) - 1 AS _file "
                         f"FROM read_parquet({listing}, filename = '_file', file_row_number = true, union_by_name = true)")
        relation = self.con.sql("SELECT * FROM _batch LIMIT 0")
        return {name: str(kind) for name, kind in zip(relation.columns, relation.types) if name not in CARRY}

    def too_many_for_python(self, files: list[str]) -> bool:
        """Too many rows for the Python engine to hold (a policy SQL cannot express, or a bad file)."""
        types = self.source(files)
        return bool(self.not_ok(types, MAX_PYTHON_ROWS + 1).num_rows > MAX_PYTHON_ROWS)

    def not_ok(self, types: dict[str, str], limit: int | None = None, run: BulkRun | None = None) -> pa.Table:
        """(_file, _i) of the rows of `_batch` that `run`'s SQL does not decide (default: this run's)."""
        run = run or self.run
        staged = stage_select(FLAT, "_batch", run.policies, set(run.sql_policies), types, CARRY)
        query = exp.select(col("_file"), col("_i"), copy=False).from_(exp.alias_(exp.paren(staged), "_s", copy=False),
                                                                       copy=False).where(
            exp.not_(col("_ok"), copy=False), copy=False)
        if limit is not None:
            query = query.limit(limit, copy=False)
        return self.con.sql(query.sql("duckdb")).to_arrow_table()

    def write(self, files: list[str], output: Path) -> Written:
        """Decide every row of the files into the Parquet decision table `output`, in input order."""
        run = self.run
        types = self.source(files)
        written = Written()
        bad_rows = self.not_ok(types)
        python_rows = self._python(files, bad_rows, written)
        parts: list[exp.Expr] = []
        if run.sql_policies:
            staged = stage_select(FLAT, "_batch", run.policies, set(run.sql_policies), types, CARRY, checked=False)
            rows = exp.select(exp.Star(), copy=False).from_(exp.alias_(exp.paren(staged), "_s", copy=False), copy=False)
            if bad_rows.num_rows:
                self.con.register("_not_ok", bad_rows)
                rows = rows.join("_not_ok", using=["_file", "_i"], join_type="anti", copy=False)
            rows = rows.where(col("_ok"), copy=False)
            decided = decisions_select(list(run.sql_policies.values()), "duckdb", exp.paren(rows, copy=False), CARRY)
            parts.append(self._table_columns(decided, files))
        if python_rows is not None:
            self.con.register("_python", python_rows)
            parts.append(exp.select(*(col(f.name) for f in python_rows.schema), copy=False).from_("_python", copy=False))
        if not parts:
            empty = pa.Table.from_pylist([], schema=decision_schema(run.actions))
            self.con.register("_python", empty)
            parts.append(exp.select(exp.Star(), copy=False).from_("_python", copy=False))
        query = parts[0]
        for part in parts[1:]:
            query = exp.Union(this=query, expression=part, distinct=False, by_name=True)
        if python_rows is not None and len(parts) > 1:  # put the Python engine's rows back in their places
            query = exp.select(exp.Star(), copy=False).from_(exp.alias_(exp.paren(query), "_all", copy=False), copy=False).order_by(
                "_f", "_i", copy=False)
        names = [exp.column(f.name, quoted=True) for f in decision_schema(run.actions)]
        final = exp.select(*names, copy=False).from_(exp.alias_(exp.paren(query), "_out", copy=False), copy=False)
        target = text(str(output)).sql("duckdb")
        self.con.execute(f"COPY ({final.sql('duckdb')}) TO {target} (FORMAT parquet)")
        written.rows = int(self.con.sql("SELECT count(*) FROM _batch").fetchall()[0][0])
        summary = run.summary
        summary.cases += written.rows
        summary.sql += written.rows - len(written.python)
        summary.python += sum(1 for o in written.python.values() if o.ok)
        summary.bad += sum(1 for o in written.python.values() if not o.ok)
        return written

    def _table_columns(self, decided: exp.Select, files: list[str]) -> exp.Select:
        """The decision query's rows as decision-table columns (io.decision_schema), composed in SQL."""
        schema = decision_schema(self.run.actions)
        listing = exp.Array(expressions=[text(f) for f in files])
        out: list[exp.Expr] = [exp.alias_(col("_file"), "_f", quoted=True, copy=False), col("_i")]
        decided_names = set()
        for e in decided.expressions:
            decided_names.add(e.alias_or_name)
        for f in schema:
            name = f.name
            if name == "source":
                value: exp.Expr = exp.Bracket(this=listing, expressions=[exp.Add(this=col("_file"), expression=exp.Literal.number(1))])
            elif name == "line":  # NULLIF: a nullable column, as the Python engine's rows write it
                value = exp.Nullif(this=exp.Add(this=col("_i"), expression=exp.Literal.number(1)), expression=exp.Literal.number(0))
            elif name == "case_id":  # never '' (a valid case_id has a character)
                value = exp.Nullif(this=col(name), expression=text(""))
            elif name in LIST_OUTPUTS:
                value = exp.case().when(exp.EQ(this=col(name), expression=text("")), exp.cast(exp.Array(expressions=[]), "VARCHAR[]"),
                                        copy=False).else_(fn("STRING_SPLIT", col(name), text(",")), copy=False)
            elif name.startswith("deadlines."):
                value = fn("TO_TIMESTAMP", col(name))
            elif name in decided_names:
                value = col(name)
            else:  # an action no SQL-decided policy has
                value = exp.cast(exp.Null(), "DECIMAL(18, 2)")
            out.append(exp.alias_(value, name, quoted=True, copy=False))
        return exp.select(*out, copy=False).from_(exp.alias_(exp.paren(decided), "_d", copy=False), copy=False)

    def _python(self, files: list[str], bad_rows: pa.Table, written: Written) -> pa.Table | None:
        """The Python engine's outcomes for the rows SQL did not take; their decision rows as Arrow (or None)."""
        if not bad_rows.num_rows:
            return None
        run = self.run
        self.con.register("_wanted", bad_rows)
        try:
            table = self.con.sql("SELECT b.* FROM _batch b SEMI JOIN _wanted USING (_file, _i) ORDER BY _file, _i").to_arrow_table()
        finally:
            self.con.unregister("_wanted")
        rows: list[dict[str, Any]] = []
        for row in table.to_pylist():
            f, i = int(row.pop("_file")), int(row.pop("_i"))
            outcome = run.decide_flat_row(row, files[f], i + 1)
            written.python[(f, i)] = outcome
            if outcome.ok and outcome.decision is not None:
                rows.append(dict(decision_row(files[f], i + 1, outcome.decision), _f=f, _i=i))
        schema = pa.schema([("_f", pa.int64()), ("_i", pa.int64()), *decision_schema(run.actions)])
        return pa.Table.from_pylist(rows, schema=schema)

