"""`escalator evaluate`: table, json and jsonl output, folders and stdin, bad cases, workers."""

from __future__ import annotations

from datetime import datetime, timezone

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from escalator.language.cases import load_case
from escalator.cli import app
from escalator.runtime.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "cases"
ONE = EXAMPLES / "nl-bonus-loss-chasing.yaml"
runner = CliRunner()


@pytest.fixture(scope="module")
def engine():
    with Engine.load(ROOT / "policies", ROOT / "rules", "compiled") as e:
        yield e


def _lines(count: int, seed: int, bad_rate: float = 0.0) -> list[str]:
    spec = importlib.util.spec_from_file_location("_cli_batch_bench", ROOT / "benchmarks" / "cli_batch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate_lines(count, seed=seed, bad_rate=bad_rate)


def _cli(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "escalator", *args], capture_output=True, cwd=kwargs.pop("cwd", ROOT),
                          timeout=120, **kwargs)


def test_table_names_handler_authority_and_reasons():
    result = runner.invoke(app, ["evaluate", str(ONE), "--backend", "compiled"])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "NL-1001" in out and "policy nl 2026.11" in out
    assert "responsible_gambling" in out and "authority.goodwill_bonus" in out and "0.00 EUR" in out
    assert "bonus.harm-markers" in out and result.stderr == ""


def test_json_for_one_case_file_is_the_decision_json(engine):
    result = runner.invoke(app, ["evaluate", str(ONE), "--format", "json", "--backend", "compiled",
                                 "--at", "2026-11-23T10:00:00Z"])
    assert result.exit_code == 0
    at = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)  # pinned: the clock may tick between the two
    assert result.stdout == engine.evaluate(load_case(ONE), at).to_json(indent=2) + "\n"


def test_json_for_a_folder_is_an_array_in_name_order(engine):
    result = runner.invoke(app, ["evaluate", str(EXAMPLES), "-f", "json", "--backend", "compiled",
                                 "--at", "2026-11-23T10:00:00Z"])
    assert result.exit_code == 0
    at = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
    expected = [engine.evaluate(load_case(p), at).to_dict() for p in sorted(EXAMPLES.iterdir())]
    assert result.stdout == json.dumps(expected, indent=2, ensure_ascii=False) + "\n"


def test_jsonl_from_stdin_keeps_input_order_and_bad_cases_in_place(engine):
    good = [json.dumps(json.loads((EXAMPLES / "mt-complaint-locks.json").read_text()))]
    bad = '{"case_id": "X-1", "jurisdiction": "NL"}'
    result = runner.invoke(app, ["evaluate", "-", "-f", "jsonl", "--backend", "compiled",
                                 "--at", "2026-11-23T10:00:00Z"],
                           input="\n".join([good[0], bad, "", good[0]]) + "\n")
    assert result.exit_code == 2
    rows = result.stdout.splitlines()
    assert len(rows) == 3
    at = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)  # pinned: the clock may tick between the two
    decision = engine.evaluate(json.loads(good[0]), at).to_json()
    assert rows[0] == rows[2] == decision
    error = json.loads(rows[1])["error"]
    assert error["line"] == 2 and error["case_id"] == "X-1"
    assert {p["path"] for p in error["problems"]} >= {"opened_at", "player", "request"}
    assert "<stdin>:2:1: player: missing required field 'player'" in result.stderr
    assert "1 bad case" in result.stderr


def test_a_bad_case_file_is_reported_with_file_line_and_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(ONE.read_text().replace("vip_level: 3", "vip_level: 9"))
    shutil.copy(ONE, tmp_path / "good.yaml")
    result = runner.invoke(app, ["evaluate", str(tmp_path), "--backend", "compiled"])
    assert result.exit_code == 2
    assert f"{bad}:12:3: player.vip_level:" in result.stderr and "expected a number at most 5" in result.stderr
    assert "NL-1001" in result.stdout  # the good case is still decided
    assert "Traceback" not in result.stderr + result.stdout


def test_missing_path_and_bad_policies_are_one_line_messages(tmp_path):
    result = runner.invoke(app, ["evaluate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2 and result.stderr == f"{tmp_path / 'nope.yaml'}: no such file or folder\n"
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "broken.yaml").write_text("policy: x\npolicy: y\n")
    result = runner.invoke(app, ["evaluate", str(ONE), "--policies", str(tmp_path / "policies")])
    assert result.exit_code == 2
    assert "broken.yaml:2:1: duplicate key 'policy'" in result.stderr and result.stdout == ""


def test_local_policies_and_rules_folders_are_the_default(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "policies", tmp_path / "policies")
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    nl = tmp_path / "policies" / "nl.yaml"
    nl.write_text(nl.read_text().replace("version: \"2026.11\"", "version: \"local-1\"").replace(
        "version: '2026.11'", "version: local-1").replace("version: 2026.11", "version: local-1"))
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["evaluate", str(ONE), "-f", "json", "--backend", "compiled"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["policy"]["version"] == "local-1"
    (tmp_path / "rules").rename(tmp_path / "other")  # ./policies alone: the bundled packs by name
    result = runner.invoke(app, ["evaluate", str(ONE), "-f", "json", "--backend", "compiled"])
    assert json.loads(result.stdout)["policy"]["version"] == "local-1"
    (tmp_path / "policies").rename(tmp_path / "elsewhere")  # no ./policies: the bundled defaults
    result = runner.invoke(app, ["evaluate", str(ONE), "-f", "json", "--backend", "compiled"])
    assert json.loads(result.stdout)["policy"]["version"] == "2026.11"


def test_empty_stdin_gives_an_empty_array():
    result = runner.invoke(app, ["evaluate", "-", "-f", "json"], input="")
    assert result.exit_code == 0 and result.stdout == "[]\n"


def test_workers_two_is_byte_identical_to_one_in_a_real_process(tmp_path):
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(_lines(400, seed=11, bad_rate=0.02)) + "\n")
    outputs = []
    for workers in ("1", "2"):
        with open(cases, "rb") as stdin:
            done = _cli("evaluate", "-", "--format", "jsonl", "--workers", workers, "--at", "2026-11-23T10:00:00Z",
                        stdin=stdin)
        assert done.returncode == 2  # the generated bad cases
        outputs.append(done.stdout)
        assert b"Traceback" not in done.stderr
    assert outputs[0] == outputs[1]
    rows = outputs[0].decode().splitlines()
    assert len(rows) == 400 and sum('"error"' in r[:9] for r in rows) > 0
    assert all(json.loads(r).get("case_id") or json.loads(r).get("error") for r in rows)


def test_examples_in_a_real_process_no_progress_bar_in_pipes():
    done = _cli("evaluate", "examples/cases", "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(r) for r in done.stdout.decode().splitlines()]
    assert [r["case_id"] for r in rows][:2] == ["MT-3001", "MT-3002"]
    assert len(rows) == len(list(EXAMPLES.iterdir()))
    # no progress bar: stderr is only the run's one-line summary
    [summary] = done.stderr.decode().splitlines()
    assert summary.startswith(f"{len(rows)} cases: ") and " 0 errors in " in summary


def test_help_has_an_example_and_exit_codes():
    result = runner.invoke(app, ["evaluate", "--help"])
    assert result.exit_code == 0
    assert "escalator evaluate examples/cases" in result.stdout and "Exit codes" in result.stdout


def test_stdin_jsonl_answers_each_line_as_it_arrives():
    line = (EXAMPLES / "mt-complaint-locks.json").read_text().replace("\n", "") + "\n"
    proc = subprocess.Popen([sys.executable, "-m", "escalator", "evaluate", "-", "-f", "jsonl"], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _ in range(2):  # stdin stays open: the answer must come before more input
            proc.stdin.write(line.encode())
            proc.stdin.flush()
            assert json.loads(proc.stdout.readline())["case_id"] == "MT-3050"
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
    assert proc.returncode == 0


def test_forced_progress_bar_goes_to_stderr_only():
    lines = _lines(600, seed=3)
    result = runner.invoke(app, ["evaluate", "-", "-f", "jsonl", "--progress", "--backend", "compiled"],
                           input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.splitlines()) == 600
    assert all(json.loads(r)["case_id"] for r in result.stdout.splitlines())


def test_broken_pipe_is_quiet(tmp_path):
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(_lines(3000, seed=5)) + "\n")
    with open(cases, "rb") as stdin:
        proc = subprocess.Popen([sys.executable, "-m", "escalator", "evaluate", "-", "-f", "jsonl", "--backend",
                                 "compiled"], cwd=ROOT, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        first = proc.stdout.readline()
        proc.stdout.close()
        _, stderr = proc.communicate(timeout=60)
    assert json.loads(first)["case_id"]
    assert b"Traceback" not in stderr and b"BrokenPipe" not in stderr
