"""escalator.operations.batch: reading case inputs lazily, evaluating them in order, bad cases in place."""

from __future__ import annotations

from datetime import datetime, timezone
import gzip
import importlib.util
import io
import json
from pathlib import Path

import pytest

from escalator.operations import batch
from escalator.operations.batch import CaseInput, InputError, check_paths, evaluate_stream, iter_inputs, read_lines, single_case
from escalator.language.cases import load_case
from escalator.runtime.engine import Engine, compile_folders
from escalator.language.sources import bundled_dir

AT = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)  # decisions are taken at an instant: tests pin it

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "cases"


def _bench():
    """The seeded case generator of benchmarks/cli_batch.py (one generator for tests and bench)."""
    spec = importlib.util.spec_from_file_location("_cli_batch_bench", ROOT / "benchmarks" / "cli_batch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def policies():
    return compile_folders(bundled_dir("policies"), bundled_dir("rules"))


@pytest.fixture(scope="module")
def lines():
    return _bench().generate_lines(300, seed=7, bad_rate=0.03)


def _stream(lines: list[str]) -> io.BytesIO:
    return io.BytesIO(("\n".join(lines) + "\n").encode())


# -- reading ------------------------------------------------------------------------
def test_read_lines_counts_blank_lines_and_skips_them():
    items = list(read_lines(io.BytesIO(b'{"a": 1}\n\n   \n{"b": 2}'), "<stdin>"))
    assert [(i.line, i.text.strip()) for i in items] == [(1, b'{"a": 1}'), (4, b'{"b": 2}')]


def test_over_long_line_becomes_an_error_record_and_reading_goes_on(monkeypatch):
    monkeypatch.setattr(batch, "MAX_LINE_BYTES", 10)
    items = list(read_lines(io.BytesIO(b"x" * 35 + b"\n" + b'{"a":1}\n'), "f.jsonl"))
    assert items[0].line == 1 and "longer than" in items[0].error
    assert items[1] == CaseInput("f.jsonl", 2, b'{"a":1}\n')


def test_folders_are_read_recursively_in_name_order_with_jsonl_and_gzip(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "a.yaml").write_text("x: 1\n")
    (tmp_path / "b" / "c.json").write_text("{}")
    (tmp_path / "b" / "d.jsonl").write_text('{"n": 1}\n{"n": 2}\n')
    with gzip.open(tmp_path / "e.jsonl.gz", "wt") as f:
        f.write('{"n": 3}\n')
    (tmp_path / "notes.txt").write_text("not a case")
    got = [(Path(i.source).name, i.line) for i in iter_inputs([str(tmp_path)])]
    assert got == [("a.yaml", None), ("c.json", None), ("d.jsonl", 1), ("d.jsonl", 2), ("e.jsonl.gz", 1)]


def test_stdin_is_read_from_the_given_stream():
    items = list(iter_inputs(["-"], stdin=io.BytesIO(b'{"n": 1}\n')))
    assert [(i.source, i.line) for i in items] == [("<stdin>", 1)]


def test_check_paths_refuses_missing_paths_empty_folders_and_other_files(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        check_paths([str(tmp_path / "missing.yaml")])
    with pytest.raises(InputError, match="no case files"):
        check_paths([str(tmp_path)])
    (tmp_path / "x.txt").write_text("")
    with pytest.raises(InputError, match="not a case file"):
        check_paths([str(tmp_path / "x.txt")])
    check_paths(["-", str(EXAMPLES)])


def test_single_case_only_for_one_case_file():
    one = str(EXAMPLES / "nl-bonus-loss-chasing.yaml")
    assert single_case([one])
    assert not single_case([one, one]) and not single_case([str(EXAMPLES)]) and not single_case(["-"])


def test_default_source_is_local_policies_else_bundled(tmp_path):
    from escalator.language.sources import bundled_dir, default_source

    assert default_source(tmp_path).policies == bundled_dir("policies")
    (tmp_path / "policies").mkdir()
    assert (default_source(tmp_path).policies, default_source(tmp_path).rules) == (tmp_path / "policies", None)
    (tmp_path / "rules").mkdir()
    assert (default_source(tmp_path).policies, default_source(tmp_path).rules) == (tmp_path / "policies", tmp_path / "rules")


# -- evaluating ---------------------------------------------------------------------
def test_decisions_match_the_engine_and_keep_file_order(policies):
    outcomes = list(evaluate_stream(iter_inputs([str(EXAMPLES)]), policies, "compiled", at=AT))
    files = sorted(p for p in EXAMPLES.iterdir())
    assert [Path(o.source).name for o in outcomes] == [p.name for p in files]
    engine = Engine(policies, "compiled")
    for outcome, path in zip(outcomes, files):
        assert outcome.ok
        assert outcome.decision == engine.evaluate(load_case(path), AT).to_dict()


def test_render_gives_the_canonical_json_bytes(policies):
    path = EXAMPLES / "uk-withdrawal-big-win-waiting.yaml"
    expected = Engine(policies, "compiled").evaluate(load_case(path), AT)
    [compact] = evaluate_stream([CaseInput(str(path))], policies, "compiled", render="jsonl", at=AT)
    [pretty] = evaluate_stream([CaseInput(str(path))], policies, "compiled", render="json", at=AT)
    assert compact.text == expected.to_json() and compact.decision is None
    assert pretty.text == expected.to_json(indent=2)


def test_a_bad_case_becomes_an_error_record_and_the_run_goes_on(policies):
    good = (EXAMPLES / "mt-complaint-locks.json").read_text().replace("\n", "")
    bad_amount = json.loads(good)
    bad_amount["request"]["amount"] = 12.345
    no_policy = json.loads(good)
    no_policy["jurisdiction"] = "FR"
    source = _stream([good, json.dumps(bad_amount), "{not json", json.dumps(no_policy), "[1]", good])
    outcomes = list(evaluate_stream(read_lines(source, "<stdin>"), policies, "compiled"))
    assert [o.ok for o in outcomes] == [True, False, False, False, False, True]
    amount = outcomes[1]
    assert amount.line == 2 and amount.case_id == "MT-3050"
    assert amount.problems[0]["path"] == "request.amount" and "decimal places" in amount.problems[0]["message"]
    assert amount.error_lines() == [f"<stdin>:2:1: request.amount: {amount.problems[0]['message']}"]
    assert "invalid JSON" in outcomes[2].problems[0]["message"] and outcomes[2].line == 3
    assert outcomes[3].error_lines()[0].startswith("<stdin>:4:1: jurisdiction: no policy for jurisdiction 'FR'")
    assert "mapping" in outcomes[4].problems[0]["message"]
    record = amount.error_record()["error"]
    assert record["source"] == "<stdin>" and record["line"] == 2 and record["problems"][0]["path"] == "request.amount"


def test_an_unexpected_exception_is_reported_in_place(policies, monkeypatch):
    monkeypatch.setattr(Engine, "evaluate", lambda self, case, *args, **options: 1 / 0)
    [outcome] = evaluate_stream([CaseInput(str(EXAMPLES / "nl-complaint-locks.yaml"))], policies, "compiled")
    assert not outcome.ok and "internal error: ZeroDivisionError" in outcome.problems[0]["message"]


def test_two_workers_give_exactly_the_single_process_results(policies, lines):
    one = list(evaluate_stream(read_lines(_stream(lines), "<stdin>"), policies, "compiled", 1, "jsonl", at=AT))
    two = list(evaluate_stream(read_lines(_stream(lines), "<stdin>"), policies, "compiled", 2, "jsonl", chunksize=16,
                               at=AT))
    assert one == two
    assert len(one) == 300 and 0 < sum(not o.ok for o in one) < 30
    assert [o.line for o in two] == list(range(1, 301))


def test_workers_read_ahead_only_a_bounded_window(policies, lines):
    consumed = 0

    def source():
        nonlocal consumed
        for item in read_lines(_stream(lines * 20), "<stdin>"):
            consumed += 1
            yield item

    stream = evaluate_stream(source(), policies, "compiled", workers=2, render="jsonl", chunksize=10)
    next(stream)
    stream.close()
    assert consumed <= 10 * 2 * 3 + 10  # window of 3 chunks per worker, not the 6,000 inputs


def test_a_worker_that_cannot_build_its_engine_fails_the_run_instead_of_hanging(policies, monkeypatch):
    def broken(self, *args, **kwargs):
        raise RuntimeError("no engine here")

    monkeypatch.setattr(Engine, "__init__", broken)
    with pytest.raises(RuntimeError, match="no engine here"):
        list(evaluate_stream([CaseInput(str(EXAMPLES / "nl-complaint-locks.yaml"))], policies, "compiled", 2))


def test_unknown_backend_is_refused(policies):
    from escalator.errors import EscalatorError

    with pytest.raises(EscalatorError, match="unknown backend"):
        list(evaluate_stream([], policies, "rete", workers=2))
    with pytest.raises(ValueError):
        list(evaluate_stream([], policies, "compiled", render="xml"))


def test_a_corrupt_gzip_file_is_an_error_record_after_its_good_lines(tmp_path):
    data = gzip.compress(b'{"n": 1}\n' * 2000)
    (tmp_path / "broken.jsonl.gz").write_bytes(data[: len(data) // 2])
    items = list(iter_inputs([str(tmp_path / "broken.jsonl.gz")]))
    assert items[0].line == 1 and items[-1].error and "cannot read file" in items[-1].error


def test_spawned_workers_where_fork_is_not_used(policies, monkeypatch):
    monkeypatch.setattr(batch.sys, "platform", "darwin")  # the macOS / Windows path: spawn, policies pickled
    items = [CaseInput(str(p)) for p in sorted(EXAMPLES.iterdir())[:8]]
    two = list(evaluate_stream(items, policies, "compiled", workers=2, render="jsonl", chunksize=3, at=AT))
    one = list(evaluate_stream(items, policies, "compiled", workers=1, render="jsonl", at=AT))
    assert two == one and all(o.ok for o in one)
