"""Bulk files: writing decisions (JSON Lines, CSV, Parquet) and cases as flat tables.

Parquet and CSV outputs are decision tables: one row per decided case with
`source`, `line`, the decision fields (authority per action, deadlines as UTC
instants, lists as lists; CSV writes lists as JSON arrays) and `rules`, the fired
rule ids. Reason texts are in the JSON Lines output, which is the engine's
decision JSON byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import pyarrow as pa

from escalator.bulk.schema import BOOL, COLUMNS, INSTANT, INT, TEXT, TEXTS, case_to_row

OUTPUT_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}
MONEY_ARROW = pa.decimal128(18, 2)
INSTANT_ARROW = pa.timestamp("us", tz="UTC")  # as DuckDB writes TIMESTAMPTZ: both paths write one schema


def output_format(path: Path) -> str:
    """jsonl, csv or parquet, by the file's suffix (ValueError for anything else)."""
    name = path.name.lower()
    for suffix, fmt in OUTPUT_SUFFIXES.items():
        if name.endswith(suffix):
            return fmt
    raise ValueError(f"{path}: the output must end in .jsonl, .csv or .parquet")


def decision_schema(actions: tuple[str, ...]) -> pa.Schema:
    return pa.schema([
        ("source", pa.string()), ("line", pa.int64()), ("case_id", pa.string()), ("policy", pa.string()),
        ("handler", pa.string()), ("escalate", pa.bool_()), ("transfer", pa.string()), ("procedure", pa.string()),
        ("locked", pa.bool_()), *((f"authority.{a}", MONEY_ARROW) for a in actions),
        ("forward", pa.list_(pa.string())), ("flags", pa.list_(pa.string())),
        ("deadlines.acknowledge_by", INSTANT_ARROW), ("deadlines.resolve_by", INSTANT_ARROW),
        ("rules", pa.list_(pa.string())),
    ])


def _instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def decision_row(source: str, line: int | None, decision: dict[str, Any]) -> dict[str, Any]:
    """A decision dict (`Decision.to_dict()`) as a row of the decision table."""
    row: dict[str, Any] = {"source": source, "line": line, "case_id": decision["case_id"],
                           "policy": decision["policy"]["id"]}
    for name in ("handler", "escalate", "transfer", "procedure", "locked"):
        row[name] = decision[name]
    for action, amount in decision["authority"].items():
        row[f"authority.{action}"] = Decimal(amount)
    row["forward"], row["flags"] = decision["forward"], decision["flags"]
    row["deadlines.acknowledge_by"] = _instant(decision["deadlines"]["acknowledge_by"])
    row["deadlines.resolve_by"] = _instant(decision["deadlines"]["resolve_by"])
    row["rules"] = [reason["rule"] for reason in decision["reasons"]]
    return row


class DecisionWriter:
    """Writes decisions to a .jsonl, .csv or .parquet file as they come."""

    def __init__(self, path: Path, actions: tuple[str, ...]):
        self.path, self.format = path, output_format(path)
        self.schema = decision_schema(actions)
        self.text: IO[str] | None = None
        self.writer: Any = None
        self.count = 0
        if self.format == "jsonl":
            self.text = open(path, "w", encoding="utf-8")

    def write_json(self, line: str) -> None:
        assert self.text is not None
        self.text.write(line + "\n")
        self.count += 1

    def write_table(self, table: pa.Table) -> None:
        """A decision table (columns as `decision_schema`; missing authority columns are null)."""
        columns = []
        for field in self.schema:
            if field.name in table.column_names:
                columns.append(table.column(field.name).cast(field.type))
            else:
                columns.append(pa.nulls(table.num_rows, field.type))
        table = pa.Table.from_arrays(columns, schema=self.schema)
        self.count += table.num_rows
        if self.format == "parquet":
            import pyarrow.parquet as pq

            if self.writer is None:
                self.writer = pq.ParquetWriter(self.path, self.schema)
            self.writer.write_table(table)
        else:
            import pyarrow.csv as pacsv

            for name in ("forward", "flags", "rules"):
                index = table.schema.get_field_index(name)
                texts = pa.array([json.dumps(v) for v in table.column(name).to_pylist()], pa.string())
                table = table.set_column(index, name, texts)
            if self.writer is None:
                self.writer = pacsv.CSVWriter(self.path, table.schema)
            self.writer.write_table(table)

    def close(self) -> None:
        if self.text is not None:
            self.text.close()
        if self.writer is None and self.format != "jsonl":
            self.write_table(pa.table({f.name: pa.array([], f.type) for f in self.schema}))
        if self.writer is not None:
            self.writer.close()


# -- cases as flat tables (inputs for tests and benchmarks) ----------------------------------
_ARROW = {TEXT: pa.string(), INT: pa.int64(), BOOL: pa.bool_(), TEXTS: pa.list_(pa.string()),
          INSTANT: pa.timestamp("s", tz="UTC")}


def cases_table(cases: Iterable[Any]) -> pa.Table:
    """Valid cases (dicts or Case models) as a flat table: one column per field, typed as Parquet holds them."""
    from escalator.language.cases import parse_case

    rows = [case_to_row(parse_case(case)) for case in cases]
    arrays = {}
    for column in COLUMNS:
        values = [row[column.path] for row in rows]
        arrow_type = _ARROW.get(column.kind, MONEY_ARROW)
        if column.kind == INSTANT:
            values = [datetime.fromtimestamp(v, tz=timezone.utc) for v in values]
        arrays[column.path] = pa.array(values, arrow_type)
    return pa.table(arrays)
