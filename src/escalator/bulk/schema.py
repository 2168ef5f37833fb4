"""The table of flattened cases the SQL path reads: one column per flat-view field.

Column names are the dotted paths of `escalator.language.fields` ("player.vip_level").
Money and numbers are DECIMAL(18,2) (exact: cents, within +-1e12), `opened_at` is
epoch seconds, lists are lists of text. Flat inputs (Parquet, CSV) use the same
column names; `row_to_case` turns one flat row back into the case document the
Python engine validates, so both paths read a row the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from escalator.language import fields as F
from escalator.language.fields import flat_view
from escalator.language.models.case import REQUEST_KINDS, Case

MONEY_SQL = "DECIMAL(18, 2)"

# value kinds of the bulk table (finer than the language's: how a value is read and checked)
TEXT, INT, MONEY, SIGNED_MONEY, NUMBER, BOOL, TEXTS, INSTANT = (
    "text", "int", "money", "signed_money", "number", "bool", "texts", "instant",
)
SQL_TYPES = {TEXT: "VARCHAR", INT: "BIGINT", MONEY: MONEY_SQL, SIGNED_MONEY: MONEY_SQL, NUMBER: MONEY_SQL,
             BOOL: "BOOLEAN", TEXTS: "VARCHAR[]", INSTANT: "BIGINT"}

IDENTIFIER = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
TOKEN = r"[A-Za-z0-9][A-Za-z0-9_.-]*"


@dataclass(frozen=True)
class Column:
    """One column of the flat table and the rule a value must meet to be read by SQL.

    A value that does not clearly meet it is not an error here: the row goes to the
    Python engine, whose validation is the contract (it decides or reports the row).
    """

    path: str
    kind: str
    required: bool = False  # absent is invalid (else absent = the default or unknown)
    default: Any = None  # the model's default when absent (None: stays absent)
    values: tuple[str, ...] | None = None
    pattern: str | None = None
    max_length: int | None = None
    low: int | None = None
    high: int | None = None
    nullable: bool = False  # an explicit null is allowed (and means absent)

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.kind]


ASKED_FOR = ("manager", "vip_manager", "supervisor", "finance", "director")

COLUMNS: tuple[Column, ...] = (
    Column("case_id", TEXT, required=True, max_length=200),
    Column("jurisdiction", TEXT, required=True, pattern=r"[A-Z]{2}(-[A-Z0-9]{1,3})?"),
    Column("opened_at", INSTANT, required=True),
    Column("channel", TEXT, required=True, values=("live_chat", "email", "phone")),
    Column("handled_by", TEXT, required=True, pattern=IDENTIFIER, max_length=100),
    Column("status", TEXT, default="open", values=("open", "escalated", "complaint", "closed")),
    Column("on_duty", TEXTS, pattern=IDENTIFIER, max_length=100, nullable=True),
    Column("player.id", TEXT, required=True, max_length=200),
    Column("player.vip_level", INT, default=0, low=0, high=5),
    Column("player.account_age_days", INT, default=0, low=0, high=10**9),
    Column("player.net_loss_30d", SIGNED_MONEY, default=Decimal("0.00")),
    Column("player.rg_markers", TEXTS, default=(), pattern=TOKEN, max_length=64),
    Column("player.kyc", TEXT, default="none", values=("verified", "pending", "failed", "none")),
    Column("player.self_excluded", BOOL, default=False),
    Column("request.kind", TEXT, required=True, values=REQUEST_KINDS),
    Column("request.amount", MONEY, nullable=True),
    Column("request.asked_for", TEXTS, default=(), values=ASKED_FOR),
    Column("request.withdrawal.amount", MONEY),
    Column("request.withdrawal.pending_hours", NUMBER, default=Decimal(0), low=0, high=100_000),
    Column("request.forfeiture.winnings", MONEY),
    Column("request.forfeiture.breach", TEXT, pattern=TOKEN, max_length=64, nullable=True),
    Column("request.forfeiture.deliberate", BOOL, nullable=True),
)
BY_PATH = {c.path: c for c in COLUMNS}
# an object is present exactly when one of its required members is
OBJECT_PRESENCE: dict[str, str | None] = {
    "player": None, "request": None,  # always present
    "request.withdrawal": "request.withdrawal.amount",
    "request.forfeiture": "request.forfeiture.winnings",
}
# the optional objects and their members (a member without its object's key column is invalid)
OBJECTS = {"request.withdrawal": ("request.withdrawal.amount", "request.withdrawal.pending_hours"),
           "request.forfeiture": ("request.forfeiture.winnings", "request.forfeiture.breach",
                                  "request.forfeiture.deliberate")}
# numbers whose text in a reason depends on how they were written (80, 80.5, 80.50): see `scale_column`
WRITTEN_NUMBERS = tuple(c.path for c in COLUMNS if c.kind == NUMBER)


def scale_column(path: str) -> str:
    """The companion column of a NUMBER: how many decimals it was written with (0, 1 or 2).

    The engine keeps a number as written (Decimal("80.5") is not Decimal("80.50"), which reads as money),
    so the SQL path carries the scale beside the DECIMAL(18,2) value to quote it the same way."""
    return f"{path}:scale"


def sql_path_kind(path: str) -> str | None:
    """The language kind of a bulk column, or None when the SQL path has no column for the field."""
    info = F.field_info(path)
    if info is None or (path not in BY_PATH and path not in OBJECT_PRESENCE):
        return None
    return info.kind


# -- one flat row -> the case document ---------------------------------------------------
def row_to_case(row: dict[str, Any], text_cells: bool = False) -> dict[str, Any]:
    """A flat row ({dotted path: value}, None = absent) as the nested case document.

    `text_cells` (CSV): every cell is text; numbers, booleans and lists (JSON arrays)
    are read from it as the Python engine would read them in a JSON document, and a
    cell that is not a well-formed value is passed on as text (validation reports it).
    """
    case: dict[str, Any] = {}
    for key, value in row.items():
        if value is None or key.startswith("_") or key.endswith(":scale"):
            continue
        if text_cells and isinstance(value, str):
            value = _from_text(BY_PATH.get(key), value)
        elif isinstance(value, datetime) and key == "opened_at" and value.tzinfo is not None:
            value = value.isoformat()
        elif isinstance(value, list):
            value = list(value)
        target = case
        parts = key.split(".")
        for part in parts[:-1]:
            node = target.setdefault(part, {})
            if not isinstance(node, dict):  # a column "a" and a column "a.b": let validation report it
                break
            target = node
        else:
            target[parts[-1]] = value
    return case


def _from_text(column: Column | None, text: str) -> Any:
    kind = column.kind if column is not None else None
    if kind == TEXTS or (kind is None and text.startswith("[")):
        try:
            return json.loads(text)
        except ValueError:
            return text
    if kind == INT:
        try:
            return int(text) if text.strip().lstrip("-").isdigit() else text
        except ValueError:
            return text
    if kind == BOOL:
        return {"true": True, "false": False}.get(text, text)
    return text  # money and numbers: the model reads decimal text exactly


def case_to_row(case: Case) -> dict[str, Any]:
    """A validated case as one row of the flat table (what the SQL reading of a valid row yields)."""
    view = flat_view(case)
    row: dict[str, Any] = {}
    for column in COLUMNS:
        value = view.get(column.path)
        if column.kind in (INSTANT, INT):
            value = int(value) if value is not None else None  # always present: required, or a default
        elif column.kind == TEXTS and value is not None:
            value = list(value)
        row[column.path] = value
    for path in WRITTEN_NUMBERS:
        value = view.get(path)
        exponent = value.as_tuple().exponent if value is not None else None
        row[scale_column(path)] = None if not isinstance(exponent, int) else max(0, -exponent)
    return row
