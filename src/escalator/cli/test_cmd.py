"""`escalator test`: run YAML policy tests, with rule coverage and JUnit XML."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer


EXAMPLES = """Examples:

  escalator test

  escalator test policies/tests --coverage --min-coverage 90

  escalator test my-policies/tests --junit report.xml
"""


def register(app: typer.Typer) -> None:
    app.command("test")(test)


def _default_paths() -> list[Path]:
    from escalator.language.sources import bundled_dir, default_source

    local = default_source().policies / "tests"
    return [local if local.is_dir() else bundled_dir("policies") / "tests"]


def test(
    paths: Optional[List[Path]] = typer.Argument(
        None, help="Test files or folders (default: ./policies/tests if present, else the bundled tests)."),
    coverage: bool = typer.Option(False, "--coverage", help="List every rule with how many tests fired it."),
    min_coverage: Optional[float] = typer.Option(
        None, "--min-coverage", metavar="N", help="Fail (exit 1) when fewer than N% of the rules fired in some test."),
    junit: Optional[Path] = typer.Option(None, "--junit", metavar="FILE", help="Write JUnit XML for CI systems."),
    backend: Optional[str] = typer.Option(None, "--backend", help="auto, compiled or durable (overrides the files)."),
    policies: Optional[Path] = typer.Option(None, "--policies", help="Policy folder for every test file."),
    rules: Optional[Path] = typer.Option(None, "--rules", help="Rule-pack folder for every test file."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print failures and the summary only."),
) -> None:
    """Run policy tests (test_*.yaml).

    Exit codes: 0 all pass; 1 a test fails or coverage is below --min-coverage;
    2 bad input: a malformed test file, or a test whose case is missing or
    invalid (the other tests still run and are reported).
    """
    from escalator.cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK
    from escalator.authoring import policytest as pt
    from escalator.authoring import report as report
    from escalator.errors import EscalatorError

    runner = pt.Runner()
    bad_files = 0
    try:
        files = pt.collect(paths or _default_paths())
        tests = []
        for file in files:  # a malformed file is an error (exit 2), never skipped; the others still run
            try:
                tests.extend(pt.load_tests(file, policies, rules, backend))
            except EscalatorError as exc:
                bad_files += 1
                for problem in exc.problems:
                    typer.echo(f"error: {problem.with_hint()}", err=True)
        if not tests and not bad_files:
            typer.echo("no policy tests found", err=True)
            raise typer.Exit(EXIT_BAD_INPUT)
        for t in tests:
            result = runner.run(t)
            if not result.passed or not quiet:
                typer.echo(result.report())
    except EscalatorError as exc:
        for problem in exc.problems:
            typer.echo(f"error: {problem.with_hint()}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    finally:
        runner.close()
    results = runner.results
    failed = [r for r in results if r.status == "fail"]
    errors = [r for r in results if r.status == "error"]
    typer.echo(f"{len(results) - len(failed) - len(errors)} passed, {len(failed)} failed"
               + (f", {len(errors)} errors (bad input)" if errors else "") + f" ({len(results)} tests)"
               + (f"; {bad_files} test file{'s' if bad_files != 1 else ''} could not be read" if bad_files else ""))
    if junit is not None:
        junit.write_bytes(report.junit_xml(results))
    code = EXIT_BAD_INPUT if errors or bad_files else EXIT_FAILED if failed else EXIT_OK
    if coverage or min_coverage is not None:
        typer.echo(report.coverage_report(runner.coverage))
    if min_coverage is not None and report.coverage_percent(runner.coverage) < min_coverage:
        typer.echo(f"coverage {report.coverage_percent(runner.coverage):.1f}% is below --min-coverage {min_coverage:g}%")
        code = max(code, EXIT_FAILED)
    raise typer.Exit(code)
