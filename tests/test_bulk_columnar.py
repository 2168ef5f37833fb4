"""Parquet in, Parquet out with --engine duckdb (escalator.bulk.columnar): DuckDB end to end, same table as Python."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from bulk_helpers import TIMELESS, draw_cases, timeless_engine
from escalator.bulk.io import cases_table
from escalator.cli import app

ENGINE = timeless_engine()
PINNED = ("--policies", str(TIMELESS / "policies"), "--rules", str(TIMELESS / "rules"), "--at", "2026-11-25T10:00:00Z")
runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Two Parquet files of generated cases; the second holds a bad row, a row of no policy and a row
    SQL does not read (a pending_hours with a fraction in a DOUBLE column is read by Python only)."""
    folder = tmp_path_factory.mktemp("columnar")
    drawn = draw_cases(120, ENGINE)
    first = cases_table(drawn[:70])
    pq.write_table(first, folder / "a.parquet", row_group_size=16)
    second = cases_table(drawn[70:])
    vip = second.column("player.vip_level").to_pylist()
    vip[3] = 9  # out of range: a bad row
    jurisdiction = second.column("jurisdiction").to_pylist()
    jurisdiction[10] = "ZZ"  # no policy: a bad row
    hours = [float(h) if h is not None else None for h in second.column("request.withdrawal.pending_hours").to_pylist()]
    index = next(i for i, h in enumerate(hours) if h is not None and i > 12)
    hours[index] = 80.5  # a double: SQL cannot know how it was written; the Python engine reads it
    second = (second.set_column(second.schema.get_field_index("player.vip_level"), "player.vip_level", pa.array(vip, pa.int64()))
              .set_column(second.schema.get_field_index("jurisdiction"), "jurisdiction", pa.array(jurisdiction, pa.string()))
              .set_column(second.schema.get_field_index("request.withdrawal.pending_hours"),
                          "request.withdrawal.pending_hours", pa.array(hours, pa.float64())))
    pq.write_table(second, folder / "b.parquet", row_group_size=16)
    return folder


def evaluate(paths, engine, out):
    result = runner.invoke(app, ["evaluate", *map(str, paths), "--engine", engine, "--output", str(out), "--no-progress",
                                 *PINNED])
    return result


def test_columnar_table_equals_the_python_engine_s_with_bad_rows_in_place(files, tmp_path):
    paths = [files / "a.parquet", files / "b.parquet"]
    python = evaluate(paths, "python", tmp_path / "python.parquet")
    duck = evaluate(paths, "duckdb", tmp_path / "duckdb.parquet")
    assert python.exit_code == duck.exit_code == 2  # two bad rows
    want, got = pq.read_table(tmp_path / "python.parquet"), pq.read_table(tmp_path / "duckdb.parquet")
    assert got.num_rows == 118
    assert got.equals(want)
    # the problem lines name file and row, as the Python engine's do
    bad = sorted(line for line in duck.stderr.splitlines() if "b.parquet:" in line)
    assert bad == sorted(line for line in python.stderr.splitlines() if "b.parquet:" in line)
    assert any(f"b.parquet:{4}:" in line for line in bad) and any(f"b.parquet:{11}:" in line for line in bad)
    # 120 rows: file b's rows with a pending_hours (a DOUBLE column) by Python, 2 bad, the others by SQL
    # (read together, the files' pending_hours columns unify to DOUBLE: file a's go to Python too)
    hours = [pq.read_table(files / name).column("request.withdrawal.pending_hours").to_pylist() for name in ("a.parquet", "b.parquet")]
    by_python = sum(1 for h in hours[0] if h is not None) + sum(1 for i, h in enumerate(hours[1]) if h is not None and i not in (3, 10))
    assert by_python >= 1
    assert f"120 decided in" not in duck.stderr
    assert f"{120 - by_python - 2} decided in SQL, {by_python} by the Python engine, 2 bad" in duck.stderr
    # input order: file a's rows, then b's, each by row number
    assert got.column("source").to_pylist() == sorted(got.column("source").to_pylist())
    lines = got.filter(pc.equal(got.column("source"), str(files / "b.parquet"))).column("line").to_pylist()
    assert lines == sorted(lines) and 4 not in lines and 11 not in lines


def test_columnar_output_of_clean_files_streams_in_input_order(files, tmp_path):
    duck = evaluate([files / "a.parquet"], "duckdb", tmp_path / "d.parquet")
    python = evaluate([files / "a.parquet"], "python", tmp_path / "p.parquet")
    assert duck.exit_code == python.exit_code == 0, duck.output
    got = pq.read_table(tmp_path / "d.parquet")
    assert got.equals(pq.read_table(tmp_path / "p.parquet"))
    assert got.column("line").to_pylist() == list(range(1, 71))
    assert "70 decided in SQL, 0 by the Python engine, 0 bad" in duck.stderr
    assert got.schema.field("authority.goodwill_bonus").type == pa.decimal128(18, 2)
    assert all(isinstance(v, Decimal) for v in got.column("authority.goodwill_bonus").to_pylist())
