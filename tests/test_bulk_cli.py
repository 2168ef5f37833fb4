"""`escalator evaluate --engine duckdb`: Parquet, CSV and JSON Lines in; JSON Lines, CSV and Parquet out."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from bulk_helpers import bulk_outcomes, draw_cases, same, write_jsonl, TIMELESS, timeless_engine
from escalator.bulk.io import cases_table
from escalator.cli import app
from escalator.runtime.engine import Engine

ENGINE = timeless_engine()
# the policies as before time support (the SQL path's), and one instant for both engines
PINNED = ("--policies", str(TIMELESS / "policies"), "--rules", str(TIMELESS / "rules"), "--at", "2026-11-25T10:00:00Z")
runner = CliRunner()


def as_csv(table: pa.Table, path: Path) -> Path:
    """A flat table as CSV: lists as JSON arrays, instants as ISO text."""
    columns = {}
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_list(column.type):
            columns[name] = pa.array([None if v is None else json.dumps(v) for v in column.to_pylist()], pa.string())
        elif pa.types.is_timestamp(column.type):
            columns[name] = pa.array([v.strftime("%Y-%m-%dT%H:%M:%SZ") for v in column.to_pylist()], pa.string())
        else:
            columns[name] = column
    pacsv.write_csv(pa.table(columns), path)
    return path


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """200 generated cases as JSON Lines, Parquet and CSV."""
    folder = tmp_path_factory.mktemp("flat")
    drawn = draw_cases(200, ENGINE)
    table = cases_table(drawn)
    pq.write_table(table, folder / "cases.parquet", row_group_size=64)
    as_csv(table, folder / "cases.csv")
    write_jsonl(folder / "cases.jsonl", drawn)
    return folder


@pytest.mark.parametrize("name", ["cases.parquet", "cases.csv", "cases.jsonl"])
def test_flat_and_json_inputs_decide_like_the_python_engine(generated, name):
    path = str(generated / name)
    got, run = bulk_outcomes([path], ENGINE.policies, "duckdb")
    want, _ = bulk_outcomes([path], ENGINE.policies, "python")
    assert same(got, want) == []
    assert run.summary.bad == 0 and run.summary.sql + run.summary.python == 200
    if name != "cases.jsonl":  # JSON Lines: a pending_hours written as a fraction (80.5) goes to the Python engine
        assert run.summary.sql == 200


def test_cli_outputs_agree_across_engines(generated, tmp_path):
    outputs = {}
    for engine in ("python", "duckdb"):
        for suffix in ("jsonl", "parquet", "csv"):
            out = tmp_path / f"{engine}.{suffix}"
            result = runner.invoke(app, ["evaluate", str(generated / "cases.parquet"), "--engine", engine,
                                         "--output", str(out), *PINNED])
            assert result.exit_code == 0, result.output
            assert "200 cases in" in result.stderr
            outputs[engine, suffix] = out
    assert outputs["python", "jsonl"].read_bytes() == outputs["duckdb", "jsonl"].read_bytes()
    assert outputs["python", "csv"].read_bytes() == outputs["duckdb", "csv"].read_bytes()
    assert pq.read_table(outputs["python", "parquet"]).equals(pq.read_table(outputs["duckdb", "parquet"]))
    lines = outputs["duckdb", "jsonl"].read_text().splitlines()
    assert len(lines) == 200 and json.loads(lines[0])["case_id"] == "G-0"


def test_stdout_jsonl_is_byte_identical_and_bad_rows_keep_their_place(generated, tmp_path):
    lines = (generated / "cases.jsonl").read_text().splitlines()[:30]
    lines[4] = '{"case_id": "broken"'
    path = tmp_path / "some.jsonl"
    path.write_text("\n".join(lines) + "\n")
    python = runner.invoke(app, ["evaluate", str(path), "--engine", "python", "-f", "jsonl", *PINNED])
    duck = runner.invoke(app, ["evaluate", str(path), "--engine", "duckdb", "-f", "jsonl", *PINNED])
    assert python.exit_code == duck.exit_code == 2
    assert python.stdout == duck.stdout
    assert json.loads(duck.stdout.splitlines()[4])["error"]["line"] == 5
    assert python.stderr.splitlines()[0] == duck.stderr.splitlines()[0]  # the same problem line as the Python path


def test_policy_the_sql_path_cannot_express_falls_back_to_python(generated, tmp_path):
    import shutil

    shutil.copytree(TIMELESS / "policies", tmp_path / "policies")
    shutil.copytree(TIMELESS / "rules", tmp_path / "rules")
    pack = tmp_path / "rules" / "bonus.yaml"
    text = pack.read_text()
    marker = "rules:\n"
    rule = ("  - id: operator-flag\n    description: an operator attribute the SQL path has no column for\n"
            "    when: attributes.segment == \"gold\"\n    then:\n      flag: [gold]\n\n")
    pack.write_text(text.replace(marker, marker + rule, 1))
    policies = Engine.load(tmp_path / "policies", tmp_path / "rules", backend="compiled").policies
    path = str(generated / "cases.jsonl")
    got, run = bulk_outcomes([path], policies, "duckdb")
    want, _ = bulk_outcomes([path], policies, "python")
    assert same(got, want) == []
    assert set(run.summary.python_policies) == set(policies)  # every bundled policy uses the bonus pack
    assert "attributes.segment" in run.summary.python_policies["nl"][0]
    assert run.summary.sql == 0 and run.summary.python == 200
    result = runner.invoke(app, ["compile", "--target", "sql", "--policies", str(tmp_path / "policies"),
                                 "--rules", str(tmp_path / "rules")])
    assert result.exit_code == 2 and "the SQL path cannot express" in result.stderr


def test_bad_output_suffix_is_bad_input(generated, tmp_path):
    result = runner.invoke(app, ["evaluate", str(generated / "cases.parquet"), "--output", str(tmp_path / "x.xml")])
    assert result.exit_code == 2
