"""The benchmark runs, and its agreement check really refuses to report when one implementation is wrong."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import bench, handwritten_nl, workload  # noqa: E402
from escalator.runtime.backends import durable_available  # noqa: E402


def _available() -> list[str]:
    names = ["handwritten", "compiled"]
    if durable_available():
        names += ["durable", "durable-handwritten", "durable-handwritten-api"]
    try:
        import zen  # noqa: F401

        names.append("zen")
    except ImportError:
        pass
    return names


def test_workload_is_seeded_valid_and_covers_every_request_kind():
    from escalator.language.cases import parse_case

    cases = workload.generate(300)
    assert cases == workload.generate(300)
    assert cases != workload.generate(300, seed=1)
    assert {c["request"]["kind"] for c in cases} == set(workload.KINDS)
    for case in cases:
        parse_case(case)  # raises on an invalid case
    amounts = [c["request"]["amount"] for c in cases if "amount" in c["request"]]
    assert {24.99, 25, 25.01} & set(amounts), "amounts should sit on the agent's goodwill cap"


def test_smoke_run_reports_a_table_with_ratios(tmp_path, capsys):
    out = tmp_path / "result.json"
    names = _available()
    assert bench.main(["--quick", "--only", ",".join(names), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "all implementations agree on every case" in printed
    assert "| hand-written Python (limit) |" in printed
    result = json.loads(out.read_text())
    assert result["cases"] == 300
    assert list(result["per_case"]) == names
    assert result["per_case"]["handwritten"]["ratio"] == pytest.approx(1.0)
    for stats in result["per_case"].values():
        assert 0 < stats["median_us"] <= stats["p99_us"]


def test_agreement_check_refuses_a_broken_implementation():
    cases = workload.generate(300)

    def off_by_one_cent(case):  # a subtle bug: the goodwill cap compared with >= instead of >
        decision = handwritten_nl.decide(case)
        amount = case["request"].get("amount")
        if case["request"]["kind"] == "bonus_request" and amount == 25:
            decision["fired"] = decision["fired"] | {handwritten_nl.BONUS_ABOVE}
        return decision

    impls = bench.implementations(("handwritten", "compiled"))
    bench.check_agreement(impls, cases)  # the real ones agree
    impls["compiled"] = off_by_one_cent
    with pytest.raises(bench.Disagreement, match="bonus.above-agent-cap"):
        bench.check_agreement(impls, cases)


def test_script_exits_non_zero_and_prints_no_table_when_an_implementation_is_sabotaged():
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--quick", "--only", "handwritten,compiled",
         "--sabotage", "compiled"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert run.returncode == 1
    assert "REFUSING TO REPORT" in run.stderr
    assert "| implementation |" not in run.stdout


def test_breakdown_stages_compute_what_evaluate_does_and_add_up():
    """Each stage is timed on the inputs evaluate gives it (the same policy facts: a decide stage
    without them rebuilt every lookup per call and read 375 us); breakdown refuses otherwise."""
    stages = bench.breakdown(workload.generate(40), "compiled", rounds=1)
    parts = ("  of which the view (flat view + time fields)", "  of which backend.fired (compiled)",
             "  of which decide (Decision, reasons, messages)", "  of which the rest (time rules, next_review)")
    assert all(stages[name] >= 0 for name in parts)
    assert stages["sum of the stages (prepare + decide stage)"] == pytest.approx(
        stages["prepare: validation, policy and tier checks"] + stages["decide stage: an already validated case"])


def test_startup_mode_reports_help_and_load_against_issue_19s_targets(tmp_path, capsys):
    out = tmp_path / "startup.json"
    assert bench.main(["--startup", "--starts", "1", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Engine.default(backend=auto)" in printed and "with its imports" in printed
    result = json.loads(out.read_text())
    figures = result["startup"]
    for key in ("python_ms", "auto_load_ms", "auto_import_and_load_ms", "compiled_load_ms", "durable_load_ms"):
        assert figures[key] > 0
    assert figures["auto_import_and_load_ms"] > figures["auto_load_ms"]
    named = [t["target"] for t in result["targets"]]
    assert any("Engine.default() load < 100 ms" in t for t in named)
    if figures["help_ms"] is not None:
        assert any("--help` < 250 ms" in t for t in named)
