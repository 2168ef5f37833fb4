"""The decision query, transpiled for PostgreSQL, decides like the engine on a real server.

Runs when ESCALATOR_TEST_POSTGRES (a postgresql:// URL; .ci/run starts a server) is set.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from bulk_helpers import AT, draw_cases, timeless_engine, timeless_examples
from escalator.bulk.compose import Composer, quoted_fields
from escalator.bulk.schema import COLUMNS, WRITTEN_NUMBERS, case_to_row, scale_column
from escalator.bulk.sql import decision_query
from escalator.language.cases import load_case, parse_case

URL = os.environ.get("ESCALATOR_TEST_POSTGRES")
pytestmark = pytest.mark.skipif(not URL, reason="ESCALATOR_TEST_POSTGRES is not set: no PostgreSQL server "
                                                "(.ci/run starts one when PostgreSQL is installed)")
ROOT = Path(__file__).resolve().parent.parent
PG_TYPES = {"VARCHAR": "text", "BIGINT": "bigint", "DECIMAL(18, 2)": "numeric(18,2)", "BOOLEAN": "boolean",
            "VARCHAR[]": "text[]"}


def test_postgres_decides_like_the_engine():
    psycopg = pytest.importorskip("psycopg")
    from sqlglot import exp

    engine = timeless_engine()
    cases = [load_case(p) for p in timeless_examples()]
    cases += [parse_case(c) for c in draw_cases(150, engine)]
    table = f"bulk_{uuid.uuid4().hex[:12]}"
    names = [c.path for c in COLUMNS] + [scale_column(p) for p in WRITTEN_NUMBERS]
    types = [PG_TYPES[c.sql_type] for c in COLUMNS] + ["integer"] * len(WRITTEN_NUMBERS)
    checked = 0
    with psycopg.connect(URL, autocommit=True) as con:
        columns = ", ".join(f'"{n}" {t}' for n, t in zip(names, types))
        con.execute(f'CREATE TEMP TABLE {table} ("_i" bigint, "_policy" text, {columns})')
        with con.cursor() as cur:
            for i, case in enumerate(cases):
                row = case_to_row(case)
                values = [i, engine.policy_for(case).id] + [row[n] for n in names]
                cur.execute(f"INSERT INTO {table} VALUES ({', '.join(['%s'] * len(values))})", values)
        for policy in engine.policies.values():
            source = exp.select("*").from_(table).where(exp.column("_policy", quoted=True).eq(policy.id)).subquery()
            query = decision_query(policy, "postgres", source, ("_i",) + quoted_fields(policy))
            cur = con.execute(query)
            header = [d.name for d in cur.description]
            composer = Composer(policy, instant=AT)  # the run's instant, as the engine's below
            for values in cur.fetchall():
                row = dict(zip(header, values))
                want = engine.evaluate(cases[row["_i"]], AT).to_json()
                assert composer.decision(row).to_json() == want, cases[row["_i"]].case_id
                checked += 1
    assert checked == len(cases)
