"""Messages: rule reasons, the decision's summary and agent note, in the locales
whose catalogs ship in `catalogs/` (spec section 9).

    texts = PolicyTexts(policy, "nl")     # once per policy and locale
    reason = texts.reason(rule, view)     # what a rule found, with the case's values
    decision = texts.finish(decision)     # + summary and agent_note, from the decision alone
"""

from escalator.runtime.messages.catalog import CATALOGS, Catalog, catalog, check_locale
from escalator.runtime.messages.formatting import Formatter
from escalator.runtime.messages.texts import PolicyTexts, sentence_name

__all__ = ["CATALOGS", "Catalog", "Formatter", "PolicyTexts", "catalog", "check_locale", "sentence_name"]
