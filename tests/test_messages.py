"""Messages (spec section 9): reasons say what a rule found, the summary says where the case
goes (from the final decision only), in every locale, with the policy's currency."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from escalator import Engine, PolicyError
from escalator.authoring.strategies import cases
from escalator.errors import EscalatorError
from escalator.language.locales import LOCALES
from escalator.language.yamlio import load_file
from escalator.runtime.messages import CATALOGS, catalog, sentence_name
from conftest import make_case, replace_in

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples" / "cases").iterdir())


@pytest.fixture(scope="module")
def engine():
    with Engine.default(backend="compiled") as engine:
        yield engine


def names_of_others(engine: Engine, decision, locale: str) -> list[str]:
    """Every way a tier other than the handler can be named: display name (English and the locale's)."""
    policy = engine.policies[decision.policy.id]
    names = []
    for tier in policy.tiers:
        if tier.id != decision.handler:
            names += [tier.name.lower(), tier.name_in(locale).lower()]
    return names


def assert_names_only_the_handler(engine: Engine, decision, locale: str) -> None:
    others = names_of_others(engine, decision, locale)
    for text in [decision.summary] + [r.message for r in decision.reasons]:
        named = [n for n in others if re.search(r"(?<![\w-])" + re.escape(n) + r"(?![\w-])", text.lower())]
        assert not named, f"{decision.case_id} ({locale}): {text!r} names {named}"


@pytest.mark.parametrize("locale", LOCALES)
def test_no_example_message_names_a_tier_other_than_the_handler(engine, locale):
    for path in EXAMPLES:
        decision = engine.evaluate(load_file(path), locale=locale)
        assert decision.summary
        assert_names_only_the_handler(engine, decision, locale)
        handler = engine.policies[decision.policy.id].tier(decision.handler).name_in(locale)
        assert sentence_name(handler) in decision.summary  # the handler, said once, by its name


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_no_generated_message_names_a_tier_other_than_the_handler(engine, case):
    for locale in LOCALES:
        assert_names_only_the_handler(engine, engine.evaluate(case, locale=locale), locale)


def test_summary_in_dutch_and_english_with_the_locales_money_and_dates(engine):
    case = load_file(ROOT / "examples" / "cases" / "nl-withdrawal-big-win-waiting.yaml")
    dutch = engine.evaluate(case)  # the NL policy speaks Dutch
    assert dutch.summary == ("Uw zaak wordt overgedragen aan de teamleider klantenservice, die u per e-mail "
                             "antwoordt. U hoort uiterlijk 23 november 2026 om 10:00 UTC van ons.")
    assert dutch.agent_note == ("Doorgestuurd naar: financiële afdeling (intern). "
                                "Markeringen: large_win, payout_overdue.")
    large_win = next(r.message for r in dutch.reasons if r.rule == "withdrawal.large-win")
    assert large_win == ("De opname van €\u00a025.000,00 ligt boven de grens voor grote winsten van €\u00a010.000,00; "
                         "de uitbetaling moet worden goedgekeurd door de betalingsafdeling.")
    english = engine.evaluate(case, locale="en")
    assert english.summary == ("Your case is being passed to the support supervisor, who will answer you by "
                               "email. You will hear from us by 23 November 2026 at 10:00 UTC.")
    assert "€25,000.00 is above the large-win threshold of €10,000.00" in english.reasons[1].message
    # only messages are localised: the decision's machine fields are the same in both
    assert english.to_dict()["authority"] == dutch.to_dict()["authority"] == {
        "goodwill_bonus": "150.00", "withdrawal_expedite": "10000.00", "forfeiture_reversal": "1000.00"}
    assert (english.handler, english.transfer, english.fired) == (dutch.handler, dutch.transfer, dutch.fired)


# Dutch amounts put a no-break space (U+00A0) between the symbol and the figure (Babel, CLDR).
def test_uk_policy_is_in_pounds(engine):
    assert engine.policies["uk"].currency == "GBP" and engine.policies["nl"].currency == "EUR"
    case = load_file(ROOT / "examples" / "cases" / "uk-withdrawal-big-win-waiting.yaml")
    english = engine.evaluate(case)
    large_win = next(r.message for r in english.reasons if r.rule == "withdrawal.large-win")
    assert "withdrawal of £48,000.00 is above the large-win threshold of £10,000.00" in large_win
    dutch = engine.evaluate(case, locale="nl")
    assert "£\u00a048.000,00" in next(r.message for r in dutch.reasons if r.rule == "withdrawal.large-win")
    assert english.to_dict()["authority"]["withdrawal_expedite"] == "10000.00"


def test_locked_summary_has_both_deadlines_and_the_lock_is_an_agent_note(engine):
    decision = engine.evaluate(load_file(ROOT / "examples" / "cases" / "nl-complaint-locks.yaml"), locale="en")
    assert decision.summary.startswith("Your case is in our formal complaint procedure and is handled by the "
                                       "complaints manager, who will answer you by email.")
    assert "by 26 November 2026 at 16:30 UTC and have a final answer by 5 January 2027 at 16:30 UTC" in \
        decision.summary
    assert decision.agent_note.startswith("Locked in the complaint procedure")


def test_a_decision_with_nothing_internal_has_no_agent_note(engine):
    decision = engine.evaluate(load_file(ROOT / "examples" / "cases" / "mt-manager-not-on-duty.yaml"))
    assert decision.agent_note is None
    assert decision.summary == ("Your case is being passed to the VIP manager, who will call you back. "
                                "You will hear from us by 25 November 2026 at 06:45 UTC.")
    assert decision.to_dict()["agent_note"] is None and list(decision.to_dict())[-2:] == ["summary", "agent_note"]


def test_unknown_locale_is_one_clear_error(engine):
    case = load_file(EXAMPLES[0])
    with pytest.raises(EscalatorError, match=r"unknown locale 'fr' \(known: en, nl\)"):
        engine.evaluate(case, locale="fr")
    with pytest.raises(EscalatorError, match="unknown locale"):
        engine.explain(case, locale="fr")


def test_every_locale_has_a_catalog_with_every_english_key():
    assert sorted(p.stem for p in CATALOGS.glob("*.yaml")) == sorted(LOCALES)
    english = catalog("en").data

    def keys(data: dict, prefix: str = "") -> set[str]:
        out = set()
        for key, value in data.items():
            out |= keys(value, f"{prefix}{key}.") if isinstance(value, dict) and key != "values" else {prefix + key}
        return out

    for locale in LOCALES:
        assert keys(load_file(CATALOGS / f"{locale}.yaml").data) == keys(english), locale


# -- policy locale and currency, per-locale reasons ---------------------------------------
@pytest.fixture
def folder(semantics_copy):
    return semantics_copy


def load(folder):
    return Engine.load(folder / "policies", folder / "rules", backend="compiled")


def test_locale_and_currency_are_inherited_and_checked(folder):
    policy = folder / "policies" / "xx.yaml"
    base = folder / "policies" / "base.yaml"
    replace_in(base, "abstract: true", "abstract: true\ncurrency: GBP\nlocale: nl")
    engine = load(folder)
    assert (engine.policies["xx"].currency, engine.policies["xx"].locale) == ("GBP", "nl")
    text = policy.read_text()
    policy.write_text(text.replace("extends: base", "extends: base\ncurrency: USD"))
    assert load(folder).policies["xx"].currency == "USD"
    policy.write_text(text.replace("extends: base", "extends: base\ncurrency: EURO"))
    with pytest.raises(PolicyError, match="'EURO' is not an ISO 4217 currency code"):
        load(folder)
    policy.write_text(text.replace("extends: base", "extends: base\ncurrency: XYZ"))
    with pytest.raises(PolicyError, match="'XYZ' is not an ISO 4217"):
        load(folder)
    policy.write_text(text.replace("extends: base", "extends: base\nlocale: fr"))
    with pytest.raises(PolicyError, match=r"unknown locale 'fr' \(known: en, nl\)"):
        load(folder)


def test_reason_per_locale_falls_back_to_english(folder):
    replace_in(folder / "rules" / "t.yaml", "then: {procedure: complaint}",
               'then: {procedure: complaint, reason: {en: "Complaint about {request.amount}.", '
               'nl: "Klacht over {request.amount}."}}')
    engine = load(folder)
    case = make_case(**{"request.kind": "complaint", "request.amount": "1234.50"})
    message = {loc: next(r.message for r in engine.evaluate(case, locale=loc).reasons if r.rule == "t.complaint")
               for loc in LOCALES}
    assert message == {"en": "Complaint about €1,234.50.", "nl": "Klacht over €\u00a01.234,50."}
    replace_in(folder / "rules" / "t.yaml", 'nl: "Klacht over {request.amount}."', 'de: "Beschwerde."')
    with pytest.raises(PolicyError, match="unknown locale 'de'"):
        load(folder)
    replace_in(folder / "rules" / "t.yaml", 'de: "Beschwerde."', 'nl: "Klacht."')
    replace_in(folder / "rules" / "t.yaml", 'en: "Complaint about {request.amount}.", ', "")
    with pytest.raises(PolicyError, match="needs an 'en' text"):
        load(folder)


def test_english_reason_stands_in_for_a_missing_translation(folder):
    replace_in(folder / "rules" / "t.yaml", "then: {procedure: complaint}",
               'then: {procedure: complaint, reason: "Complaint about {request.amount}."}')
    engine = load(folder)
    decision = engine.evaluate(make_case(**{"request.kind": "complaint", "request.amount": "5.00"}), locale="nl")
    assert next(r.message for r in decision.reasons if r.rule == "t.complaint") == "Complaint about €\u00a05,00."
    assert decision.summary.startswith("Uw zaak valt onder onze formele klachtenprocedure")


def test_summary_says_when_the_handler_makes_contact(engine):
    """`contact_at` (the handler's calendar opening, from the time issue) goes into the summary when set."""
    from datetime import datetime, timezone
    from types import SimpleNamespace

    decision = engine.evaluate(load_file(ROOT / "examples" / "cases" / "nl-manager-not-on-duty.yaml"))
    assert decision.transfer in ("callback", "email")
    fields = {name: getattr(decision, name) for name in ("handler", "escalate", "locked", "transfer", "deadlines",
                                                          "forward", "flags")}
    at = datetime(2026, 12, 31, 9, 0, tzinfo=timezone.utc)
    texts = engine._facts["nl"].texts
    dutch = texts["nl"].summary(SimpleNamespace(**fields, contact_at=at))
    english = texts["en"].summary(SimpleNamespace(**fields, contact_at=at))
    assert "vanaf 31 december 2026 om 09:00 UTC" in dutch
    assert "from 31 December 2026 at 09:00 UTC" in english
    assert "31 December" not in texts["en"].summary(SimpleNamespace(**fields, contact_at=None))
