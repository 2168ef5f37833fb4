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
    if engine == "duckdb" and on_change is None:
        from escalator.bulk.columnar import columnar_inputs

        files = columnar_inputs(paths)
        counted = analyse_columnar(base_engine, cand_engine, files, actions, sample, max_bad, instant) if files else None
        if counted is not None:  # Parquet: compared and counted in SQL
            base_engine.close()
            cand_engine.close()
            if progress is not None:
                progress(counted.cases)
            return build_report(counted, base_side, cand_side, actions)
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



# -- Parquet: the whole comparison in one DuckDB query --------------------------------------------
def analyse_columnar(base_engine: Any, cand_engine: Any, files: list[str], actions: tuple[str, ...], sample: int,
                     max_bad: int, instant: Any) -> Tally | None:
    """Impact over Parquet files with both policy sets decided and compared in ONE query, aggregated in SQL.

    Rows SQL does not read exactly (either side) and the sample cases (the first `sample` that change,
    in input order) go through `tally_case` and the Python engines; every other row is only counted,
    by groups of identical changes. None: more rows for the Python engine than the columnar path holds."""
    from sqlglot import exp

    from escalator.bulk.columnar import CARRY, MAX_PYTHON_ROWS, ColumnarRun
    from escalator.bulk.schema import COLUMNS, WRITTEN_NUMBERS, scale_column
    from escalator.bulk.sql import col, decisions_select
    from escalator.bulk.stage import FLAT, policy_choice, stage_select

    base = BulkRun(base_engine.policies, "duckdb", render=None, reasons=False, instant=instant)
    cand = BulkRun(cand_engine.policies, "duckdb", render=None, reasons=False, instant=instant)
    try:
        columnar = ColumnarRun(base)
        con = columnar.con
        types = columnar.source(files)
        python_rows = sorted((r["_file"], r["_i"]) for r in _not_ok_either(con, base, cand, types, MAX_PYTHON_ROWS + 1).to_pylist())
        if len(python_rows) > MAX_PYTHON_ROWS:
            return None
        total = Tally(sample, max_bad)
        groups: list[tuple[Any, ...]] = []
        names: list[str] = []
        if base.sql_policies and cand.sql_policies:
            staged = stage_select(FLAT, "_batch", base.policies, set(base.sql_policies), types, CARRY, checked=False)
            rows = (exp.select(exp.Star(), exp.alias_(policy_choice(cand.policies), "_policy_c", quoted=True, copy=False), copy=False)
                    .from_(exp.alias_(exp.paren(staged), "_s", copy=False), copy=False).where(col("_ok"), copy=False))
            if python_rows:
                import pyarrow as pa

                con.register("_python_rows", pa.table({"_file": [f for f, _ in python_rows], "_i": [i for _, i in python_rows]}))
                rows = rows.join("_python_rows", using=["_file", "_i"], join_type="anti", copy=False)
            rows = exp.select(exp.Star(), copy=False).from_(exp.alias_(exp.paren(rows), "_r", copy=False), copy=False).where(
                exp.In(this=col("_policy_c"), expressions=[exp.Literal.string(p) for p in cand.sql_policies]), copy=False)
            case_columns = tuple(c.path for c in COLUMNS if c.path != "case_id") + tuple(scale_column(p) for p in WRITTEN_NUMBERS)
            b = decisions_select(list(base.sql_policies.values()), "duckdb", exp.paren(rows, copy=False),
                                 case_columns + CARRY + ("_policy_c",))
            outputs = [n for n in (e.alias_or_name for e in b.expressions)][len(case_columns) + len(CARRY) + 1:]
            outputs.remove("case_id")  # the candidate's query reads it as a case field
            renamed = exp.select(*(col(c) for c in ("case_id",) + case_columns + CARRY + ("_policy_c",)), copy=False).from_(
                exp.alias_(exp.paren(b), "_b", copy=False), copy=False)
            for name in outputs:
                renamed = renamed.select(exp.alias_(col(name), f"b.{name}", quoted=True, copy=False), copy=False)
            c = decisions_select(list(cand.sql_policies.values()), "duckdb", exp.paren(renamed, copy=False),
                                 CARRY + tuple(f"b.{n}" for n in outputs), selector="_policy_c")
            groups, names = _grouped(con, c.sql("duckdb"), set(outputs), actions, sample)
        positions = [(f, i) for f, i in python_rows]
        sampled: list[tuple[int, int]] = []
        for *_, first in groups:
            sampled.extend(divmod(p, 1 << 40) for p in (first or ()))
        sampled = sorted(set(sampled))[:sample]
        engines = (base_engine, cand_engine)
        wanted = sorted(set(positions) | set(sampled))
        cases = _cases(columnar, files, wanted)
        by_position: dict[tuple[int, int], Tally] = {}
        for key in wanted:
            one = Tally(1, 1)
            tally_case(one, case_input(files[key[0]], key[1] + 1, cases[key]), engines, actions, instant)
            by_position[key] = one
        for key in wanted:  # in input order: samples and bad cases as the Python path lists them
            one = by_position[key]
            if key in set(positions):
                total.merge(one)
            elif one.sample and len(total.sample) < sample:
                total.sample.append(one.sample[0])
        _count(total, groups, names)
        return total
    finally:
        base.close()
        cand.close()


def _not_ok_either(con: Any, base: BulkRun, cand: BulkRun, types: dict[str, str], limit: int) -> pa.Table:
    """(_file, _i) of the rows either side's SQL does not decide, from one pass of the checks."""
    from sqlglot import exp

    from escalator.bulk.columnar import CARRY
    from escalator.bulk.sql import col
    from escalator.bulk.stage import FLAT, also_ok, stage_select

    staged = stage_select(FLAT, "_batch", base.policies, set(base.sql_policies), types, CARRY)
    chosen, ok = also_ok(cand.policies, set(cand.sql_policies), "_policy_c")
    with_c = exp.select(exp.Star(), exp.alias_(chosen, "_policy_c", quoted=True, copy=False), copy=False).from_(
        exp.alias_(exp.paren(staged), "_s", copy=False), copy=False)
    query = (exp.select(col("_file"), col("_i"), copy=False).from_(exp.alias_(exp.paren(with_c), "_c", copy=False), copy=False)
             .where(exp.not_(exp.paren(exp.and_(col("_ok"), ok, copy=False), copy=False), copy=False), copy=False)
             .limit(limit, copy=False))
    return con.sql(query.sql("duckdb")).to_arrow_table()


def _grouped(con: Any, paired: str, base_outputs: set[str], actions: tuple[str, ...], sample: int
             ) -> tuple[list[tuple[Any, ...]], list[str]]:
    """One row per group of identical changes: (diff flags..., transition, rule sets, count, first positions)."""
    from escalator.authoring.impact import DEADLINE_FIELDS, DECISION_FIELDS, LIST_FIELDS

    def q(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    fields = [*DECISION_FIELDS, *(f"authority.{a}" for a in actions), *LIST_FIELDS, *DEADLINE_FIELDS]
    diffs = []
    for name in fields:  # an action only one side has is NULL on the other
        b = q(f"b.{name}") if name in base_outputs else "NULL"
        diffs.append(f"({b} IS DISTINCT FROM {q(name)}) AS {q('d:' + name)}")
    # column names are decision fields and the policies' action names; no case value is in this text
    changed = " OR ".join(q("d:" + n) for n in fields)
    query = (f"SELECT {', '.join(q('d:' + n) for n in fields)}, _rules_changed, "
             f"CASE WHEN {q('d:handler')} THEN {q('b.handler')} END, CASE WHEN {q('d:handler')} THEN handler END, "
             f"CASE WHEN _rules_changed THEN policy END, CASE WHEN _rules_changed THEN {q('b.rules')} END, "
             f"CASE WHEN _rules_changed THEN rules END, count(*), "
             f"min(_file * {1 << 40} + _i, {max(sample, 1)}) FILTER (WHERE {changed} OR _rules_changed) "
             f"FROM (SELECT *, {', '.join(diffs)}, ({q('b.rules')} IS DISTINCT FROM rules) AS _rules_changed "
             f"FROM ({paired})) GROUP BY ALL")
    return [tuple(row) for row in con.sql(query).fetchall()], fields


def _count(total: Tally, groups: list[tuple[Any, ...]], fields: list[str]) -> None:
    from escalator.bulk.sql import split

    n = len(fields)
    for row in groups:
        diffs, rules_changed = row[:n], row[n]
        before, after, policy, base_rules, cand_rules, count = row[n + 1:n + 7]
        total.cases += count
        total.evaluated += count
        if any(diffs):
            total.changed += count
            total.fields.update({name: count for name, hit in zip(fields, diffs) if hit})
            if before is not None:
                total.transitions[(before, after)] += count
        if rules_changed:
            total.rules_changed += count
            b, c = set(split(base_rules)), set(split(cand_rules))
            total.added.update({(policy, r): count for r in c - b})
            total.removed.update({(policy, r): count for r in b - c})


def _cases(columnar: Any, files: list[str], wanted: list[tuple[int, int]]) -> dict[tuple[int, int], dict[str, Any]]:
    """The case documents of some rows (file index, row)."""
    if not wanted:
        return {}
    import pyarrow as pa

    from escalator.bulk.schema import row_to_case

    con = columnar.con
    con.register("_wanted", pa.table({"_file": [f for f, _ in wanted], "_i": [i for _, i in wanted]}))
    try:
        table = con.sql("SELECT b.* FROM _batch b SEMI JOIN _wanted USING (_file, _i)").to_arrow_table()
    finally:
        con.unregister("_wanted")
    out = {}
    for row in table.to_pylist():
        key = (int(row.pop("_file")), int(row.pop("_i")))
        out[key] = row_to_case(row)
    return out
