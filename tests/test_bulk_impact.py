"""`escalator impact --engine duckdb` reports exactly what `--engine python` reports."""

from __future__ import annotations

import json
import shutil

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from bulk_helpers import draw_cases, write_jsonl, TIMELESS, timeless_engine
from escalator.bulk.io import cases_table
from escalator.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    folder = tmp_path_factory.mktemp("impact")
    drawn = draw_cases(290, timeless_engine())
    # ten NL withdrawals between the two large-win thresholds, so the change below moves some cases
    for i in range(10):
        amount = f"{6000 + 300 * i}.00"
        drawn.append({"case_id": f"W-{i}", "jurisdiction": "NL", "opened_at": "2026-11-22T10:00:00Z",
                      "channel": "live_chat", "handled_by": "agent", "status": "open", "on_duty": ["agent"],
                      "player": {"id": f"P-W{i}", "vip_level": 2, "account_age_days": 700, "net_loss_30d": "0.00",
                                 "rg_markers": [], "kyc": "verified", "self_excluded": False},
                      "request": {"kind": "withdrawal_delay", "amount": amount, "asked_for": [],
                                  "withdrawal": {"amount": amount, "pending_hours": 80}},
                      "attributes": {}})
    pq.write_table(cases_table(drawn), folder / "cases.parquet")
    lines = [json.dumps(c, default=str) for c in drawn]
    lines[7] = '{"case_id": "bad"}'
    (folder / "cases.jsonl").write_text("\n".join(lines) + "\n")
    candidate = folder / "candidate"
    shutil.copytree(TIMELESS / "policies", candidate / "policies")
    shutil.copytree(TIMELESS / "rules", candidate / "rules")
    nl = candidate / "policies" / "nl.yaml"
    text = nl.read_text()
    assert "large_win:" in text
    nl.write_text(text.replace("large_win:", "large_win: 1.00 #", 1))  # every NL withdrawal becomes a large win
    base = candidate.parent / "base"
    shutil.copytree(TIMELESS / "policies", base / "policies")
    shutil.copytree(TIMELESS / "rules", base / "rules")
    return folder, base, candidate


@pytest.mark.parametrize("name", ["cases.parquet", "cases.jsonl"])
def test_impact_report_is_the_same_on_both_engines(setup, name):
    folder, base, candidate = setup
    reports = {}
    for engine in ("python", "duckdb"):
        result = runner.invoke(app, ["impact", "--base", str(base), "--candidate", str(candidate), str(folder / name),
                                     "--engine", engine, "--format", "json", "--sample", "5",
                                     "--at", "2026-11-25T10:00:00Z"])
        assert result.exit_code in (0, 2), result.output
        reports[engine] = json.loads(result.stdout)
    assert reports["python"] == reports["duckdb"]
    assert reports["duckdb"]["cases"] == 300 and reports["duckdb"]["changed"] > 0


def test_parquet_impact_counted_in_sql_matches_python_with_bad_rows(setup, tmp_path):
    """The columnar impact (one query, aggregated in SQL) against the Python path: bad rows, samples, counts."""
    import pyarrow as pa

    folder, base, candidate = setup
    table = pq.read_table(folder / "cases.parquet")
    vip = table.column("player.vip_level").to_pylist()
    vip[5] = 9  # a bad row
    table = table.set_column(table.schema.get_field_index("player.vip_level"), "player.vip_level", pa.array(vip, pa.int64()))
    pq.write_table(table, tmp_path / "bad.parquet", row_group_size=50)
    reports = {}
    for engine in ("python", "duckdb"):
        result = runner.invoke(app, ["impact", "--base", str(base), "--candidate", str(candidate), str(tmp_path / "bad.parquet"),
                                     "--engine", engine, "--format", "json", "--sample", "3", "--max-bad", "5",
                                     "--at", "2026-11-25T10:00:00Z"])
        assert result.exit_code == 2, result.output
        reports[engine] = json.loads(result.stdout)
    assert reports["python"] == reports["duckdb"]
    assert reports["duckdb"]["bad"] == 1 and reports["duckdb"]["changed"] > 3
