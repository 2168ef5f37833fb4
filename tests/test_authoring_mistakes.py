"""The authoring-mistakes corpus (tests/authoring_mistakes/): one typical slip per file,
and the plain-words message it must get, through the library and through the CLI.

Every message names the file, the line and the field path, says what was found and
what was expected, and carries none of the parser's or pydantic's own wording. The
index (index.yaml) gives, per file, a fragment of the message (and of the hint), the
line and the field path. Policies are loaded alone in a folder (over the bundled
defaults); a pack is loaded with a policy that extends the bundled UK policy and
selects it; test files run against the bundled policies; cases are evaluated.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from escalator import Engine
from escalator.authoring.checks import validate_folders
from escalator.cli import app
from escalator.errors import EscalatorError, Problem
from escalator.language.yamlio import load_file

ROOT = Path(__file__).parent / "authoring_mistakes"
INDEX: dict[str, dict[str, object]] = load_file(ROOT / "index.yaml").data
BANNED = ("pydantic", "Traceback", "validation error for", "str type", "Input should be")
PROBE = """\
policy: probe
extends: escalator:uk
jurisdictions: [ZZ]
rules: {{packs: [bonus, complaint, {pack}]}}
"""
runner = CliRunner()


def _pack_name(path: Path) -> str:
    match = re.search(r"^pack:\s*(\S+)", path.read_text(), re.MULTILINE)
    return match.group(1).lower() if match else "mine"


def _stage(key: str, tmp: Path) -> Path:
    """The corpus file where a user would have it; returns the path to give the tools."""
    kind, name = key.split("/", 1)
    source = ROOT / key
    if kind == "policies":
        folder = tmp / "policies"
        folder.mkdir()
        shutil.copy(source, folder / name)
        return folder
    if kind == "packs":
        (tmp / "policies").mkdir()
        (tmp / "rules").mkdir()
        shutil.copy(source, tmp / "rules" / name)
        (tmp / "policies" / "probe.yaml").write_text(PROBE.format(pack=_pack_name(source)))
        return tmp
    shutil.copy(source, tmp / name)
    return tmp / name


def _library_problems(key: str, staged: Path) -> list[Problem]:
    kind = key.split("/", 1)[0]
    if kind in ("policies", "packs"):
        report = validate_folders(staged)
        return report.load_problems + report.findings
    try:
        if kind == "tests":
            from escalator.authoring.policytest import Runner, load_tests

            runner_ = Runner()
            try:
                for test in load_tests(staged):
                    result = runner_.run(test)
                    if result.error_problems:
                        return list(result.error_problems)
            finally:
                runner_.close()
        else:
            with Engine.default(backend="compiled") as engine:
                engine.evaluate(load_file(staged))  # the document: tier checks get their lines too
    except EscalatorError as exc:
        return exc.problems
    return []


def _cli(key: str, staged: Path) -> str:
    kind = key.split("/", 1)[0]
    args = {"policies": ["validate", str(staged)], "packs": ["validate", str(staged)],
            "tests": ["test", str(staged), "--backend", "compiled"],
            "cases": ["evaluate", str(staged), "--backend", "compiled"]}[kind]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 or (kind in ("policies", "packs") and result.exit_code in (1, 2)) or (
        result.exit_code == 0 and INDEX[key].get("warning")), (result.exit_code, result.output)
    return result.output


def test_corpus_is_large_indexed_and_covers_every_kind() -> None:
    on_disk = {f"{kind}/{p.name}" for kind in ("policies", "packs", "tests", "cases") for p in (ROOT / kind).iterdir()}
    assert on_disk == set(INDEX)
    assert len(INDEX) >= 40
    assert {key.split("/")[0] for key in INDEX} == {"policies", "packs", "tests", "cases"}


@pytest.mark.parametrize("key", sorted(INDEX))
def test_message_names_file_line_field_in_plain_words(key: str, tmp_path: Path) -> None:
    entry = INDEX[key]
    staged = _stage(key, tmp_path)
    problems = _library_problems(key, staged)
    matching = [p for p in problems if str(entry["message"]) in p.message]
    assert matching, f"no problem says {entry['message']!r}; got:\n" + "\n".join(map(str, problems))
    problem = matching[0]
    assert problem.location is not None and problem.location.file is not None, problem
    assert Path(problem.location.file).name == Path(key).name, problem
    assert problem.location.line == entry["line"], problem
    assert problem.field_path == entry["field"], problem
    if "hint" in entry:
        assert problem.hint is not None and str(entry["hint"]) in problem.hint, problem.with_hint()
    for text in (problem.with_hint(),):
        assert not any(word in text for word in BANNED), text

    output = _cli(key, staged)
    line = next((row for row in output.splitlines() if str(entry["message"]) in row), None)
    assert line is not None, output
    assert f"{Path(key).name}:{entry['line']}:" in line and f": {entry['field']}: " in line, line
    assert not any(word in output for word in BANNED), output


def test_every_placeholder_of_every_reason_in_one_run(tmp_path: Path) -> None:
    staged = _stage("packs/reason_placeholder.yaml", tmp_path)
    text = (staged / "rules" / "reason_placeholder.yaml").read_text()
    (staged / "rules" / "reason_placeholder.yaml").write_text(text + """\
  - id: second
    description: Another rule with two bad placeholders
    when: request.amount > 20000
    then: {require: supervisor, reason: "{player.vip_levl} and {params.nope}"}
""")
    problems = _library_problems("packs/x", staged)
    said = " | ".join(p.message for p in problems)
    for name in ("request.amont", "params.large_wins", "player.vip_levl", "params.nope"):
        assert name in said, said
