"""`escalator impact` through the real CLI: exit codes, markdown, JSON, git revisions, stdin."""

from __future__ import annotations

import json
import re
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from escalator.cli import app
from escalator.language.sources import bundled_dir

OLD, NEW = 48, 72


def write_policies(root: Path, hours: int = OLD) -> Path:
    shutil.copytree(bundled_dir("policies"), root / "policies", dirs_exist_ok=True)
    shutil.copytree(bundled_dir("rules"), root / "rules", dirs_exist_ok=True)
    nl = root / "policies" / "nl.yaml"
    nl.write_text(nl.read_text().replace(f"max_pending_hours: {OLD} ", f"max_pending_hours: {hours} "))
    return root


def case(i: int, hours: int, amount: str = "100.00", jurisdiction: str = "NL") -> dict:
    return {"case_id": f"C-{i}", "jurisdiction": jurisdiction, "opened_at": "2026-11-20T10:00:00Z",
            "channel": "live_chat", "handled_by": "agent", "player": {"id": f"P-{i}", "kyc": "verified"},
            "request": {"kind": "withdrawal_delay", "withdrawal": {"amount": amount, "pending_hours": hours}}}


# hours 60 and 72 cross the raised threshold; C-3 crosses it but stays with a supervisor (amount above cap)
CASES = [case(1, 10), case(2, 60), case(3, 70, "5000.00"), case(4, 72), case(5, 73), case(6, 60, jurisdiction="UK")]
CROSSING = {"C-2", "C-3", "C-4"}


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = write_policies(tmp_path_factory.mktemp("policy-repo"))
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "t")
    git(root, "add", "policies", "rules")
    git(root, "commit", "-qm", "bundled")
    write_policies(root, NEW)
    git(root, "commit", "-qam", "NL: 72 h")
    return root


@pytest.fixture(scope="module")
def cases_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cases") / "cases.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in CASES))
    return path


def run(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, COLUMNS="200")
    return subprocess.run([sys.executable, "-m", "escalator", "impact", *args], input=stdin, capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=120)


def test_markdown_and_fail_on_exit_codes_through_the_real_cli(repo: Path, cases_file: Path) -> None:
    common = ["--base", "git:HEAD~1", "--candidate", "git:HEAD", "--repo", str(repo), str(cases_file),
              "--backend", "compiled"]
    hit = run(*common, "--format", "markdown", "--fail-on", "handler,authority")
    assert hit.returncode == 1, hit.stderr
    assert "changed: handler, authority (--fail-on)" in hit.stderr
    md = hit.stdout
    assert md.startswith("## Policy impact: `git:HEAD~1")
    assert "6 cases: 6 decided under both, 3 changed (50.0%)" in md
    assert "| supervisor | agent | 2 |" in md  # C-2 and C-4; C-3 keeps its supervisor
    assert "| `withdrawal.pending-too-long` | nl | 3 |" in md
    assert "| `handler` | 2 | 33.3% |" in md and "| `flags` | 3 | 50.0% |" in md
    shown = {line.split("<code>")[1].split("</code>")[0] for line in md.splitlines() if line.startswith("<details>")}
    assert shown == CROSSING
    assert "Rules that made the difference: -`withdrawal.pending-too-long`" in md

    quiet = run(*common, "--format", "markdown", "--fail-on", "locked,procedure,forward")
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout == md  # the report does not depend on --fail-on

    unknown = run(*common, "--fail-on", "handlr")
    assert unknown.returncode == 2 and "unknown field 'handlr'" in unknown.stderr


def test_json_report_from_stdin_with_two_workers(repo: Path, tmp_path: Path) -> None:
    lines = "".join(json.dumps(c) + "\n" for c in CASES)
    changes = tmp_path / "changes.jsonl"
    done = run("--base", "git:HEAD~1", "--candidate", str(repo), "-", "--format", "json", "--workers", "2",
               "--repo", str(repo), "--backend", "compiled", "--sample", "1", "--changes", str(changes), stdin=lines)
    assert done.returncode == 0, done.stderr
    # the run's one-line summary ends stderr (3 of the cases change; nothing failed)
    assert re.match(r"^\d+ cases: 3 changed, \d+ with other rules firing, 0 errors in \d+\.\d\d s$",
                    done.stderr.strip().splitlines()[-1]), done.stderr
    listed = [json.loads(line) for line in changes.read_text().splitlines()]
    assert [c["case_id"] for c in listed] == ["C-2", "C-3", "C-4"]  # all of them, in input order
    assert [c["handler"] for c in listed] == [["supervisor", "agent"], ["supervisor", "supervisor"],
                                               ["supervisor", "agent"]]
    report = json.loads(done.stdout)
    assert report["changed"] == len(CROSSING) and report["cases"] == len(CASES)
    assert [c["case_id"] for c in report["sample"]] == ["C-2"] and report["sample_limit"] == 1
    assert report["sample"][0]["source"] == "<stdin>:2"
    assert report["handler_transitions"] == [{"before": "supervisor", "after": "agent", "cases": 2}]
    jsonschema = pytest.importorskip("jsonschema")
    schema = CliRunner().invoke(app, ["schema", "impact"])
    assert schema.exit_code == 0, schema.output
    jsonschema.validate(report, json.loads(schema.stdout))


def test_bad_case_is_reported_and_exits_2(tmp_path: Path) -> None:
    candidate = write_policies(tmp_path / "candidate", NEW)
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps(case(1, 60)) + "\n{not json\n")
    done = run("--base", "bundled", "--candidate", str(candidate), str(cases), "--format", "json",
               "--fail-on", "handler", "--backend", "compiled")
    assert done.returncode == 2  # bad input outranks --fail-on: the comparison is incomplete
    report = json.loads(done.stdout)
    assert report["bad"] == 1 and report["bad_cases"][0]["source"] == f"{cases}:2" and report["changed"] == 1
    assert "1 bad case; exit code 2" in done.stderr


def test_bad_sources_exit_2(tmp_path: Path, cases_file: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(app, ["impact", "--base", str(tmp_path / "nope"), "--candidate", "bundled", str(cases_file)])
    assert missing.exit_code == 2 and "no such folder" in missing.output
    no_cases = runner.invoke(app, ["impact", "--base", "bundled", "--candidate", "bundled", str(tmp_path / "none.jsonl")])
    assert no_cases.exit_code == 2 and "no such file" in no_cases.output
    broken = write_policies(tmp_path / "broken")
    (broken / "policies" / "nl.yaml").write_text("policy: nl\nversion: [\n")
    bad_yaml = run("--base", "bundled", "--candidate", str(broken), str(cases_file))
    assert bad_yaml.returncode == 2 and "nl.yaml:3:1: version: invalid YAML" in bad_yaml.stderr and not bad_yaml.stdout


def test_table_for_people(tmp_path: Path, cases_file: Path) -> None:
    candidate = write_policies(tmp_path / "candidate", NEW)
    result = CliRunner().invoke(app, ["impact", "--base", "bundled", "--candidate", str(candidate), str(cases_file),
                                      "--backend", "compiled", "--sample", "1"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "6 cases: 6 decided under both, 3 changed" in out
    assert "Handler transitions" in out and "supervisor" in out
    assert "Rules no longer firing" in out and "withdrawal.pending-too-long" in out
    assert "Changed cases (first 1 of 3)" in out and "C-2" in out and "C-4" not in out


def test_candidate_defaults_to_the_current_folder(repo: Path, cases_file: Path) -> None:
    done = run("--base", "git:HEAD~1", str(cases_file), "--format", "json", "--backend", "compiled", cwd=repo)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["candidate"]["source"] == "." and report["changed"] == len(CROSSING)
