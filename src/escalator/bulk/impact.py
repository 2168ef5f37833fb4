"""`escalator impact --engine duckdb|python`: the impact report over chunks decided in SQL.

Both policy sets decide each chunk (read once) with their own query; DuckDB joins
the two results and finds the cases whose decision or fired rules differ. Only
those, and the rows either side hands to the Python engine, are looked at one by
one, through the same `Tally` as the Python path, so the report is the same.
"""

from __future__ import annotations

from datetime import datetime

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from escalator.authoring.impact import ImpactReport, Tally, actions_of, build_report, engine_for, tally_case
from escalator.bulk.run import BulkRun, Chunk, Raw, case_input, read_chunks
from escalator.bulk.stage import JSON

COMPARED = ("handler", "escalate", "transfer", "procedure", "locked", "forward", "flags",
            "deadlines.acknowledge_by", "deadlines.resolve_by", "rules")


def analyse_bulk(base: Any, candidate: Any, paths: list[str], *, engine: str = "duckdb", sample: int = 20,
                 max_bad: int = 100, backend: str = "auto", repo: str | Path | None = None,
                 progress: Callable[[int], None] | None = None,
                 on_change: Callable[[dict[str, Any]], None] | None = None,
                 at: datetime | None = None) -> ImpactReport:
    """Impact analysis over bulk runs; both sides decide at one instant (`at`, else each case's as_of,
    else the run's start)."""
    from escalator.operations.batch import run_instant

    instant = run_instant(at)
    base_engine, base_side = engine_for(base, repo, backend)
    cand_engine, cand_side = engine_for(candidate, repo, backend)
    actions = actions_of(base_engine, cand_engine)
    runs = (BulkRun(base_engine.policies, engine, backend, render=None, instant=instant),
            BulkRun(cand_engine.policies, engine, backend, render=None, instant=instant))
    total = Tally(sample, max_bad)
    try:
        for raw in read_chunks(paths):
            tally = Tally(sample - len(total.sample), max_bad - len(total.bad_cases), on_change is not None)
            _chunk(raw, runs[0].decide(raw), runs[1].decide(raw), runs, (base_engine, cand_engine), actions, tally)
            total.merge(tally)
            for change in tally.changes or ():
                assert on_change is not None
                on_change(change)
            if progress is not None:
                progress(raw.size)
    finally:
        for run in runs:
            run.close()
        base_engine.close()
        cand_engine.close()
    return build_report(total, base_side, cand_side, actions)


def _changed(runs: tuple[BulkRun, BulkRun], base: pa.Table, cand: pa.Table) -> tuple[set[int], list[int]]:
    """(rows SQL decided on both sides, those among them whose decision or rules differ, in order)."""
    con = runs[0].con
    assert con is not None
    columns = set(base.column_names) & set(cand.column_names)
    authority = sorted({c for c in base.column_names + cand.column_names if c.startswith("authority.")})
    tests = []
    for name in [*COMPARED, *authority]:
        if name in columns:
            tests.append(f'b."{name}" IS DISTINCT FROM c."{name}"')
        else:  # an action only one side's policy knows: changed wherever that side has a value
            side = "b" if name in base.column_names else "c"
            tests.append(f'{side}."{name}" IS NOT NULL')
    con.register("_base", base)
    con.register("_cand", cand)
    try:
        both = con.sql("SELECT b._i FROM _base b JOIN _cand c USING (_i)").fetchall()
        # the column names are ours (decision fields and policy actions); no case value is in this text
        changed = con.sql(f"SELECT b._i FROM _base b JOIN _cand c USING (_i) WHERE {' OR '.join(tests)} ORDER BY b._i"
                          ).fetchall()
    finally:
        con.unregister("_base")
        con.unregister("_cand")
    return {row[0] for row in both}, [row[0] for row in changed]


def _rows(table: pa.Table, positions: list[int]) -> dict[int, dict[str, Any]]:
    if not positions:
        return {}
    import pyarrow.compute as pc

    picked = table.filter(pc.is_in(table.column("_i"), pa.array(positions, pa.int64())))
    return {row["_i"]: row for row in picked.to_pylist()}


def _chunk(raw: Raw, base: Chunk, cand: Chunk, runs: tuple[BulkRun, BulkRun], engines: tuple[Any, Any],
           actions: tuple[str, ...], tally: Tally) -> None:
    both: set[int] = set()
    changed: list[int] = []
    if base.table is not None and cand.table is not None and base.table.num_rows and cand.table.num_rows:
        both, changed = _changed(runs, base.table, cand.table)
    base_rows, cand_rows = _rows(base.table, changed), _rows(cand.table, changed)
    unchanged = len(both) - len(changed)
    tally.cases += unchanged
    tally.evaluated += unchanged
    todo = sorted(set(changed) | (set(range(raw.size)) - both))
    for i in todo:
        source, line = raw.files[i].as_py(), raw.lines[i].as_py()
        if i in base_rows:
            b = runs[0].composers[base_rows[i]["policy"]].decision(base_rows[i])
            c = runs[1].composers[cand_rows[i]["policy"]].decision(cand_rows[i])
            tally.cases += 1
            tally.add_pair(f"{source}:{line}", b, c, actions)
        else:
            item = raw.items[i] if raw.form == JSON else case_input(source, line, raw.case(i))
            tally_case(tally, item, engines, actions, runs[0].instant)

