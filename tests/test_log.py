"""The decision log: masking (policy validation, keyed hashes), SQLite and PostgreSQL
storage, `evaluate --log`, `replay` (byte for byte, or against a candidate) and the
complaint register."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from escalator.errors import PolicyError
from escalator.language.cases import parse_case
from escalator.language.policyset import compile_folders
from escalator.log.masking import KEY_ENV, Masker, MaskKeyError, read_key
from escalator.log.record import Recorder, make_record, policy_set_digest, snapshot
from escalator.log.replay import replay
from escalator.log.store import DecisionLog, LogError, LogWriteError, decisions
from escalator.runtime.engine import Engine
from service_support import KEY, ROOT, example, log_url, policy_copy  # noqa: F401  (log_url: fixture)
from conftest import replace_in


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "escalator", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120, env={**os.environ, **(env or {})})


# -- masks in policies ----------------------------------------------------------------
@pytest.mark.parametrize("path, message", [
    ("player.kyc", "cannot be masked"),
    ("case_id", "cannot be masked"),
    ("player.nickname", "cannot be masked"),
    ("request.forfeiture.breach", "is read by rule forfeiture."),
])
def test_a_mask_must_name_a_maskable_field_no_rule_reads(tmp_path, path, message):
    policies, rules = policy_copy(tmp_path, mask=[path])
    with pytest.raises(PolicyError) as info:
        compile_folders(policies, rules)
    problem = next(p for p in info.value.problems if p.code == "E-MASK")
    assert message in problem.message and path in problem.message
    assert problem.location is not None and problem.location.file.endswith("base.yaml") and problem.location.line


def test_masks_are_inherited_and_extended_and_leave_the_digest_alone(tmp_path):
    policies, rules = policy_copy(tmp_path, mask=["player.id"])
    with open(policies / "nl.yaml", "a", encoding="utf-8") as out:
        out.write("\nlog: {mask: [attributes.email]}\n")
    compiled = compile_folders(policies, rules)
    plain = compile_folders(ROOT / "policies", ROOT / "rules")
    assert compiled["nl"].log_mask == ("player.id", "attributes.email")
    assert compiled["uk"].log_mask == ("player.id",)
    assert compiled["nl"].digest == plain["nl"].digest  # masking never changes a decision


def test_masker_is_a_keyed_hash():
    case = {"player": {"id": "P-77"}, "attributes": {"email": "a@b.c"}, "case_id": "C-1"}
    one, done = Masker(KEY.encode()).mask(case, ["player.id", "attributes.email", "attributes.absent"])
    again, _ = Masker(KEY.encode()).mask(case, ["player.id"])
    other, _ = Masker(b"another key of 32 bytes........").mask(case, ["player.id"])
    assert done == ["player.id", "attributes.email"]
    assert case["player"]["id"] == "P-77"  # the input is not changed
    assert one["player"]["id"] == again["player"]["id"] != other["player"]["id"]
    assert one["player"]["id"].startswith("hmac-sha256.") and "P-77" not in json.dumps(one)
    with pytest.raises(MaskKeyError):
        Masker(None).mask(case, ["player.id"])


def test_mask_key_from_file_or_environment(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    assert read_key() is None
    monkeypatch.setenv(KEY_ENV, KEY)
    assert read_key() == KEY.encode()
    (tmp_path / "key").write_text("short\n")
    with pytest.raises(MaskKeyError, match="at least 16 bytes"):
        read_key(tmp_path / "key")
    with pytest.raises(MaskKeyError, match="cannot read"):
        read_key(tmp_path / "missing")


# -- storage ----------------------------------------------------------------------------
def _records(engine: Engine, masker: Masker, names: list[str]) -> list:
    digest = policy_set_digest(engine.policies)
    out = []
    for name in names:
        case = parse_case(example(name))
        decision = engine.evaluate(case)
        out.append(make_record(case, decision, engine.policies[decision.policy.id], masker, digest, "req-1"))
    return out


def test_log_stores_and_reads_back_rows(log_url):
    names = ["nl-bonus-loss-chasing.yaml", "uk-complaint-status-locked.yaml", "mt-withdrawal-at-large-win.yaml"]
    with Engine.default(backend="compiled") as engine, DecisionLog(log_url) as log:
        records = _records(engine, Masker(None), names)
        log.append(records)
        log.append([])
        digest = policy_set_digest(engine.policies)
        files = snapshot(ROOT / "policies", ROOT / "rules")
        log.store_policy_set(digest, files)
        log.store_policy_set(digest, files)  # once per digest
        assert log.count() == 3
        back = list(log.records(batch=2))  # paging
        assert [r.decision_json for r in back] == [r.decision_json for r in records]
        assert [r.id for r in back] == sorted(r.id for r in back)
        assert list(log.records(since="2999-01-01")) == []
        assert log.policy_set_files(digest) == files
        assert log.policy_set_files("sha256:none") is None


def test_sqlite_log_is_in_wal_mode(tmp_path):
    with DecisionLog(str(tmp_path / "d.db")) as log:
        log.count()
    mode = sqlite3.connect(tmp_path / "d.db").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_a_failed_write_raises_and_writes_nothing(log_url):
    with Engine.default(backend="compiled") as engine, DecisionLog(log_url) as log:
        good = _records(engine, Masker(None), ["nl-bonus-loss-chasing.yaml"])[0]
        bad = type(good)(**{**good.__dict__, "request_id": "x" * 500 if log.sqlite is False else None})
        with pytest.raises(LogWriteError):
            log.append([good, bad])  # one transaction: the good row is not kept either
        assert log.count() == 0


def test_bad_log_urls_are_clear_errors(tmp_path):
    with pytest.raises(LogError, match="unsupported log URL scheme"):
        DecisionLog("mysql://somewhere/db")
    with pytest.raises(LogError, match="holds no escalator decision log"):
        DecisionLog(str(tmp_path / "empty.db"), create=False)


# -- the CLI: evaluate --log, replay, export ----------------------------------------------
def test_evaluate_log_then_replay_reproduces_every_decision(tmp_path):
    policies, rules = policy_copy(tmp_path, mask=["player.id"])
    db = tmp_path / "d.db"
    run = _cli("evaluate", str(ROOT / "examples" / "cases"), "--policies", str(policies), "--rules", str(rules),
               "-f", "jsonl", "--log", str(db), env={KEY_ENV: KEY})
    assert run.returncode == 0, run.stderr
    printed = run.stdout.splitlines()
    with DecisionLog(str(db)) as log:
        rows = list(log.records())
    assert [r.decision_json for r in rows] == printed  # the log holds exactly what was answered
    assert all(json.loads(r.masked) == ["player.id"] for r in rows)
    assert all(json.loads(r.case_json)["player"]["id"].startswith("hmac-sha256.") for r in rows)
    stored = db.read_bytes() + (tmp_path / "d.db-wal").read_bytes() if (tmp_path / "d.db-wal").exists() else db.read_bytes()
    assert example("nl-bonus-loss-chasing.yaml")["player"]["id"] == "P-NL-77" and b"P-NL-77" not in stored

    again = _cli("replay", str(db), "--format", "json")
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["mode"] == "logged" and report["rows"] == len(printed) == report["reproduced"]
    assert report["impact"]["changed"] == 0

    replace_in(policies / "base.yaml", "goodwill_bonus: 50.00", "goodwill_bonus: 40.00")
    candidate = _cli("replay", str(db), "--policies", str(policies), "--rules", str(rules), "--format", "json")
    assert candidate.returncode == 0, candidate.stderr
    impact = json.loads(candidate.stdout)["impact"]
    assert impact["changed"] > 0 and impact["fields"]["authority.goodwill_bonus"] > 0
    assert impact["sample"][0]["base"]["authority"] != impact["sample"][0]["candidate"]["authority"]


def test_replay_reports_a_row_that_does_not_reproduce(tmp_path):
    db = tmp_path / "d.db"
    assert _cli("evaluate", str(ROOT / "examples/cases/nl-bonus-loss-chasing.yaml"), "--log", str(db)).returncode == 0
    with DecisionLog(str(db)) as log, log.engine.begin() as conn:
        row = conn.execute(sa.select(decisions.c.id, decisions.c.decision_json)).first()
        tampered = row.decision_json.replace('"escalate":true', '"escalate":false')
        assert tampered != row.decision_json
        conn.execute(decisions.update().where(decisions.c.id == row.id).values(decision_json=tampered))
    run = _cli("replay", str(db))
    assert run.returncode == 1
    assert "0 of 1 logged decisions reproduced" in run.stdout and "did not reproduce" in run.stderr


def test_evaluate_log_refuses_masks_without_a_key(tmp_path):
    policies, rules = policy_copy(tmp_path, mask=["player.id"])
    run = _cli("evaluate", str(ROOT / "examples/cases"), "--policies", str(policies), "--rules", str(rules),
               "--log", str(tmp_path / "d.db"), env={KEY_ENV: ""})
    assert run.returncode == 2 and "no mask key" in run.stderr and run.stdout == ""


def test_complaint_register_from_the_log(tmp_path):
    engine = Engine.default(backend="compiled")
    received = example("nl-complaint-locks.yaml")
    acknowledged = {**received, "handled_by": "complaints_manager", "status": "complaint"}
    closed = {**acknowledged, "status": "closed", "attributes": {"outcome": "upheld", "adr_referral": "Kansspelautoriteit"}}
    other = example("nl-bonus-loss-chasing.yaml")
    db = tmp_path / "d.db"
    with DecisionLog(str(db)) as log:
        recorder = Recorder(log, engine.policies, snapshot(ROOT / "policies", ROOT / "rules"), Masker(None))
        for case in (other, received, acknowledged, closed):
            recorder.add(parse_case(case).model_dump(mode="json"), engine.evaluate(case).to_dict())
        recorder.flush()
        rows = list(log.records())
    run = _cli("export", "complaints", str(db), "--format", "csv")
    assert run.returncode == 0, run.stderr
    register = list(csv.DictReader(io.StringIO(run.stdout)))
    first = json.loads(rows[1].decision_json)
    assert register == [{
        "case_id": received["case_id"], "date_received": rows[1].logged_at, "date_acknowledged": rows[2].logged_at,
        "acknowledge_due": first["deadlines"]["acknowledge_by"], "final_answer_due": first["deadlines"]["resolve_by"] or "",
        "handler": "complaints_manager", "outcome": "upheld", "adr_referral": "Kansspelautoriteit",
    }]


def test_replay_in_process_with_the_library(tmp_path):
    """The same check through the API: rows whose policy set the log lacks are bad, not skipped."""
    with Engine.default(backend="compiled") as engine, DecisionLog(str(tmp_path / "d.db")) as log:
        log.append(_records(engine, Masker(None), ["nl-bonus-loss-chasing.yaml"]))
        report = replay(log)
        assert report.rows == 1 and report.reproduced == 0 and report.impact.bad == 1
        assert "holds no files for policy set" in report.impact.bad_cases[0].problems[0]
        log.store_policy_set(policy_set_digest(engine.policies), snapshot(ROOT / "policies", ROOT / "rules"))
        assert replay(log).reproduced == 1


def test_since_and_until_bounds_compare_with_the_logged_instants():
    from escalator.errors import CaseError
    from escalator.log.record import instant_bound, now_iso

    assert instant_bound("2026-11-20") == "2026-11-20"
    assert instant_bound("2026-11-20T15:00:00+01:00") == "2026-11-20T14:00:00.000000Z"
    assert "2026-11-20" <= "2026-11-20T00:00:00.000000Z" < instant_bound("2026-11-20T00:00:01Z")
    assert len(now_iso()) == len(instant_bound("2026-11-20T15:00:00Z"))
    for bad in ("yesterday", "2026-11-20T15:00:00"):
        with pytest.raises(CaseError):
            instant_bound(bad)


def test_evaluate_log_with_workers_records_every_decision_in_order(tmp_path):
    db = tmp_path / "d.db"
    run = _cli("evaluate", str(ROOT / "examples" / "cases"), "-f", "jsonl", "-w", "2", "--log", str(db))
    assert run.returncode == 0, run.stderr
    with DecisionLog(str(db), create=False) as log:
        assert [r.decision_json for r in log.records()] == run.stdout.splitlines()


def test_evaluate_log_records_the_locale_so_replay_reproduces_it(tmp_path):
    db = tmp_path / "d.db"
    case = ROOT / "examples" / "cases" / "nl-withdrawal-big-win-waiting.yaml"  # the NL policy speaks Dutch
    run = _cli("evaluate", str(case), "-f", "json", "--locale", "en", "--log", str(db), env={KEY_ENV: KEY})
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["summary"].startswith("Your case is being passed to")
    with DecisionLog(str(db)) as log:
        [row] = list(log.records())
    assert row.locale == "en"
    again = _cli("replay", str(db), "--format", "json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["reproduced"] == 1
