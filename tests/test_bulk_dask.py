"""`--engine dask` on a LocalCluster (2 worker processes on 127.0.0.1) gives the decisions of `--engine duckdb`."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from bulk_helpers import AT, draw_cases, TIMELESS, timeless_engine
from escalator.bulk.io import cases_table
from escalator.cli import app

pytest.importorskip("distributed")
runner = CliRunner()


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """A few thousand cases in row groups of 500 (several partitions)."""
    engine = timeless_engine()
    table = cases_table(draw_cases(300, engine))
    big = pa.concat_tables([table] * 10)
    path = tmp_path_factory.mktemp("dask") / "big.parquet"
    pq.write_table(big, path, row_group_size=500)
    return path


def test_dask_local_cluster_decides_like_duckdb(big, tmp_path):
    from escalator.bulk.cluster import DaskRun
    from escalator.bulk.run import BulkRun

    engine = timeless_engine()
    dask = DaskRun(engine.policies, backend="compiled", render="jsonl", workers=2, partition_rows=1000,
                   instant=(AT, True))
    duck = BulkRun(engine.policies, "duckdb", backend="compiled", render="jsonl", instant=(AT, True))
    try:
        by_dask = [o.text for chunk in dask.chunks([str(big)]) for o in dask.outcomes(chunk)]
        by_duck = [o.text for chunk in duck.chunks([str(big)]) for o in duck.outcomes(chunk)]
    finally:
        dask.close()
        duck.close()
    assert len(by_dask) == 3000 and by_dask == by_duck
    assert dask.summary.sql == 3000


def test_cli_engine_dask_output_equals_engine_duckdb(big, tmp_path):
    outputs = {}
    for engine in ("dask", "duckdb"):
        out = tmp_path / f"{engine}.parquet"
        result = runner.invoke(app, ["evaluate", str(big), "--engine", engine, "--output", str(out),
                                     "--policies", str(TIMELESS / "policies"), "--rules", str(TIMELESS / "rules"),
                                     "--at", "2026-11-25T10:00:00Z"])
        assert result.exit_code == 0, result.output
        outputs[engine] = pq.read_table(out)
    assert outputs["dask"].num_rows == 3000
    assert outputs["dask"].equals(outputs["duckdb"])
