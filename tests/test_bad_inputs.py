"""The bad-input corpus (tests/bad_inputs/): every malformed file is refused with
escalator's own error, the specific message and the right place; through the CLI
with exit code 2 and a one-line message, never a traceback.

The index is tests/bad_inputs/expected.yaml (its header explains the fields).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

import escalator.errors as errors
from escalator import Engine
from escalator.language.cases import load_case, parse_case
from escalator.errors import EscalatorError, LoadError, PolicyError
from escalator.language.yamlio import MAX_FILE_BYTES, load_file, parse_yaml

ROOT = Path(__file__).parent / "bad_inputs"
EXPECTED: dict = load_file(ROOT / "expected.yaml").data
KEYS = sorted(EXPECTED)
GOOD_CASE = ROOT.parent.parent / "examples" / "cases" / "nl-bonus-at-agent-cap.yaml"
HAS_POLICYTEST = importlib.util.find_spec("escalator.authoring.policytest") is not None


def _cli_available(name: str) -> bool:
    return importlib.util.find_spec(f"escalator.cli.{name}_cmd") is not None


def _param(key: str):
    marks = []
    if EXPECTED[key].get("xfail"):
        marks.append(pytest.mark.xfail(reason=EXPECTED[key]["xfail"], strict=True))
    return pytest.param(key, marks=marks, id=key)


@pytest.fixture(scope="module")
def engine():
    with Engine.default(backend="compiled") as e:
        yield e


def _run(key: str, engine: Engine) -> None:
    """Feed one corpus entry through the library the way a user would."""
    kind, name = key.split("/", 1)
    path = ROOT / key
    if kind == "cases":
        engine.evaluate(load_case(path))
    elif kind in ("policies", "rules"):
        Engine.load(path / "policies", path / "rules", backend="compiled").close()
    elif kind == "tests":
        if not HAS_POLICYTEST:
            pytest.skip("escalator.authoring.policytest is not there yet")
        from escalator.authoring.policytest import load_tests

        for test in load_tests(path / "test_bad.yaml"):
            if isinstance(test.case, EscalatorError):
                raise test.case
            parse_case(test.case)
    else:
        raise AssertionError(f"unknown corpus kind {kind!r}")


def _fragments(entry: dict) -> list[str]:
    message = entry["message"]
    return [message] if isinstance(message, str) else list(message)


def _matching_problem(error: EscalatorError, entry: dict, base: Path):
    """The problem that carries the expected message; its location is checked by the caller."""
    fragments = _fragments(entry)
    for problem in error.problems:
        if all(f in problem.message for f in fragments):
            return problem
    raise AssertionError(f"no problem says {fragments}; got:\n{error}")


def test_corpus_is_large_and_indexed():
    """At least 60 entries, across all four kinds, and every corpus file is in the index."""
    assert len(KEYS) >= 60
    assert {k.split("/")[0] for k in KEYS} == {"cases", "policies", "rules", "tests"}
    on_disk = {f"cases/{p.name}" for p in (ROOT / "cases").iterdir()}
    on_disk |= {f"{kind}/{p.name}" for kind in ("policies", "rules", "tests") for p in (ROOT / kind).iterdir()}
    assert on_disk == set(KEYS)


@pytest.mark.parametrize("key", [_param(k) for k in KEYS])
def test_library_refuses_with_own_error_message_and_location(key, engine):
    entry = EXPECTED[key]
    expected_type = getattr(errors, entry["error"])
    base = ROOT if key.startswith("cases/") else ROOT / key
    with pytest.raises(EscalatorError) as info:
        _run(key, engine)
    error = info.value
    assert isinstance(error, expected_type), f"{type(error).__name__} is not a {entry['error']}"
    problem = _matching_problem(error, entry, base)
    location = problem.location
    if entry.get("file") is not None:
        assert location is not None and location.file is not None, problem
        assert Path(location.file).resolve() == (base / entry["file"]).resolve(), problem
    if entry.get("line") is not None:
        assert location.line == entry["line"], problem
        assert location.column is not None and location.column >= 1, problem
    if entry.get("path") is not None:
        assert problem.path == entry["path"], problem
    assert entry.get("file") is not None or entry.get("path") is not None or key.endswith("overlapping_policies"), (
        "every entry names a location: a file and line, or a field path"
    )
    assert "Traceback" not in str(error)


# -- alias bombs, deep nesting, huge files --------------------------------------------------

def _bounded(func, seconds: float = 1.0, megabytes: int = 64) -> EscalatorError:
    """func must raise an EscalatorError within `seconds` (timed alone) and `megabytes` (traced)."""

    def refused() -> EscalatorError:
        try:
            func()
        except EscalatorError as exc:
            return exc
        raise AssertionError("accepted")

    start = time.perf_counter()
    error = refused()
    elapsed = time.perf_counter() - start
    assert elapsed < seconds, f"took {elapsed:.2f} s"
    tracemalloc.start()
    try:
        refused()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < megabytes * 1024 * 1024, f"peak {peak / 1e6:.0f} MB"
    return error


def _bomb(levels: int, width: int) -> str:
    lines = [f'a0: &a0 [{", ".join(["lol"] * width)}]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("levels,width", [(9, 10), (30, 2), (5, 150)], ids=["billion-laughs", "deep-pairs", "wide"])
def test_alias_bomb_refused_fast_and_small(levels, width):
    error = _bounded(lambda: parse_yaml(_bomb(levels, width), "bomb.yaml"))
    assert isinstance(error, LoadError)
    assert "alias" in str(error)
    assert error.problems[0].location.line is not None


@pytest.mark.parametrize("text", [
    "attributes: " + "[" * 10_000 + "]" * 10_000,
    "attributes: " + "{a: " * 5_000 + "1" + "}" * 5_000,
    "a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 500)) + "  " * 500 + "leaf: 1\n",
    "[" * 200_000,
], ids=["flow-seq", "flow-map", "block", "unclosed"])
def test_deep_nesting_refused_fast_and_small(text):
    error = _bounded(lambda: parse_yaml(text, "deep.yaml"))
    assert "nesting deeper than" in str(error)
    assert error.problems[0].location.line is not None


def _write_big(path: Path) -> Path:
    """A 50 MB YAML file (valid, if anyone read it): comments after a small case."""
    chunk = ("# " + "x" * 1021 + "\n").encode()
    with path.open("wb") as handle:
        handle.write(b"case_id: BIG-1\n")
        for _ in range(50 * 1024):
            handle.write(chunk)
    assert path.stat().st_size > 50 * 1024 * 1024
    return path


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    return _write_big(tmp_path_factory.mktemp("big") / "big.yaml")


def test_50mb_case_refused_by_size_limit(big_file):
    error = _bounded(lambda: load_case(big_file), seconds=1.0, megabytes=16)
    assert isinstance(error, LoadError)
    assert f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MB" in str(error)
    assert error.problems[0].location.file == str(big_file)


def test_50mb_text_refused_by_parse_yaml():
    text = "a: " + "b" * (50 * 1024 * 1024)
    error = _bounded(lambda: parse_yaml(text, "big.yaml"), seconds=1.0, megabytes=16)
    assert "larger than" in str(error)


def test_50mb_policy_in_folder_refused(big_file, tmp_path):
    source = ROOT / "policies" / "unknown_pack"  # any fixture pair; the big file comes first
    (tmp_path / "policies").mkdir()
    (tmp_path / "rules").mkdir()
    (tmp_path / "policies" / "a_big.yaml").symlink_to(big_file)
    (tmp_path / "rules" / "basic.yaml").write_bytes((source / "rules" / "basic.yaml").read_bytes())
    error = _bounded(lambda: Engine.load(tmp_path / "policies", tmp_path / "rules", backend="compiled"),
                     seconds=1.0, megabytes=32)
    assert isinstance(error, PolicyError)
    assert any("larger than" in p.message and p.location.file.endswith("a_big.yaml") for p in error.problems)


# -- the CLI: exit code 2 and a one-line message -------------------------------------------

def _cli_command() -> list[str]:
    if importlib.util.find_spec("escalator.__main__") is not None:
        return [sys.executable, "-m", "escalator"]
    return [sys.executable, "-c", "from escalator.cli import main; main()"]


def _invoke(args: list[str]):
    """In-process CLI run (typer's runner): fast enough for every corpus entry."""
    from typer.testing import CliRunner

    from escalator.cli import app

    result = CliRunner().invoke(app, args)
    return result.exit_code, result.output, result.exception


def _cli_args(key: str) -> list[str]:
    kind = key.split("/")[0]
    path = ROOT / key
    if kind == "cases":
        if not _cli_available("evaluate"):
            pytest.skip("escalator evaluate is not there yet")
        return ["evaluate", str(path), "--backend", "compiled"]
    if kind in ("policies", "rules"):
        # a bad policy folder is bad input for every command that loads it
        if not _cli_available("evaluate"):
            pytest.skip("escalator evaluate is not there yet")
        return ["evaluate", str(GOOD_CASE), "--policies", str(path / "policies"), "--rules", str(path / "rules"),
                "--backend", "compiled"]
    if not _cli_available("test"):
        pytest.skip("escalator test is not there yet")
    return ["test", str(path / "test_bad.yaml"), "--backend", "compiled"]


def _check_cli_output(key: str, code: int, output: str) -> None:
    entry = EXPECTED[key]
    assert code == 2, f"exit code {code}:\n{output}"
    assert "Traceback" not in output
    fragments = _fragments(entry)
    lines = [line for line in output.splitlines() if all(f in line for f in fragments)]
    assert lines, f"no line says {fragments}:\n{output}"
    if entry.get("line") is not None:
        assert any(f":{entry['line']}:" in line for line in lines), f"no line names line {entry['line']}:\n{output}"


def _cli_param(key: str):
    marks = []
    if EXPECTED[key].get("xfail"):
        marks.append(pytest.mark.xfail(reason=EXPECTED[key]["xfail"], strict=True))
    return pytest.param(key, marks=marks, id=key)


CASE_KEYS = [k for k in KEYS if k.startswith("cases/")]


@pytest.fixture(scope="module")
def cases_batch_output(tmp_path_factory):
    """One in-process `escalator evaluate` over every bad case file (one engine load, not 70)."""
    if not _cli_available("evaluate"):
        pytest.skip("escalator evaluate is not there yet")
    import os

    cwd = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("cwd"))  # no ./policies or ./rules: the bundled defaults
    try:
        code, output, exception = _invoke(["evaluate", "--backend", "compiled"] + [str(ROOT / k) for k in CASE_KEYS])
    finally:
        os.chdir(cwd)
    assert exception is None or isinstance(exception, SystemExit), f"{type(exception).__name__}: {exception}"
    return code, output


@pytest.mark.parametrize("key", [_cli_param(k) for k in CASE_KEYS])
def test_cli_bad_case_reported_on_its_own_line(key, cases_batch_output):
    """In a batch of every bad case: exit 2, and each file's problem on a line naming the file."""
    code, output = cases_batch_output
    mine = "\n".join(line for line in output.splitlines() if str(ROOT / key) in line)
    _check_cli_output(key, code, mine)


@pytest.mark.parametrize("key", [_cli_param(k) for k in KEYS if not k.startswith("cases/")])
def test_cli_exit_2_and_one_line_message(key, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no ./policies or ./rules: the bundled defaults
    args = _cli_args(key)
    code, output, exception = _invoke(args)
    assert exception is None or isinstance(exception, SystemExit), f"{type(exception).__name__}: {exception}"
    _check_cli_output(key, code, output)


@pytest.mark.parametrize("key", [_param(k) for k in KEYS if k.startswith(("policies/", "rules/"))])
def test_cli_validate_reports_file_line_and_fails(key, monkeypatch, tmp_path):
    """`escalator validate DIR` names the problem with file:line and exits 2 (bad input).

    Unreadable files and policies that do not compile are bad input (2); only
    static-check findings on policies that compile are failed checks (1).
    """
    if not _cli_available("validate"):
        pytest.skip("escalator validate is not there yet")
    monkeypatch.chdir(tmp_path)
    code, output, exception = _invoke(["validate", str(ROOT / key)])
    assert exception is None or isinstance(exception, SystemExit), f"{type(exception).__name__}: {exception}"
    assert code == 2, f"exit code {code}:\n{output}"
    assert "Traceback" not in output
    entry = EXPECTED[key]
    fragments = _fragments(entry)
    lines = [line for line in output.splitlines() if all(f in line for f in fragments)]
    assert lines, f"no line says {fragments}:\n{output}"
    if entry.get("line") is not None:
        assert any(f":{entry['line']}:" in line for line in lines), output


SUBPROCESS_SAMPLE = ["cases/alias_bomb.yaml", "policies/extends_cycle", "rules/eval_injection",
                     "tests/dup_key_expect"]


@pytest.mark.parametrize("key", SUBPROCESS_SAMPLE)
def test_cli_subprocess_exit_2(key, tmp_path):
    """A real process for a sample of the corpus: exit 2, the message on a line of its own."""
    args = _cli_args(key)
    proc = subprocess.run(_cli_command() + args, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    _check_cli_output(key, proc.returncode, proc.stdout + proc.stderr)


def test_cli_batch_of_all_bad_cases_goes_on_and_exits_2(tmp_path):
    """One run over every bad case file: each gets its error line, the run finishes, exit 2."""
    if not _cli_available("evaluate"):
        pytest.skip("escalator evaluate is not there yet")
    cases = [k for k in KEYS if k.startswith("cases/")]
    proc = subprocess.run(_cli_command() + ["evaluate", "--backend", "compiled", "-f", "jsonl"]
                          + [str(ROOT / k) for k in cases], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    for key in cases:
        assert key.split("/")[1] in proc.stdout + proc.stderr, f"{key} not reported"


def test_cli_jsonl_stdin_bad_lines_named_by_line_number(monkeypatch, tmp_path):
    """JSON Lines on stdin: each bad line reported with its line number, good lines still decided."""
    if not _cli_available("evaluate"):
        pytest.skip("escalator evaluate is not there yet")
    import json

    from typer.testing import CliRunner

    from escalator.cli import app

    good = json.dumps(load_file(GOOD_CASE).data, default=str)
    lines = [good, '{"case_id": "X", "case_id": "Y"}', '{"a": NaN}', "not json", good.replace('"NL"', '"XX"'), good]
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["evaluate", "-", "--backend", "compiled", "-f", "jsonl"],
                                input="\n".join(lines) + "\n")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    decisions = [json.loads(line) for line in result.stdout.splitlines() if line.startswith('{"case_id"')]
    assert len(decisions) == 2
    for number, fragment in ((2, "duplicate key 'case_id'"), (3, "NaN is not a number"), (4, "invalid JSON"),
                             (5, "no policy for jurisdiction 'XX'")):
        assert fragment in result.output and (f":{number}:" in result.output or f'"line": {number}' in result.output
                                              or f'"line":{number}' in result.output), (number, result.output)


def test_unknown_fields_under_attributes_are_accepted(engine):
    """The one exception to "unknown fields are errors": operator data under `attributes`."""
    data = load_file(GOOD_CASE).data
    data["attributes"] = {"crm_segment": "gold", "brand": {"name": "alpha", "region": "north"}, "scores": [1, 2]}
    decision = engine.evaluate(data)
    assert decision.case_id == data["case_id"]
    data["request"]["crm_segment"] = "gold"
    with pytest.raises(errors.CaseError, match="unknown field 'crm_segment'"):
        engine.evaluate(data)
