"""Fuzzing the readers: whatever text or document comes in, the result is either a
valid object or escalator's own error (EscalatorError), never another exception.

Budgets are small (a few seconds in all); raise max_examples locally to dig deeper.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from escalator import Engine
from escalator.language.cases import parse_case, parse_case_line
from escalator.errors import EscalatorError, PolicyError
from escalator.language.models.case import Case
from escalator.language.models.policy import PolicyFile, RulePackFile
from escalator.language.validation import validate
from escalator.language.yamlio import Document, parse_json, parse_yaml

BAD = Path(__file__).parent / "bad_inputs"
FIXTURE = BAD / "policies" / "unknown_pack"  # any pair: its rules/ folder is the valid fixture pack
FAST = settings(max_examples=int(os.environ.get("ESCALATOR_FUZZ_EXAMPLES", "150")), deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=max(1, int(os.environ.get("ESCALATOR_FUZZ_EXAMPLES", "150")) // 5), deadline=None, suppress_health_check=[HealthCheck.too_slow])

BASE_CASE = {
    "case_id": "F-1", "jurisdiction": "NL", "opened_at": "2026-11-20T09:15:00Z", "channel": "live_chat",
    "handled_by": "agent", "status": "open",
    "player": {"id": "P-1", "vip_level": 1, "account_age_days": 400, "net_loss_30d": Decimal("120.00"),
               "rg_markers": [], "kyc": "verified", "self_excluded": False},
    "request": {"kind": "withdrawal_delay", "amount": Decimal("25.00"), "asked_for": [],
                "withdrawal": {"amount": Decimal("25000.00"), "pending_hours": 80}},
    "attributes": {},
}

# -- text -------------------------------------------------------------------------------

YAML_TOKENS = [
    "a", "case_id", "player", "amount", ":", ": ", "- ", "\n", "\n  ", "\n    ", "\t", " ", "[", "]", "{", "}",
    ",", "&x ", "*x", "&y ", "*y", "!!python/object:os.system ", "!!str ", "!!binary ", "!t ", "<<: ", "? ",
    "'", '"', "#", "---\n", "...\n", "|\n", ">-\n", "~", "null", "true", "1.5", "-3", ".nan", ".inf", "1e400",
    "2026-11-20T09:15:00Z", "0x1F", "0o17", "1_000", "\ufeff", "\x00", "\u2028", "%YAML 1.1\n", "%TAG ! x\n",
]
yaml_like = st.lists(st.sampled_from(YAML_TOKENS), max_size=40).map("".join)


def only_escalator_errors(func, *args):
    try:
        return func(*args)
    except EscalatorError as exc:
        assert exc.problems and all(p.message for p in exc.problems)
        return exc


@FAST
@given(st.one_of(st.text(max_size=200), yaml_like))
def test_parse_yaml_text(text):
    result = only_escalator_errors(parse_yaml, text, "fuzz.yaml")
    if isinstance(result, Document):
        assert result.file == "fuzz.yaml"


@FAST
@given(st.binary(max_size=200))
def test_parse_yaml_bytes(raw):
    only_escalator_errors(parse_yaml, raw, "fuzz.yaml")


@FAST
@given(st.one_of(st.text(max_size=200), st.from_regex(r'\{("[a-z]{1,2}": ?(1|1\.5|NaN|"x"|\[\]|\{\}), ?){0,4}\}')))
def test_parse_json_and_case_lines(text):
    only_escalator_errors(parse_json, text, "fuzz.json")
    result = only_escalator_errors(parse_case_line, text, "<stdin>", 3)
    assert isinstance(result, (Case, EscalatorError))


# -- documents ---------------------------------------------------------------------------

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True), st.text(max_size=20),
    st.sampled_from(["agent", "NL", "bonus_request", "2026-11-20T09:15:00Z", "2026-13-45", "25.00", "-1", "1e30"]),
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=8), st.sampled_from(list(BASE_CASE))), children, max_size=4),
    ),
    max_leaves=20,
)


def _paths(data, prefix=()):
    yield prefix
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _paths(value, prefix + (i,))


def _replace(data, path, value):
    if not path:
        return value
    data = copy.deepcopy(data)
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return data


def mutations(base):
    """A valid document with one value (at any depth) replaced by an arbitrary one."""
    paths = list(_paths(base))
    return st.tuples(st.sampled_from(paths), documents).map(lambda pv: _replace(base, pv[0], pv[1]))


@FAST
@given(st.one_of(documents, mutations(BASE_CASE)))
def test_parse_case_documents(data):
    result = only_escalator_errors(parse_case, data)
    assert isinstance(result, (Case, EscalatorError))
    if isinstance(result, Case):
        assert result.opened_at.tzinfo is not None


@FAST
@given(st.one_of(documents, mutations(BASE_CASE)))
def test_engine_evaluate_documents(data):
    """Through the whole engine: a Decision or escalator's own error."""
    result = only_escalator_errors(ENGINE.evaluate, data)
    if not isinstance(result, EscalatorError):
        assert all(amount >= 0 for amount in result.authority.values())


def _fixture_documents():
    from escalator.language.yamlio import load_file

    policy = load_file(BAD / "policies" / "extends_unknown" / "policies" / "tiny.yaml").data
    policy.pop("extends")
    pack = load_file(FIXTURE / "rules" / "basic.yaml").data
    return policy, pack


POLICY, PACK = _fixture_documents()
ENGINE = Engine.default(backend="compiled")


@FAST
@given(st.one_of(documents, mutations(POLICY)), st.one_of(documents, mutations(PACK)))
def test_policy_models(policy, pack):
    for model, data in ((PolicyFile, policy), (RulePackFile, pack)):
        result = only_escalator_errors(validate, model, Document(data, "fuzz.yaml"), PolicyError)
        assert isinstance(result, (model, EscalatorError))


def _json_default(value):
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else str(value)
    raise TypeError(type(value).__name__)


@SLOW
@given(mutations(POLICY), mutations(PACK))
def test_policy_folders_load_or_refuse(policy, pack):
    """The whole loader (files, extends, compile) on mutated fixture folders."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "policies").mkdir()
        (root / "rules").mkdir()
        (root / "policies" / "tiny.json").write_text(json.dumps(policy, default=_json_default))
        (root / "rules" / "basic.json").write_text(json.dumps(pack, default=_json_default))
        result = only_escalator_errors(Engine.load, root / "policies", root / "rules", "compiled")
        if isinstance(result, Engine):
            decision = result.evaluate(BASE_CASE)
            assert decision.policy.id == result.policies[decision.policy.id].id
            result.close()
