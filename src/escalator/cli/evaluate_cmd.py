"""`escalator evaluate`: decide case files, folders of them, or JSON Lines on stdin."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from escalator.cli._bulk import ENGINE, OUTPUT, SCHEDULER, EngineName
from escalator.cli._options import BACKEND, POLICIES, RULES, BackendName

if TYPE_CHECKING:
    from rich.console import Console

    from escalator.language.ir import CompiledPolicy
    from escalator.log.record import Recorder
    from escalator.operations.batch import Outcome

PROGRESS_AFTER = 500  # cases: below this a progress bar is noise

class Format(str, Enum):
    table = "table"
    json = "json"
    jsonl = "jsonl"

HELP = """Decide cases: who handles each one, with what authority, and why.

PATH is a case file (.yaml, .yml, .json), a folder of them (searched recursively, in name order), a JSON Lines file (.jsonl, .jsonl.gz), a Parquet or CSV file of flattened cases (one column per field, e.g. player.vip_level; see docs/bulk.md), or - for JSON Lines on stdin. Input is read and output written case by case (or chunk by chunk), so any number of cases runs in constant memory.

--engine duckdb decides chunks of cases with the policy compiled to one SQL query (in-process, byte-identical decisions); --engine dask runs that query per partition on a Dask cluster; rows SQL cannot read exactly, and policies it cannot express, go to the Python engine (said on stderr). --output FILE writes .jsonl (decision JSON), .csv or .parquet (decision tables), with a summary on stderr.

With --workers 1 and --format jsonl each decision is written as soon as its line is read, so a program can pipe cases in and read answers one by one; --workers N reads ahead in chunks.

Formats: table (for people); json (the decision JSON: one object for a single case file, otherwise an array in input order); jsonl (one compact decision per line, in input order).

A bad case does not stop the run: its problems go to stderr (file:line: field.path: message) and, in json/jsonl output, an {"error": {...}} record takes its place, so output record N is always input case N (a single bad case file prints nothing on stdout). The exit code is then 2.

Exit codes: 0 ok, 2 bad input (a bad case, policy, path or option).
"""

EXAMPLES = """Examples:

  escalator evaluate examples/cases/nl-bonus-loss-chasing.yaml --format json

  escalator evaluate examples/cases --log decisions.db   (then: escalator replay decisions.db)

  escalator evaluate cases.parquet --engine duckdb --output decisions.parquet
"""


def evaluate(
    paths: list[str] = typer.Argument(
        ..., metavar="PATH...",
        help="Case files, folders, .jsonl[.gz] files, or - for JSON Lines on stdin.",
    ),
    policies: Optional[Path] = POLICIES,
    rules: Optional[Path] = RULES,
    backend: BackendName = BACKEND,
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, json or jsonl."),
    workers: int = typer.Option(
        1, "--workers", "-w", min=1, max=256,
        help="Processes evaluating cases; output keeps the input order.",
    ),
    progress: Optional[bool] = typer.Option(
        None, "--progress/--no-progress",
        help="Progress bar on stderr (default: only when stderr is a terminal, stdout is not, and there are many cases).",
    ),
    log: Optional[str] = typer.Option(
        None, "--log", help="Also record every decision in this decision log (FILE, sqlite:///FILE, postgresql://...); "
        "a decision is printed only once it is recorded.",
    ),
    mask_key_file: Optional[Path] = typer.Option(
        None, "--mask-key-file", help="Key for fields a policy masks in the log (default: $ESCALATOR_LOG_KEY).",
    ),
    engine: EngineName = ENGINE,
    output: Optional[Path] = OUTPUT,
    scheduler: Optional[str] = SCHEDULER,
) -> None:
    from escalator.operations.batch import check_paths, evaluate_stream, iter_inputs, single_case
    from escalator.cli import EXIT_BAD_INPUT
    from escalator.cli._console import bad_input, err
    from escalator.cli._folders import compiled_policies
    from escalator.cli._progress import Progress

    from escalator.cli import _bulk

    with bad_input():
        if paths.count("-") > 1:
            raise typer.BadParameter("- (stdin) may be given only once", param_hint="PATH")
        chosen = "python" if log is not None and engine is EngineName.auto else _bulk.choose(engine, paths)
        if log is not None and (chosen != "python" or output is not None):
            raise typer.BadParameter("--log records decisions case by case: use it with --engine python and stdout",
                                     param_hint="--log")
        if _bulk.needs_bulk(chosen, paths, output):
            from escalator.bulk.run import check_bulk_paths

            check_bulk_paths(paths)
            if output is not None:
                from escalator.bulk.io import output_format

                try:
                    output_format(output)
                except ValueError as exc:
                    raise typer.BadParameter(str(exc), param_hint="--output") from None
            compiled = compiled_policies(policies, rules)
            bar = Progress(progress, "evaluating", PROGRESS_AFTER)
            bad = _bulk.evaluate(paths, compiled, chosen, backend.value, output,
                                 _Writer(fmt, False, interactive=False), bar, err, scheduler)
            if bad:
                err(f"{bad} bad case{'s' if bad != 1 else ''}; exit code 2")
                raise typer.Exit(EXIT_BAD_INPUT)
            return
        check_paths(paths)
        compiled = compiled_policies(policies, rules)
        recorder = _recorder(log, mask_key_file, compiled, policies, rules) if log is not None else None
        render = {Format.json: "json", Format.jsonl: "jsonl", Format.table: None}[fmt]
        outcomes = evaluate_stream(iter_inputs(paths), compiled, backend.value, workers, render,
                                   keep_case=recorder is not None)
        writer = _Writer(fmt, single_case(paths), interactive="-" in paths)
        bar = Progress(progress, "evaluating", PROGRESS_AFTER)
        bad = 0
        held: list[Outcome] = []  # with --log: outcomes waiting until their decisions are recorded
        hold = 1 if writer.interactive else LOG_BATCH

        def release() -> None:
            if recorder is not None:
                recorder.flush()  # LogWriteError: nothing of this batch is printed
            for waiting in held:
                writer.write(waiting)
            held.clear()

        try:
            for outcome in outcomes:
                if not outcome.ok:
                    bad += 1
                    for line in outcome.error_lines():
                        bar.print(line)
                elif recorder is not None:
                    assert outcome.case is not None and outcome.decision is not None  # keep_case=True
                    recorder.add(outcome.case, outcome.decision)
                held.append(outcome)
                if recorder is None or len(held) >= hold:
                    release()
                bar.advance()
            release()
            writer.close()
        except BrokenPipeError:  # `... | head`: the reader has gone; stop quietly
            _silence_stdout()
        finally:
            bar.stop()
    if bad:
        err(f"{bad} bad case{'s' if bad != 1 else ''}; exit code 2")
        raise typer.Exit(EXIT_BAD_INPUT)

LOG_BATCH = 256  # decisions recorded per transaction by --log

def _recorder(url: str, key_file: Optional[Path], compiled: dict[str, CompiledPolicy], policies: Optional[Path],
              rules: Optional[Path]) -> Recorder:
    from escalator.cli._folders import folder_pair
    from escalator.log.masking import Masker, read_key
    from escalator.log.record import Recorder, snapshot
    from escalator.log.store import DecisionLog

    masker = Masker(read_key(key_file))
    return Recorder(DecisionLog(url), compiled, snapshot(*folder_pair(policies, rules)), masker)

class _Writer:
    """Writes outcomes to stdout as they come, in the chosen format."""

    def __init__(self, fmt: Format, single: bool, interactive: bool = False):
        self.fmt, self.single, self.count = fmt, single, 0
        self.interactive = interactive and fmt is Format.jsonl  # a caller piping cases in reads each answer
        self.out = sys.stdout
        self.console: Console | None = None

    def write(self, outcome) -> None:  # type: ignore[no-untyped-def]
        import json

        from escalator.cli._console import indent_json

        self.count += 1
        if self.fmt is Format.jsonl:
            text = outcome.text if outcome.ok else json.dumps(outcome.error_record(), ensure_ascii=False, separators=(",", ":"))
            self.out.write(text + "\n")
            if self.interactive:
                self.out.flush()
        elif self.fmt is Format.json:
            text = outcome.text if outcome.ok else json.dumps(outcome.error_record(), ensure_ascii=False, indent=2)
            if self.single:
                if outcome.ok:
                    self.out.write(text + "\n")
                return
            self.out.write(("[\n" if self.count == 1 else ",\n") + indent_json(text))
        elif outcome.ok:
            from escalator.cli._console import console
            from escalator.cli._decisions import decision_table

            if self.console is None:
                self.console = console()
            self.console.print(decision_table(outcome.decision))

    def close(self) -> None:
        if self.fmt is Format.json and not self.single:
            self.out.write("[]\n" if self.count == 0 else "\n]\n")
        self.out.flush()

def _silence_stdout() -> None:
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())

def register(app: typer.Typer) -> None:
    app.command("evaluate", help=HELP, short_help="Decide cases (files, folders, JSON Lines): who handles each, and why.",
                no_args_is_help=True)(evaluate)
