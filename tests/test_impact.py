"""Policy impact analysis (library): a raised threshold, counted independently, over generated cases."""

from __future__ import annotations

import json
from datetime import datetime, timezone
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from escalator import Engine
from escalator.operations.batch import iter_inputs
from escalator.errors import LoadError, PolicyError
from escalator.authoring.impact import ImpactReport, analyse
from escalator.language.sources import open_source, resolve_source
from escalator.language.sources import bundled_dir

AT = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)  # both runs decide at one pinned instant (as_of)

OLD_HOURS, NEW_HOURS = 48, 72  # NL max_pending_hours, raised in the candidate
RULE = "withdrawal.pending-too-long"


def copy_policies(into: Path) -> Path:
    into.mkdir(parents=True, exist_ok=True)
    shutil.copytree(bundled_dir("policies"), into / "policies")
    shutil.copytree(bundled_dir("rules"), into / "rules")
    return into


def raise_nl_threshold(root: Path, hours: int = NEW_HOURS) -> None:
    nl = root / "policies" / "nl.yaml"
    text = nl.read_text()
    old = f"max_pending_hours: {OLD_HOURS} "
    assert text.count(old) == 1, "the NL policy no longer has the threshold this test raises"
    nl.write_text(text.replace(old, f"max_pending_hours: {hours} "))


def withdrawal_case(i: int, jurisdiction: str, amount: str, hours: int) -> dict:
    return {"case_id": f"{jurisdiction}-{i:04d}", "jurisdiction": jurisdiction, "opened_at": "2026-11-20T10:00:00Z", "as_of": "2026-11-20T10:00:00Z",
            "channel": "live_chat", "handled_by": "agent",
            "player": {"id": f"P-{i}", "kyc": "verified"},
            "request": {"kind": "withdrawal_delay", "withdrawal": {"amount": amount, "pending_hours": hours}}}


def generated_cases(n: int = 300, seed: int = 7) -> list[dict]:
    """NL and UK withdrawals, pending 0..120 h (boundaries included), small and above the agent's cap."""
    rng = random.Random(seed)
    hours = [OLD_HOURS, OLD_HOURS + 1, NEW_HOURS, NEW_HOURS + 1] + [rng.randint(0, 120) for _ in range(n - 4)]
    cases = []
    for i, h in enumerate(hours):
        amount = rng.choice(["150.00", "1999.99", "2000.00", "2500.00", "8000.00"])
        cases.append(withdrawal_case(i, rng.choice(["NL", "NL", "UK"]), amount, h))
    return cases


def crossing(cases: list[dict]) -> set[str]:
    """Counted without escalator: NL cases whose pending hours lie in (old, new]."""
    return {c["case_id"] for c in cases if c["jurisdiction"] == "NL"
            and OLD_HOURS < c["request"]["withdrawal"]["pending_hours"] <= NEW_HOURS}


def handler_drops(cases: list[dict]) -> set[str]:
    """Of those, the ones where no other rule keeps a supervisor: amount at or below the agent's 2,000 cap."""
    ids = crossing(cases)
    return {c["case_id"] for c in cases
            if c["case_id"] in ids and float(c["request"]["withdrawal"]["amount"]) <= 2000.00}


@pytest.fixture
def candidate(tmp_path: Path) -> Path:
    root = copy_policies(tmp_path / "candidate")
    raise_nl_threshold(root)
    return root


def test_raised_threshold_names_exactly_the_crossing_cases(candidate: Path) -> None:
    cases = generated_cases()
    expected, dropped = crossing(cases), handler_drops(cases)
    assert 20 < len(expected) and 0 < len(dropped) < len(expected)  # the data exercises both paths

    changes: list[dict] = []
    report = analyse("bundled", str(candidate), cases, sample=1000, backend="compiled", on_change=changes.append)

    assert report.cases == report.evaluated == len(cases) and report.bad == 0
    assert {c.case_id for c in report.sample} == expected
    assert [c["case_id"] for c in changes] == [c["case_id"] for c in cases if c["case_id"] in expected]
    assert {c["case_id"] for c in changes if c["handler"] == ["supervisor", "agent"]} == dropped
    assert all(c["rules_removed"] == [RULE] and c["policy"] == "nl" for c in changes)
    assert report.changed == len(expected)
    assert [(r.rule, r.policy, r.cases) for r in report.rules_no_longer_firing] == [(RULE, "nl", len(expected))]
    assert report.rules_newly_firing == []
    assert [(t.before, t.after, t.cases) for t in report.handler_transitions] == [("supervisor", "agent", len(dropped))]
    assert report.fields["handler"] == report.fields["escalate"] == len(dropped)
    assert report.fields["flags"] == len(expected)  # payout_overdue goes on every crossing case
    assert report.fields["locked"] == report.fields["procedure"] == report.fields["forward"] == 0
    for case in report.sample:
        assert case.rules_removed == [RULE] and case.rules_added == []
        assert "payout_overdue" in case.base["flags"] and "payout_overdue" not in case.candidate["flags"]
        assert (case.case_id in dropped) == ("handler" in case.fields)
    nl = {p["id"]: p["digest"] for p in report.candidate.policies}
    assert nl["nl"] != {p["id"]: p["digest"] for p in report.base.policies}["nl"]


def test_same_report_with_two_workers_and_from_files(candidate: Path, tmp_path: Path, backend: str) -> None:
    cases = generated_cases(200, seed=11)
    lines = tmp_path / "cases.jsonl"
    lines.write_text("".join(json.dumps(c) + "\n" for c in cases))
    one = analyse("bundled", str(candidate), iter_inputs([str(lines)]), sample=5, backend=backend, at=AT)
    two = analyse("bundled", str(candidate), iter_inputs([str(lines)]), sample=5, workers=2, chunksize=16, at=AT,
                  backend=backend)
    assert one == two
    assert one.changed == len(crossing(cases))
    assert one.sample[0].source == f"{lines}:{next(i for i, c in enumerate(cases, 1) if c['case_id'] in crossing(cases))}"


def test_bad_cases_are_counted_and_listed_never_dropped(candidate: Path, tmp_path: Path) -> None:
    good = generated_cases(40, seed=3)
    lines = tmp_path / "cases.jsonl"
    bad_json = '{"case_id": "broken", '
    unknown = withdrawal_case(9001, "DE", "10.00", 1)  # no policy on either side
    invalid = dict(withdrawal_case(9002, "NL", "10.00", 1), channel="pigeon")
    rows = [json.dumps(good[0]), bad_json, json.dumps(unknown), *map(json.dumps, good[1:]), json.dumps(invalid)]
    lines.write_text("\n".join(rows) + "\n")

    report = analyse("bundled", str(candidate), iter_inputs([str(lines)]), max_bad=2, backend="compiled")

    assert report.cases == len(good) + 3 and report.evaluated == len(good) and report.bad == 3
    assert report.bad_by_side == {"both": 1, "input": 2}
    assert len(report.bad_cases) == 2  # listed up to max_bad, in input order; all counted
    first, second = report.bad_cases
    assert first.source == f"{lines}:2" and first.side == "input"
    assert second.case_id == "DE-9001" and second.side == "both" and "jurisdiction" in " ".join(second.problems)


def test_a_case_the_candidate_rejects_is_a_bad_case_of_the_candidate(tmp_path: Path) -> None:
    root = copy_policies(tmp_path / "c")
    nl = root / "policies" / "nl.yaml"
    nl.write_text(nl.read_text().replace("jurisdictions: [NL]", "jurisdictions: [BE]"))
    cases = [withdrawal_case(1, "NL", "10.00", 1), withdrawal_case(2, "UK", "10.00", 1)]
    report = analyse("bundled", str(root), cases, backend="compiled")
    assert report.bad == 1 and report.bad_cases[0].side == "candidate" and report.bad_cases[0].case_id == "NL-0001"
    assert report.evaluated == 1 and report.changed == 0


def test_engines_and_bounded_sample(candidate: Path) -> None:
    cases = generated_cases(120, seed=5)
    with Engine.load(candidate / "policies", candidate / "rules", backend="compiled") as engine:
        report = analyse(Engine.default(backend="compiled"), engine, cases, sample=3)
    assert report.base.source == "engine" and len(report.sample) == 3 and report.sample_limit == 3
    assert report.changed == len(crossing(cases))
    ids = [c["case_id"] for c in cases if c["case_id"] in crossing(cases)]
    assert [c.case_id for c in report.sample] == ids[:3]  # the first ones, in input order


def test_fail_on_names_groups_and_unknown_fields(candidate: Path) -> None:
    report = analyse("bundled", str(candidate), generated_cases(100), backend="compiled")
    assert report.failing(["handler", "locked", "authority", "rules", "any", "deadlines"]) == [
        "handler", "authority", "rules", "any", "deadlines"]
    assert report.failing(["authority.goodwill_bonus"]) == ["authority.goodwill_bonus"]
    with pytest.raises(ValueError, match="unknown field 'authority.tips'"):
        report.failing(["authority.tips"])
    unchanged = analyse("bundled", "bundled", generated_cases(30), backend="compiled")
    assert unchanged.changed == unchanged.rules_changed == 0 and unchanged.failing(["any", "rules"]) == []


def test_report_has_a_json_schema() -> None:
    schema = ImpactReport.model_json_schema()
    assert {"fields", "handler_transitions", "rules_newly_firing", "sample", "bad_cases"} <= set(schema["properties"])


# -- sources -----------------------------------------------------------------------
def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def make_repo(path: Path) -> Path:
    """A policy repository with two commits: bundled policies, then the raised NL threshold."""
    copy_policies(path)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "t@example.com")
    git(path, "config", "user.name", "t")
    git(path, "add", "policies", "rules")
    git(path, "commit", "-qm", "bundled policies")
    raise_nl_threshold(path)
    git(path, "commit", "-qam", "NL: 72 h before a payout is overdue")
    return path


def test_git_revisions_are_read_without_touching_the_working_tree(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = make_repo(tmp_path / "repo")
    nl = repo / "policies" / "nl.yaml"
    nl.write_text(nl.read_text() + "\n# uncommitted edit\n")
    status = git(repo, "status", "--porcelain")
    cases = generated_cases(150, seed=2)

    report = analyse("git:HEAD~1", "git:main", cases, repo=repo, backend="compiled")

    assert report.changed == len(crossing(cases))
    assert [(r.rule, r.cases) for r in report.rules_no_longer_firing] == [(RULE, len(crossing(cases)))]
    assert report.base.revision == git(repo, "rev-parse", "HEAD~1").strip()
    assert report.candidate.source == "git:main" and report.candidate.revision == git(repo, "rev-parse", "HEAD").strip()
    assert git(repo, "status", "--porcelain") == status and nl.read_text().endswith("# uncommitted edit\n")
    # the committed state against the working tree (an uncommitted comment changes no decision)
    same = analyse("git:HEAD", str(repo), cases, repo=repo, backend="compiled")
    assert same.changed == 0 and same.evaluated == len(cases)


def test_git_source_is_a_temporary_copy_removed_afterwards(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = make_repo(tmp_path / "repo")
    with open_source("git:HEAD~1", repo) as source:
        assert "max_pending_hours: 48 " in (source.policies / "nl.yaml").read_text()
        assert (source.rules / "withdrawal.yaml").is_file() and repo not in source.policies.parents
        where = source.policies.parent
    assert not where.exists()
    with pytest.raises(LoadError, match="no such revision"):
        resolve_source("git:no-such-branch", repo)
    with pytest.raises(LoadError, match="not a git repository"):
        resolve_source("git:HEAD", tmp_path)


def test_folder_sources(tmp_path: Path, candidate: Path) -> None:
    assert resolve_source(str(candidate)).policies == candidate / "policies"
    pair = resolve_source(f"{candidate / 'policies'},{candidate / 'rules'}")
    assert pair.rules == candidate / "rules"
    with pytest.raises(LoadError, match="no such folder"):
        resolve_source(str(tmp_path / "missing"))
    empty = tmp_path / "empty"
    (empty / "policies").mkdir(parents=True)
    with pytest.raises(PolicyError, match="no policy found"):
        analyse("bundled", str(empty), [], backend="compiled")


def test_input_is_streamed_not_read_ahead(candidate: Path) -> None:
    """With workers, at most a few chunks are in flight: memory does not grow with the input."""
    drawn, lead = 0, []

    def cases():
        nonlocal drawn
        rng_cases = generated_cases(1200, seed=9)
        for c in rng_cases:
            drawn += 1
            yield c

    done = 0

    def progress(count: int) -> None:
        nonlocal done
        done += count
        lead.append(drawn - done)

    report = analyse("bundled", str(candidate), cases(), workers=2, chunksize=25, progress=progress,
                     backend="compiled")
    assert report.cases == done == 1200
    assert max(lead) <= 7 * 25  # window of 3 chunks per worker, plus the chunk being filled


def test_git_source_from_a_sub_folder_of_the_repository(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    top = tmp_path / "monorepo"
    make_repo(top / "ops" / "escalator")  # its own repository inside...
    shutil.rmtree(top / "ops" / "escalator" / ".git")
    git(top, "init", "-q", "-b", "main")  # ...now one folder of a bigger one
    git(top, "config", "user.email", "t@example.com")
    git(top, "config", "user.name", "t")
    git(top, "add", ".")
    git(top, "commit", "-qm", "monorepo")
    with open_source("git:HEAD", top / "ops" / "escalator") as source:
        assert "max_pending_hours: 72 " in (source.policies / "nl.yaml").read_text()
    with pytest.raises(LoadError, match="no policies/ folder"):
        resolve_source("git:HEAD", top)


def test_workers_started_by_spawn_give_the_same_report(candidate: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """macOS and Windows start workers with spawn: both engines must rebuild from pickled policies."""
    import sys

    cases = generated_cases(60, seed=4)
    expected = analyse("bundled", str(candidate), cases, backend="compiled", at=AT)
    monkeypatch.setattr(sys, "platform", "darwin")
    spawned = analyse("bundled", str(candidate), cases, workers=2, chunksize=20, backend="compiled", at=AT)
    assert spawned == expected and spawned.changed == len(crossing(cases))


def test_two_analyses_in_two_threads_do_not_mix_their_engines(candidate: Path) -> None:
    import threading

    cases = generated_cases(120)
    base = Engine.default(backend="compiled")
    changed = Engine.load(candidate / "policies", candidate / "rules", backend="compiled")
    alone = {"changed": analyse(base, changed, cases, chunksize=1).changed,
             "same": analyse(base, base, cases, chunksize=1).changed}
    assert alone["changed"] > 0 and alone["same"] == 0
    for _ in range(3):
        results: dict[str, int] = {}

        def run(name: str, other: Engine) -> None:
            results[name] = analyse(base, other, cases, chunksize=1).changed

        threads = [threading.Thread(target=run, args=("changed", changed)),
                   threading.Thread(target=run, args=("same", base))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == alone
