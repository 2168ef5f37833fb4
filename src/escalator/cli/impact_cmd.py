"""`escalator impact`: what a policy change does to real cases, before it ships.

The analysis is `escalator.authoring.impact.analyse`; this module only parses options and
renders the report (rich tables, JSON, or markdown for a change request).
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Optional

import typer

from escalator.cli._bulk import ENGINE, EngineName
from escalator.cli._options import BACKEND, BackendName

if TYPE_CHECKING:
    from rich.console import RenderableType

    from escalator.authoring.impact import ImpactReport, PolicySide

PROGRESS_AFTER = 2000  # cases: below this a progress bar is noise
STATIC_FIELDS = ("handler", "escalate", "transfer", "locked", "procedure", "forward", "flags",
                 "deadlines.acknowledge_by", "deadlines.resolve_by", "authority", "deadlines", "rules", "any")

class Format(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"

HELP = """Compare two policy sets on the same cases: which decisions change, and how.

Every case is decided under BASE and under CANDIDATE. The report counts the changes per decision field (handler, escalate, transfer, locked, procedure, each authority cap, forward, flags, deadlines), shows handler transitions (agent -> supervisor: 312 cases), the rules that newly fire or stop firing, and a sample of changed cases side by side.

BASE and CANDIDATE are each: a folder holding policies/ and rules/ (rules/ defaults to the bundled packs); POLICIES_DIR,RULES_DIR; bundled; or git:REV (policies/ and rules/ at that revision of the repository --repo, read with git archive: the working tree is not touched).

CASES are as for evaluate: case files, folders, .jsonl[.gz] files, or - for JSON Lines on stdin; any number of cases runs in constant memory. A bad case (unreadable, invalid, or rejected by one side) is counted and listed, never dropped, and makes the exit code 2.

Exit codes: 0 ok; 1 a field named in --fail-on changed; 2 bad input (a bad case, policy, revision, path or option).
"""

EXAMPLES = """Examples:

  escalator impact --base git:main --candidate . cases/last-quarter.jsonl.gz

  escalator impact --base git:HEAD~1 --candidate . cases/ --format markdown > impact.md

  escalator impact --base bundled --candidate ./my-policies cases/ --fail-on handler,authority
"""


def _fail_on(values: list[str]) -> list[str]:
    names = [name.strip() for value in values for name in value.split(",") if name.strip()]
    for name in names:
        if name not in STATIC_FIELDS and not name.startswith("authority."):
            raise typer.BadParameter(f"unknown field {name!r}: choose from {', '.join(STATIC_FIELDS)}, "
                                     "or authority.ACTION", param_hint="--fail-on")
    return names

def impact(
    cases: list[str] = typer.Argument(..., metavar="CASES...", help="Case files, folders, .jsonl[.gz] files, or - for JSON Lines on stdin."),
    base: str = typer.Option(..., "--base", "-b", help="The policies in force: DIR, POLICIES,RULES, bundled or git:REV."),
    candidate: str = typer.Option(".", "--candidate", "-c", help="The proposed policies (same forms as --base). Default: the current folder."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table (people), json (machines; schema: escalator schema impact) or markdown (a change request)."),
    fail_on: list[str] = typer.Option([], "--fail-on", help="Exit 1 when any of these fields changed (comma-separated; authority and deadlines name every cap/deadline, rules the fired rules, any every field)."),
    workers: int = typer.Option(1, "--workers", "-w", min=1, max=256, help="Processes evaluating cases."),
    sample: int = typer.Option(20, "--sample", min=0, max=100_000, help="How many changed cases to show side by side."),
    max_bad: int = typer.Option(100, "--max-bad", min=0, max=100_000, help="How many bad cases to list (all are counted)."),
    changes: Optional[Path] = typer.Option(None, "--changes", help="Also write every changed case to this file, one JSON line each (source, case_id, fields, handler before/after, rules added/removed)."),
    repo: Optional[Path] = typer.Option(None, "--repo", help="The git repository git:REV refers to (default: the current folder)."),
    backend: BackendName = BACKEND,
    progress: Optional[bool] = typer.Option(None, "--progress/--no-progress", help="Progress bar on stderr (default: when stderr is a terminal and stdout is not)."),
    engine: EngineName = ENGINE,
) -> None:
    from escalator.operations.batch import check_paths, iter_inputs
    from escalator.authoring.impact import analyse
    from escalator.cli import EXIT_BAD_INPUT, EXIT_FAILED
    from escalator.cli._console import bad_input, err
    from escalator.cli._progress import Progress

    names = _fail_on(fail_on)
    with bad_input():
        from escalator.bulk.run import check_bulk_paths

        check_bulk_paths(cases)
        if cases.count("-") > 1:
            raise typer.BadParameter("- (stdin) may be given only once", param_hint="CASES")
        bar = Progress(progress, "comparing", PROGRESS_AFTER)
        sink = _Changes(changes)
        from escalator.cli import _bulk

        chosen = _bulk.choose(engine, cases)
        if chosen == "dask":
            raise typer.BadParameter("impact runs on python or duckdb", param_hint="--engine")
        try:
            if _bulk.needs_bulk(chosen, cases, None):
                from escalator.bulk.impact import analyse_bulk

                report = analyse_bulk(base, candidate, cases, engine=chosen, sample=sample, max_bad=max_bad,
                                      backend=backend.value, repo=repo, progress=bar.advance,
                                      on_change=sink.write if changes is not None else None)
            else:
                report = analyse(base, candidate, iter_inputs(cases), workers=workers, sample=sample, max_bad=max_bad,
                                 backend=backend.value, repo=repo, progress=bar.advance,
                                 on_change=sink.write if changes is not None else None)
        finally:
            bar.stop()
            sink.close()
    try:
        failing = report.failing(names)
    except ValueError as exc:
        err(str(exc))
        raise typer.Exit(EXIT_BAD_INPUT) from None
    if fmt is Format.json:
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
    elif fmt is Format.markdown:
        sys.stdout.write(markdown(report))
    else:
        from escalator.cli._console import console

        out = console()
        for block in tables(report):
            out.print(block)
    if report.bad:
        err(f"{report.bad} bad case{'s' if report.bad != 1 else ''}; exit code 2")
        raise typer.Exit(EXIT_BAD_INPUT)
    if failing:
        err(f"changed: {', '.join(failing)} (--fail-on); exit code 1")
        raise typer.Exit(EXIT_FAILED)

# -- rendering ------------------------------------------------------------------------
def value(decision: dict[str, Any], field: str) -> str:
    """A decision field as text, for tables (authority.X and deadlines.X reach inside)."""
    if "." in field:
        group, key = field.split(".", 1)
        raw = decision.get(group, {}).get(key)
    else:
        raw = decision.get(field)
    if raw is None:
        return "-"
    if isinstance(raw, bool):
        return "yes" if raw else "no"
    if isinstance(raw, list):
        return ", ".join(raw) or "(none)"
    return str(raw)

def _share(count: int, total: int) -> str:
    return f"{100 * count / total:.1f}%" if total else "-"

def _summary(report: ImpactReport) -> str:
    return (f"{report.cases:,} cases: {report.evaluated:,} decided under both, {report.changed:,} changed "
            f"({_share(report.changed, report.evaluated)}), {report.rules_changed:,} with different rules firing, "
            f"{report.bad:,} bad")

def _sides(report: ImpactReport) -> list[tuple[str, str, str, str]]:
    """(policy, base version, candidate version, note) for every policy on either side."""
    base = {p["id"]: p for p in report.base.policies}
    cand = {p["id"]: p for p in report.candidate.policies}
    rows = []
    for pid in sorted(set(base) | set(cand)):
        b, c = base.get(pid), cand.get(pid)
        note = ("added" if b is None else "removed" if c is None
                else "unchanged" if b["digest"] == c["digest"] else "changed")
        rows.append((pid, b["version"] if b else "-", c["version"] if c else "-", note))
    return rows

def _side_label(side: PolicySide) -> str:
    return f"{side.source} ({side.revision[:12]})" if side.revision else side.source

def tables(report: ImpactReport) -> list[RenderableType]:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    blocks: list[RenderableType] = [Text(f"Impact of {_side_label(report.candidate)} against {_side_label(report.base)}", style="bold"),
                         Text(_summary(report))]

    def table(title: str, *columns: str) -> Table:
        t = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
        for i, name in enumerate(columns):
            t.add_column(name, justify="right" if name in ("Cases", "Share") else "left", no_wrap=i == 0)
        return t

    policies = table("Policies", "Policy", "Base", "Candidate", "")
    for row in _sides(report):
        policies.add_row(*row)
    blocks.append(policies)
    fields = table("Changed decision fields", "Field", "Cases", "Share")
    for name, count in report.fields.items():
        if count:
            fields.add_row(name, f"{count:,}", _share(count, report.evaluated))
    blocks.append(fields if fields.row_count else Text("No decision field changed."))
    if report.handler_transitions:
        moves = table("Handler transitions", "Before", "After", "Cases")
        for t in report.handler_transitions:
            moves.add_row(t.before, t.after, f"{t.cases:,}")
        blocks.append(moves)
    for title, changes in (("Rules newly firing", report.rules_newly_firing),
                           ("Rules no longer firing", report.rules_no_longer_firing)):
        if changes:
            rules = table(title, "Rule", "Policy", "Cases")
            for c in changes:
                rules.add_row(c.rule, c.policy, f"{c.cases:,}")
            blocks.append(rules)
    if report.sample:
        shown = table(f"Changed cases (first {len(report.sample)} of {max(report.changed, len(report.sample)):,})",
                      "Case", "Field", "Base", "Candidate")
        for case in report.sample:
            rows = [(f, value(case.base, f), value(case.candidate, f)) for f in case.fields]
            rows += [("rules +", "", ", ".join(case.rules_added))] if case.rules_added else []
            rows += [("rules -", ", ".join(case.rules_removed), "")] if case.rules_removed else []
            for i, (name, before, after) in enumerate(rows):
                shown.add_row(f"{case.case_id}\n{case.source}" if i == 0 else "", name, before, after,
                              end_section=i == len(rows) - 1)
        blocks.append(shown)
    if report.bad_cases:
        bad = table(f"Bad cases ({report.bad:,}; first {len(report.bad_cases)} listed)", "Source", "Case", "Side", "Problem")
        for bad_case in report.bad_cases:
            bad.add_row(bad_case.source, bad_case.case_id or "-", bad_case.side, "\n".join(bad_case.problems))
        blocks.append(bad)
    return blocks

def _html(text: object) -> str:
    from html import escape

    return escape(str(text)).replace("\n", " ")

def _md_table(header: tuple[str, ...], rows: Sequence[tuple[object, ...]]) -> list[str]:
    from escalator.cli._console import md

    align = ["---:" if h in ("Cases", "Share") else "---" for h in header]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(md(cell) for cell in row) + " |" for row in rows]
    return lines + [""]

def markdown(report: ImpactReport) -> str:
    """The report as GitHub-flavoured markdown, to paste into a change request."""
    from escalator.cli._console import md

    out = [f"## Policy impact: `{md(_side_label(report.base))}` → `{md(_side_label(report.candidate))}`", "",
           _summary(report) + ".", ""]
    out += _md_table(("Policy", "Base", "Candidate", "Change"), _sides(report))
    out += ["### Changed decision fields", ""]
    changed = [(f"`{name}`", f"{count:,}", _share(count, report.evaluated)) for name, count in report.fields.items() if count]
    out += _md_table(("Field", "Cases", "Share"), changed) if changed else ["No decision field changed.", ""]
    if report.handler_transitions:
        out += ["### Handler transitions", ""]
        out += _md_table(("Before", "After", "Cases"),
                         [(t.before, t.after, f"{t.cases:,}") for t in report.handler_transitions])
    for title, changes in (("Rules newly firing", report.rules_newly_firing),
                           ("Rules no longer firing", report.rules_no_longer_firing)):
        if changes:
            out += [f"### {title}", ""]
            out += _md_table(("Rule", "Policy", "Cases"), [(f"`{c.rule}`", c.policy, f"{c.cases:,}") for c in changes])
    if report.sample:
        out += [f"### Changed cases (first {len(report.sample)})", ""]
        for case in report.sample:
            what = ", ".join(case.fields) or "fired rules only"
            out += [f"<details><summary><code>{_html(case.case_id)}</code> ({_html(case.source)}): {_html(what)}</summary>",
                    ""]
            rows = [(f"`{f}`", value(case.base, f), value(case.candidate, f)) for f in case.fields]
            rows += [("rules", ", ".join(case.base_rules()) or "(none)", ", ".join(case.candidate_rules()) or "(none)")]
            out += _md_table(("Field", "Base", "Candidate"), rows)
            delta = [f"+`{r}`" for r in case.rules_added] + [f"-`{r}`" for r in case.rules_removed]
            out += [f"Rules that made the difference: {' '.join(delta)}", ""] if delta else []
            out += ["</details>", ""]
    if report.bad_cases:
        out += [f"### Bad cases ({report.bad:,})", ""]
        out += [f"- `{md(b.source)}` ({md(b.case_id or '-')}, {b.side}): {md('; '.join(b.problems))}"
                for b in report.bad_cases]
        out += [""]
    return "\n".join(out).rstrip("\n") + "\n"

class _Changes:
    """The --changes file: one compact JSON line per changed case, written as results arrive."""

    def __init__(self, path: Path | None):
        self.out = None
        if path is not None:
            try:
                self.out = open(path, "w", encoding="utf-8")
            except OSError as exc:
                raise typer.BadParameter(f"cannot write {path}: {exc.strerror}", param_hint="--changes") from None

    def write(self, change: dict[str, Any]) -> None:
        import json

        assert self.out is not None
        self.out.write(json.dumps(change, ensure_ascii=False, separators=(",", ":")) + "\n")

    def close(self) -> None:
        if self.out is not None:
            self.out.close()

def register(app: typer.Typer) -> None:
    app.command("impact", help=HELP, no_args_is_help=True)(impact)
