"""Keyed hashes for the case fields a policy masks before a decision is logged.

HMAC-SHA256 with a secret key: the same player gets the same pseudonym in every
row (so the log can still be grouped by player), and without the key nobody can
test a guessed id against it. The key comes from a file (`--mask-key-file`) or the
environment (`ESCALATOR_LOG_KEY`); it is never written to the log, so replay (which
needs no clear value: masked fields are never read by a rule, see
`escalator.language.masks`) cannot unmask either.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from escalator.errors import EscalatorError, Problem

KEY_ENV = "ESCALATOR_LOG_KEY"
PREFIX = "hmac-sha256."
HEX_CHARS = 40  # 160 bits: fits every maskable field's length and pattern (ids, tokens)
MIN_KEY_BYTES = 16


class MaskKeyError(EscalatorError):
    """No usable mask key although a policy masks fields."""


def read_key(key_file: str | Path | None = None) -> bytes | None:
    """The key from `key_file` (its bytes, surrounding whitespace stripped), else from the
    environment, else None. A key shorter than 16 bytes is refused."""
    if key_file is not None:
        try:
            key = Path(key_file).read_bytes().strip()
        except OSError as exc:
            raise MaskKeyError(Problem(f"cannot read the mask key file: {exc.strerror}", path=str(key_file))) from None
    else:
        text = os.environ.get(KEY_ENV, "")
        if not text.strip():  # unset or empty: no key
            return None
        key = text.strip().encode("utf-8")
    if len(key) < MIN_KEY_BYTES:
        raise MaskKeyError(f"the mask key must be at least {MIN_KEY_BYTES} bytes long")
    return key


class Masker:
    """Replaces fields of a case (given as plain JSON data) by keyed hashes."""

    def __init__(self, key: bytes | None):
        self._key = key

    @property
    def has_key(self) -> bool:
        return self._key is not None

    def pseudonym(self, value: Any) -> str:
        if self._key is None:
            raise MaskKeyError("a policy masks case fields but no mask key is set "
                               f"(--mask-key-file FILE or the {KEY_ENV} environment variable)")
        data = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return PREFIX + hmac.new(self._key, data, hashlib.sha256).hexdigest()[:HEX_CHARS]

    def mask(self, case: dict[str, Any], paths: Iterable[str]) -> tuple[dict[str, Any], list[str]]:
        """A copy of `case` with every present path hashed, and the paths that were."""
        paths = list(paths)
        if not paths:
            return case, []
        masked = copy.deepcopy(case)
        done = []
        for path in paths:
            *parents, last = path.split(".")
            node: Any = masked
            for name in parents:
                node = node.get(name) if isinstance(node, dict) else None
            if isinstance(node, dict) and node.get(last) is not None:
                node[last] = self.pseudonym(node[last])
                done.append(path)
        return masked, done

    def check(self, masks: Iterable[str]) -> None:
        """Fail at start-up, not at the first decision, when masks exist but no key does."""
        if any(True for _ in masks) and self._key is None:
            self.pseudonym(None)
